"""The descriptive tables of the manuscript: pure formatting of ``describe.results`` tables.

Rounding rules (stated in the table notes): n as integers; percentages, means, SDs, medians and
quartiles to 1 decimal place, except that medians and quartiles are shown without decimals when
every median and quartile of the variable in the table is a whole number; SMD to 2; p and q to 3, below 0.001 as
"<0.001"; a dash where a value is not defined. Percentages use the non-missing denominator;
"Not known" rows show n only. Tests carry one letter each, the same in every table (``TEST_ORDER``).
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from great_tables import GT

from ..stats import compare
from .fmt import DASH, INDENT, MARKER, SUPPRESSED_NOTE, any_hidden, fmt_count, fmt_n_pct, fmt_num, fmt_p, hidden
from .prose import sourced
from .style import style_table

TEST_COLUMN = "Test"
NOT_KNOWN_TEXT = "Not known"
SUMMARY_TEXT = {"n_pct": "n (%)", "mean_sd": "mean (SD)", "median_iqr": "median [IQR]"}
ROUNDING_NOTE = ("Percentages of non-missing values, to 1 decimal place; 'Not known' rows give n only. Means, SDs, "
                 "medians and quartiles (R type 7) to 1 decimal place, medians and quartiles without decimals where "
                 "all those of the variable are whole numbers; SMD (absolute standardised difference) to 2; "
                 "p to 3 (<0.001 below that). Tests are two-sided; 'Not known' rows and empty levels are left out of tests.")
TEST_ORDER = (compare.CHISQ, compare.FISHER, compare.FISHER_MC_STEM, compare.WELCH, compare.MANN_WHITNEY)
CANM_COUNTING_NOTE = ("CAN-M met and unmet needs at one year count the domains rated 1 (met) or 2 (unmet); "
                      "domains rated 9 (not known) are counted separately and in neither total.")
NOT_TESTED_NOTE = "A dash for p: no test was possible (fewer than two groups or levels observed, or no variation)."
Results = Mapping[str, pd.DataFrame]


# ---- number formats ---------------------------------------------------------------------------

def all_whole(values: Iterable[float]) -> bool:
    """True when every defined value is a whole number (medians and quartiles of counts often are)."""
    a = np.asarray([v for v in values if v is not None and not hidden(v) and not pd.isna(v)], dtype=float)
    return bool(a.size) and bool(np.all(a == np.round(a)))


def fmt_median_iqr(median: float, q1: float, q3: float, *, whole: bool = False) -> str:
    """'median [q1, q3]', to 1 decimal place or, with ``whole``, without decimals."""
    dp = 0 if whole else 1
    if any_hidden(median, q1, q3):
        return MARKER
    return f"{fmt_num(median, dp)} [{fmt_num(q1, dp)}, {fmt_num(q3, dp)}]"


def fmt_summary(row: pd.Series, *, whole: bool = False) -> str:
    """The cell of one tidy row, as its codebook summary type says (``whole``: see ``fmt_median_iqr``)."""
    if row["row_type"] == "level":
        return fmt_n_pct(row["n"], row["percent"])
    if row["row_type"] == "not_known":
        return fmt_n_pct(row["n"], None)
    if hidden(row["n"]) and pd.isna(row["mean"]) and pd.isna(row["median"]):
        return MARKER
    if not hidden(row["n"]) and row["n"] == 0:
        return DASH
    if row["summary"] == "mean_sd":
        if any_hidden(row["mean"], row["sd"]):
            return MARKER
        return f"{fmt_num(row['mean'])} ({fmt_num(row['sd'])})"
    return fmt_median_iqr(row["median"], row["q1"], row["q3"], whole=whole)


def test_letter(test: str | None) -> str:
    """The test's letter, the same in every table ('' when no test was done)."""
    if not isinstance(test, str) or not test or test == compare.NOT_TESTED:
        return ""
    for i, name in enumerate(TEST_ORDER):
        if test == name or (name == compare.FISHER_MC_STEM and test.startswith(name)):
            return chr(ord("a") + i)
    raise ValueError(f"no letter for the test {test!r}; add it to TEST_ORDER")


