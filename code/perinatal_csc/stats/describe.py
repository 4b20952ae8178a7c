"""The summary layer: tidy long tables of characteristics by group, with tests and SMDs.

Composable in the spirit of gtsummary::

    s = summarise(df, ["maternal_age", "ethnicity"], by="csc_any_index", codebook=cb)
    table = s.add_overall().add_p().add_smd().add_q().table

Every table is long: one row per variable x level x group, columns ``COLUMNS``. Categorical
variables give one row per level (empty levels included, n = 0) plus a "Not known" row whenever any
value is missing; binary variables (and CAN-M domains) are shown dichotomously (one level). Numeric
variables give one row with mean and SD or median and quartiles (numpy "linear" = R type 7), as
the codebook's ``summary`` says, plus a "Not known" row when any value is missing. Variables
observed only at follow-up (column ``requires``: the follow-up flag) are summarised among the dyads
followed up; the others are counted in ``n_not_applicable``. Test, statistic, p, q and SMD are per variable and repeated on
each of its rows.

``results(cohort, config)`` builds every descriptive table of the manuscript.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import compare
from ..data.codebook import Codebook, Variable, load_codebook
from ..config import Config

COLUMNS = [
    "section", "variable", "label", "unit", "summary", "row_type", "level", "level_label",
    "group", "group_label", "group_n", "n", "denominator", "percent", "mean", "sd", "median", "q1", "q3",
    "n_missing", "n_not_applicable", "requires", "statistic", "df", "test", "p", "q", "smd", "short_label", "definition",
]
OVERALL = "overall"
OVERALL_LABEL = "Overall"
NOT_KNOWN = "not_known"
NOT_KNOWN_LABEL = "Not known"
QUANTILE_METHOD = "linear"

CSC_GROUPS = {1: "With CSC involvement", 0: "Without CSC involvement"}
CSC_BY = "csc_any_index"
CANM_UNMET = 2
CANM_NOT_KNOWN = "canm_1y_not_known"


def _as_codes(s: pd.Series, var: Variable) -> np.ndarray:
    """Position of each value among the variable's codes (-1 = missing); unknown values raise."""
    codes = var.codes
    if isinstance(s.dtype, pd.CategoricalDtype) and list(s.cat.categories) == codes:
        idx = s.cat.codes.to_numpy(dtype=np.int64)
    else:
        idx = pd.Index(codes).get_indexer(pd.Index(s.to_numpy(dtype=object, na_value=None))).astype(np.int64)
    n_bad = int((idx < 0).sum() - s.isna().sum())
    if n_bad:
        bad = sorted(map(str, pd.unique(s[(idx < 0) & s.notna().to_numpy()])))[:5]
        raise ValueError(f"{var.name}: {n_bad} value(s) not among the codebook's codes {codes}: {bad}")
    return idx


def requirement(var: Variable, cb: Codebook | None = None) -> str | None:
    """The follow-up flag a variable needs: its own ``requires``, or, for a derived variable, the one
    flag all its inputs share (None when there is none)."""
    if var.requires or cb is None or not var.inputs:
        return var.requires
    flags = {cb[i].requires for i in var.inputs if i in cb}
    return flags.pop() if len(flags) == 1 and None not in flags else None


def _eligible(df: pd.DataFrame, var: Variable, cb: Codebook | None = None) -> np.ndarray:
    """Dyads for whom the variable is observable (its follow-up flag is 1); all when it has none.
    The flag is a required column: a missing one is an error."""
    flag = requirement(var, cb)
    if not flag:
        return np.ones(len(df), dtype=bool)
    if flag not in df:
        raise KeyError(f"{var.name} needs the follow-up flag {flag!r}, which is not in the data")
    ok = (df[flag] == 1).fillna(False).to_numpy(dtype=bool)
    stray = ~ok & df[var.name].notna().to_numpy()
    if stray.any():
        raise ValueError(f"{var.name}: {int(stray.sum())} value(s) recorded where {flag} is not 1")
    return ok


@dataclass(frozen=True)
class _Var:
    name: str
    kind: str                      # "categorical" or "numeric"
    show: tuple[int, ...]          # level positions shown (categorical)
    counts: np.ndarray | None      # groups(+overall) x levels, non-missing values
    missing: np.ndarray            # per group(+overall): missing among eligible
    not_applicable: np.ndarray     # per group(+overall): not eligible
    test_counts: np.ndarray | None  # groups x test-levels, for tests and SMD


