"""Descriptive figures: pure drawing of ``describe.results`` tables, with alt text built from the same numbers.

Okabe-Ito colours with hatching, so every series can be told apart in greyscale.
"""
from __future__ import annotations

import textwrap
from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .descriptive import group_rows
from .fmt import MARKER, SUPPRESSED_NOTE, any_hidden, fmt_count, fmt_num, hidden, shown_label
from .prose import sourced
from .style import HATCHES, PALETTE, SYNTHETIC_NOTE, setup_matplotlib

Results = Mapping[str, pd.DataFrame]
WITHHELD_FIGURE = ("Figure withheld under statistical disclosure control: it would show counts that are suppressed "
                   f"({MARKER}) in the table of the same numbers.")


def withheld_figure(is_synthetic: bool, height: float = 1.2) -> Figure:
    """A figure that says it is withheld (its counts are suppressed), with no number in it."""
    setup_matplotlib()
    fig = Figure(figsize=(6.5, height))
    ax = fig.add_axes((0, 0, 1, 1))     # IPython (Quarto's kernel) draws no image of a figure without axes
    ax.axis("off")
    ax.text(0.5, 0.55, textwrap.fill(WITHHELD_FIGURE, 90), ha="center", va="center", fontsize=9,
            transform=ax.transAxes)
    _synthetic(fig, is_synthetic)
    return fig


def _transitions_hidden(results: Results) -> bool:
    """True when the figure cannot be drawn even with small flows merged: a category's total or the
    number of pairs is suppressed."""
    t = results["table4_transitions"]
    return bool((t[["denominator", "n_pairs"]].astype(object) == MARKER).any().any())


MERGED = "Changes of fewer dyads than the disclosure threshold (merged)"


def _synthetic(fig: Figure, is_synthetic: bool) -> None:
    if is_synthetic:
        fig.text(0.01, 0.005, SYNTHETIC_NOTE, fontsize=7, ha="left", va="bottom", style="italic")


def _transitions(results: Results) -> tuple[list[str], list[str], np.ndarray, int]:
    """Episode labels, one-year labels, the counts (episode x one year) and the number of pairs. A
    suppressed cell is 0 here and its dyads go to one more one-year column, ``MERGED``: each
    episode category's total less its shown cells (which the table gives away already)."""
    t = results["table4_transitions"]
    cells = t[t["row_type"] == "level"]
    rows = list(dict.fromkeys(cells["level"]))
    cols = list(dict.fromkeys(cells["group"]))
    shown = cells.assign(n=[0 if hidden(v) else int(v) for v in cells["n"]])
    counts = (shown.pivot_table(index="level", columns="group", values="n", aggfunc="sum", sort=False)
              .reindex(index=rows, columns=cols).fillna(0).to_numpy(dtype=int))
    row_labels = cells.drop_duplicates("level")["level_label"].tolist()
    col_labels = cells.drop_duplicates("group")["group_label"].tolist()
    if (cells["n"].astype(object) == MARKER).any():
        totals = cells.drop_duplicates("level").set_index("level")["denominator"].reindex(rows).astype(int).to_numpy()
        counts = np.column_stack([counts, totals - counts.sum(axis=1)])
        col_labels = [*col_labels, MERGED]
    return row_labels, col_labels, counts, int(t["n_pairs"].iloc[0])


def _column_totals(results: Results, col_labels: list[str]) -> list[str]:
    """The one-year totals as the table's Total row releases them (the marker when suppressed); none for
    the merged column."""
    t = results["table4_transitions"]
    total = t[t["row_type"] == "total"].set_index("group_label")["n"]
    return [fmt_count(total[lab]) if lab in total.index else "" for lab in col_labels]


ALLUVIAL_BAR = 0.1


def _stack(sizes: np.ndarray, gap: float) -> np.ndarray:
    """Top edge of each block stacked from the top (block 0 highest), with ``gap`` between blocks."""
    total = sizes.sum() + gap * (len(sizes) - 1)
    return total - np.concatenate([[0], np.cumsum(sizes[:-1] + gap)])


