"""The plain-English summary: readable (Flesch-Kincaid grade <= 8), free of jargon and stigmatising terms
(data/plain_language.yml, drawn from STUDY.md), free of odds ratios, p-values and intervals, never showing a
protected count, with natural frequencies checked by hand on small fixture tables.

The check itself (``plain_language_problems``, ``rendered_text``) is in tests/plain_language.py, so the
read-back of the rendered summary document reuses it.
"""
from __future__ import annotations

import re
from fractions import Fraction

import pandas as pd
import pypandoc
import pytest
import textstat
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from perinatal_csc.disclose.policy import PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.present.plain import (COMPARED_WITH, FACTOR_PHRASES, NUMERIC_PHRASES, PRIVACY, factor_lines,
                                         natural_frequency, plain_summary, summary_numbers)

from plain_language import (MAX_GRADE, as_text, load_lists, plain_language_problems, reading_grade,
                            rendered_text, term_hits)

# ---- fixture result tables, shaped like the release the chapters read ----------------------------------

def headline_table(**counts: tuple[object, object]) -> pd.DataFrame:
    """The ``headline`` table (present.headline reads measure, n, denominator) with these (n, denominator)."""
    base = {"dyads": (200, None), "sites": (30, None), "csc_index": (70, 196), "followed_1y": (150, 200),
            "csc_1y": (45, 148), "not_in_care_1y": (12, 150), "cpp_1y": (9, 149)}
    base.update(counts)
    return pd.DataFrame({
        "measure": list(base), "label": list(base), "population": "cohort",
        "n": pd.Series([v[0] for v in base.values()], dtype=object),
        "denominator": pd.Series([pd.NA if v[1] is None else v[1] for v in base.values()], dtype=object),
    })


def clinical_table(mbu=80, general_ward=42, crisis_team=78, denominator=200) -> pd.DataFrame:
    """The overall service-type rows of ``table2_clinical``."""
    rows = [("mbu", mbu), ("general_ward", general_ward), ("crisis_team", crisis_team)]
    return pd.DataFrame({"variable": "service_type", "row_type": "level", "group": "overall",
                         "level": [c for c, _ in rows], "n": pd.Series([n for _, n in rows], dtype=object),
                         "denominator": pd.Series([denominator] * 3, dtype=object)})


def model_table(rows: list[tuple[str, str, str]], reference: list[tuple[str, str]] = ()) -> pd.DataFrame:
    """Adjusted model rows (term, level, direction) plus reference rows (term, level)."""
    recs = [{"model": "episode", "type": "Adjusted", "term": t, "level": lv, "reference": False, "direction": d, "or": 2.5,
             "ci_low": 1.2, "ci_high": 5.1, "p": 0.0123} for t, lv, d in rows]
    recs += [{"model": "episode", "type": "Adjusted", "term": t, "level": lv, "reference": True, "direction": "", "or": None,
              "ci_low": None, "ci_high": None, "p": None} for t, lv in reference]
    recs += [{**r, "type": "Unadjusted", "direction": "higher"} for r in recs if not r["reference"]]
    return pd.DataFrame(recs).astype({"direction": object})


def transitions_table(**totals: object) -> pd.DataFrame:
    """Row totals of the episode-by-one-year CSC status table (one row per episode status, group 'none')."""
    counts = {"none": 100, "assessment": 20, "child_in_need": 16, "child_protection_plan": 10, "looked_after": 4,
              **totals}
    return pd.DataFrame({"variable": "csc_status_index", "level": list(counts), "group": "none",
                         "denominator": list(counts.values())})


def fixture_results(**headline_counts) -> dict[str, pd.DataFrame]:
    return {
        "headline": headline_table(**headline_counts),
        "table2_clinical": clinical_table(),
        "table4_transitions": transitions_table(),
        "models_episode": model_table(
            [("deprived", "1", "higher"), ("diagnosis", "personality_disorder", "higher"),
             ("diagnosis", "bipolar", "lower"), ("maternal_age", None, "lower"), ("domestic_abuse", "1", "")],
            reference=[("diagnosis", "depression")]),
        "models_one_year": model_table([("deprived", "1", "higher"), ("readmitted_1y", "1", "higher")]),
    }


