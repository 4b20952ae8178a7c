"""The release: every result table after disclosure control, and the audit of every decision.

``release(results, policy, cohort)`` returns the tables that may leave the secure environment
(protected values replaced by ``MARKER``) and one ``Decision`` per suppressed, withheld or rounded
value, naming output, row, column and rule but never the value itself.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from ..stats.describe import NOT_KNOWN
from .cells import Grid, protect, rounded
from .policy import MARKER, Policy

PRIMARY, SECONDARY, WITHHELD, SUMMARY, TEST, MODEL, LINKED, ROUNDED, ADJUSTED, COARSENED = (
    "primary", "secondary", "withheld", "summary", "test", "model_estimate", "model_link", "rounded", "q_adjusted",
    "coarsened")
RULE_TEXT = {
    PRIMARY: "count below the threshold",
    SECONDARY: "complementary suppression: would reveal a suppressed count through totals or other cells",
    WITHHELD: "population too small to protect: every count withheld",
    SUMMARY: "summary statistic from fewer dyads than the policy allows",
    TEST: "test, SMD or q-value of a variable with a suppressed count",
    MODEL: "model estimate from too few events, non-events or residual degrees of freedom",
    LINKED: ("unadjusted odds ratio that, with the model's N and events, gives away the counts of its 2 x k table and "
             "so a suppressed count of a descriptive table about the same dyads"),
    ROUNDED: "every count rounded; percentages recomputed from the rounded counts",
    ADJUSTED: ("q-values recomputed from the released p-values, a withheld p-value counted as one (never lower than "
               "the q-value over every test), so that no q-value reveals a withheld p-value"),
    COARSENED: ("median and quartiles given to whole numbers where the number of dyads with a value is suppressed: "
                "on whole-number data their decimals would tell that number's remainder on division by four"),
}
KINDS = (PRIMARY, SECONDARY, WITHHELD, SUMMARY, TEST, MODEL, LINKED, ROUNDED, ADJUSTED, COARSENED)
#: Kinds a released file never tells apart: which suppressed count is the small one is the secret.
SUPPRESSED_KINDS = (PRIMARY, SECONDARY, WITHHELD)
RELEASED_KINDS = ("suppressed", SUMMARY, TEST, MODEL, LINKED, ROUNDED, ADJUSTED, COARSENED)
RELEASED_RULE_TEXT = {"suppressed": ("count below the threshold, or a value from which such a count could be worked "
                                     "out (totals, other cells, the overall column, 'Not known' rows): the same mark "
                                     "for both"), **{k: RULE_TEXT[k] for k in RELEASED_KINDS[1:]}}
#: Decimal places of each statistic in the documents: the release carries no more.
PRINTED_DP = {**dict.fromkeys(("percent", "mean", "sd", "median", "q1", "q3", "epv"), 1),
              **dict.fromkeys(("p", "q", "p_global", "hl_p"), 3),
              **dict.fromkeys(("statistic", "smd", "or", "ci_low", "ci_high", "estimate", "se", "lr_chi2", "fmi", "df",
                               "c_statistic", "c_ci_low", "c_ci_high", "hl_chi2", "max_gvif"), 2)}
COUNT_FIELDS = ("n", "denominator", "group_n", "n_missing", "n_not_applicable", "excluded", "remaining", "parent_n",
                "events", "non_events", "n_pairs", "n_involved", "n_status_unknown", "n_domain_not_known")
PERCENT_OF = (("percent", "n", "denominator"), ("percent", "n", "parent_n"))
DESCRIBE_STATS = ("mean", "sd", "median", "q1", "q3")
DESCRIBE_TESTS = ("statistic", "df", "p", "q", "smd")


@dataclass(frozen=True)
class Decision:
    """One value not published as computed (never the value itself)."""

    output: str
    row: str
    column: str
    field: str
    kind: str
    rule: str


@dataclass
class Release:
    """Released tables, the policy and the decisions taken."""

    policy: Policy
    tables: dict[str, pd.DataFrame]
    decisions: list[Decision] = field(default_factory=list)

    def audit_records(self) -> list[dict]:
        """Every decision with its kind (primary, secondary, ...): internal, never released, since the kind
        of a suppressed cell says which one is the small count."""
        return [asdict(d) for d in self.decisions]

    def released_counts(self) -> dict[str, dict[str, int]]:
        """Per output, the number of values each released rule changed; primary and complementary
        suppression are one count ("suppressed")."""
        counts: dict[str, dict[str, int]] = {}
        for d in self.decisions:
            kind = "suppressed" if d.kind in SUPPRESSED_KINDS else d.kind
            counts.setdefault(d.output, {}).setdefault(kind, 0)
            counts[d.output][kind] += 1
        return counts

    def released_audit(self) -> dict:
        """The audit that may leave: the rules and, per output, how many values each changed (no row,
        column or kind of any single decision)."""
        counts = self.released_counts()
        return {"checked": self.policy.checked, "rule": self.policy.rule_text(),
                "threshold": self.policy.threshold, "rounding": self.policy.rounding,
                "rules": {k: RELEASED_RULE_TEXT[k] for k in RELEASED_KINDS},
                "outputs": {key: {k: c.get(k, 0) for k in RELEASED_KINDS} for key, c in counts.items()
                            if key in self.tables}}

    def summary(self) -> pd.DataFrame:
        """The output request: one row per released output, the number of values each rule changed, and
        the rules applied (no protected value, and no count that tells small cells from complements)."""
        counts = self.released_counts()
        rows = []
        for key, table in self.tables.items():
            c = counts.get(key, {})
            rules = "; ".join(RELEASED_RULE_TEXT[k] for k in RELEASED_KINDS if c.get(k))
            rows.append({"output": f"{key}.csv", "rows": len(table), "policy": self.policy.name,
                         "checked": "yes" if self.policy.checked else "NO: not checked",
                         **{k: c.get(k, 0) for k in RELEASED_KINDS},
                         "rules_applied": rules or ("none needed" if self.policy.checked else "none (policy none)")})
        for key in counts:
            if key not in self.tables:
                rows.append({"output": f"{key}.csv", "rows": 0, "policy": self.policy.name,
                             "checked": "not released", **{k: 0 for k in RELEASED_KINDS},
                             "rules_applied": "internal only, never released"})
        return pd.DataFrame(rows, columns=["output", "rows", "policy", "checked", *RELEASED_KINDS, "rules_applied"])


class _Marks:
    """Values of one table to replace by the marker, with the reason of each."""

    def __init__(self, key: str, frame: pd.DataFrame, log: list[Decision]):
        self.key, self.frame, self.log = key, frame, log
        self.columns = set(frame.columns)
        self.mask: dict[str, np.ndarray] = {}
        self.present: dict[str, np.ndarray] = {}

    def mark(self, pos: int, columns, kind: str, row: str, column: str) -> None:
        for c in columns:
            if c not in self.columns:
                continue
            if c not in self.mask:
                self.mask[c] = np.zeros(len(self.frame), dtype=bool)
                self.present[c] = self.frame[c].notna().to_numpy()
            if not self.mask[c][pos] and self.present[c][pos]:
                self.mask[c][pos] = True
                self.log.append(Decision(self.key, row, column, c, kind, RULE_TEXT[kind]))

    def apply(self) -> pd.DataFrame:
        out = self.frame.copy()
        for c, m in self.mask.items():
            if m.any():
                out[c] = out[c].astype(object)
                out.loc[m, c] = MARKER
        return out


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


# ---- characteristics tables (describe's long format) ------------------------------------------------

def _num(v) -> float:
    return float("nan") if v is None or v == "" else float(v)


def _characteristics(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision],
                     part_column: str | None = None, flow_na: Mapping[tuple[str, str], bool] | None = None,
                     grids: dict | None = None, links: dict | None = None,
                     unions: dict | None = None) -> pd.DataFrame:
    """Tables of n (%), summaries and "Not known" rows by group: one grid per variable and population
    (each comparison of a sub-group table is its own population), shared by a variable and those
    derived from it as a sum of its levels (``links``: derived variable -> (variable, level codes)), and
    by a row counting dyads with any of several variables' level and those variables (``unions``:
    variable -> (its level code, member variables, their level code)).
    ``flow_na``: (follow-up flag, group) -> whether the participant flow hides the count not followed up
    (the table then hides it too) or publishes it (the table cannot hide it: an attacker reads it there)."""
    links, unions = links or {}, unions or {}
    t = t.reset_index(drop=True)
    marks = _Marks(key, t, log)
    recs = t.to_dict("records")
    for r in recs:
        r["group"] = str(r["group"])
        r["level"] = _text(r["level"])
    parts: dict = {}
    for i, r in enumerate(recs):
        parts.setdefault(r[part_column] if part_column else None, []).append(i)
    for part, idx in parts.items():
        part_text = "" if part is None else f"{part}: "
        label_of = {recs[i]["group"]: recs[i]["group_label"] for i in idx}
        group_n = {recs[i]["group"]: int(recs[i]["group_n"]) for i in idx}
        groups = [g for g in dict.fromkeys(recs[i]["group"] for i in idx) if g != "overall"]
        small = [g for g in groups if policy.protects(group_n[g])]
        if small:
            for i in idx:
                if recs[i]["group"] in groups:
                    kind = PRIMARY if recs[i]["group"] in small else WITHHELD
                    marks.mark(i, ["group_n", "n", "denominator", "percent", "n_missing", "n_not_applicable",
                                   *DESCRIBE_STATS], kind, part_text + _text(recs[i]["label"]), label_of[recs[i]["group"]])
                marks.mark(i, DESCRIBE_TESTS, TEST, part_text + _text(recs[i]["label"]), "all groups")
            overall: dict[str, list[int]] = {}      # the overall column stays: a population of its own
            for i in idx:
                if recs[i]["group"] == "overall":
                    overall.setdefault(recs[i]["variable"], []).append(i)
            for rows in overall.values():
                _variable_grid(recs, rows, [], policy, marks, part_text, label_of)
            continue
        by_var: dict[str, list[int]] = {}
        for i in idx:
            by_var.setdefault(recs[i]["variable"], []).append(i)
        in_union = {m for u, (_, members, _) in unions.items() if u in by_var for m in members}
        for variable, rows in by_var.items():
            if variable in links and links[variable][0] in by_var or variable in in_union:
                continue                            # protected with the variable it is derived from
            derived = tuple((by_var[d], codes) for d, (source, codes) in links.items()
                            if source == variable and d in by_var)
            union = None
            if variable in unions:
                code, members, member_code = unions[variable]
                union = (code, tuple(by_var[m] for m in members if m in by_var), member_code)
            linked = _variable_grid(recs, rows, groups, policy, marks, part_text, label_of,
                                    (flow_na or {}) if part is None else {}, derived, union)
            if grids is not None and part is None:
                grids[key, variable] = linked
    return _coarsen_quantiles(key, marks.apply(), t, log)


QUANTILES = ("median", "q1", "q3")
#: Below this many dyads, a mean and SD to one decimal place do not fit every number of dyads nearby
#: (a mean of whole numbers moves in steps of 1/n), so they are withheld beside a suppressed n.
MEAN_FITS_ANY_N = 20


def _coarsen_quantiles(key: str, t: pd.DataFrame, full: pd.DataFrame, log: list[Decision]) -> pd.DataFrame:
    """Summary rows whose number of dyads is suppressed: median and quartiles to whole numbers (a type-7
    quartile of whole numbers is x + f * d with f the fractional part of (n - 1) p, so its decimals
    narrow n to a residue modulo 4, a median's to its parity), and no mean or SD below
    ``MEAN_FITS_ANY_N`` dyads."""
    rows = (t["row_type"] == "summary") & (t["n"].astype(object) == MARKER)
    if not rows.any():
        return t
    marks = _Marks(key, t, log)
    for i in np.flatnonzero(rows.to_numpy()):
        if int(full["n"].iat[i]) < MEAN_FITS_ANY_N:
            marks.mark(i, ["mean", "sd"], SUMMARY, _text(t["label"].iat[i]), _text(t["group_label"].iat[i]))
    t = marks.apply()
    for c in QUANTILES:
        if c not in t:
            continue
        t[c] = t[c].astype(object)
        for i in np.flatnonzero(rows.to_numpy()):
            v = t[c].iat[i]
            if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v):
                t.iloc[i, t.columns.get_loc(c)] = float(np.floor(float(v) + 0.5))
    for i in np.flatnonzero(rows.to_numpy()):
        log.append(Decision(key, _text(t["label"].iat[i]), _text(t["group_label"].iat[i]), "median, q1, q3", COARSENED,
                            RULE_TEXT[COARSENED]))
    return t


@dataclass
class _Part:
    """One variable's cells in a (possibly shared) grid: its label, frame rows, cell ids by (row kind,
    level) and group, and the frame fields each cell shows."""

    label: str
    rows: list[int]
    ids: dict
    shows: dict
    substantive: set


def _build(grid: Grid, recs: list[dict], rows: list[int], groups: list[str], policy: Policy, marks: _Marks,
           part_text: str, label_of: dict, flow_na: Mapping[tuple[str, str], bool]) -> _Part:
    """Add one variable of one population to ``grid``: its counts by group, the overall column, the "Not
    known" row, the implied complement of a one-level row, denominators and dyads eligible, with the
    equations between them."""
    label = part_text + _text(recs[rows[0]]["label"])
    kinds = list(dict.fromkeys((recs[i]["row_type"], recs[i]["level"]) for i in rows))
    main = [k for k in kinds if k[0] != "not_known"]
    single = len(main) == 1 and main[0][0] == "level"
    cols = [*groups, *(["overall"] if any(recs[i]["group"] == "overall" for i in rows) else [])]
    shows: dict[int, list[tuple[int, list[str]]]] = {}   # grid cell -> [(frame row, fields)]
    ids: dict[tuple, dict[str, int]] = {}
    for g in cols:
        gr = [i for i in rows if recs[i]["group"] == g]
        if not gr:
            continue
        first = recs[gr[0]]
        n_na = int(first["n_not_applicable"])
        elig_value = int(first["group_n"]) - n_na
        in_flow = flow_na.get((_text(first["requires"]), g))
        from_flow = in_flow is True
        elig = grid.add(elig_value, f"{label} | {g} | eligible", fixed=not n_na, derived=bool(n_na))
        ids.setdefault(("eligible", ""), {})[g] = elig
        if from_flow:
            for j in gr:
                marks.mark(j, ["n_not_applicable"], SECONDARY, f"{label}: not followed up (hidden in the participant flow)",
                           label_of.get(g, g))
        if n_na:
            na = grid.add(n_na, f"{label} | {g} | not followed up", secret=from_flow, fixed=in_flow is False)
            shows[na] = [(j, ["n_not_applicable"]) for j in gr]
            ids.setdefault(("not_applicable", ""), {})[g] = na
            grid.equation([elig, na], grid.add(int(first["group_n"]), f"{label} | {g} | N", fixed=True))
        level_cells, nk_cells, summary_cells = [], [], []
        for kind in kinds:
            hit = [i for i in gr if (recs[i]["row_type"], recs[i]["level"]) == kind]
            if not hit:
                continue
            i = hit[0]
            value = int(recs[i]["n"])
            c = grid.add(value, f"{label} | {g} | {recs[i]['level_label'] if kind[0] != 'summary' else 'known'}",
                         cost=_cell_cost(kind[0], value))
            ids.setdefault(kind, {})[g] = c
            if kind[0] == "level":
                level_cells.append(c)
                shows[c] = [(i, ["n", "percent"])]
            elif kind[0] == "not_known":
                nk_cells.append(c)
                shows[c] = [(i, ["n"])] + [(j, ["n_missing"]) for j in gr]
            else:
                summary_cells.append(c)
                shows[c] = [(i, ["n"])]
        if level_cells:
            dens = [_num(recs[i]["denominator"]) for i in gr if recs[i]["row_type"] == "level"]
            den_value = int(dens[0]) if dens and not np.isnan(dens[0]) else sum(grid.values[c] for c in level_cells)
            den = grid.add(den_value, f"{label} | {g} | denominator",
                           cost=PERCENT_COST * len(level_cells) + den_value)
            shows[den] = [(i, ["denominator", "percent"]) for i in gr if recs[i]["row_type"] == "level"]
            ids.setdefault(("denominator", ""), {})[g] = den
            members = list(level_cells)
            if single:
                comp = grid.add(den_value - sum(grid.values[c] for c in level_cells), f"{label} | {g} | other levels",
                                derived=True)
                ids.setdefault(("complement", ""), {})[g] = comp
                members.append(comp)
            grid.equation(members, den)
            grid.equation([den, *nk_cells], elig)
        else:
            grid.equation(summary_cells + nk_cells, elig)
    substantive = {c for kind, per in ids.items() if kind[0] in ("level", "complement") for c in per.values()}
    if "overall" in cols:
        for kind, per in ids.items():
            if "overall" not in per or not all(g in per for g in groups):
                continue
            members = [per[g] for g in groups]
            rest = grid.values[per["overall"]] - sum(grid.values[c] for c in members)
            if rest < 0:
                raise ValueError(f"{marks.key}: {label}: the overall count is below the sum of the groups")
            if rest:
                members.append(grid.add(rest, f"{label} | outside the groups | {kind}", secret=True))
            grid.equation(members, per["overall"])
    _mark_small_class_zeros(grid, ids, groups, policy)
    return _Part(label, rows, ids, shows, substantive)


def _link(grid: Grid, whole: _Part, summed: _Part, codes: tuple[str, ...]) -> None:
    """Equations between a variable and one derived from it (``summed``'s one level = the sum of
    ``whole``'s levels ``codes``; the same dyads not known): an attacker adds the published rows up."""
    for g, yes in summed.ids.get(("level", "1"), {}).items():
        parts = [whole.ids.get(("level", c), {}).get(g) for c in codes]
        if all(p is not None for p in parts) and sum(grid.values[p] for p in parts) == grid.values[yes]:
            grid.equation(parts, yes)
    for g, nk in summed.ids.get(("not_known", NOT_KNOWN), {}).items():
        other = whole.ids.get(("not_known", NOT_KNOWN), {}).get(g)
        if other is not None and grid.values[other] == grid.values[nk]:
            grid.equation([other], nk)


def _link_union(grid: Grid, union: _Part, members: list[_Part], code: str, member_code: str) -> None:
    """Inequalities between a row counting dyads with any member's level and the members' rows: in each
    group, every member's count <= the union's count <= the members' sum."""
    for g, u in union.ids.get(("level", code), {}).items():
        cells = [m.ids.get(("level", member_code), {}).get(g) for m in members]
        cells = [c for c in cells if c is not None]
        for c in cells:
            grid.at_most([c], [u])
        if len(cells) == len(members):
            grid.at_most([u], cells)


def _variable_grid(recs: list[dict], rows: list[int], groups: list[str], policy: Policy,
                   marks: _Marks, part_text: str, label_of: dict,
                   flow_na: Mapping[tuple[str, str], bool] | None = None,
                   linked: tuple = (), union: tuple | None = None):
    """One variable of one population as one grid (with ``linked``: (rows, level codes) of variables
    derived from it as a sum of its levels, in the same grid), protected. Returns (grid, the first
    variable's cell ids by (row kind, level) and group, the protection outcome)."""
    grid = Grid()
    flow_na = flow_na or {}
    first = _build(grid, recs, rows, groups, policy, marks, part_text, label_of, flow_na)
    parts = [first]
    for other_rows, codes in linked:
        part = _build(grid, recs, other_rows, groups, policy, marks, part_text, label_of, flow_na)
        _link(grid, first, part, codes)
        parts.append(part)
    if union is not None:
        code, member_rows, member_code = union
        members = [_build(grid, recs, r, groups, policy, marks, part_text, label_of, flow_na) for r in member_rows]
        _link_union(grid, first, members, str(code), str(member_code))
        parts += members
    fallback = np.zeros(0, dtype=bool)
    if any(recs[i]["group"] == "overall" for i in rows) and groups:
        fallback = np.array([lab.split(" | ")[1] in groups and not f for lab, f in zip(grid.labels, grid.fixed)])
    outcome = protect(grid, policy, fallbacks=(fallback,) if fallback.size else ())
    for part in parts:
        _mark_part(grid, part, outcome, recs, policy, marks, label_of)
    return grid, first.ids, outcome


def _mark_part(grid: Grid, part: _Part, outcome, recs: list[dict], policy: Policy, marks: _Marks,
               label_of: dict) -> None:
    """Replace the hidden cells of one variable by the marker; withhold its tests when a category count
    is hidden (only its rank statistic when only "Not known" or summary counts are)."""
    substantive_hidden = count_hidden = False
    for c in sorted(part.shows.keys() | part.substantive):
        if not outcome.hidden[c] or grid.secret[c] or (grid.derived[c] and not outcome.primary[c]):
            continue
        kind_of_cell = grid.labels[c].rsplit(" | ", 1)[1]
        if c in part.substantive or kind_of_cell == "denominator":
            substantive_hidden = True
        else:
            count_hidden = True
        kind = PRIMARY if outcome.primary[c] else (WITHHELD if outcome.withheld else SECONDARY)
        g = grid.labels[c].split(" | ")[1]
        for i, fields in part.shows.get(c, []):
            marks.mark(i, fields, kind, f"{part.label}: {_text(recs[i]['level_label']) or 'summary'}", label_of.get(g, g))
    few = False
    for i in part.rows:
        if recs[i]["row_type"] == "summary" and policy.min_summary_n and int(recs[i]["n"]) < policy.min_summary_n:
            few = True
            marks.mark(i, DESCRIBE_STATS, SUMMARY, part.label, label_of.get(recs[i]["group"], recs[i]["group"]))
    if substantive_hidden or few:
        for i in part.rows:
            marks.mark(i, DESCRIBE_TESTS, TEST, part.label, "all groups")
    elif count_hidden:
        # the test is a function of the published level-by-group counts (categorical) or of values an
        # attacker does not hold (summaries); only a rank statistic, with the group sizes, would give a
        # hidden number of known values away
        for i in part.rows:
            marks.mark(i, ["statistic"], TEST, part.label, "all groups")


#: What hiding a column's denominator costs per level row: it hides every percentage of the column.
PERCENT_COST = 50.0


def _cell_cost(row_type: str, value: int) -> float:
    """What suppressing one count loses: a substantive count its dyads (1 + value); a "Not known" count
    or the number of dyads with a summary (neither printed as a finding) a tenth of that; a zero half
    a dyad."""
    if row_type in ("not_known", "summary"):
        return 0.1 * (1 + value)
    return 0.5 if value == 0 else 1.0 + value


def _mark_small_class_zeros(grid: Grid, ids: dict, groups: list[str], policy: Policy) -> None:
    """Class disclosure: a zero (shown, or implied by a one-level row at 100%) says that no one in a
    group has a category, or that everyone with the category is in the other groups. It is protected
    like a small count when either group is small: the category's dyads across the groups (the
    overall count) or the column's known denominator is below the threshold (and not zero)."""
    dens = ids.get(("denominator", ""), {})
    for kind, per in ids.items():
        if kind[0] not in ("level", "complement"):
            continue
        row_total = grid.values[per["overall"]] if "overall" in per else sum(grid.values[per[g]] for g in groups if g in per)
        for g, c in per.items():
            if grid.values[c] != 0:
                continue
            column = grid.values[dens[g]] if g in dens else None
            if policy.protects(row_total) or (column is not None and policy.protects(column)):
                grid.sensitive[c] = True


# ---- participant flow, headline numbers, transitions, paired tests ------------------------------------

ANALYSED_STAGE = "analysed_episode"


def _flow(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision]) -> pd.DataFrame:
    """The participant flow: each stage's n and exclusions by group, linked to its parent stage and to
    the overall column. The dyads analysed are the N of every table, so they stay published: a small
    exclusion from the parent cohort hides the parent cohort's size with it."""
    t = t.reset_index(drop=True)
    marks = _Marks(key, t, log)
    grid = Grid()
    n_cell, x_cell, shows = {}, {}, {}
    for i, r in t.iterrows():
        s, g = r["stage"], str(r["group"])
        n_cell[s, g] = grid.add(r["n"], f"{r['stage_label']} | {r['group_label']}",
                                fixed=(s, g) == (ANALYSED_STAGE, "overall"))
        shows[n_cell[s, g]] = (i, ["n", "percent"])
        x_cell[s, g] = grid.add(r["excluded"], f"{r['stage_label']} | {r['group_label']} | not included")
        shows[x_cell[s, g]] = (i, ["excluded"])
    for i, r in t.iterrows():
        s, g, parent = r["stage"], str(r["group"]), r["parent"]
        if isinstance(parent, str) and parent != s and (parent, g) in n_cell:
            grid.equation([n_cell[s, g], x_cell[s, g]], n_cell[parent, g])
    groups = [g for g in dict.fromkeys(t["group"].astype(str)) if g != "overall"]
    for s in dict.fromkeys(t["stage"]):
        if (s, "overall") in n_cell and all((s, g) in n_cell for g in groups) and groups:
            grid.equation([n_cell[s, g] for g in groups], n_cell[s, "overall"])
            if s != ANALYSED_STAGE:           # the dyads not analysed belong to no group
                grid.equation([x_cell[s, g] for g in groups], x_cell[s, "overall"])
    outcome = protect(grid, policy)
    hidden_n = set()
    for c in np.flatnonzero(outcome.hidden):
        i, fields = shows[c]
        kind = PRIMARY if outcome.primary[c] else (WITHHELD if outcome.withheld else SECONDARY)
        marks.mark(i, fields, kind, t.at[i, "stage_label"], t.at[i, "group_label"])
        if "n" in fields:
            hidden_n.add((t.at[i, "stage"], str(t.at[i, "group"])))
    for i, r in t.iterrows():       # a percentage of a hidden parent reveals it
        if (r["parent"], str(r["group"])) in hidden_n or (r["parent"] == r["stage"] and (r["stage"], "overall") in hidden_n):
            marks.mark(i, ["percent", "parent_n"], SECONDARY, r["stage_label"], r["group_label"])
    return marks.apply()


