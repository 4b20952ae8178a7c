"""The funder's report's computed text (present.funder) on hand-made result tables: each key finding's
natural frequency, count and percentage worked out here, hidden counts never stated, what involvement
meant, satisfaction in words, the implications' links to the findings and the glossary."""
from __future__ import annotations

import re
from fractions import Fraction

import pandas as pd
import pytest

from perinatal_csc.files import read_yaml
from perinatal_csc.present import funder


def headline(**counts) -> pd.DataFrame:
    base = {"parent": (201, None), "dyads": (200, None), "sites": (30, None), "csc_index": (70, 196),
            "followed_1y": (150, 200), "csc_1y": (45, 148), "not_in_care_1y": (12, 150), "cpp_1y": (9, 149)}
    base.update(counts)
    return pd.DataFrame({"measure": list(base),
                         "n": pd.Series([v[0] for v in base.values()], dtype=object),
                         "denominator": pd.Series([pd.NA if v[1] is None else v[1] for v in base.values()], dtype=object)})


def transitions(**totals) -> pd.DataFrame:
    counts = {"none": 100, "assessment": 20, "child_in_need": 16, "child_protection_plan": 10, "looked_after": 4, **totals}
    return pd.DataFrame({"variable": "csc_status_index", "level": list(counts), "group": "none",
                         "denominator": list(counts.values())})


def needs(p=0.01, means=(22.0, 25.0)) -> pd.DataFrame:
    rows = [{"variable": "csq8_total", "row_type": "summary", "group": g, "mean": m, "p": p, "level": "",
             "n": 50, "denominator": ""} for g, m in (("1", means[0]), ("0", means[1]), ("overall", 24.0))]
    rows.append({"variable": "canm_1y_any_health", "row_type": "level", "group": "overall", "level": "1",
                 "n": 60, "denominator": 150, "mean": "", "p": ""})
    return pd.DataFrame(rows)


def results(**kw) -> dict[str, pd.DataFrame]:
    return {"headline": headline(**kw), "table4_transitions": transitions(), "table3_needs": needs()}


def nearest_fraction(k: int, n: int) -> Fraction:
    """The simple fraction (denominators 2, 3, 4, 5, 10) nearest k / n: an independent reading of 'about a in b'."""
    return min((Fraction(a, d) for d in (2, 3, 4, 5, 10) for a in range(1, d)), key=lambda f: abs(f - Fraction(k, n)))


def test_each_key_finding_states_its_natural_frequency_count_and_percentage():
    found = {f.key: f.text for f in funder.key_findings(results())}
    for key, (k, n) in {"episode": (70, 196), "one_year": (45, 148), "care": (12, 150)}.items():
        m = re.search(r"about (\d+) in (\d+)(?: families)? \((\d+) of (\d+), (\d+\.\d)%\)", found[key])
        assert m, found[key]
        a, b, k_, n_, pct = m.groups()
        assert (int(k_), int(n_)) == (k, n) and pct == f"{100 * k / n:.1f}"
        if k / n >= 0.1:
            assert Fraction(int(a), int(b)) == nearest_fraction(k, n)


def test_a_hidden_count_is_held_back_not_stated():
    found = {f.key: f.text for f in funder.key_findings(results(cpp_1y=("*", 149), csc_1y=(45, "*")))}
    for key in ("cpp", "one_year"):
        assert funder.HELD_BACK in found[key] and not re.search(r"\d", found[key]), found[key]
    assert "45" not in " ".join(found.values())


def test_what_involvement_meant_is_worked_out_from_the_row_totals():
    """Support 20 + 16 = 36 of 50 involved: 0.72, nearest 7 in 10, 'most'."""
    text = funder.support_meaning(results())
    assert text.startswith("For most families") and "about 7 in 10" in text
    assert "assessment or early help 20" in text and "looked after or living away from the mother 4" in text
    few = {**results(), "table4_transitions": transitions(assessment=2, child_in_need=3, child_protection_plan=30)}
    assert funder.support_meaning(few).startswith("For some families")
    hidden = {**results(), "table4_transitions": transitions(child_in_need="*")}
    assert funder.support_meaning(hidden) is None


@pytest.mark.parametrize("p, means, words", [
    (0.01, (22.0, 25.0), "were less satisfied"), (0.01, (26.0, 25.0), "were more satisfied"),
    (0.3, (22.0, 25.0), "no clear difference")])
def test_satisfaction_in_words_follows_the_test_and_the_means(p, means, words):
    r = {**results(), "table3_needs": needs(p, means)}
    text = {f.key: f.text for f in funder.key_findings(r)}["satisfaction"]
    assert words in text and f"{means[0]:.1f} against {means[1]:.1f} out of 32" in text


def test_each_implication_names_the_key_finding_it_rests_on():
    r = results()
    n = len(funder.key_findings(r))
    md = funder.implications_markdown(r)
    assert [int(x) for x in re.findall(r"what follows from key finding (\d+)", md)] == list(range(1, n + 1))
    assert md.count("[Authors to write") == n + 2


def test_the_glossary_lists_every_term_of_its_file():
    md = funder.glossary_markdown()
    terms = [t["term"] for t in read_yaml(funder.GLOSSARY, "glossary")["terms"]]
    assert [line for line in md.splitlines() if line and not line.startswith(":")] == terms


def test_the_executive_summary_words_the_findings_its_own_way_and_says_when_numbers_are_held_back():
    text = funder.summary_paragraph(results())
    assert "involved with about 1 in 3 families (70 of 196, 35.7%)" in text
    assert "For about 7 in 10 of the families with involvement" in text
    assert not any(f.text in text for f in funder.key_findings(results()) if f.key in ("episode", "one_year"))
    held = funder.summary_paragraph(results(cpp_1y=("*", 149)))
    assert "Some numbers are not given here." in held and "of 149" not in held
    assert "Some numbers are not given here." not in text


def paired(p, n_pairs=140) -> pd.DataFrame:
    return pd.DataFrame([{"variable": "csc_any", "group": "overall", "n_pairs": n_pairs, "p": p}])


@pytest.mark.parametrize("p, verdict", [(0.4, "did not change clearly (p = 0.400)"),
                                        (0.01, "the share of families with involvement changed clearly (p = 0.010)")])
def test_the_executive_summary_says_whether_involvement_changed(p, verdict):
    text = funder.summary_paragraph({**results(), "table4_paired_tests": paired(p)})
    assert "We could compare the two times for 140 families." in text and verdict in text
    assert "Some numbers are not given here." not in text


def test_the_executive_summary_holds_back_a_hidden_change():
    text = funder.summary_paragraph({**results(), "table4_paired_tests": paired(0.4, n_pairs="*")})
    assert "compare the two times" not in text and "Some numbers are not given here." in text