@pytest.fixture(scope="module")
def summary_md() -> str:
    return plain_summary(fixture_results(), is_synthetic=False)


@pytest.fixture(scope="module")
def summary_text(summary_md) -> str:
    return as_text(summary_md)


# ---- (1)-(3): readable, no jargon, no stigmatising terms, no statistics -----------------------------------

@pytest.mark.parametrize("is_synthetic", [False, True])
def test_the_summary_passes_every_plain_language_check(is_synthetic):
    text = as_text(plain_summary(fixture_results(), is_synthetic=is_synthetic))
    assert plain_language_problems(text) == []
    assert reading_grade(text) <= MAX_GRADE


@pytest.mark.parametrize("fmt", ["html", "docx"])
def test_the_check_reads_a_rendered_summary_back(tmp_path, summary_md, fmt):
    out = tmp_path / f"summary.{fmt}"
    pypandoc.convert_text(summary_md, fmt, format="markdown", outputfile=str(out),
                          extra_args=["--standalone", "--metadata", "title=Summary"])
    text = rendered_text(out)
    assert "about 1 in 3 families" in text.replace("\n", " ")
    assert plain_language_problems(text) == []
    assert plain_language_problems(text + "\nThe OR was 2.5 for each case.") != []


def test_the_grade_is_measured_on_enough_text(summary_text):
    assert textstat.lexicon_count(summary_text) > 250 and textstat.sentence_count(summary_text) > 20


def test_the_check_fails_on_text_that_breaks_each_rule():
    dense = ("Multivariable logistic regression of the dyads in the cohort identified deprivation, "
             "substance misuse and detention as independently associated with children's social care "
             "involvement during the index episode, adjusting for sociodemographic characteristics.")
    problems = plain_language_problems(dense)
    assert any(p.startswith("Flesch-Kincaid grade") for p in problems)
    assert {"jargon: dyad: 'dyads'", "jargon: cohort: 'cohort'", "jargon: episode: 'episode'"} <= set(problems)
    assert any(p.startswith("stigmatising: custody") for p in plain_language_problems("Custody loss was rare."))
    assert any(p.startswith("stigmatising: case") for p in plain_language_problems("Each case was a mother."))
    assert plain_language_problems("CSC was involved.") == ["jargon: CSC (abbreviation): 'CSC'"]
    for bad in ("The OR was high.", "It was linked (p = 0.03).", "The 95% CI was wide.",
                "Odds were higher.", "It rose (1.2 to 3.4)."):
        assert any(p.startswith("statistic") for p in plain_language_problems(bad)), bad
    assert plain_language_problems("About 1 in 3 mothers.", protected=(r"\b1 in 3\b",)) == [
        "protected value: '1 in 3'"]


def test_the_lists_are_drawn_from_the_study_brief():
    lists = load_lists()
    assert set(lists) >= {"jargon", "stigmatising"}
    for name in ("jargon", "stigmatising"):
        assert lists[name], name
        for e in lists[name]:
            assert {"term", "forms", "plain", "source"} <= set(e), e
            assert "STUDY.md" in e["source"], e
    stigma = {f for e in lists["stigmatising"] for f in e["forms"]}
    assert {"custody", "unfit", "case"} <= stigma       # the three STUDY.md names under Language


def test_every_factor_wording_is_plain():
    lists = load_lists()
    words = [*FACTOR_PHRASES.values(), *COMPARED_WITH.values(), *(w for d in NUMERIC_PHRASES.values()
                                                                 for w in d.values())]
    for w in words:
        assert term_hits(w, lists["jargon"]) == [] and term_hits(w, lists["stigmatising"]) == [], w


def test_every_covariate_the_plan_may_use_has_plain_wording(plan, cb):
    """A model term without wording would be counted ('one more thing'), never named: keep the list complete."""
    raw = yaml.safe_load((PROJECT_ROOT / "config" / "analysis_plan.yml").read_text(encoding="utf-8"))
    terms = set(raw["screen"]["candidates"]) | {t for m in raw["models"].values() for t in m["covariates"]}
    for term in sorted(terms):
        if term in NUMERIC_PHRASES:
            continue
        v = cb[term]
        levels = ["1"] if v.type == "binary" else [str(lv.code) for lv in v.levels]
        for level in levels:
            assert (term, level) in FACTOR_PHRASES, (term, level)
        if v.type == "categorical" and len(levels) > 2:
            assert (term, str(v.reference)) in COMPARED_WITH, term


