"""Aim 3: factors associated with CSC involvement during the episode and at one year.

``results(cohort, config)`` fits, for each model in the analysis plan, unadjusted and adjusted
logistic models on the complete-case sample; checks separation and convergence; chooses one
method per model (maximum likelihood, or Firth's penalised likelihood when the data demand it);
and adds sensitivity analyses (multiple imputation, inverse probability of follow-up weights,
cluster-robust variance), diagnostics and the counts of excluded dyads by reason. Categorical
covariates with more than two levels also get a global p-value (``p_global``, on every row of the
term): the (penalised) likelihood ratio test of the term's columns together, or in the sensitivity
analyses a Wald test with that analysis's variance (D1 after multiple imputation). Every estimate row
carries ``direction`` ("higher" / "lower" when its CI lies wholly above / below 1, else ""), and
``models_plan`` holds the plan as the Methods quote it.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from ..data.codebook import TIMEPOINTS, Codebook, load_codebook
from ..config import Config
from .diagnostics import c_statistic, gvif, hosmer_lemeshow
from .firth import LogitFit, detect_separation, fit_logit, lr_pvalue, lr_test, profile_ci, sandwich_cov
from .imputation import mice, pooled_wald, rubin, workers_available
from .plan import ModelSpec, Plan, PlanError, load_plan

ML = "Maximum likelihood"
FIRTH = "Firth penalised likelihood"
CI_METHOD = {ML: "profile likelihood", FIRTH: "profile penalised likelihood"}
P_METHOD = {ML: "likelihood ratio test", FIRTH: "penalised likelihood ratio test"}
GLOBAL_P_METHOD = {ML: "likelihood ratio test of the model with against without all the characteristic's categories",
                   FIRTH: "penalised likelihood ratio test of the model with against without all the characteristic's "
                          "categories, both under the full model's penalty"}
PRIMARY = "Complete case (primary)"
MI = "Multiple imputation"
IPW = "Inverse probability of follow-up weights"
CLUSTER = "Cluster-robust by NHS organisation"
GLOBAL_WALD = "Wald test with that analysis's sandwich variance"
GLOBAL_D1 = "D1 Wald statistic pooled over imputations, F reference distribution"


@dataclass(frozen=True)
class Column:
    """One design column: the covariate (term), the level it contrasts with the reference, labels."""

    term: str
    level: str
    label: str
    level_label: str
    short_label: str = ""
    definition: str = ""


@dataclass
class Design:
    X: np.ndarray
    columns: list[Column]
    references: list[Column]

    def term_columns(self, term: str) -> list[int]:
        """Indices in X (intercept = 0) of a covariate's columns."""
        return [i + 1 for i, c in enumerate(self.columns) if c.term == term]

    def multi_level_terms(self) -> list[str]:
        """Categorical covariates entering with more than one column (more than two levels present)."""
        refs = {r.term for r in self.references}
        return [t for t in dict.fromkeys(c.term for c in self.columns) if t in refs and len(self.term_columns(t)) > 1]


def without_attrs(df: pd.DataFrame) -> pd.DataFrame:
    """The same columns (not copied) without ``attrs``: pandas deep-copies ``attrs`` (the loader's per-cell
    flags, an n x k frame) on every derived Series or frame, which dominated column access at 10^6 dyads."""
    out = df.copy(deep=False)
    out.attrs = {}
    return out


def _term_label(name: str, plan: Plan, cb: Codebook) -> str:
    var = cb[name]
    per = plan.per(name)
    if var.type in ("integer", "continuous"):
        unit = f" {var.unit}" if var.unit else ""
        return f"{var.label} (per {per:g}{unit})" if per != 1 else f"{var.label} (per{unit or ' unit'})"
    return var.label


def _term_short(name: str, plan: Plan, cb: Codebook) -> str:
    """The term's label for a table row: the codebook's short label (with the unit step of a numeric term)."""
    var = cb[name]
    if not var.short_label:
        return _term_label(name, plan, cb)
    return _term_label(name, plan, cb).replace(var.label, var.short_label, 1)


def build_design(df: pd.DataFrame, covariates: list[str], plan: Plan, cb: Codebook,
                 columns: list[Column] | None = None) -> Design:
    """Design matrix (intercept first) with reference-level coding from the plan.

    Categorical levels with no dyads in ``df`` get no column; pass ``columns`` to reuse another
    design's columns (raises ValueError if ``df`` holds a non-reference level with no column there).
    """
    cols: list[Column] = []
    refs: list[Column] = []
    mats = [np.ones((len(df), 1))]
    for name in covariates:
        var = cb[name]
        label = _term_label(name, plan, cb)
        extra = (_term_short(name, plan, cb), var.definition or "")
        s = df[name]
        if var.type in ("categorical", "binary"):
            ref = plan.reference(name)
            present = set(s.dropna().unique().tolist())
            if columns is None:
                levels = [c for c in var.codes if c != ref and (c in present or var.type == "binary")]
            else:
                levels = [c for c in var.codes if any(k.term == name and k.level == str(c) for k in columns)]
                orphan = [str(c) for c in var.codes if c in present and c != ref and c not in levels]
                if orphan:
                    raise ValueError(f"{name}: level(s) {', '.join(orphan)} occur in the data but have no design "
                                     f"column; they would be coded as the reference {ref!r}")
            if var.type == "categorical":
                refs.append(Column(name, str(ref), label, var.level_label(ref), *extra))
            for code in levels:
                cols.append(Column(name, str(code), label, var.level_label(code), *extra))
                mats.append((s == code).fillna(False).to_numpy(dtype=float)[:, None])
        else:
            cols.append(Column(name, "", label, "", *extra))
            mats.append((s.to_numpy(dtype=float) / plan.per(name))[:, None])
    return Design(np.hstack(mats), cols, refs)


