"""The descriptive tables of the manuscript: pure formatting of ``describe.results`` tables.

Rounding rules (stated in the table notes): n as integers; percentages, means, SDs, medians and
quartiles to 1 decimal place (the same for every variable and table); SMD to 2; p and q to 3, below
0.001 as "<0.001" and above 0.99 as ">0.99"; negative numbers with a true minus sign; a dash where a
value is not defined. Percentages use the non-missing denominator; "Not known" rows show n only.
Each p-value carries a superscript letter for its test, assigned a, b, c... in order of first use in
that table and explained in its notes. Rows recorded at a follow-up timepoint are headed by a row
giving the N followed up in each group, which is their denominator (the column header's N is the
whole group's).
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from great_tables import GT

from ..stats import compare
from .fmt import (DASH, INDENT, MARKER, SUPPRESSED_NOTE, Marks, any_hidden, definition_notes, fmt_count, fmt_n_pct,
                  fmt_num, fmt_p, hidden, p_text, series, shown_label, with_mark)
from .prose import sourced
from .style import style_table

TEST_COLUMN = "test"
NOT_KNOWN_TEXT = "Not known"
SUMMARY_TEXT = {"n_pct": "n (%)", "mean_sd": "mean (SD)", "median_iqr": "median [IQR]"}
ROUNDING_NOTE = ("Percentages of non-missing values, to 1 decimal place; 'Not known' rows give n only. Means, SDs, "
                 "medians and quartiles to 1 decimal place; SMD (absolute standardised difference) to 2; "
                 "p to 3 (<0.001 below that, >0.99 above). Tests are two-sided; 'Not known' rows and empty levels "
                 "are left out of tests.")
Q_NOTE = ("q: Benjamini–Hochberg false discovery rate adjusted p-value over the {k} tests of this table, to 3 "
          "decimal places like p; q is shown beside p because the table reports many tests.")
TEST_ORDER = (compare.CHISQ, compare.FISHER, compare.FISHER_MC_STEM, compare.WELCH, compare.MANN_WHITNEY)
CANM_COUNTING_NOTE = ("CAN-M met and unmet needs at one year count the domains rated 1 (met) or 2 (unmet); "
                      "domains rated 9 (not known) are counted separately and in neither total.")
NOT_TESTED_NOTE = "A dash for p: no test was possible (fewer than two groups or levels observed, or no variation)."
FOLLOW_UP_TEXT = {"followed_up_1m": "at one month", "followed_up_1y": "at one year"}
N_ROW = "Followed up {when}, N"
Results = Mapping[str, pd.DataFrame]


# ---- number formats ---------------------------------------------------------------------------

def fmt_median_iqr(median: float, q1: float, q3: float) -> str:
    """'median [q1, q3]', each to 1 decimal place (true minus signs)."""
    if any_hidden(median, q1, q3):
        return MARKER
    return f"{fmt_num(median)} [{fmt_num(q1)}, {fmt_num(q3)}]"


def fmt_summary(row: pd.Series) -> str:
    """The cell of one tidy row, as its codebook summary type says."""
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
    return fmt_median_iqr(row["median"], row["q1"], row["q3"])


def test_name(test: str | None) -> str:
    """The test's name for a table note ('' when no test was done)."""
    if not isinstance(test, str) or not test or test == compare.NOT_TESTED:
        return ""
    return re.sub(r", seed \d+\)", ")", test)      # the seed is a technical detail, not the test's name


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
    label = shown_label(first)
    if single_level and first["row_type"] == "level" and first["level_label"] not in ("Yes",):
        label = f"{label}: {first['level_label'].lower()}" if first["level_label"] else label
    return f"{label}{unit}, {SUMMARY_TEXT.get(first['summary'], '')}".rstrip(", ")


def _compact_sections(t: pd.DataFrame) -> dict[str, str]:
    """Short labels for sections that are a numbered series of one-level n (%) variables (CAN-M
    domains), perhaps with rows that count several of them together (their codebook short label):
    variable -> name; the section heading then carries the level and the summary. A series member
    that follows such a row is one of its members."""
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
        numbered = [bool(_NUMBERED.match(str(lab))) for lab in per_var["label"]]
        names = short_labels([lab for lab, m in zip(per_var["label"], numbered) if m])
        own = [s if isinstance(s, str) and s else None for s in per_var.get("short_label", [None] * len(per_var))]
        if not names or any(not m and o is None for m, o in zip(numbered, own)):
            continue
        it = iter(names)
        for variable, m, o in zip(per_var["variable"], numbered, own):
            out[variable] = next(it) if m else o
    return out