def alluvial_flows(counts: np.ndarray, gap: float) -> list[tuple[int, int, float, float, int]]:
    """(from, to, bottom on the left, bottom on the right, width) of each non-empty flow: flows leave
    each episode category in one-year order and enter each one-year category in episode order."""
    counts = np.asarray(counts, dtype=int)
    left_top, right_top = _stack(counts.sum(axis=1), gap), _stack(counts.sum(axis=0), gap)
    left_used = np.zeros(len(left_top))
    flows = []
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            n = counts[i, j]
            if n == 0:
                continue
            left_used[i] += n
            right_top_j = right_top[j] - (counts[:i, j].sum() + n)
            flows.append((i, j, float(left_top[i] - left_used[i]), float(right_top_j), int(n)))
    return flows


def _spread(ys: list[float], step: float) -> list[float]:
    """Label heights (given top to bottom) moved apart to at least ``step``, keeping their order and
    centred on where they wanted to be."""
    out = list(ys)
    for k in range(1, len(out)):
        out[k] = min(out[k], out[k - 1] - step)
    shift = (sum(ys) - sum(out)) / len(out) if out else 0.0
    return [y + shift for y in out]


def csc_status_figure(results: Results, *, is_synthetic: bool, unit: str = "dyads") -> Figure:
    """Alluvial diagram: CSC status during the acute episode (left) and at one year (right), with a band
    for each change of category whose width is the number of dyads, among dyads with both known
    (``unit``: what the title calls them, "families" for practitioners)."""
    if _transitions_hidden(results):
        return withheld_figure(is_synthetic)
    setup_matplotlib()
    row_labels, col_labels, counts, n = _transitions(results)
    gap = 0.04 * max(n, 1)
    fig = Figure(figsize=(6.5, 4.6))
    ax = fig.add_subplot()
    ax.set_axis_off()
    x0, x1 = ALLUVIAL_BAR, 1 - ALLUVIAL_BAR
    xs = np.linspace(x0, x1, 60)
    ease = 3 * ((xs - x0) / (x1 - x0)) ** 2 - 2 * ((xs - x0) / (x1 - x0)) ** 3
    for i, j, yl, yr, w in alluvial_flows(counts, gap):
        low = yl + (yr - yl) * ease
        band = ax.fill_between(xs, low, low + w, facecolor=PALETTE[i % len(PALETTE)], alpha=0.35,
                               hatch=HATCHES[i % len(HATCHES)], edgecolor="#444444", linewidth=0.3)
        band.set_gid(f"flow-{i}-{j}")
    right_totals = _column_totals(results, col_labels)
    for side, sizes, labels, x in (("left", counts.sum(axis=1), row_labels, 0.0),
                                   ("right", counts.sum(axis=0), col_labels, x1)):
        tops = _stack(sizes, gap)
        ys = _spread([top - size / 2 for size, top in zip(sizes, tops)], 0.075 * (counts.sum() + gap * len(sizes)))
        for k, (size, top, lab) in enumerate(zip(sizes, tops, labels)):
            merged = lab == MERGED
            ax.bar(x, size, width=ALLUVIAL_BAR, bottom=top - size, align="edge",
                   color="#bbbbbb" if merged else PALETTE[k % len(PALETTE)],
                   hatch="" if merged else HATCHES[k % len(HATCHES)], edgecolor="black", linewidth=0.6)
            tx, ha = (-0.02, "right") if side == "left" else (1.02, "left")
            text = lab if merged else f"{lab}: {size if side == 'left' else right_totals[k]}"
            ax.text(tx, ys[k], textwrap.fill(text, 24), ha=ha, va="center", fontsize=7.5, linespacing=1.0)
    top = counts.sum() + gap * (counts.shape[0] - 1)
    ax.text(ALLUVIAL_BAR / 2, top + gap, "During the\nacute episode", ha="center", va="bottom", fontsize=8.5,
            fontweight="bold")
    ax.text(1 - ALLUVIAL_BAR / 2, top + gap, "One year after\ndischarge", ha="center", va="bottom", fontsize=8.5,
            fontweight="bold")
    ax.set_xlim(-0.45, 1.45)
    ax.set_ylim(-gap, top + 4 * gap)
    ax.set_title(f"{unit.capitalize()} followed up with CSC status known at both timepoints, N = {n}", fontsize=8.5,
                 loc="center")
    _synthetic(fig, is_synthetic)
    fig.tight_layout(rect=(0, 0.04 if is_synthetic else 0, 1, 1))
    return fig