def collapse(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of (X, y) with the number of dyads sharing each (the sum of ``weights``, if given,
    for rows that are themselves collapsed), as frequency weights.

    Every logistic likelihood here (ML or Firth, full or constrained) is a sum over dyads of a term that
    depends only on the dyad's covariates and outcome, so fitting the distinct rows with these weights
    maximises the same function: the same estimates, covariance, intervals and tests, at the cost of
    the number of distinct rows rather than of dyads.
    """
    Z = np.column_stack([X, y])
    key = np.zeros(len(Z), dtype=np.int64)
    for col in Z.T:
        codes, levels = pd.factorize(col, sort=True)
        key = key * len(levels) + codes
        if key.max(initial=0) > 2**40:          # keep the mixed-radix key far from overflow
            key = pd.factorize(key, sort=True)[0].astype(np.int64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    counts = np.bincount(inverse, weights=weights, minlength=len(first)).astype(float)
    return X[first], np.asarray(y, dtype=float)[first], counts


def wald_ci_text(bound: float) -> str:
    """The CI method's name under the plan's large-cohort rule."""
    return f"Wald (at least {bound:g} events per parameter)"


@dataclass
class Fitted:
    """A fitted model with its per-column inference (log-odds scale), excluding the intercept."""

    fit: LogitFit
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p: np.ndarray


def fit_with_inference(X: np.ndarray, y: np.ndarray, method: str, level: float,
                       weights: np.ndarray | None = None, wald: bool = False) -> Fitted:
    """Fit by ``method``; profile-likelihood (or, with ``wald``, Wald) CIs and likelihood ratio p-values for
    every non-intercept column."""
    fit = fit_logit(X, y, firth=method == FIRTH, weights=weights)
    k = X.shape[1]
    if wald:
        z = stats.norm.ppf(0.5 + level / 2)
        cis = np.column_stack([fit.coef[1:] - z * fit.se[1:], fit.coef[1:] + z * fit.se[1:]])
    else:
        cis = np.array([profile_ci(X, y, fit, j, level) for j in range(1, k)]).reshape(-1, 2)
    ps = np.array([lr_pvalue(X, y, fit, [j]) for j in range(1, k)])
    return Fitted(fit, fit.coef[1:], fit.se[1:], cis[:, 0], cis[:, 1], ps)


def wald_pvalue(coef: np.ndarray, cov: np.ndarray, columns: list[int]) -> float:
    """P-value of the Wald chi-squared test that the given coefficients are all zero, under covariance ``cov``."""
    b = np.asarray(coef, dtype=float)[columns]
    stat = float(b @ np.linalg.solve(np.asarray(cov, dtype=float)[np.ix_(columns, columns)], b))
    return float(stats.chi2.sf(stat, df=len(columns)))


def global_lr(X: np.ndarray, y: np.ndarray, fit: LogitFit, design: Design, cols: dict[str, list[int]]) -> dict[str, float]:
    """Global (penalised) likelihood ratio p-value of each multi-level term: the fit against the fit without it.

    ``cols`` maps each term to its columns in ``X``; under Firth the reduced fit keeps the full model's
    penalty (logistf's ``anova``, method "nested").
    """
    return {t: lr_pvalue(X, y, fit, cols[t]) for t in design.multi_level_terms() if t in cols}


def _wald(coef: np.ndarray, cov: np.ndarray, level: float) -> pd.DataFrame:
    """Wald inference for every non-intercept coefficient, indexed by design column."""
    se = np.sqrt(np.diag(cov))[1:]
    est = coef[1:]
    z = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame({"estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
                         "p": 2 * stats.norm.sf(np.abs(est / se))}, index=range(1, len(est) + 1))


def _describe_separation(sep_terms: list[str], complete: bool) -> str:
    kind = "Complete" if complete else "Quasi-complete"
    return (f"{kind} separation: {', '.join(sep_terms)} predicts the outcome perfectly for some dyads, "
            "so maximum likelihood odds ratios do not exist (they run off to infinity)")


def _population(df: pd.DataFrame, spec: ModelSpec, covariates: list[str], cb: Codebook
                ) -> tuple[pd.DataFrame, list[dict], pd.Series]:
    """Complete-case sample and the sequential exclusions by reason; also the mask of the population with an outcome."""
    rows = [{"step": 0, "reason": "Dyads in the analysed cohort", "excluded": 0, "remaining": len(df)}]
    keep = pd.Series(True, index=df.index)

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal keep
        hit = keep & mask
        keep = keep & ~mask
        rows.append({"step": len(rows), "reason": reason, "excluded": int(hit.sum()), "remaining": int(keep.sum())})

    if spec.requires:
        drop(~(df[spec.requires] == 1).fillna(False).astype(bool), f"Not in the population: {cb[spec.requires].label.lower()}: no")
    drop(df[spec.outcome].isna(), f"Outcome not recorded: {cb[spec.outcome].label.lower()}")
    with_outcome = keep.copy()
    for name in covariates:
        drop(df[name].isna(), f"{cb[name].label} not recorded")
    return df[keep], rows, with_outcome


def _eligible_candidates(spec: ModelSpec, plan: Plan, cb: Codebook) -> list[str]:
    limit = TIMEPOINTS.index(cb[spec.outcome].timepoint)
    return [c for c in plan.screen_candidates
            if TIMEPOINTS.index(cb[c].timepoint) <= limit and c != spec.outcome]


def select_covariates(df: pd.DataFrame, spec: ModelSpec, plan: Plan, cb: Codebook) -> tuple[list[str], pd.DataFrame]:
    """The model's covariates by the plan's strategy, with the screening table (empty if prespecified)."""
    if plan.strategy == "prespecified":
        return list(spec.covariates), pd.DataFrame(columns=["model", "term", "label", "n", "p", "selected"])
    rows = []
    for name in _eligible_candidates(spec, plan, cb):
        sub, _, _ = _population(df, spec, [name], cb)
        d = build_design(sub, [name], plan, cb)
        y = sub[spec.outcome].to_numpy(dtype=float)
        method = FIRTH if detect_separation(d.X, y).separated else ML
        fit = fit_logit(d.X, y, firth=method == FIRTH)
        p = lr_pvalue(d.X, y, fit, list(range(1, d.X.shape[1])))
        rows.append({"model": spec.key, "term": name, "label": cb[name].label, "n": len(sub), "p": p,
                     "selected": p < plan.screen_p})
    table = pd.DataFrame(rows)
    chosen = table.loc[table.selected, "term"].tolist()
    if not chosen:
        raise PlanError(f"model {spec.key}: no candidate passed screening at p < {plan.screen_p}")
    return chosen, table


def _decide_method(plan: Plan, separated: bool, converged: bool) -> str:
    if plan.method_rule == "firth":
        return FIRTH
    if plan.method_rule == "ml":
        return ML
    return FIRTH if separated or not converged else ML


MAIN_COLUMNS = ["model", "type", "term", "label", "level", "level_label", "reference", "estimate", "se", "or",
                "ci_low", "ci_high", "p", "p_global", "direction", "method", "n", "events", "short_label", "definition"]
SENS_COLUMNS = ["model", "analysis", "term", "label", "level", "level_label", "reference", "estimate", "se", "or",
                "ci_low", "ci_high", "p", "df", "fmi", "p_global", "direction", "method", "n", "events", "inference",
                "p_global_method", "estimable", "short_label", "definition"]


def _estimates(f: Fitted, columns: list[int]) -> pd.DataFrame:
    """A fit's inference as a frame indexed by design column (intercept = 0)."""
    return pd.DataFrame({"estimate": f.estimate, "se": f.se, "ci_low": f.ci_low, "ci_high": f.ci_high, "p": f.p},
                        index=columns)


def _direction(ci_low: float, ci_high: float) -> str:
    """'higher' if the odds ratio's CI lies wholly above 1, 'lower' if wholly below, else ''."""
    return "higher" if ci_low > 1 else "lower" if ci_high < 1 else ""


def _rows(design: Design, est: pd.DataFrame, p_global: dict[str, float], *, refs: bool, **fields) -> list[dict]:
    """Tidy rows per term of ``est`` (indexed by design column): its reference row if ``refs``, then its levels.

    ``fields`` (model, type or analysis, method, n, events, ...) go on every row; ``p_global`` (multi-level
    terms only) is repeated on every row of its term, other terms get NaN.
    """
    out = []
    for term in dict.fromkeys(design.columns[j - 1].term for j in est.index):
        pg = float(p_global.get(term, np.nan))
        if refs:
            out += [{**fields, "term": r.term, "label": r.label, "level": r.level, "level_label": r.level_label,
                     "reference": True, "p_global": pg, "direction": "", "short_label": r.short_label,
                     "definition": r.definition} for r in design.references if r.term == term]
        for j, e in est.iterrows():
            c = design.columns[j - 1]
            if c.term == term:
                lo, hi = float(np.exp(e.ci_low)), float(np.exp(e.ci_high))
                out.append({**fields, **e.drop(["ci_low", "ci_high"]).to_dict(), "term": c.term, "label": c.label,
                            "level": c.level, "level_label": c.level_label, "reference": False,
                            "short_label": c.short_label, "definition": c.definition,
                            "or": float(np.exp(e.estimate)), "ci_low": lo, "ci_high": hi, "p_global": pg,
                            "direction": _direction(lo, hi)})
    return out


def _follow_up_weights(df: pd.DataFrame, plan: Plan, cb: Codebook) -> tuple[pd.Series, str]:
    """Stabilised inverse probability of follow-up weights from the plan's logistic model, and its description.

    The model is fitted to dyads with the follow-up indicator and every predictor recorded; only they get
    a weight, and the stabilising rate is the follow-up rate among them.
    """
    outcome = plan.weights.get("model", "followed_up_1y")
    preds = list(plan.weights.get("predictors", []))
    sub = df.dropna(subset=[*preds, outcome])
    d = build_design(sub, preds, plan, cb)
    f = sub[outcome].to_numpy(dtype=float)
    large = plan.large_n.collapse_min_dyads
    Xf, ff, wf = collapse(d.X, f) if large is not None and len(f) >= large else (d.X, f, None)
    fit = fit_logit(Xf, ff, firth=detect_separation(Xf, ff, weights=wf).separated, weights=wf)
    prob = 1 / (1 + np.exp(-(d.X @ fit.coef)))
    stabilised = plan.weights.get("stabilised", True)
    marginal = f.mean() if stabilised else 1.0
    w = pd.Series(marginal / prob, index=sub.index)
    text = (f"logistic model of {cb[outcome].label.lower()} on " + ", ".join(cb[p].label.lower() for p in preds)
            + f" ({len(sub)} dyads with these recorded)"
            + (f"; weights stabilised by the follow-up rate among those dyads ({marginal:.1%})" if stabilised else "")
            + "; weights treated as known (the variance ignores their estimation)")
    return w, text


@dataclass
class Primary:
    """One model's complete-case fits, with what the diagnostics and sensitivity analyses need."""

    spec: ModelSpec
    covariates: list[str]
    sample: pd.DataFrame
    with_outcome: pd.Series
    design: Design
    y: np.ndarray
    method: str
    adjusted: Fitted
    p_global: dict[str, float]
    table: pd.DataFrame
    summary: dict
    exclusions: list[dict]
    screen: pd.DataFrame
    ci_method: str
    separated: tuple[int, ...] = ()        # design columns along which the adjusted model is separated


def _names(design: Design, cols) -> list[str]:
    return [design.columns[j - 1].label + (f" ({design.columns[j - 1].level_label})"
                                           if design.columns[j - 1].level_label else "") for j in cols if j > 0]


def _sparse_text(design: Design, sep, uni_seps: dict, uni_idx: dict, cb: Codebook) -> str:
    words = [_describe_separation(_names(design, sep.columns) or ["the covariates"], sep.complete)] if sep.separated else []
    for t, s in uni_seps.items():
        if s.separated and not sep.separated:
            cols = tuple(uni_idx[t][i - 1] for i in s.columns if i > 0)
            words.append(f"{_describe_separation(_names(design, cols) or [cb[t].label], s.complete)} in the unadjusted model")
    return "; ".join(words) or "No separation detected"


def _convergence_text(adjusted_ok: bool, failed_unadjusted: list[str]) -> str:
    if adjusted_ok and not failed_unadjusted:
        return "Maximum likelihood converged"
    parts = ([] if adjusted_ok else ["the adjusted model"]) + [f"the unadjusted model of {t}" for t in failed_unadjusted]
    return "Maximum likelihood did not converge to finite estimates in " + " and ".join(parts)


def fit_primary(df: pd.DataFrame, spec: ModelSpec, plan: Plan, cb: Codebook) -> Primary:
    """Complete-case unadjusted and adjusted fits of one model, by the method the plan's rule chooses."""
    level = plan.confidence_level
    covariates, screen = select_covariates(df, spec, plan, cb)
    sample, excl, with_outcome = _population(df, spec, covariates, cb)
    design = build_design(sample, covariates, plan, cb)
    X, y = design.X, sample[spec.outcome].to_numpy(dtype=float)
    n, events, k = len(y), int(y.sum()), X.shape[1] - 1
    epv = min(events, n - events) / k if k else np.nan
    large = plan.large_n
    # fits, separation checks and tests see the distinct covariate patterns (same likelihood) in a large sample
    Xf, yf, wf = collapse(X, y) if large.collapse_min_dyads is not None and n >= large.collapse_min_dyads \
        else (X, y, None)
    uni_idx = {t: design.term_columns(t) for t in covariates}
    # each unadjusted model's own data: its columns, collapsed again (fewer distinct rows) when collapsing
    uni = {t: collapse(Xf[:, [0, *idx]], yf, wf) if wf is not None else (X[:, [0, *idx]], y, None)
           for t, idx in uni_idx.items()}
    sep = detect_separation(Xf, yf, weights=wf)
    uni_seps = {t: detect_separation(*uni[t][:2], weights=uni[t][2]) for t in uni_idx}
    ml_ok = fit_logit(Xf, yf, weights=wf).converged
    uni_failed = [cb[t].label.lower() for t in uni_idx if not fit_logit(*uni[t][:2], weights=uni[t][2]).converged]
    method = _decide_method(plan, sep.separated or any(s.separated for s in uni_seps.values()),
                            ml_ok and not uni_failed)
    wald = method == ML and large.wald_ci_min_epv is not None and epv >= large.wald_ci_min_epv
    ci_method = wald_ci_text(large.wald_ci_min_epv) if wald else CI_METHOD[method]
    fields = {"model": spec.key, "method": method, "n": n, "events": events}
    adjusted = fit_with_inference(Xf, yf, method, level, weights=wf, wald=wald)
    rows = []
    for t, idx in uni_idx.items():
        Xt, yt, wt = uni[t]
        uf = fit_with_inference(Xt, yt, method, level, weights=wt, wald=wald)
        pg = global_lr(Xt, yt, uf.fit, design, {t: list(range(1, len(idx) + 1))})
        rows += _rows(design, _estimates(uf, idx), pg, refs=True, type="Unadjusted", **fields)
    pg_adj = global_lr(Xf, yf, adjusted.fit, design, uni_idx)
    rows += _rows(design, _estimates(adjusted, list(range(1, k + 1))), pg_adj, refs=True, type="Adjusted", **fields)
    if wf is not None:
        # downstream (diagnostics, clustered variance) works on the dyads: frequency weights are not sampling weights
        adjusted = replace(adjusted, fit=replace(adjusted.fit, weights=None))
    summary = {
        "model": spec.key, "title": spec.title, "outcome": spec.outcome, "outcome_label": cb[spec.outcome].label,
        "population": spec.population, "strategy": plan.strategy,
        "covariates": "; ".join(_term_label(c, plan, cb) for c in covariates),
        "n": n, "events": events, "non_events": n - events, "parameters": k, "epv": epv,
        "epv_note": (f"Fewer than {plan.epv_warning_below:g} events per variable: estimates may be unstable"
                     if epv < plan.epv_warning_below else f"At least {plan.epv_warning_below:g} events per variable"),
        "separation": _sparse_text(design, sep, uni_seps, uni_idx, cb),
        "convergence": _convergence_text(ml_ok, uni_failed), "method": method,
        "ci_method": ci_method, "p_method": P_METHOD[method], "p_global_method": GLOBAL_P_METHOD[method],
        "confidence_level": level, "hl_groups": plan.hl_groups,
        "footnote": (f"{method} logistic regression; {level:.0%} confidence intervals by {ci_method}; "
                     f"p-values from the {P_METHOD[method]}."),
    }
    exclusions = [{"model": spec.key, "analysis": PRIMARY, **r} for r in excl]
    return Primary(spec, covariates, sample, with_outcome, design, y, method, adjusted, pg_adj,
                   pd.DataFrame(rows)[MAIN_COLUMNS], summary, exclusions, screen, ci_method,
                   tuple(j for j in sep.columns if j > 0) if sep.separated else ())


def diagnostics_row(p: Primary, plan: Plan, cb: Codebook) -> dict:
    """Discrimination, calibration and collinearity of one adjusted model."""
    X, y = p.design.X, p.y
    p_hat = 1 / (1 + np.exp(-(X @ p.adjusted.fit.coef)))
    c, c_lo, c_hi = c_statistic(y, p_hat, plan.confidence_level)
    hl, hl_df, hl_p = hosmer_lemeshow(y, p_hat, plan.hl_groups)
    g = gvif(p.adjusted.fit.cov[1:, 1:], [[j - 1 for j in p.design.term_columns(t)] for t in p.covariates])
    worst = int(np.argmax(g)) if g else 0
    return {"model": p.spec.key, "n": len(y), "events": int(y.sum()), "c_statistic": c, "c_ci_low": c_lo,
            "c_ci_high": c_hi, "hl_chi2": hl, "hl_df": hl_df, "hl_groups": plan.hl_groups, "hl_p": hl_p,
            "max_gvif": g[worst] if g else np.nan, "max_gvif_term": cb[p.covariates[worst]].label if g else ""}


#: Harrell's knot placement for restricted cubic splines (Regression Modeling Strategies, 2nd ed., 2015):
#: percentiles of the variable by number of knots.
RCS_PERCENTILES = {3: (10, 50, 90), 4: (5, 35, 65, 95), 5: (5, 27.5, 50, 72.5, 95), 6: (5, 23, 41, 59, 77, 95),
                   7: (2.5, 18.33, 34.17, 50, 65.83, 81.67, 97.5)}
LINEARITY_COLUMNS = ["model", "title", "term", "label", "knots", "knot_percentiles", "method", "lr_chi2", "df", "p", "note"]


def rcs_knots(x: np.ndarray, k: int) -> np.ndarray:
    """Knots of a k-knot restricted cubic spline at Harrell's percentiles of ``x`` (R's quantile type 7)."""
    return np.percentile(np.asarray(x, dtype=float), RCS_PERCENTILES[k])


def rcs_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """The k - 2 non-linear columns of a restricted cubic spline in Harrell's parameterisation (Hmisc's
    ``rcspline.eval`` with ``norm = 2``: each divided by the squared distance between the outer knots, so
    the columns are in the units of ``x``); with ``x`` itself they span the linear-tailed cubic spline."""
    x = np.asarray(x, dtype=float)[:, None]
    t = np.asarray(knots, dtype=float)
    k = len(t)
    cube = lambda u: np.clip(u, 0, None) ** 3
    j = t[:k - 2]
    out = (cube(x - j) - cube(x - t[k - 2]) * (t[k - 1] - j) / (t[k - 1] - t[k - 2])
           + cube(x - t[k - 1]) * (t[k - 2] - j) / (t[k - 1] - t[k - 2]))
    return out / (t[k - 1] - t[0]) ** 2


def linearity_rows(p: Primary, plan: Plan, cb: Codebook) -> list[dict]:
    """A check that each continuous covariate of the adjusted model is linear on the log-odds scale: the model
    with the covariate as a restricted cubic spline (``plan.linearity_knots`` knots at Harrell's percentiles of
    the model's dyads) against the model as fitted, by the likelihood ratio test of the spline's non-linear
    columns (df = knots - 2), on the primary model's dyads and by its method. Under Firth's penalised
    likelihood the test is the penalised likelihood ratio test with the linear model fitted under the spline
    model's penalty; a maximum likelihood spline model that is separated or does not converge is refitted by
    Firth's method when the plan's method rule is auto, as the primary models are."""
    rows = []
    X, y = p.design.X, p.y
    large = plan.large_n.collapse_min_dyads
    for term in p.covariates:
        if cb[term].type not in ("integer", "continuous"):
            continue
        k = plan.linearity_knots
        base = {"model": p.spec.key, "title": p.spec.title, "term": term, "label": cb[term].label, "knots": k,
                "knot_percentiles": ", ".join(f"{q:g}" for q in RCS_PERCENTILES[k])}
        knots = rcs_knots(p.sample[term], k)
        if len(np.unique(knots)) < k:
            rows.append({**base, "method": p.method, "lr_chi2": np.nan, "df": k - 2, "p": np.nan,
                         "note": f"not tested: fewer than {k} distinct knots (too few distinct values)"})
            continue
        Xs = np.hstack([X, rcs_basis(p.sample[term].to_numpy(dtype=float), knots)])
        Xf, yf, wf = collapse(Xs, y) if large is not None and len(y) >= large else (Xs, y, None)
        cols = list(range(X.shape[1], Xs.shape[1]))
        method, note = p.method, ""
        fit = fit_logit(Xf, yf, firth=method == FIRTH, weights=wf)
        if method == ML and (not fit.converged or detect_separation(Xf, yf, weights=wf).separated):
            if plan.method_rule == "ml":
                rows.append({**base, "method": method, "lr_chi2": np.nan, "df": len(cols), "p": np.nan,
                             "note": "not tested: the spline model is separated or does not converge by maximum "
                                     "likelihood, and the plan fits every model by maximum likelihood"})
                continue
            method, note = FIRTH, "the spline model is separated or does not converge by maximum likelihood"
            fit = fit_logit(Xf, yf, firth=True, weights=wf)
        stat, df, pv = lr_test(Xf, yf, fit, cols)
        rows.append({**base, "method": method, "lr_chi2": stat, "df": df, "p": pv, "note": note})
    return rows


def _sens(p: Primary, analysis: str, est: pd.DataFrame, inference: str, p_global: dict[str, float],
          p_global_method: str, *, design: Design | None = None, method: str | None = None, n: int | None = None,
          events: int | None = None) -> list[dict]:
    """Sensitivity rows of one analysis; sample and method default to the primary fit's."""
    return _rows(design or p.design, est, p_global, refs=False,
                 model=p.spec.key, analysis=analysis, method=method or p.method,
                 n=len(p.y) if n is None else n, events=int(p.y.sum()) if events is None else events,
                 inference=inference, p_global_method=p_global_method if p_global else "")


def _cluster_rows(p: Primary, plan: Plan, cb: Codebook) -> list[dict]:
    X, fit = p.design.X, p.adjusted.fit
    groups = p.sample[plan.cluster].astype(str).to_numpy()
    cov = sandwich_cov(X, p.y, fit, groups=groups)
    return _sens(p, CLUSTER, _wald(fit.coef, cov, plan.confidence_level),
                 f"Wald CI, sandwich variance clustered by {cb[plan.cluster].label} ({len(np.unique(groups))} clusters)",
                 _global_wald(p.design, fit.coef, cov), GLOBAL_WALD)


def _ipw_rows(df: pd.DataFrame, p: Primary, plan: Plan, cb: Codebook) -> tuple[list[dict], list[dict]]:
    """The weighted one-year model, and the dyads it loses (a weight predictor not recorded) by reason."""
    w_all, w_text = _follow_up_weights(df, plan, cb)
    keep = pd.Series(True, index=p.sample.index)
    remaining = len(p.sample)
    excl = []
    for name in [c for c in plan.weights.get("predictors", []) if c not in p.covariates]:
        hit = keep & p.sample[name].isna()
        keep &= ~hit
        remaining -= int(hit.sum())
        excl.append({"model": p.spec.key, "analysis": IPW, "reason": f"Weighted analysis only: {cb[name].label} "
                     "not recorded (no follow-up weight)", "excluded": int(hit.sum()), "remaining": remaining})
    mask = keep.to_numpy()
    if set(p.sample.index[mask]) != set(p.sample.index.intersection(w_all.index)):
        raise RuntimeError(f"model {p.spec.key}: weighted sample does not match the dyads with a weight")
    X, y = p.design.X[mask], p.y[mask]
    fw = fit_logit(X, y, firth=p.method == FIRTH, weights=w_all.loc[p.sample.index[mask]].to_numpy())
    cov = sandwich_cov(X, y, fw)
    rows = _sens(p, IPW, _wald(fw.coef, cov, plan.confidence_level),
                 f"Wald CI, HC0 sandwich variance; weights from a {w_text}",
                 _global_wald(p.design, fw.coef, cov), GLOBAL_WALD, n=int(mask.sum()), events=int(y.sum()))
    return rows, excl


def impute(df: pd.DataFrame, plan: Plan, cb: Codebook) -> list[pd.DataFrame]:
    """The plan's seeded chained-equation imputations of every model variable, outcomes and auxiliaries."""
    cols = list(dict.fromkeys([*(c for m in plan.models for c in m.covariates),
                               *(m.outcome for m in plan.models), *plan.mi.get("auxiliary", [])]))
    return mice(df, [c for c in cols if c in df.columns], cb, m=int(plan.mi.get("m", 20)),
                iterations=int(plan.mi.get("iterations", 10)), seed=int(plan.mi.get("seed", 0)),
                one_step=mi_one_step(len(df), plan))


def mi_one_step(n: int, plan: Plan) -> bool:
    """Whether the plan's large-cohort imputation (one Newton step per model after the first round) applies
    to a cohort of ``n`` dyads."""
    bound = plan.large_n.mi_one_step_min_dyads
    return bound is not None and n >= bound


def mi_one_step_text(bound: int) -> str:
    """The MI note's clause on the large-cohort imputation."""
    return (f"in this cohort of at least {bound:,.0f} dyads, each imputation model after the first round takes one "
            "Newton step from the previous round's estimates; the chains are independent (a random stream each, "
            "first round started from a pilot round's estimates)")


def fit_sensitivity(df: pd.DataFrame, p: Primary, plan: Plan, cb: Codebook,
                    imputed: list[pd.DataFrame]) -> tuple[list[dict], list[dict]]:
    """Sensitivity rows of one model (primary, imputed, clustered, weighted) and the weighted analysis' exclusions."""
    k = p.design.X.shape[1] - 1
    rows = _sens(p, PRIMARY, _estimates(p.adjusted, list(range(1, k + 1))), f"{p.ci_method} CI",
                 p.p_global, f"{P_METHOD[p.method]} of the model with against without them")
    rows += _mi_rows(p, imputed, plan, cb)
    rows += _cluster_rows(p, plan, cb)
    excl: list[dict] = []
    if p.spec.requires:
        ipw, excl = _ipw_rows(df, p, plan, cb)
        rows += ipw
    return _mark_separated(p, rows), excl


def _mark_separated(p: Primary, rows: list[dict]) -> list[dict]:
    """A level along which the primary fit is separated has no finite maximum-likelihood estimate: only
    the primary (penalised) analysis estimates it; the imputed, weighted and clustered variants' Wald
    intervals would overstate certainty, so they are marked not estimable (``estimable`` False)."""
    column_of = {(c.term, c.level): j for j, c in enumerate(p.design.columns, start=1)}
    for r in rows:
        separated = column_of.get((r["term"], r["level"])) in p.separated and not r.get("reference", False)
        r["estimable"] = not (separated and r["analysis"] != PRIMARY)
    return rows


def level_counts(p: Primary) -> list[dict]:
    """Events and non-events among the complete cases in every level of each categorical covariate
    (reference level included): what disclosure control needs to judge each odds ratio."""
    X, y, design = p.design.X, p.y, p.design
    refs = {r.term: r for r in design.references}
    rows = []
    for term in dict.fromkeys(c.term for c in design.columns if c.level):
        idx = design.term_columns(term)
        levels = [(design.columns[j - 1].level, design.columns[j - 1].level_label, False, X[:, j] == 1) for j in idx]
        ref = refs.get(term)
        levels.append((ref.level if ref else "", ref.level_label if ref else "Reference level", True,
                       ~np.any(X[:, idx] == 1, axis=1)))
        for level, level_label, is_ref, mask in levels:
            rows.append({"model": p.spec.key, "term": term, "level": level, "level_label": level_label,
                         "reference": is_ref, "events": int(y[mask].sum()),
                         "non_events": int(mask.sum() - y[mask].sum())})
    return rows


def fit_models(df: pd.DataFrame, plan: Plan, cb: Codebook, *, sensitivity: bool = True) -> dict[str, pd.DataFrame]:
    """Every table of the models stage, by name (see :func:`results`)."""
    df = without_attrs(df)
    imputed = impute(df, plan, cb) if sensitivity else None
    out: dict[str, pd.DataFrame] = {}
    summary, excl, diag, sens, screens, counts, linear = [], [], [], [], [], [], []
    for spec in plan.models:
        p = fit_primary(df, spec, plan, cb)
        out[f"models_{spec.key}"] = p.table
        counts += level_counts(p)
        summary.append(p.summary)
        diag.append(diagnostics_row(p, plan, cb))
        linear += linearity_rows(p, plan, cb)
        screens.append(p.screen)
        excl += p.exclusions
        if sensitivity:
            rows, extra = fit_sensitivity(df, p, plan, cb, imputed)
            sens += rows
            excl += [{**e, "step": len(p.exclusions) + i} for i, e in enumerate(extra)]
    out["models_summary"] = pd.DataFrame(summary)
    out["models_exclusions"] = pd.DataFrame(excl)[["model", "analysis", "step", "reason", "excluded", "remaining"]]
    out["models_diagnostics"] = pd.DataFrame(diag)
    out["models_linearity"] = pd.DataFrame(linear, columns=LINEARITY_COLUMNS)
    out["models_level_counts"] = pd.DataFrame(counts, columns=["model", "term", "level", "level_label", "reference",
                                                               "events", "non_events"])
    if sensitivity:
        out["models_sensitivity"] = pd.DataFrame(sens).reindex(columns=SENS_COLUMNS)
    if plan.strategy == "screen":
        out["models_screening"] = pd.concat(screens, ignore_index=True)
    out["models_plan"] = plan_table(plan, cb)
    return out


def _global_wald(design: Design, coef: np.ndarray, cov: np.ndarray) -> dict[str, float]:
    return {t: wald_pvalue(coef, cov, design.term_columns(t)) for t in design.multi_level_terms()}


def mi_design(imputed: list[pd.DataFrame], rows: pd.Index, covariates: list[str], plan: Plan, cb: Codebook
              ) -> tuple[Design, Callable[[int], Design]]:
    """The union design of the imputed datasets (``rows`` only), with a column for every level present after
    imputation, and a function that builds imputation i's design with those columns.

    A level present in the imputed data but absent from the complete cases gets its own column, never the
    reference's coding; a level present in some imputations but not all is an error (its column would be
    all zeros in the others), raised before any design is built. Designs are built one at a time, so that
    the m designs of a large cohort are never all in memory.
    """
    cats = [c for c in covariates if cb[c].type in ("categorical", "binary")]
    firsts, present = [], []
    for frame in imputed:
        sub = frame.loc[rows, covariates]
        # the union's columns depend only on which levels occur: one dyad per level of each imputation suffices
        firsts.append(sub.loc[sorted({i for c in cats for i in sub[c].drop_duplicates().index})])
        present.append({c: {str(v) for v in sub[c].dropna().unique()} for c in cats})
    union = build_design(pd.concat(firsts), covariates, plan, cb)
    for i, levels in enumerate(present):
        empty = [c for c in union.columns if c.level and c.level not in levels.get(c.term, {c.level})]
        if empty:
            raise ValueError(f"imputation {i + 1}: no dyad in " + ", ".join(f"{c.label} = {c.level_label}" for c in empty)
                             + ", which other imputations contain; the pooled model cannot include that category")

    def design(i: int) -> Design:
        return build_design(imputed[i].loc[rows, covariates], covariates, plan, cb, columns=union.columns)
    return union, design


def _mi_rows(p: Primary, imputed: list[pd.DataFrame], plan: Plan, cb: Codebook) -> list[dict]:
    """Adjusted model on each imputed dataset (dyads whose outcome was recorded), pooled by Rubin's rules."""
    rows = p.with_outcome[p.with_outcome].index
    design, design_of = mi_design(imputed, rows, p.covariates, plan, cb)
    ys = [frame.loc[rows, p.spec.outcome].to_numpy(dtype=float) for frame in imputed]
    mi_method = p.method

    large = plan.large_n.collapse_min_dyads

    def fit(i: int, y: np.ndarray, firth: bool) -> LogitFit:
        X = design_of(i).X
        if large is not None and len(y) >= large:
            X, y, w = collapse(X, y)
            return fit_logit(X, y, firth=firth, weights=w)
        return fit_logit(X, y, firth=firth)

    threads = workers_available() if mi_one_step(len(imputed[0]), plan) else 1

    def fits(firth: bool) -> list[LogitFit]:
        if threads > 1:         # large cohorts: numpy and pandas release the GIL for much of each fit
            with ThreadPoolExecutor(min(threads, len(ys))) as pool:
                return list(pool.map(lambda i: fit(i, ys[i], firth), range(len(ys))))
        return [fit(i, y, firth) for i, y in enumerate(ys)]
    results = fits(mi_method == FIRTH)
    if mi_method == ML and not all(r.converged for r in results):
        mi_method = FIRTH
        results = fits(True)
    Q = np.array([r.coef[1:] for r in results])
    U = np.array([r.cov[1:, 1:] for r in results])
    n, k = len(rows), design.X.shape[1]
    pooled = rubin(Q, np.diagonal(U, axis1=1, axis2=2), df_complete=n - k, level=plan.confidence_level)
    pooled = pooled.drop(columns=["lambda", "riv"])
    pooled.index = range(1, k)
    note = (f"m = {len(imputed)} imputations by chained equations; Rubin's rules, t-based CI with Barnard-Rubin "
            f"degrees of freedom (complete-data df {n - k}); dyads whose outcome was not recorded are not analysed")
    if mi_method != p.method:
        note += "; Firth's penalised likelihood used because maximum likelihood did not converge in some imputations"
    if mi_one_step(len(imputed[0]), plan):
        note += "; " + mi_one_step_text(plan.large_n.mi_one_step_min_dyads)
    p_global = {}
    for t in design.multi_level_terms():
        j = [c - 1 for c in design.term_columns(t)]
        p_global[t] = pooled_wald(Q[:, j], U[:, j][:, :, j])[3]
    return _sens(p, MI, pooled, note, p_global, GLOBAL_D1, design=design, method=mi_method, n=n,
                 events=int(round(np.mean([y.sum() for y in ys]))))


def _bound(v: float | None) -> str:
    return "never" if v is None else f"{v:g}"


def plan_table(plan: Plan, cb: Codebook) -> pd.DataFrame:
    """The plan as the Methods quote it: settings, each model with the covariates it uses (or screens), codings.

    Columns ``section`` (setting, model, covariate, coding, mi_auxiliary, weight_predictor), ``model``,
    ``name``, ``label``, ``value``, ``detail``.
    """
    rows = []

    def add(section: str, name: str, label: str = "", value="", model: str = "", detail: str = "") -> None:
        rows.append({"section": section, "model": model, "name": name, "label": label, "value": str(value),
                     "detail": detail})

    for name, label, value in (
            ("strategy", "Model-building strategy", plan.strategy), ("screen_p", "Screening p threshold", f"{plan.screen_p:g}"),
            ("fixed_on", "Plan fixed on", plan.fixed_on),
            ("fixed_before_data", "Plan fixed before the study data were analysed",
             {True: "yes", False: "no", None: "not stated"}[plan.fixed_before_data]),
            ("confidence_level", "Confidence level", f"{plan.confidence_level:g}"),
            ("epv_warning_below", "Events per variable warning threshold", f"{plan.epv_warning_below:g}"),
            ("method_rule", "Method rule", plan.method_rule), ("mi_m", "Imputations", plan.mi.get("m", 20)),
            ("mi_iterations", "Iterations per imputation", plan.mi.get("iterations", 10)),
            ("mi_seed", "Imputation seed", plan.mi.get("seed", 0)), ("hl_groups", "Hosmer-Lemeshow groups", plan.hl_groups),
            ("linearity_knots", "Restricted cubic spline knots for the linearity check", plan.linearity_knots),
            ("cluster", cb[plan.cluster].label, plan.cluster),
            ("weight_outcome", cb[plan.weights.get("model", "followed_up_1y")].label,
             plan.weights.get("model", "followed_up_1y")),
            ("weights_stabilised", "Weights stabilised", bool(plan.weights.get("stabilised", True))),
            ("wald_ci_min_epv", "Wald instead of profile-likelihood CIs from this many events per parameter "
             "(maximum likelihood models only)", _bound(plan.large_n.wald_ci_min_epv)),
            ("collapse_min_dyads", "Models fitted on distinct covariate patterns with frequency weights from this "
             "many dyads", _bound(plan.large_n.collapse_min_dyads)),
            ("mi_one_step_min_dyads", "Imputation models take one Newton step per round after the first from this "
             "many dyads", _bound(plan.large_n.mi_one_step_min_dyads))):
        add("setting", name, label, value)
    for spec in plan.models:
        add("model", spec.outcome, spec.title, cb[spec.outcome].label, model=spec.key, detail=spec.population)
        used = spec.covariates if plan.strategy == "prespecified" else _eligible_candidates(spec, plan, cb)
        role = "covariate" if plan.strategy == "prespecified" else "candidate"
        for c in used:
            add("covariate", c, cb[c].label, role, model=spec.key)
    used = list(dict.fromkeys(r["name"] for r in rows if r["section"] == "covariate"))
    for name in used:
        ref = plan.reference(name)
        add("coding", name, cb[name].label, plan.covariates.get(name, {}).get("how", "as recorded"),
            detail="" if ref is None else cb[name].level_label(ref))
    for c in plan.mi.get("auxiliary", []):
        add("mi_auxiliary", c, cb[c].label)
    for c in plan.weights.get("predictors", []):
        add("weight_predictor", c, cb[c].label)
    return pd.DataFrame(rows)


def results(cohort: pd.DataFrame, config: Config, codebook: Codebook | None = None) -> dict[str, pd.DataFrame]:
    """Tidy tables of the models stage: ``models_<model>`` (unadjusted and adjusted ORs), ``models_sensitivity``,
    ``models_summary``, ``models_exclusions``, ``models_diagnostics``, ``models_linearity`` (spline against linear
    for each continuous covariate), ``models_plan`` (and ``models_screening``
    for strategy screen). ``codebook``: the codebook with combined categories, else the configured one."""
    cb = codebook or load_codebook(config.codebook_path)
    plan = load_plan(config.analysis_plan_path, cb)
    out = fit_models(cohort, plan, cb)
    path = config.analysis_plan_path
    shown = str(path.relative_to(config.root)) if path.is_relative_to(config.root) else path.name
    out["models_plan"] = pd.concat([out["models_plan"], pd.DataFrame([{
        "section": "setting", "model": "", "name": "plan_file", "label": "Analysis plan file", "value": shown,
        "detail": ""}])], ignore_index=True)
    return out
