"""Tables a journal accepts, pinned on small hand-made result tables: p-value style, true minus signs,
test letters by first use, q-values, each population's own N, the compact CAN-M table, suppressed cells."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from perinatal_csc.disclose.policy import MARKER
from perinatal_csc.present import descriptive as pdx
from perinatal_csc.present import fmt
from perinatal_csc.stats import compare

MINUS = "\u2212"
COLUMNS = ["section", "variable", "label", "unit", "summary", "row_type", "level", "level_label", "group",
           "group_label", "group_n", "n", "denominator", "percent", "mean", "sd", "median", "q1", "q3", "n_missing",
           "n_not_applicable", "requires", "statistic", "df", "test", "p", "q", "smd"]
GROUPS = {"1": ("With CSC involvement", 40), "0": ("Without CSC involvement", 80), "overall": ("Overall", 120)}


def _var(variable, label, summary, rows, *, test, p, q=np.nan, smd=0.1, section="Needs", requires=None,
         not_applicable=None, not_known=None):
    """Rows of one variable in describe's long format: ``rows`` maps group -> list of row dicts."""
    out = []
    for g, (glabel, gn) in GROUPS.items():
        na = (not_applicable or {}).get(g, 0)
        base = {"section": section, "variable": variable, "label": label, "unit": None, "summary": summary,
                "group": g, "group_label": glabel, "group_n": gn, "n_missing": 0, "n_not_applicable": na,
                "requires": requires, "statistic": 1.0, "df": np.nan, "test": test, "p": p, "q": q, "smd": smd}
        out += [{**base, **r} for r in rows[g]]
        if not_known is not None:
            out.append({**base, "row_type": "not_known", "level": "not_known", "level_label": "Not known",
                        "n": not_known[g]})
    return out


def _level(n, den, level="1", label="Yes"):
    return {"row_type": "level", "level": level, "level_label": label, "n": n, "denominator": den,
            "percent": 100 * n / den}


def _median(n, med, q1, q3):
    return {"row_type": "summary", "level": None, "level_label": None, "n": n, "median": med, "q1": q1, "q3": q3}


def needs_fixture() -> pd.DataFrame:
    """Three variables: readmission (all dyads, Fisher, p 0.9996); a change in needs at one year (followed-up
    dyads only, Mann–Whitney, p 0.00004, a negative median); a two-domain numbered series (chi-square, then
    Fisher again) with "Not known" counts."""
    rows = []
    rows += _var("readmitted", "Readmitted within a year", "n_pct",
                 {"1": [_level(10, 40)], "0": [_level(20, 80)], "overall": [_level(30, 120)]},
                 test=compare.FISHER, p=0.9996, q=0.9996, smd=0.0, section="Service use")
    rows += _var("unmet_change", "Change in unmet needs", "median_iqr",
                 {"1": [_median(25, -0.25, -1.0, 0.5)], "0": [_median(52, 0.0, -0.04, 1.0)],
                  "overall": [_median(77, -0.04, -1.0, 1.0)]},
                 test=compare.MANN_WHITNEY, p=0.00004, q=0.00012, smd=0.61, section="Service use",
                 requires="followed_up_1y", not_applicable={"1": 12, "0": 25, "overall": 37},
                 not_known={"1": 3, "0": 3, "overall": 6})
    for i, (name, test, p, q) in enumerate((("Accommodation", compare.CHISQ, 0.0421, 0.0842),
                                            ("Food", compare.FISHER, 0.5, 0.5)), start=1):
        rows += _var(f"dom{i}", f"CAN-M domain {i}: {name} (one year)", "n_pct",
                     {"1": [_level(5, 25, "2", "Unmet")], "0": [_level(4, 50, "2", "Unmet")],
                      "overall": [_level(9, 75, "2", "Unmet")]},
                     test=test, p=p, q=q, section="Unmet need by domain", requires="followed_up_1y",
                     not_applicable={"1": 12, "0": 25, "overall": 37}, not_known={"1": 3, "0": 5, "overall": 8})
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def body_cells(html: str, column: str) -> list[str]:
    """Text (tags kept) of the body cells of one column, top to bottom."""
    return re.findall(rf'<td headers="[^"]*\b{re.escape(column)}"[^>]*>(.*?)</td>', html)


# ---- number formats ---------------------------------------------------------------------------------

@pytest.mark.parametrize("p, shown", [(0.9996, ">0.99"), (1.0, ">0.99"), (0.995, ">0.99"), (0.99, "0.990"),
                                      (0.00004, "<0.001"), (0.0, "<0.001"), (0.001, "0.001"), (0.0126, "0.013")])