@dataclass(frozen=True)
class Summary:
    """A tidy summary table plus what is needed to extend it (overall column, tests, SMD, q-values)."""

    data: pd.DataFrame
    variables: tuple[str, ...]
    codebook: Codebook
    by: str | None
    group_codes: tuple[Any, ...]
    group_labels: tuple[str, ...]
    group_index: np.ndarray
    dichotomous: Mapping[str, Any]
    sections: Mapping[str, str]
    table: pd.DataFrame
    has_overall: bool = False
    seed: int = compare.MC_SEED
    n_resamples: int = compare.MC_RESAMPLES
    _vars: Mapping[str, _Var] = field(default_factory=dict, repr=False)

    # ---- building ---------------------------------------------------------------------------
    def add_overall(self) -> "Summary":
        """The same rows for all dyads of the table's population, as group ``overall``."""
        if self.has_overall or self.by is None:
            return self
        rows = _rows(self, overall=True)
        table = pd.concat([self.table, rows], ignore_index=True)
        return replace(self, table=_order(table, self), has_overall=True)

    def add_p(self) -> "Summary":
        """Two-sided test per variable between the groups, by the rules in ``compare``."""
        if self.by is None:
            return self
        tests = {}
        for name in self.variables:
            v = self._vars[name]
            if v.kind == "categorical":
                tests[name] = compare.contingency_test(v.test_counts, n_resamples=self.n_resamples, seed=self.seed)
            else:
                tests[name] = _numeric_test(self, name)
        stat = pd.DataFrame({"variable": list(tests),
                             "statistic": [t.statistic for t in tests.values()],
                             "df": [t.df for t in tests.values()],
                             "test": [t.test for t in tests.values()],
                             "p": [t.p for t in tests.values()]})
        return replace(self, table=_merge(self.table, stat))

    def add_smd(self) -> "Summary":
        """Absolute standardised difference per variable between the two groups."""
        if self.by is None or len(self.group_codes) != 2:
            return self
        smd = {}
        for name in self.variables:
            v = self._vars[name]
            if v.kind == "categorical":
                smd[name] = compare.smd_categorical(v.test_counts[0], v.test_counts[1])
            else:
                rows = self.table[(self.table.variable == name) & (self.table.row_type == "summary")
                                  & (self.table.group != OVERALL)].set_index("group")
                g1, g2 = (str(c) for c in self.group_codes)
                smd[name] = compare.smd_continuous(rows.at[g1, "mean"], rows.at[g1, "sd"],
                                                   rows.at[g2, "mean"], rows.at[g2, "sd"])
        return replace(self, table=_merge(self.table, pd.DataFrame({"variable": list(smd), "smd": list(smd.values())})))

    def add_q(self) -> "Summary":
        """Benjamini–Hochberg q-values over this table's variables (needs ``add_p`` first)."""
        per_var = self.table.drop_duplicates("variable")[["variable", "p"]]
        q = compare.bh_qvalues(per_var["p"].to_numpy(dtype=float))
        return replace(self, table=_merge(self.table, pd.DataFrame({"variable": per_var["variable"], "q": q})))


def _merge(table: pd.DataFrame, per_var: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in per_var.columns if c != "variable"]
    mapped = table[["variable"]].merge(per_var, on="variable", how="left")
    out = table.copy()
    for c in cols:
        out[c] = mapped[c].to_numpy()
    return out[COLUMNS]


def _numeric_test(s: Summary, name: str) -> compare.TestResult:
    if len(s.group_codes) != 2:
        raise ValueError(f"{name}: numeric comparisons need exactly two groups, not {len(s.group_codes)}")
    x = s.data[name].to_numpy(dtype=float, na_value=np.nan)
    a, b = x[s.group_index == 0], x[s.group_index == 1]
    if s.codebook[name].summary == "mean_sd":
        return compare.welch_t(a, b)
    return compare.mann_whitney(a, b)


