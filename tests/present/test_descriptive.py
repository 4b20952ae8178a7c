"""Descriptive tables and figures: cells are the tidy numbers, formatted by the stated rounding rules."""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from perinatal_csc.stats import describe
from perinatal_csc.data.codebook import load_codebook
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
    assert pdx.fmt_median_iqr(2.0, 0.0, 3.0) == "2.0 [0.0, 3.0]"
    assert pdx.fmt_median_iqr(2.0, 0.25, 3.0) == "2.0 [0.2, 3.0]"


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
    qs = {g: np.percentile(sub.n_other_children.dropna().astype(float), [50, 25, 75])
          for g, sub in (("1", g1), ("0", known[known.csc_any_index == 0]), ("overall", known))}
    for g, q in qs.items():
        assert kids[g] == f"{q[0]:.1f} [{q[1]:.1f}, {q[2]:.1f}]"
    infant = frame[frame.variable == "infant_age_weeks"].iloc[0]
    q = np.percentile(known.infant_age_weeks.dropna().astype(float), [50, 25, 75])
    assert infant["overall"] == f"{q[0]:.1f} [{q[1]:.1f}, {q[2]:.1f}]"
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


def test_table4_reconciles_looked_after_with_not_in_the_mothers_care(run):
    """Table 4's last one-year column (CSC placements, status known at both timepoints) and the abstract's
    infants not in the mother's care (any arrangement, followed up) are counted from the raw data here."""
    df, r = run
    both = df.csc_status_index.notna() & df.csc_status_1y.notna()
    looked_after = int((df.loc[both, "csc_status_1y"] == "looked_after").sum())
    followed = df.infant_not_in_care_1y.notna()
    away = int((df.loc[followed, "infant_not_in_care_1y"] == 1).sum())
    note = pdx.care_reconciliation_note(r)
    assert f"(column total {looked_after})" in note and "only placements made by CSC" in note
    assert f"by any arrangement, including with relatives by a family arrangement: {away} of the {int(followed.sum())}" in note
    assert note in html.unescape(pdx.table4_transitions(r, is_synthetic=True).as_raw_html())
    assert pdx.care_reconciliation_note({k: v for k, v in r.items() if k != "headline"}) == ""


def test_prose_helpers(run):
    df, r = run
    n1 = int((df.csc_any_index == 1).sum())
    assert pdx.flow_n(r, "analysed_episode", "1", percent=True) == f"{n1} ({100 * n1 / df.csc_any_index.notna().sum():.1f}%)"
    assert re.fullmatch(r"p (= \d\.\d{3}|< 0\.001)", pdx.p_value(r, "table1_sociodemographic", "deprived"))


def test_figures_and_alt_text_from_the_data(run):
    df, r = run
    assert isinstance(pfig.unmet_need_figure(r, is_synthetic=True), Figure)
    both = df.csc_status_index.notna() & df.csc_status_1y.notna()
    alt = pfig.csc_status_alt(r)
    assert f"the {int(both.sum())} dyads" in alt
    n_cpp = int((df.loc[both, "csc_status_1y"] == "child_protection_plan").sum())
    assert "One year after discharge: " in alt and f"Child Protection Plan n = {n_cpp}" in alt.split("One year")[1]
    same = int((df.loc[both, "csc_status_index"].astype(str) == df.loc[both, "csc_status_1y"].astype(str)).sum())
    assert f"{same} dyads were in the same category" in alt
    families = pfig.csc_status_alt(r, unit="families")
    assert f"the {int(both.sum())} families" in families and f"{same} families were" in families
    assert "dyad" not in families
    unmet = pfig.unmet_need_alt(r)
    assert "each group of CAN-M domains" in unmet
    # each group of domains counted from the raw ratings: any of its domains rated 2 (unmet need), among
    # mothers followed up at one year with at least one of them known; the three highest are named
    cb = load_codebook()
    for code, label in ((1, "With CSC involvement"), (0, "Without CSC involvement")):
        pcts = {}
        for v in cb:
            if v.any_of is None:
                continue
            ratings = df[list(v.inputs)].astype(object)
            mask = ((df.followed_up_1y == 1).fillna(False) & ratings.notna().any(axis=1)
                    & (df.csc_any_index == code).fillna(False))
            pcts[v.short_label.split(" (")[0].lower()] = 100 * (ratings[mask] == 2).any(axis=1).sum() / mask.sum()
        part = unmet.split(f"{label}: ")[1].split(";")[0]
        top = sorted(pcts.items(), key=lambda kv: -kv[1])[:3]
        assert all(f"{name} {pct:.1f}%" in part for name, pct in top), (part, top)
    assert "Most often unmet: " in unmet


