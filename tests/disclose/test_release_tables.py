"""Disclosure rules of the other result tables, on hand-made fixtures: models, exclusions, flow,
headline counts and paired tests."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.disclose.release import release

from disclosure_attacker import _shown, bounds, safe

COHORT, TRE = PRESETS["cohort"], PRESETS["tre"]


def models(n=120, events=40, parameters=3, level_events=((2, 30), (38, 50))):
    """One model: a binary covariate 'x' (level 1, then the reference) and a continuous 'age'."""
    est = []
    for kind in ("Unadjusted", "Adjusted"):
        est.append({"model": "m", "type": kind, "term": "x", "label": "X", "level": "1", "level_label": "Yes",
                    "reference": False, "estimate": 0.5, "se": 0.2, "or": 1.65, "ci_low": 1.1, "ci_high": 2.4,
                    "p": 0.01, "p_global": np.nan, "direction": "higher", "method": "ML", "n": n, "events": events})
        est.append({"model": "m", "type": kind, "term": "age", "label": "Age", "level": "", "level_label": "",
                    "reference": False, "estimate": -0.1, "se": 0.05, "or": 0.9, "ci_low": 0.8, "ci_high": 1.0,
                    "p": 0.04, "p_global": np.nan, "direction": "", "method": "ML", "n": n, "events": events})
    counts = [{"model": "m", "term": "x", "level": "1", "level_label": "Yes", "reference": False,
               "events": level_events[0][0], "non_events": level_events[0][1]},
              {"model": "m", "term": "x", "level": "", "level_label": "Reference level", "reference": True,
               "events": level_events[1][0], "non_events": level_events[1][1]}]
    sens = [{**{k: v for k, v in r.items() if k != "type"}, "analysis": "Complete case (primary)", "df": np.nan,
             "fmi": np.nan, "inference": "profile", "p_global_method": ""} for r in est if r["type"] == "Adjusted"]
    return {
        "models_m": pd.DataFrame(est),
        "models_summary": pd.DataFrame([{"model": "m", "title": "M", "n": n, "events": events, "non_events": n - events,
                                         "parameters": parameters, "epv": min(events, n - events) / parameters,
                                         "method": "ML", "footnote": ""}]),
        "models_level_counts": pd.DataFrame(counts),
        "models_sensitivity": pd.DataFrame(sens),
        "models_diagnostics": pd.DataFrame([{"model": "m", "n": n, "events": events, "c_statistic": 0.7,
                                             "c_ci_low": 0.6, "c_ci_high": 0.8, "hl_chi2": 3.0, "hl_df": 8,
                                             "hl_groups": 10, "hl_p": 0.9, "max_gvif": 1.1, "max_gvif_term": "X"}]),
        "models_linearity": pd.DataFrame([{"model": "m", "term": "age", "label": "Age", "knots": 4,
                                           "knot_percentiles": "5, 35, 65, 95", "method": "ML", "lr_chi2": 1.2,
                                           "df": 2, "p": 0.55, "note": ""}]),
    }


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_a_term_with_too_few_events_in_a_level_is_withheld_and_the_counts_stay_inside(preset):
    rel = release(models(), PRESETS[preset])
    m = rel.tables["models_m"]
    x = m[m.term == "x"]
    assert (x[["or", "ci_low", "ci_high", "p", "estimate", "se"]] == MARKER).all().all()
    assert not (m[m.term == "age"][["or", "p"]] == MARKER).any().any()
    s = rel.tables["models_sensitivity"]
    assert (s.loc[s.term == "x", ["or", "ci_low", "ci_high", "p"]] == MARKER).all().all()
    assert "models_level_counts" not in rel.tables
    assert any(d.output == "models_level_counts" and d.kind == "withheld" for d in rel.decisions)


def test_enough_events_in_every_level_leaves_the_estimates_unchanged():
    res = models(level_events=((12, 30), (28, 50)))
    rel = release(res, COHORT).tables["models_m"]
    pd.testing.assert_frame_equal(rel, res["models_m"])


@pytest.mark.parametrize("kwargs, policy", [({"events": 4}, COHORT), ({"n": 14, "events": 7, "parameters": 5}, TRE)])
def test_a_model_with_too_few_events_or_residual_df_is_withheld(kwargs, policy):
    rel = release(models(level_events=((12, 30), (28, 50)), **kwargs), policy).tables
    assert (rel["models_m"][["or", "p", "ci_low"]] == MARKER).all().all()
    assert (rel["models_diagnostics"][["c_statistic", "hl_p"]] == MARKER).all().all()
    assert (rel["models_summary"][["events", "epv"]] == MARKER).all().all()
    assert (rel["models_linearity"][["lr_chi2", "df", "p"]] == MARKER).all().all()
    assert rel["models_linearity"].at[0, "label"] == "Age"


def test_the_linearity_check_is_released_unchanged_when_its_model_is():
    res = models(level_events=((12, 30), (28, 50)))
    for preset in ("cohort", "tre", "nhs"):
        pd.testing.assert_frame_equal(release(res, PRESETS[preset]).tables["models_linearity"], res["models_linearity"])


def exclusions(steps):
    rows, remaining = [], 278
    rows.append({"model": "m", "analysis": "primary", "step": 0, "reason": "cohort", "excluded": 0, "remaining": remaining})
    for k, x in enumerate(steps, 1):
        remaining -= x
        rows.append({"model": "m", "analysis": "primary", "step": k, "reason": f"reason {k}", "excluded": x,
                     "remaining": remaining})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_an_exclusion_of_two_cannot_be_recovered_from_the_remaining_counts(preset):
    policy = PRESETS[preset]
    full = exclusions([8, 2, 30, 14])
    rel = release({"models_exclusions": full, **models(level_events=((12, 30), (28, 50)))}, policy).tables["models_exclusions"]
    values = list(full.remaining) + list(full.excluded)
    k = len(full)
    published = [None if (v := _shown(x)) is None else int(v) for x in list(rel.remaining) + list(rel.excluded)]
    relations = [([j, k + j], j - 1) for j in range(1, k)]
    i = k + 2                                              # the exclusion of 2
    assert published[i] is None
    lo, hi = bounds(values, published, relations, i, rounding=policy.rounding, threshold=policy.threshold)
    assert safe(lo, hi, policy.threshold, policy.rounding), (lo, hi)


def flow(excluded_1y=(3, 40)):
    rows = [{"stage": "cohort", "stage_label": "Cohort", "parent": np.nan, "group": "overall", "group_label": "Overall",
             "n": 100, "excluded": 0, "reason": np.nan, "parent_n": np.nan, "percent": np.nan}]
    sizes = {"1": 30, "0": 70}
    for g, label in (("overall", "Overall"), ("1", "With"), ("0", "Without")):
        n = 100 if g == "overall" else sizes[g]
        x = sum(excluded_1y) if g == "overall" else excluded_1y[0 if g == "1" else 1]
        rows.append({"stage": "analysed", "stage_label": "Analysed", "parent": "cohort" if g == "overall" else "analysed",
                     "group": g, "group_label": label, "n": n, "excluded": 0, "reason": "", "parent_n": 100,
                     "percent": 100 * n / 100})
        rows.append({"stage": "followed", "stage_label": "Followed up", "parent": "analysed", "group": g,
                     "group_label": label, "n": n - x, "excluded": x, "reason": "lost", "parent_n": n,
                     "percent": 100 * (n - x) / n})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_a_small_loss_to_follow_up_in_one_group_is_protected_in_the_flow(preset):
    policy = PRESETS[preset]
    full = flow()
    rel = release({"flow": full}, policy).tables["flow"]
    cells, values, published = {}, [], []
    for i, r in full.iterrows():
        for f in ("n", "excluded"):
            cells[r["stage"], r["group"], f] = len(values)
            values.append(int(r[f]))
            v = _shown(rel.at[i, f])
            published.append(None if v is None else int(v))
    relations = []
    for g in ("overall", "1", "0"):
        relations.append(([cells["followed", g, "n"], cells["followed", g, "excluded"]], cells["analysed", g, "n"]))
    for s in ("analysed", "followed"):
        for f in ("n", "excluded"):
            relations.append(([cells[s, "1", f], cells[s, "0", f]], cells[s, "overall", f]))
    small = cells["followed", "1", "excluded"]
    assert published[small] is None
    lo, hi = bounds(values, published, relations, small, rounding=policy.rounding, threshold=policy.threshold)
    assert safe(lo, hi, policy.threshold, policy.rounding), (lo, hi)
    row = rel[(rel.stage == "followed") & (rel.group == "1")].iloc[0]
    if row["n"] == MARKER or row["parent_n"] == MARKER:
        assert row["percent"] == MARKER
    else:                      # a percentage adds nothing to the published numbers it is made of
        assert row["percent"] == pytest.approx(100 * row["n"] / row["parent_n"], abs=0.05)


def test_headline_count_and_its_complement():
    full = pd.DataFrame([{"measure": "a", "label": "A", "population": "p", "n": 3, "denominator": 208, "percent": 1.4},
                         {"measure": "b", "label": "B", "population": "p", "n": 205, "denominator": 208, "percent": 98.6},
                         {"measure": "c", "label": "C", "population": "p", "n": 64, "denominator": 208, "percent": 30.8}])
    rel = release({"headline": full}, COHORT).tables["headline"]
    assert list(rel["n"]) == [MARKER, MARKER, 64]
    assert list(rel["percent"])[:2] == [MARKER, MARKER]


def test_discordant_pairs_in_a_note_hide_the_mcnemar_statistic():
    full = pd.DataFrame([{"variable": "csc_any", "label": "Any", "from_variable": "a", "to_variable": "b",
                          "group": "overall", "group_label": "Overall", "n_pairs": 208, "statistic": 3.0, "df": np.nan,
                          "test": "Exact McNemar test (binomial)", "p": 0.002, "note": "3 changed 0 to 1, 21 changed 1 to 0"}])
    rel = release({"table4_paired_tests": full}, COHORT).tables["table4_paired_tests"]
    assert rel.at[0, "note"] == f"{MARKER} changed 0 to 1, {MARKER} changed 1 to 0"
    assert rel.at[0, "statistic"] == MARKER and rel.at[0, "p"] == MARKER


def test_a_paired_needs_summary_with_a_protected_count_hides_its_test_and_q_value():
    rows = []
    for g, n in (("1", 3), ("0", 40), ("overall", 43)):
        for level in ("1m", "1y", "change"):
            rows.append({"variable": "canm_unmet", "label": "CAN-M unmet needs", "level": level, "level_label": level,
                         "group": g, "group_label": g, "n": n, "n_domain_not_known": 12, "mean": 1.0, "sd": 1.0,
                         "median": 1.0, "q1": 0.0, "q3": 2.0, "statistic": 5.0, "df": np.nan, "test": "Wilcoxon",
                         "p": 0.02, "note": "", "q": 0.04})
    rel = release({"table4_needs_change": pd.DataFrame(rows)}, COHORT).tables["table4_needs_change"]
    small = rel[rel.group == "1"]
    assert (small[["n", "median", "p", "q"]] == MARKER).all().all()
    hidden = {g for g in ("0", "overall") if (rel.loc[rel.group == g, "n"] == MARKER).all()}
    assert hidden                                          # 3 + 40 = 43: one more count must go
    for g in ("0", "overall"):
        assert (rel.loc[rel.group == g, ["p", "q"]] == MARKER).all().all() == (g in hidden)


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_a_zero_in_a_small_row_of_the_transitions_is_protected(preset):
    """Three dyads with status 'a' during the episode all had status 'x' at one year: the zeros of that
    row would say so (class disclosure). They are hidden and the attacker (cells, row totals, column
    totals known) cannot tell them from a count at or above the threshold."""
    policy = PRESETS[preset]
    counts = {"a": (3, 0, 0), "b": (20, 15, 12), "c": (11, 25, 30)}
    rows = []
    for lv, ns in counts.items():
        for g, n in zip(("x", "y", "z"), ns):
            rows.append({"level": lv, "level_label": lv.upper(), "group": g, "group_label": g.upper(), "n": n,
                         "denominator": sum(ns), "percent": 100 * n / sum(ns)})
    full = pd.DataFrame(rows)
    rel = release({"table4_transitions": full}, policy).tables["table4_transitions"]
    values = list(full["n"]) + [sum(ns) for ns in counts.values()] + [sum(c) for c in zip(*counts.values())]
    published = [None if (v := _shown(x)) is None else int(v) for x in rel["n"]]
    published += [None if (v := _shown(rel["denominator"].iat[3 * k])) is None else int(v) for k in range(3)]
    published += values[-3:]                                # column totals: published elsewhere
    relations = [([3 * k, 3 * k + 1, 3 * k + 2], 9 + k) for k in range(3)] + [([j, 3 + j, 6 + j], 12 + j) for j in range(3)]
    for i in (1, 2):                                        # the zeros of row 'a'
        assert published[i] is None, i
        lo, hi = bounds(values, published, relations, i, rounding=policy.rounding, threshold=policy.threshold)
        assert lo == 0 and safe(lo, hi, policy.threshold, policy.rounding), (i, lo, hi)
    none = release({"table4_transitions": full}, PRESETS["none"]).tables["table4_transitions"]
    assert list(none["n"])[1:3] == [0, 0]