def _headline(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision]) -> pd.DataFrame:
    """Headline counts of dyads: a count, or the rest of its denominator, below the threshold hides
    the count and its percentage."""
    t = t.reset_index(drop=True)
    marks = _Marks(key, t, log)
    for i, r in t.iterrows():
        if r["measure"] == "sites":
            continue
        den = r["denominator"]
        if policy.protects(int(r["n"])):
            marks.mark(i, ["n", "percent"], PRIMARY, r["label"], "n")
        elif pd.notna(den) and policy.protects(int(den) - int(r["n"])):
            marks.mark(i, ["n", "percent"], SECONDARY, r["label"], "n")
        if pd.notna(den) and policy.protects(int(den)):
            marks.mark(i, ["n", "denominator", "percent"], PRIMARY, r["label"], "denominator")
    return marks.apply()


def _transitions(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision]) -> pd.DataFrame:
    """A cross-tabulation with its row totals (the denominators) and its Total row (the column totals),
    all adding up to the number of pairs (fixed); a zero in a row or column of 1 to threshold - 1
    dyads is protected (it would say where all of them went). A table without a Total row has its
    column totals treated as published elsewhere (fixed)."""
    t = t.reset_index(drop=True)
    marks = _Marks(key, t, log)
    grid = Grid()
    total_row = (t["row_type"] == "total").to_numpy() if "row_type" in t else np.zeros(len(t), dtype=bool)
    cell, column_total, shows = {}, {}, {}
    for i, r in t.iterrows():
        if total_row[i]:
            c = column_total[r["group"]] = grid.add(r["n"], f"Total | {r['group_label']}")
        else:
            c = cell[r["level"], r["group"]] = grid.add(r["n"], f"{r['level_label']} | {r['group_label']}")
        shows[c] = [(i, ["n", "percent"])]
    rows = list(dict.fromkeys(t.loc[~total_row, "level"]))
    cols = list(dict.fromkeys(t["group"]))
    row_total = {}     # rows and columns share their codes: separate dictionaries
    for lv in rows:
        pos = [i for i in range(len(t)) if t.at[i, "level"] == lv and not total_row[i]]
        tot = row_total[lv] = grid.add(t.at[pos[0], "denominator"], f"{t.at[pos[0], 'level_label']} | total")
        shows[tot] = [(i, ["denominator", "percent"]) for i in pos]
        grid.equation([cell[lv, g] for g in cols if (lv, g) in cell], tot)
    for g in cols:
        members = [cell[lv, g] for lv in rows if (lv, g) in cell]
        if g not in column_total:
            column_total[g] = grid.add(sum(grid.values[m] for m in members), f"{g} | total", fixed=True)
        grid.equation(members, column_total[g])
    grand = grid.add(sum(grid.values[row_total[lv]] for lv in rows), "all pairs", fixed=True)
    grid.equation([row_total[lv] for lv in rows], grand)
    grid.equation([column_total[g] for g in cols], grand)
    for (lv, g), c in cell.items():     # class disclosure: a zero in a small row or column
        if grid.values[c] == 0 and (policy.protects(grid.values[row_total[lv]])
                                    or policy.protects(grid.values[column_total[g]])):
            grid.sensitive[c] = True
    outcome = protect(grid, policy)
    for c in np.flatnonzero(outcome.hidden):
        kind = PRIMARY if outcome.primary[c] else (WITHHELD if outcome.withheld else SECONDARY)
        for i, fields in shows.get(c, []):
            marks.mark(i, fields, kind, t.at[i, "level_label"], t.at[i, "group_label"])
    return marks.apply()


