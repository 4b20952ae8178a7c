"""The command line a newcomer reads: whole one-line descriptions, an example per command, a synth
that never replaces the configured cohort, and a report that names its cohort and each stage's result."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from perinatal_csc import cli as cli_module
from perinatal_csc.cli import cli

COMMANDS = ["analyse", "check-disclosure", "codebook", "render", "report", "review", "synth", "validate"]


def project(tmp_path: Path, n: int = 60, seed: int = 7) -> Path:
    """A configuration whose synthetic cohort, results and outputs live in tmp_path."""
    cfg = {"data": {"source": "synthetic", "synthetic": {"path": str(tmp_path / "cohort.csv"), "n": n, "seed": seed}},
           "results_dir": str(tmp_path / "_results"), "output_dir": str(tmp_path / "_output")}
    (tmp_path / "project.yml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return tmp_path / "project.yml"


def test_top_level_help_lists_every_command_with_its_whole_description():
    out = CliRunner().invoke(cli, ["--help"]).output
    listing = out[out.index("Commands:"):].splitlines()[1:]
    assert [line.split()[0] for line in listing] == COMMANDS     # one line each: nothing wrapped
    width = max(len(name) for name in COMMANDS)
    for name in COMMANDS:
        short = cli.commands[name].short_help
        assert short and not short.endswith("...") and f"{name:<{width}}  {short}" in out
    assert "Examples:" in out and "perinatal-csc report" in out


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_help_shows_an_example_of_itself(name):
    out = CliRunner().invoke(cli, [name, "--help"]).output
    examples = out[out.index("Examples:"):out.index("Options:")]
    assert f"perinatal-csc {name}" in examples


def test_synth_with_another_n_or_seed_needs_out_and_leaves_the_configured_cohort_alone(tmp_path):
    cfg = project(tmp_path)
    configured = tmp_path / "cohort.csv"
    configured.write_text("the configured cohort\n", encoding="utf-8")
    runner = CliRunner()
    for args in (["--n", "80"], ["--seed", "8"], ["--n", "80", "--out", str(configured)]):
        res = runner.invoke(cli, ["synth", *args, "--config", str(cfg)])
        assert res.exit_code == 2, res.output
        assert "add --out PATH" in res.output and "never replaced" in res.output
        assert configured.read_text(encoding="utf-8") == "the configured cohort\n"
    assert "--n 80 differs from the configuration (n=60, seed=7)" in " ".join(
        runner.invoke(cli, ["synth", "--n", "80", "--config", str(cfg)]).output.split())
    res = runner.invoke(cli, ["synth", "--n", "80", "--seed", "8", "--out", str(tmp_path / "other.csv"), "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "other.csv").read_text(encoding="utf-8").splitlines()) == 81
    assert configured.read_text(encoding="utf-8") == "the configured cohort\n"


def test_synth_with_the_configured_n_and_seed_writes_the_configured_cohort(tmp_path):
    cfg = project(tmp_path)
    for args in ([], ["--n", "60", "--seed", "7"]):
        res = CliRunner().invoke(cli, ["synth", *args, "--config", str(cfg)])
        assert res.exit_code == 0, res.output
        assert len((tmp_path / "cohort.csv").read_text(encoding="utf-8").splitlines()) == 61


def test_report_names_its_cohort_and_prints_each_stage_with_its_result(tmp_path, monkeypatch):
    """The analysis runs for real; rendering is replaced by a stand-in (the render tests cover it)."""
    import perinatal_csc.render.driver as driver

    def fake_render(config, formats, **kwargs):
        config.output_dir.mkdir(parents=True, exist_ok=True)
        paths = [config.output_dir / f"index.{f}" for f in formats]
        for p in paths:
            p.write_text("stand-in", encoding="utf-8")
        return paths

    monkeypatch.setattr(driver, "render", fake_render)
    cfg = project(tmp_path, n=278, seed=2023)
    res = CliRunner().invoke(cli, ["report", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"report on the SYNTHETIC cohort {tmp_path / 'cohort.csv'} (n=278, seed=2023, as configured)"
    stage = [line for line in lines if line[:2] in ("1/", "2/", "3/")]
    n_tables = len(list((tmp_path / "_results" / "synthetic").glob("*.csv")))
    assert stage[0].startswith("1/3 validated 279 dyads (278 analysed), 0 warnings (")
    assert stage[1].startswith(f"2/3 analysed: {n_tables} result tables in {tmp_path / '_results' / 'synthetic'}/ (")
    assert stage[2].startswith(f"3/3 rendered {tmp_path / '_output' / 'index.html'}, ")
    assert all(line.endswith(" s)") for line in stage)


def test_report_on_a_real_export_names_the_file_and_the_mapping(tmp_path):
    from perinatal_csc.config import load_config
    fix = Path(__file__).resolve().parent / "fixtures" / "load"
    cfg = load_config(project(tmp_path), data=fix / "valid.csv", mapping=fix / "team_mapping.yml")
    text = cli_module.cohort_text(cfg)
    assert text == "the REAL export tests/fixtures/load/valid.csv through the mapping tests/fixtures/load/team_mapping.yml"


def test_analyse_is_skipped_only_while_its_inputs_are_unchanged(tmp_path, monkeypatch):
    import shutil

    from perinatal_csc import pipeline
    from perinatal_csc.paths import PROJECT_ROOT

    config = project(tmp_path, n=278, seed=7)     # large enough for maximum likelihood: fast profile intervals
    raw = yaml.safe_load(config.read_text())
    for key, source in (("codebook", "data/codebook.yml"), ("analysis_plan", "config/analysis_plan.yml"),
                        ("synthetic_parameters", "data/synthetic_parameters.yml")):
        shutil.copy(PROJECT_ROOT / source, tmp_path / Path(source).name)
        raw[key] = str(tmp_path / Path(source).name)
    config.write_text(yaml.safe_dump(raw))
    plan = yaml.safe_load((tmp_path / "analysis_plan.yml").read_text())      # what is cached matters here, not MI
    plan["sensitivity"]["multiple_imputation"].update({"m": 2, "iterations": 2})
    (tmp_path / "analysis_plan.yml").write_text(yaml.safe_dump(plan))
    runner = CliRunner()

    def analyse() -> str:
        result = runner.invoke(cli, ["analyse", "--config", str(config)])
        assert result.exit_code == 0, result.output
        return result.output

    assert "up to date" not in analyse()
    assert "results up to date" in analyse()
    for name in ("codebook.yml", "analysis_plan.yml", "synthetic_parameters.yml"):
        path = tmp_path / name
        path.write_text(path.read_text() + "\n# edited\n")
        assert "up to date" not in analyse(), name
        assert "results up to date" in analyse(), name
    raw["data"]["synthetic"]["seed"] = 8
    config.write_text(yaml.safe_dump(raw))
    assert "up to date" not in analyse()
    code = tmp_path / "package"
    shutil.copytree(pipeline.PACKAGE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(pipeline, "PACKAGE_DIR", code)
    assert "results up to date" in analyse()
    (code / "stats" / "describe.py").write_text((code / "stats" / "describe.py").read_text() + "\n# edited\n")
    assert "up to date" not in analyse()
    (tmp_path / "_results" / "synthetic" / "table1_sociodemographic.csv").unlink()
    assert "up to date" not in analyse()
    assert "up to date" not in runner.invoke(cli, ["analyse", "--config", str(config), "--force"]).output



def test_report_on_a_copy_of_the_synthetic_cohort_is_labelled_synthetic(tmp_path, monkeypatch):
    from perinatal_csc.data.synth import generate, write_cohort
    from perinatal_csc.render import driver
    from perinatal_csc.report import config_from_environment

    copy = write_cohort(generate(150, 11), tmp_path / "copy_of_the_synthetic_cohort.csv")
    seen = {}

    def fake_render(cfg, formats, **kw):
        seen["config"] = cfg
        for key, value in driver.kernel_env(cfg, tmp_path / "run").items():
            monkeypatch.setenv(key, value)
        seen["kernel"] = config_from_environment()
        paths = [cfg.output_dir / f"index.{f}" for f in formats]
        for p in paths:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("stand-in", encoding="utf-8")
        return paths

    monkeypatch.setattr(driver, "render", fake_render)
    before = copy.read_bytes()
    res = CliRunner().invoke(cli, ["report", "--config", str(project(tmp_path)), "--data", str(copy)])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith(f"report on the SYNTHETIC cohort {copy} (n=150, seed=11, recognised")
    for cfg in (seen["config"], seen["kernel"]):
        assert cfg.is_synthetic and cfg.data_label == "SYNTHETIC" and cfg.data_path == copy
        assert (cfg.synthetic_n, cfg.synthetic_seed) == (150, 11)
    assert copy.read_bytes() == before                       # never regenerated over with other settings
    assert (tmp_path / "_results" / "synthetic" / "release").is_dir()
