"""An attacker that links model results to descriptive cells, and class disclosure by zeros.

The attacker (tests/disclosure_attacker.py) tries every covariate-by-outcome table of a model's dyads
that reproduces the published unadjusted odds ratio and interval at the printed precision (2 decimal
places), adds each to the integer program of the descriptive table about the same dyads (cell =
model's count + dyads left out of the model), and takes the feasible range of each protected count over
all of them. Fixtures: tests/disclosure_fixtures.py.
"""
from __future__ import annotations

import pytest

import disclosure_fixtures as fx
from disclosure_attacker import _shown, bounds, characteristics_systems, class_zeros, linked_range, safe, tables_fitting
from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.disclose.release import release

EVENTS, NON_EVENTS = 38, 54


def linked_system(table):
    """The characteristics system of 'linked' under the released ``table``."""
    full = fx.results()["table1_sociodemographic"]
    for name, values, published, relations, labels in characteristics_systems(full, table):
        if name == "linked":
            return values, published, relations, labels
    raise AssertionError("no 'linked' variable")


def published_or(models_table):
    row = models_table[(models_table.type == "Unadjusted") & (models_table.term == "linked")].iloc[0]
    if MARKER in (row["or"], row["ci_low"], row["ci_high"]):
        return None
    return {"1": (float(row["or"]), float(row["ci_low"]), float(row["ci_high"]))}


def attack(policy, table, or_published):
    """(label, value, lo, hi) of every protected count of 'linked', with the odds ratio when published."""
    values, published, relations, labels = linked_system(table)
    fits = tables_fitting(EVENTS, NON_EVENTS, or_published) if or_published else None
    out = []
    for i, v in enumerate(values):
        if not policy.protects(v) or "outside the groups" in str(labels[i]) or "complement" in str(labels[i]):
            continue
        assert published[i] is None, (labels[i], "published")
        if fits is None:
            lo, hi = bounds(values, published, relations, i, rounding=policy.rounding, threshold=policy.threshold)
        else:
            lo, hi = linked_range(values, published, relations, labels, i, fits, rounding=policy.rounding,
                                  threshold=policy.threshold)
        out.append((labels[i], v, lo, hi))
    return out


def test_the_attacker_finds_the_models_table_from_the_printed_odds_ratio():
    full = fx.models()["models_m"]
    fits = tables_fitting(EVENTS, NON_EVENTS, published_or(full))
    assert {None: fx.LINKED_TABLE[None], "1": fx.LINKED_TABLE["1"]} in fits
    assert len(fits) <= 3


@pytest.mark.parametrize("preset", ["cohort", "tre"])
def test_a_published_unadjusted_odds_ratio_would_give_a_suppressed_not_known_row_away(preset):
    """Positive control: the release's own tables with the odds ratio put back let the attacker narrow
    the 'Not known' count of 2, so withholding the odds ratio is what protects it."""
    policy = PRESETS[preset]
    rel = release(fx.results(), policy).tables
    table = rel["table1_sociodemographic"]
    with_or = attack(policy, table, published_or(fx.models()["models_m"]))
    assert any(not safe(lo, hi, policy.threshold, policy.rounding) for _, _, lo, hi in with_or), with_or
    m = rel["models_m"]
    unadjusted = m[(m.type == "Unadjusted") & (m.term == "linked")]
    assert (unadjusted[["or", "ci_low", "ci_high", "p", "estimate", "se"]] == MARKER).all().all()
    adjusted = m[(m.type == "Adjusted") & (m.term == "linked")]
    assert adjusted["or"].iloc[0] != MARKER                      # other covariates: not the same table


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_no_protected_count_can_be_narrowed_with_what_the_models_release(preset):
    policy = PRESETS[preset]
    rel = release(fx.results(), policy).tables
    found = attack(policy, rel["table1_sociodemographic"], published_or(rel["models_m"]))
    assert found
    bad = [f for f in found if not safe(f[2], f[3], policy.threshold, policy.rounding)]
    assert not bad, bad


