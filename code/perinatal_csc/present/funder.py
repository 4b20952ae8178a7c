"""The funder's final report (``report.qmd``): its computed sections as Markdown, from the released tables.

Practitioners read the key findings first, so each finding is one short sentence with a natural frequency
and the count behind it ("about 1 in 3 families (99 of 278, 35.6%)"). Every number passes
through :func:`~perinatal_csc.present.prose.sourced` with the released cells it shows, as the manuscript's
prose does, so the same read-back checks it. A count that disclosure control hides is never stated, nor
a natural frequency worked out from it: the sentence says that the number is held back.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from ..files import read_yaml
from ..paths import PROJECT_ROOT
from .fmt import any_hidden, fmt_count, fmt_num, hidden, p_text
from .headline import findings_text
from .plain import (DIFFERENCE_P, SUPPORT_LEVELS, involvement_kinds, most_unmet, natural_frequency, satisfaction,
                    support_share)
from .prose import sourced

Results = Mapping[str, pd.DataFrame]

STATUS_WORDS = {"assessment": "assessment or early help", "child_in_need": "child in need",
                "child_protection_plan": "Child Protection Plan", "looked_after": "looked after or living away from the mother"}
GLOSSARY = PROJECT_ROOT / "data" / "reporting" / "glossary.yml"
HELD_BACK = "The number is held back to protect the privacy of the families who took part."


@dataclass(frozen=True)
class Finding:
    """One key finding: a stable ``key`` (the implications refer to it), a short ``topic`` and the sentence."""

    key: str
    topic: str
    text: str


def _share(k, n, measure_key: tuple[str, dict], columns: tuple[str, str, str], noun: str = "") -> str | None:
    """'about 1 in 3 families (99 of 278, 35.6%)', sourced; None when a count is hidden."""
    nf = natural_frequency(k, n)
    if nf is None:
        return None
    table, key = measure_key
    counts = sourced(f"{fmt_count(k)} of {fmt_count(n)}, {100 * int(k) / int(n):.1f}%",
                     *((table, key, c) for c in columns))
    return f"{nf}{' ' + noun if noun else ''} ({counts})"


def _headline_share(results: Results, measure: str, noun: str = "") -> str | None:
    h = results["headline"].set_index("measure")
    if measure not in h.index:
        return None
    return _share(h.at[measure, "n"], h.at[measure, "denominator"], ("headline", {"measure": measure}),
                  ("n", "denominator", "percent"), noun)


def support_meaning(results: Results) -> str | None:
    """What CSC involvement during the episode usually meant (``plain.involvement_kinds``): the share of
    families whose involvement was an assessment, early help or support as a child in need rather than a
    Child Protection Plan or care away from the mother, with the count of each kind. None when hidden."""
    kinds = involvement_kinds(results)
    nf = support_share(results)
    if kinds is None or nf is None:
        return None
    support = sum(n for lev, (n, _) in kinds.items() if lev in SUPPORT_LEVELS)
    involved = sum(n for n, _ in kinds.values())
    parts = [sourced(f"{STATUS_WORDS[lev]} {n}",
                     ("table4_transitions", {"variable": "csc_status_index", "level": lev, "group": grp}, "denominator"))
             for lev, (n, grp) in kinds.items()]
    word = "most" if support / involved > 0.5 else "some"
    return (f"For {word} families, involvement meant help rather than protection. Of the families with involvement "
            f"during the mother's care who were followed up for a year, {nf} had an assessment, early help or support "
            "as a child in need, not a Child Protection Plan or care away from the mother (" + "; ".join(parts) + ").")


def _satisfaction(results: Results) -> str | None:
    found = satisfaction(results)
    if found is None:
        return None
    m1, m0, p = found
    means = {"1": m1, "0": m0}

    def mean(g: str) -> str:
        return sourced(fmt_num(means[g], 1),
                       ("table3_needs", {"variable": "csq8_total", "group": g, "row_type": "summary"}, "mean"))

    scores = (f"average score {mean('1')} against {mean('0')} out of 32; "
              + sourced(p_text(p), ("table3_needs", {"variable": "csq8_total", "group": "overall", "row_type": "summary"}, "p")))
    if p < DIFFERENCE_P:
        how = "less" if m1 < m0 else "more"
        return (f"One month after discharge, mothers with children's social care involvement were {how} satisfied "
                f"with their mental health care than other mothers ({scores}).")
    return ("One month after discharge, we found no clear difference in how satisfied mothers were with their "
            f"mental health care, with or without children's social care involvement ({scores}).")


def _needs(results: Results) -> str | None:
    most = most_unmet(results)
    if most is None:
        return None
    variable, _, area = most
    t = results["table3_needs"]
    r = t[(t["variable"] == variable) & (t["row_type"] == "level") & (t["group"].astype(str) == "overall")].iloc[0]
    key = {"variable": variable, "group": "overall", "row_type": "level", "level": str(r["level"])}
    share = _share(r["n"], r["denominator"], ("table3_needs", key), ("n", "denominator", "percent"), "mothers")
    return (f"A year after discharge, {share} had an unmet need for help with {area}: the kind of need most "
            "often unmet.")


def key_findings(results: Results) -> list[Finding]:
    """The key findings, in the order the report lists them; a finding whose numbers are hidden says so."""
    out = []

    def add(key: str, topic: str, text: str | None, fallback: str) -> None:
        out.append(Finding(key, topic, text if text else f"{fallback} {HELD_BACK}"))

    episode = _headline_share(results, "csc_index", "families")
    add("episode", "involvement during the mother's care",
        episode and f"Children's social care was involved with {episode} during the mother's acute psychiatric care.",
        "We counted the families with children's social care involvement during the mother's care.")
    meaning = support_meaning(results)
    if meaning:
        out.append(Finding("meaning", "what involvement meant", meaning))
    for key, topic, measure, what in (
            ("one_year", "involvement a year later", "csc_1y", "had children's social care involvement"),
            ("cpp", "Child Protection Plans", "cpp_1y", "had a baby with a Child Protection Plan"),
            ("care", "babies not living with their mother", "not_in_care_1y",
             "had a baby who was not living in the mother's care")):
        share = _headline_share(results, measure)
        add(key, topic, share and f"Of the families followed up a year after discharge, {share} {what}.",
            f"We counted the families followed up a year after discharge who {what}.")
    needs = _needs(results)
    if needs:
        out.append(Finding("needs", "mothers' unmet needs", needs))
    satisfaction = _satisfaction(results)
    if satisfaction:
        out.append(Finding("satisfaction", "satisfaction with care", satisfaction))
    return out


def key_findings_markdown(results: Results) -> str:
    """The key findings as a numbered Markdown list."""
    return "\n".join(f"{i}. {f.text}" for i, f in enumerate(key_findings(results), 1)) + "\n"


def factors_markdown(results: Results) -> str:
    """What the adjusted models found, with odds ratios and intervals (the Findings, aim 3)."""
    return (f"During the mother's acute care, involvement was {findings_text(results, 'episode')}. A year after "
            f"discharge, involvement was {findings_text(results, 'one_year')}.")


def implications_markdown(results: Results) -> str:
    """A structured place for each implication the authors write, linked to the key finding it rests on."""
    lines = []
    for i, f in enumerate(key_findings(results), 1):
        lines += [f"**For practice: what follows from key finding {i} ({f.topic})**", "",
                  f"*[Authors to write the implication for practice of key finding {i}, or delete this "
                  "paragraph.]*", ""]
    lines += ["**For policy**", "", "*[Authors to write the implications for policy, each naming the key "
              "finding it rests on.]*", "",
              "**For research**", "", "*[Authors to write what further research the findings call for.]*", ""]
    return "\n".join(lines)


def subgroup_sizes(results: Results) -> str:
    """The sizes of the two groups of aim 4 (from the sub-group table), or that they are held back."""
    t = results.get("table5_subgroups")
    if t is None or "comparison" not in t:
        return HELD_BACK
    parts = []
    for comparison, what in (("infant_not_in_care_1y", "babies were not living in their mother's care"),
                             ("cpp_1y", "babies had a Child Protection Plan")):
        rows = t[(t["comparison"] == comparison) & (t["group"].astype(str) == "1")]
        if rows.empty or hidden(rows["group_n"].iloc[0]):
            continue
        parts.append(sourced(f"{fmt_count(rows['group_n'].iloc[0])} {what}",
                             ("table5_subgroups", {"comparison": comparison, "group": "1",
                                                   "variable": str(rows["variable"].iloc[0])}, "group_n")))
    if not parts:
        return HELD_BACK
    return "A year after discharge, " + " and ".join(parts) + "."


def _factor_names(results: Results, model: str) -> list[str]:
    """The adjusted terms of ``model`` whose interval lies wholly above 1, named without numbers."""
    t = results.get(f"models_{model}")
    if t is None or "direction" not in t:
        return []
    names = []
    for _, r in t[(t["type"] == "Adjusted") & (t["direction"].astype(str) == "higher")].iterrows():
        level, label = str(r.get("level_label") or ""), str(r["label"])
        name = level if level and level not in ("Yes", "nan") else label
        names.append(name[0].lower() + name[1:])
    return names


def _series(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def summary_paragraph(results: Results) -> str:
    """The executive summary's findings as prose, in its own words (the key findings list them one by one):
    involvement and what it meant, the year after and whether involvement changed, needs and
    satisfaction, and the factors linked with involvement, named without numbers (the Findings give the
    odds ratios)."""
    paras, held = [], False
    episode = _headline_share(results, "csc_index", "families")
    first = [f"During the mother's acute psychiatric care, children's social care was involved with {episode}."
             if episode else ""]
    share = support_share(results)
    if share:
        first.append(f"For {share} of the families with involvement whom we followed up, it meant an assessment, "
                     "early help or support, not a Child Protection Plan or care away from the mother.")
    paras.append(" ".join(x for x in first if x))
    held = held or not episode
    year = {m: _headline_share(results, m) for m in ("csc_1y", "cpp_1y", "not_in_care_1y")}
    clauses = [f"{year['csc_1y']} had children's social care involvement" if year["csc_1y"] else "",
               f"{year['cpp_1y']} had a baby with a Child Protection Plan" if year["cpp_1y"] else "",
               f"{year['not_in_care_1y']} had a baby not living in the mother's care" if year["not_in_care_1y"] else ""]
    shown = [c for c in clauses if c]
    held = held or len(shown) < len(clauses)
    change = _change(results)
    held = held or change == HELD_BACK
    year_text = ["Of the families followed up a year after discharge, " + _series(shown) + "." if shown else "",
                 change if change not in (None, HELD_BACK) else ""]
    paras.append(" ".join(x for x in year_text if x))
    found = {f.key: f.text for f in key_findings(results)}
    paras.append(" ".join(found[k] for k in ("needs", "satisfaction") if k in found))
    links = []
    for model, when in (("episode", "during the mother's care"), ("one_year", "a year after discharge")):
        names = _factor_names(results, model)
        if names:
            links.append(f"Involvement {when} was more likely with {_series(names)}.")
    if links:
        paras.append(" ".join(links) + " These are links, not causes.")
    if held:
        paras.append(f"Some numbers are not given here. {HELD_BACK}")
    return "\n\n".join(p for p in paras if p) + "\n"


def needs_paragraph(results: Results) -> str:
    """Aim 1 in words: the need most often unmet, satisfaction, and where the figures show the rest."""
    found = {f.key: f.text for f in key_findings(results)}
    parts = [found[k] for k in ("needs", "satisfaction") if k in found]
    parts.append("The figures below show unmet need in each area of life, and the contacts families had with "
                 "services over the year, with and without children's social care involvement.")
    return " ".join(parts)


def _change(results: Results) -> str | None:
    """Whether the share of families with involvement changed over the year (the paired test, with the
    number of families compared); None when the table is absent, HELD_BACK when its cells are hidden."""
    t = results.get("table4_paired_tests")
    if t is None or "variable" not in t:
        return None
    rows = t[(t["variable"] == "csc_any") & (t["group"].astype(str) == "overall")]
    if rows.empty or any_hidden(rows["n_pairs"].iloc[0], rows["p"].iloc[0]):
        return HELD_BACK
    key = {"variable": "csc_any", "group": "overall"}
    pairs = sourced(fmt_count(rows["n_pairs"].iloc[0]), ("table4_paired_tests", key, "n_pairs"))
    p = float(rows["p"].iloc[0])
    test = sourced(p_text(p), ("table4_paired_tests", key, "p"))
    verdict = ("the share of families with involvement changed clearly" if p < DIFFERENCE_P else
               "involvement started for some families and ended for others, but the share of families with "
               "involvement did not change clearly")
    return f"We could compare the two times for {pairs} families. Over the year, {verdict} ({test})."


def change_paragraph(results: Results) -> str:
    """Aim 2 in words: the families with status known at both times and whether the share with involvement
    changed (the paired test), without the counts that changed (the figure shows those it can)."""
    change = _change(results)
    figure = "The figure below shows how each family's status changed."
    if change is None:
        return figure
    return f"{figure} {HELD_BACK}" if change == HELD_BACK else f"{change} {figure}"


def limitations_paragraph(results: Results) -> str:
    """The limitations the data show: loss to follow-up (computed), links not causes, hidden small counts."""
    h = results["headline"].set_index("measure")
    lost = ""
    if not any_hidden(h.at["followed_1y", "n"], h.at["dyads", "n"]):
        n, den = int(h.at["followed_1y", "n"]), int(h.at["dyads", "n"])
        followed = sourced(f"{n} of {den} families, {100 * n / den:.1f}%", ("headline", {"measure": "followed_1y"}, "n"),
                           ("headline", {"measure": "dyads"}, "n"), ("headline", {"measure": "followed_1y"}, "percent"))
        lost = (f"We heard from {followed} a year after discharge. The families we did not hear from may differ "
                "from those we did. ")
    return (lost + "The study shows links, not causes. The groups of families with the most serious involvement are "
            "small, so disclosure control hides many of their details. Deprivation and children's social care "
            "categories are recorded differently in England and Wales.")


def glossary_markdown(path: Path | None = None) -> str:
    """The glossary (``data/reporting/glossary.yml``) as a Markdown definition list."""
    raw = read_yaml(path or GLOSSARY, "glossary")
    lines = []
    for entry in raw["terms"]:
        lines += [str(entry["term"]), f":   {' '.join(str(entry['definition']).split())}", ""]
    return "\n".join(lines)
