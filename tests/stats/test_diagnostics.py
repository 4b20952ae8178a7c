"""The O(n log n) DeLong C-statistic against the quadratic events x non-events computation it replaced."""
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from perinatal_csc.stats import models
from perinatal_csc.stats.diagnostics import c_statistic, delong


def quadratic_delong(y, p, level=0.95):
    """The previous implementation, kept verbatim as the reference: returns (c, se, ci_low, ci_high)."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    pos, neg = p[y], p[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    c = float(v10.mean())
    var = v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)
    z = stats.norm.ppf(0.5 + level / 2)
    se = float(np.sqrt(var))
    return c, se, max(0.0, c - z * se), min(1.0, c + z * se)


def assert_same(y, p, level=0.95):
    c, se = delong(y, p)
    got = (c, se, *c_statistic(y, p, level)[1:])
    want = quadratic_delong(y, p, level)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert c_statistic(y, p, level)[0] == c


def test_hand_calculation_on_five_dyads_with_a_tie():
    # events score 0.8 and 0.4; non-events 0.4, 0.2, 0.1.
    # pairs: 0.8 beats all three (1, 1, 1); 0.4 ties 0.4 (1/2) and beats 0.2 and 0.1 (1, 1)
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.8, 0.4, 0.4, 0.2, 0.1])
    c, se = delong(y, p)
    assert c == pytest.approx((3 + 2.5) / 6, abs=1e-15)
    v10 = np.array([1.0, 2.5 / 3])                # per event: mean over the 3 non-events
    v01 = np.array([(1 + 0.5) / 2, 1.0, 1.0])     # per non-event: mean over the 2 events
    var = np.var(v10, ddof=1) / 2 + np.var(v01, ddof=1) / 3
    # var(v10) = 2 (1/12)^2 / 1 = 1/72, over 2 events; var(v01) = ((1/6)^2 + 2 (1/12)^2) / 2 = 1/48, over 3
    assert var == pytest.approx(1 / 144 + 1 / 144, abs=1e-15)
    assert se == pytest.approx(np.sqrt(var), abs=1e-15)
    lo, hi = c_statistic(y, p)[1:]
    assert (lo, hi) == pytest.approx((c - 1.959963984540054 * se, min(1.0, c + 1.959963984540054 * se)), abs=1e-12)


@pytest.mark.parametrize("case", ["all tied", "many ties", "perfect", "reversed", "one event tied", "integers"])
def test_hand_made_fixtures_with_ties_match_the_quadratic_reference(case):
    rng = np.random.default_rng(7)
    y = rng.binomial(1, 0.3, 200)
    y[:2] = [0, 1]
    p = {"all tied": np.full(200, 0.25),
         "many ties": np.round(rng.uniform(size=200) + 0.3 * y, 1),
         "perfect": y + rng.uniform(0, 0.5, 200),
         "reversed": -y + rng.uniform(0, 0.5, 200),
         "one event tied": np.where(np.arange(200) == 1, 0.5, np.round(rng.uniform(size=200), 2)),
         "integers": rng.integers(0, 4, 200).astype(float) + y}[case]
    assert_same(y, p)
    assert_same(y, p, level=0.9)


def test_property_over_random_tied_samples():
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(4, 120))
        y = rng.binomial(1, rng.uniform(0.1, 0.9), n)
        y[:4] = [0, 1, 0, 1]
        p = rng.integers(0, int(rng.integers(2, 30)), n) / 7.0 + rng.uniform(0, 1) * y
        assert_same(y, p)


def test_empty_group_gives_nan_and_a_single_event_no_interval():
    assert np.isnan(delong(np.ones(5), np.linspace(0, 1, 5))).all()
    assert np.isnan(c_statistic(np.zeros(5), np.linspace(0, 1, 5))).all()
    c, lo, hi = c_statistic(np.array([0, 0, 1, 0]), np.array([0.1, 0.2, 0.3, 0.4]))
    assert c == pytest.approx(2 / 3) and np.isnan(lo) and np.isnan(hi)


def _fitted(df, plan, cb):
    """Outcome and fitted risk of each adjusted model on ``df``."""
    out = []
    for spec in plan.models:
        prim = models.fit_primary(df, spec, plan, cb)
        out.append((prim.y, 1 / (1 + np.exp(-(prim.design.X @ prim.adjusted.fit.coef)))))
    return out


@pytest.mark.parametrize("seed", [None, 1, 4242, 99])
def test_default_cohort_and_three_other_seeds_match_the_quadratic_reference(seed, tmp_path, plan, cb):
    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort
    cfg = load_config(source="synthetic")
    if seed is not None:
        cfg = replace(cfg, synthetic_seed=seed, data_path=tmp_path / f"synth-{seed}.csv")
    for y, p in _fitted(cohort(cfg), plan, cb):
        assert_same(y, p)