def summarise(df: pd.DataFrame, variables: Sequence[str], *, by: str | None = None, codebook: Codebook | None = None,
              group_order: Sequence[Any] | None = None, group_labels: Mapping[Any, str] | None = None,
              dichotomous: Mapping[str, Any] | None = None, sections: Mapping[str, str] | None = None,
              seed: int = compare.MC_SEED, n_resamples: int = compare.MC_RESAMPLES) -> Summary:
    """Summary of ``variables`` by the groups of ``by`` (dyads with ``by`` missing are left out).

    Binary variables are shown dichotomously (level 1) unless ``dichotomous`` names another level;
    ``group_order`` fixes the column order (default: the codebook's level order)."""
    cb = codebook or load_codebook()
    missing_cols = [v for v in [*variables, *([by] if by else [])] if v not in df.columns]
    if missing_cols:
        raise KeyError(f"not in the data: {missing_cols}")
    dich = {v: 1 for v in variables if cb[v].type == "binary"}
    dich.update(dichotomous or {})
    if by is None:
        data = df
        gidx = np.zeros(len(df), dtype=np.int64)
        codes_, labels_ = (OVERALL,), (OVERALL_LABEL,)
    else:
        bvar = cb[by]
        order = list(group_order) if group_order is not None else bvar.codes
        pos = _as_codes(df[by], bvar)
        keep = pos >= 0
        data = df.loc[keep]
        remap = np.full(len(bvar.codes), -1, dtype=np.int64)
        for i, c in enumerate(order):
            remap[bvar.codes.index(c)] = i
        gidx = remap[pos[keep]]
        if (gidx < 0).any():
            raise ValueError(f"{by}: group_order {order} leaves out observed levels")
        codes_ = tuple(order)
        labels = dict(group_labels or {})
        labels_ = tuple(labels.get(c, bvar.level_label(c)) for c in order)
    s = Summary(data=data, variables=tuple(variables), codebook=cb, by=by, group_codes=codes_, group_labels=labels_,
                group_index=gidx, dichotomous=dich, sections=dict(sections or {}), table=pd.DataFrame(columns=COLUMNS),
                seed=seed, n_resamples=n_resamples)
    s = replace(s, _vars={v: _prepare(s, v) for v in variables})
    return replace(s, table=_order(_rows(s, overall=False), s))


def _prepare(s: Summary, name: str) -> _Var:
    var = s.codebook[name]
    n_groups = len(s.group_codes)
    g = s.group_index
    elig = _eligible(s.data, var, s.codebook)
    na = s.data[name].isna().to_numpy()
    missing = np.bincount(g[na & elig], minlength=n_groups)
    not_app = np.bincount(g[~elig], minlength=n_groups)
    missing, not_app = np.append(missing, missing.sum()), np.append(not_app, not_app.sum())
    if var.type in ("categorical", "binary"):
        idx = _as_codes(s.data[name], var)
        k = len(var.codes)
        ok = idx >= 0
        counts = np.bincount(g[ok] * k + idx[ok], minlength=n_groups * k).reshape(n_groups, k)
        counts = np.vstack([counts, counts.sum(axis=0)])
        if name in s.dichotomous:
            j = var.codes.index(s.dichotomous[name])
            test_counts = np.column_stack([counts[:n_groups, j], counts[:n_groups].sum(axis=1) - counts[:n_groups, j]])
            show = (j,)
        else:
            test_counts, show = counts[:n_groups], tuple(range(k))
        return _Var(name, "categorical", show, counts, missing, not_app, test_counts)
    return _Var(name, "numeric", (), None, missing, not_app, None)