def csc_status_alt(results: Results, *, unit: str = "dyads") -> str:
    """Text description of the CSC status figure, with every count of the transition table it shows
    (each as "n = k", so that check-disclosure can read it); suppressed flows are named as merged.
    ``unit``: what the text calls the dyads."""
    if _transitions_hidden(results):
        return WITHHELD_FIGURE
    row_labels, col_labels, counts, n = _transitions(results)
    cells = results["table4_transitions"]
    totals = cells[cells["row_type"] == "total"]
    cells = cells[cells["row_type"] == "level"]
    rows, cols = list(dict.fromkeys(cells["level"])), list(dict.fromkeys(cells["group"]))
    merged = MERGED in col_labels
    T = "table4_transitions"

    def count(x: int, **key: str) -> str:
        return sourced(str(x), (T, {"row_type": "level", **key}, "sum:n"))

    def column(c: str) -> str:
        v = totals.loc[totals["group"] == c, "n"].iloc[0] if (totals["group"] == c).any() else None
        if v is None or hidden(v):
            return MARKER
        return sourced(str(int(v)), (T, {"row_type": "total", "group": c}, "n"))

    def row_total(r: str) -> str:
        return sourced(str(int(cells.loc[cells["level"] == r, "denominator"].iloc[0])),
                       (T, {"row_type": "level", "level": r, "group": cols[0]}, "denominator"))

    pairs = sourced(str(n), (T, {}, "n_pairs"))             # records in the order the text shows them
    same = ("" if merged or counts.shape[0] != len(cols)
            else f"; {count(int(np.trace(counts[:, :len(cols)])), level='=group')} {unit} were in the same category at both")
    d = "; ".join(f"{lab} n = {row_total(r)}" for lab, r in zip(row_labels, rows))
    y = "; ".join(f"{lab} n = {column(c)}" for lab, c in zip(col_labels, cols))
    moves = []
    for i, lab in enumerate(row_labels):
        if counts[i].sum() == 0:
            continue
        total = row_total(rows[i])
        to = ", ".join(f"{col_labels[j]} n = {count(counts[i, j], level=rows[i], group=cols[j])}"
                       for j in range(len(cols)) if counts[i, j])
        rest = (" and the rest in merged flows" if to else "merged flows only") if merged and counts[i, -1] else ""
        moves.append(f"{lab} during the episode (n = {total}) to {to}{rest}")
    note = (f" Changes of fewer {unit} than the disclosure threshold are drawn as one merged grey band for each "
            "category during the episode, without their numbers." if merged else "")
    return (f"Alluvial diagram of children's social care status for the {pairs} {unit} followed up with status known "
            f"at both timepoints{same}. During the acute episode: {d}. One year after discharge: {y}. "
            "From each category during the episode to one year: " + "; ".join(moves) + "." + note)