def group_rows(t: pd.DataFrame, short: Mapping[str, str] | None = None) -> list[str]:
    """The variables of a numbered series' section that count several of its members together (their label
    is not one of the series'), in table order."""
    short = _compact_sections(t) if short is None else short
    labels = t.drop_duplicates("variable").set_index("variable")["label"]
    return [v for v in labels.index if v in short and not _NUMBERED.match(str(labels[v]))]


def _counted_in_group(t: pd.DataFrame, short: Mapping[str, str]) -> set[str]:
    """Series members that follow a group row (the rows counting several of them together) and whose counts
    by group are all suppressed: the main text's table counts them in the group's row only."""
    out, grouped, groups = set(), False, set(group_rows(t, short))
    for variable in dict.fromkeys(t["variable"]):
        if variable not in short or variable in groups:
            grouped = variable in groups
            continue
        rows = t[(t["variable"] == variable) & (t["row_type"] == "level") & (t["group"].astype(str) != "overall")]
        if grouped and len(rows) and (rows["n"].astype(object) == MARKER).all():
            out.add(variable)
    return out


def eligible_n(group_n, n_not_applicable) -> str:
    """Dyads of a group followed up at a timepoint (group N minus those not followed up), as shown: the
    marker when either count is suppressed (the difference would reveal it)."""
    if any_hidden(group_n, n_not_applicable):
        return MARKER
    if pd.isna(group_n) or pd.isna(n_not_applicable):
        return DASH
    return fmt_count(int(group_n) - int(n_not_applicable))


def _needs_n_row(v: pd.DataFrame) -> str:
    """The follow-up flag of a variable recorded among dyads followed up ('' when it applies to everyone)."""
    flag = v["requires"].iloc[0] if "requires" in v else None
    if not isinstance(flag, str) or not flag:
        return ""
    na = v["n_not_applicable"]
    return flag if any(hidden(x) or (pd.notna(x) and int(x) > 0) for x in na) else ""


def display_frame(t: pd.DataFrame, groups: Sequence[str], *, fold_not_known: bool = False
                  ) -> tuple[pd.DataFrame, list[str]]:
    """One display line per variable (with p, q, SMD and its test) and per level / "Not known" (indented);
    before the variables recorded among dyads followed up at a timepoint, a line "Followed up ..., N" with
    each group's N followed up (once per section and timepoint).

    ``fold_not_known``: the numbered series shown one line per variable (CAN-M domains) get no "Not
    known" line (the compact table counts them in a note). Returns the frame (columns: section, variable,
    characteristic, one per group, p, q when the table has q-values, SMD, and ``test``: the test's name
    on the line that carries its p) and the tests used, in order of first use."""
    tests: list[str] = []
    lines = []
    short = _compact_sections(t)
    with_q = "q" in t and t["q"].notna().any()
    n_rows_done: set[tuple] = set()
    left_out = _counted_in_group(t, short) if fold_not_known else set()
    for variable in dict.fromkeys(t["variable"]):
        if variable in left_out:
            continue
        v = t[t["variable"] == variable]
        first = v.iloc[0]
        test = test_name(first["test"])
        if test and test not in tests:
            tests.append(test)
        stats = {"p": fmt_p(first["p"]), **({"q": fmt_p(first["q"])} if with_q else {}),
                 "SMD": fmt_num(first["smd"], 2), TEST_COLUMN: test}
        blank = {"p": "", **({"q": ""} if with_q else {}), "SMD": "", TEST_COLUMN: ""}
        main = v[v["row_type"] != "not_known"]
        levels = list(dict.fromkeys(main["level"]))
        single = len(levels) == 1
        section = first["section"]
        if variable in short:
            section = f"{section}, {SUMMARY_TEXT['n_pct']}"
        base = {"section": section, "variable": variable}

        def cells(rows: pd.DataFrame) -> dict[str, str]:
            return {g: fmt_summary(rows[rows["group"] == g].iloc[0]) if (rows["group"] == g).any()
                    else DASH for g in groups}

        flag = _needs_n_row(v)
        if flag and (section, flag) not in n_rows_done:
            n_rows_done.add((section, flag))
            per = v.drop_duplicates("group").set_index("group")
            lines.append({"section": section, "variable": f"__n_{flag}",
                          "characteristic": N_ROW.format(when=FOLLOW_UP_TEXT.get(flag, flag)),
                          **{g: eligible_n(per.at[g, "group_n"], per.at[g, "n_not_applicable"]) if g in per.index
                             else DASH for g in groups}, **blank})
        if variable in short:
            lines.append({**base, "characteristic": short[variable], **cells(main), **stats})
        elif single:
            lines.append({**base, "characteristic": _header(first, True), **cells(main), **stats})
        else:
            lines.append({**base, "characteristic": _header(first, False), **{g: "" for g in groups}, **stats})
            for level in levels:
                rows = main[main["level"] == level]
                lines.append({**base, "characteristic": INDENT + rows["level_label"].iloc[0], **cells(rows), **blank})
        nk = v[v["row_type"] == "not_known"]
        if len(nk) and not fold_not_known:
            lines.append({**base, "characteristic": INDENT + NOT_KNOWN_TEXT, **cells(nk), **blank})
    return pd.DataFrame(lines), tests