_NUMBERED = re.compile(r"^(?P<stem>.+?)\s*\d+:\s*(?P<name>.+?)(?P<tail>\s*\([^()]*\))?$")


def short_labels(labels: Sequence[str]) -> list[str] | None:
    """Names of a numbered series of codebook labels ('CAN-M domain 7: Psychotic symptoms (one year)'
    -> 'Psychotic symptoms') when every label has the same stem and tail; None otherwise."""
    matches = [_NUMBERED.match(str(lab)) for lab in labels]
    if not matches or not all(matches):
        return None
    if len({(m["stem"], m["tail"]) for m in matches}) != 1:
        return None
    return [m["name"] for m in matches]


# ---- characteristic tables ----------------------------------------------------------------------

def _header(first: pd.Series, single_level: bool) -> str:
    unit = f" ({first['unit']})" if isinstance(first["unit"], str) and first["unit"] else ""
    label = first["label"]
    if single_level and first["row_type"] == "level" and first["level_label"] not in ("Yes",):
        label = f"{label}: {first['level_label'].lower()}" if first["level_label"] else label
    return f"{label}{unit}, {SUMMARY_TEXT.get(first['summary'], '')}".rstrip(", ")


def _compact_sections(t: pd.DataFrame) -> dict[str, str]:
    """Short labels for sections that are a numbered series of one-level n (%) variables (CAN-M
    domains): variable -> name; the section heading then carries the level and the summary."""
    out: dict[str, str] = {}
    for section in dict.fromkeys(t["section"]):
        if not isinstance(section, str) or not section:
            continue
        sec = t[(t["section"] == section) & (t["row_type"] == "level")]
        per_var = sec.drop_duplicates("variable")
        if len(per_var) < 2 or sec.groupby("variable", sort=False)["level"].nunique().max() != 1:
            continue
        if set(per_var["summary"]) != {"n_pct"}:
            continue
        names = short_labels(per_var["label"].tolist())
        if names:
            out |= dict(zip(per_var["variable"], names))
    return out


