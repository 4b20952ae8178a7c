"""The summary layer on hand-written frames: every number recomputed here from the raw values."""
from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from perinatal_csc.stats import compare, describe
from perinatal_csc.data.codebook import load_codebook

CB = load_codebook()


def _cat(values, name):
    return pd.Categorical(values, categories=CB[name].codes)


@pytest.fixture()
def frame() -> pd.DataFrame:
    """12 dyads: 5 with CSC involvement, 6 without, 1 with CSC status not known."""
    return pd.DataFrame({
        "dyad_id": pd.array([f"D{i:02d}" for i in range(12)], dtype="string"),
        "csc_any_index": pd.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, pd.NA], dtype="Int64"),
        "maternal_age": [22.0, 31.5, np.nan, 19.0, 27.0, 33.0, 29.0, 35.5, 30.0, 41.0, 26.0, 30.0],
        "relationship": _cat(["single", "single", None, "married_cohabiting", "single", "married_cohabiting",
                              "married_cohabiting", "partner_not_cohabiting", "married_cohabiting", "single",
                              "married_cohabiting", "single"], "relationship"),
        # "other" is an empty level; one value missing
        "ethnicity": _cat(["white", "black", "white", "asian", None, "white", "white", "white", "asian", "white",
                           "black", "white"], "ethnicity"),
        "childhood_trauma": pd.array([1, 1, 0, 1, 1, 0, 0, 1, 0, 0, pd.NA, 1], dtype="Int64"),
        "n_other_children": pd.array([0, 2, 1, 3, 1, 0, 0, 1, 2, 0, 1, 0], dtype="Int64"),
        "followed_up_1y": pd.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1], dtype="Int64"),
        "su_gp": pd.array([4, pd.NA, 2, pd.NA, pd.NA, 6, 3, 5, pd.NA, 1, 7, 2], dtype="Int64"),
        "canm_1y_d01": _cat([2, None, 1, 2, None, 0, 2, 0, None, 1, 0, 0], "canm_1y_d01"),
    })


VARS = ["maternal_age", "relationship", "ethnicity", "childhood_trauma", "n_other_children", "su_gp", "canm_1y_d01"]


@pytest.fixture()
def table(frame) -> pd.DataFrame:
    s = describe.summarise(frame, VARS, by="csc_any_index", codebook=CB, group_order=[1, 0],
                           group_labels=describe.CSC_GROUPS, dichotomous={"canm_1y_d01": 2})
    return s.add_overall().add_p().add_smd().add_q().table


def _row(t, variable, group, level=None, row_type=None):
    sel = (t.variable == variable) & (t.group == group)
    if level is not None:
        sel &= t.level == level
    if row_type is not None:
        sel &= t.row_type == row_type
    out = t[sel]
    assert len(out) == 1, out
    return out.iloc[0]


def test_columns_are_the_contract(table):
    for c in ["variable", "label", "level", "group", "n", "denominator", "percent", "mean", "sd", "median", "q1",
              "q3", "statistic", "test", "p", "q", "smd", "n_missing"]:
        assert c in table.columns


def test_dyads_with_group_missing_are_left_out(table):
    assert _row(table, "maternal_age", "overall", row_type="summary").group_n == 11
    assert _row(table, "maternal_age", "1", row_type="summary").group_n == 5


def test_categorical_counts_percent_and_not_known(table, frame):
    known = frame[frame.csc_any_index.notna()]
    g1 = known[known.csc_any_index == 1]
    # relationship, with CSC: single 3, married 1, missing 1
    r = _row(table, "relationship", "1", "single")
    assert (r.n, r.denominator) == (3, 4)
    assert r.percent == pytest.approx(75.0)
    nk = _row(table, "relationship", "1", describe.NOT_KNOWN)
    assert nk.n == 1 and math.isnan(nk.percent)
    assert int(g1.relationship.isna().sum()) == nk.n
    # the empty level is shown with 0
    other = _row(table, "ethnicity", "overall", "other")
    assert other.n == 0 and other.denominator == 10