def _group_headers(t: pd.DataFrame, groups: Sequence[str]) -> dict[str, str]:
    first = t.drop_duplicates("group").set_index("group")
    return {g: f"{first.at[g, 'group_label']}, N = {fmt_count(first.at[g, 'group_n'])}" for g in groups}


def lettered(frame: pd.DataFrame, pairs: Sequence[tuple[str, str]], marks: Marks,
             plain: Sequence[str] = ()) -> pd.DataFrame:
    """The frame with each p cell as HTML carrying its test's superscript letter: ``pairs`` are (p column,
    test column), read row by row, left to right, so letters follow the first use; the test columns are
    dropped. ``plain``: other columns holding "<" or ">" (q-values), escaped for HTML."""
    out = frame.copy()
    cells = {p: [] for p, _ in pairs}
    for _, row in frame.iterrows():
        for p, test in pairs:
            cells[p].append(with_mark(row[p], marks(row[test]) if row[p] else ""))
    for p, test in pairs:
        out[p] = cells[p]
    for c in plain:
        out[c] = [with_mark(x) for x in out[c]]
    return out.drop(columns=[test for _, test in pairs])


def _raw(gt: GT, columns: Sequence[str]) -> GT:
    """Cells already made HTML by ``lettered`` pass through unescaped."""
    return gt.fmt(lambda x: x, columns=list(columns)) if columns else gt


def _test_notes(marks: Marks, t: pd.DataFrame | None = None) -> list:
    """The letters used with their tests; a note on untested rows."""
    notes = marks.notes("Tests: ")
    if t is not None and (t["test"] == compare.NOT_TESTED).any():
        notes.append(NOT_TESTED_NOTE)
    return notes


def _q_note(t: pd.DataFrame, part: str | None = None) -> list[str]:
    """How the q-values were adjusted, when the table has them (``part``: the column whose values are
    separate families of tests, e.g. the sub-group table's comparisons)."""
    if "q" not in t or not t["q"].notna().any():
        return []
    if part is None:
        return [Q_NOTE.format(k=int(t.drop_duplicates("variable")["p"].notna().sum()))]
    ks = [int(g.drop_duplicates("variable")["p"].notna().sum()) for _, g in t.groupby(part, sort=False)]
    k = str(ks[0]) if len(set(ks)) == 1 else " / ".join(map(str, ks))
    return [Q_NOTE.format(k=k).replace("of this table", "of each comparison")]


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
    return [("Variables recorded after discharge are summarised among dyads followed up at that timepoint (the "
             "'Followed up ..., N' rows give their number in each group); dyads not followed up are not counted "
             f"({'; '.join(parts)}).")]


def suppression_notes(*tables: pd.DataFrame) -> list[str]:
    """The marker's note, when any of the tables holds a suppressed value."""
    return [SUPPRESSED_NOTE] if any((t.astype(object) == MARKER).any().any() for t in tables) else []