def _domains(results: Results) -> pd.DataFrame:
    """The rows the unmet-need figure draws, by CSC group: the groups of CAN-M domains (each counting an
    unmet need in any of its domains) where the table has them, else each domain; column ``domain``
    names them and ``level`` is the level shown."""
    t = results["table3_needs"]
    rows = t[(t["row_type"] == "level") & (t["group"] != "overall")]
    groups = rows[rows["variable"].isin(group_rows(t))]
    if len(groups):
        return groups.assign(domain=[shown_label(r).split(" (")[0] for _, r in groups.iterrows()])
    d = rows[(rows["level"] == "2") & rows["variable"].str.startswith("canm_1y_d")]
    return d.assign(domain=d["label"].str.replace(r"^CAN-M domain \d+: ", "", regex=True)
                    .str.replace(r" \(one year\)$", "", regex=True))


def unmet_need_figure(results: Results, *, is_synthetic: bool) -> Figure:
    """Grouped horizontal bars: % of mothers with an unmet need in each group of CAN-M domains (or each
    domain) at one year, by CSC involvement."""
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
        shown = [not hidden(p) for p in sub["percent"]]
        for y, p in zip(pos, sub["percent"]):
            if hidden(p):
                ax.text(0.3, y, MARKER, va="center", ha="left", fontsize=7)
        pcts = [float(p) if ok and pd.notna(p) else 0.0 for p, ok in zip(sub["percent"], shown)]
        ax.barh(pos, pcts, height=h, color=PALETTE[k], hatch=HATCHES[k + 1 if k else 0],
                edgecolor="black", linewidth=0.4, label=sub["group_label"].iloc[0])
    shown = pd.to_numeric(d["percent"].astype(object).replace(MARKER, np.nan), errors="coerce")
    ax.set_xlim(0, max(10.0, float(np.nanmax(shown.to_numpy(dtype=float), initial=0)) * 1.05))
    ax.set_yticks(range(len(domains)), domains, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Mothers with an unmet need at one year (% of those assessed)"
                  + (f"; {MARKER} suppressed" if (d["percent"].astype(object) == MARKER).any() else ""))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)
    _synthetic(fig, is_synthetic)
    fig.tight_layout(rect=(0, 0.04 if is_synthetic else 0, 1, 1))
    return fig


def unmet_need_alt(results: Results, top: int = 3) -> str:
    """Alt text for the unmet-need figure: the domains most often unmet in each group, with percentages."""
    d = _domains(results)
    grouped = not d["variable"].str.startswith("canm_1y_d").any()
    parts = []
    for g in dict.fromkeys(d["group"]):
        sub = d[(d["group"] == g) & (d["percent"].astype(object) != MARKER)]
        sub = sub.assign(percent=sub["percent"].astype(float)).sort_values("percent", ascending=False, kind="stable").head(top)
        items = ", ".join(f"{dom.lower() if grouped else dom} "
                          + sourced(f"{pct:.1f}%", ("table3_needs", {"variable": var, "group": g, "level": lv,
                                                                    "row_type": "level"}, "percent"))
                          for dom, pct, var, lv in zip(sub["domain"], sub["percent"], sub["variable"], sub["level"])
                          ) or "every value suppressed"
        parts.append(f"{d.loc[d['group'] == g, 'group_label'].iloc[0]}: {items}")
    what = ("group of CAN-M domains (an unmet need in any domain of the group)" if grouped
            else f"of the {d['domain'].nunique()} CAN-M domains")
    return (f"Horizontal bars of the percentage of mothers with an unmet need in each {what} at one year, by "
            "children's social care involvement during the episode. Most often unmet: " + "; ".join(parts) + "."
            + (" Rows with a suppressed value are not ranked." if (d["percent"].astype(object) == MARKER).any() else ""))


# ---- service contacts over the year (the funder's report) -----------------------------------------------

SERVICES = ("su_gp", "su_health_visitor", "su_pmht", "su_cmht", "su_social_worker", "su_crisis")


def _service_rows(results: Results) -> pd.DataFrame:
    t = results["table3_needs"]
    rows = t[t["variable"].isin(SERVICES) & (t["row_type"] == "summary") & (t["group"].astype(str) != "overall")]
    return rows.assign(service=rows["label"].str.replace(" contacts over the year", "", regex=False))