# ---- (4): a protected count never appears ------------------------------------------------------------

def test_a_count_the_release_suppresses_is_never_stated():
    """Full results through the real release (policy 'cohort': counts 1-4 protected): the infant not in the
    mother's care for 3 of 150 is suppressed, and so is the CPP count 147 of 149 (its complement, 2, is
    protected). Neither appears, in any form."""
    full = fixture_results(not_in_care_1y=(3, 150), cpp_1y=(147, 149))
    released = {**full, "headline": release({"headline": full["headline"]}, PRESETS["cohort"]).tables["headline"]}
    h = released["headline"].set_index("measure")
    assert h.at["not_in_care_1y", "n"] == "*" and h.at["cpp_1y", "n"] == "*"      # the release did suppress them
    text = as_text(plain_summary(released, is_synthetic=False))
    # 3/150 = 0.020 would read "about 1 in 50" (|ln(50 * 0.02)| = 0); 147/149 = 0.987 would read "nearly all"
    assert plain_language_problems(text, protected=(r"1 in 50", r"nearly all")) == []
    standalone = re.findall(r"\d+", re.sub(r"\d+ in \d+", "", findings_part(text)))
    assert sorted(set(standalone)) == ["200", "30"]                  # the cohort and its sites, nothing else
    assert "We looked at how many babies were not living in their mother's care. " + PRIVACY in text
    assert "We looked at how many babies had a Child Protection Plan. " + PRIVACY in text
    assert "1 in 3 families" in text                                           # the rest is still reported


