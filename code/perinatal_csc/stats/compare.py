"""Group comparisons and paired (between-timepoint) tests, on counts and arrays.

Every function takes plain numbers (a contingency table, two samples, paired values) and returns a
``TestResult``; ``describe`` decides which test a row gets and puts the results in tidy tables.

Rules (the Methods state them): two-sided tests; Pearson chi-square without continuity correction
unless an expected count is below 5, then Fisher's exact test (2 x 2) or a Monte Carlo
Fisher–Freeman–Halton test with a fixed seed (larger tables); Welch's t-test; Mann–Whitney U with
the normal approximation, tie and continuity correction (R ``wilcox.test(exact = FALSE)``);
exact McNemar; Stuart–Maxwell with categories empty at both timepoints dropped (Moore–Penrose
pseudo-inverse, df = its rank, where the covariance is singular); Wilcoxon signed-rank of
after - before with zero differences dropped, normal approximation, tie and continuity correction
(R ``wilcox.test(paired = TRUE, exact = FALSE)``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

MC_RESAMPLES = 100_000
MC_SEED = 20230
EXPECTED_MIN = 5.0

CHISQ = "Pearson's chi-square test"
FISHER = "Fisher's exact test"
FISHER_MC_STEM = "Fisher–Freeman–Halton exact test, Monte Carlo p-value"


def fisher_mc_name(n_resamples: int = MC_RESAMPLES, seed: int = MC_SEED) -> str:
    """The Monte Carlo test's name with the settings that produced its p-value."""
    return f"{FISHER_MC_STEM} ({n_resamples:,} resampled tables, seed {seed})"


FISHER_MC = fisher_mc_name()
WELCH = "Welch's t-test"
MANN_WHITNEY = "Mann–Whitney U test (normal approximation, tie and continuity correction)"
MCNEMAR = "Exact McNemar test (binomial)"
STUART_MAXWELL = "Stuart–Maxwell test"
WILCOXON = "Wilcoxon signed-rank test (zero differences dropped; normal approximation, tie and continuity correction)"
NOT_TESTED = "Not tested"


@dataclass(frozen=True)
class TestResult:
    """One test: statistic, degrees of freedom (where the test has them), two-sided p, name, reason."""

    statistic: float
    p: float
    test: str
    df: float = float("nan")
    n: int = 0
    note: str = ""


def _not_tested(reason: str, n: int = 0) -> TestResult:
    return TestResult(float("nan"), float("nan"), NOT_TESTED, n=n, note=reason)


def drop_empty(table: ArrayLike) -> np.ndarray:
    """The table without all-zero rows and columns (empty levels are excluded from tests)."""
    t = np.asarray(table, dtype=np.int64)
    return t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]


def expected_counts(table: ArrayLike) -> np.ndarray:
    """Expected cell counts under independence, from the margins."""
    t = np.asarray(table, dtype=float)
    return np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()


def chisq_test(table: ArrayLike) -> TestResult:
    """Pearson's chi-square test of independence without continuity correction."""
    t = np.asarray(table, dtype=float)
    e = expected_counts(t)
    stat = float(((t - e) ** 2 / e).sum())
    df = (t.shape[0] - 1) * (t.shape[1] - 1)
    return TestResult(stat, float(stats.chi2.sf(stat, df)), CHISQ, df=float(df), n=int(t.sum()))


def fisher_2x2(table: ArrayLike) -> TestResult:
    """Fisher's exact test for a 2 x 2 table (two-sided, as R's ``fisher.test``); statistic = sample odds ratio."""
    res = stats.fisher_exact(np.asarray(table, dtype=np.int64), alternative="two-sided")
    return TestResult(float(res.statistic), float(min(1.0, res.pvalue)), FISHER, n=int(np.sum(table)))


def _neg_sum_lfactorial(tables: np.ndarray, n: int) -> np.ndarray:
    """-sum(log(x!)) over each table's cells: the table's log-probability given its margins, up to a constant."""
    lfact = special.gammaln(np.arange(n + 1, dtype=float) + 1)
    return -lfact[np.asarray(tables, dtype=np.int64)].sum(axis=(-2, -1))


