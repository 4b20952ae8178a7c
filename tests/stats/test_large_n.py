"""Large-cohort options of the analysis plan: Wald CIs above an events-per-parameter bound, collapsed fits."""
import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml

from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.stats import models
from perinatal_csc.stats.firth import detect_separation, fit_logit, profile_ci
from perinatal_csc.stats.plan import LargeN, PlanError, load_plan
from simulated_cohort import simulate_cohort

PLAN = PROJECT_ROOT / "config" / "analysis_plan.yml"


def _with(plan, **large):
    return dataclasses.replace(plan, large_n=LargeN(**large))


def _complete_cases(df, spec, plan, cb):
    sample, _, _ = models._population(df, spec, list(spec.covariates), cb)
    d = models.build_design(sample, list(spec.covariates), plan, cb)
    return d, sample[spec.outcome].to_numpy(dtype=float)


def test_the_plan_states_both_bounds_and_the_study_cohort_is_below_them(plan):
    assert plan.large_n.wald_ci_min_epv == 100
    assert plan.large_n.collapse_min_dyads == 10000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_at_the_plans_epv_bound_wald_and_profile_intervals_agree_within_one_percent(seed, plan, cb):
    bound = plan.large_n.wald_ci_min_epv
    spec = plan.models[0]
    df = simulate_cohort(n=3400, seed=seed, mar=False)
    d, y = _complete_cases(df, spec, plan, cb)
    k = d.X.shape[1] - 1
    epv = min(y.sum(), len(y) - y.sum()) / k
    assert bound <= epv < 1.15 * bound            # the sample sits just above the bound
    wald = sm.Logit(y, d.X).fit(disp=0).conf_int(0.05)[1:]   # independent Wald intervals
    fit = fit_logit(d.X, y)
    profile = np.array([profile_ci(d.X, y, fit, j) for j in range(1, k + 1)])
    ratio = np.exp(wald) / np.exp(profile)
    assert np.abs(ratio - 1).max() < 0.01, np.abs(ratio - 1).max()


def test_models_use_wald_intervals_only_at_or_above_the_bound(plan, cb):
    spec = plan.models[0]
    df = simulate_cohort(n=1200, seed=4, mar=False)
    d, y = _complete_cases(df, spec, plan, cb)
    epv = min(y.sum(), len(y) - y.sum()) / (d.X.shape[1] - 1)
    above = models.fit_primary(df, spec, _with(plan, wald_ci_min_epv=epv), cb)
    below = models.fit_primary(df, spec, _with(plan, wald_ci_min_epv=epv + 0.01), cb)
    assert above.method == below.method == models.ML
    assert above.summary["ci_method"] == models.wald_ci_text(epv)
    assert f"confidence intervals by Wald (at least {epv:g} events" in above.summary["footnote"]
    assert below.summary["ci_method"] == "profile likelihood"
    adj = above.table[(above.table.type == "Adjusted") & ~above.table.reference]
    ci = np.exp(sm.Logit(y, d.X).fit(disp=0).conf_int(0.05)[1:])
    np.testing.assert_allclose(adj[["ci_low", "ci_high"]].to_numpy(), ci, rtol=1e-6)
    # estimates and likelihood ratio p-values do not depend on the interval method
    other = below.table[(below.table.type == "Adjusted") & ~below.table.reference]
    np.testing.assert_array_equal(adj[["or", "p"]].to_numpy(), other[["or", "p"]].to_numpy())
    assert not np.allclose(adj.ci_low.to_numpy(), other.ci_low.to_numpy(), rtol=1e-9, atol=0)


def test_firth_models_keep_profile_intervals_above_the_bound(plan, cb):
    spec = plan.models[0]
    df = simulate_cohort(n=600, seed=4, mar=False)
    firth = dataclasses.replace(_with(plan, wald_ci_min_epv=1), method_rule="firth")
    p = models.fit_primary(df, spec, firth, cb)
    assert p.method == models.FIRTH and p.summary["ci_method"] == "profile penalised likelihood"


def _coarse(n, seed):
    """A simulated cohort with age in whole years, so covariate patterns repeat."""
    df = simulate_cohort(n=n, seed=seed)
    df["maternal_age"] = df.maternal_age.round()
    return df


