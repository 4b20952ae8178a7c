"""Pre-specified safe recoding: sparse categories combined before anything is described or tested.

The codebook declares, per variable, which categories may be counted together (``combine:``, tried
in order): broader ethnic groups, "not known" counted with a neighbouring category. A declared
combination is applied when one of its categories has 1 to ``below - 1`` dyads in either group of
the main comparison (children's social care involvement during the episode) or overall, where the
disclosure threshold would otherwise suppress it and its complements. Tables, tests and models then
all use the combined categories, and ``recode_table`` lists what was combined for the Methods.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

import numpy as np
import pandas as pd

from ..data.codebook import NOT_KNOWN_CODE, Codebook, Combine, Level, Variable
from .describe import CSC_BY, _eligible

RECODE_COLUMNS = ["applies_to", "variable", "label", "combined", "into"]


@dataclass(frozen=True)
class Recode:
    """One combination applied: the variable, the categories counted together and the new label."""

    variable: str
    label: str
    combined: tuple[str, ...]
    into: str
    applies_to: str = "tables"


def _label(var: Variable, code) -> str:
    return "Not known" if code == NOT_KNOWN_CODE else var.level_label(code)


def _sparse(col: pd.Series, eligible: np.ndarray, groups: list[np.ndarray], members, below: int,
            zeros: bool = False) -> bool:
    """True when a member category has 1 to ``below - 1`` dyads in a group or overall (``zeros``: 0
    counts too, for a category that has dyads: a model needs events and non-events in each)."""
    for code in members:
        hit = (col.isna().to_numpy() if code == NOT_KNOWN_CODE else (col == code).fillna(False).to_numpy(bool))
        hit = hit & eligible
        if zeros and not (hit & groups[-1]).any():
            continue
        if any((0 if zeros else 1) <= int((hit & g).sum()) < below for g in groups):
            return True
    return False


def _apply(col: pd.Series, var: Variable, spec: Combine, eligible: np.ndarray) -> tuple[pd.Series, Variable]:
    """The column and variable with the spec's categories counted as its first code."""
    real = [c for c in spec.levels if c != NOT_KNOWN_CODE]
    into = real[0]
    values = col.astype(object).where(col.notna(), None)
    values = values.map(lambda v: into if v in real else v)
    if NOT_KNOWN_CODE in spec.levels:
        values = values.where(~(values.isna().to_numpy() & eligible), into)
    levels = tuple(Level(into, spec.label) if lv.code == into else lv for lv in var.levels if lv.code not in real[1:])
    reference = into if var.reference in real else var.reference
    new = replace(var, levels=levels, reference=reference)
    if var.type == "categorical":
        out = pd.Series(pd.Categorical(values, categories=new.codes), index=col.index, name=col.name)
    else:
        out = pd.Series(pd.array(values.tolist(), dtype=col.dtype), index=col.index, name=col.name)
    if var.type == "binary":       # the Yes row stays; its note says where "not known" went
        note = f"'not known' counted as '{_label(var, into).lower()}'"
        new = replace(new, definition=f"{var.definition}; {note}" if var.definition else note)
    return out, new


def combine_sparse(df: pd.DataFrame, cb: Codebook, below: int, by: str = CSC_BY, *,
                   variables: Iterable[str] | None = None, for_models: bool = False,
                   population: np.ndarray | None = None) -> tuple[pd.DataFrame, Codebook, list[Recode]]:
    """``df`` and ``cb`` with every declared combination applied whose categories would be small
    counts (1 to ``below - 1``) in a group of ``by`` or overall, and the list of what was combined.
    ``below`` 0 or 1: nothing. ``variables``: only these. ``for_models``: a model's covariates, by its
    outcome: categories only (a model never counts "not known" as a category), and a category with
    no events or no non-events is sparse too. ``population``: the dyads counted (a model's complete
    cases), else every dyad with ``by`` known."""
    if below <= 1 or by not in df:
        return df, cb, []
    wanted = None if variables is None else set(variables)
    groups = [(df[by] == code).fillna(False).to_numpy(bool) for code in cb[by].codes]
    groups.append(df[by].notna().to_numpy(bool))
    if population is not None:
        groups = [g & population for g in groups]
    out, variables, done = df.copy(deep=False), list(cb.variables), []
    for k, var in enumerate(variables):
        if not var.combine or var.name not in df or (wanted is not None and var.name not in wanted):
            continue
        eligible = _eligible(df, var, cb)
        col, current = df[var.name], var
        skipped = set()       # merged codes of declared combinations not applied: a later label would be wrong
        for i, spec in enumerate(var.combine):
            target = next(c for c in spec.levels if c != NOT_KNOWN_CODE)
            this_or_later = {s.label for s in var.combine[i:] if target in s.levels}
            if (target in current.codes and current.level_label(target) in this_or_later
                    or any(c not in current.codes for c in spec.levels if c != NOT_KNOWN_CODE)):
                continue        # applied already, or merged further by a later one (the main tables')
            if for_models and NOT_KNOWN_CODE in spec.levels:
                skipped.add(target)
                continue
            if (any(c in skipped for c in spec.levels)
                    or not _sparse(col, eligible, groups, spec.levels, below, zeros=for_models)):
                skipped.add(target)
                continue
            done.append(Recode(var.name, var.table_label, tuple(_label(current, c) for c in spec.levels), spec.label,
                               "models" if for_models else "tables"))
            col, current = _apply(col, current, spec, eligible)
        out[var.name] = col
        variables[k] = current
    return out, replace(cb, variables=tuple(variables)), done


def combine_for_comparisons(df: pd.DataFrame, cb: Codebook, below: int, by: Iterable[str], *,
                            variables: Iterable[str] | None = None,
                            applies_to: str = "subgroups") -> tuple[pd.DataFrame, Codebook, list[Recode]]:
    """``combine_sparse`` for several comparisons set side by side in one table: each comparison's
    combinations are applied to all, until none is needed, so every comparison shows the same categories."""
    by, names = list(by), None if variables is None else list(variables)
    done: list[Recode] = []
    while True:
        before = len(done)
        for column in by:
            df, cb, more = combine_sparse(df, cb, below, by=column, variables=names)
            done += [replace(r, applies_to=applies_to) for r in more]
        if len(done) == before:
            return df, cb, done


def recode_table(recodes: list[Recode]) -> pd.DataFrame:
    """The combinations applied, one row each (no counts): a result table the Methods read."""
    return pd.DataFrame([{"applies_to": r.applies_to, "variable": r.variable, "label": r.label,
                          "combined": "; ".join(r.combined), "into": r.into} for r in recodes], columns=RECODE_COLUMNS)