_NOTE_COUNT = re.compile(r"\b\d+(?= (?:changed|zero differences))")


def _note_counts(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision]) -> pd.Series:
    """Notes with counts of dyads (discordant pairs, zero differences): when one count of a variable is
    protected, the counts of every note of that variable are hidden (the overall note is the sum of
    the groups')."""
    notes = t["note"].astype(object).copy()
    for variable in dict.fromkeys(t["variable"]):
        rows = [i for i in range(len(t)) if t.at[i, "variable"] == variable and isinstance(t.at[i, "note"], str)]
        if any(policy.protects(int(x)) for i in rows for x in _NOTE_COUNT.findall(t.at[i, "note"])):
            for i in rows:
                if _NOTE_COUNT.search(t.at[i, "note"]):
                    notes.iat[i] = _NOTE_COUNT.sub(MARKER, t.at[i, "note"])
                    log.append(Decision(key, t.at[i, "label"], t.at[i, "group_label"], "note", PRIMARY, RULE_TEXT[PRIMARY]))
    return notes


def _paired_tests(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision]) -> pd.DataFrame:
    """Paired tests: too few pairs withholds the test; a protected count in a note (discordant pairs,
    zero differences) hides the note's counts and, for McNemar's test whose statistic is a count, the
    statistic and p."""
    t = t.reset_index(drop=True)
    marks = _Marks(key, t, log)
    notes = _note_counts(key, t, policy, log)
    for i, r in t.iterrows():
        if policy.protects(int(r["n_pairs"])):
            marks.mark(i, ["n_pairs", "statistic", "df", "p"], PRIMARY, r["label"], r["group_label"])
        elif policy.min_summary_n and int(r["n_pairs"]) < policy.min_summary_n:
            marks.mark(i, ["statistic", "df", "p"], SUMMARY, r["label"], r["group_label"])
        if notes.iat[i] != r["note"]:
            # McNemar's statistic is a count; a signed-rank statistic with its p gives the pairs it ranked
            exact = str(r["test"]).startswith("Exact McNemar")
            marks.mark(i, ["statistic", "p"] if exact else ["statistic"], TEST, r["label"], r["group_label"])
    out = marks.apply()
    out["note"] = notes
    return out


