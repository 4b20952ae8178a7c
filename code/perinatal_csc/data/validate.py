"""Checks of a raw export against the codebook: every problem found at once, nothing coerced.

The loader hands each file's mapped columns here as text (blank = missing). ``parse_columns``
turns them into codebook dtypes and lists every value that is of the wrong type, not a codebook
code, or out of range; ``check_ids`` and ``check_consistency`` add the row-level and
cross-variable rules. All checks are vectorised (whole columns, or their distinct values).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .codebook import Codebook, Variable
from ..errors import UserError

# Report order of problem kinds; each kind's lines are capped in the message, never in .problems counts.
KINDS = (
    "no such file", "unreadable file", "mapping", "direct identifier", "missing column", "unexpected column",
    "duplicate column", "empty column", "blank ID", "duplicate ID", "repeat episode", "ID not in every file",
    "wrong type", "unknown code", "out of range", "inconsistent",
)
LINES_PER_KIND = 20
STORED_PER_GROUP = 1000
MAX_VALUE_CHARS = 40

# Column headers that name a direct identifier (matched on the header's lower-case word tokens).
_IDENTIFIER_TOKENS = {
    "nhs": "NHS number", "nhsno": "NHS number", "nhsnumber": "NHS number", "chi": "CHI number",
    "postcode": "postcode", "postcodes": "postcode", "zip": "postcode", "zipcode": "postcode",
    "address": "address", "street": "address",
    "dob": "date of birth", "birthdate": "date of birth", "birthday": "date of birth",
    "name": "name", "names": "name", "surname": "name", "forename": "name", "forenames": "name",
    "firstname": "name", "lastname": "name", "fullname": "name", "initials": "name",
    "email": "contact details", "phone": "contact details", "telephone": "contact details",
    "mobile": "contact details",
    "comment": "free text", "comments": "free text", "note": "free text", "notes": "free text",
    "freetext": "free text", "remarks": "free text", "narrative": "free text", "description": "free text",
    "mrn": "hospital number",
}
_IDENTIFIER_PAIRS = {("date", "birth"): "date of birth", ("birth", "date"): "date of birth",
                     ("free", "text"): "free text", ("post", "code"): "postcode",
                     ("hospital", "number"): "hospital number", ("nhs", "no"): "NHS number"}

_NHS_RE = r"\d{3}[ -]?\d{3}[ -]?\d{4}"
_POSTCODE_RE = r"(?i:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})"
_DATE_RE = (r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"
            r"|\d{1,2}[ -](?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ -]\d{2,4})(?:[ T].*)?")
_VALUE_PATTERNS = (("NHS number", _NHS_RE), ("postcode", _POSTCODE_RE), ("date", _DATE_RE))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what was found, what was expected."""

    kind: str
    file: str
    column: str | None = None
    row: int | None = None
    dyad_id: str | None = None
    value: str | None = None
    expected: str = ""

    def line(self) -> str:
        where = [self.file]
        if self.column:
            where.append(f"column {self.column}")
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (dyad {self.dyad_id})" if self.dyad_id else ""))
        elif self.dyad_id:
            where.append(f"dyad {self.dyad_id}")
        text = ", ".join(where)
        if self.value is not None:
            text += f": value {self.value}"
        return f"{text}; expected {self.expected}" if self.expected else text


class ValidationError(UserError):
    """The input failed validation; the message lists every problem, grouped by kind."""

    def __init__(self, problems: list[Problem], counts: dict[tuple[str, str, str], int] | None = None):
        self.problems = list(problems)
        self.counts = dict(counts) if counts else {}
        super().__init__(format_problems(self.problems, self.counts))


def format_problems(problems: list[Problem], counts: dict[tuple[str, str, str], int] | None = None) -> str:
    """The user's report: a count, then each kind with its affected columns and its first lines."""
    counts = dict(counts or {})
    stored: dict[tuple[str, str, str], int] = {}
    for p in problems:
        key = (p.kind, p.file, p.column or "")
        stored[key] = stored.get(key, 0) + 1
    for key, n in stored.items():
        counts[key] = max(counts.get(key, 0), n)
    total = sum(counts.values())
    out = [f"the data did not pass validation: {total} problem{'s' if total != 1 else ''} found; "
           "nothing was loaded."]
    order = {k: i for i, k in enumerate(KINDS)}
    for kind in sorted({p.kind for p in problems}, key=lambda k: order.get(k, len(order))):
        mine = [p for p in problems if p.kind == kind]
        per_col = {key: n for key, n in counts.items() if key[0] == kind}
        n_kind = sum(per_col.values())
        cols = [f"{c} ({n})" for (_, _, c), n in per_col.items() if c]
        head = f"\n{kind} ({n_kind})"
        if len(cols) > 1:
            head += ": " + ", ".join(cols)
        out.append(head)
        out.extend(f"  {p.line()}" for p in mine[:LINES_PER_KIND])
        if n_kind > LINES_PER_KIND:
            out.append(f"  ... and {n_kind - min(len(mine), LINES_PER_KIND)} more {kind} problems")
    return "\n".join(out)


