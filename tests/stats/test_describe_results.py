"""describe.results on the default synthetic cohort through the real pipeline: names, schema, speed, accounting."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from perinatal_csc.stats import describe

EXPECTED = {"table1_sociodemographic", "table2_clinical", "table3_needs", "table4_transitions",
            "table4_paired_tests", "table4_needs_change", "table5_subgroups", "flow", "headline"}


@pytest.fixture(scope="module")
def run():
    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort
    cfg = load_config(source="synthetic")
    df = cohort(cfg)
    t0 = time.perf_counter()
    out = describe.results(df, cfg)
    return df, out, time.perf_counter() - t0


def test_every_table_is_there_and_tidy(run):
    _, out, _ = run
    assert set(out) == EXPECTED
    for name in ("table1_sociodemographic", "table2_clinical", "table3_needs", "table5_subgroups"):
        t = out[name]
        assert list(t.columns[: len(describe.COLUMNS)]) == describe.COLUMNS
        assert not t.duplicated(["variable", "level", "group", *(["comparison"] if "comparison" in t else [])]).any()


def test_results_have_no_pathological_slowdown(run):
    assert run[2] < 20.0


def test_group_sizes_match_the_cohort(run):
    df, out, _ = run
    t = out["table1_sociodemographic"]
    sizes = t.drop_duplicates("group").set_index("group").group_n
    assert sizes["1"] == int((df.csc_any_index == 1).sum())
    assert sizes["0"] == int((df.csc_any_index == 0).sum())
    assert sizes["overall"] == int(df.csc_any_index.notna().sum())


def test_table2_diagnosis_counts_and_test_from_raw_data(run):
    df, out, _ = run
    t = out["table2_clinical"]
    known = df[df.csc_any_index.notna() & df.diagnosis.notna()]
    ct = pd.crosstab(known.csc_any_index.astype(int), known.diagnosis.astype(str))
    for lvl in ct.columns:
        r = t[(t.variable == "diagnosis") & (t.level == lvl) & (t.group == "1")].iloc[0]
        assert r.n == ct.loc[1, lvl]
        assert r.percent == pytest.approx(100 * ct.loc[1, lvl] / ct.loc[1].sum())
    r = t[(t.variable == "diagnosis")].iloc[0]
    e = stats.contingency.expected_freq(ct.to_numpy())
    if (e >= 5).all():
        assert r.p == pytest.approx(stats.chi2_contingency(ct.to_numpy(), correction=False).pvalue, rel=1e-10)
    else:
        assert "Monte Carlo" in r.test
        ref = stats.fisher_exact(ct.to_numpy(), method=stats.MonteCarloMethod(n_resamples=20_000,
                                                                                rng=np.random.default_rng(7)))
        assert r.p < 0.001 and ref.pvalue < 0.001


def _mc_tolerance(p: float, *resamples: int) -> float:
    """Four Monte Carlo standard errors of the difference between two independent estimates of p."""
    return 4 * np.sqrt(p * (1 - p) * sum(1 / b for b in resamples))


def test_monte_carlo_p_value_agrees_with_scipy(run):
    df, out, _ = run
    from perinatal_csc.stats import compare
    known = df[df.csc_any_index.notna() & df.ethnicity.notna()]
    ct = pd.crosstab(known.csc_any_index.astype(int), known.ethnicity.astype(str)).to_numpy()
    assert (stats.contingency.expected_freq(ct) < 5).any() and ct.shape[1] > 2
    r = out["table1_sociodemographic"].query("variable == 'ethnicity'").iloc[0]
    assert "Monte Carlo" in r.test
    b = 20_000
    ref = stats.fisher_exact(ct, method=stats.MonteCarloMethod(n_resamples=b, rng=np.random.default_rng(11))).pvalue
    assert 0.01 < ref < 0.99
    assert abs(r.p - ref) < _mc_tolerance(ref, b, compare.MC_RESAMPLES)


def test_table3_unmet_needs_mann_whitney_from_raw_data(run):
    df, out, _ = run
    t = out["table3_needs"]
    a = df.loc[df.csc_any_index == 1, "canm_1y_unmet"].dropna().astype(float)
    b = df.loc[df.csc_any_index == 0, "canm_1y_unmet"].dropna().astype(float)
    r = t[(t.variable == "canm_1y_unmet") & (t.group == "1") & (t.row_type == "summary")].iloc[0]
    assert r.n == len(a)
    assert r.p == pytest.approx(stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True).pvalue, rel=1e-10)
    assert r.n + r.n_missing + r.n_not_applicable == r.group_n


def test_needs_change_pairs_and_wilcoxon(run):
    df, out, _ = run
    ch = out["table4_needs_change"]
    both = df.canm_1m_unmet.notna() & df.canm_1y_unmet.notna() & df.csc_any_index.notna()
    domains = df[[f"canm_1y_d{i:02d}" for i in range(1, 27)]]
    rated = df.followed_up_1y.eq(1).fillna(False) & domains.notna().all(axis=1)
    keep = both & rated
    r = ch[(ch.variable == "canm_unmet") & (ch.group == "overall") & (ch.level == "change")].iloc[0]
    d = (df.loc[keep, "canm_1y_unmet"] - df.loc[keep, "canm_1m_unmet"]).astype(float)
    assert r.n == len(d) and r.n_domain_not_known == int((both & ~rated).sum()) > 0
    assert r["median"] == pytest.approx(float(np.median(d)))
    nz = d[d != 0]
    assert r.p == pytest.approx(stats.wilcoxon(nz, zero_method="wilcox", correction=True, method="asymptotic").pvalue, rel=1e-8)


def test_needs_change_q_values_are_bh_over_its_tests(run):
    from statsmodels.stats.multitest import multipletests
    tests = run[1]["table4_needs_change"].drop_duplicates(["variable", "group"])
    assert len(tests) == 6 and tests.p.notna().all()
    np.testing.assert_allclose(tests.q.to_numpy(), multipletests(tests.p.to_numpy(), method="fdr_bh")[1], rtol=1e-12)


def test_results_write_as_csv(run, tmp_path):
    from perinatal_csc.pipeline import write_results
    paths = write_results(run[1], tmp_path)
    assert {p.stem for p in paths} == EXPECTED
    back = pd.read_csv(tmp_path / "table1_sociodemographic.csv")
    assert len(back) == len(run[1]["table1_sociodemographic"])


def test_table3_q_values_are_bh_over_its_tests(run):
    from statsmodels.stats.multitest import multipletests
    t = run[1]["table3_needs"].drop_duplicates("variable")
    ok = t.p.notna().to_numpy()
    np.testing.assert_allclose(t.q.to_numpy()[ok], multipletests(t.p.to_numpy()[ok], method="fdr_bh")[1], rtol=1e-12)


def test_table5_q_values_are_bh_within_each_comparison(run):
    from statsmodels.stats.multitest import multipletests
    t = run[1]["table5_subgroups"]
    for _, g in t.groupby("comparison"):
        g = g.drop_duplicates("variable")
        ok = g.p.notna().to_numpy()
        assert ok.sum() > 5
        np.testing.assert_allclose(g.q.to_numpy()[ok], multipletests(g.p.to_numpy()[ok], method="fdr_bh")[1], rtol=1e-12)


def test_table5_rows_against_scipy_on_the_csc_involved(run):
    df, out, _ = run
    t = out["table5_subgroups"]
    involved = df[(df.csc_any_index == 1).fillna(False) | (df.csc_any_1y == 1).fillna(False)]
    sub = involved[involved.cpp_1y.notna()]
    rows = t[(t.comparison == "cpp_1y")]
    assert rows.group_n[rows.group == "overall"].iloc[0] == len(sub)
    assert rows.n_status_unknown.iloc[0] == len(involved) - len(sub)
    # a binary row: domestic abuse, 2 x 2
    k = sub[sub.domestic_abuse.notna()]
    ct = pd.crosstab(k.cpp_1y.astype(int), k.domestic_abuse.astype(int)).reindex(index=[1, 0], columns=[1, 0], fill_value=0)
    r = rows[(rows.variable == "domestic_abuse") & (rows.group == "1")].iloc[0]
    assert r.n == ct.at[1, 1]
    if (stats.contingency.expected_freq(ct.to_numpy()) >= 5).all():
        ref = stats.chi2_contingency(ct.to_numpy(), correction=False).pvalue
    else:
        ref = stats.fisher_exact(ct.to_numpy()).pvalue
    assert r.p == pytest.approx(ref, rel=1e-10)
    # a numeric row: maternal age, Welch's t-test
    a = sub.loc[sub.cpp_1y == 1, "maternal_age"].dropna().astype(float)
    b = sub.loc[sub.cpp_1y == 0, "maternal_age"].dropna().astype(float)
    r = rows[(rows.variable == "maternal_age") & (rows.group == "1")].iloc[0]
    assert r["mean"] == pytest.approx(a.mean()) and r.n == len(a)
    assert r.p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-10)


def test_table5_not_in_care_counts_every_infant_not_in_care_as_the_abstract_does(run):
    """The sub-group 'infant not in mother's care' holds every such infant of the dyads followed up, with or
    without CSC involvement (so its N is the abstract's count and no count hides in a difference), against
    the other CSC-involved dyads."""
    df, out, _ = run
    t = out["table5_subgroups"]
    rows = t[t.comparison == "infant_not_in_care_1y"]
    yes = int((df.infant_not_in_care_1y == 1).sum())
    involved = (df.csc_any_index == 1).fillna(False) | (df.csc_any_1y == 1).fillna(False)
    others = int((involved & (df.infant_not_in_care_1y == 0)).sum())
    assert rows.group_n[rows.group == "1"].iloc[0] == yes
    assert rows.group_n[rows.group == "0"].iloc[0] == others
    population = involved | (df.infant_not_in_care_1y == 1).fillna(False)
    assert rows.n_involved.iloc[0] == int(population.sum())
    assert rows.n_status_unknown.iloc[0] == int((population & df.infant_not_in_care_1y.isna()).sum())