@pytest.mark.parametrize("rule", ["auto", "firth"])
def test_collapsed_fits_give_the_estimates_intervals_and_tests_of_the_uncollapsed_fits(rule, plan, cb):
    df = _coarse(2500, 6)
    base = dataclasses.replace(_with(plan), method_rule=rule)
    for spec in plan.models:
        d, y = _complete_cases(df, spec, plan, cb)
        assert len(models.collapse(d.X, y)[1]) < 0.8 * len(y)     # collapsing really merges dyads
        full = models.fit_primary(df, spec, base, cb)
        small = models.fit_primary(df, spec, dataclasses.replace(base, large_n=LargeN(collapse_min_dyads=1)), cb)
        assert small.method == full.method
        assert {k: v for k, v in small.summary.items()} == full.summary
        num = ["estimate", "se", "or", "ci_low", "ci_high", "p", "p_global"]
        np.testing.assert_allclose(small.table[num].to_numpy(dtype=float), full.table[num].to_numpy(dtype=float),
                                   rtol=1e-7, atol=1e-10)
        assert small.adjusted.fit.weights is None
        np.testing.assert_allclose(small.adjusted.fit.cov, full.adjusted.fit.cov, rtol=1e-7, atol=1e-12)


def test_collapse_counts_each_distinct_row_once_with_its_frequency():
    X = np.array([[1, 0, 2.5], [1, 1, 2.5], [1, 0, 2.5], [1, 0, 2.5], [1, 1, 2.5]])
    y = np.array([1, 0, 1, 0, 0])
    Xu, yu, w = models.collapse(X, y)
    got = sorted(zip(map(tuple, Xu), yu, w))
    assert got == [((1, 0, 2.5), 0, 1), ((1, 0, 2.5), 1, 2), ((1, 1, 2.5), 0, 2)]


def test_weighted_separation_check_matches_the_expanded_rows():
    # the level x = 1 has only events: quasi-complete separation
    X = np.column_stack([np.ones(8), [1, 1, 1, 0, 0, 0, 0, 0], [0.5, 1, 0.5, 1, 0.5, 1, 0.5, 2]])
    y = np.array([1, 1, 1, 0, 1, 0, 0, 1])
    Xu, yu, w = models.collapse(X, y)
    assert len(yu) < len(y)
    full, small = detect_separation(X, y), detect_separation(Xu, yu, weights=w)
    assert full.separated and small.separated and small.complete == full.complete
    none = np.array([1, 0, 1, 0, 1, 0, 0, 1])
    Xu, yu, w = models.collapse(X, none)
    assert not detect_separation(X, none).separated and not detect_separation(Xu, yu, weights=w).separated


def test_models_plan_records_the_large_n_settings(plan, cb):
    t = models.plan_table(plan, cb).set_index("name")
    assert t.loc["wald_ci_min_epv", "value"] == "100"
    assert t.loc["collapse_min_dyads", "value"] == "10000"
    off = models.plan_table(_with(plan), cb).set_index("name")
    assert off.loc["wald_ci_min_epv", "value"] == off.loc["collapse_min_dyads", "value"] == "never"


@pytest.mark.parametrize("bad, message", [({"wald_ci_min_epv": -1}, "positive number"),
                                          ({"collapse_min_dyads": "many"}, "positive number"),
                                          ({"wald_epv": 100}, "not a known option")])
def test_plan_rejects_bad_large_n_options(bad, message, tmp_path, cb):
    raw = yaml.safe_load(PLAN.read_text())
    raw["large_n"] = bad
    path = tmp_path / "plan.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PlanError, match=message):
        load_plan(path, cb)


def test_null_bounds_switch_the_options_off(tmp_path, cb):
    raw = yaml.safe_load(PLAN.read_text())
    raw["large_n"] = {"wald_ci_min_epv": None, "collapse_min_dyads": None}
    path = tmp_path / "plan.yml"
    path.write_text(yaml.safe_dump(raw))
    assert load_plan(path, cb).large_n == LargeN()


def test_collapsing_collapsed_rows_adds_their_weights():
    X = np.array([[1, 0, 2.0], [1, 0, 3.0], [1, 1, 2.0], [1, 0, 2.0]])
    y = np.array([1, 1, 0, 1])
    Xu, yu, w = models.collapse(X[:, :2], y, np.array([2.0, 5.0, 1.0, 4.0]))
    assert sorted(zip(map(tuple, Xu), yu, w)) == [((1, 0), 1, 11.0), ((1, 1), 0, 1.0)]


def test_models_work_on_the_columns_without_the_loaders_attrs(plan, cb):
    df = simulate_cohort(n=50, seed=1)
    df.attrs["flags"] = pd.DataFrame({"x": np.ones(50, dtype=bool)})
    plain = models.without_attrs(df)
    assert plain.attrs == {} and df.attrs.keys() == {"flags"}
    assert np.shares_memory(plain["maternal_age"].to_numpy(), df["maternal_age"].to_numpy())


