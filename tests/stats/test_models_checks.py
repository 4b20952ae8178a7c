"""Models stage against independent computations built here: imputed designs, method rule, weights, pooling."""
import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from perinatal_csc.stats import models
from simulated_cohort import simulate_cohort

ONE_YEAR_LEVELS = [("deprived", "1"), ("childhood_trauma", "1"), ("relationship", "partner_not_cohabiting"),
                   ("relationship", "single"), ("readmitted_1y", "1"), ("maternal_age", "")]


def one_year_X(d: pd.DataFrame) -> pd.DataFrame:
    """The one-year design coded by hand (reference: not deprived, no trauma, married or cohabiting, not readmitted)."""
    return sm.add_constant(pd.DataFrame({
        "deprived": d.deprived.astype(float), "trauma": d.childhood_trauma.astype(float),
        "partner": (d.relationship.astype(object) == "partner_not_cohabiting").astype(float),
        "single": (d.relationship.astype(object) == "single").astype(float),
        "readm": d.readmitted_1y.astype(float), "age5": d.maternal_age.astype(float) / 5}, index=d.index))


def rows_in_order(t: pd.DataFrame) -> pd.DataFrame:
    t = t.assign(level=t.level.astype(str))
    return pd.concat([t[(t.term == term) & (t.level == level)] for term, level in ONE_YEAR_LEVELS])


# ---- 1. a category seen only among incomplete dyads keeps its own column after imputation ----------------

def test_level_present_only_in_incomplete_rows_gets_its_own_column_after_imputation(plan, cb):
    df = simulate_cohort(n=278, seed=2)
    other = df.diagnosis == "other"
    df.loc[other, "maternal_age"] = np.nan
    small = dataclasses.replace(plan, mi={**plan.mi, "m": 5})
    out = models.fit_models(df, small, cb)
    prim = out["models_episode"]
    mi = out["models_sensitivity"]
    mi = mi[(mi.model == "episode") & (mi.analysis == models.MI)]
    assert "other" not in set(prim.loc[prim.term == "diagnosis", "level"])
    assert "other" in set(mi.loc[mi.term == "diagnosis", "level"])
    assert np.isfinite(mi.loc[mi.level == "other", "or"]).all()
    from perinatal_csc.present import models as pm
    frame = pm.sensitivity_frame(out, "episode")
    line = frame[frame.characteristic.str.contains("Other diagnosis")].iloc[0]
    assert line[models.PRIMARY] == pm.DASH and line[models.MI] != pm.DASH
    cc = df[df.csc_any_index.notna()].dropna(subset=["deprived", "childhood_trauma", "domestic_abuse", "diagnosis",
                                                      "prev_psych_admission", "maternal_age"])
    covs = list(next(m for m in plan.models if m.key == "episode").covariates)
    primary_design = models.build_design(cc, covs, plan, cb)
    imputed = models.impute(df, small, cb)[0]
    with pytest.raises(ValueError, match="other"):
        models.build_design(imputed, covs, plan, cb, columns=primary_design.columns)


# ---- 2. non-convergence of an unadjusted model switches the outcome to Firth ---------------------------------

def test_unadjusted_non_convergence_switches_the_model_to_firth(plan, cb, monkeypatch):
    df = simulate_cohort(n=278, seed=1)
    real = models.fit_logit

    def age_alone_fails(X, y, **kw):
        fit = real(X, y, **kw)
        age_only = X.shape[1] == 2 and len(np.unique(X[:, 1])) > 2
        return dataclasses.replace(fit, converged=False) if age_only and not kw.get("firth") else fit

    before = models.fit_models(df, plan, cb, sensitivity=False)["models_summary"].set_index("model")
    assert before.loc["one_year", "method"] == models.ML
    monkeypatch.setattr(models, "fit_logit", age_alone_fails)
    summ = models.fit_models(df, plan, cb, sensitivity=False)["models_summary"].set_index("model")
    assert summ.loc["one_year", "method"] == models.FIRTH
    assert "unadjusted model of maternal age" in summ.loc["one_year", "convergence"]


# ---- 4. inverse probability of follow-up weights, rebuilt with statsmodels -----------------------------------

