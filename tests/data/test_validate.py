"""Properties of validation: exactly the corrupted cells are reported; it scales to large exports."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perinatal_csc.data.load import load_cohort
from perinatal_csc.data.validate import LINES_PER_KIND, ValidationError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "load"
CB = FIX / "mini_codebook.yml"
VALID = pd.read_csv(FIX / "valid.csv", dtype=str, keep_default_na=False)


def _write(df: pd.DataFrame, tmp: Path) -> Path:
    p = tmp / "x.csv"
    df.to_csv(p, index=False)
    return p


@settings(derandomize=True, deadline=None, max_examples=40)
@given(rows=st.sets(st.integers(0, 4), min_size=1), value=st.sampled_from(["2.5", "three", "1e400", "nan", "-"]),
       column=st.sampled_from(["n_other_children", "index_infant_order", "tag_total"]))
def test_every_bad_integer_cell_is_reported_once(tmp_path_factory, rows, value, column):
    df = VALID.copy()
    df.loc[sorted(rows), column] = value
    with pytest.raises(ValidationError) as info:
        load_cohort(_write(df, tmp_path_factory.mktemp("v")), codebook_path=CB)
    mine = [p for p in info.value.problems if p.column == column and p.kind == "wrong type"]
    assert sorted(p.row for p in mine) == sorted(r + 2 for r in rows)
    assert {p.dyad_id for p in mine} == {VALID.loc[r, "dyad_id"] for r in rows}


@settings(derandomize=True, deadline=None, max_examples=40)
@given(age=st.floats(min_value=-100, max_value=200, allow_nan=False).map(lambda x: round(x, 2)))
def test_age_accepted_exactly_inside_the_codebook_range(tmp_path_factory, age):
    df = VALID.copy()
    df.loc[0, "maternal_age"] = repr(age)
    path = _write(df, tmp_path_factory.mktemp("v"))
    if age in (-9.0, 999.0):
        assert pd.isna(load_cohort(path, codebook_path=CB).data["maternal_age"].iloc[0])
    elif 14 <= age <= 55:
        assert load_cohort(path, codebook_path=CB).data["maternal_age"].iloc[0] == age
    else:
        with pytest.raises(ValidationError) as info:
            load_cohort(path, codebook_path=CB)
        assert [(p.kind, p.row) for p in info.value.problems] == [("out of range", 2)]


def test_report_is_capped_per_kind_but_counts_everything(tmp_path):
    big = pd.concat([VALID] * 40, ignore_index=True)
    big["dyad_id"] = [f"D{i:04d}" for i in range(len(big))]
    big["mother_id"] = [f"M{i:04d}" for i in range(len(big))]
    big["nation"] = "atlantis"
    with pytest.raises(ValidationError) as info:
        load_cohort(_write(big, tmp_path), codebook_path=CB)
    msg = str(info.value)
    assert f"unknown code ({len(big)})" in msg
    assert msg.count("value 'atlantis'") == LINES_PER_KIND
    assert f"... and {len(big) - LINES_PER_KIND} more unknown code problems" in msg


def test_one_hundred_thousand_rows_validate_in_seconds(tmp_path):
    n = 100_000
    big = pd.concat([VALID] * (n // len(VALID)), ignore_index=True)
    big["dyad_id"] = [f"D{i:06d}" for i in range(n)]
    big["mother_id"] = [f"M{i:06d}" for i in range(n)]
    path = _write(big, tmp_path)
    t0 = time.perf_counter()
    res = load_cohort(path, codebook_path=CB)
    elapsed = time.perf_counter() - t0
    assert len(res.data) == n
    assert elapsed < 30, f"validating {n} rows took {elapsed:.1f} s (a pathological slowdown; about 2 s expected)"
