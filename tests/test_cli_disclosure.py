"""analyse writes the full results and the release; with real data the preset none is refused unless
explicitly allowed, and then the outputs say they were not checked."""
from __future__ import annotations

import json

import pytest
import yaml

from perinatal_csc.cli import main
from perinatal_csc.config import load_config
from perinatal_csc.data.synth import generate, write_cohort
from perinatal_csc.disclose.policy import MARKER
from perinatal_csc.present.headline import data_notice


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A real-format export (a CSV with the codebook's columns), stood in for by a small generated cohort
    with its own ids (a file the generator reproduces exactly would be recognised as SYNTHETIC)."""
    tmp = tmp_path_factory.mktemp("real")
    cfg = load_config()
    df = generate(120, 11, cfg.synthetic_parameters_path)
    df["dyad_id"] = df["dyad_id"].str.replace("SYN11-", "EXP-", regex=False)
    df["mother_id"] = df["mother_id"].str.replace("SYN11-M-", "EXPM-", regex=False)
    return write_cohort(df, tmp / "export.csv")


def project(tmp_path, export, disclosure):
    p = tmp_path / "project.yml"
    p.write_text(yaml.safe_dump({"data": {"source": "real", "real": {"path": str(export)}},
                                 "results_dir": str(tmp_path / "_results"), "disclosure": disclosure}))
    return p


def test_none_is_refused_with_real_data_before_anything_is_written(tmp_path, export, capsys):
    with pytest.raises(SystemExit) as e:
        main(["analyse", "--config", str(project(tmp_path, export, "none"))])
    assert e.value.code != 0
    assert "refused with real data" in capsys.readouterr().err
    assert not (tmp_path / "_results").exists()


def test_analyse_writes_results_and_a_checked_release_with_audit_and_output_request(tmp_path, export, capsys):
    main(["analyse", "--config", str(project(tmp_path, export, "cohort"))])
    real = tmp_path / "_results" / "real"
    release = real / "release"
    assert (real / "table1_sociodemographic.csv").exists() and (real / "models_level_counts.csv").exists()
    assert not (release / "models_level_counts.csv").exists()
    audit = json.loads((release / "disclosure_audit.json").read_text())
    assert audit["policy"] == "cohort" and audit["checked"] and audit["outputs"]["table1_sociodemographic"]["suppressed"]
    text = (release / "disclosure_audit.json").read_text() + (release / "output_request.csv").read_text()
    assert "decisions" not in audit and "primary" not in text and "secondary" not in text
    internal = json.loads((real / "disclosure_decisions_internal.json").read_text())
    assert all(set(d) == {"output", "row", "column", "field", "kind", "rule"} for d in internal["decisions"])
    assert {d["kind"] for d in internal["decisions"]} >= {"primary", "secondary"}
    request = (release / "output_request.csv").read_text()
    assert "table1_sociodemographic.csv" in request and "count below the threshold" in request
    assert MARKER in (release / "table1_sociodemographic.csv").read_text()
    assert (real / "release_register.json").exists()
    main(["check-disclosure", str(release), "--config", str(project(tmp_path, export, "cohort"))])


def test_none_with_the_explicit_flag_runs_and_says_unchecked(tmp_path, export, capsys):
    main(["analyse", "--config", str(project(tmp_path, export, {"preset": "none", "allow_unchecked_real_outputs": True}))])
    assert "NOT checked" in capsys.readouterr().err
    audit = json.loads((tmp_path / "_results" / "real" / "release" / "disclosure_audit.json").read_text())
    assert audit["checked"] is False
    assert "NOT CHECKED" in data_notice(False, checked=False) and "NOT CHECKED" not in data_notice(False)