def _rows(s: Summary, *, overall: bool) -> pd.DataFrame:
    """Rows of every variable for the groups (or, with ``overall``, for all dyads), built from numpy
    arrays in one go: the cost grows with variables x groups, not with rows of data."""
    n_groups = len(s.group_codes)
    if overall:
        gi = np.array([n_groups])
        gkeys, glabels = np.array([OVERALL], dtype=object), np.array([OVERALL_LABEL], dtype=object)
        gsizes = np.array([len(s.data)])
    else:
        gi = np.arange(n_groups)
        gkeys = np.array([str(c) for c in s.group_codes], dtype=object)
        glabels = np.array(s.group_labels, dtype=object)
        gsizes = np.bincount(s.group_index, minlength=n_groups)
    acc: dict[str, list] = {c: [] for c in COLUMNS}
    for name in s.variables:
        v = s._vars[name]
        var = s.codebook[name]
        if v.kind == "categorical":
            lv = np.array(v.show)
            counts = v.counts[gi]
            n = counts[:, lv]
            block = {"row_type": "level", "level": np.array([str(var.codes[j]) for j in lv], dtype=object),
                     "level_label": np.array([var.levels[j].label for j in lv], dtype=object)}
            denom = counts.sum(axis=1)
            _emit(acc, s, name, len(lv), gkeys, glabels, gsizes, v.missing[gi], v.not_applicable[gi], block,
                  n=n.T.ravel(), denominator=np.tile(denom, len(lv)),
                  percent=100.0 * n.T.ravel() / np.where(np.tile(denom, len(lv)) > 0, np.tile(denom, len(lv)), np.nan))
        else:
            x = s.data[name].to_numpy(dtype=float, na_value=np.nan)
            masks = [np.ones(len(x), dtype=bool)] if overall else [s.group_index == g for g in range(n_groups)]
            st = np.array([_numeric_stats(x[m]) for m in masks])
            _emit(acc, s, name, 1, gkeys, glabels, gsizes, v.missing[gi], v.not_applicable[gi],
                  {"row_type": "summary", "level": np.array([""], dtype=object), "level_label": np.array([""], dtype=object)},
                  n=st[:, 0].astype(np.int64), denominator=np.full(len(masks), np.nan), percent=np.full(len(masks), np.nan),
                  mean=st[:, 1], sd=st[:, 2], median=st[:, 3], q1=st[:, 4], q3=st[:, 5])
        if v.missing.sum() > 0:
            _emit(acc, s, name, 1, gkeys, glabels, gsizes, v.missing[gi], v.not_applicable[gi],
                  {"row_type": NOT_KNOWN, "level": np.array([NOT_KNOWN], dtype=object),
                   "level_label": np.array([NOT_KNOWN_LABEL], dtype=object)},
                  n=v.missing[gi], denominator=np.full(len(gi), np.nan), percent=np.full(len(gi), np.nan))
    return pd.DataFrame({c: np.concatenate(acc[c]) if acc[c] else [] for c in COLUMNS})


def _numeric_stats(x: np.ndarray) -> tuple[float, ...]:
    """n, mean, SD (n - 1), median, first and third quartile (linear interpolation, R type 7)."""
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return (0, np.nan, np.nan, np.nan, np.nan, np.nan)
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75], method=QUANTILE_METHOD)
    return (len(x), x.mean(), x.std(ddof=1) if len(x) > 1 else np.nan, med, q1, q3)


def _emit(acc: dict, s: Summary, name: str, n_levels: int, gkeys, glabels, gsizes, missing, not_applicable,
          block: dict, **values) -> None:
    """Append one block of rows (levels x groups, level-major) to the column accumulator."""
    n_g = len(gkeys)
    size = n_levels * n_g
    base = _base(s, name)
    for c in COLUMNS:
        if c in values:
            acc[c].append(np.asarray(values[c]))
        elif c in base:
            acc[c].append(np.full(size, base[c], dtype=object))
        elif c in ("level", "level_label"):
            acc[c].append(np.repeat(block[c], n_g))
        elif c == "row_type":
            acc[c].append(np.full(size, block[c], dtype=object))
        elif c == "group":
            acc[c].append(np.tile(gkeys, n_levels))
        elif c == "group_label":
            acc[c].append(np.tile(glabels, n_levels))
        elif c == "group_n":
            acc[c].append(np.tile(gsizes, n_levels))
        elif c == "n_missing":
            acc[c].append(np.tile(missing, n_levels))
        elif c == "n_not_applicable":
            acc[c].append(np.tile(not_applicable, n_levels))
        elif c == "test":
            acc[c].append(np.full(size, None, dtype=object))
        else:
            acc[c].append(np.full(size, np.nan))


def _base(s: Summary, name: str) -> dict:
    var = s.codebook[name]
    return {"section": s.sections.get(name, ""), "variable": name, "label": var.label, "unit": var.unit or "",
            "summary": var.summary or "", "requires": requirement(var, s.codebook) or "",
            "short_label": var.table_label, "definition": var.definition or ""}


