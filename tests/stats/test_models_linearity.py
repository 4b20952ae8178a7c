"""Linearity of maternal age in the adjusted models: restricted cubic spline against linear, checked
against statsmodels (maximum likelihood) and a penalised likelihood maximised by scipy (Firth), with the
spline basis written out here from Harrell's formula."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy import optimize, stats

from perinatal_csc.stats import models
from perinatal_csc.stats.plan import PlanError, load_plan
from perinatal_csc.paths import PROJECT_ROOT
from simulated_cohort import simulate_cohort

PLAN = PROJECT_ROOT / "config" / "analysis_plan.yml"

HARRELL_4 = [0.05, 0.35, 0.65, 0.95]
DIAGNOSES = ["bipolar", "schizophrenia", "other_psychosis", "personality_disorder", "anxiety", "other"]


def spline_by_hand(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Hmisc's rcspline.eval (norm = 2) as its source writes it: each term in (x - t) / kd with
    kd = (t_k - t_1)^(2/3)."""
    t, k = knots, len(knots)
    kd = (t[-1] - t[0]) ** (2 / 3)
    pos = lambda u: np.maximum(u / kd, 0) ** 3
    cols = [pos(x - t[j]) + ((t[-2] - t[j]) * pos(x - t[-1]) - (t[-1] - t[j]) * pos(x - t[-2])) / (t[-1] - t[-2])
            for j in range(k - 2)]
    return np.column_stack(cols)


@pytest.fixture(scope="module")
def fitted(plan, cb):
    df = simulate_cohort(n=278, seed=1)
    return df, models.fit_models(df, plan, cb, sensitivity=False)


def test_basis_is_harrells(cb):
    x = np.linspace(15, 48, 40)
    knots = np.quantile(x, HARRELL_4)
    np.testing.assert_allclose(models.rcs_basis(x, knots), spline_by_hand(x, knots), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(models.rcs_knots(x, 4), knots)
    beyond = x > knots[-1]                          # linear beyond the outer knots: second differences vanish
    assert np.allclose(np.diff(models.rcs_basis(x, knots)[beyond], 2, axis=0), 0, atol=1e-9)


def test_maximum_likelihood_model_matches_statsmodels(fitted):
    df, out = fitted
    row = out["models_linearity"].set_index("model").loc["one_year"]
    assert row.method == models.ML and row.knots == 4 and row.df == 2 and row.knot_percentiles == "5, 35, 65, 95"
    cc = df[df.followed_up_1y == 1].dropna(subset=["csc_any_1y", "deprived", "childhood_trauma", "relationship",
                                                    "readmitted_1y", "maternal_age"])
    age = cc.maternal_age.to_numpy(dtype=float)
    X = pd.DataFrame({"deprived": cc.deprived.astype(float), "trauma": cc.childhood_trauma.astype(float),
                      "partner": (cc.relationship == "partner_not_cohabiting").astype(float),
                      "single": (cc.relationship == "single").astype(float),
                      "readm": cc.readmitted_1y.astype(float), "age": age})
    y = cc.csc_any_1y.astype(float)
    linear = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    spline = spline_by_hand(age, np.quantile(age, HARRELL_4))
    curved = sm.Logit(y, sm.add_constant(X.assign(s1=spline[:, 0], s2=spline[:, 1]))).fit(disp=0, method="newton",
                                                                                            tol=1e-12)
    lr = 2 * (curved.llf - linear.llf)
    assert row.lr_chi2 == pytest.approx(lr, rel=1e-6)
    assert row.p == pytest.approx(stats.chi2.sf(lr, 2), rel=1e-6)


def _penalised(beta, X, y):
    eta = X @ beta
    p = 1 / (1 + np.exp(-eta))
    info = (X * (p * (1 - p))[:, None]).T @ X
    return np.sum(y * eta - np.logaddexp(0, eta)) + 0.5 * np.linalg.slogdet(info)[1]


def test_firth_model_uses_the_penalised_likelihood_ratio_test(fitted):
    df, out = fitted
    assert out["models_summary"].set_index("model").at["episode", "method"] == models.FIRTH
    row = out["models_linearity"].set_index("model").loc["episode"]
    assert row.method == models.FIRTH
    cc = df.dropna(subset=["csc_any_index", "deprived", "childhood_trauma", "domestic_abuse", "diagnosis",
                           "prev_psych_admission", "maternal_age"])
    age = cc.maternal_age.to_numpy(dtype=float)
    present = [d for d in DIAGNOSES if (cc.diagnosis == d).any()]
    X = np.column_stack([np.ones(len(cc)), cc.deprived.astype(float), cc.childhood_trauma.astype(float),
                         cc.domestic_abuse.astype(float), *[(cc.diagnosis == d).astype(float) for d in present],
                         cc.prev_psych_admission.astype(float), age / 5,
                         spline_by_hand(age, np.quantile(age, HARRELL_4))])
    y = cc.csc_any_index.to_numpy(dtype=float)
    k = X.shape[1]
    full = optimize.minimize(lambda b: -_penalised(b, X, y), np.zeros(k), method="BFGS", options={"gtol": 1e-8})
    # the spline's two non-linear terms held at zero, under the full design's penalty
    nested = optimize.minimize(lambda b: -_penalised(np.r_[b, 0.0, 0.0], X, y), np.zeros(k - 2), method="BFGS",
                               options={"gtol": 1e-8})
    lr = 2 * (nested.fun - full.fun)
    assert row.lr_chi2 == pytest.approx(lr, rel=1e-4, abs=1e-6)
    assert row.p == pytest.approx(stats.chi2.sf(lr, 2), rel=1e-4)


def test_a_curved_age_effect_is_found(plan, cb):
    df = simulate_cohort(n=600, seed=7)
    rng = np.random.default_rng(3)
    age = np.nan_to_num(df.maternal_age.to_numpy(dtype=float), nan=30.0)     # dyads without an age are left out
    risk = 1 / (1 + np.exp(-(-1.5 + 0.06 * (age - 30) ** 2)))                # U-shaped in age
    df["csc_any_index"] = pd.array(rng.binomial(1, risk), dtype="Int64")
    out = models.fit_models(df, plan, cb, sensitivity=False)
    row = out["models_linearity"].set_index("model").loc["episode"]
    assert row.p < 0.001 and row.lr_chi2 > 20


def test_knots_are_a_plan_setting_checked_on_load(tmp_path, cb):
    raw = yaml.safe_load(PLAN.read_text())
    raw["diagnostics"]["linearity_knots"] = 3
    good = tmp_path / "plan.yml"
    good.write_text(yaml.safe_dump(raw))
    plan3 = load_plan(good, cb)
    out = models.fit_models(simulate_cohort(n=278, seed=1), plan3, cb, sensitivity=False)
    lin = out["models_linearity"]
    assert set(lin.knots) == {3} and set(lin.df) == {1} and set(lin.knot_percentiles) == {"10, 50, 90"}
    plan_rows = out["models_plan"].set_index("name")
    assert plan_rows.at["linearity_knots", "value"] == "3"
    raw["diagnostics"]["linearity_knots"] = 8
    good.write_text(yaml.safe_dump(raw))
    with pytest.raises(PlanError, match="linearity_knots"):
        load_plan(good, cb)