def service_use_figure(results: Results, *, is_synthetic: bool) -> Figure:
    """Median (dot) and interquartile range (line) of contacts with each service over the year after
    discharge, by CSC involvement during the episode."""
    setup_matplotlib()
    d = _service_rows(results)
    services = list(dict.fromkeys(d["service"]))
    groups = list(dict.fromkeys(d["group"].astype(str)))
    fig = Figure(figsize=(6.5, 0.42 * len(services) + 1.3))
    ax = fig.add_subplot()
    markers = ("o", "s")
    for k, g in enumerate(groups):
        sub = d[d["group"].astype(str) == g].set_index("service").reindex(services)
        y = np.arange(len(services)) + (k - (len(groups) - 1) / 2) * 0.28
        for yi, (_, r) in zip(y, sub.iterrows()):
            if any_hidden(r["median"], r["q1"], r["q3"]):
                ax.text(0.2, yi, MARKER, va="center", fontsize=7)
                continue
            ax.plot([float(r["q1"]), float(r["q3"])], [yi, yi], color=PALETTE[k], linewidth=2,
                    linestyle="-" if k == 0 else (0, (3, 1)))
            ax.plot(float(r["median"]), yi, marker=markers[k % 2], color=PALETTE[k], markersize=6,
                    markeredgecolor="black", markeredgewidth=0.4)
        ax.plot([], [], marker=markers[k % 2], color=PALETTE[k], label=sub["group_label"].iloc[0],
                linestyle="-" if k == 0 else (0, (3, 1)))
    ax.set_yticks(range(len(services)), services, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Contacts over the year after discharge: median (dot) and middle half of families (line)")
    ax.set_xlim(left=0)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)
    _synthetic(fig, is_synthetic)
    fig.tight_layout(rect=(0, 0.04 if is_synthetic else 0, 1, 1))
    return fig


def service_use_alt(results: Results) -> str:
    """Text description of the service-use figure: each service's median and interquartile range by group."""
    d = _service_rows(results)
    parts = []
    for g in dict.fromkeys(d["group"].astype(str)):
        sub = d[d["group"].astype(str) == g]
        items = []
        for _, r in sub.iterrows():
            if any_hidden(r["median"], r["q1"], r["q3"]):
                items.append(f"{r['service']} withheld")
                continue
            key = {"variable": r["variable"], "group": g, "row_type": "summary"}
            items.append(f"{r['service']} " + sourced(
                f"{fmt_num(r['median'], 1)} ({fmt_num(r['q1'], 1)} to {fmt_num(r['q3'], 1)})",
                *(("table3_needs", key, c) for c in ("median", "q1", "q3"))))
        parts.append(f"{sub['group_label'].iloc[0]}: " + "; ".join(items))
    return ("Dots and lines of the number of contacts with each service over the year after discharge, by "
            "children's social care involvement during the episode: median (interquartile range). "
            + ". ".join(parts) + ".")


# ---- participant flow -------------------------------------------------------------------------------

FLOW_GROUP_X = {"1": 14.0, "0": 63.0}
FLOW_MAIN_W, FLOW_SIDE_W, FLOW_BOX_H, FLOW_SIDE_GAP = 24.0, 21.0, 7.0, 2.0
AXES_WIDTH_PT = 6.5 * 72 * 0.95
EXCLUDED_FACE = "#EEEEEE"


def _flow_row(results: Results, stage: str, group: str = "overall") -> pd.Series:
    f = results["flow"]
    return f[(f["stage"] == stage) & (f["group"] == group)].iloc[0]


