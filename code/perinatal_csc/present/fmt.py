"""Number formats shared by every table and prose helper of the manuscript.

p- and q-values to 3 decimal places, below 0.001 as "<0.001"; percentages to 1 decimal place;
a dash where a value is not defined; the disclosure marker where a value is suppressed.
"""
from __future__ import annotations

import pandas as pd

from ..disclose.policy import MARKER

DASH = "—"
INDENT = "\u2003"
SUPPRESSED_NOTE = (f"{MARKER} suppressed under statistical disclosure control: a small count, or a value from "
                   "which a small count could be worked out (the same mark for both).")


def hidden(x) -> bool:
    """True for a value suppressed under disclosure control (the release holds the marker)."""
    return isinstance(x, str) and x == MARKER


def any_hidden(*xs) -> bool:
    return any(hidden(x) for x in xs)


def fmt_count(x) -> str:
    """A count as a whole number; the marker when suppressed; a dash if missing."""
    if hidden(x):
        return MARKER
    return DASH if x is None or pd.isna(x) else str(int(x))


def fmt_p(p: float | None) -> str:
    """A p- or q-value to 3 decimal places; '<0.001' below that; a dash if missing."""
    if hidden(p):
        return MARKER
    if p is None or pd.isna(p):
        return DASH
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_num(x: float | None, dp: int = 1) -> str:
    """A number to ``dp`` decimal places; a dash if missing; the marker when suppressed."""
    if hidden(x):
        return MARKER
    return DASH if x is None or pd.isna(x) else f"{x:.{dp}f}"


def fmt_n_pct(n: float | None, pct: float | None) -> str:
    """'n (p%)' with the percentage to 1 decimal place; 'n' alone when there is no percentage; the
    marker for a suppressed count, 'n (*)' for a count whose percentage is suppressed."""
    if hidden(n):
        return MARKER
    if n is None or pd.isna(n):
        return DASH
    if hidden(pct):
        return f"{int(n)} ({MARKER})"
    return f"{int(n)}" if pct is None or pd.isna(pct) else f"{int(n)} ({pct:.1f}%)"


def fmt_n_of(k: int, n: int) -> str:
    """'k (p%)' with p = 100 k / n; 'k' alone when the denominator is zero; the marker when k is
    suppressed, 'k (*)' when n is."""
    if hidden(k):
        return MARKER
    if hidden(n):
        return fmt_n_pct(k, MARKER)
    return fmt_n_pct(k, 100 * k / n if n else None)