@dataclass
class Collector:
    """Gathers problems; stores the first rows of each (kind, file, column) and counts the rest."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        key = (problem.kind, problem.file, problem.column or "")
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.counts[key] <= STORED_PER_GROUP:
            self.problems.append(problem)

    def add_rows(self, kind: str, file: str, column: str, mask: pd.Series, rows: pd.Series,
                 ids: pd.Series | None, values: pd.Series | None, expected: str | pd.Series) -> None:
        """One problem per row where ``mask`` is true (vectorised selection, capped storage)."""
        mask = mask.fillna(False).astype(bool)
        n = int(mask.sum())
        if n == 0:
            return
        key = (kind, file, column)
        already = self.counts.get(key, 0)
        self.counts[key] = already + n
        keep = max(0, min(n, STORED_PER_GROUP - already))
        idx = mask[mask].index[:keep]
        r = rows.loc[idx].tolist()
        d = ids.loc[idx].tolist() if ids is not None else [None] * keep
        v = values.loc[idx].tolist() if values is not None else [None] * keep
        e = expected.loc[idx].tolist() if isinstance(expected, pd.Series) else [expected] * keep
        for ri, di, vi, ei in zip(r, d, v, e):
            self.problems.append(Problem(kind, file, column, int(ri), _text(di), _show(vi), ei))

    def __bool__(self) -> bool:
        return bool(self.counts)

    def raise_if_any(self) -> None:
        if self.counts:
            raise ValidationError(self.problems, self.counts)


def _text(x: Any) -> str | None:
    return None if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x)


def _show(x: Any) -> str | None:
    """A value quoted for the report, shortened so that long free text is never echoed whole."""
    t = _text(x)
    if t is None:
        return "(blank)" if x is not None else None
    return repr(t if len(t) <= MAX_VALUE_CHARS else t[:MAX_VALUE_CHARS] + "...")


# ----------------------------------------------------------------------------- direct identifiers

def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiouAEIOUN" else "a ") + kind


def _tokens(header: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(header))
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def identifier_kind(header: str) -> str | None:
    """What direct identifier a column header names (e.g. 'NHS number'), or None."""
    toks = _tokens(header)
    for t in toks:
        if t in _IDENTIFIER_TOKENS:
            return _IDENTIFIER_TOKENS[t]
    for a, b in zip(toks, toks[1:]):
        if (a, b) in _IDENTIFIER_PAIRS:
            return _IDENTIFIER_PAIRS[(a, b)]
    joined = "".join(toks)
    for key in ("nhsnumber", "dateofbirth", "postcode", "firstname", "surname", "freetext"):
        if key in joined:
            return {"nhsnumber": "NHS number", "dateofbirth": "date of birth", "postcode": "postcode",
                    "firstname": "name", "surname": "name", "freetext": "free text"}[key]
    return None


def check_identifier_headers(headers: Iterable[str], file: str, out: Collector) -> None:
    """Report every header that names a direct identifier (checked before any value is read)."""
    for h in headers:
        kind = identifier_kind(h)
        if kind:
            out.add(Problem("direct identifier", file, repr(str(h)), None, None, None,
                            f"no direct identifiers in the data: the column looks like {_a(kind)}; "
                            "remove it from the export (values were not read)"))


def check_identifier_values(col: pd.Series, file: str, column: str, rows: pd.Series, out: Collector) -> None:
    """Report cells that look like an NHS number, a UK postcode or a date; the value is withheld."""
    present = col.dropna()
    if present.empty:
        return
    uniq = pd.Series(present.unique(), dtype=object).astype(str)
    lens = uniq.str.len()
    cand = uniq[(lens >= 5) & (lens <= 40) & uniq.str.contains(r"\d", regex=True)]
    if cand.empty:
        return
    for kind, rx in _VALUE_PATTERNS:
        hits = set(cand[cand.str.fullmatch(rx)])
        if hits:
            mask = col.isin(hits)
            out.add_rows("direct identifier", file, column, mask, rows, None, None,
                         f"no direct identifiers: the value looks like {_a(kind)} (value withheld); "
                         "remove it from the export")


# ----------------------------------------------------------------------------- per-variable parsing

def _expected_codes(var: Variable, limit: int = 8) -> str:
    codes = [str(c) for c in var.codes]
    shown = ", ".join(codes[:limit]) + (", ..." if len(codes) > limit else "")
    return f"one of the codebook codes {shown}"


def _range_text(var: Variable) -> str:
    lo, hi = var.range  # type: ignore[misc]
    fmt = lambda x: str(int(x)) if float(x).is_integer() else str(x)  # noqa: E731
    unit = f" {var.unit}" if var.unit else ""
    return f"a value from {fmt(lo)} to {fmt(hi)}{unit}"


def _missing_mask(s: pd.Series, num: pd.Series, codes: Iterable[Any]) -> pd.Series:
    codes = list(codes)
    if not codes:
        return pd.Series(False, index=s.index)
    as_text = {str(c) for c in codes}
    as_num = [float(c) for c in codes if _is_number(c)]
    m = s.isin(as_text).fillna(False).astype(bool)
    if as_num:
        m |= num.isin(as_num).fillna(False).astype(bool)
    return m


def _is_number(x: Any) -> bool:
    try:
        float(x)
        return True
    except (TypeError, ValueError):
        return False


@dataclass
class ParsedColumn:
    values: pd.Series
    missing_code: pd.Series

    @property
    def n_missing_code(self) -> int:
        return int(self.missing_code.sum())


def parse_column(var: Variable, s: pd.Series, *, file: str, column: str, rows: pd.Series,
                 ids: pd.Series | None, extra_missing: Iterable[Any], out: Collector) -> ParsedColumn:
    """Convert one text column (NA = blank) to the variable's codebook dtype, reporting every bad value.

    Export missing codes (the codebook's and the mapping's extra ones) become missing and are counted;
    anything else that is not a valid value of the variable is a problem, never coerced. Every value is
    judged once per distinct text (a categorical ``s`` is read through its categories), then the verdicts
    are spread to the rows, so each problem still names its file, column, row and value.
    """
    if var.type == "id":
        return _parse_id(var, s, file=file, column=column, rows=rows, ids=ids, extra_missing=extra_missing, out=out)
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniq = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, uniq = pd.factorize(s, use_na_sentinel=True)
    u = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
    verdict = _judge(var, u, extra_missing)
    at = codes.astype(np.int64) + 1                    # position in [fill, *per_value]

    def spread(per_value: np.ndarray, fill) -> np.ndarray:
        return np.concatenate([np.array([fill], dtype=per_value.dtype), per_value])[at]

    for kind, bad, expected in verdict.problems:
        if bad.any():
            out.add_rows(kind, file, column, pd.Series(spread(bad, False), index=s.index), rows, ids, s, expected)
    n_mc = pd.Series(spread(verdict.missing_code, False), index=s.index)
    if var.type == "categorical":
        dtype = pd.CategoricalDtype(var.codes)
        vals = pd.Series(pd.Categorical.from_codes(spread(verdict.values.astype(np.int64), -1), dtype=dtype),
                         index=s.index)
    else:
        kept = pd.Series(spread(verdict.values, np.nan), index=s.index, dtype="float64")
        vals = kept if var.type == "continuous" else kept.astype("Int64")
    return ParsedColumn(vals, n_mc)


@dataclass
class _Verdict:
    """Per distinct text: export missing code or not, the problems found (kind, mask, expected, in report
    order) and the parsed value (a float, or for categorical variables the code's position, -1 = none)."""

    missing_code: np.ndarray
    problems: list[tuple[str, np.ndarray, str]]
    values: np.ndarray


def _judge(var: Variable, s: pd.Series, extra_missing: Iterable[Any]) -> _Verdict:
    """The rules of :func:`parse_column` applied to distinct, non-blank texts ``s``."""
    num = pd.to_numeric(s, errors="coerce").astype("float64") if len(s) else pd.Series([], dtype="float64")
    miss_code = _missing_mask(s, num, [*var.missing_codes, *extra_missing])
    valid_in = ~miss_code
    problems: list[tuple[str, np.ndarray, str]] = []

    def problem(kind: str, bad: pd.Series, expected: str) -> None:
        problems.append((kind, bad.to_numpy(dtype=bool), expected))

    if var.type == "categorical" and not all(_is_int_code(c) for c in var.codes):
        codes = [str(c) for c in var.codes]
        bad = valid_in & ~s.isin(codes)
        problem("unknown code", bad, _expected_codes(var))
        where = pd.Index(codes, dtype=object).get_indexer(pd.Index(s.to_numpy(dtype=object), dtype=object))
        return _Verdict(miss_code.to_numpy(dtype=bool), problems, np.where((valid_in & ~bad).to_numpy(), where, -1))

    not_number = valid_in & (num.isna() | ~np.isfinite(num.fillna(0.0)))
    whole = num.notna() & np.isfinite(num.fillna(0.0)) & (num == np.floor(num.fillna(0.0)))
    if var.type == "categorical":
        codes = [int(c) for c in var.codes]
        bad = valid_in & ~(whole & num.isin(codes))
        problem("unknown code", bad, _expected_codes(var))
        good = (valid_in & ~bad).to_numpy()
        where = pd.Index(codes).get_indexer(pd.Index(np.where(good, num.fillna(0.0).to_numpy(), 0.0).astype(np.int64)))
        return _Verdict(miss_code.to_numpy(dtype=bool), problems, np.where(good, where, -1))

    if var.type == "continuous":
        problem("wrong type", not_number, "a number")
        good = valid_in & ~not_number
    elif var.type == "binary":
        problem("unknown code", not_number, _expected_codes(var))
        good = valid_in & ~not_number
    else:
        problem("wrong type", not_number, "a whole number")
        fraction = valid_in & ~not_number & ~whole
        problem("wrong type", fraction, "a whole number")
        good = valid_in & ~not_number & ~fraction
    if var.type == "binary":
        codes = [float(c) for c in var.codes]
        bad = good & ~(whole & num.isin(codes))
        problem("unknown code", bad, _expected_codes(var))
        good &= ~bad
    elif var.range is not None:
        lo, hi = var.range
        bad = good & ((num < lo) | (num > hi))
        problem("out of range", bad, _range_text(var))
        good &= ~bad
    return _Verdict(miss_code.to_numpy(dtype=bool), problems, num.where(good).to_numpy(dtype="float64"))


def _parse_id(var: Variable, s: pd.Series, *, file: str, column: str, rows: pd.Series,
              ids: pd.Series | None, extra_missing: Iterable[Any], out: Collector) -> ParsedColumn:
    present = s.notna()
    num = pd.Series(np.nan, index=s.index)
    miss_code = present & _missing_mask(s, num, [*var.missing_codes, *extra_missing])
    valid_in = present & ~miss_code
    vals = s.where(valid_in, pd.NA).astype("string")
    if var.pattern:
        bad = valid_in & s.isin(_not_matching(s[valid_in], var.pattern))
        out.add_rows("wrong type", file, column, bad, rows, ids, s,
                     f"a pseudonymous code matching {var.pattern}")
    return ParsedColumn(vals, miss_code)


def _per_unique(s: pd.Series, func) -> pd.Series:
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    res = np.append(func(pd.Series(uniq, dtype=object)).to_numpy(dtype="float64"), np.nan)
    return pd.Series(res[np.where(codes < 0, len(res) - 1, codes)], index=s.index)


def _is_int_code(c: Any) -> bool:
    return isinstance(c, (int, np.integer)) and not isinstance(c, bool)


def _not_matching(s: pd.Series, pattern: str) -> list:
    """The distinct values of ``s`` that do not match ``pattern`` in full."""
    uniq = pd.Series(s.dropna().unique(), dtype=object)
    return uniq[~uniq.astype(str).str.fullmatch(pattern).to_numpy(dtype=bool)].tolist()


# ----------------------------------------------------------------------------- IDs and cross-variable rules

def check_ids(df: pd.DataFrame, *, file: str, rows: pd.Series, id_columns: dict[str, str], out: Collector,
              repeat_column: str | None = "mother_id") -> None:
    """Blank or duplicate dyad IDs, and repeat episodes of one mother, each naming the rows involved."""
    dyad = df["dyad_id"] if "dyad_id" in df else None
    for name, shown in id_columns.items():
        if name not in df:
            continue
        s = df[name]
        out.add_rows("blank ID", file, shown, s.isna(), rows, None, s,
                     "an ID in every row (every record must be identifiable)")
        dup = s.notna() & s.duplicated(keep=False)
        if not dup.any():
            continue
        others = _other_rows(s[dup], rows[dup])
        if name == repeat_column:
            out.add_rows("repeat episode", file, shown, dup, rows, dyad, s,
                         "one row per mother (her index episode); the same mother also appears on " + others)
        else:
            out.add_rows("duplicate ID", file, shown, dup, rows, None, s, "each ID once; also on " + others)


def _other_rows(ids: pd.Series, rows: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"id": ids.astype(str), "row": rows.astype(int)})
    lists = frame.groupby("id")["row"].agg(list)
    per = frame["id"].map(lists)
    return pd.Series([("rows " if len(l) > 2 else "row ") + ", ".join(str(x) for x in l if x != r)
                      for l, r in zip(per, frame["row"])], index=ids.index)


