"""Cell suppression on hand-made grids, judged by an independent integer-programming attacker."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perinatal_csc.disclose.cells import Grid, protect, rounded, unprotected
from perinatal_csc.disclose.policy import PRESETS

from disclosure_attacker import bounds, safe


def two_by_two(cells, *, fixed_totals=True):
    """Rows x 2 groups, an overall column (row sums) and column totals (fixed: shown as N)."""
    g = Grid()
    ids = [[g.add(v, f"r{i}g{j}") for j, v in enumerate(row)] for i, row in enumerate(cells)]
    overall = [g.add(sum(row), f"r{i}overall") for i, row in enumerate(cells)]
    totals = [g.add(sum(r[j] for r in cells), f"N{j}", fixed=fixed_totals) for j in range(2)]
    for i in range(len(cells)):
        g.equation(ids[i], overall[i])
    for j in range(2):
        g.equation([ids[i][j] for i in range(len(cells))], totals[j])
    return g


def attack(g, hidden, policy):
    shown = [None if h else (rounded(v, policy) if policy.rounding else v) for v, h in zip(g.values, hidden)]
    return {i: bounds(g.values, shown, g.equations, i, rounding=policy.rounding, threshold=policy.threshold)
            for i in range(len(g.values)) if hidden[i]}


FIXTURES = {
    "a cell of 1": [[1, 40], [50, 60], [30, 25]],
    "recoverable by differencing a total": [[3, 40], [60, 70]],
    "not-known row of 1": [[45, 50], [38, 41], [1, 9]],
    "several small cells": [[2, 3], [4, 60], [70, 1], [30, 30]],
}


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
@pytest.mark.parametrize("name", list(FIXTURES))
def test_every_protected_cell_keeps_a_wide_range(name, preset):
    policy = PRESETS[preset]
    g = two_by_two(FIXTURES[name])
    out = protect(g, policy)
    assert not out.withheld
    protected = [i for i, v in enumerate(g.values) if policy.protects(v)]
    assert protected and all(out.hidden[i] for i in protected)
    ranges = attack(g, out.hidden, policy)
    for i in protected:
        assert safe(*ranges[i], policy.threshold, policy.rounding), (g.labels[i], ranges[i])


def test_a_lone_suppressed_cell_would_be_recovered_so_a_complement_is_hidden():
    g = two_by_two(FIXTURES["recoverable by differencing a total"])
    only_primary = np.array([PRESETS["cohort"].protects(v) for v in g.values])
    lo, hi = attack(g, only_primary, PRESETS["cohort"])[0]
    assert lo == hi == 3                      # the attacker wins without secondary suppression
    out = protect(g, PRESETS["cohort"])
    assert out.hidden.sum() > only_primary.sum()


def test_preset_none_is_the_positive_control():
    g = two_by_two(FIXTURES["a cell of 1"])
    out = protect(g, PRESETS["none"])
    assert not out.hidden.any()
    primary = np.array([PRESETS["cohort"].protects(v) for v in g.values])
    shown = [None if p else v for v, p in zip(g.values, primary)]
    # with nothing hidden but the small cell itself, the margins give it back exactly
    assert bounds(g.values, shown, g.equations, 0) == (1, 1)


def test_a_group_of_two_is_itself_protected():
    g = two_by_two([[0, 40], [2, 50]])
    out = protect(g, PRESETS["cohort"])
    n0 = g.labels.index("N0")
    assert out.primary[n0] and out.hidden[n0]
    for i, (lo, hi) in attack(g, out.hidden, PRESETS["cohort"]).items():
        if out.primary[i]:
            assert safe(lo, hi, 5), (g.labels[i], lo, hi)


def test_rounding_to_five():
    nhs = PRESETS["nhs"]
    assert [rounded(v, nhs) for v in (0, 8, 12, 13, 278)] == [0, 10, 10, 15, 280]


@pytest.mark.parametrize("preset", ["cohort", "nhs"])
def test_the_stage_and_the_independent_attacker_agree_on_every_range(preset):
    from perinatal_csc.disclose.cells import feasible_range

    policy = PRESETS[preset]
    g = two_by_two(FIXTURES["several small cells"])
    out = protect(g, policy)
    ranges = attack(g, out.hidden, policy)
    assert ranges and all(feasible_range(g, out.hidden, policy, i) == r for i, r in ranges.items())


def union_grid(*, inequalities: bool) -> Grid:
    """One domain's unmet need in two groups (3 and 3, overall 6) beside a row counting dyads with an unmet
    need in any domain of its group (19 in the second group) and the group's other domain (16 there)."""
    g = Grid()
    a1, a2, a = g.add(3, "a g1"), g.add(3, "a g2"), g.add(6, "a overall")
    g.equation([a1, a2], a)
    b2, u2 = g.add(16, "b g2"), g.add(19, "any g2")
    if inequalities:
        g.at_most([a2], [u2])
        g.at_most([b2], [u2])
        g.at_most([u2], [a2, b2])
    return g


