"""Model diagnostics: discrimination (C-statistic, DeLong CI), calibration (Hosmer-Lemeshow), collinearity (GVIF)."""
from __future__ import annotations

import numpy as np
from scipy import stats


def delong(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """C-statistic (area under the ROC curve, ties count one half) and its DeLong (1988) standard error.

    The structural components come from midranks (Sun and Xu 2014): for an event, the number of
    non-events ranked below it (ties one half) is its midrank among all dyads minus its midrank among
    the events, and likewise for a non-event. The cost is that of sorting, O(n log n), with no
    events x non-events matrix. The SE is NaN with fewer than two events or non-events (and both are
    NaN when either group is empty).
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        return float("nan"), float("nan")
    overall = stats.rankdata(p)
    v10 = (overall[y] - stats.rankdata(p[y])) / n
    v01 = 1.0 - (overall[~y] - stats.rankdata(p[~y])) / m
    if m < 2 or n < 2:
        return float(v10.mean()), float("nan")
    var = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    return float(v10.mean()), float(np.sqrt(var))


def c_statistic(y: np.ndarray, p: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """C-statistic with DeLong's confidence interval (see :func:`delong`), clipped to [0, 1].

    Returns (c, ci_low, ci_high); the bounds are NaN where the SE is.
    """
    c, se = delong(y, p)
    if not np.isfinite(se):
        return c, float("nan"), float("nan")
    z = stats.norm.ppf(0.5 + level / 2)
    return c, max(0.0, c - z * se), min(1.0, c + z * se)


def hosmer_lemeshow(y: np.ndarray, p: np.ndarray, groups: int = 10) -> tuple[float, int, float]:
    """Hosmer-Lemeshow statistic over groups cut at quantiles of the predicted risk.

    Breaks are the 0, 1/g, ..., 1 quantiles of ``p`` (linear interpolation, R's type 7); groups are the
    intervals (b_i-1, b_i], the lowest value included in the first. With tied predictions some breaks
    coincide: duplicates are merged, so there may be fewer than ``groups`` groups, and df = (number of
    non-empty groups) - 2. (R's ResourceSelection::hoslem.test cuts at the same quantiles but stops with
    an error on duplicate breaks, and always uses df = g - 2.) Returns (chi2, df, p).
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    g = np.clip(np.searchsorted(breaks, p, side="left") - 1, 0, len(breaks) - 2)
    k = len(breaks) - 1
    obs1 = np.bincount(g, weights=y, minlength=k)
    exp1 = np.bincount(g, weights=p, minlength=k)
    n = np.bincount(g, minlength=k).astype(float)
    obs0, exp0 = n - obs1, n - exp1
    keep = n > 0
    chi2 = float(np.sum((obs1 - exp1)[keep] ** 2 / exp1[keep] + (obs0 - exp0)[keep] ** 2 / exp0[keep]))
    df = int(keep.sum()) - 2
    return chi2, df, float(stats.chi2.sf(chi2, df))


def gvif(cov: np.ndarray, terms: list[list[int]]) -> list[float]:
    """GVIF^(1/(2 df)) per term from the coefficients' covariance (as R's car::vif).

    ``cov`` excludes the intercept; ``terms`` lists each term's column indices.
    """
    sd = np.sqrt(np.diag(cov))
    R = cov / np.outer(sd, sd)
    det_all = np.linalg.det(R)
    out = []
    for cols in terms:
        rest = [j for j in range(len(R)) if j not in cols]
        g = np.linalg.det(R[np.ix_(cols, cols)]) * (np.linalg.det(R[np.ix_(rest, rest)]) if rest else 1.0) / det_all
        out.append(float(g ** (1 / (2 * len(cols)))))
    return out
