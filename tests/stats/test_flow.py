"""Participant flow: every record accounted for, with reasons."""
from __future__ import annotations

import pandas as pd
import pytest

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.errors import UserError
from perinatal_csc.stats.flow import participant_flow

CB = load_codebook()


@pytest.fixture()
def frame():
    status = ["none", "assessment", None, "none", "child_in_need", "none", "none", "looked_after"]
    status_1y = ["none", None, None, "none", "child_in_need", None, "assessment", None]
    return pd.DataFrame({
        "csc_status_index": pd.Categorical(status, categories=CB["csc_status_index"].codes),
        "csc_any_index": pd.array([0, 1, pd.NA, 0, 1, 0, 0, 1], dtype="Int64"),
        "followed_up_1m": pd.array([1, 1, 0, 0, 1, 1, 1, 0], dtype="Int64"),
        "followed_up_1y": pd.array([1, 1, 1, 1, 1, 0, 1, 0], dtype="Int64"),
        "csc_status_1y": pd.Categorical(status_1y, categories=CB["csc_status_1y"].codes),
    })


def _n(f, stage, group="overall"):
    return f[(f.stage == stage) & (f.group == group)].iloc[0]


def test_hand_counts(frame):
    f = participant_flow(frame)
    assert _n(f, "cohort").n == 8
    a = _n(f, "analysed_episode")
    assert (a.n, a.excluded) == (7, 1)
    assert _n(f, "analysed_episode", "1").n == 3 and _n(f, "analysed_episode", "0").n == 4
    assert _n(f, "followed_up_1m").n == 5                  # rows 0, 1, 4, 5, 6 (row 2: status not known)
    assert _n(f, "followed_up_1y").n == 5
    r = _n(f, "analysed_1y")
    assert (r.n, r.excluded) == (4, 1)                     # row 1 followed up with CSC status not known
    assert _n(f, "analysed_1y", "1").n == 1


def test_every_record_accounted_for(frame):
    f = participant_flow(frame)
    parents = f.set_index(["stage", "group"]).n
    for _, r in f[f.stage.isin(["followed_up_1m", "followed_up_1y", "analysed_1y"])].iterrows():
        assert r.n + r.excluded == parents[(r.parent, r.group)]
        assert r.reason
    a = _n(f, "analysed_episode")
    assert a.n + a.excluded == _n(f, "cohort").n
    assert _n(f, "analysed_episode", "1").n + _n(f, "analysed_episode", "0").n == a.n
    assert _n(f, "followed_up_1y", "1").n + _n(f, "followed_up_1y", "0").n == _n(f, "followed_up_1y").n


def test_percent_of_parent(frame):
    f = participant_flow(frame)
    r = _n(f, "followed_up_1y", "1")
    assert r.percent == pytest.approx(100 * r.n / _n(f, "analysed_episode", "1").n)
    assert _n(f, "analysed_episode", "1").percent == pytest.approx(100 * 3 / 7)


def test_headline_counts_against_pandas(frame):
    from perinatal_csc.stats.flow import headline_counts

    df = frame.assign(
        site=pd.array(["a", "b", "a", "c", "c", "c", "b", "a"], dtype="string"),
        csc_any_1y=pd.array([0, pd.NA, pd.NA, 0, 1, pd.NA, 1, pd.NA], dtype="Int64"),
        infant_not_in_care_1y=pd.array([0, 0, 1, 0, 1, pd.NA, 0, pd.NA], dtype="Int64"),
        cpp_1y=pd.array([0, 1, 0, 0, pd.NA, pd.NA, 0, pd.NA], dtype="Int64"),
    )
    h = headline_counts(df).set_index("measure")
    followed = df[df.followed_up_1y == 1]
    assert h.at["dyads", "n"] == 8 and pd.isna(h.at["dyads", "denominator"])
    assert h.at["sites", "n"] == 3
    assert (h.at["csc_index", "n"], h.at["csc_index", "denominator"]) == (3, 7)
    assert (h.at["followed_1y", "n"], h.at["followed_1y", "denominator"]) == (6, 8)
    for measure, col in (("csc_1y", "csc_any_1y"), ("not_in_care_1y", "infant_not_in_care_1y"), ("cpp_1y", "cpp_1y")):
        known = followed[col].dropna()
        assert h.at[measure, "n"] == int((known == 1).sum()), measure
        assert h.at[measure, "denominator"] == len(known), measure
        assert h.at[measure, "percent"] == pytest.approx(100 * (known == 1).mean())
    assert (h.at["csc_1y", "n"], h.at["csc_1y", "denominator"]) == (2, 4)     # rows 0, 3, 4, 6 known
    assert pd.isna(h.at["sites", "denominator"])
    took_part = headline_counts(df, organisations=5).set_index("measure")
    assert (took_part.at["sites", "n"], took_part.at["sites", "denominator"]) == (3, 5)
    with pytest.raises(UserError, match="column site: the data hold 3 NHS organisations but study.organisations"):
        headline_counts(df, organisations=2)


@pytest.mark.parametrize("flag", ["followed_up_1m", "followed_up_1y"])
def test_a_missing_follow_up_flag_is_an_error_not_zero_follow_up(frame, flag):
    with pytest.raises(KeyError, match=flag):
        participant_flow(frame.drop(columns=flag))