def not_known_note(t: pd.DataFrame) -> list[str]:
    """For a table without "Not known" lines (the main text's): the number not known of each variable, all
    groups together (the overall column), in a note; each group's count is in the full table."""
    short = _compact_sections(t)
    nk = t[(t["row_type"] == "not_known") & (t["group"].astype(str) == "overall")]
    if nk.empty:
        return []
    series_nk = nk[nk["variable"].isin(short)]
    other = nk[~nk["variable"].isin(short)]
    notes = []
    if len(other):
        parts = "; ".join(f"{shown_label(r)} {fmt_count(r['n'])}" for _, r in other.iterrows())
        notes.append(f"Not known, all groups together (each group's count is in the supplementary material): {parts}.")
    if len(series_nk):
        parts = "; ".join(f"{short[v]} {fmt_count(n)}" for v, n in zip(series_nk["variable"], series_nk["n"]))
        notes.append(f"Not known (rated 9) in each CAN-M domain, all groups, left out of that domain's percentages: "
                     f"{parts}.")
    return notes


def characteristics_table(t: pd.DataFrame, *, is_synthetic: bool, title: str | None = None,
                          groups: Sequence[str] = ("1", "0", "overall"), extra_notes: Sequence[str] = (),
                          fold_not_known: bool = False) -> GT:
    """A gtsummary-style table: characteristic (labels, indented levels, "Not known"), one column per
    group with N in the header, p with its test's superscript letter, q (when the table has q-values) and
    SMD, with the tests, rounding and populations explained in the notes."""
    frame, _ = display_frame(t, groups, fold_not_known=fold_not_known)
    marks = Marks()
    stat_cols = [c for c in ("p", "q") if c in frame]
    frame = lettered(frame, [("p", TEST_COLUMN)], marks, plain=[c for c in stat_cols if c != "p"])
    has_sections = frame["section"].astype(bool).any()
    gt = GT(frame.drop(columns=["variable"] if has_sections else ["variable", "section"]),
            rowname_col="characteristic", groupname_col="section" if has_sections else None)
    gt = _raw(gt, stat_cols).tab_stubhead(label="Characteristic").cols_label(**_group_headers(t, groups))
    gt = gt.cols_align(align="right", columns=[*groups, *stat_cols, "SMD"])
    if title:
        gt = gt.tab_header(title=title)
    notes = [*definition_notes(t), *_test_notes(marks, t), *_q_note(t),
             *_follow_up_note(t, [g for g in groups if g != "overall"]),
             *(not_known_note(t) if fold_not_known else []), *extra_notes, ROUNDING_NOTE, *suppression_notes(t)]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def table1(results: Results, *, is_synthetic: bool) -> GT:
    """Table 1: sociodemographic characteristics by CSC involvement during the acute episode."""
    return characteristics_table(results["table1_sociodemographic"], is_synthetic=is_synthetic)


def table2(results: Results, *, is_synthetic: bool) -> GT:
    """Table 2: clinical characteristics by CSC involvement during the acute episode."""
    return characteristics_table(results["table2_clinical"], is_synthetic=is_synthetic)


TABLE3_NOTES = (CANM_COUNTING_NOTE,
                "CAN-M domains: unmet need against no need or met need, among domains rated; where a domain's "
                "not-known count would have been small, not known is counted with no unmet need, and the "
                "percentage is of every dyad followed up. A group's row (any of its domains) counts the dyads "
                "with an unmet need in at least one of the domains beneath it.")


def table3(results: Results, *, is_synthetic: bool) -> GT:
    """Needs, satisfaction, service use and readmission after discharge, and unmet need by CAN-M domain with
    each domain's "Not known" line: the full table (supplementary material)."""
    return characteristics_table(results["table3_needs"], is_synthetic=is_synthetic, extra_notes=TABLE3_NOTES)


def table3_compact(results: Results, *, is_synthetic: bool) -> GT:
    """The same table for the main text: one line per CAN-M domain, the domains' "Not known" counts in a
    note instead of a line each (the full table is :func:`table3`)."""
    t = results["table3_needs"]
    return characteristics_table(t, is_synthetic=is_synthetic, extra_notes=(*TABLE3_NOTES, *grouped_domains_note(t)),
                                 fold_not_known=True)


