"""The derive step: every codebook variable marked ``derived:`` computed from recorded variables.

Each rule below implements its variable's ``derived:`` text in the codebook, vectorised over the
whole cohort. ``derive`` refuses a codebook that lists a derived variable without a rule here.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd

from .codebook import Codebook, Variable, load_codebook
from .load import EXPORT_MISSING_ATTR


Rule = Callable[[pd.DataFrame, Variable, Codebook], pd.Series]


def _binary(cond: pd.Series, missing: pd.Series) -> pd.Series:
    return cond.astype("boolean").astype("Int64").mask(missing.astype(bool), pd.NA)


def _followed_up(df: pd.DataFrame, flag: str = "followed_up_1y") -> pd.Series:
    """True where the dyad was followed up (the flag is a required codebook variable)."""
    if flag not in df:
        raise KeyError(f"derive: the cohort has no {flag!r} column, so follow-up outcomes cannot be derived")
    return (df[flag] == 1).fillna(False).astype(bool)


def _status_not(df: pd.DataFrame, var: Variable, codebook: Codebook, code: str,
                needs_followup: bool) -> pd.Series:
    (src,) = var.inputs
    if code not in codebook[src].codes:
        raise ValueError(f"derive {var.name}: {code!r} is not a level of {src}")
    s = df[src].astype(object)
    missing = df[src].isna()
    if needs_followup:
        missing |= ~_followed_up(df)
    return _binary(s != code, missing)


def _csc_any_index(df, var, cb):
    return _status_not(df, var, cb, "none", needs_followup=False)


def _csc_any_1y(df, var, cb):
    return _status_not(df, var, cb, "none", needs_followup=True)


def _infant_not_in_care_1y(df, var, cb):
    (src,) = var.inputs
    return _binary(df[src] == 0, df[src].isna())


def _cpp_1y(df, var, cb):
    (src,) = var.inputs
    code = "child_protection_plan"
    if code not in cb[src].codes:
        raise ValueError(f"derive {var.name}: {code!r} is not a level of {src}")
    return _binary(df[src].astype(object) == code, df[src].isna())


def _deprived(df, var, cb):
    (src,) = var.inputs
    s = df[src].astype(object)
    return _binary(s.isin([1, 2]), df[src].isna())


def _count_rated(df: pd.DataFrame, var: Variable, code: int) -> pd.Series:
    domains = df[list(var.inputs)]
    count = (domains.astype(object) == code).sum(axis=1).astype("Int64")
    none_rated = domains.isna().all(axis=1)
    return count.mask(none_rated | ~_followed_up(df), pd.NA)


def _canm_met(df, var, cb):
    return _count_rated(df, var, 1)


def _canm_unmet(df, var, cb):
    return _count_rated(df, var, 2)


def _canm_not_known(df, var, cb):
    domains = list(var.inputs)
    flags = df.attrs.get(EXPORT_MISSING_ATTR)
    known = pd.DataFrame(False, index=df.index, columns=domains)
    if isinstance(flags, pd.DataFrame):
        present = [d for d in domains if d in flags.columns]
        known[present] = flags[present].reindex(df.index).fillna(False).astype(bool)
    count = known.sum(axis=1).astype("Int64")
    no_rating = df[domains].isna().all(axis=1) & ~known.any(axis=1)
    return count.mask(no_rating | ~_followed_up(df), pd.NA)


def any_of(df: pd.DataFrame, var: Variable, cb: Codebook) -> pd.Series:
    """1 where any input has the variable's ``any_of`` level, else 0 (an input not known counts as not
    having it, as in the CAN-M totals); missing where the dyad was not followed up (the ``requires``
    flag) or no input is known."""
    inputs = df[list(var.inputs)]
    missing = inputs.isna().all(axis=1)
    if var.requires:
        missing |= ~_followed_up(df, var.requires)
    return _binary((inputs.astype(object) == var.any_of).any(axis=1), missing)


RULES: dict[str, Rule] = {
    "csc_any_index": _csc_any_index,
    "csc_any_1y": _csc_any_1y,
    "infant_not_in_care_1y": _infant_not_in_care_1y,
    "cpp_1y": _cpp_1y,
    "deprived": _deprived,
    "canm_1y_met": _canm_met,
    "canm_1y_unmet": _canm_unmet,
    "canm_1y_not_known": _canm_not_known,
}


def derive(df: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """A copy of the cohort with every derived codebook variable added, in codebook order and dtypes.

    Derived columns already present are recomputed, so the result never depends on what came in.
    """
    cb = codebook or load_codebook()
    todo = cb.derived()
    unknown = [v.name for v in todo if v.name not in RULES and v.any_of is None]
    if unknown:
        raise ValueError(f"codebook derived variables without a rule in derive.py: {unknown}")
    absent = sorted({i for v in todo for i in v.inputs if i not in df.columns})
    if absent:
        raise KeyError(f"derive needs these recorded variables, absent from the cohort: {absent}")
    base = df.drop(columns=[v.name for v in todo if v.name in df.columns])
    new = {v.name: RULES.get(v.name, any_of)(base, v, cb).astype(v.dtype()) for v in todo}
    out = pd.concat([base, pd.DataFrame(new, index=base.index)], axis=1)
    order = [n for n in cb.names if n in out.columns] + [c for c in out.columns if c not in cb]
    out = out[order]
    out.attrs = dict(df.attrs)
    return out
