"""The release of result tables: protected counts suppressed, the rest unchanged, an independent
attacker cannot narrow a protected count, and preset none is the positive control."""
import numpy as np
import pandas as pd
import pytest

from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.disclose.release import PRINTED_DP, release

from disclosure_attacker import bounds, characteristics_systems, safe

GROUPS = (("1", "With CSC involvement"), ("0", "Without CSC involvement"), ("overall", "Overall"))


def characteristics(variables, n_na=(0, 0)):
    """A describe-style long table: ``variables`` maps name -> {level: (n in group 1, n in group 0)};
    level "not_known" is the "Not known" row; one level only makes a one-level (Yes) variable."""
    group_n = {"1": 40, "0": 60}
    group_n["overall"] = 100
    na = {"1": n_na[0], "0": n_na[1], "overall": sum(n_na)}
    rows = []
    for variable, levels in variables.items():
        nk = levels.get("not_known", (0, 0))
        known = {g: group_n[g] - na[g] - nk[k] for k, g in enumerate(("1", "0"))}
        known["overall"] = known["1"] + known["0"]
        for level, counts in levels.items():
            for g, label in GROUPS:
                n = counts[0] if g == "1" else counts[1] if g == "0" else sum(counts)
                nk = level == "not_known"
                rows.append({"section": "", "variable": variable, "label": variable.title(), "unit": "", "summary": "n_pct",
                             "row_type": "not_known" if nk else "level", "level": level,
                             "level_label": "Not known" if nk else level.title(), "group": g, "group_label": label,
                             "group_n": group_n[g], "n": n, "denominator": np.nan if nk else known[g],
                             "percent": np.nan if nk else 100 * n / known[g],
                             "mean": np.nan, "sd": np.nan, "median": np.nan, "q1": np.nan, "q3": np.nan,
                             "n_missing": levels.get("not_known", (0, 0))[0 if g == "1" else 1] if g != "overall"
                             else sum(levels.get("not_known", (0, 0))),
                             "n_not_applicable": na[g], "requires": "", "statistic": 1.0, "df": 1.0,
                             "test": "Fisher's exact test", "p": 0.04, "q": 0.1, "smd": 0.3})
    return pd.DataFrame(rows)


def consistent(variables, n_na=(0, 0)):
    """Multi-level variables whose first level is set so that every group adds up (40 and 60 dyads,
    less those not followed up)."""
    out = {}
    for name, levels in variables.items():
        lv = dict(levels)
        first = next(iter(lv))
        lv[first] = tuple(size - sum(v[k] for key, v in lv.items() if key != first)
                          for k, size in enumerate((40 - n_na[0], 60 - n_na[1])))
        out[name] = lv
    return out


FIXTURE = consistent({
    "one": {"big": (0, 0), "single": (1, 20), "other": (10, 12)},                 # a cell of 1
    "diff": {"big": (0, 0), "small": (3, 30)},                                   # recoverable from the total
    "notknown": {"yes": (0, 0), "no": (12, 14), "not_known": (1, 6)},            # a Not-known row of 1
    "zeroes": {"a": (0, 0), "b": (0, 25), "c": (6, 9)},                          # a zero cell
})
YES_ONLY = {"yesonly": {"yes": (38, 50), "not_known": (0, 6)}}                    # a Yes-only row revealing No = 2 and 4


def table():
    variables = {**FIXTURE, **YES_ONLY}
    return {"table1_sociodemographic": characteristics(variables)}


@pytest.mark.parametrize("preset", ["cohort", "tre", "nhs"])
def test_no_protected_count_of_a_characteristics_table_can_be_narrowed(preset):
    policy = PRESETS[preset]
    full = table()["table1_sociodemographic"]
    rel = release({"table1_sociodemographic": full}, policy).tables["table1_sociodemographic"]
    checked = 0
    for name, values, published, relations, labels in characteristics_systems(full, rel):
        for i, v in enumerate(values):
            if policy.protects(v) and "outside" not in str(labels[i]):
                assert published[i] is None, (name, labels[i], "published")
                lo, hi = bounds(values, published, relations, i, rounding=policy.rounding, threshold=policy.threshold)
                assert safe(lo, hi, policy.threshold, policy.rounding), (name, labels[i], v, lo, hi)
                checked += 1
    assert checked >= 5


def test_a_yes_only_row_does_not_reveal_the_implied_no():
    full = table()["table1_sociodemographic"]
    rel = release({"table1_sociodemographic": full}, PRESETS["cohort"]).tables["table1_sociodemographic"]
    yes = rel[(rel.variable == "yesonly") & (rel.row_type == "level") & (rel.group != "overall")]
    assert (yes[["n", "percent"]] == MARKER).all().all()


def test_preset_none_is_the_positive_control():
    full = table()["table1_sociodemographic"]
    rel = release({"table1_sociodemographic": full}, PRESETS["none"]).tables["table1_sociodemographic"]
    pd.testing.assert_frame_equal(rel, full)
    recovered = 0
    for name, values, published, relations, labels in characteristics_systems(full, rel):
        for i, v in enumerate(values):
            if PRESETS["cohort"].protects(v):
                assert bounds(values, published, relations, i) == (v, v)
                recovered += 1
    assert recovered >= 5