PRIVACY_SENTENCES = {
    "csc_1y": "We looked at how often children's social care was involved at that time. " + PRIVACY,
    "not_in_care_1y": "We looked at how many babies were not living in their mother's care. " + PRIVACY,
    "cpp_1y": "We looked at how many babies had a Child Protection Plan. " + PRIVACY,
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_hides_what_it_protects(preset):
    """Counts 9 of 148, 3 of 150 and 147 of 149 through the release of each preset: a measure is hidden when
    its count, the rest of its denominator, or the denominator is 1 to threshold-1 (worked out here from the
    preset's threshold, not from the release), and its sentence is then the privacy sentence."""
    counts = {"csc_1y": (9, 148), "not_in_care_1y": (3, 150), "cpp_1y": (147, 149)}
    full = fixture_results(**counts)
    policy = PRESETS[preset]
    released = {**full, "headline": release({"headline": full["headline"]}, policy).tables["headline"]}
    md = plain_summary(released, is_synthetic=False, checked=policy.checked)
    text = as_text(md)
    t = policy.threshold
    for measure, (k, n) in counts.items():
        hidden_here = any(1 <= x < t for x in (k, n - k, n))
        assert (PRIVACY_SENTENCES[measure] in text) == hidden_here, (preset, measure)
    expected_hidden = {"none": set(), "cohort": {"not_in_care_1y", "cpp_1y"}, "nhs": {"not_in_care_1y", "cpp_1y"},
                       "tre": {"csc_1y", "not_in_care_1y", "cpp_1y"}}[preset]
    assert {m for m, s in PRIVACY_SENTENCES.items() if s in text} == expected_hidden
    standalone = set(re.findall(r"\d+", re.sub(r"\d+ in \d+", "", findings_part(text))))
    assert standalone == {"200", "30"}
    assert ("Outputs not checked" in text) == (not policy.checked)


def test_a_suppressed_denominator_gives_no_natural_frequency():
    text = as_text(plain_summary(fixture_results(csc_1y=(45, "*"), followed_1y=("*", 200)), is_synthetic=False))
    assert "3 in 10 of these" not in text and "3 in 4" not in text
    assert "We looked at how often children's social care was involved at that time. " + PRIVACY in text
    assert "we heard again from some of the families. " + PRIVACY in text


def test_suppressed_care_settings_are_left_out():
    res = fixture_results()
    res["table2_clinical"] = clinical_table(general_ward="*", crisis_team="*")
    text = as_text(plain_summary(res, is_synthetic=False))
    assert "About 2 in 5 of the mothers were cared for in a mother and baby unit." in text
    assert "general mental health ward." not in text.split("Who took part?")[1].split("What did we find?")[0].replace(
        "on a general mental health ward, or", "")
    assert "We do not give the number for every kind of care" in text


# ---- (5): natural frequencies, by hand -------------------------------------------------------------------

def test_natural_frequencies_of_the_fixture_counts(summary_text):
    # 70/196 = 0.357: nearest simple fraction 1/3 (0.024 away; 2/5 is 0.043 away)
    assert "children's social care was involved with about 1 in 3 families." in summary_text
    # 150/200 = 0.75 = 3/4
    assert "we heard again from about 3 in 4 of the families." in summary_text
    # 45/148 = 0.304: 3/10 (0.004 away); denominator 148 is not the 150 followed up -> "(where we knew)"
    assert "involved with about 3 in 10 of these families (where we knew)." in summary_text
    # 12/150 = 0.080 = 1 in 12.5: |ln(15/12.5)| = 0.18 < |ln(10/12.5)| = 0.22 -> 1 in 15; denominator is 150
    assert "not living in the mother's care for about 1 in 15 of these families." in summary_text
    # 9/149 = 0.060 = 1 in 16.6: |ln(15/16.6)| = 0.10 < |ln(20/16.6)| = 0.19 -> 1 in 15
    assert "Child Protection Plan for about 1 in 15 of these families (where we knew)." in summary_text
    # care settings of 200: 80 -> 0.40 = 2/5; 42 -> 0.21, 1/5 (0.01 away; 1/4 is 0.04); 78 -> 0.39, 2/5
    assert ("About 2 in 5 of the mothers were cared for in a mother and baby unit. About 1 in 5 of the mothers "
            "were cared for on a general mental health ward. About 2 in 5 of the mothers had care at home from a "
            "crisis team.") in summary_text
    assert "The study included 200 mothers and their babies, from 30 NHS organisations" in summary_text


NUMBER_RE = re.compile(r"about half|nearly all|fewer than 1 in 100|about \d+ in \d+|\bnone\b|\ball\b|\d+", re.I)


def stated_numbers(text: str) -> list[str]:
    """Every number the text states: natural frequencies as phrases, other numbers as digits."""
    return [m.group(0).lower() for m in NUMBER_RE.finditer(text)]


def findings_part(text: str) -> str:
    """The summary before its list of where to find help (phone numbers, not findings)."""
    return text.split("Where to find help")[0]


def test_every_number_the_summary_states_has_one_source(summary_text):
    sources = summary_numbers(fixture_results())
    numbers = [n for n in stated_numbers(findings_part(summary_text)) if n not in ("all", "none")]
    assert numbers and set(numbers) <= set(sources["text"]), set(numbers) - set(sources["text"])
    row = sources.set_index("row")
    assert row.at["csc_index", "text"] == "about 1 in 3" and row.at["dyads", "text"] == "200"
    assert row.at["service_type general_ward overall", "text"] == "about 1 in 5"
    released = fixture_results(not_in_care_1y=("*", 150))
    assert "not_in_care_1y" not in set(summary_numbers(released)["row"])


@pytest.mark.parametrize("k, n, expected", [
    (0, 10, "none"), (10, 10, "all"), (19, 20, "nearly all"), (1, 2, "about half"), (50, 101, "about half"),
    (1, 3, "about 1 in 3"), (2, 3, "about 2 in 3"), (7, 10, "about 7 in 10"), (9, 10, "about 9 in 10"),
    (1, 10, "about 1 in 10"), (1, 99, "about 1 in 100"), (1, 101, "fewer than 1 in 100"), (1, 200, "fewer than 1 in 100"),
    (1, 45, "about 1 in 50"),      # 1 in 45: |ln(50/45)| = 0.105 < |ln(45/40)| = 0.118
    (3, 8, "about 2 in 5"),        # 0.375: 2/5 is 0.025 away, 1/3 is 0.042 away
])
def test_natural_frequency_cases(k, n, expected):
    assert natural_frequency(k, n) == expected


def test_natural_frequency_of_a_suppressed_or_impossible_count():
    assert natural_frequency("*", 10) is None and natural_frequency(3, "*") is None and natural_frequency(0, 0) is None
    with pytest.raises(ValueError):
        natural_frequency(11, 10)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_a_natural_frequency_is_close_to_the_proportion(kn):
    """'about a in b' is within 0.05 of k/n from 1 in 10 up, and within a factor sqrt(2) below it."""
    k, n = kn
    p = k / n
    text = natural_frequency(k, n)
    m = re.fullmatch(r"about (\d+) in (\d+)", text)
    if text == "about half":
        assert abs(p - 0.5) <= 0.05
    elif m:
        stated = Fraction(int(m.group(1)), int(m.group(2)))
        if p >= 0.1 - 1e-12 and stated >= Fraction(1, 10):
            assert abs(p - float(stated)) <= 0.05 + 1e-12
        else:
            assert max(p / float(stated), float(stated) / p) <= 2 ** 0.5 + 1e-9
    else:
        assert (text, p == 0, p == 1) in {("none", True, False), ("all", False, True)} or \
            (text == "nearly all" and 0.95 <= p < 1) or (text == "fewer than 1 in 100" and 0 < p < 0.01)


# ---- factors: direction only, withheld terms and models -----------------------------------------------------

def test_factors_are_named_by_direction_in_plain_words(summary_text):
    episode = summary_text.split("During the mother's urgent care, children's social care was involved more often when:")[1]
    assert "The family lived in one of the poorer areas of England or Wales." in episode
    assert ("The mother had a diagnosis of personality disorder (compared with mothers with a diagnosis of "
            "depression).") in episode
    less = summary_text.split("children's social care was involved less often when:")[1]
    assert "The mother was younger." in less and "bipolar disorder (compared with" in less
    assert "domestic abuse" not in summary_text                    # no direction: not named
    one_year = summary_text.split("A year later, children's social care was involved more often when:")[1]
    assert "The mother needed urgent mental health care again within a year." in one_year


def test_a_withheld_model_or_term_is_not_reported():
    withheld = model_table([("deprived", "1", "*"), ("maternal_age", None, "*")])
    assert factor_lines(withheld, "a year later") == [
        "We cannot say what was linked with children's social care being involved a year later. The groups were "
        "too small to share safely."]
    partly = model_table([("deprived", "1", "higher"), ("diagnosis", "bipolar", "*")])
    lines = factor_lines(partly, "a year later")
    assert "- The family lived in one of the poorer areas of England or Wales." in lines
    assert "Some things we looked at are not reported here, to protect the privacy of the families." in lines
    assert not any("bipolar" in line for line in lines)


def test_a_term_without_plain_wording_is_counted_not_shown():
    lines = factor_lines(model_table([("tag_total", None, "higher"), ("deprived", "1", "lower")]), "a year later")
    assert "The full report names one more thing linked with it a year later." in lines
    assert not any("tag" in line.lower() for line in lines)
    none = factor_lines(model_table([("deprived", "1", "")]), "a year later")
    assert none == ["None of the things we looked at was clearly linked with children's social care being "
                    "involved a year later."]


# ---- labels -----------------------------------------------------------------------------------------------

def sections(md: str) -> list[str]:
    """The summary's sections (its level-2 headings other than a callout's title)."""
    return re.split(r"(?m)^## (?!Outputs not checked$)", md)[1:]


def test_synthetic_runs_label_every_section_that_gives_numbers():
    md = plain_summary(fixture_results(), is_synthetic=True)
    assert len(sections(md)) == 5
    for s in sections(md):
        if not s.startswith(("What was this study about?", "Where to find help")):
            assert "SYNTHETIC data: illustrative only, not study findings." in s, s[:60]
    assert md.index("SYNTHETIC") < md.index("## ")                   # and the page opens with it
    assert "SYNTHETIC" not in plain_summary(fixture_results(), is_synthetic=False)


def test_unchecked_outputs_warn_in_every_section():
    md = plain_summary(fixture_results(), is_synthetic=False, checked=False)
    assert all("## Outputs not checked" in s for s in sections(md)) and len(sections(md)) == 5


# ---- the document --------------------------------------------------------------------------------------------

def test_summary_qmd_is_a_thin_document():
    from perinatal_csc.render.qmd import chunks_of, split_front_matter

    path = PROJECT_ROOT / "summary.qmd"
    front, body = split_front_matter(path.read_text(encoding="utf-8"), path)
    assert front["lang"] == "en-GB" and front["title"]
    assert set(front["format"]) == {"html", "docx", "typst"}
    chunks = chunks_of(path, body)
    code = [c for c in chunks if c.kind == "code"]
    assert [c for c in chunks if c.kind == "markdown" and c.text.strip()] == []   # no prose outside the function
    assert code[0].options.get("label") == "setup-summary"
    assert all(c.options.get("output") == "asis" for c in code[1:]) and len(code) >= 2
    statements = [ln for c in code for ln in c.text.splitlines() if ln.strip() and not ln.startswith(("from ", "import "))]
    assert statements == ["ctx = context()",
                          "print(plain_summary(ctx.results, is_synthetic=ctx.is_synthetic, checked=ctx.policy.checked))"]


def needs_table(p: object = 0.01, means: tuple[float, float] = (22.0, 25.0), health: object = 60) -> pd.DataFrame:
    """Overall rows of three groups of CAN-M domains (of 150 mothers assessed) and the CSQ-8 summaries by group."""
    rows = [{"variable": v, "row_type": "level", "group": "overall", "level": "1", "n": n, "denominator": 150,
             "mean": None, "p": 0.5} for v, n in (("canm_1y_any_daily", 45), ("canm_1y_any_health", health),
                                                  ("canm_1y_any_baby", 20))]
    rows += [{"variable": "csq8_total", "row_type": "summary", "group": g, "level": None, "n": 70, "denominator": None,
              "mean": m, "p": p} for g, m in (("1", means[0]), ("0", means[1]))]
    return pd.DataFrame(rows).astype({"n": object, "mean": object, "p": object})


@pytest.mark.parametrize("p, means, health, needs, satisfied", [
    # 60/150 = 0.40 = 2/5, the largest of 45, 60 and 20: health is named
    (0.01, (22.0, 25.0), 60, "about 2 in 5 of the mothers had a need for help with their physical or mental health",
     "were less happy with their mental health care than other mothers"),
    (0.01, (26.0, 25.0), 60, "their physical or mental health", "were more happy"),
    (0.4, (22.0, 25.0), 60, "their physical or mental health", "We did not find a clear difference in how happy"),
    # health suppressed: the largest released is daily living, 45/150 = 0.30 = 3/10; no test, no sentence
    ("*", (22.0, 25.0), "*", "about 3 in 10 of the mothers had a need for help with everyday living", None),
])
def test_needs_and_satisfaction_in_words_from_released_rows_only(p, means, health, needs, satisfied):
    results = {**fixture_results(), "table3_needs": needs_table(p, means, health)}
    text = as_text(plain_summary(results, is_synthetic=False))
    assert needs in text
    if satisfied:
        assert satisfied in text
    else:
        assert "happy" not in text
    sources = summary_numbers(results)
    assert set(stated_numbers(findings_part(text))) - {"all", "none"} <= set(sources["text"])
    assert plain_language_problems(text) == []


def test_what_involvement_meant_is_counted_from_the_released_row_totals():
    """Support (assessment 20 + child in need 16) among all involvement (20 + 16 + 10 + 4 = 50): 0.72,
    nearest simple fraction 7 in 10; said only while every total is released."""
    text = as_text(plain_summary(fixture_results(), is_synthetic=False))
    assert "For about 7 in 10 of them, it meant a check on how the family was doing" in text
    row = summary_numbers(fixture_results()).set_index("table").loc["table4_transitions"]
    assert row["text"] == "about 7 in 10"
    hidden_total = {**fixture_results(), "table4_transitions": transitions_table(looked_after="*")}
    text = as_text(plain_summary(hidden_total, is_synthetic=False))
    assert "it meant a check" not in text and "table4_transitions" not in set(summary_numbers(hidden_total)["table"])


def test_the_summary_says_where_to_find_help():
    text = as_text(plain_summary(fixture_results(), is_synthetic=False))
    help_part = text.split("Where to find help")[1]
    assert "NHS 111" in help_part and "116 123" in help_part and "999" in help_part
