"""Every test statistic, p-value and SMD against an independent computation built here from raw counts."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.multitest import multipletests

from perinatal_csc.stats import compare


# ---- chi-square ---------------------------------------------------------------------------------

def test_chisq_without_continuity_correction_matches_hand_formula():
    t = np.array([[12, 30, 18], [25, 20, 40]])
    rows, cols, n = t.sum(1), t.sum(0), t.sum()
    stat = sum((t[i, j] - rows[i] * cols[j] / n) ** 2 / (rows[i] * cols[j] / n) for i in range(2) for j in range(3))
    res = compare.contingency_test(t)
    assert res.test == compare.CHISQ
    assert res.statistic == pytest.approx(stat, rel=1e-12)
    assert res.df == 2
    assert res.p == pytest.approx(stats.chi2.sf(stat, 2), rel=1e-12)
    assert res.p == pytest.approx(stats.chi2_contingency(t, correction=False).pvalue, rel=1e-12)


def test_2x2_chisq_is_not_yates_corrected():
    t = np.array([[20, 30], [35, 25]])
    res = compare.contingency_test(t)
    assert res.test == compare.CHISQ
    assert res.p == pytest.approx(stats.chi2_contingency(t, correction=False).pvalue, rel=1e-12)
    assert res.p != pytest.approx(stats.chi2_contingency(t, correction=True).pvalue, rel=1e-3)


def test_empty_level_is_dropped_before_testing():
    t = np.array([[12, 0, 30, 18], [25, 0, 20, 40]])
    res = compare.contingency_test(t)
    assert res.df == 2
    assert res.p == pytest.approx(stats.chi2_contingency(t[:, [0, 2, 3]], correction=False).pvalue, rel=1e-12)


def test_single_level_is_not_tested():
    res = compare.contingency_test(np.array([[5, 0], [7, 0]]))
    assert res.test == compare.NOT_TESTED and math.isnan(res.p)


# ---- Fisher's exact (2 x 2) ------------------------------------------------------------------------

def _fisher_2x2_by_enumeration(t: np.ndarray) -> float:
    """Two-sided: sum of hypergeometric probabilities no larger than the observed one (R's rule)."""
    a, b, c, d = (int(x) for x in t.ravel())
    r1, c1, n = a + b, a + c, a + b + c + d
    def prob(x):
        return math.comb(c1, x) * math.comb(n - c1, r1 - x) / math.comb(n, r1)
    lo, hi = max(0, r1 + c1 - n), min(r1, c1)
    p_obs = prob(a)
    return min(1.0, sum(prob(x) for x in range(lo, hi + 1) if prob(x) <= p_obs * (1 + 1e-7)))


@pytest.mark.parametrize("t", [[[3, 1], [1, 3]], [[8, 2], [1, 5]], [[0, 5], [6, 2]], [[10, 2], [30, 4]]])
def test_small_2x2_uses_fisher_exact(t):
    t = np.array(t)
    res = compare.contingency_test(t)
    assert res.test == compare.FISHER
    assert res.p == pytest.approx(_fisher_2x2_by_enumeration(t), rel=1e-9)


# ---- Monte Carlo Fisher–Freeman–Halton (r x c) ---------------------------------------------------

def _ffh_exact_by_enumeration(t: np.ndarray) -> float:
    """Exact Fisher–Freeman–Halton p for a small 2 x c table: enumerate every first row with the margins."""
    rows, cols = t.sum(1), t.sum(0)
    n = t.sum()
    def logp(first):
        second = cols - first
        return (sum(math.lgamma(x + 1) for x in rows) + sum(math.lgamma(x + 1) for x in cols) - math.lgamma(n + 1)
                - sum(math.lgamma(x + 1) for x in first) - sum(math.lgamma(x + 1) for x in second))
    obs = logp(t[0])
    total = 0.0
    for first in itertools.product(*[range(c + 1) for c in cols]):
        if sum(first) != rows[0]:
            continue
        lp = logp(np.array(first))
        if lp <= obs + 1e-7:
            total += math.exp(lp)
    return total


def test_larger_sparse_table_uses_seeded_monte_carlo_close_to_exact():
    t = np.array([[4, 1, 0, 3], [1, 5, 4, 1]])
    exact = _ffh_exact_by_enumeration(t)
    res = compare.contingency_test(t)
    assert res.test == compare.FISHER_MC
    assert "100,000" in res.test and str(compare.MC_SEED) in res.test
    se = math.sqrt(exact * (1 - exact) / compare.MC_RESAMPLES)
    assert abs(res.p - exact) < 5 * se + 1e-5
    # fixed seed: same answer twice; a different seed gives a (slightly) different estimate
    assert compare.contingency_test(t).p == res.p
    assert compare.fisher_monte_carlo(t, seed=1).p != res.p
    # the test's name states the settings actually used, not the defaults
    other = compare.fisher_monte_carlo(t, seed=1, n_resamples=2_000)
    assert other.test.endswith("(2,000 resampled tables, seed 1)")


def test_monte_carlo_agrees_with_scipy_permutation_machinery():
    t = np.array([[6, 2, 1], [1, 5, 3], [2, 1, 6]])
    ours = compare.fisher_monte_carlo(t)
    ref = stats.fisher_exact(t, method=stats.MonteCarloMethod(n_resamples=100_000, rng=np.random.default_rng(7)))
    se = math.sqrt(ref.pvalue * (1 - ref.pvalue) / 100_000)
    assert abs(ours.p - ref.pvalue) < 6 * se * math.sqrt(2) + 1e-5
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-9)


