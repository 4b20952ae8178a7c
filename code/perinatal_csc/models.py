"""Aim 3: factors associated with CSC involvement during the episode and at one year.

``results(cohort, config)`` fits, for each model in the analysis plan, unadjusted and adjusted
logistic models on the complete-case sample; checks separation and convergence; chooses one
method per model (maximum likelihood, or Firth's penalised likelihood when the data demand it);
and adds sensitivity analyses (multiple imputation, inverse probability of follow-up weights,
cluster-robust variance), diagnostics and the counts of excluded dyads by reason. Categorical
covariates with more than two levels also get a global p-value (``p_global``, on every row of the
term): the (penalised) likelihood ratio test of the term's columns together, or in the sensitivity
analyses a Wald test with that analysis's variance (D1 after multiple imputation).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .codebook import TIMEPOINTS, Codebook, load_codebook
from .config import Config
from .diagnostics import c_statistic, gvif, hosmer_lemeshow
from .firth import LogitFit, detect_separation, fit_logit, lr_pvalue, profile_ci, sandwich_cov
from .imputation import mice, pooled_wald, rubin
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
GLOBAL_D1 = "D1 Wald statistic pooled over imputations (Li, Raghunathan and Rubin 1991), F reference distribution"


@dataclass(frozen=True)
class Column:
    """One design column: the covariate (term), the level it contrasts with the reference, labels."""

    term: str
    level: str
    label: str
    level_label: str


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


def _term_label(name: str, plan: Plan, cb: Codebook) -> str:
    var = cb[name]
    per = plan.per(name)
    if var.type in ("integer", "continuous"):
        unit = f" {var.unit}" if var.unit else ""
        return f"{var.label} (per {per:g}{unit})" if per != 1 else f"{var.label} (per{unit or ' unit'})"
    return var.label


def build_design(df: pd.DataFrame, covariates: list[str], plan: Plan, cb: Codebook,
                 columns: list[Column] | None = None) -> Design:
    """Design matrix (intercept first) with reference-level coding from the plan.

    Categorical levels with no dyads in ``df`` get no column; pass ``columns`` to reuse another
    design's columns (multiple imputation).
    """
    cols: list[Column] = []
    refs: list[Column] = []
    mats = [np.ones((len(df), 1))]
    for name in covariates:
        var = cb[name]
        label = _term_label(name, plan, cb)
        s = df[name]
        if var.type in ("categorical", "binary"):
            ref = plan.reference(name)
            present = set(s.dropna().unique().tolist())
            if columns is None:
                levels = [c for c in var.codes if c != ref and (c in present or var.type == "binary")]
            else:
                levels = [c for c in var.codes if any(k.term == name and k.level == str(c) for k in columns)]
            if var.type == "categorical":
                refs.append(Column(name, str(ref), label, var.level_label(ref)))
            obj = s.astype(object)
            for code in levels:
                cols.append(Column(name, str(code), label, var.level_label(code)))
                mats.append((obj == code).to_numpy(dtype=float)[:, None])
        else:
            cols.append(Column(name, "", label, ""))
            mats.append((s.to_numpy(dtype=float) / plan.per(name))[:, None])
    return Design(np.hstack(mats), cols, refs)


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
                       weights: np.ndarray | None = None) -> Fitted:
    """Fit by ``method``; profile-likelihood CIs and likelihood ratio p-values for every non-intercept column."""
    fit = fit_logit(X, y, firth=method == FIRTH, weights=weights)
    k = X.shape[1]
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
    se = np.sqrt(np.diag(cov))[1:]
    est = coef[1:]
    z = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame({"estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
                         "p": 2 * stats.norm.sf(np.abs(est / se))})


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


def _decide_method(plan: Plan, adjusted_sep, ml_fit: LogitFit, unadjusted_seps: dict[str, object]) -> str:
    if plan.method_rule == "firth":
        return FIRTH
    if plan.method_rule == "ml":
        return ML
    if adjusted_sep.separated or not ml_fit.converged or any(s.separated for s in unadjusted_seps.values()):
        return FIRTH
    return ML


def _rows(model: str, kind: str, design: Design, idx: list[int], res: pd.DataFrame | Fitted,
          method: str, n: int, events: int, with_refs: bool, terms: list[str] | None = None,
          p_global: dict[str, float] | None = None) -> list[dict]:
    """Tidy rows: a reference row per categorical term (if wanted), then one row per level column.

    ``p_global`` (multi-level terms only) is repeated on every row of its term; other terms get NaN.
    """
    get = (lambda a, i: float(getattr(res, a)[i])) if isinstance(res, Fitted) else (lambda a, i: float(res[a].iloc[i]))
    out = []
    for term in terms or list(dict.fromkeys(c.term for c in design.columns)):
        pg = float((p_global or {}).get(term, np.nan))
        if with_refs:
            for r in design.references:
                if r.term == term:
                    out.append({"model": model, "type": kind, "term": r.term, "label": r.label, "level": r.level,
                                "level_label": r.level_label, "reference": True, "estimate": np.nan, "se": np.nan,
                                "or": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                                "p_global": pg, "method": method, "n": n, "events": events})
        for pos, j in enumerate(idx):
            c = design.columns[j - 1]
            if c.term != term:
                continue
            est, se = get("estimate", pos), get("se", pos)
            out.append({"model": model, "type": kind, "term": c.term, "label": c.label, "level": c.level,
                        "level_label": c.level_label, "reference": False, "estimate": est, "se": se,
                        "or": float(np.exp(est)), "ci_low": float(np.exp(get("ci_low", pos))),
                        "ci_high": float(np.exp(get("ci_high", pos))), "p": get("p", pos),
                        "p_global": pg, "method": method, "n": n, "events": events})
    return out


def _follow_up_weights(df: pd.DataFrame, plan: Plan, cb: Codebook) -> tuple[pd.Series, str]:
    """Stabilised inverse probability of follow-up weights from the plan's logistic model, and its description."""
    outcome = plan.weights.get("model", "followed_up_1y")
    preds = list(plan.weights.get("predictors", []))
    sub = df.dropna(subset=[*preds, outcome])
    d = build_design(sub, preds, plan, cb)
    f = sub[outcome].to_numpy(dtype=float)
    fit = fit_logit(d.X, f, firth=detect_separation(d.X, f).separated)
    prob = 1 / (1 + np.exp(-(d.X @ fit.coef)))
    marginal = f.mean() if plan.weights.get("stabilised", True) else 1.0
    w = pd.Series(marginal / prob, index=sub.index)
    text = (f"logistic model of {cb[outcome].label.lower()} on " + ", ".join(cb[p].label.lower() for p in preds)
            + f" ({len(sub)} dyads with these recorded)" + ("; weights stabilised by the overall follow-up rate"
                                                          if plan.weights.get("stabilised", True) else ""))
    return w, text