def _marginal_test(tables: dict[str, pd.DataFrame], log: list[Decision]) -> pd.DataFrame:
    """The Stuart-Maxwell test of the transition table is withheld when a cell of that table is
    suppressed: its statistic is a function of the margins (published) and of the sums of cells
    mirrored about the diagonal, so it narrows the suppressed cells in a way no linear check bounds
    (an attacker's search over the completions of the table finds it does, on small cohorts)."""
    cells = tables["table4_transitions"]
    t = tables["table4_paired_tests"].reset_index(drop=True)
    if not (cells["n"].astype(object) == MARKER).any():
        return t
    marks = _Marks("table4_paired_tests", t, log)
    for i in range(len(t)):
        if str(t.at[i, "test"]).startswith("Stuart"):
            marks.mark(i, ["statistic", "df", "p"], TEST, t.at[i, "label"], t.at[i, "group_label"])
    return marks.apply()


def _needs_change(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision]) -> pd.DataFrame:
    """Paired CAN-M summaries: dyads with both, and dyads left out, by group with the overall column."""
    t = t.reset_index(drop=True)
    marks = _Marks(key, t, log)
    for variable in dict.fromkeys(t["variable"]):
        rows = [i for i in range(len(t)) if t.at[i, "variable"] == variable]
        for column in ("n", "n_domain_not_known"):
            grid = Grid()
            per = {}
            for i in rows:
                g = str(t.at[i, "group"])
                if g not in per:
                    per[g] = grid.add(t.at[i, column], f"{t.at[i, 'label']} | {t.at[i, 'group_label']} | {column}")
            groups = [g for g in per if g != "overall"]
            if "overall" in per and groups:
                grid.equation([per[g] for g in groups], per["overall"])
            outcome = protect(grid, policy)
            for c in np.flatnonzero(outcome.hidden):
                g = [k for k, v in per.items() if v == c][0]
                kind = PRIMARY if outcome.primary[c] else (WITHHELD if outcome.withheld else SECONDARY)
                for i in rows:
                    if str(t.at[i, "group"]) == g:
                        marks.mark(i, [column], kind, t.at[i, "label"], t.at[i, "group_label"])
                        if column == "n":
                            marks.mark(i, [*DESCRIBE_STATS, "statistic", "p", "q"], kind, t.at[i, "label"],
                                       t.at[i, "group_label"])
        for i in rows:
            if policy.min_summary_n and int(t.at[i, "n"]) < policy.min_summary_n:
                marks.mark(i, [*DESCRIBE_STATS, "statistic", "p", "q"], SUMMARY, t.at[i, "label"], t.at[i, "group_label"])
    notes = _note_counts(key, t, policy, log)
    for i in range(len(t)):
        if notes.iat[i] != t.at[i, "note"] and isinstance(t.at[i, "note"], str):
            marks.mark(i, ["statistic"], TEST, t.at[i, "label"], t.at[i, "group_label"])
    out = marks.apply()
    out["note"] = notes
    return out