def test_p_values_never_show_zero_or_one(p, shown):
    assert fmt.fmt_p(p) == shown
    assert fmt.fmt_p(p) not in ("1.000", "0.000")


def test_p_in_a_sentence():
    assert fmt.p_text(0.9996) == "p > 0.99" and fmt.p_text(0.00004) == "p < 0.001" and fmt.p_text(0.0421) == "p = 0.042"
    assert fmt.p_text(MARKER) == f"p = {MARKER}" and fmt.p_text(0.3, "q") == "q = 0.300"


def test_negative_numbers_carry_a_true_minus_sign():
    assert fmt.fmt_num(-0.25, 2) == f"{MINUS}0.25" and fmt.fmt_num(-1.0) == f"{MINUS}1.0"
    assert fmt.fmt_num(-0.04) == "0.0"                        # rounds to zero: no sign
    assert fmt.fmt_num(0.25, 2) == "0.25" and fmt.fmt_count(-3) == f"{MINUS}3"
    assert pdx.fmt_median_iqr(-1.0, -3.0, 1.0) == f"{MINUS}1.0 [{MINUS}3.0, 1.0]"
    assert "-" not in pdx.fmt_median_iqr(-0.25, -1.5, -0.04)


def test_marks_are_letters_in_order_of_first_use():
    m = fmt.Marks()
    assert [m("Welch"), m("Fisher"), m("Welch"), m(""), m("Chi")] == ["a", "b", "a", "", "c"]
    note = m.notes("Tests: ")[0]
    assert str(note.text) == "Tests: <sup>a</sup> Welch; <sup>b</sup> Fisher; <sup>c</sup> Chi."


# ---- the characteristics table --------------------------------------------------------------------

@pytest.fixture
def needs():
    return needs_fixture()


def test_p_cells_carry_letters_in_order_of_first_use_and_the_note_explains_them(needs):
    html = pdx.characteristics_table(needs, is_synthetic=False).as_raw_html()
    assert [c for c in body_cells(html, "p") if c] == [
        "&gt;0.99<sup>a</sup>", "&lt;0.001<sup>b</sup>", "0.042<sup>c</sup>", "0.500<sup>a</sup>"]
    note = re.search(r"Tests: (.*?)</span>", html).group(1)
    assert note == f"<sup>a</sup> {compare.FISHER}; <sup>b</sup> {compare.MANN_WHITNEY}; <sup>c</sup> {compare.CHISQ}."
    assert "Test</th>" not in html                                   # no test column: letters instead


def test_q_values_are_shown_beside_p_with_a_note(needs):
    html = pdx.characteristics_table(needs, is_synthetic=False).as_raw_html()
    assert [c for c in body_cells(html, "q") if c] == ["&gt;0.99", "&lt;0.001", "0.084", "0.500"]
    assert ">q</th>" in html and "Benjamini–Hochberg" in html and "over the 4 tests" in html
    without = needs.assign(q=np.nan)
    html = pdx.characteristics_table(without, is_synthetic=False).as_raw_html()
    assert not body_cells(html, "q") and "Benjamini" not in html


def test_rows_recorded_at_follow_up_show_their_own_n(needs):
    frame, _ = pdx.display_frame(needs, ("1", "0", "overall"))
    n_rows = frame[frame.characteristic == "Followed up at one year, N"]
    assert len(n_rows) == 2                                        # once per section
    assert n_rows[["1", "0", "overall"]].values.tolist() == [["28", "55", "83"]] * 2     # group N minus not followed up
    first = frame.index[frame.variable == "unmet_change"][0]
    assert frame.at[first - 1, "characteristic"] == "Followed up at one year, N"
    assert not (frame.variable == "__n_").any() and frame.at[0, "variable"] == "readmitted"
    html = pdx.characteristics_table(needs, is_synthetic=False).as_raw_html()
    assert "With CSC involvement, N = 40" in html                  # the header keeps the whole group
    unmet = frame[frame.variable == "unmet_change"].iloc[0]
    assert unmet["1"] == f"{MINUS}0.2 [{MINUS}1.0, 0.5]" and unmet["overall"] == f"0.0 [{MINUS}1.0, 1.0]"