@dataclass(frozen=True)
class Located:
    """Where a variable's values came from: file, the file's column name, and row numbers by frame index."""

    file: str
    column: str
    rows: pd.Series


def check_consistency(df: pd.DataFrame, codebook: Codebook, where: dict[str, Located], out: Collector) -> None:
    """Codebook rules across variables: follow-up requirements, instrument totals, and logical rules."""
    ids = df["dyad_id"] if "dyad_id" in df else None

    def report(name: str, mask: pd.Series, values, expected) -> None:
        """``values`` and ``expected`` may be functions of the rows reported (the text of a whole column is
        only made for the rows that are wrong)."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        picked = mask[mask].index
        vals = values(picked) if callable(values) else values
        exp = expected(picked) if callable(expected) else expected
        loc = where[name]
        out.add_rows("inconsistent", loc.file, loc.column, mask, loc.rows, ids, vals, exp)

    for v in codebook.recorded():
        if v.name not in df:
            continue
        col = df[v.name]
        if v.requires and v.requires in df:
            flag = df[v.requires]
            bad = (flag == 0).fillna(False) & col.notna()
            report(v.name, bad, lambda rows, col=col: col.loc[rows].astype("string"),
                   f"missing, because {v.requires} = 0 ({codebook[v.requires].label.lower()}: no)")
        if v.items and all(i in df for i in v.items):
            items = df[list(v.items)].astype("Float64")
            complete = items.notna().all(axis=1) & col.notna()
            total = items.sum(axis=1)
            bad = complete & (col.astype("Float64") != total)
            head = "the sum of " + ", ".join(v.items[:3]) + f", ... ({len(v.items)} items) = "
            report(v.name, bad, lambda rows, col=col: col.loc[rows].astype("string"),
                   lambda rows, total=total, head=head: head + total.loc[rows].astype("Int64").astype("string").fillna(""))
    for rule in _RULES:
        if all(n in df for n in rule.names):
            bad = rule.test(df).fillna(False).astype(bool)
            report(rule.names[0], bad, lambda rows, rule=rule: rule.shown(df.loc[rows]), rule.expected)


@dataclass(frozen=True)
class _Rule:
    names: tuple[str, ...]
    test: Any
    shown: Any
    expected: str


def _pair(a: str, b: str):
    return lambda d: f"{a}=" + d[a].astype("string").fillna("(blank)") + f", {b}=" + d[b].astype("string").fillna("(blank)")


_RULES = (
    _Rule(("canm_1m_met", "canm_1m_unmet"),
          lambda d: (d["canm_1m_met"] + d["canm_1m_unmet"]) > 26,
          _pair("canm_1m_met", "canm_1m_unmet"),
          "met + unmet needs at most 26 (the CAN-M has 26 domains)"),
    _Rule(("csc_status_1y", "infant_in_care_1y"),
          lambda d: (d["csc_status_1y"].astype(object) == "looked_after") & (d["infant_in_care_1y"] == 1),
          _pair("csc_status_1y", "infant_in_care_1y"),
          "infant_in_care_1y = 0 where the infant is looked after at one year"),
    _Rule(("index_infant_order", "multiple_birth"),
          lambda d: (d["multiple_birth"] == 0) & (d["index_infant_order"] != 1),
          _pair("index_infant_order", "multiple_birth"),
          "index_infant_order = 1 for a single birth"),
)