# ---- models ------------------------------------------------------------------------------------------

ESTIMATE_FIELDS = ("estimate", "se", "or", "ci_low", "ci_high", "p", "p_global", "direction", "df", "fmi", "lr_chi2")
LEVEL_COUNTS = "models_level_counts"


def _models(results: dict[str, pd.DataFrame], policy: Policy, log: list[Decision],
            linked: frozenset = frozenset()) -> dict[str, pd.DataFrame]:
    """Every model table: a model whose events, non-events or residual degrees of freedom fall below
    the policy is withheld; a covariate with too few events or non-events in one of its categories
    (the reference included) has its odds ratios, intervals and p-values withheld. The per-category
    counts themselves stay inside (``models_level_counts`` is never released). ``linked``: (model,
    term, adjusted too) whose unadjusted estimates would reveal a suppressed descriptive count
    (``_model_links``)."""
    summary = results.get("models_summary", pd.DataFrame(columns=["model", "n", "parameters", "events", "non_events"]))
    withheld_models, withheld_terms = set(), set()
    for _, r in summary.iterrows():
        resid = int(r["n"]) - int(r["parameters"]) - 1
        if (policy.protects(int(r["events"])) or policy.protects(int(r["non_events"]))
                or (policy.min_residual_df and resid < policy.min_residual_df)):
            withheld_models.add(r["model"])
    counts = results.get(LEVEL_COUNTS)
    if counts is not None and policy.min_level_events:
        for _, r in counts.iterrows():
            if min(int(r["events"]), int(r["non_events"])) < policy.min_level_events:
                withheld_terms.add((r["model"], r["term"]))
    out = {}
    for key, t in results.items():
        if not key.startswith("models_") or key == LEVEL_COUNTS:
            continue
        t = t.reset_index(drop=True)
        marks = _Marks(key, t, log)
        if key == "models_exclusions":
            out[key] = _exclusions(key, t, policy, marks)
            continue
        if key == "models_plan":
            out[key] = t.copy()
            continue
        for i in range(len(t)):
            model = t.at[i, "model"]
            row = str(t.at[i, "label"]) if "label" in t else str(model)
            if model in withheld_models:
                fields = [c for c in t.columns if c not in ("model", "title", "outcome", "outcome_label", "population",
                                                             "strategy", "covariates", "type", "term", "label",
                                                             "level", "level_label", "reference", "analysis",
                                                             "method", "inference", "p_global_method", "ci_method",
                                                             "p_method", "confidence_level", "hl_groups", "footnote",
                                                             "short_label", "definition", "knot_percentiles", "knots")]
                marks.mark(i, fields, MODEL, row, model)
            elif "term" in t and (model, t.at[i, "term"]) in withheld_terms:
                marks.mark(i, ESTIMATE_FIELDS, MODEL, f"{row}: {_text(t.at[i, 'level_label'])}", model)
            elif "term" in t and ((model, t.at[i, "term"], True) in linked or (
                    (model, t.at[i, "term"], False) in linked and "type" in t and t.at[i, "type"] == "Unadjusted")):
                marks.mark(i, ESTIMATE_FIELDS, LINKED, f"{row}: {_text(t.at[i, 'level_label'])}", model)
        out[key] = marks.apply()
    if counts is not None:
        log.append(Decision(LEVEL_COUNTS, "all", "all", "all", WITHHELD, "internal table: events by category, never released"))
    return out