def test_letters_follow_first_use_in_every_table(run):
    _, r = run
    for key in ("table1_sociodemographic", "table2_clinical", "table3_needs"):
        t = r[key]
        html = pdx.characteristics_table(t, is_synthetic=False).as_raw_html()
        tested = [x for x in t.drop_duplicates("variable").test if x and x != "Not tested"]
        expected = list(dict.fromkeys(tested))
        note = re.search(r"Tests: (.*?)</span>", html).group(1)
        assert re.findall(r"<sup>([a-z])</sup>", note) == [chr(ord("a") + i) for i in range(len(expected))]
        cells = re.findall(r'headers="[^"]*\bp\b[^"]*"[^>]*>[^<]*<sup>([a-z])</sup>', html)
        assert cells and cells == [chr(ord("a") + expected.index(x)) for x in tested], key


def test_canm_domains_are_named_by_domain_under_one_heading(run):
    _, r = run
    frame, _ = pdx.display_frame(r["table3_needs"], ("1", "0", "overall"))
    domains = [v.name for v in CB.select(group="canm_domain", timepoint="1y")]
    lines = frame[frame.variable.isin(domains) & ~frame.characteristic.str.startswith(pdx.INDENT)]
    assert len(lines) == 26
    for variable, shown in zip(lines.variable, lines.characteristic):
        full = CB[variable].label                         # 'CAN-M domain 7: Psychotic symptoms (one year)'
        assert shown == full.split(": ", 1)[1].rsplit(" (", 1)[0]
    assert set(lines.section) == {"Unmet need at one year, by CAN-M domain, n (%)"}
    assert not frame[frame.variable.isin(domains)].characteristic.str.contains("CAN-M domain").any()


def test_flow_figure_counts_equal_the_flow_table(run):
    df, r = run
    fig = pfig.flow_figure(r, is_synthetic=True)
    texts = {t.get_gid(): t.get_text().replace("\n", " ") for ax in fig.axes for t in ax.texts if t.get_gid()}
    f = r["flow"].set_index(["stage", "group"])
    allowed = set()
    for (_, _), row in f.iterrows():
        allowed |= {str(int(row.n)), str(int(row.excluded))}
        if pd.notna(row.percent):
            allowed.add(f"{row.percent:.1f}")
    for gid, text in texts.items():
        for tok in re.findall(r"\d+(?:\.\d+)?", text):
            assert tok in allowed, (gid, tok, text)
    with_ = df.csc_any_index == 1
    fu = df.followed_up_1y == 1
    assert f"n = {len(df)}" in texts["flow-box-cohort-overall-main"]
    assert f"n = {int(with_.sum())} (" in texts["flow-box-analysed_episode-1-group"]
    assert f"n = {int((with_ & fu).sum())} (" in texts["flow-box-followed_up_1y-1-main"]
    assert f"n = {int((with_ & ~fu).sum())}" in texts["flow-box-followed_up_1y-1-excluded"]
    known_1y = df.csc_status_1y.notna()
    assert texts["flow-box-analysed_1y-0-main"].endswith(f"n = {int(((df.csc_any_index == 0) & fu & known_1y).sum())}")
    alt = pfig.flow_alt(r)
    assert f"{len(df)} dyads in the parent cohort" in alt and f"followed up at one year n = {int((with_ & fu).sum())}" in alt


