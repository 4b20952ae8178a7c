"""The models stage: plan, exclusions, method choice, sensitivity analyses, diagnostics, synthetic cohort."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy import stats

from perinatal_csc.stats import models
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.stats.diagnostics import c_statistic, gvif, hosmer_lemeshow
from perinatal_csc.stats.plan import PlanError, load_plan
from perinatal_csc.paths import PROJECT_ROOT
from simulated_cohort import simulate_cohort

PLAN = PROJECT_ROOT / "config" / "analysis_plan.yml"


@pytest.fixture(scope="module")
def sim_results(plan, cb):
    df = simulate_cohort(n=278, seed=1)
    return df, models.fit_models(df, plan, cb)


# ---- the plan ---------------------------------------------------------------------------------

def test_plan_states_a_valid_reference_for_every_categorical_covariate(plan, cb):
    used = {c for m in plan.models for c in m.covariates} | set(plan.screen_candidates)
    for name in used:
        if cb[name].type in ("binary", "categorical"):
            assert plan.reference(name) in cb[name].codes, name
    assert plan.reference("diagnosis") == "depression"
    assert plan.reference("relationship") == "married_cohabiting"
    assert plan.strategy == "prespecified"


def test_plan_without_a_reference_level_is_rejected(tmp_path, cb):
    raw = yaml.safe_load(PLAN.read_text())
    del raw["covariates"]["diagnosis"]["reference"]
    raw["covariates"]["relationship"]["reference"] = "widowed"
    bad = tmp_path / "plan.yml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(PlanError) as e:
        load_plan(bad, cb)
    assert "diagnosis" in str(e.value) and "widowed" in str(e.value)


# ---- tidy tables --------------------------------------------------------------------------------

def test_exclusions_account_for_every_dyad(sim_results):
    df, out = sim_results
    ex = out["models_exclusions"]
    ex = ex[ex.analysis == models.PRIMARY]
    summ = out["models_summary"].set_index("model")
    for model, g in ex.groupby("model"):
        assert g.remaining.iloc[0] == len(df)
        assert len(df) - g.excluded.sum() == g.remaining.iloc[-1] == summ.loc[model, "n"]
    one = ex[ex.model == "one_year"]
    assert one.excluded.iloc[1] == int((df.followed_up_1y == 0).sum())


def test_complete_case_fit_and_sample_match_an_independent_statsmodels_fit(sim_results, plan, cb):
    df, out = sim_results
    spec = next(m for m in plan.models if m.key == "one_year")
    cc = df[(df.followed_up_1y == 1)].dropna(subset=[spec.outcome, *spec.covariates])
    X = pd.DataFrame({"deprived": cc.deprived.astype(float), "trauma": cc.childhood_trauma.astype(float),
                      "partner": (cc.relationship == "partner_not_cohabiting").astype(float),
                      "single": (cc.relationship == "single").astype(float),
                      "readm": cc.readmitted_1y.astype(float), "age5": cc.maternal_age / 5})
    ref = sm.Logit(cc[spec.outcome].astype(float), sm.add_constant(X)).fit(disp=0)
    t = out["models_one_year"]
    adj = t[(t.type == "Adjusted") & ~t.reference]
    summ = out["models_summary"].set_index("model").loc["one_year"]
    assert summ.method == models.ML
    np.testing.assert_allclose(adj["or"].to_numpy(), np.exp(ref.params.to_numpy()[1:]), rtol=1e-5)
    assert set(adj.n) == {len(cc)} and set(adj.events) == {int(cc[spec.outcome].sum())}
    assert summ.epv == pytest.approx(min(cc[spec.outcome].sum(), len(cc) - cc[spec.outcome].sum()) / 6)
    unadj_single = t[(t.type == "Unadjusted") & (t.level == "single")]["or"].iloc[0]
    uni = sm.Logit(cc[spec.outcome].astype(float), sm.add_constant(X[["partner", "single"]])).fit(disp=0)
    assert unadj_single == pytest.approx(np.exp(uni.params["single"]), rel=1e-5)


def test_tables_carry_the_contract_columns_and_reference_rows(sim_results):
    _, out = sim_results
    need = {"model", "term", "label", "level", "or", "ci_low", "ci_high", "p", "method", "n", "events", "type"}
    for key in ("models_episode", "models_one_year"):
        t = out[key]
        assert need <= set(t.columns)
        refs = t[t.reference]
        assert set(refs.term) <= {"diagnosis", "relationship"} and refs["or"].isna().all()
        est = t[~t.reference]
        assert (est.ci_low < est["or"]).all() and (est["or"] < est.ci_high).all()
        assert set(t.type) == {"Unadjusted", "Adjusted"}
        assert t.method.nunique() == 1
    for key in ("models_summary", "models_exclusions", "models_diagnostics", "models_sensitivity"):
        assert len(out[key]) > 0


# ---- sparse data --------------------------------------------------------------------------------

def test_separated_category_switches_the_whole_model_to_firth_and_says_so(plan, cb):
    df = simulate_cohort(n=278, seed=4)
    # every dyad with a diagnosis of schizophrenia has CSC involvement during the episode
    df.loc[df.diagnosis == "schizophrenia", "csc_any_index"] = 1
    out = models.fit_models(df, plan, cb, sensitivity=False)
    summ = out["models_summary"].set_index("model").loc["episode"]
    assert summ.method == models.FIRTH
    assert "separation" in summ.separation.lower() and "Schizophrenia" in summ.separation
    t = out["models_episode"]
    row = t[(t.type == "Adjusted") & (t.level == "schizophrenia")].iloc[0]
    assert np.isfinite(row["or"]) and row["or"] < 1e3 and np.isfinite(row.ci_high)
    assert (t.method == models.FIRTH).all()


# ---- sensitivity analyses -----------------------------------------------------------------------

def test_sensitivity_variants_sit_beside_the_primary_and_differ_from_it(sim_results):
    _, out = sim_results
    s = out["models_sensitivity"]
    for model, expected in (("episode", {models.PRIMARY, models.MI, models.CLUSTER}),
                            ("one_year", {models.PRIMARY, models.MI, models.CLUSTER, models.IPW})):
        g = s[s.model == model]
        assert set(g.analysis) == expected
        wide = g.pivot_table(index=["term", "level"], columns="analysis", values=["or", "ci_low"])
        prim = wide[("or", models.PRIMARY)]
        assert not np.allclose(wide[("or", models.MI)], prim, rtol=1e-3)
        np.testing.assert_allclose(wide[("or", models.CLUSTER)], prim)
        assert not np.allclose(wide[("ci_low", models.CLUSTER)], wide[("ci_low", models.PRIMARY)], rtol=1e-3)
        if models.IPW in expected:
            assert not np.allclose(wide[("or", models.IPW)], prim, rtol=1e-3)
    mi = s[s.analysis == models.MI]
    assert mi.n.gt(s[s.analysis == models.PRIMARY].n.min()).all()


# ---- diagnostics ------------------------------------------------------------------------------------

def _delong_by_loops(y, p):
    pos, neg = p[y == 1], p[y == 0]
    v10 = [np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for b in neg]) for a in pos]
    v01 = [np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a in pos]) for b in neg]
    return np.var(v10, ddof=1) / len(pos) + np.var(v01, ddof=1) / len(neg)


def test_c_statistic_matches_mann_whitney_and_delong_variance_by_loops():
    rng = np.random.default_rng(0)
    y = rng.binomial(1, 0.35, 150)
    p = np.round(rng.uniform(size=150) * 0.5 + 0.3 * y, 2)
    c, lo, hi = c_statistic(y, p)
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert c == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))
    se = np.sqrt(_delong_by_loops(y, p))
    assert (lo, hi) == pytest.approx((c - 1.959964 * se, c + 1.959964 * se), abs=1e-6)


def test_hosmer_lemeshow_matches_a_hand_computation_on_deciles():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.9, 200)
    y = rng.binomial(1, p)
    chi2, df, pval = hosmer_lemeshow(y, p, 10)
    order = np.argsort(p)
    stat = 0.0
    for grp in np.array_split(order, 10):   # distinct p: decile groups have 20 dyads each
        o, e, n = y[grp].sum(), p[grp].sum(), len(grp)
        stat += (o - e) ** 2 / e + ((n - o) - (n - e)) ** 2 / (n - e)
    assert chi2 == pytest.approx(stat) and df == 8 and pval == pytest.approx(stats.chi2.sf(stat, 8))


def test_gvif_equals_vif_for_single_columns_and_is_one_for_orthogonal_blocks():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(4, 4))
    cov = A @ A.T + 4 * np.eye(4)
    sd = np.sqrt(np.diag(cov))
    R = cov / np.outer(sd, sd)
    np.testing.assert_allclose(gvif(cov, [[0], [1], [2], [3]]), np.sqrt(np.diag(np.linalg.inv(R))))
    block = np.block([[np.array([[1.0, 0.3], [0.3, 1.0]]), np.zeros((2, 1))], [np.zeros((1, 2)), np.eye(1)]])
    np.testing.assert_allclose(gvif(block, [[0, 1], [2]]), [1.0, 1.0])


# ---- the default synthetic cohort through the pipeline -------------------------------------------

@pytest.fixture(scope="module")
def synthetic():
    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort
    cfg = load_config(source="synthetic")
    df = cohort(cfg)
    return df, models.results(df, cfg), load_plan(cfg.analysis_plan_path, load_codebook(cfg.codebook_path))


def test_synthetic_cohort_both_models_run_with_every_published_factor_above_one(synthetic):
    _, out, plan = synthetic
    for spec in plan.models:
        t = out[f"models_{spec.key}"]
        adj = t[(t.type == "Adjusted") & ~t.reference]
        for term, level in spec.published_factors:
            row = adj[(adj.term == term) & (adj.level == str(level))]
            assert len(row) == 1, (spec.key, term, level)
            assert row["or"].iloc[0] > 1, (spec.key, term, level, row["or"].iloc[0])


def test_synthetic_cohort_sensitivity_estimates_differ_from_complete_case(synthetic):
    _, out, _ = synthetic
    s = out["models_sensitivity"]
    for model, g in s.groupby("model"):
        wide = g.pivot_table(index=["term", "level"], columns="analysis", values="or")
        for variant in set(g.analysis) - {models.PRIMARY, models.CLUSTER}:
            assert not np.allclose(wide[variant], wide[models.PRIMARY], rtol=1e-3), (model, variant)


def test_hosmer_lemeshow_with_tied_predictions_merges_groups_as_pandas_qcut():
    """Binary covariates only: few distinct predictions, so decile breaks coincide and groups merge."""
    rng = np.random.default_rng(3)
    a, b = rng.binomial(1, 0.4, 300), rng.binomial(1, 0.3, 300)
    y = rng.binomial(1, 1 / (1 + np.exp(-(-1 + a + 0.8 * b))))
    X = sm.add_constant(np.column_stack([a, b]).astype(float))
    p = sm.Logit(y, X).fit(disp=0).predict(X)
    assert len(np.unique(np.round(p, 12))) == 4
    chi2, df, pval = hosmer_lemeshow(y, p, 10)
    groups = pd.qcut(p, 10, duplicates="drop")
    frame = pd.DataFrame({"y": y, "p": p, "g": groups}).groupby("g", observed=True)
    o, e, n = frame.y.sum(), frame.p.sum(), frame.size()
    stat = float((((o - e) ** 2) / e + (((n - o) - (n - e)) ** 2) / (n - e)).sum())
    assert len(n) < 10 and df == len(n) - 2
    assert chi2 == pytest.approx(stat) and pval == pytest.approx(stats.chi2.sf(stat, len(n) - 2))