def fit_models(df: pd.DataFrame, plan: Plan, cb: Codebook, *, sensitivity: bool = True) -> dict[str, pd.DataFrame]:
    """Every table of the models stage, by name (see :func:`results`)."""
    level = plan.confidence_level
    main: dict[str, list[dict]] = {}
    sens_rows, summary_rows, excl_rows, diag_rows, screens = [], [], [], [], []
    imputed = None
    if sensitivity:
        mi_cols = list(dict.fromkeys([*(c for m in plan.models for c in m.covariates),
                                      *(m.outcome for m in plan.models), *plan.mi.get("auxiliary", [])]))
        mi_cols = [c for c in mi_cols if c in df.columns]
        imputed = mice(df, mi_cols, cb, m=int(plan.mi.get("m", 20)), iterations=int(plan.mi.get("iterations", 10)),
                       seed=int(plan.mi.get("seed", 0)))
    for spec in plan.models:
        covariates, screen = select_covariates(df, spec, plan, cb)
        screens.append(screen)
        sample, excl, with_outcome = _population(df, spec, covariates, cb)
        for r in excl:
            excl_rows.append({"model": spec.key, **r})
        design = build_design(sample, covariates, plan, cb)
        X, y = design.X, sample[spec.outcome].to_numpy(dtype=float)
        n, events = len(y), int(y.sum())
        k = X.shape[1] - 1
        sep = detect_separation(X, y)
        ml_fit = fit_logit(X, y)
        uni_idx = {t: design.term_columns(t) for t in covariates}
        uni_seps = {t: detect_separation(X[:, [0, *idx]], y) for t, idx in uni_idx.items()}
        method = _decide_method(plan, sep, ml_fit, uni_seps)
        adjusted = fit_with_inference(X, y, method, level)
        rows = []
        for t, idx in uni_idx.items():
            uf = fit_with_inference(X[:, [0, *idx]], y, method, level)
            pg = global_lr(X[:, [0, *idx]], y, uf.fit, design, {t: list(range(1, len(idx) + 1))})
            rows += _rows(spec.key, "Unadjusted", design, idx, uf, method, n, events, True, [t], pg)
        pg_adj = global_lr(X, y, adjusted.fit, design, uni_idx)
        rows += _rows(spec.key, "Adjusted", design, list(range(1, k + 1)), adjusted, method, n, events, True,
                      p_global=pg_adj)
        main[spec.key] = rows

        def names(cols: tuple[int, ...]) -> list[str]:
            return [f"{design.columns[j - 1].label}" + (f" ({design.columns[j - 1].level_label})"
                                                         if design.columns[j - 1].level_label else "")
                    for j in cols if j > 0]

        sep_words = [_describe_separation(names(sep.columns) or ["the covariates"], sep.complete)] if sep.separated else []
        for t, s in uni_seps.items():
            if s.separated and not sep.separated:
                sep_words.append(f"{_describe_separation(names(tuple(uni_idx[t][i - 1] for i in s.columns if i > 0)) or [cb[t].label], s.complete)} in the unadjusted model")
        separation_text = "; ".join(sep_words) or "No separation detected"
        convergence_text = ("Maximum likelihood converged" if ml_fit.converged else
                            "Maximum likelihood did not converge to finite estimates")
        epv = min(events, n - events) / k if k else np.nan
        summary_rows.append({
            "model": spec.key, "title": spec.title, "outcome": spec.outcome, "outcome_label": cb[spec.outcome].label,
            "population": spec.population, "strategy": plan.strategy,
            "covariates": "; ".join(_term_label(c, plan, cb) for c in covariates),
            "n": n, "events": events, "non_events": n - events, "parameters": k, "epv": epv,
            "epv_note": (f"Fewer than {plan.epv_warning_below:g} events per variable: estimates may be unstable"
                         if epv < plan.epv_warning_below else f"At least {plan.epv_warning_below:g} events per variable"),
            "separation": separation_text, "convergence": convergence_text, "method": method,
            "ci_method": CI_METHOD[method], "p_method": P_METHOD[method], "p_global_method": GLOBAL_P_METHOD[method],
            "footnote": (f"{method} logistic regression; {level:.0%} confidence intervals by {CI_METHOD[method]}; "
                         f"p-values from the {P_METHOD[method]}."),
        })
        p_hat = 1 / (1 + np.exp(-(X @ adjusted.fit.coef)))
        c, c_lo, c_hi = c_statistic(y, p_hat, level)
        hl, hl_df, hl_p = hosmer_lemeshow(y, p_hat, plan.hl_groups)
        g = gvif(adjusted.fit.cov[1:, 1:], [[j - 1 for j in design.term_columns(t)] for t in covariates])
        worst = int(np.argmax(g)) if g else 0
        diag_rows.append({"model": spec.key, "n": n, "events": events, "c_statistic": c, "c_ci_low": c_lo,
                          "c_ci_high": c_hi, "hl_chi2": hl, "hl_df": hl_df, "hl_p": hl_p,
                          "max_gvif": g[worst] if g else np.nan,
                          "max_gvif_term": cb[covariates[worst]].label if g else ""})
        if not sensitivity:
            continue
        idx_all = list(range(1, k + 1))
        sens_rows += _sens(spec.key, PRIMARY, design, idx_all, adjusted, method,
                           f"{CI_METHOD[method]} CI", n, events, pg_adj,
                           f"{P_METHOD[method]} of the model with against without them")
        sens_rows += _mi_rows(spec, design, imputed, with_outcome, covariates, method, plan, cb)
        groups = sample[plan.cluster].astype(str).to_numpy()
        cov_cl = sandwich_cov(X, y, adjusted.fit, groups=groups)
        sens_rows += _sens(spec.key, CLUSTER, design, idx_all, _wald(adjusted.fit.coef, cov_cl, level), method,
                           f"Wald CI, sandwich variance clustered by {cb[plan.cluster].label} "
                           f"({len(np.unique(groups))} clusters)", n, events,
                           _global_wald(design, adjusted.fit.coef, cov_cl), GLOBAL_WALD)
        if spec.requires:
            w_all, w_text = _follow_up_weights(df, plan, cb)
            wsub = sample.index.intersection(w_all.index)
            wmask = sample.index.isin(wsub)
            w = w_all.reindex(sample.index[wmask]).to_numpy()
            fw = fit_logit(X[wmask], y[wmask], firth=method == FIRTH, weights=w)
            cov_w = sandwich_cov(X[wmask], y[wmask], fw)
            sens_rows += _sens(spec.key, IPW, design, idx_all, _wald(fw.coef, cov_w, level), method,
                               f"Wald CI, HC0 sandwich variance; weights from a {w_text}",
                               int(wmask.sum()), int(y[wmask].sum()), _global_wald(design, fw.coef, cov_w), GLOBAL_WALD)
    out = {f"models_{key}": pd.DataFrame(rows) for key, rows in main.items()}
    out["models_summary"] = pd.DataFrame(summary_rows)
    out["models_exclusions"] = pd.DataFrame(excl_rows)
    out["models_diagnostics"] = pd.DataFrame(diag_rows)
    if sensitivity:
        out["models_sensitivity"] = pd.DataFrame(sens_rows)
    if plan.strategy == "screen":
        out["models_screening"] = pd.concat(screens, ignore_index=True)
    return out


