"""Descriptive figures: pure drawing of ``describe.results`` tables, with alt text built from the same numbers.

Okabe-Ito colours with hatching, so every series can be told apart in greyscale.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd
from matplotlib.figure import Figure

from .style import HATCHES, PALETTE, SYNTHETIC_NOTE, setup_matplotlib

Results = Mapping[str, pd.DataFrame]


def _synthetic(fig: Figure, is_synthetic: bool) -> None:
    if is_synthetic:
        fig.text(0.01, 0.005, SYNTHETIC_NOTE, fontsize=7, ha="left", va="bottom", style="italic")


def _status_counts(results: Results) -> tuple[list[str], list[int], list[int], int]:
    """Status labels, counts during the episode and at one year, among the dyads with both known."""
    t = results["table4_transitions"]
    rows = t[t["row_type"] == "level"].drop_duplicates("level")
    totals = t[t["row_type"] == "total"]
    labels = rows["level_label"].tolist()
    return labels, [int(x) for x in rows["denominator"]], [int(x) for x in totals["n"]], int(t["n_pairs"].iloc[0])


def csc_status_figure(results: Results, *, is_synthetic: bool) -> Figure:
    """Stacked bars: CSC status during the acute episode and at one year, among dyads with both known."""
    setup_matplotlib()
    labels, during, one_year, n = _status_counts(results)
    fig = Figure(figsize=(6.5, 3.6))
    ax = fig.add_subplot()
    bars = ["During the acute episode", "One year after discharge"]
    left = [0, 0]
    for i, lab in enumerate(labels):
        vals = [during[i], one_year[i]]
        ax.barh(bars, vals, left=left, color=PALETTE[i % len(PALETTE)], hatch=HATCHES[i % len(HATCHES)],
                edgecolor="black", linewidth=0.5, label=lab)
        left = [a + b for a, b in zip(left, vals)]
    ax.invert_yaxis()
    ax.set_xlabel(f"Dyads (N = {n}, followed up with status known at both timepoints)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, frameon=False, fontsize=8)
    _synthetic(fig, is_synthetic)
    fig.tight_layout(rect=(0, 0.04 if is_synthetic else 0, 1, 1))
    return fig


def csc_status_alt(results: Results) -> str:
    """Alt text for the CSC status figure, from the same counts."""
    labels, during, one_year, n = _status_counts(results)
    d = "; ".join(f"{lab} {x}" for lab, x in zip(labels, during))
    y = "; ".join(f"{lab} {x}" for lab, x in zip(labels, one_year))
    return (f"Two stacked horizontal bars for the {n} dyads followed up with children's social care status known "
            f"at both timepoints. During the acute episode: {d}. One year after discharge: {y}.")


def _domains(results: Results) -> pd.DataFrame:
    t = results["table3_needs"]
    d = t[(t["level"] == "2") & (t["row_type"] == "level") & (t["group"] != "overall")
          & t["variable"].str.startswith("canm_1y_d")]
    d = d.assign(domain=d["label"].str.replace(r"^CAN-M domain \d+: ", "", regex=True)
                 .str.replace(r" \(one year\)$", "", regex=True))
    return d


def unmet_need_figure(results: Results, *, is_synthetic: bool) -> Figure:
    """Grouped horizontal bars: % of mothers with an unmet need in each CAN-M domain at one year, by group."""
    setup_matplotlib()
    d = _domains(results)
    domains = list(dict.fromkeys(d["domain"]))
    groups = list(dict.fromkeys(d["group"]))
    fig = Figure(figsize=(6.5, 0.26 * len(domains) + 1.4))
    ax = fig.add_subplot()
    h = 0.8 / max(len(groups), 1)
    for k, g in enumerate(groups):
        sub = d[d["group"] == g].set_index("domain").reindex(domains)
        pos = [i + (k - (len(groups) - 1) / 2) * h for i in range(len(domains))]
        ax.barh(pos, sub["percent"].fillna(0), height=h, color=PALETTE[k], hatch=HATCHES[k + 1 if k else 0],
                edgecolor="black", linewidth=0.4, label=sub["group_label"].iloc[0])
    ax.set_yticks(range(len(domains)), domains, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Mothers with an unmet need at one year (% of those rated in the domain)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)
    _synthetic(fig, is_synthetic)
    fig.tight_layout(rect=(0, 0.04 if is_synthetic else 0, 1, 1))
    return fig


def unmet_need_alt(results: Results, top: int = 3) -> str:
    """Alt text for the unmet-need figure: the domains most often unmet in each group, with percentages."""
    d = _domains(results)
    parts = []
    for g in dict.fromkeys(d["group"]):
        sub = d[d["group"] == g].sort_values("percent", ascending=False, kind="stable").head(top)
        items = ", ".join(f"{dom} {pct:.1f}%" for dom, pct in zip(sub["domain"], sub["percent"]))
        parts.append(f"{sub['group_label'].iloc[0]}: {items}")
    return ("Horizontal bars of the percentage of mothers with an unmet need in each of the "
            f"{d['domain'].nunique()} CAN-M domains at one year, by children's social care involvement during the "
            f"episode. Domains most often unmet: " + "; ".join(parts) + ".")
