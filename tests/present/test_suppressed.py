"""Suppressed values reach no page: tables, figure text, alt text and inline sentences built from a
release show the marker (or withhold the figure) and contain no protected count."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from perinatal_csc.disclose.check import counts_in
from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.present import descriptive as pdx
from perinatal_csc.present import figures as pfig
from perinatal_csc.present import headline as ph
from perinatal_csc.present.fmt import fmt_count, fmt_n_of, fmt_n_pct, fmt_num, fmt_p

COHORT = PRESETS["cohort"]


def small(text: str) -> list[int]:
    return [n for _, n in counts_in(text) if COHORT.protects(n)]


def flow():
    """A flow in which 3 dyads of the group with CSC involvement were not followed up at one month."""
    rows = [("cohort", "Dyads in the cohort", None, "overall", "Overall", 120, 0, None, None)]
    for g, label, size, m1, y1 in (("overall", "Overall", 120, 23, 40), ("1", "With CSC involvement", 40, 3, 12),
                                   ("0", "Without CSC involvement", 80, 20, 28)):
        parent = "cohort" if g == "overall" else "analysed_episode"
        rows += [("analysed_episode", "Analysed for the acute episode", parent, g, label, size, 0,
                  "CSC status during the episode not known", 120),
                 ("followed_up_1m", "Followed up at one month", "analysed_episode", g, label, size - m1, m1,
                  "Not followed up at one month", size),
                 ("followed_up_1y", "Followed up at one year", "analysed_episode", g, label, size - y1, y1,
                  "Lost to follow-up at one year", size),
                 ("analysed_1y", "Analysed at one year", "followed_up_1y", g, label, size - y1, 0,
                  "Followed up, CSC status at one year not known", size - y1)]
    f = pd.DataFrame(rows, columns=["stage", "stage_label", "parent", "group", "group_label", "n", "excluded", "reason",
                                    "parent_n"])
    f["percent"] = np.where(f["parent_n"].notna(), 100 * f["n"] / f["parent_n"].astype(float), np.nan)
    return f


def test_formats_print_the_marker():
    assert [fmt_count(MARKER), fmt_num(MARKER), fmt_p(MARKER), fmt_n_pct(MARKER, MARKER), fmt_n_pct(12, MARKER),
            fmt_n_of(MARKER, 208), fmt_count(7)] == [MARKER, MARKER, MARKER, MARKER, f"12 ({MARKER})", MARKER, "7"]


def test_flow_table_figure_and_alt_text_carry_no_small_count():
    full = {"flow": flow()}
    assert small(pfig.flow_alt(full))                           # the fixture does hold one: 3
    r = release(full, COHORT).tables
    alt = pfig.flow_alt(r)
    assert MARKER in alt and not small(alt)
    boxes = " | ".join(b["text"] for b in pfig.flow_boxes(r))
    assert MARKER in boxes and not small(boxes)
    html = pdx.table6_flow(r, is_synthetic=True).as_raw_html()
    assert not small(re.sub(r"<[^>]+>", " ", html))
    fig = pfig.flow_figure(r, is_synthetic=True)
    drawn = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert MARKER in drawn and not small(drawn)


def transitions(small_cell=2):
    levels = [("none", "No involvement"), ("cin", "Child in need")]
    counts = {("none", "none"): 60, ("none", "cin"): small_cell, ("cin", "none"): 10, ("cin", "cin"): 30}
    rows = []
    for lv, lab in levels:
        den = sum(counts[lv, g] for g, _ in levels)
        for g, glab in levels:
            rows.append({"variable": "csc_status_index", "label": "CSC status", "row_type": "level", "level": lv,
                         "level_label": lab, "group": g, "group_label": glab, "group_variable": "csc_status_1y",
                         "n": counts[lv, g], "denominator": den, "percent": 100 * counts[lv, g] / den, "n_pairs": 102})
    return pd.DataFrame(rows)


def test_the_alluvial_figure_merges_suppressed_flows_and_shows_no_small_count():
    assert 2 in small(pfig.csc_status_alt({"table4_transitions": transitions()}))   # unprotected: readable
    r = release({"table4_transitions": transitions()}, COHORT).tables
    assert (r["table4_transitions"]["n"].astype(object) == MARKER).any()
    alt = pfig.csc_status_alt(r)
    assert alt != pfig.WITHHELD_FIGURE and "merged" in alt and not small(alt)
    fig = pfig.csc_status_figure(r, is_synthetic=False)
    drawn = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert fig.axes and pfig.MERGED.split()[0] in drawn and not small(drawn)
    # the bands drawn: every released flow, and per episode category the rest of its total (never a small one alone)
    flows = [p for ax in fig.axes for p in ax.collections if str(p.get_gid()).startswith("flow-")]
    assert flows
    kept = release({"table4_transitions": transitions(small_cell=20)}, COHORT).tables
    assert "merged" not in pfig.csc_status_alt(kept)
    totals_hidden = kept["table4_transitions"].assign(denominator=MARKER)
    assert pfig.csc_status_alt({"table4_transitions": totals_hidden}) == pfig.WITHHELD_FIGURE


def test_inline_sentences_and_natural_frequencies_hide_a_small_count():
    full = pd.DataFrame([
        {"measure": "dyads", "label": "Dyads", "population": "cohort", "n": 120, "denominator": np.nan, "percent": np.nan},
        {"measure": "sites", "label": "Sites", "population": "cohort", "n": 12, "denominator": np.nan, "percent": np.nan},
        {"measure": "csc_index", "label": "CSC", "population": "cohort", "n": 40, "denominator": 120, "percent": 33.3},
        {"measure": "followed_1y", "label": "Followed", "population": "cohort", "n": 80, "denominator": 120, "percent": 66.7},
        {"measure": "csc_1y", "label": "CSC 1y", "population": "f", "n": 30, "denominator": 80, "percent": 37.5},
        {"measure": "not_in_care_1y", "label": "Not in care", "population": "f", "n": 3, "denominator": 80, "percent": 3.75},
        {"measure": "cpp_1y", "label": "CPP", "population": "f", "n": 77, "denominator": 80, "percent": 96.25}])
    h = ph.headline(release({"headline": full}, COHORT).tables)
    sentences = [h.not_in_care_1y_text, h.cpp_1y_text,
                 f"({h.not_in_care_1y} of {h.not_in_care_1y_of})", h.csc_1y_text]
    assert not any(small(s) for s in sentences)
    # 77 of 80 implies 3; prose is Markdown, so the marker comes escaped (never read as emphasis)
    assert h.not_in_care_1y_text == "\\" + MARKER and h.cpp_1y_text == "\\" + MARKER
    assert h.csc_1y_text == "30 (37.5%)"