def test_mi_designs_are_built_one_at_a_time_with_the_union_columns_and_a_missing_level_is_an_error(plan, cb):
    df = simulate_cohort(n=300, seed=2, mar=False)
    spec = plan.models[0]
    rows = df.index
    imputed = [df.copy(), df.copy()]
    imputed[1].loc[imputed[1].diagnosis == "other", "diagnosis"] = "depression"
    union, design_of = models.mi_design(imputed[:1], rows, list(spec.covariates), plan, cb)
    direct = models.build_design(df, list(spec.covariates), plan, cb)
    assert union.columns == direct.columns
    np.testing.assert_array_equal(design_of(0).X, direct.X)
    with pytest.raises(ValueError, match=r"imputation 2: no dyad in .*Other"):
        models.mi_design(imputed, rows, list(spec.covariates), plan, cb)
    # a level in some imputation but not in the complete data gets its own column
    only_later = [imputed[1], df]
    union, design_of = models.mi_design(only_later[1:], rows, list(spec.covariates), plan, cb)
    assert any(c.level == "other" for c in union.columns)


# ----------------------------------------------------------------------------- large-cohort imputation

from scipy import optimize, special  # noqa: E402

from perinatal_csc.data.codebook import load_codebook  # noqa: E402
from perinatal_csc.stats import imputation  # noqa: E402
from perinatal_csc.stats.imputation import _Column, _Keys  # noqa: E402


def _mixed_columns(rng, n, kinds, missing=0.2):
    cols = []
    for i, k in enumerate(kinds):
        miss = rng.random(n) < missing
        if k == "num":
            cols.append(_Column(f"x{i}", "num", [], rng.normal(30, 5, n).round(1), miss))
        else:
            cols.append(_Column(f"c{i}", "cat", list(range(k)), rng.integers(0, k, n), miss))
    return cols


def _explicit(cols, target):
    """The imputation model's design written out by hand: intercept, then each other column's indicators
    (all but the first category) or its standardised value, in column order."""
    n = len(cols[0].values)
    parts = [np.ones((n, 1))]
    for j, c in enumerate(cols):
        if j == target:
            continue
        if c.kind == "cat":
            parts.append(np.stack([(c.values == k).astype(float) for k in range(1, len(c.codes))], axis=1))
        else:
            v = c.values
            parts.append(((v - v.mean()) / v.std())[:, None])
    return np.hstack(parts)