def display_frame(t: pd.DataFrame, groups: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """One display line per variable (with p, SMD, test letter) and per level / "Not known" (indented).

    Returns the frame (columns: section, characteristic, one per group, p, SMD, Test) and the test
    names used, in letter order."""
    tests: dict[str, str] = {}
    lines = []
    short = _compact_sections(t)
    for variable in dict.fromkeys(t["variable"]):
        v = t[t["variable"] == variable]
        first = v.iloc[0]
        letter = test_letter(first["test"])
        if letter:
            tests.setdefault(letter, first["test"])
        stats = {"p": fmt_p(first["p"]), "SMD": fmt_num(first["smd"], 2), TEST_COLUMN: letter}
        main = v[v["row_type"] != "not_known"]
        levels = list(dict.fromkeys(main["level"]))
        single = len(levels) == 1
        section = first["section"]
        if variable in short:
            section = f"{section}, {SUMMARY_TEXT['n_pct']}"
        base = {"section": section, "variable": variable}
        whole = first["summary"] == "median_iqr" and all_whole(main[["median", "q1", "q3"]].to_numpy().ravel())

        def cells(rows: pd.DataFrame) -> dict[str, str]:
            return {g: fmt_summary(rows[rows["group"] == g].iloc[0], whole=whole) if (rows["group"] == g).any()
                    else DASH for g in groups}

        if variable in short:
            lines.append({**base, "characteristic": short[variable], **cells(main), **stats})
        elif single:
            lines.append({**base, "characteristic": _header(first, True), **cells(main), **stats})
        else:
            lines.append({**base, "characteristic": _header(first, False), **{g: "" for g in groups}, **stats})
            for level in levels:
                rows = main[main["level"] == level]
                lines.append({**base, "characteristic": INDENT + rows["level_label"].iloc[0], **cells(rows),
                              "p": "", "SMD": "", TEST_COLUMN: ""})
        nk = v[v["row_type"] == "not_known"]
        if len(nk):
            lines.append({**base, "characteristic": INDENT + NOT_KNOWN_TEXT, **cells(nk), "p": "", "SMD": "",
                          TEST_COLUMN: ""})
    return pd.DataFrame(lines), [tests[k] for k in sorted(tests)]


def _group_headers(t: pd.DataFrame, groups: Sequence[str]) -> dict[str, str]:
    first = t.drop_duplicates("group").set_index("group")
    return {g: f"{first.at[g, 'group_label']}, N = {fmt_count(first.at[g, 'group_n'])}" for g in groups}


def _test_notes(tests: Sequence[str], t: pd.DataFrame | None = None) -> list[str]:
    """'Tests: (a) ...; (d) ...' for the letters used, in the fixed order; a note on untested rows."""
    by_letter = {test_letter(x): x for x in tests if test_letter(x)}
    notes = ["Tests: " + "; ".join(f"({k}) {by_letter[k]}" for k in sorted(by_letter))] if by_letter else []
    if t is not None and (t["test"] == compare.NOT_TESTED).any():
        notes.append(NOT_TESTED_NOTE)
    return notes


FOLLOW_UP_TEXT = {"followed_up_1m": "at one month", "followed_up_1y": "at one year"}


def _follow_up_note(t: pd.DataFrame, groups: Sequence[str]) -> list[str]:
    """One count per follow-up timepoint of the dyads not followed up, by group (from ``n_not_applicable``)."""
    flags = t["requires"].fillna("").astype(str)
    fu = t[flags != ""]
    if fu.empty:
        return []
    parts = []
    for flag, rows in fu.groupby(flags[flags != ""], sort=False):
        counts = rows.drop_duplicates("group").set_index("group")
        per = ", ".join(f"{counts.at[g, 'group_label']} {fmt_count(counts.at[g, 'n_not_applicable'])}" for g in groups)
        parts.append(f"{FOLLOW_UP_TEXT.get(flag, flag)}: {per}")
    return [("Variables recorded after discharge are summarised among dyads followed up at that timepoint; "
             f"dyads not followed up are not counted ({'; '.join(parts)}).")]


def suppression_notes(*tables: pd.DataFrame) -> list[str]:
    """The marker's note, when any of the tables holds a suppressed value."""
    return [SUPPRESSED_NOTE] if any((t.astype(object) == MARKER).any().any() for t in tables) else []


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
    notes = [*_test_notes(tests, t), *_follow_up_note(t, [g for g in groups if g != "overall"]), *extra_notes, ROUNDING_NOTE,
             *suppression_notes(t)]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def table1(results: Results, *, is_synthetic: bool) -> GT:
    """Table 1: sociodemographic characteristics by CSC involvement during the acute episode."""
    return characteristics_table(results["table1_sociodemographic"], is_synthetic=is_synthetic)


def table2(results: Results, *, is_synthetic: bool) -> GT:
    """Table 2: clinical characteristics by CSC involvement during the acute episode."""
    return characteristics_table(results["table2_clinical"], is_synthetic=is_synthetic)


def table3(results: Results, *, is_synthetic: bool) -> GT:
    """Table 3: needs, satisfaction, service use and readmission after discharge; unmet need by CAN-M domain."""
    notes = [CANM_COUNTING_NOTE, "CAN-M domains: unmet need against no need or met need, among domains rated."]
    return characteristics_table(results["table3_needs"], is_synthetic=is_synthetic, extra_notes=notes)


def _status_unknown_note(t: pd.DataFrame) -> str:
    """How many CSC-involved dyads each comparison leaves out because their sub-group status is not known."""
    per = t.drop_duplicates("comparison")
    parts = [f"{fmt_count(r['n_status_unknown'])} of {fmt_count(r['n_involved'])} for '{r['comparison_label']}'"
             for _, r in per.iterrows()]
    return ("Dyads with CSC involvement left out because their sub-group status was not known "
            f"(not followed up at one year or not recorded): {'; '.join(parts)}.")


def table5(results: Results, *, is_synthetic: bool) -> GT:
    """Table 5: each sub-group with the most serious involvement against the other CSC-involved dyads."""
    t = results["table5_subgroups"]
    frames, tests_all, headers, spanners, columns = [], [], {}, [], []
    for comp in dict.fromkeys(t["comparison"]):
        sub = t[t["comparison"] == comp]
        frame, tests = display_frame(sub, ("1", "0"))
        tests_all += [x for x in tests if x not in tests_all]
        cols = {"1": f"{comp}__1", "0": f"{comp}__0", "p": f"{comp}__p", "SMD": f"{comp}__smd", TEST_COLUMN: f"{comp}__test"}
        frame = frame.rename(columns=cols)
        sizes = sub.drop_duplicates("group").set_index("group")["group_n"]
        headers |= {cols["1"]: f"Yes, N = {fmt_count(sizes['1'])}", cols["0"]: f"Others, N = {fmt_count(sizes['0'])}",
                    cols["p"]: "p", cols["SMD"]: "SMD", cols[TEST_COLUMN]: TEST_COLUMN}
        spanners.append((sub["comparison_label"].iloc[0], list(cols.values())))
        columns += [cols["1"], cols["0"], cols["p"], cols["SMD"]]
        frames.append(frame.drop(columns=["section"]).assign(_k=frame.groupby(["variable", "characteristic"]).cumcount())
                      .set_index(["variable", "characteristic", "_k"]))
    wide = frames[0].join(frames[1:], how="outer", sort=False) if len(frames) > 1 else frames[0]
    order = list(dict.fromkeys(i for f in frames for i in f.index))
    wide = wide.reindex(order).fillna("").reset_index().drop(columns=["variable", "_k"])
    gt = GT(wide, rowname_col="characteristic").tab_stubhead(label="Characteristic").cols_label(**headers)
    gt = gt.cols_align(align="right", columns=columns).cols_align(
        align="center", columns=[c for c in wide.columns if c.endswith("__test")])
    for label, cols in spanners:
        gt = gt.tab_spanner(label=label, columns=cols)
    notes = [*_test_notes(tests_all, t),
             "Among dyads with CSC involvement during the episode or at one year whose sub-group status is known; "
             "Others: the other dyads with CSC involvement.",
             _status_unknown_note(t), ROUNDING_NOTE, *suppression_notes(t)]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


# ---- change between timepoints -------------------------------------------------------------------

def _paired_note(row: pd.Series) -> str:
    df = "" if not hidden(row["df"]) and pd.isna(row["df"]) else f", df = {fmt_count(row['df'])}"
    return (f"{row['label']}: {row['test']}, statistic = {fmt_num(row['statistic'], 2)}{df}, p = {fmt_p(row['p'])}; "
            f"{fmt_count(row['n_pairs'])} dyads observed at both timepoints"
            + (f" ({row['note']})" if isinstance(row["note"], str) and row["note"] else "") + ".")


def table4_transitions(results: Results, *, is_synthetic: bool) -> GT:
    """Table 4a: CSC status during the episode (rows) by CSC status at one year (columns), n (row %)."""
    t = results["table4_transitions"]
    wide = t.assign(cell=[fmt_n_pct(n, None if rt == "total" else p) for n, p, rt in zip(t["n"], t["percent"], t["row_type"])])
    frame = wide.pivot_table(index=["level", "level_label"], columns="group", values="cell", aggfunc="first", sort=False)
    frame = frame.reindex(columns=list(dict.fromkeys(t["group"])))
    totals = t.drop_duplicates("level").set_index("level")["denominator"]
    frame["Total"] = [fmt_count(totals[lv]) for lv in frame.index.get_level_values("level")]
    frame = frame.reset_index().drop(columns="level")
    labels = dict(zip(t["group"], t["group_label"]))
    gt = GT(frame, rowname_col="level_label").tab_stubhead(label="During the acute episode")
    gt = gt.cols_label(**labels).tab_spanner(label="At one year after discharge", columns=list(labels))
    tests = results["table4_paired_tests"]
    notes = [_paired_note(r) for _, r in tests[tests["variable"].isin(["csc_status", "csc_any"])].iterrows()]
    notes.append(f"Dyads followed up at one year with CSC status known at both timepoints: N = {fmt_count(t['n_pairs'].iloc[0])}. "
                 "Cells: n (% of the row).")
    notes += suppression_notes(t, tests)
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def table4_needs(results: Results, *, is_synthetic: bool) -> GT:
    """Table 4b: CAN-M needs at one month and one year, and their change, among dyads with both, by group."""
    t = results["table4_needs_change"]
    rows = []
    whole = {v: all_whole(g[["median", "q1", "q3"]].to_numpy().ravel()) for v, g in t.groupby("variable", sort=False)}
    for (variable, group), g in t.groupby(["variable", "group"], sort=False):
        first = g.iloc[0]
        cells = {lv: fmt_median_iqr(r["median"], r["q1"], r["q3"], whole=whole[variable])
                 for lv, r in g.set_index("level").iterrows()}
        rows.append({"measure": first["label"], "group": first["group_label"], "n": fmt_count(first["n"]), **cells,
                     "p": fmt_p(first["p"])})
    frame = pd.DataFrame(rows)
    labels = dict(zip(t["level"], t["level_label"]))
    gt = (GT(frame, rowname_col="group", groupname_col="measure").tab_stubhead(label="Group")
          .cols_label(n="Dyads with both", p="p", **labels))
    test = t["test"].dropna().iloc[0] if t["test"].notna().any() else ""
    notes = [f"Median [IQR]. p: {test}, within each group, of the differences one year minus one month "
             "(statistic V: sum of the ranks of the positive differences)." if test else "Median [IQR].",
             needs_pairs_note(results), CANM_COUNTING_NOTE, ROUNDING_NOTE, *suppression_notes(t)]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def needs_pairs_note(results: Results) -> str:
    """Which dyads the change in CAN-M needs uses, and how many with both totals it leaves out."""
    t = results["table4_needs_change"]
    per = t[(t["group"] == "overall") & (t["level"] == "change")]
    left = "; ".join(f"{r['label']}: {fmt_count(r['n_domain_not_known'])}" for _, r in per.iterrows())
    return ("Dyads with both totals and every one-year CAN-M domain rated; dyads with at least one one-year "
            f"domain not known were left out, as their one-year totals are incomplete ({left}).")


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
                     "excluded": fmt_count(overall.at[s, "excluded"]) if overall.at[s, "excluded"] else "",
                     "reason": overall.at[s, "reason"] if overall.at[s, "excluded"] else ""})
    frame = pd.DataFrame(rows)
    labels = dict(zip(f["group"], f["group_label"]))
    gt = (GT(frame, rowname_col="stage").tab_stubhead(label="Stage")
          .cols_label(**{g: labels[g] for g in groups}, excluded="Not included (overall)", reason="Reason"))
    notes = ["n (% of the stage above in the same column; the two groups as % of all dyads analysed for the episode). "
             "Follow-up at one month and at one year are counted separately from the dyads analysed for the episode.",
             *suppression_notes(f)]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