def _order(table: pd.DataFrame, s: Summary) -> pd.DataFrame:
    """Variables in the given order, levels in codebook order then "Not known", groups then overall."""
    var_rank = {v: i for i, v in enumerate(s.variables)}
    group_rank = {str(c): i for i, c in enumerate(s.group_codes)} | {OVERALL: len(s.group_codes)}
    level_rank = {(v, str(c)): i for v in s.variables for i, c in enumerate(s.codebook[v].codes)}
    level_rank |= {(v, NOT_KNOWN): 10_000 for v in s.variables} | {(v, ""): -1 for v in s.variables}
    keys = pd.MultiIndex.from_arrays([table["variable"], table["level"]])
    t = table.assign(_v=table["variable"].map(var_rank).to_numpy(),
                     _l=pd.Series(level_rank).reindex(keys).to_numpy(),
                     _g=table["group"].map(group_rank).to_numpy())
    t = t.sort_values(["_v", "_l", "_g"], kind="stable").drop(columns=["_v", "_l", "_g"]).reset_index(drop=True)
    for c in ("n", "denominator", "n_missing", "n_not_applicable", "group_n"):
        t[c] = pd.array(t[c].to_numpy(dtype=float), dtype="Int64")
    for c in ("percent", "mean", "sd", "median", "q1", "q3", "statistic", "df", "p", "q", "smd"):
        t[c] = t[c].to_numpy(dtype=float)
    for c in ("section", "variable", "label", "unit", "summary", "requires", "row_type", "level", "level_label", "group",
              "group_label", "test", "short_label", "definition"):
        t[c] = t[c].astype(object)
    return t[COLUMNS]


# ---- the manuscript's tables ---------------------------------------------------------------------

SECTION_LABELS = {
    "sociodemographic": "Sociodemographic", "clinical": "Clinical", "needs": "Needs and satisfaction",
    "service_use": "Service use over the year after discharge", "followup": "After discharge",
    "canm_domain": "Unmet need at one year, by CAN-M domain",
}
TABLE3_EXTRA = ("readmitted_1y",)
SUBGROUPS = {"infant_not_in_care_1y": "Infant not in mother's care at one year",
             "cpp_1y": "Child Protection Plan at one year"}
SUBGROUP_OTHER = "Other dyads with CSC involvement"
SUBGROUP_VARIABLES = ("maternal_age", "relationship", "deprived", "diagnosis", "prev_psych_admission",
                      "mha_detention", "substance_misuse", "childhood_trauma", "domestic_abuse", "service_type",
                      "readmitted_1y", "canm_1y_unmet", "csq8_total")
PAIRS_STATUS = ("csc_status_index", "csc_status_1y")
PAIRS_ANY = ("csc_any_index", "csc_any_1y")
PAIRS_NEEDS = (("canm_1m_unmet", "canm_1y_unmet", "CAN-M unmet needs"), ("canm_1m_met", "canm_1y_met", "CAN-M met needs"))


def _present(df: pd.DataFrame, names) -> list[str]:
    return [n for n in names if n in df.columns]


def _by_csc(df: pd.DataFrame, variables: Sequence[str], cb: Codebook, *, q: bool = False,
            dichotomous: Mapping[str, Any] | None = None, sections: Mapping[str, str] | None = None,
            seed: int = compare.MC_SEED) -> pd.DataFrame:
    s = summarise(df, variables, by=CSC_BY, codebook=cb, group_order=list(CSC_GROUPS), group_labels=CSC_GROUPS,
                  dichotomous=dichotomous, sections=sections, seed=seed).add_overall().add_p().add_smd()
    return (s.add_q() if q else s).table


def table1_sociodemographic(df: pd.DataFrame, cb: Codebook, seed: int = compare.MC_SEED) -> pd.DataFrame:
    """Sociodemographic characteristics by CSC involvement during the episode (with / without / overall)."""
    names = _present(df, ["nation", *[v.name for v in cb.select(group="sociodemographic")]])
    return _by_csc(df, names, cb, seed=seed)


def table2_clinical(df: pd.DataFrame, cb: Codebook, seed: int = compare.MC_SEED) -> pd.DataFrame:
    """Clinical characteristics at the index episode by CSC involvement during the episode."""
    names = _present(df, [v.name for v in cb.select(group="clinical")])
    return _by_csc(df, names, cb, seed=seed)