@pytest.mark.parametrize("preset", ["cohort", "tre"])
def test_values_no_rule_touches_are_unchanged(preset):
    full = table()["table1_sociodemographic"]
    rel = release({"table1_sociodemographic": full}, PRESETS[preset]).tables["table1_sociodemographic"]
    shown = rel.astype(object) != MARKER
    assert (~shown).any().any()
    for c in full.columns:
        a, b = full[c][shown[c]], rel[c][shown[c]]
        if c == "q":               # recomputed without the withheld p-values: never below the q over every test
            assert (b.astype(float).fillna(1) >= a.astype(float).fillna(1) - 0.0005).all(), c
        elif c in PRINTED_DP:      # at the precision the documents print, no more
            half = 0.5 * 10 ** -PRINTED_DP[c] + 1e-9
            assert np.allclose(a.astype(float), b.astype(float), atol=half, rtol=0, equal_nan=True), c
            assert np.allclose(b.astype(float), b.astype(float).round(PRINTED_DP[c]), equal_nan=True), c
        else:
            assert a.astype(object).equals(b.astype(object)) or np.allclose(a.astype(float), b.astype(float), equal_nan=True), c


def test_tests_and_smd_of_a_variable_with_a_suppressed_category_count_are_suppressed():
    full = table()["table1_sociodemographic"]
    rel = release({"table1_sociodemographic": full}, PRESETS["cohort"]).tables["table1_sociodemographic"]
    for variable, g in rel.groupby("variable"):
        lv = g[g["row_type"] == "level"]
        touched = (lv[["n", "percent", "denominator"]] == MARKER).any().any()
        assert ((g[["p", "smd", "statistic", "q"]] == MARKER).all().all()) == touched, variable


def flow_with_loss(lost=(3, 20)):
    """A participant flow whose one-year follow-up loses ``lost`` dyads in groups 1 and 0 (of 40 and 60)."""
    rows = [{"stage": "cohort", "stage_label": "Cohort", "parent": np.nan, "group": "overall", "group_label": "Overall",
             "n": 100, "excluded": 0, "reason": np.nan, "parent_n": np.nan, "percent": np.nan}]
    for g, label, size, x in (("overall", "Overall", 100, sum(lost)), ("1", "With", 40, lost[0]), ("0", "Without", 60, lost[1])):
        rows.append({"stage": "analysed_episode", "stage_label": "Analysed", "parent": "cohort" if g == "overall" else
                     "analysed_episode", "group": g, "group_label": label, "n": size, "excluded": 0, "reason": "",
                     "parent_n": 100, "percent": size})
        rows.append({"stage": "followed_up_1y", "stage_label": "Followed up", "parent": "analysed_episode", "group": g,
                     "group_label": label, "n": size - x, "excluded": x, "reason": "lost", "parent_n": size,
                     "percent": 100 * (size - x) / size})
    return pd.DataFrame(rows)


def test_a_count_the_flow_suppresses_is_suppressed_in_the_table_notes_and_headline():
    lost = (3, 20)
    one_year = characteristics(consistent({"outcome": {"no": (0, 0), "yes": (15, 20)}}, n_na=lost), n_na=lost)
    one_year["requires"] = "followed_up_1y"
    one_year["variable"] = "csc_any_1y"
    one_year.loc[one_year.level == "yes", "level"] = "1"
    headline = pd.DataFrame([{"measure": "followed_1y", "label": "Followed up", "population": "cohort", "n": 77,
                              "denominator": 100, "percent": 77.0}])
    rel = release({"flow": flow_with_loss(lost), "table3_needs": one_year, "headline": headline}, PRESETS["cohort"]).tables
    f = rel["flow"]
    assert f.loc[(f.stage == "followed_up_1y") & (f.group == "1"), "excluded"].iloc[0] == MARKER
    hidden_in_flow = {g for g, x in zip(f.group, f.excluded.astype(object)) if x == MARKER}
    t = rel["table3_needs"]
    for g in hidden_in_flow:
        assert (t.loc[t.group == g, "n_not_applicable"] == MARKER).all(), g
    assert rel["headline"]["n"].iloc[0] == 77          # the overall flow count is not protected


def test_a_headline_count_suppressed_in_a_table_is_suppressed_in_the_headline():
    from perinatal_csc.disclose.release import _headline_consistent

    table = characteristics(consistent({"csc_any_1y": {"0": (0, 0), "1": (20, 12)}}))
    table["n"] = table["n"].astype(object)
    table.loc[(table.level == "1") & (table.group == "overall"), "n"] = MARKER
    headline = pd.DataFrame([{"measure": "csc_1y", "label": "CSC at one year", "population": "followed", "n": 32,
                              "denominator": 100, "percent": 32.0},
                             {"measure": "dyads", "label": "Dyads", "population": "cohort", "n": 100,
                              "denominator": np.nan, "percent": np.nan}])
    out = _headline_consistent({"headline": headline, "table3_needs": table}, PRESETS["cohort"], [])
    assert list(out["n"]) == [MARKER, 100] and out["percent"].iloc[0] == MARKER


def test_nhs_rounds_every_published_count_to_five_and_takes_percentages_from_the_rounded_counts():
    full = table()["table1_sociodemographic"]
    rel = release({"table1_sociodemographic": full}, PRESETS["nhs"]).tables["table1_sociodemographic"]
    for c in ("n", "denominator", "group_n", "n_missing"):
        shown = [v for v in rel[c] if v != MARKER and pd.notna(v)]
        assert shown and all(int(v) % 5 == 0 for v in shown), c
    rows = rel[(rel.row_type == "level") & (rel.n != MARKER) & (rel.denominator != MARKER)]
    assert len(rows)
    for _, r in rows.iterrows():
        assert r["percent"] == pytest.approx(100 * r["n"] / r["denominator"], abs=0.05)
    assert any(abs(r["percent"] - f) > 0.05 for (_, r), f in zip(rows.iterrows(), full.loc[rows.index, "percent"]))