def _exclusions(key: str, t: pd.DataFrame, policy: Policy, marks: _Marks) -> pd.DataFrame:
    """Exclusion steps: remaining(k-1) = remaining(k) + excluded(k), first and last remaining fixed."""
    for (model, analysis), g in t.groupby(["model", "analysis"], sort=False):
        idx = list(g.index)
        grid = Grid()
        rem = [grid.add(t.at[i, "remaining"], f"{model} | {t.at[i, 'reason']} | remaining",
                        fixed=k in (0, len(idx) - 1)) for k, i in enumerate(idx)]
        exc = [grid.add(t.at[i, "excluded"], f"{model} | {t.at[i, 'reason']} | excluded") for i in idx]
        start = None
        if t.at[idx[0], "step"] != 0:          # a later analysis continues from the previous one's last step
            prev = t[(t["model"] == model) & (t.index < idx[0])]
            if len(prev):
                start = grid.add(prev["remaining"].iloc[-1], f"{model} | before | remaining", fixed=True)
        if start is not None:
            grid.equation([rem[0], exc[0]], start)
        for k in range(1, len(idx)):
            grid.equation([rem[k], exc[k]], rem[k - 1])
        outcome = protect(grid, policy)
        for c in np.flatnonzero(outcome.hidden):
            i = idx[c % len(idx)] if c < 2 * len(idx) else None
            if i is None:
                continue
            field_name = "remaining" if c < len(idx) else "excluded"
            kind = PRIMARY if outcome.primary[c] else (WITHHELD if outcome.withheld else SECONDARY)
            marks.mark(i, [field_name], kind, t.at[i, "reason"], f"{model}, {analysis}")
    return marks.apply()


