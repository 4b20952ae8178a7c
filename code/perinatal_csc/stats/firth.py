"""Logistic regression that stays honest on small, sparse data.

Maximum likelihood (ML) and Firth's penalised likelihood, fitted by one Newton-Raphson routine
with step-halving; profile (penalised) likelihood confidence intervals and likelihood ratio tests,
as R's ``logistf`` computes them; a linear-programming check for complete and quasi-complete
separation (Konis 2007); and sandwich (robust, optionally clustered) variances.

Firth standard errors are taken from (X'WX)^-1 at the penalised estimate, as R's brglm2 and
logistf report them. The maintained ``firthmodels`` package gives the same estimates but its
standard errors come from the information matrix of the augmented data, which is larger than
X'WX (for the endometrial data its SE of NV is 1.465 against brglm2's 1.551), so it is not used
for inference here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

_ETA_MAX = 30.0


@dataclass(frozen=True)
class LogitFit:
    """A fitted logistic model: coefficients, model-based covariance (X'WX)^-1 and fit status."""

    coef: np.ndarray
    cov: np.ndarray
    loglik: float
    converged: bool
    n_iter: int
    firth: bool
    weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))


@dataclass(frozen=True)
class Separation:
    """Result of the separation check: whether it occurs, its kind, and the columns involved."""

    separated: bool
    complete: bool
    columns: tuple[int, ...]


def _prob(eta: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(eta, -_ETA_MAX, _ETA_MAX)))


def _quantities(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray, firth: bool):
    """Log-likelihood (penalised if Firth), score (modified if Firth), information X'WX."""
    eta = X @ beta
    p = _prob(eta)
    wv = w * p * (1 - p)
    info = (X * wv[:, None]).T @ X
    ll = float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))
    resid = w * (y - p)
    if firth:
        try:
            chol = np.linalg.cholesky(info)
        except np.linalg.LinAlgError:
            return -np.inf, None, info
        ll += float(np.sum(np.log(np.diag(chol))))
        z = np.linalg.solve(chol, X.T)
        h = wv * np.sum(z * z, axis=0)
        resid = resid + h * (0.5 - p)
    return ll, X.T @ resid, info


