"""Multiple imputation by chained equations (MICE) and Rubin's rules.

Each incomplete variable is imputed from all the others with a model for its type: binary and
categorical variables by (multinomial) logistic regression with parameters drawn from their
approximate posterior, so categories stay categories; numeric variables by predictive mean
matching (5 donors), so imputed values are values that were observed. Chains are seeded and
short (the plan sets the number of iterations), and written in numpy so that 20 imputations of
a few hundred dyads take a second or two.

For very large cohorts (``one_step``, chosen by the analysis plan's ``large_n.mi_one_step_min_dyads``)
two things change: every model's categorical predictors are read from one mixed-radix key per dyad that
is kept up to date as values are imputed (instead of a design rebuilt from every column for every
model), and after the first round of each chain a model takes one Newton step from its estimates of
the round before instead of iterating to convergence. In a large cohort the estimates move by a tiny
fraction of their standard error between rounds, so one step lands where iterating would (the error is
of the order of the squared change); the parameter draw uses the information matrix of that step. A
chain's first round is still iterated to convergence, starting from the estimates of a pilot round (the
same maximum, reached in fewer steps). Each chain has its own random stream (``SeedSequence(seed)``'s
children), so the chains are independent and run in parallel worker processes with the same results for
any number of workers.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from ..data.codebook import Codebook
from ..errors import UserError

_RIDGE = 1e-3
_DONORS = 5


@dataclass
class _Column:
    name: str
    kind: str                  # "cat" (binary or categorical) or "num"
    codes: list                # category codes, in order (cat only)
    values: np.ndarray         # current values: category index (cat) or number (num)
    missing: np.ndarray        # bool mask of originally missing values

    def block(self) -> np.ndarray:
        """Predictor columns for the other models: indicators of all but the first category, or the standardised value."""
        if self.kind == "cat":
            return (self.values[:, None] == np.arange(1, len(self.codes))[None, :]).astype(float)
        sd = self.values.std()
        return ((self.values - self.values.mean()) / (sd if sd > 0 else 1.0))[:, None]


class Design:
    """The predictors of one imputation model without the n x p matrix: an intercept, then each other
    column's block (indicators of all but the first category, or the standardised value), in column order.

    Rows are held as the index ``g`` of their pattern of categorical values (with ``patterns``, the
    intercept-and-indicator columns of each distinct pattern) plus the numeric columns ``Z``. Then
    X b, X'v and X'WX cost a few passes over the rows (gathers and bincounts) instead of O(n p^2): the
    same matrices, summed in a different order.
    """

    def __init__(self, g: np.ndarray, patterns: np.ndarray, Z: np.ndarray, cat_pos: np.ndarray,
                 num_pos: np.ndarray, p: int, sparse: bool = False) -> None:
        self.g, self.patterns, self.Z = g, patterns, Z
        self.cat_pos, self.num_pos, self.p = cat_pos, num_pos, p
        self.sparse = sparse       # many patterns hold no row: sum over the occupied ones only

    @classmethod
    def build(cls, cols: list["_Column"], blocks: list[np.ndarray], target: int) -> "Design":
        n = len(cols[target].values)
        key = np.zeros(n, dtype=np.int64)
        radix = 1
        cats, cat_cols, nums, cat_pos, num_pos = [], [], [], [0], []
        pos = 1
        for j, c in enumerate(cols):
            if j == target:
                continue
            if c.kind == "cat":
                K = len(c.codes)
                if radix * K > 2**62:            # keep the mixed-radix key in range: renumber the patterns so far
                    uniq, key = np.unique(key, return_inverse=True)
                    radix = len(uniq)
                key = key * K + c.values
                radix *= K
                cats.append(K)
                cat_cols.append(c)
                cat_pos += range(pos, pos + K - 1)
                pos += K - 1
            else:
                nums.append(blocks[j][:, 0])
                num_pos.append(pos)
                pos += 1
        if radix <= 4 * n + 1024:
            present = np.bincount(key, minlength=radix) > 0
            g = (np.cumsum(present) - 1)[key]
            n_patterns = int(present.sum())
        else:
            uniq, g = np.unique(key, return_inverse=True)
            n_patterns = len(uniq)
        example = np.empty(n_patterns, dtype=np.int64)
        example[g] = np.arange(n)                # a row of each pattern (any: they share their categories)
        patterns = np.zeros((n_patterns, len(cat_pos)))
        patterns[:, 0] = 1.0
        col = 1
        for c, K in zip(cat_cols, cats):
            patterns[:, col:col + K - 1] = c.values[example][:, None] == np.arange(1, K)[None, :]
            col += K - 1
        Z = np.column_stack(nums) if nums else np.zeros((n, 0))
        return cls(g, patterns, Z, np.array(cat_pos), np.array(num_pos, dtype=int), pos)

    def rows(self, mask: np.ndarray) -> "Design":
        return Design(self.g[mask], self.patterns, self.Z[mask], self.cat_pos, self.num_pos, self.p, self.sparse)

    def __len__(self) -> int:
        return len(self.g)

    def matrix(self) -> np.ndarray:
        """The explicit n x p design (for checks)."""
        X = np.zeros((len(self), self.p))
        X[:, self.cat_pos] = self.patterns[self.g]
        X[:, self.num_pos] = self.Z
        return X

    def dot(self, beta: np.ndarray) -> np.ndarray:
        """X @ beta for beta of shape (p,) or (p, m)."""
        b = np.asarray(beta, dtype=float)
        if self.sparse:            # vector operations, column by column: a product with a one-column matrix is slow
            if b.ndim == 2:
                cols = np.empty((len(self), b.shape[1]), order="F")
                for a in range(b.shape[1]):
                    cols[:, a] = self.dot(b[:, a])
                return cols
            out = (self.patterns @ b[self.cat_pos])[self.g]
            for k, j in enumerate(self.num_pos):
                out += self.Z[:, k] * b[j]
            return out
        return (self.patterns @ b[self.cat_pos])[self.g] + self.Z @ b[self.num_pos]

    def tdot(self, v: np.ndarray) -> np.ndarray:
        """X' v for v of shape (n,) or (n, m)."""
        v = np.asarray(v, dtype=float)
        flat = v.ndim == 1
        v2 = v[:, None] if flat else v
        G = len(self.patterns)
        sums = np.column_stack([np.bincount(self.g, weights=v2[:, a], minlength=G) for a in range(v2.shape[1])])
        out = np.zeros((self.p, v2.shape[1]))
        out[self.cat_pos] = self.patterns.T @ sums
        out[self.num_pos] = self.Z.T @ v2
        return out[:, 0] if flat else out

    def gram(self, w: np.ndarray | None = None) -> np.ndarray:
        """X' diag(w) X (w = 1 if None)."""
        G = len(self.patterns)
        w = np.ones(len(self)) if w is None else np.asarray(w, dtype=float)
        s0 = np.bincount(self.g, weights=w, minlength=G)
        patterns = self.patterns
        if self.sparse:
            used = np.flatnonzero(s0)
            patterns, s0 = patterns[used], s0[used]
        out = np.zeros((self.p, self.p))
        out[np.ix_(self.cat_pos, self.cat_pos)] = (patterns * s0[:, None]).T @ patterns
        if len(self.num_pos):
            if self.sparse:
                wz = np.empty(self.Z.shape, order="F")
                for a in range(self.Z.shape[1]):
                    np.multiply(self.Z[:, a], w, out=wz[:, a])
            else:
                wz = self.Z * w[:, None]
            s1 = np.column_stack([np.bincount(self.g, weights=wz[:, a], minlength=G) for a in range(wz.shape[1])])
            cross = patterns.T @ (s1[used] if self.sparse else s1)
            out[np.ix_(self.cat_pos, self.num_pos)] = cross
            out[np.ix_(self.num_pos, self.cat_pos)] = cross.T
            out[np.ix_(self.num_pos, self.num_pos)] = self.Z.T @ wz
        return out


