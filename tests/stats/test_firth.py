"""Firth and ML logistic fits against R (brglm2, glm + confint) on the endometrial data."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings, strategies as st

from perinatal_csc.stats.firth import detect_separation, fit_logit, lr_pvalue, profile_ci, sandwich_cov

REF = Path(__file__).resolve().parents[1] / "fixtures" / "reference"


@pytest.fixture(scope="module")
def endo():
    d = pd.read_csv(REF / "endometrial.csv")
    ref = pd.read_csv(REF / "endometrial_reference_estimates.csv")
    return d, ref


def _design(d, cols):
    return np.column_stack([np.ones(len(d)), d[cols].to_numpy(float)])


def test_firth_estimates_and_se_match_brglm2(endo):
    d, ref = endo
    r = ref[ref.model == "firth_AS_mean"].set_index("term").loc[["(Intercept)", "NV", "PI", "EH"]]
    fit = fit_logit(_design(d, ["NV", "PI", "EH"]), d.HG.to_numpy(), firth=True)
    assert fit.converged
    np.testing.assert_allclose(fit.coef, r.estimate.to_numpy(), atol=5e-5)
    np.testing.assert_allclose(fit.se, r.std_error.to_numpy(), atol=5e-5)


def test_ml_profile_ci_without_nv_matches_r_confint(endo):
    d, ref = endo
    r = ref[ref.model == "ml_without_NV"].set_index("term").loc[["(Intercept)", "PI", "EH"]]
    X = _design(d, ["PI", "EH"])
    fit = fit_logit(X, d.HG.to_numpy())
    assert fit.converged and not detect_separation(X, d.HG.to_numpy()).separated
    np.testing.assert_allclose(fit.coef, r.estimate.to_numpy(), atol=5e-5)
    np.testing.assert_allclose(fit.se, r.std_error.to_numpy(), atol=5e-5)
    ci = np.array([profile_ci(X, d.HG.to_numpy(), fit, j) for j in range(3)])
    np.testing.assert_allclose(ci[:, 0], r.profile_ci_low.to_numpy(), atol=1e-3)
    np.testing.assert_allclose(ci[:, 1], r.profile_ci_high.to_numpy(), atol=1e-3)


def test_full_model_ml_is_flagged_as_quasi_separated_on_nv(endo):
    d, _ = endo
    X = _design(d, ["NV", "PI", "EH"])
    sep = detect_separation(X, d.HG.to_numpy())
    assert sep.separated and not sep.complete
    assert sep.columns == (1,)
    assert not fit_logit(X, d.HG.to_numpy()).converged


def test_firth_profile_interval_contains_estimate_and_lr_test_agrees_with_interval(endo):
    d, _ = endo
    X, y = _design(d, ["NV", "PI", "EH"]), d.HG.to_numpy()
    fit = fit_logit(X, y, firth=True)
    for j in range(4):
        lo, hi = profile_ci(X, y, fit, j)
        assert lo < fit.coef[j] < hi
        # a 95% profile interval excludes 0 exactly when the penalised LR test has p < 0.05
        assert (lo > 0 or hi < 0) == (lr_pvalue(X, y, fit, [j]) < 0.05)


def test_ml_lr_pvalue_matches_statsmodels_deviance_difference(endo):
    d, _ = endo
    y = d.HG.to_numpy()
    X = _design(d, ["PI", "EH"])
    fit = fit_logit(X, y)
    full = sm.Logit(y, X).fit(disp=0)
    reduced = sm.Logit(y, X[:, [0, 2]]).fit(disp=0)
    from scipy import stats
    expected = stats.chi2.sf(2 * (full.llf - reduced.llf), 1)
    assert lr_pvalue(X, y, fit, [1]) == pytest.approx(expected, rel=1e-6)


def _numpy_sandwich(X, y, beta, w, groups=None):
    p = 1 / (1 + np.exp(-X @ beta))
    A = X.T @ (X * (w * p * (1 - p))[:, None])
    u = X * (w * (y - p))[:, None]
    if groups is None:
        B = u.T @ u
    else:
        labels = np.unique(groups)
        sums = np.array([u[groups == g].sum(axis=0) for g in labels])
        G, (n, k) = len(labels), X.shape
        B = sums.T @ sums * G / (G - 1) * (n - 1) / (n - k)
    Ai = np.linalg.inv(A)
    return Ai @ B @ Ai


def _sim(seed, n=300):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.binomial(1, 0.4, n)])
    y = rng.binomial(1, 1 / (1 + np.exp(-(X @ [-0.5, 0.8, 0.6]))))
    w = rng.uniform(0.5, 3.0, n)
    groups = rng.integers(0, 25, n)
    return X, y, w, groups


def test_weighted_fit_hc0_matches_numpy_sandwich_and_statsmodels_var_weights():
    X, y, w, _ = _sim(1)
    fit = fit_logit(X, y, weights=w)
    cov = sandwich_cov(X, y, fit)
    np.testing.assert_allclose(cov, _numpy_sandwich(X, y, fit.coef, w), rtol=1e-8)
    glm = sm.GLM(y, X, family=sm.families.Binomial(), var_weights=w).fit(cov_type="HC0")
    np.testing.assert_allclose(fit.coef, glm.params, atol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), glm.bse, rtol=1e-6)


def test_cluster_robust_matches_numpy_sandwich_and_statsmodels():
    X, y, _, groups = _sim(2)
    fit = fit_logit(X, y)
    cov = sandwich_cov(X, y, fit, groups=groups)
    np.testing.assert_allclose(cov, _numpy_sandwich(X, y, fit.coef, np.ones(len(y)), groups), rtol=1e-8)
    glm = sm.GLM(y, X, family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), glm.bse, rtol=1e-6)


@settings(derandomize=True, deadline=None, max_examples=25)
@given(st.integers(min_value=0, max_value=10_000))
def test_ml_fit_agrees_with_statsmodels_when_not_separated(seed):
    X, y, _, _ = _sim(seed, n=120)
    if detect_separation(X, y).separated:
        return
    fit = fit_logit(X, y)
    ref = sm.Logit(y, X).fit(disp=0)
    np.testing.assert_allclose(fit.coef, ref.params, atol=1e-6)
    np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-5)


def test_complete_separation_is_detected_as_complete():
    x = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    X = np.column_stack([np.ones(6), x])
    sep = detect_separation(X, (x > 0).astype(int))
    assert sep.separated and sep.complete
    fit = fit_logit(X, (x > 0).astype(int), firth=True)
    assert fit.converged and np.all(np.isfinite(fit.coef))


def test_fit_stops_unconverged_when_step_halving_finds_no_ascent(endo, monkeypatch):
    """If no halved step raises the log-likelihood, the fit keeps the last estimate and says it did not converge."""
    from perinatal_csc.stats import firth

    d, _ = endo
    X, y = _design(d, ["PI", "EH"]), d.HG.to_numpy()
    real = firth._quantities
    start = np.zeros(X.shape[1])

    def worse_away_from_start(X_, y_, w_, beta, firth_):
        ll, score, info = real(X_, y_, w_, beta, firth_)
        return (ll if np.array_equal(beta, start) else ll - 1e6), score, info

    monkeypatch.setattr(firth, "_quantities", worse_away_from_start)
    fit = fit_logit(X, y)
    assert not fit.converged
    np.testing.assert_array_equal(fit.coef, start)
    monkeypatch.undo()
    good = fit_logit(X, y)
    assert good.converged and not np.allclose(good.coef, start)
