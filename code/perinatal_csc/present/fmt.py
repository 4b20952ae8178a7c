"""Number formats shared by every table and prose helper of the manuscript.

p- and q-values to 3 decimal places, below 0.001 as "<0.001" and above 0.99 as ">0.99" (never "0.000"
or "1.000"); percentages to 1 decimal place; negative numbers with a true minus sign (U+2212); a dash
where a value is not defined; the disclosure marker where a value is suppressed.
"""
from __future__ import annotations

import html as _html

import pandas as pd

from ..disclose.policy import MARKER

DASH = "—"
INDENT = "\u2003"
MINUS = "\u2212"
P_FLOOR, P_CEILING = 0.001, 0.99
SUPPRESSED_NOTE = (f"{MARKER} suppressed under statistical disclosure control: a small count, or a value from "
                   "which a small count could be worked out (the same mark for both).")


def hidden(x) -> bool:
    """True for a value suppressed under disclosure control (the release holds the marker)."""
    return isinstance(x, str) and x == MARKER


def any_hidden(*xs) -> bool:
    return any(hidden(x) for x in xs)


def signed(text: str) -> str:
    """A formatted number with a true minus sign; '-0.0' (a small negative rounded to zero) as '0.0'."""
    if text.startswith("-"):
        body = text[1:]
        return body if body.strip("0.") == "" else MINUS + body
    return text


def fmt_count(x) -> str:
    """A count as a whole number; the marker when suppressed; a dash if missing."""
    if hidden(x):
        return MARKER
    return DASH if x is None or pd.isna(x) else signed(str(int(x)))


def fmt_p(p: float | None) -> str:
    """A p- or q-value to 3 decimal places; '<0.001' below that, '>0.99' above 0.99; a dash if missing."""
    if hidden(p):
        return MARKER
    if p is None or pd.isna(p):
        return DASH
    if p < P_FLOOR:
        return f"<{P_FLOOR:g}"
    if p > P_CEILING:
        return f">{P_CEILING:g}"
    return f"{p:.3f}"


def p_text(p: float | None, name: str = "p") -> str:
    """A p-value for a sentence or note: 'p = 0.012', 'p < 0.001', 'p > 0.99', 'p = *' (suppressed)."""
    s = fmt_p(p)
    return f"{name} {s[0]} {s[1:]}" if s[0] in "<>" else f"{name} = {s}"


def fmt_num(x: float | None, dp: int = 1) -> str:
    """A number to ``dp`` decimal places with a true minus sign; a dash if missing; the marker when suppressed."""
    if hidden(x):
        return MARKER
    return DASH if x is None or pd.isna(x) else signed(f"{x:.{dp}f}")


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


def shown_label(row) -> str:
    """A row's label as a table shows it: the codebook's short label where the results carry one."""
    short = row.get("short_label") if hasattr(row, "get") else None
    return short if isinstance(short, str) and short else row["label"]


def definition_notes(t: pd.DataFrame) -> list[str]:
    """One note defining the short labels a table shows ('Label: definition.'), in order of appearance."""
    if "definition" not in t or "short_label" not in t:
        return []
    defs = t[t["definition"].map(lambda d: isinstance(d, str) and bool(d))].drop_duplicates("short_label")
    if defs.empty:
        return []
    return ["; ".join(f"{lab}: {d}" for lab, d in zip(defs["short_label"], defs["definition"])) + "."]


def with_mark(text: str, mark: str = "") -> str:
    """A cell as HTML for great-tables (escaped), with ``mark`` as a superscript footnote letter."""
    return _html.escape(text, quote=False) + (f"<sup>{_html.escape(mark)}</sup>" if mark else "")


class Marks:
    """Footnote letters of one table, a, b, c... in order of first use (reading order); one letter per text."""

    def __init__(self) -> None:
        self.letters: dict[str, str] = {}

    def __call__(self, text: str | None) -> str:
        """The letter of ``text`` (a new one on its first use); '' for no text."""
        if not isinstance(text, str) or not text:
            return ""
        if text not in self.letters:
            n = len(self.letters)
            self.letters[text] = (chr(ord("a") + n % 26)) * (n // 26 + 1)
        return self.letters[text]

    def notes(self, lead: str = "") -> list:
        """One note (great-tables HTML) giving every letter used with its text, in letter order; [] when none was."""
        if not self.letters:
            return []
        from great_tables import html
        return [html(_html.escape(lead, quote=False) + "; ".join(
            f"<sup>{k}</sup> {_html.escape(t, quote=False)}" for t, k in self.letters.items()) + ".")]


def series(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