def _softmax_probs(X: Design, beta: np.ndarray) -> np.ndarray:
    """Category probabilities (n, K), the first category the reference; computed column by column
    (reductions across a handful of columns are slow in numpy at a million rows)."""
    eta = X.dot(beta)
    if eta.shape[1] == 1:
        e = np.empty((len(eta), 2))
        e[:, 1] = special.expit(eta[:, 0])
        e[:, 0] = 1.0 - e[:, 1]
        return e
    top = np.zeros(len(eta))
    for a in range(eta.shape[1]):
        np.maximum(top, eta[:, a], out=top)
    e = np.empty((len(eta), eta.shape[1] + 1), order="F" if X.sparse else "C")
    e[:, 0] = np.exp(-top)
    total = e[:, 0].copy()
    for a in range(eta.shape[1]):
        e[:, a + 1] = np.exp(eta[:, a] - top)
        total += e[:, a + 1]
    return e / total[:, None]


def _fit_multinomial(X: Design, y: np.ndarray, K: int, start: np.ndarray | None,
                     max_iter: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Ridge-stabilised multinomial logit by Newton's method: coefficients (p, K-1) and their covariance."""
    n, p = len(X), X.p
    q = p * (K - 1)
    beta = np.zeros((p, K - 1)) if start is None else start.copy()
    Y = (y[:, None] == np.arange(1, K)[None, :]).astype(float, order="F" if X.sparse else "K")
    penalty = np.full(q, _RIDGE * n)
    penalty[::p] = 0.0
    for _ in range(max_iter):
        P = _softmax_probs(X, beta)[:, 1:]
        grad = X.tdot(Y - P).T.reshape(q) - penalty * beta.T.reshape(q)
        H = np.empty((q, q))
        for a in range(K - 1):
            for b in range(a, K - 1):
                wts = P[:, a] * ((a == b) - P[:, b])
                blk = X.gram(wts)
                H[a * p:(a + 1) * p, b * p:(b + 1) * p] = blk
                H[b * p:(b + 1) * p, a * p:(a + 1) * p] = blk
        H[np.diag_indices(q)] += penalty
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:  # a category absent among the observed rows: its intercept is not identified
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        beta = beta + step.reshape(K - 1, p).T
        if np.max(np.abs(step)) < 1e-6:
            break
    try:
        return beta, np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return beta, np.linalg.pinv(H)


def _fit_binary(X: Design, y: np.ndarray, start: np.ndarray | None,
                max_iter: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_fit_multinomial` for two categories, with the probabilities as one vector (fewer passes over
    a large cohort's rows): coefficients (p, 1) and their covariance."""
    n, p = len(X), X.p
    beta = np.zeros(p) if start is None else start[:, 0].copy()
    yf = y if y.dtype == float else y.astype(float)
    penalty = np.full(p, _RIDGE * n)
    penalty[0] = 0.0
    for _ in range(max_iter):
        prob = special.expit(X.dot(beta))
        grad = X.tdot(yf - prob) - penalty * beta
        w = np.subtract(1.0, prob)
        w *= prob
        H = X.gram(w)
        H[np.diag_indices(p)] += penalty
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-6:
            break
    try:
        return beta[:, None], np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return beta[:, None], np.linalg.pinv(H)


def _draw_cat(X: Design, col: _Column, state: dict, rng: np.random.Generator, max_iter: int = 25,
              split: tuple[Design, Design, np.ndarray] | None = None) -> np.ndarray:
    """Imputed categories of the column's missing rows. ``split``: the observed rows' and the missing
    rows' designs and the observed values, when the caller has them (large cohorts)."""
    K = len(col.codes)
    if split is None:
        obs = ~col.missing
        beta, cov = _fit_multinomial(X.rows(obs), col.values[obs], K, state.get(col.name), max_iter=max_iter)
        X_mis = X.rows(col.missing)
    else:
        X_obs, X_mis, y_obs = split
        beta, cov = (_fit_binary(X_obs, y_obs, state.get(col.name), max_iter=max_iter) if K == 2
                     else _fit_multinomial(X_obs, y_obs, K, state.get(col.name), max_iter=max_iter))
    state[col.name] = beta
    p = beta.shape[0]
    try:
        chol = np.linalg.cholesky((cov + cov.T) / 2)
    except np.linalg.LinAlgError:
        chol = np.diag(np.sqrt(np.clip(np.diag(cov), 0, None)))
    draw = beta + (chol @ rng.standard_normal(p * (K - 1))).reshape(K - 1, p).T
    probs = _softmax_probs(X_mis, draw)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > np.cumsum(probs, axis=1)).sum(axis=1), K - 1)


def nearest_donors(pred_obs: np.ndarray, pred_mis: np.ndarray, k: int) -> np.ndarray:
    """Indices into ``pred_obs`` of the ``k`` values nearest each of ``pred_mis`` (missing x k), nearest first.

    Sorting and searching, not a missing x observed distance matrix: the k nearest values of a sorted
    array lie within k places either side of where the query would be inserted, so only that window of
    2k candidates is compared. Cost O((n_obs + n_mis) log n_obs + n_mis k). Ties in distance go to the
    smaller predicted value, then to the earlier observed row.
    """
    order = np.argsort(pred_obs, kind="stable")
    ranked = pred_obs[order]
    n = len(ranked)
    width = min(2 * k, n)
    start = np.clip(np.searchsorted(ranked, pred_mis) - k, 0, n - width)
    window = start[:, None] + np.arange(width)[None, :]
    dist = np.abs(ranked[window] - pred_mis[:, None])
    best = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return order[np.take_along_axis(window, best, axis=1)]


def _draw_pmm(X: Design, col: _Column, rng: np.random.Generator,
              split: tuple[Design, Design, np.ndarray] | None = None) -> np.ndarray:
    if split is None:
        obs = ~col.missing
        Xo, yo, X_mis = X.rows(obs), col.values[obs], X.rows(col.missing)
    else:
        Xo, X_mis, yo = split
    XtX = Xo.gram() + _RIDGE * np.eye(X.p)
    XtX_inv = np.linalg.inv(XtX)
    bhat = XtX_inv @ Xo.tdot(yo)
    pred_obs = Xo.dot(bhat)
    resid = yo - pred_obs
    dof = max(len(yo) - X.p, 1)
    sigma2 = resid @ resid / rng.chisquare(dof)
    bstar = bhat + np.linalg.cholesky(sigma2 * (XtX_inv + XtX_inv.T) / 2) @ rng.standard_normal(X.p)
    pred_mis = X_mis.dot(bstar)
    k = min(_DONORS, len(yo))
    nearest = nearest_donors(pred_obs, pred_mis, k)
    pick = nearest[np.arange(len(pred_mis)), rng.integers(0, k, len(pred_mis))]
    return yo[pick]


_MAX_KEYS = 2**20


class _Keys:
    """The categorical columns' values as one mixed-radix key per dyad, updated in place as a column is
    imputed (only its missing rows change), and each model's indicator rows for every possible key.

    Used for large cohorts: a model's design is then the key (as the pattern index ``g``) and the numeric
    columns, with no pass over the other columns; None from :meth:`make` when the keys would be too many.
    """

    def __init__(self, cols: list[_Column], radix: dict[int, int], total: int) -> None:
        self.radix, self.total = radix, total
        self.key = np.zeros(len(cols[0].values), dtype=np.int64)
        for j, r in radix.items():
            self.key += cols[j].values.astype(np.int64) * r
        self._patterns: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}
        self._rows = {j: (np.flatnonzero(~c.missing), np.flatnonzero(c.missing)) for j, c in enumerate(cols)}
        self._observed = {j: c.values[self._rows[j][0]].astype(float) for j, c in enumerate(cols)}   # never imputed
        self._numeric: dict[int, tuple[np.ndarray, np.ndarray]] = {}     # per target: numeric columns, obs / mis

    @classmethod
    def make(cls, cols: list[_Column]) -> "_Keys | None":
        radix, total = {}, 1
        for j, c in enumerate(cols):
            if c.kind == "cat":
                radix[j] = total
                total *= len(c.codes)
                if total > _MAX_KEYS:
                    return None
        return cls(cols, radix, total)

    def update(self, j: int, old: np.ndarray, new: np.ndarray) -> None:
        """Column ``j``'s missing rows changed from ``old`` to ``new``."""
        if j in self.radix:
            self.key[self._rows[j][1]] += (new.astype(np.int64) - old) * self.radix[j]
        else:
            self._numeric.clear()

    def split(self, cols: list[_Column], blocks: list[np.ndarray], target: int
              ) -> tuple[Design, Design, np.ndarray]:
        """The designs of the target's observed and missing rows, and its observed values."""
        obs, mis = self._rows[target]
        if target not in self._numeric:
            Z = self.design(cols, blocks, target).Z
            self._numeric[target] = (np.asfortranarray(Z[obs]), np.asfortranarray(Z[mis]))
        patterns, cat_pos, num_pos, p = self._patterns[target]
        Z_obs, Z_mis = self._numeric[target]
        g_obs, g_mis = self.key[obs], self.key[mis]
        if 8 * self.total > len(self.key):       # possible patterns not few beside the dyads: keep the occupied ones
            used = np.flatnonzero(np.bincount(self.key, minlength=self.total))
            lookup = np.zeros(self.total, dtype=np.int64)
            lookup[used] = np.arange(len(used))
            patterns, g_obs, g_mis = patterns[used], lookup[g_obs], lookup[g_mis]
        return (Design(g_obs, patterns, Z_obs, cat_pos, num_pos, p, sparse=True),
                Design(g_mis, patterns, Z_mis, cat_pos, num_pos, p, sparse=True),
                self._observed[target])

    def design(self, cols: list[_Column], blocks: list[np.ndarray], target: int) -> Design:
        """The design of column ``target``'s model (the same matrix as :meth:`Design.build`)."""
        if target not in self._patterns:
            keys = np.arange(self.total)
            parts, cat_pos, num_pos, pos = [np.ones((self.total, 1))], [0], [], 1
            for j, c in enumerate(cols):
                if j == target:
                    continue
                if c.kind == "cat":
                    K = len(c.codes)
                    digit = (keys // self.radix[j]) % K
                    parts.append((digit[:, None] == np.arange(1, K)[None, :]).astype(float))
                    cat_pos += range(pos, pos + K - 1)
                    pos += K - 1
                else:
                    num_pos.append(pos)
                    pos += 1
            self._patterns[target] = (np.hstack(parts), np.array(cat_pos), np.array(num_pos, dtype=int), pos)
        patterns, cat_pos, num_pos, p = self._patterns[target]
        nums = [blocks[j][:, 0] for j, c in enumerate(cols) if j != target and c.kind == "num"]
        Z = np.column_stack(nums) if nums else np.zeros((len(self.key), 0))
        return Design(self.key, patterns, Z, cat_pos, num_pos, p, sparse=True)


def _positions(s: pd.Series, codes: list) -> np.ndarray:
    """Each value's position in ``codes`` (-1 where missing or not listed)."""
    if isinstance(s.dtype, pd.CategoricalDtype):     # through the categories: no object array of n values
        where = pd.Index(codes, dtype=object).get_indexer(pd.Index(list(s.cat.categories), dtype=object))
        cat = s.cat.codes.to_numpy()
        return np.where(cat >= 0, np.append(where, -1)[cat], -1).astype(int)
    codes_of, uniq = pd.factorize(s, use_na_sentinel=True)
    if len(uniq) < len(s):
        where = pd.Index(codes, dtype=object).get_indexer(pd.Index(list(uniq), dtype=object))
        return np.where(codes_of >= 0, np.append(where, -1)[codes_of], -1).astype(int)
    found = pd.Index(codes, dtype=object).get_indexer(pd.Index(s.astype(object).to_numpy(), dtype=object))
    return found.astype(int)


def _columns(data: pd.DataFrame, columns: list[str], codebook: Codebook) -> list[_Column]:
    base: list[_Column] = []
    for name in columns:
        var = codebook[name]
        s = data[name]
        miss = s.isna().to_numpy()
        if var.type in ("binary", "categorical"):
            codes = [c for c in var.codes if (s == c).any()] if var.type == "categorical" else list(var.codes)
            base.append(_Column(name, "cat", codes, _positions(s, codes), miss))
        else:
            base.append(_Column(name, "num", [], s.to_numpy(dtype=float, na_value=np.nan), miss))
    return base


def _chain(base: list[_Column], rng: np.random.Generator, iterations: int, one_step: bool, start: dict,
           first_round: dict | None = None, rounds: int | None = None) -> list[_Column]:
    """One chain: random starting values, then ``iterations`` rounds over the incomplete columns.

    ``start``: estimates each model's first fit starts from. ``first_round``, if given, receives each model's
    first-round estimates. ``rounds`` stops the chain early (the pilot of :func:`_independent_chains`).
    """
    cols = [_Column(c.name, c.kind, c.codes, c.values.copy(), c.missing) for c in base]
    for c in cols:
        if c.missing.any():
            c.values[c.missing] = rng.choice(c.values[~c.missing], size=int(c.missing.sum()))
    blocks = [c.block() for c in cols]
    state: dict = dict(start)
    targets = [i for i, c in enumerate(cols) if c.missing.any()]
    keys = _Keys.make(cols) if one_step else None
    for it in range((iterations if rounds is None else min(rounds, iterations)) if targets else 0):
        for i in targets:
            c = cols[i]
            steps = 1 if one_step and it > 0 else 25
            if keys is None:
                X = Design.build(cols, blocks, i)
                new = _draw_cat(X, c, state, rng, steps) if c.kind == "cat" else _draw_pmm(X, c, rng)
            else:
                split = keys.split(cols, blocks, i)
                new = (_draw_cat(split[0], c, state, rng, steps, split) if c.kind == "cat"
                       else _draw_pmm(split[0], c, rng, split))
                keys.update(i, c.values[c.missing], new)
            c.values[c.missing] = new
            if c.kind == "num" or keys is None:
                blocks[i] = c.block()
            if first_round is not None and it == 0 and c.name in state:
                first_round[c.name] = state[c.name]
    return cols


def run_chains(base: list[_Column], iterations: int, one_step: bool, start: dict, streams: list, chains: list[int]
               ) -> list[list[np.ndarray]]:
    """The imputed values (each column's missing rows) of the independent chains listed, by stream index."""
    out = []
    for k in chains:
        cols = _chain(base, np.random.default_rng(streams[k]), iterations, one_step, start)
        out.append([c.values[c.missing] for c in cols])
    return out


def _in_processes(job: tuple, chains: list[int], workers: int) -> list[list[np.ndarray]]:
    """:func:`run_chains` split over ``workers`` Python processes (``python -m perinatal_csc.stats.chains``).

    Plain subprocesses rather than :mod:`multiprocessing`: nothing re-imports the caller's script (a script
    without a main guard works) and nothing forks a process that has threads (a Jupyter kernel). Each
    process gets its share of the cores for its BLAS library.
    """
    share = [chains[w::workers] for w in range(workers)]
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(max(1, _cores() // workers))
    with tempfile.TemporaryDirectory(prefix="perinatal-csc-mi-") as tmp:
        job_path = Path(tmp) / "job.pickle"
        with open(job_path, "wb") as fh:
            pickle.dump(job, fh, protocol=pickle.HIGHEST_PROTOCOL)
        procs = []
        for w, mine in enumerate(share):
            out_path, err_path = Path(tmp) / f"out-{w}.pickle", Path(tmp) / f"err-{w}.txt"
            cmd = [sys.executable, "-m", "perinatal_csc.stats.chains", str(job_path), str(out_path),
                   ",".join(map(str, mine))]
            with open(err_path, "wb") as err:
                procs.append((subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err),
                              out_path, err_path, mine))
        results: dict[int, list[np.ndarray]] = {}
        failed = []
        for proc, out_path, err_path, mine in procs:
            if proc.wait() != 0:
                failed.append(err_path.read_text(errors="replace")[-2000:])
                continue
            with open(out_path, "rb") as fh:
                results.update(zip(mine, pickle.load(fh)))
        if failed:
            raise RuntimeError("an imputation process failed:\n" + failed[0])
    return [results[k] for k in chains]


def workers_available() -> int:
    """Processes the large-cohort imputation may use: ``PERINATAL_CSC_WORKERS`` if set (e.g. a shared secure
    environment's allowance), else the cores this process may run on."""
    env = os.environ.get("PERINATAL_CSC_WORKERS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise UserError(f"PERINATAL_CSC_WORKERS must be a whole number of at least 1, not {env!r}")
        return int(env)
    return _cores()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _independent_chains(base: list[_Column], m: int, iterations: int, seed: int, workers: int, one_step: bool
                        ) -> list[list[_Column]]:
    """Chains with a random stream each, run in ``workers`` processes (the large-cohort imputation).

    Stream 0 drives a pilot: the first round of a chain iterated to convergence from nothing, whose estimates
    every chain's first round starts from. Chain k uses stream k. No chain depends on another, so the
    imputations are the same whatever the number of processes.
    """
    streams = np.random.SeedSequence(seed).spawn(m + 1)
    start: dict = {}
    _chain(base, np.random.default_rng(streams[0]), iterations, one_step, {}, first_round=start, rounds=1)
    job = (base, iterations, one_step, start, streams)
    chains = list(range(1, m + 1))
    workers = min(workers, m)
    imputed = run_chains(*job, chains) if workers <= 1 else _in_processes(job, chains, workers)
    out = []
    for values in imputed:
        cols = [_Column(c.name, c.kind, c.codes, c.values.copy(), c.missing) for c in base]
        for c, v in zip(cols, values):
            c.values[c.missing] = v
        out.append(cols)
    return out


def mice(data: pd.DataFrame, columns: list[str], codebook: Codebook, *, m: int = 20, iterations: int = 10,
         seed: int = 0, one_step: bool = False, independent: bool | None = None,
         workers: int | None = None) -> list[pd.DataFrame]:
    """``m`` completed copies of ``data[columns]`` (all rows), imputed by chained equations.

    Binary and categorical codebook variables are imputed as categories (multinomial logistic model);
    integer and continuous ones by predictive mean matching. Every other listed column, outcomes
    included, predicts each incomplete one. Returned frames keep the codebook dtypes. ``one_step``:
    the large-cohort variant (module docstring), whose chains are ``independent`` (unless told otherwise):
    a random stream each, run in ``workers`` processes (default :func:`workers_available`) with the same
    results for any number. Otherwise the chains run one after another from one stream.
    """
    base = _columns(data, columns, codebook)
    if one_step if independent is None else independent:
        chains = _independent_chains(base, m, iterations, seed,
                                     workers_available() if workers is None else workers, one_step)
    else:
        rng = np.random.default_rng(seed)
        chains = [_chain(base, rng, iterations, False, {}) for _ in range(m)]
    return [_frame(data, cols, codebook) for cols in chains]


def _frame(data: pd.DataFrame, cols: list[_Column], codebook: Codebook) -> pd.DataFrame:
    frame = pd.DataFrame(index=data.index)
    for c in cols:
        if c.kind == "cat" and codebook[c.name].type == "categorical":
            dtype = data[c.name].dtype
            where = dtype.categories.get_indexer(pd.Index(c.codes, dtype=dtype.categories.dtype))
            frame[c.name] = pd.Series(pd.Categorical.from_codes(where[c.values], dtype=dtype), index=data.index)
        elif c.kind == "cat":
            frame[c.name] = pd.array(np.asarray(c.codes, dtype=int)[c.values], dtype="Int64")
        else:
            frame[c.name] = pd.Series(c.values, index=data.index).astype(data[c.name].dtype)
    return frame


def rubin(estimates: np.ndarray, variances: np.ndarray, df_complete: float, level: float = 0.95) -> pd.DataFrame:
    """Pool m estimates by Rubin's rules, with Barnard-Rubin (1999) degrees of freedom.

    Returns per parameter: estimate, se, df, ci_low, ci_high, p (t reference); ``lambda`` =
    (1 + 1/m) B / T, the proportion of the total variance due to missingness; ``riv`` = (1 + 1/m) B / Ubar,
    the relative increase in variance; and the fraction of missing information
    ``fmi`` = (riv + 2 / (df + 3)) / (1 + riv) with the Barnard-Rubin df (as R's mice::pool).
    """
    Q = np.asarray(estimates, dtype=float)
    U = np.asarray(variances, dtype=float)
    m = Q.shape[0]
    qbar = Q.mean(axis=0)
    ubar = U.mean(axis=0)
    b = Q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    lam = np.where(t > 0, (1 + 1 / m) * b / t, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df_old = np.where(lam > 0, (m - 1) / lam ** 2, np.inf)
        df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        df = np.where(np.isinf(df_old), df_obs, df_old * df_obs / (df_old + df_obs))
    se = np.sqrt(t)
    crit = stats.t.ppf(0.5 + level / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = np.where(ubar > 0, (1 + 1 / m) * b / ubar, 0.0)
    fmi = (riv + 2 / (df + 3)) / (1 + riv)
    return pd.DataFrame({"estimate": qbar, "se": se, "df": df, "ci_low": qbar - crit * se,
                         "ci_high": qbar + crit * se, "p": 2 * stats.t.sf(np.abs(qbar / se), df),
                         "lambda": lam, "riv": riv, "fmi": fmi})


def pooled_wald(estimates: np.ndarray, covariances: np.ndarray) -> tuple[float, int, float, float]:
    """D1 test that k parameters are all zero, pooled over m imputations (Li, Raghunathan and Rubin 1991).

    ``estimates`` is (m, k), ``covariances`` (m, k, k). D1 = Qbar' Ubar^-1 Qbar / (k (1 + r)) with
    r = (1 + 1/m) tr(B Ubar^-1) / k, referred to F(k, v) with v = 4 + (t - 4)(1 + (1 - 2/t) / r)^2
    for t = k(m - 1) > 4, else t (1 + 1/k)(1 + r)^2 / 2. Returns (D1, k, v, p).
    """
    Q = np.asarray(estimates, dtype=float)
    U = np.asarray(covariances, dtype=float)
    m, k = Q.shape
    qbar = Q.mean(axis=0)
    ubar = U.mean(axis=0)
    b = np.atleast_2d(np.cov(Q, rowvar=False, ddof=1))
    r = (1 + 1 / m) * float(np.trace(np.linalg.solve(ubar, b))) / k
    d1 = float(qbar @ np.linalg.solve(ubar, qbar)) / (k * (1 + r))
    t = k * (m - 1)
    if r <= 0:
        v = np.inf
    elif t > 4:
        v = 4 + (t - 4) * (1 + (1 - 2 / t) / r) ** 2
    else:
        v = t * (1 + 1 / k) * (1 + r) ** 2 / 2
    p = float(stats.chi2.sf(d1 * k, k)) if np.isinf(v) else float(stats.f.sf(d1, k, v))
    return d1, k, float(v), p