def test_a_row_counting_any_of_several_domains_is_part_of_the_attack():
    """19 dyads with either need, 16 with the other, so at least 3 with this one in the second group: with
    the overall 6 published, the first group's 3 is pinned to 0..3. Without the inequalities the two
    suppressed group counts look safe; with them, protection hides more."""
    policy = PRESETS["cohort"]
    plain = protect(union_grid(inequalities=False), policy)
    assert list(np.flatnonzero(plain.hidden)) == [0, 1]
    g = union_grid(inequalities=True)
    shown = [None if h else v for v, h in zip(g.values, plain.hidden)]
    relations = [*g.equations, *[("<=", s, l) for s, l in g.inequalities]]
    assert bounds(g.values, shown, relations, 0) == (0, 3)
    out = protect(g, policy)
    assert not out.withheld and out.hidden.sum() > 2
    shown = [None if h else v for v, h in zip(g.values, out.hidden)]
    for i in np.flatnonzero(out.primary):
        assert safe(*bounds(g.values, shown, relations, i), policy.threshold)


@settings(derandomize=True, deadline=None, max_examples=40)
@given(cells=st.lists(st.lists(st.integers(0, 14), min_size=2, max_size=2), min_size=2, max_size=4),
       seed=st.integers(0, 2**16), preset=st.sampled_from(["cohort", "tre", "nhs"]))
def test_witnesses_change_no_verdict_of_the_range_check(cells, seed, preset):
    """``unprotected`` judges a cell safe from tables it has already seen (the true one, earlier programs'
    tables, also those found for another suppression pattern): its verdict must be the one an exact
    minimum and maximum of every protected cell give (the independent attacker)."""
    policy = PRESETS[preset]
    g = two_by_two(cells)
    rng = np.random.default_rng(seed)
    primary = np.array([policy.protects(v) for v in g.values])
    hidden = primary | (rng.random(len(g.values)) < 0.4)
    other = hidden | (rng.random(len(g.values)) < 0.5)
    checked = [int(i) for i in np.flatnonzero(primary & hidden)]
    ranges = attack(g, hidden, policy)
    expected = [i for i in checked if not safe(*ranges[i], policy.threshold, policy.rounding)]
    pool: list = []
    unprotected(g, other, policy, checked, witnesses=pool)
    assert unprotected(g, hidden, policy, checked, witnesses=pool) == expected
    assert unprotected(g, hidden, policy, checked) == expected
    assert unprotected(g, hidden, policy, checked, first=True) == expected[:1]


def test_the_attacker_s_witnessed_ranges_report_a_recoverable_cell_with_its_exact_value():
    """``ranges_passing`` (the attacker test's shortcut) still finds a cell recoverable by differencing:
    only a range that passes is taken from witnesses, a failing one is solved exactly."""
    from disclosure_attacker import ranges_passing

    policy = PRESETS["cohort"]
    g = two_by_two(FIXTURES["recoverable by differencing a total"])
    hidden = [v == 3 for v in g.values]                 # the 3 alone: its row total and column N give it back
    shown = [None if h else v for v, h in zip(g.values, hidden)]
    cell = hidden.index(True)
    passes = lambda lo, hi: safe(lo, hi, policy.threshold)  # noqa: E731
    assert ranges_passing(g.values, shown, g.equations, [cell], passes) == {cell: (3, 3, True)}
    wide = [None if v in (3, 40, 43, 63) else v for v in g.values]   # its row and its group's column hidden too
    lo, hi, _ = ranges_passing(g.values, wide, g.equations, [cell], passes)[cell]
    assert passes(lo, hi) and (lo, hi) != (3, 3)