def test_weighted_model_matches_statsmodels_weights_and_hc0_glm_and_counts_dyads_without_a_weight(plan, cb):
    df = simulate_cohort(n=278, seed=1)
    followed_cc = df[(df.followed_up_1y == 1)].dropna(subset=["csc_any_1y", "deprived", "childhood_trauma",
                                                               "relationship", "readmitted_1y", "maternal_age"])
    no_weight = followed_cc.index[:6]
    df.loc[no_weight, "service_type"] = np.nan
    out = models.fit_models(df, dataclasses.replace(plan, mi={**plan.mi, "m": 3}), cb)

    wsub = df.dropna(subset=["service_type", "nation", "csc_any_index", "maternal_age", "deprived", "followed_up_1y"])
    W = sm.add_constant(pd.DataFrame({
        "ward": (wsub.service_type.astype(object) == "general_ward").astype(float),
        "crisis": (wsub.service_type.astype(object) == "crisis_team").astype(float),
        "wales": (wsub.nation.astype(object) == "wales").astype(float),
        "csc": wsub.csc_any_index.astype(float), "age": wsub.maternal_age.astype(float),
        "deprived": wsub.deprived.astype(float)}, index=wsub.index))
    f = wsub.followed_up_1y.astype(float)
    prob = sm.Logit(f, W).fit(disp=0).predict(W)
    weights = f.mean() / prob

    cc = followed_cc.drop(index=no_weight)
    y = cc.csc_any_1y.astype(float)
    glm = sm.GLM(y, one_year_X(cc), family=sm.families.Binomial(),
                 var_weights=weights.loc[cc.index]).fit(cov_type="HC0")
    s = out["models_sensitivity"]
    got = rows_in_order(s[(s.model == "one_year") & (s.analysis == models.IPW)])
    np.testing.assert_allclose(got["or"], np.exp(glm.params.to_numpy()[1:]), rtol=1e-5)
    np.testing.assert_allclose(got.se, glm.bse.to_numpy()[1:], rtol=1e-4)
    assert set(got.n) == {len(cc)}

    ex = out["models_exclusions"]
    ipw = ex[(ex.model == "one_year") & (ex.analysis == models.IPW)]
    assert ipw.excluded.sum() == len(no_weight) and ipw.remaining.iloc[-1] == len(cc)
    assert "Acute service type" in " ".join(ipw.reason)


# ---- 5. multiple imputation pooled here by Rubin's rules -------------------------------------------------------

def test_multiple_imputation_rows_match_statsmodels_fits_pooled_by_rubins_rules(simulated, plan, cb):
    df, out = simulated
    rows = df.index[(df.followed_up_1y == 1) & df.csc_any_1y.notna()]
    Q, U = [], []
    for frame in models.impute(df, plan, cb):
        d = frame.loc[rows]
        fit = sm.Logit(d.csc_any_1y.astype(float), one_year_X(d)).fit(disp=0)
        Q.append(fit.params.to_numpy()[1:])
        U.append(np.diag(fit.cov_params().to_numpy())[1:])
    Q, U = np.array(Q), np.array(U)
    m, n, k = len(Q), len(rows), Q.shape[1] + 1
    qbar, ubar, b = Q.mean(axis=0), U.mean(axis=0), Q.var(axis=0, ddof=1)
    total = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / total
    nu_com = n - k
    nu_old = (m - 1) / lam ** 2
    nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lam)
    nu = 1 / (1 / nu_old + 1 / nu_obs)
    half = stats.t.ppf(0.975, nu) * np.sqrt(total)
    riv = (1 + 1 / m) * b / ubar

    s = out["models_sensitivity"]
    got = rows_in_order(s[(s.model == "one_year") & (s.analysis == models.MI)])
    assert (got.method == models.ML).all() and set(got.n) == {n}
    np.testing.assert_allclose(got["or"], np.exp(qbar), rtol=1e-5)
    np.testing.assert_allclose(got.ci_low, np.exp(qbar - half), rtol=1e-4)
    np.testing.assert_allclose(got.ci_high, np.exp(qbar + half), rtol=1e-4)
    np.testing.assert_allclose(got.df, nu, rtol=1e-3)
    np.testing.assert_allclose(got.fmi, (riv + 2 / (nu + 3)) / (1 + riv), rtol=1e-3)
    assert s.loc[s.analysis != models.MI, ["df", "fmi"]].isna().all().all()