def test_alluvial_flow_widths_equal_transition_counts(run):
    df, r = run
    fig = pfig.csc_status_figure(r, is_synthetic=True)
    both = df[df.csc_status_index.notna() & df.csc_status_1y.notna()]
    codes = CB["csc_status_index"].codes
    ct = pd.crosstab(pd.Categorical(both.csc_status_index.astype(str), codes),
                     pd.Categorical(both.csc_status_1y.astype(str), codes), dropna=False)
    bands = {c.get_gid(): c for ax in fig.axes for c in ax.collections if (c.get_gid() or "").startswith("flow-")}
    expected = {f"flow-{i}-{j}": int(ct.iloc[i, j]) for i in range(len(codes)) for j in range(len(codes)) if ct.iloc[i, j]}
    assert set(bands) == set(expected)
    for gid, n in expected.items():
        v = bands[gid].get_paths()[0].vertices
        for x in (v[:, 0].min(), v[:, 0].max()):              # the band's width where it leaves and arrives
            ys = v[np.isclose(v[:, 0], x), 1]
            assert ys.max() - ys.min() == pytest.approx(n), gid
    assert sum(expected.values()) == len(both)


def test_table3_follow_up_note_gives_each_timepoint_its_own_counts(run):
    df, r = run
    html = pdx.table3(r, is_synthetic=True).as_raw_html()
    known = df[df.csc_any_index.notna()]
    for flag, when in (("followed_up_1m", "at one month"), ("followed_up_1y", "at one year")):
        n1 = int(((known.csc_any_index == 1) & (known[flag] != 1)).sum())
        n0 = int(((known.csc_any_index == 0) & (known[flag] != 1)).sum())
        assert f"{when}: With CSC involvement {n1}, Without CSC involvement {n0}" in html
    assert "domains rated 9 (not known)" in html
    assert "CAN-M domains not known at one year" in html


def test_table5_note_counts_involved_dyads_with_unknown_sub_group_status(run):
    df, r = run
    involved = df[(df.csc_any_index == 1).fillna(False) | (df.csc_any_1y == 1).fillna(False)]
    html = pdx.table5(r, is_synthetic=True).as_raw_html()
    for sub in describe.SUBGROUPS:
        assert f"{int(involved[sub].isna().sum())} of {len(involved)} for" in html
    assert involved["cpp_1y"].isna().sum() > 0


def test_needs_change_note_counts_dyads_with_domains_not_known(run):
    df, r = run
    domains = df[[f"canm_1y_d{i:02d}" for i in range(1, 27)]]
    rated = df.followed_up_1y.eq(1).fillna(False) & domains.notna().all(axis=1)
    both = df.canm_1m_unmet.notna() & df.canm_1y_unmet.notna() & df.csc_any_index.notna()
    html = pdx.table4_needs(r, is_synthetic=True).as_raw_html()
    assert f"CAN-M unmet needs: {int((both & ~rated).sum())}" in html
    assert "one year minus one month" in html
    assert pdx.needs_pairs_text(r).startswith(f"{int((both & rated).sum())} dyads;")


@pytest.mark.parametrize("p1, p0, expected", [(60.0, 40.0, "more often than those without"),
                                              (40.0, 60.0, "less often than those without"),
                                              (50.04, 49.96, "as often as those without")])
def test_direction_word_follows_the_percentages(p1, p0, expected):
    t = pd.DataFrame({"variable": "deprived", "row_type": "level", "level": "1", "group": ["1", "0", "overall"],
                      "percent": [p1, p0, 50.0]})
    assert pdx.how_often({"t1": t}, "t1", "deprived") == expected


def test_direction_in_the_text_matches_the_raw_data(run):
    df, r = run
    known = df[df.csc_any_index.notna() & df.deprived.notna()]
    p1, p0 = (100 * known.loc[known.csc_any_index == g, "deprived"].astype(float).mean() for g in (1, 0))
    word = "more" if round(p1, 1) > round(p0, 1) else "less" if round(p1, 1) < round(p0, 1) else "as"
    assert pdx.how_often(r, "table1_sociodemographic", "deprived").startswith(word)


@pytest.mark.parametrize("label, short", [
    ("Looked after or placed away from mother by CSC", "Looked after"),
    ("Assessment or early help", "Assessment or early help"),      # 24 characters: short enough
    ("A very long header without the word that splits it", "A very long header without the word that splits it")])
def test_long_column_headers_are_shortened_at_their_first_or(label, short):
    from perinatal_csc.present.descriptive import short_column_label

    assert short_column_label(label) == short