def grouped_domains_note(t: pd.DataFrame) -> list[str]:
    """For the main text's table: the domains counted only in their group's row (their counts by group
    are suppressed), named, with where each domain's own row is."""
    short = _compact_sections(t)
    names = [short[v] for v in dict.fromkeys(t["variable"]) if v in _counted_in_group(t, short)]
    if not names:
        return []
    return [f"CAN-M domains counted only in their group's row here, because their counts by group are "
            f"suppressed: {series([n.lower() for n in names])}. The supplementary material gives each "
            "domain's own row."]


def _status_unknown_note(t: pd.DataFrame) -> str:
    """How many dyads each comparison leaves out because their sub-group status is not known."""
    per = t.drop_duplicates("comparison")
    parts = [f"{fmt_count(r['n_status_unknown'])} of {fmt_count(r['n_involved'])} for '{r['comparison_label']}'"
             for _, r in per.iterrows()]
    return ("Dyads with CSC involvement left out because their sub-group status was not known "
            f"(not followed up at one year or not recorded): {'; '.join(parts)}.")


def table5(results: Results, *, is_synthetic: bool) -> GT:
    """Table 5: each sub-group with the most serious involvement against the other CSC-involved dyads."""
    t = results["table5_subgroups"]
    frames, headers, spanners, columns, pairs, plain = [], {}, [], [], [], []
    for comp in dict.fromkeys(t["comparison"]):
        sub = t[t["comparison"] == comp]
        frame, _ = display_frame(sub, ("1", "0"))
        cols = {"1": f"{comp}__1", "0": f"{comp}__0", "p": f"{comp}__p", "q": f"{comp}__q", "SMD": f"{comp}__smd",
                TEST_COLUMN: f"{comp}__test"}
        frame = frame.rename(columns=cols)
        sizes = sub.drop_duplicates("group").set_index("group")["group_n"]
        headers |= {cols["1"]: f"Yes, N = {fmt_count(sizes['1'])}", cols["0"]: f"Others, N = {fmt_count(sizes['0'])}",
                    cols["p"]: "p", cols["q"]: "q", cols["SMD"]: "SMD"}
        shown = [cols[k] for k in ("1", "0", "p", "q", "SMD") if cols[k] in frame]
        spanners.append((sub["comparison_label"].iloc[0], shown))
        columns += [c for c in shown if c in frame]
        pairs.append((cols["p"], cols[TEST_COLUMN]))
        plain += [cols["q"]] if cols["q"] in frame else []
        frames.append(frame.drop(columns=["section"]).assign(_k=frame.groupby(["variable", "characteristic"]).cumcount())
                      .set_index(["variable", "characteristic", "_k"]))
    wide = frames[0].join(frames[1:], how="outer", sort=False) if len(frames) > 1 else frames[0]
    order = list(dict.fromkeys(i for f in frames for i in f.index))
    wide = wide.reindex(order).fillna("").reset_index().drop(columns=["variable", "_k"])
    marks = Marks()
    wide = lettered(wide, pairs, marks, plain=plain)
    gt = GT(wide, rowname_col="characteristic").tab_stubhead(label="Characteristic").cols_label(
        **{k: v for k, v in headers.items() if k in wide})
    gt = _raw(gt, [p for p, _ in pairs] + plain).cols_align(align="right", columns=columns)
    for label, cols in spanners:
        gt = gt.tab_spanner(label=label, columns=cols)
    notes = [*definition_notes(t), *_test_notes(marks, t), *_q_note(t, "comparison"),
             *_follow_up_note_subgroups(t),
             "Yes: every dyad of the sub-group whose status is known, with or without CSC involvement (an infant "
             "can live away from the mother by a family arrangement; a Child Protection Plan is CSC involvement). "
             "Others: the other dyads with CSC involvement during the episode or at one year.",
             _status_unknown_note(t), ROUNDING_NOTE, *suppression_notes(t)]
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def _follow_up_note_subgroups(t: pd.DataFrame) -> list[str]:
    """The sub-group table's 'Followed up ..., N' rows explained, when it has any."""
    flags = [f for f in dict.fromkeys(t["requires"].dropna().astype(str)) if f]
    if not any(_needs_n_row(t[(t["variable"] == v) & (t["comparison"] == c)])
               for c in dict.fromkeys(t["comparison"]) for v in dict.fromkeys(t.loc[t["requires"].isin(flags), "variable"])):
        return []
    return ["Variables recorded after discharge are summarised among dyads followed up at that timepoint; the "
            "'Followed up ..., N' rows give their number in each column."]