def flow_boxes(results: Results) -> list[dict]:
    """The boxes of the flow diagram (stage, group, kind, text), all text made from the ``flow`` table."""
    def n_text(r: pd.Series, pct: bool = True) -> str:
        shown = pct and not hidden(r["percent"]) and not hidden(r["n"]) and pd.notna(r["percent"])
        return f"n = {fmt_count(r['n'])}" + (f" ({float(r['percent']):.1f}%)" if shown else "")

    cohort, analysed = _flow_row(results, "cohort"), _flow_row(results, "analysed_episode")
    boxes = [{"stage": "cohort", "group": "overall", "kind": "main", "text": f"{cohort['stage_label']}\n{n_text(cohort, False)}"},
             {"stage": "analysed_episode", "group": "overall", "kind": "excluded",
              "text": f"Not analysed: {analysed['reason']}\nn = {fmt_count(analysed['excluded'])}"},
             {"stage": "analysed_episode", "group": "overall", "kind": "main",
              "text": f"{analysed['stage_label']}\n{n_text(analysed, False)}"}]
    for g in FLOW_GROUP_X:
        grp, m1 = _flow_row(results, "analysed_episode", g), _flow_row(results, "followed_up_1m", g)
        y1, a1 = _flow_row(results, "followed_up_1y", g), _flow_row(results, "analysed_1y", g)
        boxes += [
            {"stage": "analysed_episode", "group": g, "kind": "group", "text": f"{grp['group_label']}\n{n_text(grp)}"},
            {"stage": "followed_up_1m", "group": g, "kind": "note",
             "text": f"{m1['stage_label']}\n{n_text(m1)}\n{m1['reason']}: n = {fmt_count(m1['excluded'])}"},
            {"stage": "followed_up_1y", "group": g, "kind": "excluded", "text": f"{y1['reason']}\nn = {fmt_count(y1['excluded'])}"},
            {"stage": "followed_up_1y", "group": g, "kind": "main", "text": f"{y1['stage_label']}\n{n_text(y1)}"},
            {"stage": "analysed_1y", "group": g, "kind": "excluded", "text": f"{a1['reason']}\nn = {fmt_count(a1['excluded'])}"},
            {"stage": "analysed_1y", "group": g, "kind": "main", "text": f"{a1['stage_label']}\n{n_text(a1, False)}"},
        ]
    return boxes


def _draw_box(ax, cx: float, cy: float, w: float, h: float, text: str, *, face: str = "white",
              dashed: bool = False, gid: str = "", size: float = 7.5) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.8",
                                facecolor=face, edgecolor="black", linewidth=0.8, linestyle="--" if dashed else "-"))
    chars = max(10, int(w * AXES_WIDTH_PT / 100 / (0.55 * size)) - 2)
    wrapped = "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))
    ax.text(cx, cy, wrapped, ha="center", va="center", fontsize=size, linespacing=1.1, gid=gid)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], dashed: bool = False) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 0.8,
                                                      "linestyle": "--" if dashed else "-", "shrinkA": 0, "shrinkB": 0})