def test_categorical_p_excludes_not_known_and_empty_levels(table, frame):
    known = frame[frame.csc_any_index.notna() & frame.ethnicity.notna()]
    ct = pd.crosstab(known.csc_any_index.astype(int), known.ethnicity.astype(str)).to_numpy()
    assert ct.shape == (2, 3)  # white, black, asian: "other" and "mixed" are empty
    r = _row(table, "ethnicity", "1", "white")
    assert r.test == compare.FISHER_MC
    # the Monte Carlo estimate lies within 5 SE of the exact Fisher–Freeman–Halton p computed by enumeration
    rows, cols = ct.sum(1), ct.sum(0)

    def logp(first):
        second = cols - first
        return -sum(math.lgamma(x + 1) for x in [*first, *second])
    obs = logp(ct[0])
    exact = 0.0
    norm = 0.0
    for a in range(cols[0] + 1):
        for b in range(cols[1] + 1):
            c = rows[0] - a - b
            if 0 <= c <= cols[2]:
                lp = logp(np.array([a, b, c]))
                norm += math.exp(lp)
                exact += math.exp(lp) if lp <= obs + 1e-7 else 0.0
    exact /= norm
    assert abs(r.p - exact) < 5 * math.sqrt(exact * (1 - exact) / compare.MC_RESAMPLES) + 1e-5


def test_binary_shown_dichotomously_with_fisher_2x2(table, frame):
    known = frame[frame.csc_any_index.notna() & frame.childhood_trauma.notna()]
    r = _row(table, "childhood_trauma", "0", "1")
    g0 = known[known.csc_any_index == 0]
    assert r.n == int((g0.childhood_trauma == 1).sum()) and r.denominator == len(g0)
    assert set(table.loc[table.variable == "childhood_trauma", "level"]) == {"1", describe.NOT_KNOWN}
    ct = pd.crosstab(known.csc_any_index, known.childhood_trauma).to_numpy()
    assert r.test == compare.FISHER
    assert r.p == pytest.approx(stats.fisher_exact(ct).pvalue, rel=1e-12)
    p1 = (known[known.csc_any_index == 1].childhood_trauma == 1).mean()
    p0 = (g0.childhood_trauma == 1).mean()
    assert r.smd == pytest.approx(abs(p1 - p0) / math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2), rel=1e-12)


def test_mean_sd_variable_welch_and_smd(table, frame):
    known = frame[frame.csc_any_index.notna()]
    a = [x for x in known.loc[known.csc_any_index == 1, "maternal_age"] if not math.isnan(x)]
    b = [x for x in known.loc[known.csc_any_index == 0, "maternal_age"] if not math.isnan(x)]
    r1 = _row(table, "maternal_age", "1", row_type="summary")
    assert r1.n == len(a) == 4
    assert r1["mean"] == pytest.approx(statistics.mean(a), rel=1e-12)
    assert r1.sd == pytest.approx(statistics.stdev(a), rel=1e-12)
    assert r1.p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-10)
    assert r1.test == compare.WELCH
    smd = abs(statistics.mean(a) - statistics.mean(b)) / math.sqrt((statistics.variance(a) + statistics.variance(b)) / 2)
    assert r1.smd == pytest.approx(smd, rel=1e-12)
    assert _row(table, "maternal_age", "1", describe.NOT_KNOWN).n == 1


def test_median_iqr_variable_type7_quartiles_and_mann_whitney(table, frame):
    known = frame[frame.csc_any_index.notna()]
    a = known.loc[known.csc_any_index == 1, "n_other_children"].astype(float).tolist()
    b = known.loc[known.csc_any_index == 0, "n_other_children"].astype(float).tolist()
    r = _row(table, "n_other_children", "0", row_type="summary")
    q1, med, q3 = statistics.quantiles(b, n=4, method="inclusive")  # = R type 7
    assert (r["median"], r.q1, r.q3) == (pytest.approx(med), pytest.approx(q1), pytest.approx(q3))
    assert statistics.median(b) == pytest.approx(r["median"])
    assert r.test == compare.MANN_WHITNEY
    ref = stats.mannwhitneyu(a, b, use_continuity=True, method="asymptotic")
    assert r.p == pytest.approx(ref.pvalue, rel=1e-10)