def test_random_tables_keep_margins():
    t = np.array([[4, 1, 0, 3], [1, 5, 4, 1], [2, 2, 2, 2]])
    sims = compare.random_tables(t.sum(1), t.sum(0), 2000, np.random.default_rng(3))
    assert (sims.sum(axis=2) == t.sum(1)).all() and (sims.sum(axis=1) == t.sum(0)).all()
    expected = np.outer(t.sum(1), t.sum(0)) / t.sum()
    assert np.abs(sims.mean(axis=0) - expected).max() < 0.15


# ---- continuous -----------------------------------------------------------------------------------

def test_welch_matches_hand_formula():
    a = np.array([21.0, 25, 30, 28, 35, 19, np.nan])
    b = np.array([31.0, 29, 40, 38, 33, 36, 41, 30])
    x = a[~np.isnan(a)]
    va, vb = x.var(ddof=1) / len(x), b.var(ddof=1) / len(b)
    t = (x.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(x) - 1) + vb ** 2 / (len(b) - 1))
    res = compare.welch_t(a, b)
    assert res.statistic == pytest.approx(t, rel=1e-12)
    assert res.df == pytest.approx(df, rel=1e-12)
    assert res.p == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-10)


def test_mann_whitney_matches_normal_approximation_with_ties_and_continuity():
    a = np.array([1, 2, 2, 3, 5, 5, 5, 8, np.nan])
    b = np.array([2, 4, 5, 6, 6, 7, 9, 9, 10])
    x = a[~np.isnan(a)]
    allv = np.concatenate([x, b])
    ranks = stats.rankdata(allv)
    n1, n2 = len(x), len(b)
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    _, t = np.unique(allv, return_counts=True)
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - (t ** 3 - t).sum() / (n * (n - 1))))
    z = (abs(u - n1 * n2 / 2) - 0.5) / sigma
    res = compare.mann_whitney(a, b)
    assert res.statistic == u
    assert res.p == pytest.approx(2 * stats.norm.sf(z), rel=1e-10)


# ---- SMD ------------------------------------------------------------------------------------------

def test_smd_continuous():
    assert compare.smd_continuous(10, 2, 13, 4) == pytest.approx(3 / math.sqrt((4 + 16) / 2))


def test_smd_binary_closed_form():
    p1, p2 = 30 / 80, 12 / 60
    expected = abs(p1 - p2) / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    assert compare.smd_categorical([50, 30], [48, 12]) == pytest.approx(expected, rel=1e-12)


def test_smd_three_levels_by_hand():
    # proportions over 3 levels; drop level 1; S = average of the two multinomial covariances (2 x 2)
    c1, c2 = np.array([20, 50, 30]), np.array([40, 40, 20])
    p1, p2 = c1 / 100, c2 / 100
    t, c = p1[1:], p2[1:]
    s11 = (t[0] * (1 - t[0]) + c[0] * (1 - c[0])) / 2
    s22 = (t[1] * (1 - t[1]) + c[1] * (1 - c[1])) / 2
    s12 = (-t[0] * t[1] - c[0] * c[1]) / 2
    det = s11 * s22 - s12 ** 2
    d = t - c
    quad = (d[0] ** 2 * s22 - 2 * d[0] * d[1] * s12 + d[1] ** 2 * s11) / det
    assert compare.smd_categorical(c1, c2) == pytest.approx(math.sqrt(quad), rel=1e-10)


def test_smd_ignores_levels_empty_in_both_groups():
    assert compare.smd_categorical([20, 0, 50, 30], [40, 0, 40, 20]) == pytest.approx(
        compare.smd_categorical([20, 50, 30], [40, 40, 20]), rel=1e-12)


# ---- q-values -------------------------------------------------------------------------------------

def test_bh_matches_statsmodels_and_keeps_nan():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.20, 0.001, 0.04])
    ok = ~np.isnan(p)
    ref = multipletests(p[ok], method="fdr_bh")[1]
    q = compare.bh_qvalues(p)
    assert np.isnan(q[2])
    np.testing.assert_allclose(q[ok], ref, rtol=1e-12)