def flow_figure(results: Results, *, is_synthetic: bool) -> Figure:
    """Participant flow diagram: cohort, analysed for the episode, the two groups, follow-up at one
    month (beside the main path: counted separately) and one year, analysed at one year; exclusion
    boxes (grey) give the reasons. Every number comes from the ``flow`` result table."""
    setup_matplotlib()
    fig = Figure(figsize=(6.5, 6.4))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    y = {"cohort": 94, "excl_episode": 84.5, "analysed_episode": 75, "group": 59, "followed_up_1m": 46.5,
         "excl_1y": 35.5, "followed_up_1y": 25, "excl_analysed_1y": 15, "analysed_1y": 5}
    centre, h = sum(FLOW_GROUP_X.values()) / 2, FLOW_BOX_H
    side_y = {("analysed_episode", "excluded"): y["excl_episode"], ("followed_up_1y", "excluded"): y["excl_1y"],
              ("analysed_1y", "excluded"): y["excl_analysed_1y"], ("followed_up_1m", "note"): y["followed_up_1m"]}
    for b in flow_boxes(results):
        gid = f"flow-box-{b['stage']}-{b['group']}-{b['kind']}"
        face = EXCLUDED_FACE if b["kind"] == "excluded" else "white"
        if b["group"] == "overall" and b["kind"] == "main":
            _draw_box(ax, centre, y[b["stage"]], FLOW_MAIN_W, h, b["text"], gid=gid)
            continue
        if b["group"] == "overall":
            gx, w = centre, FLOW_SIDE_W * 1.4
        else:
            gx, w = FLOW_GROUP_X[b["group"]], FLOW_SIDE_W
        if b["kind"] == "group":
            k = list(FLOW_GROUP_X).index(b["group"])
            _draw_box(ax, gx, y["group"], FLOW_MAIN_W, h, b["text"], face=PALETTE[k] + "40", gid=gid)
        elif b["kind"] == "main":
            _draw_box(ax, gx, y[b["stage"]], FLOW_MAIN_W, h, b["text"], gid=gid)
        else:
            yy, left = side_y[(b["stage"], b["kind"])], gx + FLOW_MAIN_W / 2 + FLOW_SIDE_GAP
            note = b["kind"] == "note"
            _draw_box(ax, left + w / 2, yy, w, h * (1.45 if note else 1.0), b["text"], face=face, dashed=note,
                      gid=gid, size=6.5)
            _arrow(ax, (gx, yy), (left, yy), dashed=note)
    _arrow(ax, (centre, y["cohort"] - h / 2), (centre, y["analysed_episode"] + h / 2))
    split = (y["analysed_episode"] - h / 2 + y["group"] + h / 2) / 2
    ax.plot([centre, centre], [y["analysed_episode"] - h / 2, split], color="black", lw=0.8)
    ax.plot(list(FLOW_GROUP_X.values()), [split, split], color="black", lw=0.8)
    for gx in FLOW_GROUP_X.values():
        _arrow(ax, (gx, split), (gx, y["group"] + h / 2))
        _arrow(ax, (gx, y["group"] - h / 2), (gx, y["followed_up_1y"] + h / 2))
        _arrow(ax, (gx, y["followed_up_1y"] - h / 2), (gx, y["analysed_1y"] + h / 2))
    _synthetic(fig, is_synthetic)
    fig.tight_layout(rect=(0, 0.03 if is_synthetic else 0, 1, 1))
    return fig


def flow_alt(results: Results) -> str:
    """Text description of the flow diagram, from the ``flow`` table (each count as "n = k" or before
    "dyads", so that check-disclosure can read it)."""
    def c(stage: str, group: str, column: str) -> str:
        return sourced(fmt_count(_flow_row(results, stage, group)[column]), ("flow", {"stage": stage, "group": group}, column))

    analysed = _flow_row(results, "analysed_episode")
    parts = [f"Flow diagram. {c('cohort', 'overall', 'n')} dyads in the parent cohort; not analysed ({analysed['reason']}): "
             f"n = {c('analysed_episode', 'overall', 'excluded')}; {c('analysed_episode', 'overall', 'n')} dyads analysed for "
             "the acute episode."]
    for g in FLOW_GROUP_X:
        grp = _flow_row(results, "analysed_episode", g)
        parts.append(f"{grp['group_label']}: n = {c('analysed_episode', g, 'n')}; followed up at one month n = "
                     f"{c('followed_up_1m', g, 'n')} (not followed up n = {c('followed_up_1m', g, 'excluded')}); followed "
                     f"up at one year n = {c('followed_up_1y', g, 'n')} (lost to follow-up n = {c('followed_up_1y', g, 'excluded')}); "
                     f"analysed at one year n = {c('analysed_1y', g, 'n')} (CSC status at one year not known n = "
                     f"{c('analysed_1y', g, 'excluded')}).")
    if (results["flow"][["n", "excluded"]].astype(object) == MARKER).any().any():
        parts.append(SUPPRESSED_NOTE)
    return " ".join(parts)