def test_the_n_row_is_suppressed_with_the_count_not_followed_up(needs):
    t = needs.astype({"n_not_applicable": object})
    t.loc[(t.variable == "unmet_change") & (t.group == "1"), "n_not_applicable"] = MARKER
    frame, _ = pdx.display_frame(t, ("1", "0", "overall"))
    row = frame[frame.characteristic == "Followed up at one year, N"].iloc[0]
    assert row["1"] == MARKER and row["0"] == "55"


def test_suppressed_cells_still_render_as_the_marker(needs):
    t = needs.astype(object)
    sel = (t.variable == "dom2") & (t.group == "1")
    t.loc[sel, ["n", "percent"]] = MARKER
    t.loc[t.variable == "dom2", ["p", "q", "smd"]] = MARKER
    frame, _ = pdx.display_frame(t, ("1", "0", "overall"))
    line = frame[frame.variable == "dom2"].iloc[0]
    assert (line["1"], line["p"], line["q"], line["SMD"]) == (MARKER, MARKER, MARKER, MARKER)
    html = pdx.characteristics_table(t, is_synthetic=False).as_raw_html()
    assert f"{MARKER}<sup>a</sup>" in body_cells(html, "p")          # the test is still named
    assert fmt.SUPPRESSED_NOTE.split(":")[0] in html


def test_compact_table_counts_each_domain_not_known_in_a_note(needs):
    full, _ = pdx.display_frame(needs, ("1", "0", "overall"))
    compact, _ = pdx.display_frame(needs, ("1", "0", "overall"), fold_not_known=True)
    nk = full.characteristic == pdx.INDENT + pdx.NOT_KNOWN_TEXT
    assert full[nk].variable.tolist() == ["unmet_change", "dom1", "dom2"]
    assert compact[compact.characteristic == pdx.INDENT + pdx.NOT_KNOWN_TEXT].empty     # every Not known in a note
    assert len(full) - len(compact) == 3
    assert compact[compact.variable == "dom1"].characteristic.tolist() == ["Accommodation"]
    html = pdx.characteristics_table(needs, is_synthetic=False, fold_not_known=True).as_raw_html()
    assert "left out of that domain&#x27;s percentages: Accommodation 8; Food 8." in html
    assert "Not known, all groups together" in html and "Change in unmet needs 6." in html
    t = needs.astype({"n": object})
    t.loc[(t.variable == "dom2") & (t.row_type == "not_known") & (t.group == "overall"), "n"] = MARKER
    assert f"Food {MARKER}." in pdx.characteristics_table(t, is_synthetic=False, fold_not_known=True).as_raw_html()


def test_compact_and_full_needs_tables_from_results(needs):
    r = {"table3_needs": needs}
    full = pdx.table3(r, is_synthetic=True).as_raw_html()
    compact = pdx.table3_compact(r, is_synthetic=True).as_raw_html()
    body = lambda html: html.split("<tbody")[1].split("</tbody>")[0].count("<tr")
    assert body(full) - body(compact) == 3
    assert "Not known (rated 9)" in compact and "Not known (rated 9)" not in full


# ---- side-by-side comparisons and the paired table ----------------------------------------------------

def test_sub_group_letters_follow_reading_order_across_comparisons(needs):
    parts = []
    for comp, label, test in (("lost", "Not in care", compare.CHISQ), ("cpp", "Child Protection Plan", compare.WELCH)):
        t = needs[needs.group != "overall"].copy()
        t["test"] = np.where(t.variable == "readmitted", test, t.test)
        t["comparison"], t["comparison_label"], t["n_involved"], t["n_status_unknown"] = comp, label, 120, 4
        parts.append(t)
    html = pdx.table5({"table5_subgroups": pd.concat(parts, ignore_index=True)}, is_synthetic=False).as_raw_html()
    first_row = re.search(r"<tr>\s*<th[^>]*>Readmitted.*?</tr>", html, re.S).group(0)
    assert re.findall(r"<sup>([a-z])</sup>", first_row) == ["a", "b"]        # chi-square, then Welch, left to right
    note = re.search(r"Tests: (.*?)</span>", html).group(1)
    assert note.startswith(f"<sup>a</sup> {compare.CHISQ}; <sup>b</sup> {compare.WELCH}; <sup>c</sup> {compare.MANN_WHITNEY}")


