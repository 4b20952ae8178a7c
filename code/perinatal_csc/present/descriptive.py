"""The descriptive tables of the manuscript: pure formatting of ``describe.results`` tables.

Rounding rules (stated in the table notes): n as integers; percentages, means, SDs, medians and
quartiles to 1 decimal place; SMD to 2; p and q to 3, below 0.001 as "<0.001"; a dash where a
value is not defined. Percentages use the non-missing denominator; "Not known" rows show n only.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd
from great_tables import GT

from .style import style_table

DASH = "—"
INDENT = "\u2003"
TEST_COLUMN = "Test"
SUMMARY_TEXT = {"n_pct": "n (%)", "mean_sd": "mean (SD)", "median_iqr": "median [IQR]"}
ROUNDING_NOTE = ("Percentages of non-missing values, to 1 decimal place; 'Not known' rows give n only. Means, SDs, "
                 "medians and quartiles (R type 7) to 1 decimal place; SMD (absolute standardised difference) to 2; "
                 "p to 3 (<0.001 below that). Tests are two-sided; 'Not known' rows and empty levels are left out of tests.")
Results = Mapping[str, pd.DataFrame]


# ---- number formats ---------------------------------------------------------------------------

def fmt_p(p: float | None) -> str:
    """A p- or q-value to 3 decimal places; '<0.001' below that; a dash if missing."""
    if p is None or pd.isna(p):
        return DASH
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_num(x: float | None, dp: int = 1) -> str:
    return DASH if x is None or pd.isna(x) else f"{x:.{dp}f}"


def fmt_n_pct(n, pct) -> str:
    """'n (p%)' with the percentage to 1 decimal place; 'n' alone when there is no percentage."""
    if n is None or pd.isna(n):
        return DASH
    return f"{int(n)}" if pct is None or pd.isna(pct) else f"{int(n)} ({pct:.1f}%)"


def fmt_summary(row: pd.Series) -> str:
    """The cell of one tidy row, as its codebook summary type says."""
    if row["row_type"] == "level":
        return fmt_n_pct(row["n"], row["percent"])
    if row["row_type"] == "not_known":
        return fmt_n_pct(row["n"], None)
    if row["n"] == 0:
        return DASH
    if row["summary"] == "mean_sd":
        return f"{fmt_num(row['mean'])} ({fmt_num(row['sd'])})"
    return f"{fmt_num(row['median'])} [{fmt_num(row['q1'])}, {fmt_num(row['q3'])}]"


# ---- characteristic tables ----------------------------------------------------------------------

def _header(first: pd.Series, single_level: bool) -> str:
    unit = f" ({first['unit']})" if isinstance(first["unit"], str) and first["unit"] else ""
    label = first["label"]
    if single_level and first["row_type"] == "level" and first["level_label"] not in ("Yes",):
        label = f"{label}: {first['level_label'].lower()}" if first["level_label"] else label
    return f"{label}{unit}, {SUMMARY_TEXT.get(first['summary'], '')}".rstrip(", ")


def display_frame(t: pd.DataFrame, groups: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """One display line per variable (with p, SMD, test marker) and per level / "Not known" (indented).

    Returns the frame (columns: section, characteristic, one per group, p, SMD, Test) and the test
    names in the order of their markers."""
    tests: list[str] = []
    lines = []
    for variable in dict.fromkeys(t["variable"]):
        v = t[t["variable"] == variable]
        first = v.iloc[0]
        test = first["test"] if isinstance(first["test"], str) else None
        if test and test not in tests:
            tests.append(test)
        stats = {"p": fmt_p(first["p"]), "SMD": fmt_num(first["smd"], 2),
                 TEST_COLUMN: chr(ord("a") + tests.index(test)) if test else ""}
        main = v[v["row_type"] != "not_known"]
        levels = list(dict.fromkeys(main["level"]))
        single = len(levels) == 1
        base = {"section": first["section"], "variable": variable}
        cells = lambda rows: {g: fmt_summary(rows[rows["group"] == g].iloc[0]) if (rows["group"] == g).any() else DASH  # noqa: E731
                              for g in groups}
        if single:
            lines.append({**base, "characteristic": _header(first, True), **cells(main), **stats})
        else:
            lines.append({**base, "characteristic": _header(first, False), **{g: "" for g in groups}, **stats})
            for level in levels:
                rows = main[main["level"] == level]
                lines.append({**base, "characteristic": INDENT + rows["level_label"].iloc[0], **cells(rows),
                              "p": "", "SMD": "", TEST_COLUMN: ""})
        nk = v[v["row_type"] == "not_known"]
        if len(nk):
            lines.append({**base, "characteristic": INDENT + "Not known", **cells(nk), "p": "", "SMD": "",
                          TEST_COLUMN: ""})
    return pd.DataFrame(lines), tests


def _group_headers(t: pd.DataFrame, groups: Sequence[str]) -> dict[str, str]:
    first = t.drop_duplicates("group").set_index("group")
    return {g: f"{first.at[g, 'group_label']}, N = {int(first.at[g, 'group_n'])}" for g in groups}


def _test_notes(tests: list[str]) -> list[str]:
    return ["Tests: " + "; ".join(f"({chr(ord('a') + i)}) {name}" for i, name in enumerate(tests))] if tests else []


def _follow_up_note(t: pd.DataFrame, groups: Sequence[str]) -> list[str]:
    fu = t[(t["n_not_applicable"] > 0)]
    if fu.empty:
        return []
    counts = (t[t["variable"] == fu["variable"].iloc[0]].drop_duplicates("group").set_index("group"))
    per = ", ".join(f"{counts.at[g, 'group_label']} {int(counts.at[g, 'n_not_applicable'])}" for g in groups)
    return [("Variables recorded after discharge are summarised among dyads followed up at that timepoint; "
             f"dyads not followed up are not counted (at one year: {per}).")]


def characteristics_table(t: pd.DataFrame, *, is_synthetic: bool, title: str | None = None,
                          groups: Sequence[str] = ("1", "0", "overall"), extra_notes: Sequence[str] = ()) -> GT:
    """A gtsummary-style table: characteristic (labels, indented levels, "Not known"), one column per
    group with N in the header, p, SMD and a test marker explained in the notes."""
    frame, tests = display_frame(t, groups)
    has_sections = frame["section"].astype(bool).any()
    gt = GT(frame.drop(columns=["variable"] if has_sections else ["variable", "section"]),
            rowname_col="characteristic", groupname_col="section" if has_sections else None)
    gt = gt.tab_stubhead(label="Characteristic").cols_label(**_group_headers(t, groups))
    gt = gt.cols_align(align="right", columns=[*groups, "p", "SMD"]).cols_align(align="center", columns=[TEST_COLUMN])
    if title:
        gt = gt.tab_header(title=title)
    notes = [*_test_notes(tests), *_follow_up_note(t, [g for g in groups if g != "overall"]), *extra_notes, ROUNDING_NOTE]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def table1(results: Results, *, is_synthetic: bool) -> GT:
    """Table 1: sociodemographic characteristics by CSC involvement during the acute episode."""
    return characteristics_table(results["table1_sociodemographic"], is_synthetic=is_synthetic)


def table2(results: Results, *, is_synthetic: bool) -> GT:
    """Table 2: clinical characteristics by CSC involvement during the acute episode."""
    return characteristics_table(results["table2_clinical"], is_synthetic=is_synthetic)


def table3(results: Results, *, is_synthetic: bool) -> GT:
    """Table 3: needs, satisfaction, service use and readmission after discharge; unmet need by CAN-M domain."""
    note = "CAN-M domains: unmet need against no need or met need, among domains rated."
    return characteristics_table(results["table3_needs"], is_synthetic=is_synthetic, extra_notes=[note])


def table5(results: Results, *, is_synthetic: bool) -> GT:
    """Table 5: each sub-group with the most serious involvement against the other CSC-involved dyads."""
    t = results["table5_subgroups"]
    frames, tests_all, headers, spanners = [], [], {}, []
    for comp in dict.fromkeys(t["comparison"]):
        sub = t[t["comparison"] == comp]
        frame, tests = display_frame(sub, ("1", "0"))
        tests_all += [x for x in tests if x not in tests_all]
        frame[TEST_COLUMN] = [chr(ord("a") + tests_all.index(tests[ord(m) - ord("a")])) if m else "" for m in frame[TEST_COLUMN]]
        cols = {"1": f"{comp}__1", "0": f"{comp}__0", "p": f"{comp}__p", "SMD": f"{comp}__smd", TEST_COLUMN: f"{comp}__test"}
        frame = frame.rename(columns=cols)
        labels = _group_headers(sub, ("1", "0"))
        headers |= {cols["1"]: labels["1"].replace(sub["comparison_label"].iloc[0], "Yes"),
                    cols["0"]: labels["0"], cols["p"]: "p", cols["SMD"]: "SMD", cols[TEST_COLUMN]: TEST_COLUMN}
        spanners.append((sub["comparison_label"].iloc[0], list(cols.values())))
        frames.append(frame.drop(columns=["section", "variable"]).set_index("characteristic"))
    wide = pd.concat(frames, axis=1).reset_index()
    gt = GT(wide, rowname_col="characteristic").tab_stubhead(label="Characteristic").cols_label(**headers)
    for label, cols in spanners:
        gt = gt.tab_spanner(label=label, columns=cols)
    notes = [*_test_notes(tests_all),
             "Among dyads with CSC involvement during the episode or at one year whose sub-group status is known.",
             ROUNDING_NOTE]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


# ---- change between timepoints -------------------------------------------------------------------

def _paired_note(row: pd.Series) -> str:
    df = "" if pd.isna(row["df"]) else f", df = {int(row['df'])}"
    return (f"{row['label']}: {row['test']}, statistic = {fmt_num(row['statistic'], 2)}{df}, p = {fmt_p(row['p'])}; "
            f"{int(row['n_pairs'])} dyads observed at both timepoints"
            + (f" ({row['note']})" if isinstance(row["note"], str) and row["note"] else "") + ".")


def table4_transitions(results: Results, *, is_synthetic: bool) -> GT:
    """Table 4a: CSC status during the episode (rows) by CSC status at one year (columns), n (row %)."""
    t = results["table4_transitions"]
    wide = t.assign(cell=[fmt_n_pct(n, None if rt == "total" else p) for n, p, rt in zip(t["n"], t["percent"], t["row_type"])])
    frame = wide.pivot_table(index=["level", "level_label"], columns="group", values="cell", aggfunc="first", sort=False)
    frame = frame.reindex(columns=list(dict.fromkeys(t["group"])))
    totals = t.drop_duplicates("level").set_index("level")["denominator"]
    frame["Total"] = [str(int(totals[lv])) for lv in frame.index.get_level_values("level")]
    frame = frame.reset_index().drop(columns="level")
    labels = dict(zip(t["group"], t["group_label"]))
    gt = GT(frame, rowname_col="level_label").tab_stubhead(label="During the acute episode")
    gt = gt.cols_label(**labels).tab_spanner(label="At one year after discharge", columns=list(labels))
    tests = results["table4_paired_tests"]
    notes = [_paired_note(r) for _, r in tests[tests["variable"].isin(["csc_status", "csc_any"])].iterrows()]
    notes.append(f"Dyads followed up at one year with CSC status known at both timepoints: N = {int(t['n_pairs'].iloc[0])}. "
                 "Cells: n (% of the row).")
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def table4_needs(results: Results, *, is_synthetic: bool) -> GT:
    """Table 4b: CAN-M needs at one month and one year, and their change, among dyads with both, by group."""
    t = results["table4_needs_change"]
    rows = []
    for (variable, group), g in t.groupby(["variable", "group"], sort=False):
        first = g.iloc[0]
        cells = {lv: f"{fmt_num(r['median'])} [{fmt_num(r['q1'])}, {fmt_num(r['q3'])}]" for lv, r in g.set_index("level").iterrows()}
        rows.append({"measure": first["label"], "group": first["group_label"], "n": str(int(first["n"])), **cells,
                     "p": fmt_p(first["p"])})
    frame = pd.DataFrame(rows)
    labels = dict(zip(t["level"], t["level_label"]))
    gt = (GT(frame, rowname_col="group", groupname_col="measure").tab_stubhead(label="Group")
          .cols_label(n="Dyads with both", p="p", **labels))
    test = t["test"].dropna().iloc[0] if t["test"].notna().any() else ""
    notes = [f"Median [IQR]. p: {test}, within each group." if test else "Median [IQR].", ROUNDING_NOTE]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


# ---- participant flow -----------------------------------------------------------------------------

def table6_flow(results: Results, *, is_synthetic: bool) -> GT:
    """Table 6: participant flow, overall and by CSC involvement during the episode, with reasons."""
    f = results["flow"]
    cell = {(s, g): fmt_n_pct(n, None if s == "cohort" else p) for s, g, n, p in zip(f["stage"], f["group"], f["n"], f["percent"])}
    stages = list(dict.fromkeys(f["stage"]))
    groups = ["overall", "1", "0"]
    overall = f[f["group"] == "overall"].set_index("stage")
    rows = []
    for s in stages:
        rows.append({"stage": overall.at[s, "stage_label"], **{g: cell.get((s, g), "") for g in groups},
                     "excluded": str(int(overall.at[s, "excluded"])) if overall.at[s, "excluded"] else "",
                     "reason": overall.at[s, "reason"] if overall.at[s, "excluded"] else ""})
    frame = pd.DataFrame(rows)
    labels = dict(zip(f["group"], f["group_label"]))
    gt = (GT(frame, rowname_col="stage").tab_stubhead(label="Stage")
          .cols_label(**{g: labels[g] for g in groups}, excluded="Not included (overall)", reason="Reason"))
    notes = ["n (% of the stage above in the same column; the two groups as % of all dyads analysed for the episode). "
             "Follow-up at one month and at one year are counted separately from the dyads analysed for the episode."]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


# ---- prose helpers -----------------------------------------------------------------------------

def flow_n(results: Results, stage: str, group: str = "overall", *, percent: bool = False) -> str:
    """A flow count for the text, e.g. '99' or '99 (35.6%)'."""
    f = results["flow"]
    r = f[(f["stage"] == stage) & (f["group"] == group)].iloc[0]
    return fmt_n_pct(r["n"], r["percent"] if percent else None)


def p_value(results: Results, table: str, variable: str) -> str:
    """The p-value of a variable's test in a table, formatted for the text ('p = 0.012' / 'p < 0.001')."""
    t = results[table]
    p = t.loc[t["variable"] == variable, "p"].iloc[0]
    s = fmt_p(p)
    return f"p {s.replace('<', '< ')}" if s.startswith("<") else f"p = {s}"


def group_summary(results: Results, table: str, variable: str, group: str, level: str | None = None) -> str:
    """One group's cell of a table for the text (the same format as the table)."""
    t = results[table]
    sel = (t["variable"] == variable) & (t["group"] == group) & (t["row_type"] != "not_known")
    if level is not None:
        sel &= t["level"] == level
    return fmt_summary(t[sel].iloc[0])


def monte_carlo_text() -> str:
    """The Monte Carlo settings for the Methods, e.g. '100,000 resampled tables (seed 20230)'."""
    from ..compare import MC_RESAMPLES, MC_SEED

    return f"{MC_RESAMPLES:,} resampled tables (fixed seed {MC_SEED})"
