"""Number formats shared by every table and prose helper of the manuscript.

p- and q-values to 3 decimal places, below 0.001 as "<0.001"; percentages to 1 decimal place;
a dash where a value is not defined.
"""
from __future__ import annotations

import pandas as pd

DASH = "—"
INDENT = "\u2003"


def fmt_p(p: float | None) -> str:
    """A p- or q-value to 3 decimal places; '<0.001' below that; a dash if missing."""
    if p is None or pd.isna(p):
        return DASH
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_num(x: float | None, dp: int = 1) -> str:
    """A number to ``dp`` decimal places; a dash if missing."""
    return DASH if x is None or pd.isna(x) else f"{x:.{dp}f}"


def fmt_n_pct(n: float | None, pct: float | None) -> str:
    """'n (p%)' with the percentage to 1 decimal place; 'n' alone when there is no percentage."""
    if n is None or pd.isna(n):
        return DASH
    return f"{int(n)}" if pct is None or pd.isna(pct) else f"{int(n)} ({pct:.1f}%)"


def fmt_n_of(k: int, n: int) -> str:
    """'k (p%)' with p = 100 k / n; 'k' alone when the denominator is zero."""
    return fmt_n_pct(k, 100 * k / n if n else None)