@pytest.mark.parametrize("kinds", [[2, 3, "num", 7, 2], [3, 3], [2, "num", "num", 4]])
def test_key_designs_equal_the_explicit_matrix_before_and_after_a_column_is_imputed(kinds):
    rng = np.random.default_rng(len(kinds))
    n = 500
    cols = _mixed_columns(rng, n, kinds)
    keys = _Keys.make(cols)
    blocks = [c.block() for c in cols]
    for step in range(2):
        for i, c in enumerate(cols):
            X = _explicit(cols, i)
            D = keys.design(cols, blocks, i)
            np.testing.assert_array_equal(D.matrix(), X)
            w, v, b = rng.uniform(size=n), rng.normal(size=(n, 2)), rng.normal(size=(X.shape[1], 2))
            np.testing.assert_allclose(D.gram(w), X.T @ (X * w[:, None]), rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(D.tdot(v), X.T @ v, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(D.dot(b), X @ b, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(D.dot(b[:, 0]), X @ b[:, 0], rtol=1e-12, atol=1e-12)
            X_obs, X_mis, y_obs = keys.split(cols, blocks, i)
            np.testing.assert_array_equal(X_obs.matrix(), X[~c.missing])
            np.testing.assert_array_equal(X_mis.matrix(), X[c.missing])
            np.testing.assert_array_equal(y_obs, c.values[~c.missing])
        # impute every column's missing rows with new values; the keys follow
        for j, c in enumerate(cols):
            new = (rng.integers(0, len(c.codes), int(c.missing.sum())) if c.kind == "cat"
                   else rng.normal(30, 5, int(c.missing.sum())).round(1))
            keys.update(j, c.values[c.missing], new)
            c.values[c.missing] = new
            blocks[j] = c.block()


def _penalised_mle(X, y, ridge):
    """Independent maximiser of the ridge-penalised logistic likelihood (intercept unpenalised), by BFGS."""
    pen = np.full(X.shape[1], ridge * len(y))
    pen[0] = 0.0

    def f(b):
        eta = X @ b
        return -(y @ eta - np.logaddexp(0, eta).sum()) + 0.5 * pen @ b ** 2, \
            -(X.T @ (y - special.expit(eta))) + pen * b
    return optimize.minimize(f, np.zeros(X.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-10}).x


def test_one_newton_step_from_the_previous_rounds_estimates_lands_on_the_current_maximum():
    rng = np.random.default_rng(5)
    n = 20000
    cols = _mixed_columns(rng, n, [2, 3, "num", 4], missing=0.0)
    X = _explicit(cols, 0)
    truth = rng.normal(0, 0.5, X.shape[1])
    y = rng.binomial(1, special.expit(X @ truth)).astype(float)
    # the previous round: the same dyads with 5% of the outcomes drawn again
    before = y.copy()
    redraw = rng.random(n) < 0.05
    before[redraw] = rng.binomial(1, special.expit(X[redraw] @ truth))
    start = _penalised_mle(X, before, imputation._RIDGE)
    target = _penalised_mle(X, y, imputation._RIDGE)
    keys = _Keys.make(cols)
    D = keys.design(cols, [c.block() for c in cols], 0)
    beta, cov = imputation._fit_binary(D, y, start[:, None], max_iter=1)
    se = np.sqrt(np.diag(cov))
    off = np.abs(start - target) / se
    assert off.max() > 0.05                                                  # the start is really off
    after = np.abs(beta[:, 0] - target) / se
    assert after.max() < 0.01 and after.max() < 0.05 * off.max(), (off.max(), after.max())
    # the covariance is the inverse of the penalised information at the start (to the step's size)
    p = special.expit(X @ start)
    info = X.T @ (X * (p * (1 - p))[:, None]) + np.diag(np.r_[0.0, np.full(X.shape[1] - 1, imputation._RIDGE * n)])
    np.testing.assert_allclose(cov, np.linalg.inv(info), rtol=1e-8)
    # iterated to convergence from nothing, the same routine finds the maximum as well
    full, _ = imputation._fit_binary(D, y, None)
    np.testing.assert_allclose(full[:, 0], target, atol=1e-6)


def _tiny_plan(plan, bound):
    return dataclasses.replace(plan, mi={**plan.mi, "m": 2, "iterations": 2},
                               large_n=dataclasses.replace(plan.large_n, mi_one_step_min_dyads=bound,
                                                           wald_ci_min_epv=0.001))


def test_the_plan_chooses_the_large_cohort_imputation_by_its_bound_and_the_mi_note_says_so(plan, cb, monkeypatch):
    assert plan.large_n.mi_one_step_min_dyads == 10000
    df = simulate_cohort(n=300, seed=3)
    seen = []
    real = imputation.mice

    def spy(*args, **kwargs):
        seen.append(kwargs["one_step"])
        return real(*args, **kwargs)
    monkeypatch.setattr(models, "mice", spy)
    below, above = models.impute(df, _tiny_plan(plan, 301), cb), models.impute(df, _tiny_plan(plan, 300), cb)
    assert seen == [False, True]
    assert len(below) == len(above) == 2
    spec = plan.models[0]
    for bound, imputed, said in ((301, below, False), (300, above, True)):
        p = models.fit_primary(df, spec, _tiny_plan(plan, bound), cb)
        note = models._mi_rows(p, imputed, _tiny_plan(plan, bound), cb)[0]["inference"]
        assert ("one Newton step" in note) is said
        assert (f"at least {bound} dyads" in note) is said
    t = models.plan_table(plan, cb).set_index("name")
    assert t.loc["mi_one_step_min_dyads", "value"] == "10000"


def test_large_cohort_imputations_agree_with_fully_iterated_ones_within_monte_carlo_error(plan, cb):
    df = simulate_cohort(n=4000, seed=8)
    cols = ["deprived", "childhood_trauma", "domestic_abuse", "relationship", "maternal_age", "csc_any_index",
            "service_type"]
    cbk = load_codebook()
    stats = {}
    for one_step in (False, True):
        imputed = imputation.mice(df, cols, cbk, m=8, iterations=5, seed=11, one_step=one_step)
        # among the dyads whose value was missing: share imputed as 1 / single, by imputation
        stats[one_step] = np.array([[f.loc[df[c].isna(), c].astype(str).isin(["1", "single"]).mean()
                                     for c in ("deprived", "childhood_trauma", "domestic_abuse", "relationship")]
                                    for f in imputed])
        for f in imputed:
            assert f[cols].notna().all().all()
            observed = df.childhood_trauma.notna()
            assert (f.loc[observed, "childhood_trauma"] == df.loc[observed, "childhood_trauma"]).all()
    a, b = stats[False], stats[True]
    mc = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    assert (np.abs(a.mean(axis=0) - b.mean(axis=0)) < 3 * mc + 1e-9).all(), (a.mean(axis=0), b.mean(axis=0), mc)


_MI_COLS = ["deprived", "childhood_trauma", "domestic_abuse", "relationship", "maternal_age", "csc_any_index",
            "service_type"]


def test_large_cohort_chains_give_the_same_imputations_in_one_process_or_several():
    df = simulate_cohort(n=3000, seed=5)
    cbk = load_codebook()
    one = imputation.mice(df, _MI_COLS, cbk, m=5, iterations=3, seed=4, one_step=True, workers=1)
    for workers in (2, 3):
        many = imputation.mice(df, _MI_COLS, cbk, m=5, iterations=3, seed=4, one_step=True, workers=workers)
        for a, b in zip(one, many, strict=True):
            pd.testing.assert_frame_equal(a, b)
    # the chains are not copies of one another, and a different seed gives different imputations
    gaps = df.deprived.isna()
    assert len({tuple(f.loc[gaps, "deprived"].astype(int)) for f in one}) == 5
    other = imputation.mice(df, _MI_COLS, cbk, m=1, iterations=3, seed=5, one_step=True, workers=1)[0]
    assert not other.loc[gaps, "deprived"].equals(one[0].loc[gaps, "deprived"])


def test_the_number_of_imputation_processes_can_be_set_and_a_bad_setting_is_named(monkeypatch):
    from perinatal_csc.errors import UserError
    monkeypatch.setenv("PERINATAL_CSC_WORKERS", "3")
    assert imputation.workers_available() == 3
    for bad in ("two", "0", "-1"):
        monkeypatch.setenv("PERINATAL_CSC_WORKERS", bad)
        with pytest.raises(UserError, match=f"PERINATAL_CSC_WORKERS.*'{bad}'"):
            imputation.workers_available()
    monkeypatch.delenv("PERINATAL_CSC_WORKERS")
    assert imputation.workers_available() >= 1


def test_a_failed_imputation_process_is_an_error_not_missing_imputations():
    base = [_Column("x", "num", [], np.array([1.0, np.nan]), np.array([False, True]))]
    job = (base, 2, True, {}, ["not a random stream"] * 3)
    with pytest.raises(RuntimeError, match="imputation process failed"):
        imputation._in_processes(job, [1, 2], 2)


def test_imputed_datasets_fitted_on_covariate_patterns_pool_to_the_estimates_of_the_full_fits(plan, cb, monkeypatch):
    df = _coarse(2500, 6)
    imputed = models.impute(df, dataclasses.replace(plan, mi={**plan.mi, "m": 3, "iterations": 2}), cb)
    calls = []
    real = models.collapse

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append((len(args[0]), len(out[0])))
        return out
    monkeypatch.setattr(models, "collapse", spy)
    for rule in ("auto", "firth"):
        for spec in plan.models:
            full_plan = dataclasses.replace(_with(plan), method_rule=rule)
            small_plan = dataclasses.replace(full_plan, large_n=LargeN(collapse_min_dyads=1))
            p = models.fit_primary(df, spec, full_plan, cb)
            calls.clear()
            full = pd.DataFrame(models._mi_rows(p, imputed, full_plan, cb))
            assert calls == []
            small = pd.DataFrame(models._mi_rows(p, imputed, small_plan, cb))
            assert len(calls) >= 3 and all(k < 0.8 * n for n, k in calls)     # every imputed dataset, really merged
            # a large cohort's imputed datasets are fitted in threads, with the same results
            threaded_plan = dataclasses.replace(small_plan, large_n=LargeN(collapse_min_dyads=1,
                                                                           mi_one_step_min_dyads=1))
            monkeypatch.setattr(models, "workers_available", lambda: 2)
            pools = []
            monkeypatch.setattr(models, "ThreadPoolExecutor", lambda n: pools.append(n) or ThreadPoolExecutor(n))
            threaded = pd.DataFrame(models._mi_rows(p, imputed, threaded_plan, cb))
            assert pools and pools[0] == 2
            monkeypatch.setattr(models, "workers_available", lambda: 1)
            pd.testing.assert_frame_equal(threaded, pd.DataFrame(models._mi_rows(p, imputed, threaded_plan, cb)))
            num = list(full.select_dtypes("number").columns)
            assert {"estimate", "se", "ci_low", "ci_high", "p", "df", "fmi"} <= set(num)
            np.testing.assert_allclose(small[num].to_numpy(dtype=float), full[num].to_numpy(dtype=float),
                                       rtol=1e-7, atol=1e-10)
            assert small.drop(columns=num).equals(full.drop(columns=num))
