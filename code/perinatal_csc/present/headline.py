"""The handful of counts the abstract and the plain-English summary quote, as text.

Counts only (no modelling): every figure is computed from the cohort and result tables of the run.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def n_pct(k: int, n: int, digits: int = 1) -> str:
    """'k (p%)', or 'k' when the denominator is zero."""
    return f"{k} ({100 * k / n:.{digits}f}%)" if n else f"{k}"


def count(cohort: pd.DataFrame, name: str, where: pd.Series | None = None) -> int:
    """Number of dyads with ``name == 1`` (missing counts as not 1)."""
    col = cohort[name] if where is None else cohort.loc[where, name]
    return int((col == 1).sum())


@dataclass(frozen=True)
class Headline:
    n: int
    n_sites: int
    csc_index: int
    followed_1y: int
    csc_1y: int
    not_in_care_1y: int
    cpp_1y: int

    @property
    def csc_index_text(self) -> str:
        return n_pct(self.csc_index, self.n)

    @property
    def followed_1y_text(self) -> str:
        return n_pct(self.followed_1y, self.n)

    @property
    def csc_1y_text(self) -> str:
        return n_pct(self.csc_1y, self.followed_1y)

    @property
    def not_in_care_1y_text(self) -> str:
        return n_pct(self.not_in_care_1y, self.followed_1y)

    @property
    def cpp_1y_text(self) -> str:
        return n_pct(self.cpp_1y, self.followed_1y)

    def one_in(self, k: int, n: int) -> str:
        """'about 1 in 3' style wording for a plain-English summary."""
        if k == 0 or n == 0:
            return "none"
        return f"about 1 in {max(1, round(n / k))}"


def headline(cohort: pd.DataFrame) -> Headline:
    """Headline counts of the analysed cohort."""
    followed = cohort["followed_up_1y"] == 1
    return Headline(
        n=len(cohort), n_sites=int(cohort["site"].nunique()),
        csc_index=count(cohort, "csc_any_index"),
        followed_1y=int(followed.sum()),
        csc_1y=count(cohort, "csc_any_1y", followed),
        not_in_care_1y=count(cohort, "infant_not_in_care_1y", followed),
        cpp_1y=count(cohort, "cpp_1y", followed),
    )


def associated_factors(models: pd.DataFrame, direction: str, kind: str = "Adjusted") -> list[str]:
    """Labels of terms whose 95% CI lies wholly above 1 (``direction="higher"``) or below 1 (``"lower"``)."""
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")
    rows = models[(models["type"] == kind) & ~models["reference"].astype(bool) & models["ci_low"].notna()]
    hits = rows[rows["ci_low"] > 1] if direction == "higher" else rows[rows["ci_high"] < 1]
    out = []
    for _, r in hits.iterrows():
        level = str(r.get("level_label") or "")
        label = str(r["label"])
        out.append(f"{level} ({label[0].lower() + label[1:]})" if level and level not in ("Yes", "nan") else label)
    return out


def as_list_text(items: list[str]) -> str:
    """'a, b and c' (or 'none')."""
    items = [i[0].lower() + i[1:] if i[:2] != i[:2].upper() else i for i in items]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


REAL_NOTICE = ("Real study data. Check every output against the disclosure rules before it leaves the "
               "secure environment.")


def data_notice(is_synthetic: bool) -> str:
    """The label every rendered document opens with."""
    from .style import SYNTHETIC_NOTE

    return SYNTHETIC_NOTE if is_synthetic else REAL_NOTICE


def summary_figure(h: Headline, *, is_synthetic: bool):
    """Bar chart of the headline proportions, for the plain-English summary."""
    from matplotlib.figure import Figure

    from .style import PALETTE, SYNTHETIC_NOTE, setup_matplotlib

    setup_matplotlib()
    bars = [
        ("Children's social care involved\nduring the acute episode", h.csc_index, h.n),
        ("Children's social care involved\none year after discharge", h.csc_1y, h.followed_1y),
        ("Infant not in mother's care\none year after discharge", h.not_in_care_1y, h.followed_1y),
        ("Child Protection Plan\none year after discharge", h.cpp_1y, h.followed_1y),
    ]
    fig = Figure(figsize=(6.4, 2.8))
    ax = fig.subplots()
    labels = [b[0] for b in bars][::-1]
    pct = [100 * k / n if n else 0 for _, k, n in bars][::-1]
    ax.barh(labels, pct, color=PALETTE[0])
    for y, (p, (_, k, n)) in enumerate(zip(pct, bars[::-1])):
        ax.text(p + 1, y, f"{k} of {n}", va="center", fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Percentage of families")
    if is_synthetic:
        fig.text(0.99, 0.01, SYNTHETIC_NOTE, ha="right", va="bottom", fontsize=7, color="#8a0015")
    fig.tight_layout()
    return fig