# ---- change between timepoints -------------------------------------------------------------------

def _paired_note(row: pd.Series) -> str:
    df = "" if not hidden(row["df"]) and pd.isna(row["df"]) else f", df = {fmt_count(row['df'])}"
    return (f"{row['label']}: {row['test']}, statistic = {fmt_num(row['statistic'], 2)}{df}, {p_text(row['p'])}; "
            f"{fmt_count(row['n_pairs'])} dyads observed at both timepoints"
            + (f" ({row['note']})" if isinstance(row["note"], str) and row["note"] else "") + ".")


#: A column header longer than this is shortened (its full wording goes to the table's notes).
SHORT_HEADER = 25


def short_column_label(label: str) -> str:
    """A column header short enough not to stack over many lines: the label up to its first ' or ' when it
    is longer than ``SHORT_HEADER`` characters ('Looked after or placed away from mother by CSC' ->
    'Looked after'), else the label itself."""
    return label.split(" or ", 1)[0] if len(label) > SHORT_HEADER and " or " in label else label


def table4_transitions(results: Results, *, is_synthetic: bool) -> GT:
    """Table 4a: CSC status during the episode (rows) by CSC status at one year (columns), n (row %)."""
    t = results["table4_transitions"]
    wide = t.assign(cell=[fmt_n_pct(n, None if rt == "total" else p) for n, p, rt in zip(t["n"], t["percent"], t["row_type"])])
    frame = wide.pivot_table(index=["level", "level_label"], columns="group", values="cell", aggfunc="first", sort=False)
    frame = frame.reindex(columns=list(dict.fromkeys(t["group"])))
    totals = t.drop_duplicates("level").set_index("level")["denominator"]
    frame["Total"] = [fmt_count(totals[lv]) for lv in frame.index.get_level_values("level")]
    frame = frame.reset_index().drop(columns="level")
    full = dict(zip(t["group"], t["group_label"]))
    labels = {g: short_column_label(lab) for g, lab in full.items()}
    gt = GT(frame, rowname_col="level_label").tab_stubhead(label="During the acute episode")
    gt = gt.cols_label(**labels).tab_spanner(label="At one year after discharge", columns=list(labels))
    tests = results["table4_paired_tests"]
    notes = [f"{labels[g]}: {full[g][0].lower() + full[g][1:]}." for g in full if labels[g] != full[g]]
    notes += [_paired_note(r) for _, r in tests[tests["variable"].isin(["csc_status", "csc_any"])].iterrows()]
    notes.append(f"Dyads followed up at one year with CSC status known at both timepoints: N = {fmt_count(t['n_pairs'].iloc[0])}. "
                 "Cells: n (% of the row).")
    notes += [n for n in [care_reconciliation_note(results)] if n]
    notes += suppression_notes(t, tests)
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def care_reconciliation_note(results: Results) -> str:
    """Why Table 4's last one-year column and the abstract's 'not living in the mother's care' differ: the
    CSC category counts placements made by CSC among dyads with status known at both timepoints, the
    headline any arrangement among dyads followed up. Empty when the run has no such headline."""
    head = results.get("headline")
    if head is None or "not_in_care_1y" not in set(head["measure"]):
        return ""
    t = results["table4_transitions"]
    last = t[t["row_type"] == "total"].iloc[-1]
    h = head.set_index("measure").loc["not_in_care_1y"]
    return (f"{short_column_label(last['group_label'])} at one year (column total {fmt_count(last['n'])}) counts only placements made "
            "by CSC, among dyads with CSC status known at both timepoints. The abstract and the sub-group table "
            "count infants not living in the mother's care at one year by any arrangement, including with "
            f"relatives by a family arrangement: {fmt_count(h['n'])} of the {fmt_count(h['denominator'])} dyads "
            "followed up.")