def test_follow_up_variables_summarised_among_those_followed_up(table, frame):
    known = frame[frame.csc_any_index.notna()]
    g1 = known[known.csc_any_index == 1]
    r = _row(table, "su_gp", "1", row_type="summary")
    assert r.n_not_applicable == int((g1.followed_up_1y == 0).sum()) == 2
    assert r.n_missing == int(((g1.followed_up_1y == 1) & g1.su_gp.isna()).sum()) == 1
    assert r.n + r.n_missing + r.n_not_applicable == r.group_n


def test_canm_domain_dichotomised_at_unmet_need(table, frame):
    known = frame[frame.csc_any_index.notna() & frame.canm_1y_d01.notna()]
    rows = table[table.variable == "canm_1y_d01"]
    # every missing domain rating belongs to a dyad not followed up: no "Not known" row, counted as not applicable
    assert set(rows.level) == {"2"}
    assert _row(table, "canm_1y_d01", "overall", "2").n_not_applicable == 3
    unmet = (known.canm_1y_d01.astype(float) == 2).astype(int)
    ct = pd.crosstab(known.csc_any_index, unmet).to_numpy()
    r = _row(table, "canm_1y_d01", "1", "2")
    assert r.p == pytest.approx(stats.fisher_exact(ct).pvalue, rel=1e-12)
    assert r.n == int(unmet[known.csc_any_index == 1].sum())


def test_q_values_are_bh_over_the_tables_p_values(table):
    from statsmodels.stats.multitest import multipletests
    per_var = table.drop_duplicates("variable")
    ok = per_var.p.notna().to_numpy()
    ref = multipletests(per_var.p.to_numpy()[ok], method="fdr_bh")[1]
    np.testing.assert_allclose(per_var.q.to_numpy()[ok], ref, rtol=1e-12)


def test_value_outside_codebook_raises(frame):
    bad = frame.assign(relationship=pd.Series(["divorced"] + ["single"] * 11, dtype=object))
    with pytest.raises(ValueError, match="divorced"):
        describe.summarise(bad, ["relationship"], by="csc_any_index", codebook=CB)


def test_value_where_not_followed_up_raises(frame):
    bad = frame.copy()
    bad.loc[1, "su_gp"] = 3
    with pytest.raises(ValueError, match="followed_up_1y"):
        describe.summarise(bad, ["su_gp"], by="csc_any_index", codebook=CB)


def test_overall_without_by(frame):
    t = describe.summarise(frame, ["relationship"], codebook=CB).table
    assert set(t.group) == {describe.OVERALL}
    assert t.loc[t.level == "single", "n"].iloc[0] == int((frame.relationship == "single").sum())


# ---- table 4 ----------------------------------------------------------------------------------------

@pytest.fixture()
def pairs() -> pd.DataFrame:
    idx = ["none"] * 6 + ["assessment"] * 3 + ["child_in_need"] * 3 + ["child_protection_plan"] * 2 + ["none", None]
    one = ["none", "none", "none", "none", "assessment", None, "none", "assessment", "child_in_need", "none",
           "child_in_need", "child_protection_plan", "child_protection_plan", "none", "none", "none"]
    fu = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    df = pd.DataFrame({"csc_status_index": _cat(idx, "csc_status_index"),
                       "csc_status_1y": _cat(one, "csc_status_1y"),
                       "followed_up_1y": pd.array(fu, dtype="Int64")})
    df["csc_any_index"] = pd.array(np.where(df.csc_status_index.isna(), np.nan, df.csc_status_index != "none"), dtype="Int64")
    df["csc_any_1y"] = pd.array(np.where(df.csc_status_1y.isna(), np.nan, df.csc_status_1y != "none"), dtype="Int64")
    return df