def table3_needs(df: pd.DataFrame, cb: Codebook, seed: int = compare.MC_SEED) -> pd.DataFrame:
    """Needs, satisfaction, service use and readmission after discharge, and unmet need by CAN-M domain
    at one year (each domain: unmet need vs no or met need), by CSC involvement during the episode.
    The needs include the number of one-year CAN-M domains not known (rated 9), which the totals leave out."""
    needs = [v.name for v in cb.select(group="needs")]
    service = [*TABLE3_EXTRA, *[v.name for v in cb.select(group="service_use")]]
    domains = [v.name for v in cb.select(group="canm_domain", timepoint="1y")]
    sections = ({n: SECTION_LABELS["needs"] for n in needs} | {n: SECTION_LABELS["service_use"] for n in service}
                | {n: SECTION_LABELS["canm_domain"] for n in domains})
    ordered = domain_rows(df, cb)
    sections |= {n: SECTION_LABELS["canm_domain"] for n in ordered}
    names = _present(df, [*needs, *service, *ordered])
    return _by_csc(df, names, cb, q=True, dichotomous={d: CANM_UNMET for d in domains}, sections=sections, seed=seed)


def domain_rows(df: pd.DataFrame, cb: Codebook) -> list[str]:
    """The one-year CAN-M domains in table order: each declared group of domains (``any_of``, group
    ``canm_domain_group``) before its domains, then the domains in no group."""
    domains = [v.name for v in cb.select(group="canm_domain", timepoint="1y")]
    out: list[str] = []
    for g in cb.select(group="canm_domain_group", timepoint="1y"):
        if g.name in df:
            out += [g.name, *[d for d in domains if d in g.inputs and d not in out]]
    return out + [d for d in domains if d not in out]


def csc_involved(df: pd.DataFrame) -> pd.Series:
    """Dyads with CSC involvement during the episode or at one year (the population of table 5)."""
    return ((df[PAIRS_ANY[0]] == 1).fillna(False) | (df[PAIRS_ANY[1]] == 1).fillna(False)).astype(bool)


def subgroup_population(df: pd.DataFrame, sub: str | None = None) -> pd.Series:
    """The dyads of a sub-group comparison (``sub``; else of either): every dyad in the sub-group, with
    or without CSC involvement (an infant may live away from the mother by a family arrangement), and
    the other dyads with CSC involvement during the episode or at one year. So the sub-group's size is
    the count the abstract gives, and no count hides in the difference."""
    pop = csc_involved(df)
    for s in [sub] if sub else list(SUBGROUPS):
        if s in df:
            pop |= (df[s] == 1).fillna(False).astype(bool)
    return pop


def table5_subgroups(df: pd.DataFrame, cb: Codebook, seed: int = compare.MC_SEED,
                     combined: tuple[pd.DataFrame, Codebook] | None = None) -> pd.DataFrame:
    """Each sub-group with the most serious involvement against the other CSC-involved dyads.

    Among the dyads of each comparison (``subgroup_population``) whose sub-group status is known;
    q-values adjust over the tests of each comparison; column ``comparison`` names the sub-group
    variable, ``n_involved`` counts the comparison's dyads and ``n_status_unknown`` those of them left out
    because their sub-group status is not known. ``combined``: the dyads of either comparison and the
    codebook with the sub-group comparisons' own combinations (``recode.combine_for_comparisons``), else
    ``df``'s."""
    data, codebook = combined if combined is not None else (df.loc[subgroup_population(df).to_numpy()], cb)
    names = _present(df, SUBGROUP_VARIABLES)
    parts = []
    for sub, label in SUBGROUPS.items():
        population = df.loc[subgroup_population(df, sub).to_numpy()]
        rows = data.loc[data.index.isin(population.index)]
        s = summarise(rows, names, by=sub, codebook=codebook, group_order=[1, 0],
                      group_labels={1: label, 0: SUBGROUP_OTHER}, seed=seed).add_overall().add_p().add_smd().add_q()
        parts.append(s.table.assign(comparison=sub, comparison_label=label, n_involved=len(population),
                                    n_status_unknown=int(population[sub].isna().sum())))
    return pd.concat(parts, ignore_index=True)