# ---- prose helpers -----------------------------------------------------------------------------

def flow_n(results: Results, stage: str, group: str = "overall", *, percent: bool = False) -> str:
    """A flow count for the text, e.g. '99' or '99 (35.6%)'."""
    f = results["flow"]
    r = f[(f["stage"] == stage) & (f["group"] == group)].iloc[0]
    key = {"stage": stage, "group": group}
    return sourced(fmt_n_pct(r["n"], r["percent"] if percent else None),
                   ("flow", key, "n"), *([("flow", key, "percent")] if percent else []))


def p_value(results: Results, table: str, variable: str) -> str:
    """The p-value of a variable's test in a table, formatted for the text ('p = 0.012' / 'p < 0.001')."""
    t = results[table]
    p = t.loc[t["variable"] == variable, "p"].iloc[0]
    s = fmt_p(p)
    text = f"p {s.replace('<', '< ')}" if s.startswith("<") else f"p = {s}"
    return sourced(text, (table, {"variable": variable, "group": "overall"}, "p"))


def group_summary(results: Results, table: str, variable: str, group: str, level: str | None = None) -> str:
    """One group's cell of a table for the text (the same format as the table)."""
    t = results[table]
    rows = t[(t["variable"] == variable) & (t["row_type"] != "not_known")]
    whole = all_whole(rows[["median", "q1", "q3"]].to_numpy().ravel())
    sel = rows["group"] == group
    if level is not None:
        sel &= rows["level"] == level
    row = rows[sel].iloc[0]
    key = {"variable": variable, "group": group, "row_type": row["row_type"], **({"level": level} if level else {})}
    columns = (("n", "percent") if row["row_type"] == "level" else ("mean", "sd") if row["summary"] == "mean_sd"
               else ("median", "q1", "q3"))
    return sourced(fmt_summary(row, whole=whole), *((table, key, c) for c in columns))