def test_transition_counts_and_row_percent(pairs):
    t = describe.transitions(pairs, CB)
    both = pairs.dropna(subset=["csc_status_index", "csc_status_1y"])
    assert (t.n_pairs == len(both)).all() and len(both) == 14
    ct = pd.crosstab(both.csc_status_index.astype(str), both.csc_status_1y.astype(str))
    for (a, b), n in ct.stack().items():
        r = t[(t.level == a) & (t.group == b)].iloc[0]
        assert r.n == n
        assert r.percent == pytest.approx(100 * n / ct.loc[a].sum())
    total = t[(t.row_type == "total") & (t.group == "none")].iloc[0]
    assert total.n == int((both.csc_status_1y == "none").sum())
    assert t[(t.level == "looked_after")].n.sum() == 0


def test_paired_tests_use_only_dyads_with_both(pairs):
    t = describe.paired_tests(pairs, CB).set_index("variable")
    both = pairs.dropna(subset=["csc_any_index", "csc_any_1y"])
    b = int(((both.csc_any_index == 0) & (both.csc_any_1y == 1)).sum())
    c = int(((both.csc_any_index == 1) & (both.csc_any_1y == 0)).sum())
    assert t.at["csc_any", "n_pairs"] == len(both)
    assert t.at["csc_any", "p"] == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-12)
    # Stuart–Maxwell on the 4 observed categories ("looked_after" is empty at both timepoints)
    from statsmodels.stats.contingency_tables import SquareTable
    both = pairs.dropna(subset=["csc_status_index", "csc_status_1y"])
    seen = sorted(set(both.csc_status_index.astype(str)) | set(both.csc_status_1y.astype(str)))
    square = pd.crosstab(both.csc_status_index.astype(str), both.csc_status_1y.astype(str)).reindex(
        index=seen, columns=seen, fill_value=0)
    assert len(seen) == 4
    ref = SquareTable(square.to_numpy(), shift_zeros=False).homogeneity(method="stuart_maxwell")
    assert t.at["csc_status", "df"] == 3 == ref.df
    assert t.at["csc_status", "statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert t.at["csc_status", "p"] == pytest.approx(ref.pvalue, rel=1e-10)


# ---- table 5 ----------------------------------------------------------------------------------------

def test_subgroup_population_is_the_csc_involved(pairs):
    involved = describe.csc_involved(pairs)
    # by hand from the fixture: rows 6-13 involved during the episode, row 4 only at one year;
    # row 5 (one year not known) and row 15 (episode not known) are not involved at either known timepoint
    assert involved.dtype == bool
    assert np.flatnonzero(involved.to_numpy()).tolist() == [4, 6, 7, 8, 9, 10, 11, 12, 13]


def test_missing_follow_up_flag_is_an_error(frame):
    with pytest.raises(KeyError, match="followed_up_1y"):
        describe.summarise(frame.drop(columns="followed_up_1y"), ["su_gp"], by="csc_any_index", codebook=CB)


def test_derived_one_year_totals_count_those_not_followed_up_apart(run_cohort):
    df = run_cohort
    t = describe.summarise(df, ["canm_1y_unmet"], by="csc_any_index", codebook=CB).add_overall().table
    r = t[(t.group == "overall") & (t.row_type == "summary")].iloc[0]
    known = df[df.csc_any_index.notna()]
    assert r.n_not_applicable == int((known.followed_up_1y != 1).sum()) > 0
    assert r.n_missing == int(((known.followed_up_1y == 1) & known.canm_1y_unmet.isna()).sum())
    assert r.n + r.n_missing + r.n_not_applicable == len(known)


@pytest.fixture(scope="module")
def run_cohort() -> pd.DataFrame:
    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort
    return cohort(load_config(source="synthetic"))