def _global_wald(design: Design, coef: np.ndarray, cov: np.ndarray) -> dict[str, float]:
    return {t: wald_pvalue(coef, cov, design.term_columns(t)) for t in design.multi_level_terms()}


def _sens(model: str, analysis: str, design: Design, idx: list[int], res, method: str, inference: str,
          n: int, events: int, p_global: dict[str, float], p_global_method: str) -> list[dict]:
    rows = _rows(model, "Adjusted", design, idx, res, method, n, events, with_refs=False, p_global=p_global)
    for r in rows:
        r.pop("type")
        r["analysis"] = analysis
        r["inference"] = inference
        r["p_global_method"] = p_global_method if p_global else ""
    return rows


def _mi_rows(spec: ModelSpec, design: Design, imputed: list[pd.DataFrame], with_outcome: pd.Series,
             covariates: list[str], method: str, plan: Plan, cb: Codebook) -> list[dict]:
    """Adjusted model on each imputed dataset (dyads whose outcome was recorded), pooled by Rubin's rules."""
    mi_method = method
    fits = []
    for frame in imputed:
        sub = frame.loc[with_outcome[with_outcome].index]
        d = build_design(sub, covariates, plan, cb, columns=design.columns)
        yy = sub[spec.outcome].to_numpy(dtype=float)
        fits.append((d.X, yy))
    results = [fit_logit(Xm, ym, firth=mi_method == FIRTH) for Xm, ym in fits]
    if mi_method == ML and not all(r.converged for r in results):
        mi_method = FIRTH
        results = [fit_logit(Xm, ym, firth=True) for Xm, ym in fits]
    Q = np.array([r.coef[1:] for r in results])
    U = np.array([r.cov[1:, 1:] for r in results])
    n = len(fits[0][1])
    k = fits[0][0].shape[1]
    pooled = rubin(Q, np.diagonal(U, axis1=1, axis2=2), df_complete=n - k, level=plan.confidence_level)
    m = len(imputed)
    note = (f"m = {m} imputations by chained equations; Rubin's rules, t-based CI with Barnard-Rubin degrees of "
            f"freedom; dyads whose outcome was not recorded are not analysed")
    if mi_method != method:
        note += "; Firth's penalised likelihood used because maximum likelihood did not converge in some imputations"
    p_global = {}
    for t in design.multi_level_terms():
        j = [c - 1 for c in design.term_columns(t)]
        p_global[t] = pooled_wald(Q[:, j], U[:, j][:, :, j])[3]
    return _sens(spec.key, MI, design, list(range(1, k)), pooled, mi_method, note, n,
                 int(round(np.mean([f[1].sum() for f in fits]))), p_global, GLOBAL_D1)


def results(cohort: pd.DataFrame, config: Config) -> dict[str, pd.DataFrame]:
    """Tidy tables of the models stage: ``models_<model>`` (unadjusted and adjusted ORs), ``models_sensitivity``,
    ``models_summary``, ``models_exclusions``, ``models_diagnostics`` (and ``models_screening`` for strategy screen)."""
    cb = load_codebook(config.codebook_path)
    plan = load_plan(config.analysis_plan_path, cb)
    return fit_models(cohort, plan, cb)