def test_letters_text() -> str:
    """The fixed letter of each test for the Methods: '(a) Pearson's chi-square test; (b) ...'."""
    short = {compare.FISHER_MC_STEM: "Fisher–Freeman–Halton exact test with a Monte Carlo p-value",
             compare.MANN_WHITNEY: "Mann–Whitney U test"}
    return "; ".join(f"({chr(ord('a') + i)}) {short.get(n, n)}" for i, n in enumerate(TEST_ORDER))


def monte_carlo_text() -> str:
    """The Monte Carlo settings for the Methods, e.g. '100,000 resampled tables (seed 20230)'."""
    from ..stats.compare import MC_RESAMPLES, MC_SEED

    return f"{MC_RESAMPLES:,} resampled tables (fixed seed {MC_SEED})"


def how_often(results: Results, table: str, variable: str, *, level: str | None = None, than: str = "those without",
              group: str = "1", other: str = "0") -> str:
    """'more often than …', 'less often than …' or 'as often as …': ``group``'s percentage against
    ``other``'s, as shown in the table (1 decimal place)."""
    t = results[table]
    rows = t[(t["variable"] == variable) & (t["row_type"] == "level")]
    if level is not None:
        rows = rows[rows["level"] == level]
    pct = rows.drop_duplicates("group").set_index("group")["percent"]
    if any_hidden(pct[group], pct[other]):
        return f"at a rate withheld under disclosure control, compared with {than}"
    a, b = round(float(pct[group]), 1), round(float(pct[other]), 1)
    if pd.isna(a) or pd.isna(b):
        raise ValueError(f"{table}/{variable}: no percentage for group {group} or {other}")
    return f"as often as {than}" if a == b else f"{'more' if a > b else 'less'} often than {than}"


def needs_pairs_text(results: Results) -> str:
    """'N dyads; k with both totals left out because a one-year domain was not known' (unmet needs, all groups)."""
    t = results["table4_needs_change"]
    r = t[(t["variable"] == "canm_unmet") & (t["group"] == "overall") & (t["level"] == "change")].iloc[0]
    key = {"variable": "canm_unmet", "group": "overall", "level": "change"}
    return sourced(f"{fmt_count(r['n'])} dyads; {fmt_count(r['n_domain_not_known'])} with both totals were left out because "
                   "at least one one-year domain was not known",
                   ("table4_needs_change", key, "n"), ("table4_needs_change", key, "n_domain_not_known"))
