"""Supplementary tables: missing data from the released characteristics tables (a suppressed count stays
suppressed), the synthetic cohort's parameters as a reader sees them, the plan's hash and change log."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import pandas as pd
import yaml

from perinatal_csc.config import load_config
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.disclose.policy import MARKER
from perinatal_csc.present import supplement as psup


def released(rows: list[dict]) -> pd.DataFrame:
    base = {"group": "overall", "row_type": "level"}
    return pd.DataFrame([{**base, **r} for r in rows])


def fixture_results() -> dict[str, pd.DataFrame]:
    t1 = released([
        {"variable": "maternal_age", "label": "Maternal age", "group_n": 278, "n_missing": 3, "n_not_applicable": 0},
        {"variable": "maternal_age", "label": "Maternal age", "group_n": 99, "n_missing": 1, "n_not_applicable": 0,
         "group": "1"},
        {"variable": "ethnicity", "label": "Ethnicity", "group_n": 278, "n_missing": MARKER, "n_not_applicable": 0}])
    t3 = released([{"variable": "csq8_total", "label": "CSQ-8 total", "group_n": 278, "n_missing": 16,
                    "n_not_applicable": 33}])
    return {"table1_sociodemographic": t1, "table2_clinical": released([])[[]].assign(group=[], variable=[]),
            "table3_needs": t3}


def test_missing_data_are_counted_among_the_dyads_a_variable_applies_to():
    f = psup.missing_frame(fixture_results(), load_codebook()).set_index("label")
    assert f.loc["Maternal age", ["applies", "missing", "percent"]].tolist() == [278, 3, f"{100 * 3 / 278:.1f}"]
    assert f.loc["CSQ-8 total", ["applies", "missing", "percent"]].tolist() == [245, 16, f"{100 * 16 / 245:.1f}"]
    assert f.loc["CSQ-8 total", "timepoint"] == "One month"
    assert f.loc["Ethnicity", "missing"] == MARKER and f.loc["Ethnicity", "percent"] == MARKER
    assert list(f.timepoint) == sorted(f.timepoint, key=["Index episode", "One month", "One year"].index)


def test_synthetic_parameters_read_as_prose_values_not_python():
    cfg = load_config(source="synthetic")
    f = psup.synthetic_parameters_frame(cfg)
    raw = yaml.safe_load(cfg.synthetic_parameters_path.read_text())["parameters"]
    assert len(f) == len(raw)
    text = " ".join(f.value) + " ".join(f.parameter)
    assert "True" not in text and "False" not in text and "{" not in text and "_" not in text
    assert set(f.status) == {"Reproduces a published figure", "Assumption (no published figure)"}
    assert "STUDY.md" not in " ".join(f.basis)
    assert "@levertaylor2023" in psup.synthetic_text(cfg)


def test_real_data_get_one_not_applicable_row_so_table_numbers_do_not_move():
    cfg = replace(load_config(source="synthetic"), source="real")
    assert "study data" in psup.synthetic_text(cfg)
    assert len(psup.synthetic_parameters_table(cfg)._tbl_data) == 1


def test_the_plan_change_log_shows_the_plan_hash_and_every_entry(tmp_path):
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump({"plan_version": 3, "changes": [
        {"version": 2, "date": "2026-01-02", "change": "Added relationship status."},
        {"version": 3, "date": "2026-02-03", "change": "Dropped domestic abuse."}]}))
    cfg = replace(load_config(), analysis_plan_path=plan)
    text = psup.plan_changes(cfg)
    assert hashlib.sha256(plan.read_bytes()).hexdigest() in text and "version 3" in text
    assert text.index("Added relationship status.") < text.index("Dropped domestic abuse.")
    plan.write_text(yaml.safe_dump({"plan_version": 1}))
    assert "No change log" in psup.plan_changes(cfg)


def test_a_parameter_value_says_codes_in_the_codebook_s_words():
    words = psup.codebook_words(load_codebook())
    assert psup._value({"mbu": 108, "general_ward": 62}, words) == (
        "mother and baby unit: 108; general acute psychiatric ward: 62")
    assert psup._value(["prev_psych_admission", "deprived"], words) == (
        "previous psychiatric admission, residence in a deprived area")
    assert psup._value({"count": 99, "of": 278}, words) == "99 of 278"
    assert psup._value({"child_protection_plan": 0.08, "csq8_lower_with_csc": True}, words) == (
        "Child Protection Plan: 0.08; CSQ-8 lower with CSC: yes")
