"""Descriptive tables and figures: cells are the tidy numbers, formatted by the stated rounding rules."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from perinatal_csc import describe
from perinatal_csc.codebook import load_codebook
from perinatal_csc.present import descriptive as pdx
from perinatal_csc.present import figures as pfig
from perinatal_csc.present.style import SYNTHETIC_NOTE

CB = load_codebook()


@pytest.fixture(scope="module")
def run():
    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort
    cfg = load_config(source="synthetic")
    df = cohort(cfg)
    return df, describe.results(df, cfg)


def test_format_rules():
    assert pdx.fmt_p(0.0004) == "<0.001" and pdx.fmt_p(0.0126) == "0.013" and pdx.fmt_p(np.nan) == pdx.DASH
    assert pdx.fmt_n_pct(12, 100 * 12 / 35) == "12 (34.3%)"
    assert pdx.fmt_n_pct(3, None) == "3"


def test_table1_cells_match_raw_counts(run):
    df, r = run
    frame, tests = pdx.display_frame(r["table1_sociodemographic"], ("1", "0", "overall"))
    known = df[df.csc_any_index.notna()]
    g1 = known[known.csc_any_index == 1]
    n = int((g1.relationship == "single").sum())
    d = int(g1.relationship.notna().sum())
    line = frame[(frame.variable == "relationship") & (frame.characteristic == pdx.INDENT + "Single")].iloc[0]
    assert line["1"] == f"{n} ({100 * n / d:.1f}%)"
    nk = frame[(frame.variable == "relationship") & (frame.characteristic == pdx.INDENT + "Not known")].iloc[0]
    assert nk["overall"] == str(int(known.relationship.isna().sum()))
    age = frame[frame.variable == "maternal_age"].iloc[0]
    a = g1.maternal_age.dropna()
    assert age["1"] == f"{a.mean():.1f} ({a.std(ddof=1):.1f})"
    assert "mean (SD)" in age.characteristic and "(years)" in age.characteristic
    kids = frame[frame.variable == "n_other_children"].iloc[0]
    q = np.percentile(known.n_other_children.dropna().astype(float), [50, 25, 75])
    assert kids["overall"] == f"{q[0]:.1f} [{q[1]:.1f}, {q[2]:.1f}]"
    assert set(tests) <= {"Pearson's chi-square test", "Fisher's exact test", "Welch's t-test"} | {
        t for t in tests if "Monte Carlo" in t or "Mann" in t}


def test_gt_tables_carry_headers_tests_and_synthetic_note(run):
    _, r = run
    html = pdx.table1(r, is_synthetic=True).as_raw_html()
    n1 = int(r["table1_sociodemographic"].query("group == '1'").group_n.iloc[0])
    assert f"With CSC involvement, N = {n1}" in html
    assert "Not known" in html and "Pearson" in html and SYNTHETIC_NOTE in html
    assert SYNTHETIC_NOTE not in pdx.table1(r, is_synthetic=False).as_raw_html()
    for f in (pdx.table2, pdx.table3, pdx.table4_transitions, pdx.table4_needs, pdx.table5, pdx.table6_flow):
        h = f(r, is_synthetic=True).as_raw_html()
        assert SYNTHETIC_NOTE in h
        low = h.lower()
        assert "custody" not in low and "unfit" not in low


def test_transition_note_reports_paired_tests(run):
    _, r = run
    html = pdx.table4_transitions(r, is_synthetic=True).as_raw_html()
    t = r["table4_paired_tests"].set_index("variable")
    assert "Stuart–Maxwell" in html and "Exact McNemar" in html
    assert f"p = {pdx.fmt_p(t.at['csc_status', 'p'])}" in html


def test_prose_helpers(run):
    df, r = run
    n1 = int((df.csc_any_index == 1).sum())
    assert pdx.flow_n(r, "analysed_episode", "1", percent=True) == f"{n1} ({100 * n1 / df.csc_any_index.notna().sum():.1f}%)"
    assert re.fullmatch(r"p (= \d\.\d{3}|< 0\.001)", pdx.p_value(r, "table1_sociodemographic", "deprived"))


def test_figures_and_alt_text_from_the_data(run):
    df, r = run
    assert isinstance(pfig.csc_status_figure(r, is_synthetic=True), Figure)
    assert isinstance(pfig.unmet_need_figure(r, is_synthetic=True), Figure)
    both = df.csc_status_index.notna() & df.csc_status_1y.notna()
    alt = pfig.csc_status_alt(r)
    assert f"the {int(both.sum())} dyads" in alt
    n_cpp = int((df.loc[both, "csc_status_1y"] == "child_protection_plan").sum())
    assert f"One year after discharge: " in alt and f"Child Protection Plan {n_cpp}" in alt.split("One year")[1]
    assert "26 CAN-M domains" in pfig.unmet_need_alt(r)
