"""The attacker test on real pipeline output: for the default synthetic cohort and two other seeds,
under each preset, an integer program over everything a describe-style table, the participant flow
and the transition table release about each population bounds every protected count."""
from __future__ import annotations

import functools

import pytest
import yaml

from perinatal_csc.config import load_config
from perinatal_csc.data.load import analysed
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.pipeline import codebook_links, codebook_unions, cohort
from perinatal_csc.stats import describe

from disclosure_attacker import (_shown, bounds, characteristics_systems, class_zeros, flow_published,
                                ranges_passing, safe, union_systems)

CHARACTERISTICS = ("table1_sociodemographic", "table2_clinical", "table3_needs", "table5_subgroups")
#: (dyads, seed): the default cohort's size under three seeds, and two small cohorts where small cells abound.
COHORTS = ((278, 2023), (278, 7), (278, 99), (120, 2023), (200, 2023))


@pytest.fixture(scope="module", params=COHORTS, ids=[f"n{n}-seed{s}" for n, s in COHORTS])
def results(request, tmp_path_factory):
    n, seed = request.param
    tmp = tmp_path_factory.mktemp(f"n{n}seed{seed}")
    cfg_path = tmp / "project.yml"
    cfg_path.write_text(yaml.safe_dump({"data": {"source": "synthetic", "synthetic": {
        "path": str(tmp / "cohort.csv"), "n": n, "seed": seed}}}))
    cfg = load_config(cfg_path)
    parent = cohort(cfg)
    return describe.results(parent.loc[analysed(parent)], cfg, parent=parent)


_RELEASES: dict = {}


def released(results, preset):
    """The release of ``results`` under ``preset``, computed once per seed and preset."""
    key = (id(results), preset)
    if key not in _RELEASES:
        cb = load_codebook()
        _RELEASES[key] = release(results, PRESETS[preset], links=codebook_links(cb), unions=codebook_unions(cb)).tables
    return _RELEASES[key]


def flow_system(full, rel):
    """The flow: n and not included per stage and group; n + not included = the parent stage's n;
    overall = sum of the groups."""
    values, published, labels, relations, cell = [], [], [], [], {}
    full = full.reset_index(drop=True)
    rel = rel.reset_index(drop=True)
    for i, r in full.iterrows():
        for field in ("n", "excluded"):
            cell[r["stage"], str(r["group"]), field] = len(values)
            values.append(int(r[field]))
            shown = _shown(rel.at[i, field])
            published.append(None if shown is None else int(shown))
            labels.append((r["stage"], str(r["group"]), field))
    for i, r in full.iterrows():
        s, g, parent = r["stage"], str(r["group"]), r["parent"]
        if isinstance(parent, str) and parent != s and (parent, g, "n") in cell:
            relations.append(([cell[s, g, "n"], cell[s, g, "excluded"]], cell[parent, g, "n"]))
    groups = [g for g in dict.fromkeys(full["group"].astype(str)) if g != "overall"]
    for s in dict.fromkeys(full["stage"]):
        for field in ("n", "excluded"):
            if (s, "overall", field) in cell and all((s, g, field) in cell for g in groups):
                members = [cell[s, g, field] for g in groups]
                rest = values[cell[s, "overall", field]] - sum(values[m] for m in members)
                if rest:            # dyads of no group (not analysed): a count the attacker does not see
                    members.append(len(values))
                    values.append(rest)
                    published.append(None)
                    labels.append((s, "outside the groups", field))
                relations.append((members, cell[s, "overall", field]))
    return values, published, relations, labels


def transitions_system(full, rel):
    """Cells, their row totals (the denominators shown) and the Total row (the column totals, as
    released), with every row total and the Total row adding up to the number of pairs."""
    values, published, labels, relations = [], [], [], []
    full = full.reset_index(drop=True)
    idx = {}
    for i, r in full.iterrows():
        idx[r["level"], r["group"]] = len(values)
        values.append(int(r["n"]))
        shown = _shown(rel.at[i, "n"])
        published.append(None if shown is None else int(shown))
        labels.append((r["level"], r["group"]))
    for lv in dict.fromkeys(full["level"]):
        members = [idx[k] for k in idx if k[0] == lv]
        first = full[full["level"] == lv].index[0]
        values.append(int(full.at[first, "denominator"]))
        shown = _shown(rel.at[first, "denominator"])
        published.append(None if shown is None else int(shown))
        labels.append((lv, "total"))
        relations.append((members, len(values) - 1))
    for g in dict.fromkeys(full["group"]):
        members = [idx[k] for k in idx if k[1] == g and k[0] != "total"]
        relations.append((members, idx["total", g]))
    row_totals = [i for i, lab in enumerate(labels) if lab[1] == "total" and lab[0] != "total"]
    relations.append((row_totals, labels.index(("total", "total"))))
    return values, published, relations, labels