def _model_links(results: dict[str, pd.DataFrame], grids: dict, policy: Policy) -> frozenset:
    """(model, term, adjusted too) whose unadjusted odds ratios must be withheld because they would give a
    suppressed descriptive count away.

    An unadjusted odds ratio of a categorical covariate, with its interval and the model's N and events,
    pins down (for an attacker who tries every table) the covariate-by-outcome counts of the model's
    complete cases; the full-precision value in the released CSV does so exactly. When the model's
    outcome is the grouping of a descriptive table (CSC involvement during the episode), each of those
    counts is part of a published cell: cell = model's count + dyads left out of the model (unknown,
    at least 0). The worst case is assumed (the model's counts known exactly) and added to the
    variable's grid as published; if a protected count of the table then fails the pass rule, the
    term's unadjusted estimates are withheld (its adjusted ones too when it is the model's only term)."""
    from ..stats.describe import CSC_BY

    summary, counts = results.get("models_summary"), results.get(LEVEL_COUNTS)
    if summary is None or counts is None or not policy.checked or not policy.threshold:
        return frozenset()
    out = set()
    for _, m in summary.iterrows():
        if m.get("outcome") != CSC_BY:
            continue
        mc = counts[counts["model"] == m["model"]]
        table = results.get(f"models_{m['model']}")
        only_term = table is not None and "term" in table and table["term"].nunique() == 1
        for term in dict.fromkeys(mc["term"]):
            rows = mc[mc["term"] == term]
            for (key, variable), (grid, ids, outcome) in grids.items():
                if variable != term or not outcome.primary.any():
                    continue
                if _reveals(grid, ids, outcome, rows, policy):
                    out.add((m["model"], term, only_term))
    return frozenset(out)


def _reveals(grid: Grid, ids: dict, outcome, rows: pd.DataFrame, policy: Policy) -> bool:
    """True when the model's per-level events and non-events, known exactly, let an integer program
    narrow a protected count of the variable's grid below the pass rule."""
    from copy import deepcopy

    from .cells import unprotected

    g = deepcopy(grid)
    hidden = list(outcome.hidden)
    single = ("complement", "") in ids
    for _, r in rows.iterrows():
        level = _text(r["level"])
        kind = ("complement", "") if bool(r["reference"]) and single else ("level", level)
        if kind not in ids and bool(r["reference"]) and not level:
            kind = ("level", "0")            # a Yes/No characteristic shown with both levels
        for group, value in (("1", int(r["events"])), ("0", int(r["non_events"]))):
            d = ids.get(kind, {}).get(group)
            if d is None or g.values[d] < value:
                return False             # not the same dyads as the table: no link to check
            model_cell = g.add(value, f"model | {group} | {level}", exact=True)
            left_out = g.add(g.values[d] - value, f"left out of the model | {group} | {level}", secret=True)
            g.equation([model_cell, left_out], d)
            hidden += [False, True]
    return bool(unprotected(g, np.array(hidden, dtype=bool), policy, list(np.flatnonzero(outcome.primary))))


# ---- the same count in two outputs ---------------------------------------------------------------------

FOLLOW_UP_STAGES = ("followed_up_1m", "followed_up_1y")
#: Where each headline count is also published: the flow (stage, group) or a characteristics variable.
HEADLINE_SOURCES = {"parent": ("flow", "cohort", "overall"), "dyads": ("flow", ANALYSED_STAGE, "overall"),
                    "csc_index": ("flow", ANALYSED_STAGE, "1"), "followed_1y": ("flow", "followed_up_1y", "overall"),
                    "csc_1y": ("variable", "csc_any_1y"), "not_in_care_1y": ("variable", "infant_not_in_care_1y"),
                    "cpp_1y": ("variable", "cpp_1y")}
CHARACTERISTICS = ("table1_sociodemographic", "table2_clinical", "table3_needs")
#: Describe-style tables of several populations, each a comparison (the column naming it).
PART_COLUMNS = {"table5_subgroups": "comparison"}


def _headline_consistent(tables: dict[str, pd.DataFrame], policy: Policy, log: list[Decision]) -> pd.DataFrame:
    """A headline count that another output suppresses is suppressed in the headline too."""
    t = tables["headline"].copy()
    marks = _Marks("headline", t.reset_index(drop=True), log)
    for i, measure in enumerate(t["measure"]):
        src = HEADLINE_SOURCES.get(measure)
        hidden = False
        if src and src[0] == "flow" and "flow" in tables:
            f = tables["flow"]
            hit = f[(f["stage"] == src[1]) & (f["group"].astype(str) == src[2])]
            hidden = bool(len(hit)) and hit["n"].astype(object).iloc[0] == MARKER
        elif src:
            for key in CHARACTERISTICS:
                c = tables.get(key)
                if c is None:
                    continue
                hit = c[(c["variable"] == src[1]) & (c["group"].astype(str) == "overall") & (c["row_type"] == "level")
                        & (c["level"].map(_text) == "1")]
                hidden = hidden or (bool(len(hit)) and MARKER in (hit["n"].astype(object).iloc[0],
                                                                   hit["denominator"].astype(object).iloc[0]))
        if hidden:
            marks.mark(i, ["n", "percent"], SECONDARY, t["label"].iat[i], "suppressed in another output")
    return marks.apply()


