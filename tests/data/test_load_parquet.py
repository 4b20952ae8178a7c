"""Parquet input: the same validation and the same error quality as CSV, and the same results."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from perinatal_csc.config import load_config
from perinatal_csc.data.load import load_cohort
from perinatal_csc.data.synth import generate, write_cohort
from perinatal_csc.data.validate import ValidationError
from perinatal_csc.pipeline import cohort, run_analysis

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "load"
CB = FIX / "mini_codebook.yml"


def _valid_table() -> pa.Table:
    """tests/fixtures/load/valid.csv written by hand as typed Parquet columns (numbers as numbers, nulls
    for blanks, codes as text)."""
    return pa.table({
        "dyad_id": ["D01", "D02", "D03", "D04", "D05"],
        "mother_id": ["M01", "M02", "M03", "M04", "M05"],
        "site": ["S1", "S1", "S2", "S2", "S3"],
        "nation": pa.array(["england", "wales", "england", "wales", "england"]).dictionary_encode(),
        "multiple_birth": pa.array([0, 1, 0, 0, 0], pa.int64()),
        "index_infant_order": pa.array([1, 2, 1, 1.0, 1], pa.float64()),
        "maternal_age": pa.array([31.5, -9, 24, 40.25, 19], pa.float64()),
        "imd_quintile": pa.array([1, 3, -9, 5, 2], pa.int32()),
        "n_other_children": pa.array([0, 2, 1, 3, 0], pa.int64()),
        "tag_1": pa.array([1, 0, None, 4, 2], pa.int64()),
        "tag_2": pa.array([2, 0, None, 4, 1], pa.int64()),
        "tag_total": pa.array([3, 0, 4, 8, 3], pa.int64()),
        "canm_1m_met": pa.array([2, 0, None, 13, 1], pa.int64()),
        "canm_1m_unmet": pa.array([3, 0, None, 13, 0], pa.int64()),
        "followed_up_1y": pa.array([1, 1, 0, 1, 0], pa.int8()),
        "csc_status_1y": ["none", "looked_after", None, "child_protection_plan", None],
        "infant_in_care_1y": pa.array([1, 0, None, -9, None], pa.int64()),
    })


def test_a_hand_made_parquet_file_loads_like_its_csv(tmp_path):
    path = tmp_path / "valid.parquet"
    pq.write_table(_valid_table(), path)
    csv = load_cohort(FIX / "valid.csv", codebook_path=CB)
    par = load_cohort(path, codebook_path=CB)
    pd.testing.assert_frame_equal(par.data, csv.data)
    pd.testing.assert_frame_equal(par.completeness, csv.completeness)
    assert par.data["maternal_age"].tolist()[0] == 31.5 and np.isnan(par.data["maternal_age"].tolist()[1])


def test_bad_parquet_values_are_reported_by_file_column_row_and_value(tmp_path):
    t = _valid_table()
    t = t.set_column(t.schema.get_field_index("nation"), "nation", pa.array(["england", "wales", "scotland", "wales",
                                                                            "england"]))
    t = t.set_column(t.schema.get_field_index("maternal_age"), "maternal_age",
                     pa.array([31.5, 240.0, 24, 40.25, 19], pa.float64()))
    t = t.set_column(t.schema.get_field_index("imd_quintile"), "imd_quintile", pa.array([1, 3, -9, 5, 2.5]))
    path = tmp_path / "bad.parquet"
    pq.write_table(t, path)
    with pytest.raises(ValidationError) as info:
        load_cohort(path, codebook_path=CB)
    got = {(p.kind, p.file, p.column, p.row, p.dyad_id, p.value) for p in info.value.problems}
    assert got == {("unknown code", "bad.parquet", "nation", 3, "D03", "'scotland'"),
                   ("out of range", "bad.parquet", "maternal_age", 2, "D02", "'240'"),
                   ("unknown code", "bad.parquet", "imd_quintile", 5, "D05", "'2.5'")}
    text = str(info.value)
    assert "bad.parquet, column nation, row 3 (dyad D03): value 'scotland'; expected one of the codebook codes" in text
    assert "nothing was loaded" in text


def test_parquet_headers_are_checked_before_values_and_a_non_parquet_file_is_named(tmp_path):
    t = _valid_table().append_column("NHS number", pa.array(["943 476 5919"] * 5))
    path = tmp_path / "ident.parquet"
    pq.write_table(t, path)
    with pytest.raises(ValidationError, match=r"ident.parquet, column 'NHS number'; expected no direct identifiers"):
        load_cohort(path, codebook_path=CB)
    fake = tmp_path / "fake.parquet"
    fake.write_text("dyad_id,site\nD1,S1\n")
    with pytest.raises(ValidationError, match=r"fake.parquet; expected a Parquet file, but this is not a Parquet file"):
        load_cohort(fake, codebook_path=CB)


def test_csv_and_parquet_of_one_cohort_give_identical_results_tables(tmp_path):
    plan = yaml.safe_load((Path(load_config().analysis_plan_path)).read_text(encoding="utf-8"))
    plan["sensitivity"]["multiple_imputation"].update(m=3, iterations=3)   # keeps the test short
    plan_path = tmp_path / "plan.yml"
    plan_path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    csv = tmp_path / "cohort.csv"
    write_cohort(generate(278, 12), csv)
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    par = tmp_path / "cohort.parquet"
    typed = raw.replace("", None).apply(lambda c: pd.to_numeric(c) if c.str.fullmatch(r"-?\d+(\.\d+)?").all()
                                        or c.dropna().str.fullmatch(r"-?\d+(\.\d+)?").all() else c)
    pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), par)
    assert pq.read_schema(par).field("maternal_age").type == pa.float64()       # numbers stored as numbers
    results = {}
    for path in (csv, par):
        cfg = dataclasses.replace(load_config(data=path), analysis_plan_path=plan_path)
        results[path.suffix] = run_analysis(cohort(cfg), cfg)
    assert results[".csv"].keys() == results[".parquet"].keys()
    for key, table in results[".csv"].items():
        pd.testing.assert_frame_equal(results[".parquet"][key], table, obj=key)
