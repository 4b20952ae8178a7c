"""check-disclosure reads released files independently of how they were made and finds every small count."""
from __future__ import annotations

import re
from pathlib import Path

import docx
import pandas as pd
import pytest
import yaml

from perinatal_csc.cli import main
from perinatal_csc.config import load_config
from perinatal_csc.data.load import analysed
from perinatal_csc.disclose.check import counts_in, scan
from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.pipeline import cohort
from perinatal_csc.present import descriptive as pdx
from perinatal_csc.stats import describe

COHORT = PRESETS["cohort"]


@pytest.mark.parametrize("text, expected", [
    ("3 (7.5%)", [3]), ("With CSC involvement, N = 2", [2]), ("n = 4", [4]), ("2/40 mothers", [2, 40, 40]),
    ("4 of 40", [4, 40]), ("3 dyads", [3]), ("2 mother–infant dyads", [2]), ("1 Families", [1]),
    ("about 1 in 19 families (3 of 57)", [3, 3, 57]),
])
def test_each_count_pattern_is_found(text, expected):
    assert sorted(n for _, n in counts_in(text)) == sorted(expected)


@pytest.mark.parametrize("text", ["p = 0.004", "OR 2.41 (1.10 to 4.54)", "sigma^2 / (sigma^2 + pi^2/3)",
                                  "4 of 42 organisations", "CAN-M domain 3: Food", "about 1 in 3 families (99 of 278)",
                                  "median 2 [1, 3]", "Table 2: Clinical", "1.2 (3.4%)",
                                  "we heard again from about 3 in 4 of the families"])
def test_numbers_that_are_not_small_counts_are_not_flagged(text):
    assert not [n for _, n in counts_in(text) if COHORT.protects(n)]


def _fixture_folder(tmp: Path) -> Path:
    (tmp / "out").mkdir()
    (tmp / "out" / "table.html").write_text(
        "<html><head><meta name='description' content='12 (40.0%) of the cohort'></head><body>"
        "<table><thead><tr><th>Characteristic</th><th>Group, N = 40</th></tr></thead><tbody>"
        "<tr><td>Yes</td><td>30 (75.0%)</td></tr><tr><td>\u2003Not known</td><td>1</td></tr></tbody></table>"
        "<p>Of these, 3 mothers were readmitted.</p><img src='x.png' alt='Bars: 2 (5.0%) with a plan'></body></html>",
        encoding="utf-8")
    d = docx.Document()
    d.add_paragraph("Nothing small here: 278 dyads.")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Stage", "Overall, N = 278"
    t.cell(1, 0).text, t.cell(1, 1).text = "Followed up", "4 (1.4%)"
    d.sections[0].footer.paragraphs[0].text = "1 of 20 families"
    d.save(str(tmp / "out" / "doc.docx"))
    pd.DataFrame({"variable": ["a", "b"], "n": [2, 30], "label": ["x", "y"]}).to_csv(tmp / "out" / "t.csv", index=False)
    (tmp / "out" / "figure.png").write_bytes(b"\x89PNG\r\n")
    return tmp / "out"


def test_every_planted_count_is_found_with_where_it_is(tmp_path):
    folder = _fixture_folder(tmp_path)
    found, breaches, manual = scan(folder, COHORT)
    where = {(Path(b.file).name, b.count, b.where.split(",")[0]) for b in breaches}
    assert ("table.html", 1, "table 1") in where                     # a bare count in a Not-known row
    assert any(b.count == 3 and "text block" in b.where for b in breaches)
    assert any(b.count == 2 and "alt text" in b.where for b in breaches)
    assert ("doc.docx", 4, "table 1") in where
    assert any(b.count == 1 and "footer" in b.where for b in breaches)
    assert any(Path(b.file).name == "t.csv" and b.count == 2 and "column n" in b.where for b in breaches)
    assert manual == [str(folder / "figure.png")]
    assert not [b for b in breaches if b.count == 278]


def test_cli_exits_non_zero_on_a_small_count_and_zero_without(tmp_path, capsys):
    folder = _fixture_folder(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["check-disclosure", str(folder), "--preset", "cohort"])
    assert e.value.code == 1
    assert "table.html" in capsys.readouterr().out
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.html").write_text("<p>278 dyads; 99 (35.6%) with involvement.</p>")
    main(["check-disclosure", str(clean), "--preset", "cohort"])


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("check")
    cfg_path = tmp / "project.yml"
    cfg_path.write_text(yaml.safe_dump({"data": {"source": "synthetic", "synthetic": {"path": str(tmp / "c.csv")}}}))
    cfg = load_config(cfg_path)
    parent = cohort(cfg)
    return describe.results(parent.loc[analysed(parent)], cfg, parent=parent)


TABLES = {"table1_sociodemographic": pdx.table1, "table2_clinical": pdx.table2, "table3_needs": pdx.table3,
          "table5_subgroups": pdx.table5}


def _write_tables(tables, folder: Path) -> Path:
    folder.mkdir()
    for key, make in TABLES.items():
        (folder / f"{key}.html").write_text(f"<html><body>{make(tables, is_synthetic=True).as_raw_html()}</body></html>",
                                            encoding="utf-8")
    return folder


def names_row(where: str, level_label: str, label: str) -> bool:
    """The finding's row stub is the level's label, or (one-level variables, CAN-M domains) the
    variable's own label or its short name."""
    stub = re.search(r"row \d+ \((.*?)\), column", where).group(1).strip()
    return bool(level_label) and level_label in stub or stub.split(",")[0].strip()[:30] in label


def test_on_unprotected_tables_every_cell_the_policy_suppresses_is_found(default_results, tmp_path):
    """Recall 100%: each count suppressed under cohort is reported, at its row and column, from the
    same tables released with preset none."""
    protected = release(default_results, COHORT).tables
    _, breaches, _ = scan(_write_tables(release(default_results, PRESETS["none"]).tables, tmp_path / "none"), COHORT)
    missed, total = [], 0
    for key in TABLES:
        full, rel = default_results[key], protected[key]
        hits = [b for b in breaches if key in b.file]
        for i in range(len(full)):
            g = str(full["group"].iat[i])
            if rel["n"].iat[i] != MARKER or not COHORT.protects(int(full["n"].iat[i])):
                continue
            if key == "table5_subgroups" and g == "overall":
                continue                                    # not shown in the sub-group table
            total += 1
            column = full["group_label"].iat[i] if key != "table5_subgroups" else ("Yes" if g == "1" else "Others")
            label = full["level_label"].iat[i] if isinstance(full["level_label"].iat[i], str) else ""
            shown = full["short_label"].iat[i] if "short_label" in full else full["label"].iat[i]
            if not any(b.count == int(full["n"].iat[i]) and column in b.where
                       and names_row(b.where, label, shown) for b in hits):
                missed.append((key, full["label"].iat[i], label, g))
    assert total > 20 and not missed, missed[:10]


def test_on_released_tables_nothing_is_found(default_results, tmp_path):
    _, breaches, _ = scan(_write_tables(release(default_results, COHORT).tables, tmp_path / "cohort"), COHORT)
    assert not breaches, [b.line() for b in breaches[:10]]


def test_a_journal_issue_in_a_reference_is_not_a_count_but_a_fraction_in_text_is():
    from perinatal_csc.disclose.check import counts_in

    assert list(counts_in("Stuart A. A test for homogeneity. Biometrika. 1955;42(3/4):412–6.")) == []
    assert ("n/N", 3) in list(counts_in("Infant not in the mother's care: 3/20 dyads (3/20)."))