UNIONS = {v.name: v.inputs for v in load_codebook() if v.any_of is not None}


def systems(full_results, released):
    flow = flow_published(released["flow"])
    for key in CHARACTERISTICS:
        found = {name: rest for name, *rest in characteristics_systems(full_results[key], released[key], flow)}
        for name, values, published, relations, labels in union_systems(found, UNIONS):
            yield f"{key}: {name} with its members", values, published, relations, labels
        for name, (values, published, relations, labels) in found.items():
            yield f"{key}: {name}", values, published, relations, labels
    yield "flow", *flow_system(full_results["flow"], released["flow"])
    yield "table4_transitions", *transitions_system(full_results["table4_transitions"], released["table4_transitions"])


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_every_protected_count_keeps_a_wide_feasible_range(results, preset):
    policy = PRESETS[preset]
    rel = released(results, preset)
    checked, problems = 0, []
    passes = functools.partial(safe, threshold=policy.threshold, rounding=policy.rounding)
    for name, values, published, relations, labels in systems(results, rel):
        cells = []
        for i, v in enumerate(values):
            if not policy.protects(v) or "outside the groups" in str(labels[i]) or "complement" in str(labels[i]):
                continue
            if published[i] is not None:
                problems.append(f"{name} {labels[i]}: a protected count is published")
                continue
            cells.append(i)
        if not cells:
            continue
        ranges = ranges_passing(values, published, relations, cells, passes,
                                rounding=policy.rounding, threshold=policy.threshold)
        checked += len(cells)
        problems += [f"{name} {labels[i]}: feasible range {lo}..{hi}"
                     for i, (lo, hi, _) in ranges.items() if not passes(lo, hi)]
    assert checked > 20
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_no_zero_tells_what_everyone_in_a_small_group_has(results, preset):
    """Class disclosure: a zero (or an implied zero behind a 100%) in a category or group of 1 to
    threshold - 1 dyads is hidden and cannot be told apart from a count at or above the threshold."""
    policy = PRESETS[preset]
    rel = released(results, preset)
    problems = []
    for key in CHARACTERISTICS:
        for name, values, published, relations, labels in characteristics_systems(results[key], rel[key]):
            for i, row_total, den in class_zeros(values, labels):
                if not (policy.protects(row_total or 0) or policy.protects(den or 0)):
                    continue
                if published[i] is not None:
                    problems.append(f"{key}: {name} {labels[i]}: a zero of a small group is published")
                    continue
                lo, hi = bounds(values, published, relations, i, rounding=policy.rounding, threshold=policy.threshold)
                if not safe(lo, hi, policy.threshold, policy.rounding):
                    problems.append(f"{key}: {name} {labels[i]}: feasible range {lo}..{hi}")
    assert not problems, "\n".join(problems[:20])


def test_preset_none_lets_the_attacker_recover_small_counts_exactly(results):
    rel = released(results, "none")
    recovered = 0
    for name, values, published, relations, labels in systems(results, rel):
        for i, v in enumerate(values):
            if PRESETS["cohort"].protects(v) and "outside the groups" not in str(labels[i]):
                assert bounds(values, published, relations, i) == (v, v), (name, labels[i])
                recovered += 1
    assert recovered > 20


@pytest.mark.parametrize("preset", ["cohort", "tre"])
def test_no_percentage_test_or_smd_gives_a_suppressed_count_away(results, preset):
    """A percentage is shown only with its count and its denominator. A variable with a suppressed
    category count (or denominator) shows no test statistic, p, q or SMD: they are functions of the
    category-by-group counts and could pin one down. A variable whose only suppressed counts are
    "Not known" or the number of dyads with a value shows p, q and SMD (functions of published counts,
    or of values no attacker holds) but never a rank or test statistic, which with the group sizes
    would give the number of dyads with a value away."""
    rel = released(results, preset)
    shown_with_counts_hidden = 0
    for key in CHARACTERISTICS:
        t = rel[key].astype(object)
        hidden = lambda c: t[c] == MARKER
        levels = t["row_type"] == "level"
        assert (t.loc[levels & (hidden("n") | hidden("denominator")), "percent"] == MARKER).all(), key
        for variable, g in t.groupby(["comparison", "variable"] if "comparison" in t else "variable"):
            lv = g[g["row_type"] == "level"]
            is_shown = lambda c: g[c].map(lambda v: v != MARKER and v == v)
            if (lv[["n", "denominator"]] == MARKER).any().any():
                assert not g[["p", "smd", "statistic", "q"]].map(lambda v: v != MARKER and v == v).any().any(), \
                    (key, variable)
            elif (g[["n", "denominator"]] == MARKER).any().any():
                assert not is_shown("statistic").any(), (key, variable)
                shown_with_counts_hidden += bool(is_shown("p").any())
    if preset == "cohort":
        assert shown_with_counts_hidden, "no variable keeps its p beside a suppressed Not-known count"