# ---- 11. the direction of each association is decided here, not in the presentation ---------------------------

def test_direction_follows_the_interval(simulated):
    _, out = simulated
    for key in ("models_episode", "models_one_year"):
        t = out[key]
        est = t[~t.reference]
        expected = np.where(est.ci_low > 1, "higher", np.where(est.ci_high < 1, "lower", ""))
        assert est.direction.tolist() == expected.tolist()
        assert (t.loc[t.reference, "direction"] == "").all()
    assert {"higher"} <= set(out["models_episode"].direction)


# ---- 9/10. the plan as the Methods quote it ---------------------------------------------------------------------

def test_plan_table_lists_only_candidates_actually_screened(plan, cb):
    screen = dataclasses.replace(plan, strategy="screen")
    t = models.plan_table(screen, cb)
    episode = set(t[(t.section == "covariate") & (t.model == "episode")].name)
    assert "readmitted_1y" in plan.screen_candidates and "readmitted_1y" not in episode
    assert "readmitted_1y" in set(t[(t.section == "covariate") & (t.model == "one_year")].name)
    pre = models.plan_table(plan, cb)
    assert set(pre[(pre.section == "covariate") & (pre.model == "episode")].name) == \
        set(next(m for m in plan.models if m.key == "episode").covariates)
    settings = pre[pre.section == "setting"].set_index("name").value
    assert float(settings["confidence_level"]) == plan.confidence_level and int(settings["hl_groups"]) == plan.hl_groups


# ---- a separated level: only the primary (Firth) analysis estimates it --------------------------------------

def test_a_separated_level_is_not_estimable_in_the_sensitivity_analyses(plan, cb):
    """Every dyad whose mother has a diagnosis of personality disorder has CSC involvement during the
    episode (quasi-complete separation): the primary model switches to Firth, which estimates that
    level; the imputed, clustered and weighted variants' Wald intervals for it are marked not
    estimable, in the results and in the table, with the reason in a note."""
    df = simulate_cohort(n=278, seed=1)
    pd_rows = df.diagnosis.astype(object) == "personality_disorder"
    df.loc[pd_rows, "csc_any_index"] = 1
    small = dataclasses.replace(plan, mi={**plan.mi, "m": 5})
    out = models.fit_models(df, small, cb)
    summ = out["models_summary"].set_index("model")
    assert summ.loc["episode", "method"] == models.FIRTH
    covs = list(next(m for m in plan.models if m.key == "episode").covariates)
    cc = df[df.csc_any_index.notna()].dropna(subset=covs)
    by_level = cc.groupby(cc.diagnosis.astype(object)).csc_any_index.agg(lambda v: v.nunique())
    separated = set(by_level[by_level == 1].index)                     # one outcome only: no finite ML estimate
    assert "personality_disorder" in separated
    s = out["models_sensitivity"]
    s = s[s.model == "episode"]
    for level, rows in s[s.term == "diagnosis"].groupby(s.level.astype(str)):
        expected = {a: a == models.PRIMARY or level not in separated for a in rows.analysis}
        assert rows.set_index("analysis").estimable.to_dict() == expected, level
    assert set(s.analysis) >= {models.PRIMARY, models.MI, models.CLUSTER}
    assert s[s.term != "diagnosis"].estimable.all()
    from perinatal_csc.present import models as pm
    frame = pm.sensitivity_frame(out, "episode")
    line = frame[frame.characteristic.str.contains("Personality disorder")].iloc[0]
    assert line[models.PRIMARY] != pm.NOT_ESTIMABLE
    assert line[models.MI] == pm.NOT_ESTIMABLE and line[models.CLUSTER] == pm.NOT_ESTIMABLE
    html = pm.sensitivity_table(out, "episode", is_synthetic=True).as_raw_html()
    assert "Not estimable: the primary model is separated" in html