def test_paired_needs_table_shows_negative_changes_with_minus_signs_and_a_lettered_test():
    rows = []
    for g, label in (("1", "With"), ("0", "Without"), ("overall", "Overall")):
        for level, level_label, med in (("1m", "One month", 3.0), ("1y", "One year", 2.0),
                                        ("change", "Change (one year minus one month)", -1.0)):
            rows.append({"variable": "canm_unmet", "label": "CAN-M unmet needs", "level": level,
                         "level_label": level_label, "group": g, "group_label": label, "n": 30,
                         "n_domain_not_known": 2, "median": med, "q1": med - 1, "q3": med + 1.5,
                         "test": "Wilcoxon signed-rank test", "p": 0.9996 if g == "1" else 0.02, "note": ""})
    html = pdx.table4_needs({"table4_needs_change": pd.DataFrame(rows)}, is_synthetic=False).as_raw_html()
    assert f"{MINUS}1.0 [{MINUS}2.0, 0.5]" in html and "-1.0" not in html
    assert body_cells(html, "p") == ["&gt;0.99<sup>a</sup>", "0.020<sup>a</sup>", "0.020<sup>a</sup>"]
    assert "<sup>a</sup> Wilcoxon signed-rank test." in html and not body_cells(html, "q")
    with_q = pd.DataFrame(rows).assign(q=lambda d: np.where(d.group == "1", 0.9996, 0.03))
    html = pdx.table4_needs({"table4_needs_change": with_q}, is_synthetic=False).as_raw_html()
    assert body_cells(html, "q") == ["&gt;0.99", "0.030", "0.030"] and "over the 3 tests" in html


def test_short_labels_are_shown_and_defined_once_in_the_notes(needs):
    t = needs.assign(short_label=needs.label, definition="")
    sel = t.variable == "readmitted"
    t.loc[sel, "short_label"] = "Readmitted (1 y)"
    t.loc[sel, "definition"] = "readmitted to acute care within a year of discharge"
    frame, _ = pdx.display_frame(t, ("1", "0", "overall"))
    assert frame[frame.variable == "readmitted"].characteristic.tolist() == ["Readmitted (1 y), n (%)"]
    html = pdx.characteristics_table(t, is_synthetic=False).as_raw_html()
    assert html.count("Readmitted (1 y): readmitted to acute care within a year of discharge.") == 1
    assert "Readmitted within a year" not in html                  # the long label is not shown


def test_codebook_short_labels_reach_the_tables(cb):
    assert cb["deprived"].table_label == "Deprived area (IMD quintiles 1–2)" and "WIMD" in cb["deprived"].definition
    assert cb["nation"].table_label == cb["nation"].label and cb["nation"].definition is None


def test_a_group_row_carries_its_suppressed_domains_in_the_main_table(needs):
    """A row counting dyads with an unmet need in any of a group's domains, before them: the main text's
    table leaves out a member whose counts by group are suppressed (it is counted in the group's row) and
    names it in a note; the full table keeps it."""
    group = _var("grp", "CAN-M unmet need at one year, any domain of the group: basic", "n_pct",
                 {"1": [_level(8, 25)], "0": [_level(9, 50)], "overall": [_level(17, 75)]},
                 test=compare.CHISQ, p=0.2, q=0.3, section="Unmet need by domain", requires="followed_up_1y",
                 not_applicable={"1": 12, "0": 25, "overall": 37})
    t = pd.concat([needs[~needs.variable.str.startswith("dom")], pd.DataFrame(group).reindex(columns=COLUMNS),
                   needs[needs.variable.str.startswith("dom")]], ignore_index=True)
    t["short_label"] = np.where(t.variable == "grp", "Basic (any of its domains)", None)
    t = t.astype({"n": object, "percent": object})
    t.loc[(t.variable == "dom2") & (t.group != "overall") & (t.row_type == "level"), ["n", "percent"]] = MARKER
    full, _ = pdx.display_frame(t, ("1", "0", "overall"))
    compact, _ = pdx.display_frame(t, ("1", "0", "overall"), fold_not_known=True)
    assert full[full.variable.isin(["grp", "dom1", "dom2"])].characteristic.tolist() == [
        "Basic (any of its domains)", "Accommodation", pdx.INDENT + pdx.NOT_KNOWN_TEXT, "Food", pdx.INDENT + pdx.NOT_KNOWN_TEXT]
    assert "dom2" in set(full.variable) and "dom2" not in set(compact.variable)
    assert compact[compact.variable.isin(["grp", "dom1"])].characteristic.tolist() == [
        "Basic (any of its domains)", "Accommodation"]
    html = pdx.table3_compact({"table3_needs": t}, is_synthetic=False).as_raw_html()
    assert "counted only in their group&#x27;s row here, because their counts by group are suppressed: food." in html