def random_tables(rows: ArrayLike, cols: ArrayLike, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` random r x c tables with the given margins (independence, fixed margins).

    Each row is a multivariate hypergeometric draw from what the earlier rows left, itself drawn
    colour by colour as univariate hypergeometrics, vectorised over the ``size`` replicates."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    remaining = np.broadcast_to(cols, (size, len(cols))).copy()
    out = np.empty((size, len(rows), len(cols)), dtype=np.int64)
    for i, r in enumerate(rows[:-1]):
        if i == 0:
            method = "count" if cols.sum() < 10_000 else "marginals"
            out[:, 0, :] = rng.multivariate_hypergeometric(cols, r, size=size, method=method)
            remaining -= out[:, 0, :]
            continue
        need = np.full(size, r, dtype=np.int64)
        pool = remaining.sum(axis=1)
        for j in range(len(cols) - 1):
            good = remaining[:, j]
            x = rng.hypergeometric(good, pool - good, need)
            out[:, i, j] = x
            need -= x
            pool -= good
        out[:, i, -1] = need
        remaining -= out[:, i, :]
    out[:, -1, :] = remaining
    return out


def fisher_monte_carlo(table: ArrayLike, *, n_resamples: int = MC_RESAMPLES, seed: int = MC_SEED) -> TestResult:
    """Fisher–Freeman–Halton test for an r x c table with a Monte Carlo p-value, as R's
    ``fisher.test(simulate.p.value = TRUE, B = n_resamples)``: p = (1 + #{P(sim) <= P(obs)}) / (B + 1),
    with tables drawn with the observed margins from a generator seeded with ``seed`` and R's
    relative tolerance (64 machine epsilons) for ties in probability.
    The statistic is the probability of the observed table given its margins."""
    t = np.asarray(table, dtype=np.int64)
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    rng = np.random.default_rng(seed)
    n_total = int(t.sum())
    obs = float(_neg_sum_lfactorial(t, n_total))
    if len(rows) == 2:
        lfact = special.gammaln(np.arange(n_total + 1, dtype=float) + 1)
        first = rng.multivariate_hypergeometric(cols, int(rows[0]), size=n_resamples,
                                                method="count" if n_total < 10_000 else "marginals")
        sim_stat = -(lfact[first].sum(axis=1) + lfact[cols - first].sum(axis=1))
    else:
        sim_stat = _neg_sum_lfactorial(random_tables(rows, cols, n_resamples, rng), n_total)
    almost_one = 1 + 64 * np.finfo(float).eps
    hits = int(np.count_nonzero(sim_stat <= obs / almost_one))
    p = (1 + hits) / (n_resamples + 1)
    n = rows.sum()
    log_prob = (obs + special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum() - special.gammaln(n + 1))
    return TestResult(float(np.exp(log_prob)), float(p), fisher_mc_name(n_resamples, seed), n=int(t.sum()))


def contingency_test(table: ArrayLike, *, n_resamples: int = MC_RESAMPLES, seed: int = MC_SEED) -> TestResult:
    """The test the rules choose for a groups x levels table of counts (empty rows/columns dropped first)."""
    t = drop_empty(table)
    n = int(t.sum())
    if t.shape[0] < 2 or t.shape[1] < 2:
        return _not_tested("fewer than two groups or levels observed", n)
    if (expected_counts(t) >= EXPECTED_MIN).all():
        return chisq_test(t)
    if t.shape == (2, 2):
        return fisher_2x2(t)
    return fisher_monte_carlo(t, n_resamples=n_resamples, seed=seed)


def _clean(x: ArrayLike) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    return a[~np.isnan(a)]


def welch_t(x: ArrayLike, y: ArrayLike) -> TestResult:
    """Welch's unequal-variance t-test (two-sided); missing values are dropped."""
    a, b = _clean(x), _clean(y)
    if len(a) < 2 or len(b) < 2:
        return _not_tested("fewer than two values in a group", len(a) + len(b))
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return _not_tested("no variation in either group", len(a) + len(b))
    res = stats.ttest_ind(a, b, equal_var=False)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return TestResult(float(res.statistic), float(res.pvalue), WELCH, df=float(df), n=len(a) + len(b))


def mann_whitney(x: ArrayLike, y: ArrayLike) -> TestResult:
    """Mann–Whitney U (two-sided) with normal approximation, tie and continuity correction.
    The statistic is U of the first sample (R's W)."""
    a, b = _clean(x), _clean(y)
    if len(a) == 0 or len(b) == 0:
        return _not_tested("a group has no values", len(a) + len(b))
    if np.unique(np.concatenate([a, b])).size < 2:
        return _not_tested("all values are equal", len(a) + len(b))
    res = stats.mannwhitneyu(a, b, use_continuity=True, alternative="two-sided", method="asymptotic")
    return TestResult(float(res.statistic), float(res.pvalue), MANN_WHITNEY, n=len(a) + len(b))


def smd_continuous(m1: float, s1: float, m2: float, s2: float) -> float:
    """|m1 - m2| / sqrt((s1^2 + s2^2) / 2); NaN when undefined, 0 when both SDs are 0 and the means agree."""
    pooled = np.sqrt((s1 ** 2 + s2 ** 2) / 2.0)
    if not np.isfinite(pooled):
        return float("nan")
    if pooled == 0:
        return 0.0 if m1 == m2 else float("nan")
    return float(abs(m1 - m2) / pooled)


def smd_categorical(counts1: ArrayLike, counts2: ArrayLike) -> float:
    """Yang & Dalton (2012) multi-level SMD from the level counts of two groups (non-missing values).

    sqrt((p1 - p2)' S^-1 (p1 - p2)) over the levels but one, S = (S1 + S2) / 2 with
    S_g = diag(p_g) - p_g p_g'. Levels empty in both groups are dropped first. For two levels this is
    |p1 - p2| / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2)."""
    c1, c2 = np.asarray(counts1, dtype=float), np.asarray(counts2, dtype=float)
    if c1.sum() == 0 or c2.sum() == 0:
        return float("nan")
    keep = (c1 + c2) > 0
    p1, p2 = c1[keep] / c1.sum(), c2[keep] / c2.sum()
    if len(p1) < 2:
        return 0.0
    d = (p1 - p2)[1:]
    q1, q2 = p1[1:], p2[1:]
    s = (np.diag(q1) - np.outer(q1, q1) + np.diag(q2) - np.outer(q2, q2)) / 2.0
    if not d.any():
        return 0.0
    val = float(d @ np.linalg.pinv(s) @ d)
    return float(np.sqrt(max(val, 0.0)))


def bh_qvalues(p: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN p-values stay NaN and are not counted."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(q, 1.0)
    out[ok] = res
    return out


def mcnemar_exact(before: ArrayLike, after: ArrayLike) -> TestResult:
    """Exact (binomial) McNemar test for a binary status observed twice on the same dyads.

    Only pairs with both values are used; the statistic is the number of 0 -> 1 changes, p is the
    two-sided binomial test of b against b + c discordant pairs with probability 1/2."""
    x, y = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    b = int(np.count_nonzero((x == 0) & (y == 1)))
    c = int(np.count_nonzero((x == 1) & (y == 0)))
    if b + c == 0:
        return TestResult(0.0, 1.0, MCNEMAR, n=int(ok.sum()), note="no discordant pairs")
    p = min(1.0, 2.0 * float(stats.binom.cdf(min(b, c), b + c, 0.5)))
    return TestResult(float(b), p, MCNEMAR, n=int(ok.sum()), note=f"{b} changed 0 to 1, {c} changed 1 to 0")


def stuart_maxwell(table: ArrayLike) -> TestResult:
    """Stuart–Maxwell test of marginal homogeneity of a square before x after table.

    Categories empty at both timepoints are dropped before anything else, so they do not count in the
    degrees of freedom. Where the covariance of the margin differences is singular (a category with no
    change in or out) the Moore–Penrose inverse is used and df is its rank."""
    t = np.asarray(table, dtype=float)
    keep = (t.sum(axis=0) + t.sum(axis=1)) > 0
    t = t[keep][:, keep]
    n = int(t.sum())
    if t.shape[0] < 2:
        return _not_tested("fewer than two categories observed", n)
    d = (t.sum(axis=1) - t.sum(axis=0))[:-1]
    v = -(t + t.T)
    np.fill_diagonal(v, t.sum(axis=1) + t.sum(axis=0) - 2 * np.diag(t))
    v = v[:-1, :-1]
    rank = int(np.linalg.matrix_rank(v))
    if rank == 0:
        return TestResult(0.0, 1.0, STUART_MAXWELL, df=0.0, n=n, note="no dyad changed category")
    stat = float(d @ np.linalg.pinv(v) @ d)
    return TestResult(stat, float(stats.chi2.sf(stat, rank)), STUART_MAXWELL, df=float(rank), n=n)


def wilcoxon_signed_rank(before: ArrayLike, after: ArrayLike) -> TestResult:
    """Wilcoxon signed-rank test of after - before, as R's ``wilcox.test(paired = TRUE, exact = FALSE)``.

    Pairs with a missing value are dropped; zero differences are dropped; the statistic is V, the sum
    of the ranks of the positive differences ``after - before`` (R's ``wilcox.test(after, before, paired
    = TRUE)``; R with the arguments the other way round gives m(m + 1)/2 - V and the same p); z uses the tie-corrected variance and a 0.5 continuity
    correction towards the mean."""
    x, y = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    d = (y - x)[ok]
    n_pairs = int(ok.sum())
    d = d[d != 0]
    m = len(d)
    if m == 0:
        return TestResult(0.0, 1.0, WILCOXON, n=n_pairs, note="all differences are zero")
    ranks = stats.rankdata(np.abs(d))
    v = float(ranks[d > 0].sum())
    _, ties = np.unique(np.abs(d), return_counts=True)
    sigma = np.sqrt(m * (m + 1) * (2 * m + 1) / 24.0 - (ties ** 3 - ties).sum() / 48.0)
    if sigma == 0:
        return _not_tested("no variation in the differences", n_pairs)
    z = v - m * (m + 1) / 4.0
    z = (z - np.sign(z) * 0.5) / sigma
    p = float(min(1.0, 2.0 * stats.norm.sf(abs(z))))
    return TestResult(v, p, WILCOXON, n=n_pairs, note=f"{n_pairs - m} zero differences dropped")