# ---- the registry of handlers ------------------------------------------------------------------------

Handler = Callable[[str, pd.DataFrame, Policy, list], pd.DataFrame]


def release(results: dict[str, pd.DataFrame], policy: Policy, links: dict | None = None,
            unions: dict | None = None) -> Release:
    """Every result table as it may be released under ``policy``, and the decisions taken. ``links``:
    derived variable -> (variable, level codes) where one is the sum of the other's levels (from the
    codebook's ``sum_of``), protected together; ``unions``: variable -> (its level code, member
    variables, their level code) where it counts dyads with any member's level (the codebook's
    ``any_of``), protected with them."""
    out = Release(policy=policy, tables={})
    if not policy.checked:
        out.tables = {key: table.copy() for key, table in results.items()}
        return out
    flow = _flow("flow", results["flow"], policy, out.decisions) if "flow" in results else None
    flow_na = {} if flow is None else {
        (s, str(g)): x == MARKER for s, g, x in zip(flow["stage"], flow["group"], flow["excluded"].astype(object))
        if s in FOLLOW_UP_STAGES}
    grids: dict = {}
    described = {key: _characteristics(key, results[key], policy, out.decisions, flow_na=flow_na, grids=grids,
                                       links=links, unions=unions, part_column=PART_COLUMNS.get(key))
                 for key in (*CHARACTERISTICS, *PART_COLUMNS) if key in results}
    models = _models(results, policy, out.decisions, _model_links(results, grids, policy))
    for key, table in results.items():
        if key.startswith("models_"):
            if key in models:
                out.tables[key] = models[key]
            continue
        if key == "flow":
            out.tables[key] = flow
            continue
        if key in described:
            out.tables[key] = described[key]
            continue
        handler = HANDLERS.get(key)
        if handler is None:
            raise KeyError(f"no disclosure rule for the result table {key!r}: add one in disclose/release.py")
        out.tables[key] = handler(key, table, policy, out.decisions)
    if "headline" in out.tables:
        out.tables["headline"] = _headline_consistent(out.tables, policy, out.decisions)
    if "table4_transitions" in out.tables and "table4_paired_tests" in out.tables:
        out.tables["table4_paired_tests"] = _marginal_test(out.tables, out.decisions)
    if policy.rounding:
        for key, table in out.tables.items():
            out.tables[key] = _round(key, table, policy, out.decisions)
    for key, table in out.tables.items():
        out.tables[key] = _printed_precision(_q_from_released(key, table, out.decisions))
    return out


def _q_from_released(key: str, t: pd.DataFrame, log: list[Decision]) -> pd.DataFrame:
    """q-values that no withheld p-value can be read from: within each family of tests (a table, or one
    comparison of the sub-group table) with a withheld p, every released q is recomputed with the
    withheld p-values counted as 1. That q is a function of released p-values only, and never below
    the q over every test (the withheld p-values can only have ranked lower)."""
    if "q" not in t or "p" not in t:
        return t
    from ..stats.compare import bh_qvalues

    t = t.copy()
    test_id = [c for c in ("comparison", "variable") if c in t] + (["group"] if key == "table4_needs_change" else [])
    families = t.groupby("comparison", sort=False).groups.values() if "comparison" in t else [t.index]
    for rows in families:
        tests = t.loc[rows].drop_duplicates(test_id)
        if not (tests["p"].astype(object) == MARKER).any():
            continue
        p = np.array([1.0 if v == MARKER else float(v) for v in tests["p"].astype(object)])
        q = dict(zip(map(tuple, tests[test_id].astype(str).to_numpy()), bh_qvalues(p)))
        t["q"] = t["q"].astype(object)
        for i in rows:
            if t.at[i, "p"] != MARKER and t.at[i, "q"] != MARKER and pd.notna(t.at[i, "q"]):
                t.at[i, "q"] = q[tuple(str(t.at[i, c]) for c in test_id)]
        family = str(t.at[rows[0], "comparison"]) if "comparison" in t else "all tests"
        log.append(Decision(key, family, "all groups", "q", ADJUSTED, RULE_TEXT[ADJUSTED]))
    return t


def _printed_precision(t: pd.DataFrame) -> pd.DataFrame:
    """Every statistic at the decimal places the documents print (``PRINTED_DP``): a full-precision mean
    beside a suppressed count, or a test statistic beside its p-value, could pin the count down."""
    t = t.copy()
    for c, dp in PRINTED_DP.items():
        if c not in t:
            continue
        if pd.api.types.is_float_dtype(t[c]):
            t[c] = t[c].round(dp)
        elif t[c].dtype == object:
            t[c] = t[c].map(lambda v: round(float(v), dp) if isinstance(v, (float, np.floating)) and not np.isnan(v) else v)
    return t


def _round(key: str, t: pd.DataFrame, policy: Policy, log: list[Decision]) -> pd.DataFrame:
    """Every published count rounded to the policy's multiple; percentages from the rounded counts."""
    t = t.copy()
    done = []
    for c in COUNT_FIELDS:
        if c not in t:
            continue
        vals = t[c]
        ok = vals.map(lambda v: not isinstance(v, str) and pd.notna(v))
        if ok.any():
            t[c] = vals.astype(object)
            t.loc[ok, c] = [rounded(int(v), policy) for v in vals[ok]]
            done.append(c)
    for pct, num, den in PERCENT_OF:
        if pct in t and num in t and den in t:
            for i in range(len(t)):
                a, b, p = t[num].iat[i], t[den].iat[i], t[pct].iat[i]
                if isinstance(p, str) or pd.isna(p) or isinstance(a, str) or isinstance(b, str) or pd.isna(a) or pd.isna(b):
                    continue
                t.iloc[i, t.columns.get_loc(pct)] = 100 * a / b if b else np.nan
            break
    if done:
        log.append(Decision(key, "all", "all", ", ".join(done), ROUNDED, RULE_TEXT[ROUNDED]))
    return t


HANDLERS: dict[str, Handler] = {
    "recodes": lambda k, t, p, log: t.copy(),          # which categories were combined: labels, no counts
    "table1_sociodemographic": _characteristics,
    "table2_clinical": _characteristics,
    "table3_needs": _characteristics,
    "flow": _flow,
    "headline": _headline,
    "table4_transitions": _transitions,
    "table4_paired_tests": _paired_tests,
    "table4_needs_change": _needs_change,
    "table5_subgroups": lambda k, t, p, log: _characteristics(k, t, p, log, part_column=PART_COLUMNS[k]),
}