def table4_needs(results: Results, *, is_synthetic: bool) -> GT:
    """Table 4b: CAN-M needs at one month and one year, and their change, among dyads with both, by group;
    p with its test's superscript letter, and q beside it when the results carry q-values."""
    t = results["table4_needs_change"]
    with_q = "q" in t and t["q"].notna().any()
    rows = []
    for (variable, group), g in t.groupby(["variable", "group"], sort=False):
        first = g.iloc[0]
        cells = {lv: fmt_median_iqr(r["median"], r["q1"], r["q3"]) for lv, r in g.set_index("level").iterrows()}
        rows.append({"measure": first["label"], "group": first["group_label"], "n": fmt_count(first["n"]), **cells,
                     "p": fmt_p(first["p"]), **({"q": fmt_p(first["q"])} if with_q else {}),
                     TEST_COLUMN: test_name(first["test"])})
    marks = Marks()
    stat_cols = ["p", "q"] if with_q else ["p"]
    frame = lettered(pd.DataFrame(rows), [("p", TEST_COLUMN)], marks, plain=stat_cols[1:])
    labels = dict(zip(t["level"], t["level_label"]))
    gt = (_raw(GT(frame, rowname_col="group", groupname_col="measure"), stat_cols).tab_stubhead(label="Group")
          .cols_label(n="Dyads with both", **{c: c for c in stat_cols}, **labels))
    k = int(t.drop_duplicates(["variable", "group"])["p"].notna().sum())
    notes = ["Median [IQR]. p: within each group, of the differences one year minus one month (statistic V: sum of "
             "the ranks of the positive differences).", *_test_notes(marks),
             *([Q_NOTE.format(k=k)] if with_q else []),
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


def analysed_of_parent(results: Results) -> str:
    """'Of the parent cohort's 279 dyads, 278 were analysed for the acute episode', or without the
    parent cohort's size where disclosure control hides it (a small exclusion)."""
    f = results["flow"]
    parent = f[(f["stage"] == "cohort") & (f["group"] == "overall")]["n"].iloc[0]
    n = flow_n(results, "analysed_episode")
    if hidden(parent):
        return f"From the parent cohort, {n} dyads were analysed for the acute episode"
    return f"Of the parent cohort's {flow_n(results, 'cohort')} dyads, {n} were analysed for the acute episode"


def p_value(results: Results, table: str, variable: str) -> str:
    """The p-value of a variable's test in a table, formatted for the text ('p = 0.012' / 'p < 0.001' / 'p > 0.99')."""
    t = results[table]
    p = t.loc[t["variable"] == variable, "p"].iloc[0]
    return sourced(p_text(p), (table, {"variable": variable, "group": "overall"}, "p"))


def group_summary(results: Results, table: str, variable: str, group: str, level: str | None = None) -> str:
    """One group's cell of a table for the text (the same format as the table)."""
    t = results[table]
    rows = t[(t["variable"] == variable) & (t["row_type"] != "not_known")]
    sel = rows["group"] == group
    if level is not None:
        sel &= rows["level"] == level
    row = rows[sel].iloc[0]
    key = {"variable": variable, "group": group, "row_type": row["row_type"], **({"level": level} if level else {})}
    columns = (("n", "percent") if row["row_type"] == "level" else ("mean", "sd") if row["summary"] == "mean_sd"
               else ("median", "q1", "q3"))
    return sourced(fmt_summary(row), *((table, key, c) for c in columns))


def test_letters_text() -> str:
    """The tests used for group comparisons, for the Methods: 'Pearson's chi-square test; ...'. (Each table
    letters its own tests a, b, c... in order of first use; see its notes.)"""
    short = {compare.FISHER_MC_STEM: "Fisher–Freeman–Halton exact test with a Monte Carlo p-value",
             compare.MANN_WHITNEY: "Mann–Whitney U test"}
    return "; ".join(short.get(n, n) for n in TEST_ORDER)


def monte_carlo_text() -> str:
    """The Monte Carlo settings for the Methods, e.g. '100,000 resampled tables'."""
    from ..stats.compare import MC_RESAMPLES

    return f"{MC_RESAMPLES:,} resampled tables"


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
