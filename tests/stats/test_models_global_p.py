"""Global p-values of multi-level categorical terms, each against an independent computation built here."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from perinatal_csc.stats import models
from perinatal_csc.stats.firth import fit_logit, lr_pvalue
from perinatal_csc.stats.imputation import pooled_wald
from perinatal_csc.present import models as pm
from simulated_cohort import simulate_cohort

MULTI = {"episode": "diagnosis", "one_year": "relationship"}


@pytest.fixture(scope="module")
def synthetic():
    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort
    cfg = load_config(source="synthetic")
    df = cohort(cfg)
    return df, models.results(df, cfg)


def independent_design(df: pd.DataFrame, spec, plan, cb) -> tuple[pd.DataFrame, pd.Series, dict[str, list[str]]]:
    """Complete cases and a dummy-coded design built with pandas, columns grouped by covariate."""
    cc = df[(df[spec.requires] == 1)] if spec.requires else df
    cc = cc.dropna(subset=[spec.outcome, *spec.covariates])
    cols, groups = {}, {}
    for name in spec.covariates:
        if cb[name].type == "categorical":
            ref = plan.reference(name)
            levels = [c for c in cb[name].codes if c != ref and (cc[name] == c).any()]
            groups[name] = [f"{name}={c}" for c in levels]
            for c in levels:
                cols[f"{name}={c}"] = (cc[name].astype(object) == c).astype(float)
        else:
            groups[name] = [name]
            cols[name] = cc[name].astype(float) / plan.per(name)
    return sm.add_constant(pd.DataFrame(cols)), cc[spec.outcome].astype(float), groups


def statsmodels_lr_p(y: pd.Series, X: pd.DataFrame, drop: list[str]) -> float:
    full = sm.Logit(y, X).fit(disp=0)
    reduced = sm.Logit(y, X.drop(columns=drop)).fit(disp=0)
    return float(stats.chi2.sf(2 * (full.llf - reduced.llf), len(drop)))


def check_against_independent_fits(df, out, plan, cb) -> list[str]:
    """Global p of every model against statsmodels (ML) or the penalised likelihood maximised here (Firth)."""
    methods = []
    for spec in plan.models:
        X, y, groups = independent_design(df, spec, plan, cb)
        t = out[f"models_{spec.key}"]
        term = MULTI[spec.key]
        dummies = groups[term]
        assert len(dummies) >= 2
        if t.method.iloc[0] == models.ML:
            expected = {"Adjusted": statsmodels_lr_p(y, X, dummies),
                        "Unadjusted": statsmodels_lr_p(y, X[["const", *dummies]], dummies)}
        else:
            Xu = X[["const", *dummies]].to_numpy()
            expected = {"Adjusted": independent_penalised_lr_p(X.to_numpy(), y.to_numpy(),
                                                               [X.columns.get_loc(c) for c in dummies]),
                        "Unadjusted": independent_penalised_lr_p(Xu, y.to_numpy(), list(range(1, Xu.shape[1])))}
        methods.append(t.method.iloc[0])
        for kind, p in expected.items():
            rows = t[(t.type == kind) & (t.term == term)]
            assert len(rows) == len(dummies) + 1                      # reference row + one per dummy
            np.testing.assert_allclose(rows.p_global, p, rtol=1e-5)
        assert t.loc[t.term != term, "p_global"].isna().all()
        s = out["models_sensitivity"]
        prim = s[(s.model == spec.key) & (s.analysis == models.PRIMARY) & (s.term == term)]
        np.testing.assert_allclose(prim.p_global, expected["Adjusted"], rtol=1e-5)
    return methods


def test_global_p_matches_independent_full_against_reduced_fits_on_simulated_data(simulated, plan, cb):
    df, out = simulated
    assert check_against_independent_fits(df, out, plan, cb) == [models.FIRTH, models.ML]


def test_global_p_is_the_likelihood_ratio_test_of_statsmodels_full_against_reduced_synthetic(synthetic, plan, cb):
    df, out = synthetic
    assert check_against_independent_fits(df, out, plan, cb) == [models.ML, models.ML]


def test_binary_terms_and_levels_absent_from_the_sample_get_no_global_p(plan, cb):
    df = simulate_cohort(n=278, seed=3)
    df.loc[df.relationship == "partner_not_cohabiting", "relationship"] = "single"
    out = models.fit_models(df, plan, cb, sensitivity=False)
    assert out["models_one_year"].p_global.isna().all()              # relationship now has one dummy
    assert out["models_episode"].query("term == 'diagnosis'").p_global.notna().all()


# ---- Firth: penalised likelihood ratio test, reduced model under the full model's penalty -----------

def penalised_loglik(beta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    eta = X @ beta
    p = 1 / (1 + np.exp(-eta))
    info = X.T @ (X * (p * (1 - p))[:, None])
    return float(np.sum(y * eta - np.log1p(np.exp(eta))) + 0.5 * np.linalg.slogdet(info)[1])


def max_penalised(X: np.ndarray, y: np.ndarray, free: list[int]) -> float:
    """Maximum over the ``free`` coefficients (others held at zero) of the penalised log-likelihood with design X."""
    def neg(b_free):
        beta = np.zeros(X.shape[1])
        beta[free] = b_free
        return -penalised_loglik(beta, X, y)
    return -optimize.minimize(neg, np.zeros(len(free)), method="BFGS", options={"gtol": 1e-9}).fun


def independent_penalised_lr_p(X: np.ndarray, y: np.ndarray, drop: list[int]) -> float:
    """Penalised LR test of the columns in ``drop``: both fits penalised with the full X (logistf ``anova``, nested)."""
    keep = [j for j in range(X.shape[1]) if j not in drop]
    stat = 2 * (max_penalised(X, y, list(range(X.shape[1]))) - max_penalised(X, y, keep))
    return float(stats.chi2.sf(stat, len(drop)))


def test_penalised_lr_global_p_on_a_small_separated_example():
    rng = np.random.default_rng(7)
    n = 36
    level = np.repeat([0, 1, 2], 12)
    x = rng.normal(size=n)
    y = rng.binomial(1, 1 / (1 + np.exp(-(-0.5 + 0.7 * x))))
    y[level == 2] = 1                                                  # level 2 separates: all events
    X = np.column_stack([np.ones(n), level == 1, level == 2, x]).astype(float)
    assert not fit_logit(X, y).converged
    fit = fit_logit(X, y, firth=True)
    expected = independent_penalised_lr_p(X, y, [1, 2])
    assert lr_pvalue(X, y, fit, [1, 2]) == pytest.approx(expected, rel=1e-5)
    reduced_own_penalty = max_penalised(X[:, [0, 3]], y, [0, 1])       # the penalty matters: not this test
    plr = stats.chi2.sf(2 * (max_penalised(X, y, [0, 1, 2, 3]) - reduced_own_penalty), 2)
    assert plr != pytest.approx(expected, rel=0.1)


def test_firth_model_table_carries_the_penalised_lr_global_p(plan, cb):
    df = simulate_cohort(n=278, seed=4)
    df.loc[df.diagnosis == "schizophrenia", "csc_any_index"] = 1
    out = models.fit_models(df, plan, cb, sensitivity=False)
    spec = next(m for m in plan.models if m.key == "episode")
    X, y, groups = independent_design(df, spec, plan, cb)
    t = out["models_episode"]
    assert (t.method == models.FIRTH).all()
    drop = [X.columns.get_loc(c) for c in groups["diagnosis"]]
    adjusted = t[(t.type == "Adjusted") & (t.term == "diagnosis")].p_global
    np.testing.assert_allclose(adjusted, independent_penalised_lr_p(X.to_numpy(), y.to_numpy(), drop), rtol=1e-5)
    Xu = X[["const", *groups["diagnosis"]]].to_numpy()
    unadjusted = t[(t.type == "Unadjusted") & (t.term == "diagnosis")].p_global
    np.testing.assert_allclose(unadjusted, independent_penalised_lr_p(Xu, y.to_numpy(), list(range(1, Xu.shape[1]))),
                               rtol=1e-5)
    assert "penalised likelihood ratio" in out["models_summary"].set_index("model").loc["episode", "p_global_method"]


# ---- sensitivity fits: Wald with the analysis's covariance; D1 for multiple imputation -------------

def test_cluster_robust_global_p_matches_statsmodels_wald_test(synthetic, plan, cb):
    df, out = synthetic
    spec = next(m for m in plan.models if m.key == "episode")
    X, y, groups = independent_design(df, spec, plan, cb)
    sites = df.loc[X.index, "site"].astype(str).to_numpy()
    glm = sm.GLM(y, X, family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": sites})
    R = np.zeros((len(groups["diagnosis"]), X.shape[1]))
    for i, c in enumerate(groups["diagnosis"]):
        R[i, X.columns.get_loc(c)] = 1
    wald = glm.wald_test(R, use_f=False, scalar=True)
    s = out["models_sensitivity"]
    got = s[(s.model == "episode") & (s.analysis == models.CLUSTER) & (s.term == "diagnosis")].p_global
    np.testing.assert_allclose(got, float(wald.pvalue), rtol=1e-6)


def test_every_sensitivity_analysis_reports_a_global_p_for_multi_level_terms(simulated):
    _, out = simulated
    s = out["models_sensitivity"]
    for model, term in MULTI.items():
        g = s[(s.model == model) & (s.term == term)]
        per = g.groupby("analysis").p_global.agg(["nunique", "first"])
        assert (per["nunique"] == 1).all() and per["first"].between(0, 1).all()
        assert set(g.analysis) >= {models.PRIMARY, models.MI, models.CLUSTER}
        assert (g[g.analysis == models.MI].p_global_method == models.GLOBAL_D1).all()
        assert s[(s.model == model) & (s.term != term)].p_global.isna().all()


def test_pooled_wald_d1_matches_a_hand_calculation():
    Q = np.array([[0.9, -0.3], [1.1, -0.1], [0.7, -0.4], [1.0, -0.2]])
    U = np.array([[[0.04, 0.01], [0.01, 0.05]], [[0.05, 0.012], [0.012, 0.06]],
                  [[0.045, 0.008], [0.008, 0.05]], [[0.04, 0.01], [0.01, 0.055]]])
    m, k = 4, 2
    qbar = Q.sum(axis=0) / m
    ubar = U.sum(axis=0) / m
    B = sum(np.outer(q - qbar, q - qbar) for q in Q) / (m - 1)
    ubar_inv = np.linalg.inv(ubar)
    r1 = (1 + 1 / m) * np.trace(B @ ubar_inv) / k
    D1 = qbar @ ubar_inv @ qbar / (k * (1 + r1))
    t = k * (m - 1)                                                    # 6 > 4
    v1 = 4 + (t - 4) * (1 + (1 - 2 / t) / r1) ** 2
    d1, df1, df2, p = pooled_wald(Q, U)
    assert (d1, df1, df2) == pytest.approx((D1, k, v1))
    assert p == pytest.approx(stats.f.sf(D1, k, v1))


def test_pooled_wald_without_between_imputation_variance_is_the_wald_chi2():
    Q = np.tile([0.5, -0.2], (5, 1))
    U = np.tile(np.array([[0.04, 0.01], [0.01, 0.09]]), (5, 1, 1))
    d1, _, _, p = pooled_wald(Q, U)
    w = Q[0] @ np.linalg.inv(U[0]) @ Q[0]
    assert d1 == pytest.approx(w / 2) and p == pytest.approx(stats.chi2.sf(w, 2))


# ---- presentation ----------------------------------------------------------------------------------

def test_term_heading_rows_show_the_global_p_and_the_footnote_says_what_it_is(simulated):
    _, out = simulated
    for model, term in MULTI.items():
        t = out[f"models_{model}"]
        frame = pm.odds_ratio_frame(out, model)
        label = t.loc[t.term == term, "label"].iloc[0]
        heading = frame[frame.characteristic == label].iloc[0]
        for prefix, kind in (("u", "Unadjusted"), ("a", "Adjusted")):
            p = t[(t.type == kind) & (t.term == term)].p_global.iloc[0]
            assert heading[f"{prefix}_p"] == pm.fmt_p(p) and heading[f"{prefix}_or"] == ""
        others = frame[(frame.u_or == "") & (frame.characteristic != label)]
        assert (others.u_p == "").all()
        notes = " ".join(pm.model_footnotes(out, model))
        assert "global p-value" in notes and "with against without" in notes
        sens = pm.sensitivity_frame(out, model)
        row = sens[sens.characteristic == label].iloc[0]
        s = out["models_sensitivity"]
        for analysis in sens.columns[1:]:
            p = s[(s.model == model) & (s.analysis == analysis) & (s.term == term)].p_global.iloc[0]
            assert row[analysis] == ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")
        html = pm.sensitivity_table(out, model, is_synthetic=True).as_raw_html()
        assert "D1 Wald statistic" in html