def fit_logit(X: np.ndarray, y: np.ndarray, *, firth: bool = False, weights: np.ndarray | None = None,
              fixed: dict[int, float] | None = None, start: np.ndarray | None = None,
              max_iter: int = 100, tol: float = 1e-9, max_step: float = 5.0) -> LogitFit:
    """Fit a logistic model by Newton-Raphson with step-halving; returns a :class:`LogitFit`.

    ``fixed`` holds coefficients at given values (used for profile likelihood and tests); the Firth
    penalty always uses the full design. ML fits that drift off to infinity (separation) come back
    with ``converged=False``, and so do fits where 30 step-halvings find no step that does not lower
    the (penalised) log-likelihood: the last accepted estimate is returned. A step that is already below
    ``tol`` is not halved: if it lowers the log-likelihood (rounding, in a large sample) and the score is
    below 1e-6, the current estimate is the optimum and the fit has converged.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    k = X.shape[1]
    beta = np.zeros(k) if start is None else np.array(start, dtype=float)
    free = np.ones(k, dtype=bool)
    for j, v in (fixed or {}).items():
        beta[j] = v
        free[j] = False
    ll, score, info = _quantities(X, y, w, beta, firth)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        if score is None:
            break
        try:
            step = np.linalg.solve(info[np.ix_(free, free)], score[free])
        except np.linalg.LinAlgError:
            break
        biggest = np.max(np.abs(step)) if step.size else 0.0
        if biggest > max_step:
            step *= max_step / biggest
        improved = False
        for _ in range(30):
            trial = beta.copy()
            trial[free] += step
            ll_new, score_new, info_new = _quantities(X, y, w, trial, firth)
            if ll_new >= ll - 1e-12:
                improved = True
                break
            if np.max(np.abs(step)) < tol:
                break       # a step below tolerance lowers a large sample's log-likelihood only by rounding
            step /= 2
        if not improved:
            converged = score is not None and np.max(np.abs(step), initial=0.0) < tol and \
                np.max(np.abs(score[free]), initial=0.0) < 1e-6
            break
        beta, ll, score, info = trial, ll_new, score_new, info_new
        if score is not None and np.max(np.abs(step), initial=0.0) < tol and \
                np.max(np.abs(score[free]), initial=0.0) < 1e-6:
            converged = True
            break
    if not firth and converged and np.max(np.abs(X @ beta)) >= _ETA_MAX - 1:
        converged = False
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    return LogitFit(coef=beta, cov=cov, loglik=ll, converged=converged, n_iter=it, firth=firth,
                    weights=None if weights is None else w)


def lr_test(X: np.ndarray, y: np.ndarray, fit: LogitFit, columns: list[int]) -> tuple[float, int, float]:
    """(Penalised) likelihood ratio test that the given coefficients are all zero: (chi-square, df, p).

    The constrained model is the full model with those coefficients held at zero; under Firth it keeps
    the full model's penalty (logistf's ``anova``, method "nested")."""
    constrained = fit_logit(X, y, firth=fit.firth, weights=fit.weights, fixed={j: 0.0 for j in columns},
                            start=fit.coef)
    stat = max(2.0 * (fit.loglik - constrained.loglik), 0.0)
    return stat, len(columns), float(stats.chi2.sf(stat, df=len(columns)))


def lr_pvalue(X: np.ndarray, y: np.ndarray, fit: LogitFit, columns: list[int]) -> float:
    """P-value of the (penalised) likelihood ratio test that the given coefficients are all zero."""
    return lr_test(X, y, fit, columns)[2]


def profile_ci(X: np.ndarray, y: np.ndarray, fit: LogitFit, j: int, level: float = 0.95) -> tuple[float, float]:
    """Profile (penalised) likelihood interval for coefficient ``j``, found by root-finding.

    Each bound is where twice the drop in the (penalised) log-likelihood, maximised over the
    other coefficients, equals the chi-squared(1) quantile. Returns (nan, nan) if a bound is unbounded.
    """
    crit = stats.chi2.ppf(level, 1)
    bhat = fit.coef[j]
    se = fit.se[j] if np.isfinite(fit.se[j]) and fit.se[j] > 0 else 1.0
    cache: dict[float, np.ndarray] = {}

    def drop(b: float) -> float:
        start = min(cache.items(), key=lambda kv: abs(kv[0] - b))[1] if cache else fit.coef
        g = fit_logit(X, y, firth=fit.firth, weights=fit.weights, fixed={j: b}, start=start)
        cache[b] = g.coef
        return 2.0 * (fit.loglik - g.loglik) - crit

    bounds = []
    for sign in (-1.0, 1.0):
        inner, outer = bhat, bhat + sign * 2.0 * se
        f_out = drop(outer)
        tries = 0
        while f_out < 0 and tries < 12:
            inner, outer = outer, bhat + 2.0 * (outer - bhat)
            f_out = drop(outer)
            tries += 1
        if f_out < 0:
            bounds.append(np.nan)
            continue
        lo, hi = sorted((inner, outer))
        bounds.append(optimize.brentq(drop, lo, hi, xtol=1e-7))
    return bounds[0], bounds[1]


def detect_separation(X: np.ndarray, y: np.ndarray, tol: float = 1e-7, weights: np.ndarray | None = None) -> Separation:
    """Check for complete or quasi-complete separation by linear programming (Konis 2007).

    Separation exists if some direction b makes (2y-1) x_i'b >= 0 for every dyad and > 0 for at
    least one: along it the ML likelihood keeps rising and estimates run off to infinity.
    ``columns`` are the design columns (0 = intercept) along which estimates diverge. With
    ``weights`` (frequency weights of distinct rows) the objective counts each row that many times:
    the same linear programme as on the uncollapsed rows.
    """
    X = np.asarray(X, dtype=float)
    s = np.where(np.asarray(y) > 0.5, 1.0, -1.0)
    A = X * s[:, None]
    k = X.shape[1]
    objective = -A.sum(axis=0) if weights is None else -(A * np.asarray(weights, dtype=float)[:, None]).sum(axis=0)
    total = np.abs(A).sum() if weights is None else (np.abs(A) * np.asarray(weights, dtype=float)[:, None]).sum()
    res = optimize.linprog(objective, A_ub=-A, b_ub=np.zeros(len(s)), bounds=[(-1, 1)] * k,
                           method="highs")
    if res.status != 0 or -res.fun <= tol * max(1.0, total):
        return Separation(False, False, ())
    direction = res.x
    columns = tuple(int(i) for i in np.flatnonzero(np.abs(direction) > 1e-6))
    # complete separation: a direction with a strictly positive margin for every dyad
    c = np.zeros(k + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-A, np.ones((len(s), 1))])
    res2 = optimize.linprog(c, A_ub=A_ub, b_ub=np.zeros(len(s)), bounds=[(-1, 1)] * k + [(0, 1)], method="highs")
    complete = res2.status == 0 and -res2.fun > 1e-7
    return Separation(True, bool(complete), columns)


def sandwich_cov(X: np.ndarray, y: np.ndarray, fit: LogitFit, groups: np.ndarray | None = None) -> np.ndarray:
    """Robust (sandwich) covariance A^-1 B A^-1 of a (weighted) fit: HC0, or clustered by ``groups``.

    A is X'WX; B sums outer products of per-dyad score contributions w_i (y_i - p_i) x_i (plus the
    Firth adjustment h_i (1/2 - p_i) x_i for a penalised fit), per cluster when ``groups`` is given.
    Clustered variances carry the small-sample factor G/(G-1) * (N-1)/(N-K), as Stata and
    statsmodels apply.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if fit.weights is None else fit.weights
    p = _prob(X @ fit.coef)
    wv = w * p * (1 - p)
    info = (X * wv[:, None]).T @ X
    bread = np.linalg.inv(info)
    r = w * (y - p)
    if fit.firth:
        h = wv * np.einsum("ij,jk,ik->i", X, bread, X)
        r = r + h * (0.5 - p)
    u = X * r[:, None]
    if groups is None:
        meat = u.T @ u
    else:
        codes, uniq = np.unique(np.asarray(groups), return_inverse=True)
        G = len(codes)
        sums = np.zeros((G, X.shape[1]))
        np.add.at(sums, uniq, u)
        n, k = X.shape
        meat = sums.T @ sums * (G / (G - 1)) * ((n - 1) / (n - k))
    return bread @ meat @ bread