def test_an_odds_ratio_on_other_dyads_than_the_table_is_kept():
    """When many dyads of the table are left out of the model, the model's table pins nothing down."""
    res = fx.results()
    counts = res["models_level_counts"]
    small = {("linked", False): (10, 8), ("linked", True): (9, 20)}
    for (term, ref), (ev, nev) in small.items():
        sel = (counts.term == term) & (counts.reference == ref)
        counts.loc[sel, ["events", "non_events"]] = [ev, nev]
    rel = release(res, PRESETS["cohort"]).tables["models_m"]
    assert rel.loc[(rel.type == "Unadjusted") & (rel.term == "linked"), "or"].iloc[0] != MARKER


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_a_zero_that_tells_what_a_small_group_has_is_protected(preset):
    """'paired' is held by two dyads, both with CSC involvement: the zero among those without would say
    so (class disclosure), so it is suppressed and the attacker cannot tell it from a count at or above
    the threshold."""
    policy = PRESETS[preset]
    full = fx.results()["table1_sociodemographic"]
    rel = release(fx.results(), policy).tables["table1_sociodemographic"]
    checked = 0
    for name, values, published, relations, labels in characteristics_systems(full, rel):
        for i, row_total, den in class_zeros(values, labels):
            if not (policy.protects(row_total or 0) or policy.protects(den or 0)):
                continue
            assert published[i] is None or "complement" in str(labels[i]), (name, labels[i])
            lo, hi = bounds(values, published, relations, i, rounding=policy.rounding, threshold=policy.threshold)
            assert lo == 0 and safe(lo, hi, policy.threshold, policy.rounding), (name, labels[i], lo, hi)
            checked += 1
    assert checked >= 1
    zero = rel[(rel.variable == "pair") & (rel.level == "paired") & (rel.group == "0")]
    assert zero["n"].iloc[0] == MARKER and zero["percent"].iloc[0] == MARKER


def test_a_zero_in_a_large_group_stays_published():
    """A zero whose category and group are both large tells nothing about a small group: kept."""
    res = {"table1_sociodemographic": fx.characteristics({"big": ("Big", {"a": (40, 30), "b": (0, 30)})})}
    rel = release(res, PRESETS["cohort"]).tables["table1_sociodemographic"]
    assert (rel["n"] != MARKER).all()


def test_preset_none_shows_the_zero_and_the_odds_ratio():
    rel = release(fx.results(), PRESETS["none"]).tables
    t = rel["table1_sociodemographic"]
    assert t.loc[(t.variable == "pair") & (t.level == "paired") & (t.group == "0"), "n"].iloc[0] == 0
    assert _shown(rel["models_m"].loc[(rel["models_m"].type == "Unadjusted") & (rel["models_m"].term == "linked"),
                                      "or"].iloc[0]) is not None


def test_the_attacker_finds_a_three_level_table_from_its_two_printed_odds_ratios():
    """A categorical covariate: reference (c, d) and two levels; every table that prints the same two
    odds ratios and intervals is found, the true one among them."""
    table = {None: (6, 20), "b": (9, 11), "c": (5, 14)}
    (c, d) = table[None]
    published = {lv: fx.wald(a, b, c, d)[2:] for lv, (a, b) in table.items() if lv is not None}
    events, non_events = sum(v[0] for v in table.values()), sum(v[1] for v in table.values())
    fits = tables_fitting(events, non_events, published)
    assert table in fits and len(fits) <= 3, fits


def test_a_yes_no_characteristic_shown_with_both_levels_is_linked_too():
    res = fx.results()
    res["table1_sociodemographic"] = fx.characteristics(
        {**fx.ADVERSARIAL, "linked": ("Linkage", {"1": (20, 15), "0": (18, 39), "not_known": (2, 6)})})
    rel = release(res, PRESETS["cohort"]).tables["models_m"]
    assert rel.loc[(rel.type == "Unadjusted") & (rel.term == "linked"), "or"].iloc[0] == MARKER
