"""Real data can never enter git: no tracked file may look like participant data."""
import subprocess

from perinatal_csc.paths import PROJECT_ROOT

TABULAR = (".csv", ".tsv", ".xlsx", ".xls", ".sav", ".dta", ".parquet", ".feather", ".rds", ".rdata", ".sas7bdat", ".json")
ALLOWED_PREFIXES = ("data/synthetic/", "tests/fixtures/")


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_no_tracked_file_looks_like_participant_data():
    offending = [f for f in tracked_files()
                 if f.lower().endswith(TABULAR) and not f.startswith(ALLOWED_PREFIXES)]
    assert offending == [], f"tabular data files tracked outside the synthetic folder and fixtures: {offending}"


def test_gitignore_covers_outputs_and_real_data():
    probes = ["_output/index.html", "_output-real/index.pdf", "_results/real/table.csv", "_freeze/x.json",
              "data/real/export.sav", "data/synthetic/cohort.csv", "chapters/x.ipynb", ".cache/render/a", "x.dta"]
    out = subprocess.run(["git", "check-ignore", "--no-index", *probes], cwd=PROJECT_ROOT,
                         capture_output=True, text=True)
    assert sorted(out.stdout.splitlines()) == sorted(probes)
