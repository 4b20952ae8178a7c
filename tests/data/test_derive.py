"""Derived variables against hand-worked rows, and against an independent count on the synthetic cohort."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.data.derive import derive
from perinatal_csc.data.load import EXPORT_MISSING_ATTR
from perinatal_csc.data.load import load_cohort
from perinatal_csc.data.synth import generate, write_cohort

CB = load_codebook()
DOMAINS = [f"canm_1y_d{i:02d}" for i in range(1, 27)]


def _frame() -> pd.DataFrame:
    """Five hand-worked dyads (rows A-E)."""
    d = pd.DataFrame({
        "csc_status_index": ["none", "child_in_need", None, "looked_after", "assessment"],
        "followed_up_1y": [1, 1, 0, 1, 1],
        "csc_status_1y": ["child_protection_plan", "none", None, "looked_after", None],
        "infant_in_care_1y": [1, 1, None, 0, None],
        "imd_quintile": [1, 2, 3, None, 5],
    })
    for name in ("csc_status_index", "csc_status_1y", "imd_quintile"):
        d[name] = d[name].astype(CB[name].dtype())
    for name in ("followed_up_1y", "infant_in_care_1y"):
        d[name] = d[name].astype("Int64")
    dom = np.full((5, 26), np.nan)
    dom[0, :] = 0
    dom[0, :3] = 1          # A: 3 met
    dom[0, 3:5] = 2         # A: 2 unmet
    dom[1, :] = 2           # B: 26 unmet
    dom[3, 0] = 1           # D: 1 met, 25 blank or not known
    for j, name in enumerate(DOMAINS):
        d[name] = pd.Series(dom[:, j]).astype("Int64").astype(CB[name].dtype())
    flags = pd.DataFrame(False, index=d.index, columns=DOMAINS)
    flags.loc[3, DOMAINS[1:4]] = True   # D: three domains rated 9 (not known), the rest blank
    flags.loc[4, DOMAINS] = True        # E: every domain rated 9
    d.attrs[EXPORT_MISSING_ATTR] = flags
    return d


EXPECTED = {
    "csc_any_index": [0, 1, None, 1, 1],
    "csc_any_1y": [1, 0, None, 1, None],
    "infant_not_in_care_1y": [0, 0, None, 1, None],
    "cpp_1y": [1, 0, None, 0, None],
    "deprived": [1, 1, 0, None, 0],
    "canm_1y_met": [3, 0, None, 1, None],
    "canm_1y_unmet": [2, 26, None, 0, None],
    "canm_1y_not_known": [0, 0, None, 3, 26],
    # any unmet need in a group of domains: A's unmet needs are domains 4-5 (daily living); D has only
    # domain 1 known (met); E none known
    "canm_1y_any_daily": [1, 1, None, 0, None],
    "canm_1y_any_health": [0, 1, None, None, None],
    "canm_1y_any_baby": [0, 1, None, None, None],
    "canm_1y_any_safety": [0, 1, None, None, None],
    "canm_1y_any_relationships": [0, 1, None, None, None],
    "canm_1y_any_practical": [0, 1, None, None, None],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hand_worked_rows(name):
    out = derive(_frame(), CB)
    got = [None if pd.isna(x) else int(x) for x in out[name]]
    assert got == EXPECTED[name]
    assert out[name].dtype == CB[name].dtype()


def test_every_codebook_derived_variable_is_added_in_codebook_order():
    df = _frame()
    out = derive(df, CB)
    assert set(EXPECTED) == {v.name for v in CB.derived()}
    names = [c for c in out.columns]
    assert names == [n for n in CB.names if n in names]
    assert list(df.columns) == list(_frame().columns)   # the input is not modified


def test_derived_columns_in_the_input_are_recomputed():
    df = _frame()
    df["deprived"] = pd.array([0, 0, 0, 0, 0], dtype="Int64")
    assert derive(df, CB)["deprived"].tolist()[:3] == [1, 1, 0]


def test_missing_inputs_are_named():
    with pytest.raises(KeyError, match="imd_quintile"):
        derive(_frame().drop(columns="imd_quintile"), CB)


def test_synthetic_cohort_counts_match_an_independent_count(tmp_path):
    path = tmp_path / "c.csv"
    write_cohort(generate(278, 3), path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = derive(load_cohort(path).data)
    fu = raw["followed_up_1y"] == "1"
    dom = raw[DOMAINS]
    rated_any = (dom != "").any(axis=1)
    for name, code in (("canm_1y_met", "1"), ("canm_1y_unmet", "2")):
        expect = (dom == code).sum(axis=1).where(fu & (dom.isin(["0", "1", "2"])).any(axis=1))
        got = out[name].astype("Float64").to_numpy(na_value=np.nan)
        assert np.array_equal(got, expect.to_numpy(dtype=float), equal_nan=True), name
    nk = (dom == "9").sum(axis=1).where(fu & rated_any)
    assert np.array_equal(out["canm_1y_not_known"].astype("Float64").to_numpy(na_value=np.nan),
                          nk.to_numpy(dtype=float), equal_nan=True)
    s = raw["csc_status_index"]
    expect = (s != "none").astype(float).where(~s.isin(["", "-9"]))
    assert np.array_equal(out["csc_any_index"].astype("Float64").to_numpy(na_value=np.nan),
                          expect.to_numpy(dtype=float), equal_nan=True)