def _square(df: pd.DataFrame, cb: Codebook, a: str, b: str) -> tuple[np.ndarray, int]:
    """Counts of ``a`` (rows, codebook order) by ``b`` (columns) among dyads with both known, and their number."""
    ia, ib = _as_codes(df[a], cb[a]), _as_codes(df[b], cb[b])
    ok = (ia >= 0) & (ib >= 0)
    k, m = len(cb[a].codes), len(cb[b].codes)
    return np.bincount(ia[ok] * m + ib[ok], minlength=k * m).reshape(k, m), int(ok.sum())


def transitions(df: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """CSC status during the episode (``level``) by CSC status at one year (``group``), among dyads
    followed up with both known: counts, row totals (``denominator``) and row percentages; rows with
    ``row_type`` "total" hold the one-year column totals."""
    a, b = PAIRS_STATUS
    va, vb = cb[a], cb[b]
    counts, n_pairs = _square(df, cb, a, b)
    k, m = counts.shape
    full = np.vstack([counts, counts.sum(axis=0)])
    row_codes = [str(c) for c in va.codes] + ["total"]
    row_labels = [lv.label for lv in va.levels] + ["Total"]
    denom = full.sum(axis=1)
    out = pd.DataFrame({
        "variable": a, "label": va.label, "row_type": np.repeat(["level"] * k + ["total"], m),
        "level": np.repeat(row_codes, m), "level_label": np.repeat(row_labels, m),
        "group": np.tile([str(c) for c in vb.codes], k + 1), "group_label": np.tile([lv.label for lv in vb.levels], k + 1),
        "group_variable": b, "n": full.ravel(), "denominator": np.repeat(denom, m),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        out["percent"] = 100.0 * out["n"] / out["denominator"].where(out["denominator"] > 0)
    out["n_pairs"] = n_pairs
    return out


def _test_columns(out: pd.DataFrame, res: Sequence[compare.TestResult]) -> pd.DataFrame:
    out["n_pairs"] = [r.n for r in res]
    out["statistic"] = [r.statistic for r in res]
    out["df"] = [r.df for r in res]
    out["test"] = [r.test for r in res]
    out["p"] = [r.p for r in res]
    out["note"] = [r.note for r in res]
    return out


def paired_tests(df: pd.DataFrame, cb: Codebook, change: pd.DataFrame | None = None) -> pd.DataFrame:
    """Between-timepoint tests on the dyads observed at both: exact McNemar (any CSC involvement),
    Stuart–Maxwell (CSC status), and the Wilcoxon signed-rank tests of ``needs_change`` (CAN-M needs,
    one month to one year, by group; computed there, passed as ``change`` or computed once here)."""
    rows = []
    a, b = PAIRS_ANY
    t = compare.mcnemar_exact(df[a].to_numpy(dtype=float, na_value=np.nan), df[b].to_numpy(dtype=float, na_value=np.nan))
    rows.append({"variable": "csc_any", "label": "Any CSC involvement: during the episode vs one year",
                 "from_variable": a, "to_variable": b, "group": OVERALL, "group_label": OVERALL_LABEL, "result": t})
    sa, sb = PAIRS_STATUS
    rows.append({"variable": "csc_status", "label": "CSC status: during the episode vs one year",
                 "from_variable": sa, "to_variable": sb, "group": OVERALL, "group_label": OVERALL_LABEL,
                 "result": compare.stuart_maxwell(_square(df, cb, sa, sb)[0])})
    out = pd.DataFrame(rows)
    out = _test_columns(out, out.pop("result").tolist())
    change = needs_change(df, cb) if change is None else change
    wil = change[change["level"] == "change"].assign(
        label=lambda d: d["label"] + ": one month vs one year", n_pairs=lambda d: d["n"])
    return pd.concat([out, wil[out.columns]], ignore_index=True)


def _csc_group_masks(df: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    g = df[CSC_BY]
    known = g.notna().to_numpy()
    return [*[(str(c), lab, (g == c).fillna(False).to_numpy(dtype=bool)) for c, lab in CSC_GROUPS.items()],
            (OVERALL, OVERALL_LABEL, known)]


def all_domains_rated_1y(df: pd.DataFrame) -> np.ndarray:
    """Dyads with every one-year CAN-M domain rated (none 'not known'); ``CANM_NOT_KNOWN`` is required."""
    if CANM_NOT_KNOWN not in df:
        raise KeyError(f"{CANM_NOT_KNOWN!r} is not in the data; it is needed to restrict the one-year CAN-M totals")
    return (df[CANM_NOT_KNOWN] == 0).fillna(False).to_numpy(dtype=bool)


NEEDS_CHANGE_COLUMNS = ["variable", "label", "level", "level_label", "group", "group_label", "from_variable",
                        "to_variable", "n", "n_domain_not_known", "mean", "sd", "median", "q1", "q3",
                        "statistic", "df", "test", "p", "note", "q"]


def needs_change(df: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """CAN-M needs at one month, at one year and their change, by CSC group, among dyads with both totals
    and every one-year domain rated: n pairs, mean (SD), median [quartiles] and the Wilcoxon signed-rank
    test of one year minus one month (V: sum of the ranks of the positive differences), with its
    Benjamini–Hochberg q-value over the table's tests (one per measure and group).
    ``n_domain_not_known``: dyads with both totals left out because a one-year domain was not known."""
    parts = []
    pairs = [p for p in PAIRS_NEEDS if p[0] in df and p[1] in df]
    rated = all_domains_rated_1y(df) if pairs else np.ones(len(df), dtype=bool)
    for before, after, label in pairs:
        x, y = df[before].astype("float64"), df[after].astype("float64")
        both = (x.notna() & y.notna()).to_numpy()
        for key, glabel, mask in _csc_group_masks(df):
            m = both & mask & rated
            vals = pd.DataFrame({"1m": x[m], "1y": y[m], "change": y[m] - x[m]})
            q = vals.quantile([0.25, 0.75], interpolation=QUANTILE_METHOD)
            test = compare.wilcoxon_signed_rank(x[m].to_numpy(), y[m].to_numpy())
            parts.append(pd.DataFrame({
                "variable": before.replace("_1m", ""), "label": label, "level": ["1m", "1y", "change"],
                "level_label": ["One month", "One year", "Change (one year minus one month)"],
                "group": key, "group_label": glabel, "from_variable": before, "to_variable": after,
                "n": int(m.sum()), "n_domain_not_known": int((both & mask & ~rated).sum()),
                "mean": vals.mean().to_numpy(), "sd": vals.std(ddof=1).to_numpy(), "median": vals.median().to_numpy(),
                "q1": q.loc[0.25].to_numpy(), "q3": q.loc[0.75].to_numpy(),
                "statistic": test.statistic, "df": test.df, "test": test.test, "p": test.p, "note": test.note}))
    if not parts:
        return pd.DataFrame(columns=NEEDS_CHANGE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    tests = out.drop_duplicates(["variable", "group"])[["variable", "group", "p"]]
    tests = tests.assign(q=compare.bh_qvalues(tests["p"].to_numpy(dtype=float))).drop(columns="p")
    return out.merge(tests, on=["variable", "group"], how="left")[NEEDS_CHANGE_COLUMNS]


def results(cohort: pd.DataFrame, config: Config, codebook: Codebook | None = None,
            subgroups: tuple[pd.DataFrame, Codebook] | None = None,
            parent: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every descriptive table of the manuscript, by stable name (written to CSV by ``analyse``).
    Monte Carlo p-values use ``compare.MC_RESAMPLES`` and ``compare.MC_SEED``, as the Methods state.
    ``codebook``: the codebook with combined categories (``recode.combine_sparse``), else the configured one.
    ``subgroups``: the sub-group comparisons' data and codebook with their own combinations.
    ``parent``: the parent cohort of the analysed dyads, which the flow starts from (else ``cohort``)."""
    from .flow import headline_counts, participant_flow

    cb = codebook or load_codebook(config.codebook_path)
    cohort = cohort.copy(deep=False)
    cohort.attrs = {}       # pandas deep-copies attrs (the loader's n x k flags) on every derived frame
    change = needs_change(cohort, cb)
    return {
        "table1_sociodemographic": table1_sociodemographic(cohort, cb),
        "table2_clinical": table2_clinical(cohort, cb),
        "table3_needs": table3_needs(cohort, cb),
        "table4_transitions": transitions(cohort, cb),
        "table4_paired_tests": paired_tests(cohort, cb, change),
        "table4_needs_change": change,
        "table5_subgroups": table5_subgroups(cohort, cb, combined=subgroups),
        "flow": participant_flow(cohort if parent is None else parent),
        "headline": headline_counts(cohort, parent, config.organisations),
    }