# ---- paired ---------------------------------------------------------------------------------------

def test_exact_mcnemar_is_binomial_on_discordant_pairs():
    before = np.array([0] * 10 + [1] * 8 + [0] * 3 + [1] * 9 + [np.nan] * 4)
    after = np.array([0] * 10 + [1] * 8 + [1] * 3 + [0] * 9 + [1] * 4)
    res = compare.mcnemar_exact(before, after)
    assert res.n == 30
    assert res.statistic == 3
    assert res.p == pytest.approx(stats.binomtest(3, 12, 0.5).pvalue, rel=1e-12)


def _stuart_maxwell_3x3(t: np.ndarray) -> float:
    """Fleiss & Everitt closed form for a 3 x 3 table."""
    d = t.sum(1) - t.sum(0)
    nb = lambda i, j: (t[i, j] + t[j, i]) / 2  # noqa: E731
    n12, n13, n23 = nb(0, 1), nb(0, 2), nb(1, 2)
    num = n23 * d[0] ** 2 + n13 * d[1] ** 2 + n12 * d[2] ** 2
    return num / (2 * (n12 * n13 + n12 * n23 + n13 * n23))


def test_stuart_maxwell_3x3_by_hand_and_statsmodels():
    t = np.array([[20, 5, 3], [10, 15, 4], [2, 8, 12]])
    res = compare.stuart_maxwell(t)
    assert res.statistic == pytest.approx(_stuart_maxwell_3x3(t), rel=1e-10)
    assert res.df == 2
    sm = SquareTable(t, shift_zeros=False).homogeneity()
    assert res.statistic == pytest.approx(sm.statistic, rel=1e-10)
    assert res.p == pytest.approx(sm.pvalue, rel=1e-8)


def test_stuart_maxwell_drops_categories_empty_at_both_timepoints():
    t = np.array([[20, 5, 3, 0], [10, 15, 4, 0], [2, 8, 12, 0], [0, 0, 0, 0]])
    res = compare.stuart_maxwell(t)
    hand = _stuart_maxwell_3x3(t[:3, :3])
    assert res.df == 2
    assert res.statistic == pytest.approx(hand, rel=1e-10)
    assert res.p == pytest.approx(stats.chi2.sf(hand, 2), rel=1e-10)
    # statsmodels keeps the empty category in its degrees of freedom: the reason for dropping it
    sm = SquareTable(t, shift_zeros=False).homogeneity()
    assert sm.df == 3 and sm.pvalue != pytest.approx(res.p, rel=1e-3)


def test_wilcoxon_signed_rank_as_r_paired_exact_false():
    before = np.array([5, 3, 7, 2, 6, 4, 4, 8, 1, 3, np.nan, 5])
    after = np.array([3, 3, 4, 2, 2, 5, 1, 6, 1, 0, 2, 8])
    ok = ~np.isnan(before)
    d = (after - before)[ok]
    d = d[d != 0]                               # R drops zero differences
    r = stats.rankdata(np.abs(d))
    v = r[d > 0].sum()
    m = len(d)
    _, t = np.unique(np.abs(d), return_counts=True)
    sigma = math.sqrt(m * (m + 1) * (2 * m + 1) / 24 - (t ** 3 - t).sum() / 48)
    z = v - m * (m + 1) / 4
    z = (z - math.copysign(0.5, z)) / sigma
    p = 2 * min(stats.norm.cdf(z), stats.norm.sf(z))
    res = compare.wilcoxon_signed_rank(before, after)
    assert res.n == 11
    assert res.statistic == v
    assert res.p == pytest.approx(p, rel=1e-10)
    sp = stats.wilcoxon(d, zero_method="wilcox", correction=True, method="asymptotic")
    assert res.p == pytest.approx(sp.pvalue, rel=1e-8)


def test_wilcoxon_v_is_for_after_minus_before_and_swapping_gives_the_complement():
    before = np.array([3, 5, 2, 8, 4, 6, 1, 7, 5, 2], dtype=float)
    after = np.array([1, 4, 2, 3, 6, 2, 0, 7, 1, 1], dtype=float)
    d = (after - before)[after != before]
    ranks = stats.rankdata(np.abs(d))
    fwd, back = compare.wilcoxon_signed_rank(before, after), compare.wilcoxon_signed_rank(after, before)
    assert fwd.statistic == pytest.approx(ranks[d > 0].sum()) == 4.5          # the one rise, +2, ranks 4.5 by hand
    m = len(d)
    assert back.statistic == pytest.approx(m * (m + 1) / 2 - fwd.statistic)
    assert back.p == pytest.approx(fwd.p, rel=1e-12)
