"""MICE keeps categories as categories and observed values untouched; Rubin's rules against a hand calculation."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.stats.imputation import Design, _Column, mice, nearest_donors, rubin
from simulated_cohort import simulate_cohort

COLS = ["deprived", "childhood_trauma", "domestic_abuse", "diagnosis", "relationship", "maternal_age",
        "csc_any_index", "service_type"]


def test_rubin_matches_hand_calculation_with_barnard_rubin_df():
    Q = np.array([[1.0], [1.2], [0.8]])
    U = np.array([[0.04], [0.05], [0.03]])
    m, nu_com = 3, 50
    qbar = (1.0 + 1.2 + 0.8) / 3
    ubar = (0.04 + 0.05 + 0.03) / 3
    B = ((1.0 - qbar) ** 2 + (1.2 - qbar) ** 2 + (0.8 - qbar) ** 2) / (m - 1)
    T = ubar + (1 + 1 / m) * B
    lam = (1 + 1 / m) * B / T
    nu_old = (m - 1) / lam ** 2
    nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lam)
    nu = nu_old * nu_obs / (nu_old + nu_obs)
    from scipy import stats
    t = stats.t.ppf(0.975, nu)
    got = rubin(Q, U, df_complete=nu_com).iloc[0]
    assert got.estimate == pytest.approx(qbar)
    assert got.se == pytest.approx(np.sqrt(T))
    assert got.df == pytest.approx(nu)
    assert got.df == pytest.approx(4.7223, abs=1e-3)
    assert (got.ci_low, got.ci_high) == pytest.approx((qbar - t * np.sqrt(T), qbar + t * np.sqrt(T)))
    assert got.p == pytest.approx(2 * stats.t.sf(qbar / np.sqrt(T), nu))
    assert got["lambda"] == pytest.approx(lam)
    riv = (1 + 1 / m) * B / ubar
    assert got.riv == pytest.approx(riv)
    assert got.fmi == pytest.approx((riv + 2 / (nu + 3)) / (1 + riv))
    assert got.fmi != pytest.approx(lam)


def test_rubin_without_between_imputation_variance_uses_complete_data_df():
    got = rubin(np.array([[0.5], [0.5]]), np.array([[0.01], [0.01]]), df_complete=40).iloc[0]
    assert got.se == pytest.approx(0.1)
    assert got.df == pytest.approx(41 / 43 * 40)


@pytest.fixture(scope="module")
def imputed():
    df = simulate_cohort(n=278, seed=5)
    return df, mice(df, COLS, load_codebook(), m=5, iterations=5, seed=11)


def test_mice_fills_every_gap_keeps_observed_values_and_dtypes(imputed):
    df, sets = imputed
    assert len(sets) == 5
    for frame in sets:
        assert not frame[COLS].isna().any().any()
        for c in COLS:
            obs = df[c].notna()
            assert frame.loc[obs, c].astype(object).tolist() == df.loc[obs, c].astype(object).tolist()
            assert frame[c].dtype == df[c].dtype


def test_categorical_imputations_are_codebook_categories_and_pmm_values_were_observed(imputed):
    df, sets = imputed
    cb = load_codebook()
    for frame in sets:
        assert set(frame.relationship.astype(object)) <= set(cb["relationship"].codes)
        assert set(frame.deprived.astype(int)) <= {0, 1}
        gaps = df.maternal_age.isna()
        assert set(frame.loc[gaps, "maternal_age"]) <= set(df.maternal_age.dropna())


def test_imputations_vary_between_sets_and_are_reproducible_with_the_seed(imputed):
    df, sets = imputed
    gaps = df.childhood_trauma.isna()
    draws = np.array([f.loc[gaps, "childhood_trauma"].astype(int).to_numpy() for f in sets])
    assert (draws != draws[0]).any()
    again = mice(df, COLS, load_codebook(), m=1, iterations=5, seed=11)[0]
    pd.testing.assert_frame_equal(again, sets[0])


def test_imputation_model_uses_the_outcome():
    # trauma is missing only where the outcome is 1 and strongly tied to it: imputed values must reflect that
    rng = np.random.default_rng(3)
    df = simulate_cohort(n=600, seed=9, mar=False)
    y = df.csc_any_index.astype(int).to_numpy()
    trauma = np.where(rng.random(600) < np.where(y == 1, 0.85, 0.15), 1, 0)
    df["childhood_trauma"] = pd.array(trauma, dtype="Int64")
    gaps = (y == 1) & (rng.random(600) < 0.4)
    df.loc[gaps, "childhood_trauma"] = pd.NA
    frame = mice(df, COLS, load_codebook(), m=1, iterations=5, seed=2)[0]
    assert frame.loc[gaps, "childhood_trauma"].astype(int).mean() > 0.65


@settings(derandomize=True, deadline=None, max_examples=15)
@given(st.lists(st.floats(-3, 3), min_size=2, max_size=30), st.floats(0.01, 1.0), st.integers(5, 500))
def test_rubin_total_variance_is_never_below_within_and_df_positive(ests, u, nu_com):
    Q = np.array(ests)[:, None]
    U = np.full_like(Q, u)
    got = rubin(Q, U, df_complete=nu_com).iloc[0]
    assert got.se ** 2 >= u - 1e-12
    assert 0 < got.df <= (nu_com + 1) / (nu_com + 3) * nu_com + 1e-9
    assert got.ci_low <= got.estimate <= got.ci_high


# ---- predictive mean matching by sorting and searching ------------------------------------------------

def _brute_force_distances(pred_obs, pred_mis, k):
    """The k smallest |pred_mis - pred_obs| of each missing value, from the full distance matrix."""
    return np.sort(np.abs(pred_mis[:, None] - pred_obs[None, :]), axis=1)[:, :k]


def test_nearest_donors_hand_example():
    pred_obs = np.array([5.0, 1.0, 3.0, 9.0, 4.0])
    got = nearest_donors(pred_obs, np.array([3.4, 10.0, -1.0]), 2)
    # 3.4: 3 (0.4) then 4 (0.6); 10: 9 then 5; -1: 1 then 3
    assert got.tolist() == [[2, 4], [3, 0], [1, 2]]


@settings(derandomize=True, deadline=None, max_examples=200)
@given(st.lists(st.integers(-20, 20), min_size=1, max_size=60), st.lists(st.integers(-25, 25), min_size=1, max_size=20),
       st.integers(1, 8), st.sampled_from([1.0, 0.5, 0.1]))
def test_nearest_donors_are_the_k_nearest_of_the_distance_matrix_with_ties(obs, mis, k, scale):
    pred_obs, pred_mis = np.array(obs) * scale, np.array(mis) * scale
    k = min(k, len(pred_obs))
    got = nearest_donors(pred_obs, pred_mis, k)
    assert got.shape == (len(pred_mis), k)
    assert all(len(set(row)) == k for row in got.tolist())
    dist = np.abs(pred_mis[:, None] - pred_obs[got])
    np.testing.assert_array_equal(dist, _brute_force_distances(pred_obs, pred_mis, k))


# ---- imputation models' design held as covariate patterns ---------------------------------------------

def _columns(rng, n, kinds):
    cols = []
    for i, k in enumerate(kinds):
        if k == "num":
            cols.append(_Column(f"x{i}", "num", [], rng.normal(30, 5, n).round(1), np.zeros(n, dtype=bool)))
        else:
            cols.append(_Column(f"c{i}", "cat", list(range(k)), rng.integers(0, k, n), np.zeros(n, dtype=bool)))
    return cols


@pytest.mark.parametrize("kinds", [[2, 3, "num", 7, 2], ["num", "num"], [3, 3], [2] * 70 + ["num"], [5] * 8])
def test_pattern_design_equals_the_explicit_matrix_and_its_products(kinds):
    rng = np.random.default_rng(len(kinds))
    n = 400
    cols = _columns(rng, n, kinds)
    blocks = [c.block() for c in cols]
    for i in range(len(cols)):
        X = np.column_stack([np.ones(n), *[b for j, b in enumerate(blocks) if j != i]])   # as mice built it before
        D = Design.build(cols, blocks, i)
        np.testing.assert_array_equal(D.matrix(), X)
        w, v, b = rng.uniform(size=n), rng.normal(size=(n, 2)), rng.normal(size=(X.shape[1], 2))
        np.testing.assert_allclose(D.gram(w), X.T @ (X * w[:, None]), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(D.gram(), X.T @ X, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(D.tdot(v), X.T @ v, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(D.tdot(v[:, 0]), X.T @ v[:, 0], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(D.dot(b), X @ b, rtol=1e-12, atol=1e-12)
        mask = rng.random(n) < 0.3
        np.testing.assert_array_equal(D.rows(mask).matrix(), X[mask])
