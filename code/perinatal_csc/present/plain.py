"""The plain-English summary for families and practitioners, as Markdown, from the released result tables.

Every number comes from a released (disclosure-checked) table: the cohort and sites from ``headline``,
the care settings from ``table2_clinical`` and the factors from the adjusted rows of ``models_episode``
and ``models_one_year`` (their ``direction`` only: no odds ratio, interval or p-value is ever shown).
Proportions are given as coarse natural frequencies ("about 1 in 3"); a proportion whose count or
denominator is suppressed is never stated, and the sentence says that a number is held back for privacy
without saying how small it is (a suppressed count may be large, hidden only to protect another one).
"""
from __future__ import annotations

from fractions import Fraction
from math import gcd, log
from typing import Mapping

import pandas as pd

from .fmt import any_hidden, hidden
from .headline import Count, Headline, data_notice, headline, unchecked_banner
from .style import SYNTHETIC_NOTE

#: Simple fractions a natural frequency may state for proportions from 1 in 10 to 9 in 10.
SIMPLE_FRACTIONS: tuple[Fraction, ...] = tuple(sorted(
    {Fraction(a, d) for d in (2, 3, 4, 5, 10) for a in range(1, d) if gcd(a, d) == 1}))
#: Denominators of "about 1 in N" for proportions below 1 in 10.
RARE_DENOMINATORS: tuple[int, ...] = (10, 15, 20, 25, 30, 40, 50, 100)

PRIVACY = "We do not give this number, to protect the privacy of the families who took part."

SYNTHETIC_CALLOUT = ("::: {.callout-warning}\n**" + SYNTHETIC_NOTE + "** The numbers here "
                     "come from made-up data, used to test the report. They are not facts about real "
                     "families.\n:::\n")

#: Plain wording of the model terms a plan may use: (term, level code) -> what was true of the family.
FACTOR_PHRASES: dict[tuple[str, str], str] = {
    ("deprived", "1"): "the family lived in one of the poorer areas of England or Wales",
    ("childhood_trauma", "1"): "the mother told us she went through trauma as a child",
    ("domestic_abuse", "1"): "the mother had been through domestic abuse",
    ("prev_psych_admission", "1"): "the mother had stayed in a mental health hospital before",
    ("readmitted_1y", "1"): "the mother needed urgent mental health care again within a year",
    ("substance_misuse", "1"): "the mother had problems with drugs or alcohol",
    ("mha_detention", "1"): "the mother was kept in hospital under the Mental Health Act",
    ("first_baby", "1"): "it was the mother's first baby",
    ("csc_any_index", "1"): "children's social care was involved during the mother's urgent care",
    ("nation", "wales"): "the family lived in Wales",
    ("relationship", "single"): "the mother was single",
    ("relationship", "partner_not_cohabiting"): "the mother had a partner who did not live with her",
    ("relationship", "married_cohabiting"): "the mother was married or lived with a partner",
    ("service_type", "mbu"): "the mother was cared for in a mother and baby unit",
    ("service_type", "general_ward"): "the mother was cared for on a general mental health ward",
    ("service_type", "crisis_team"): "the mother had care at home from a crisis team",
    ("diagnosis", "depression"): "the mother had a diagnosis of depression",
    ("diagnosis", "bipolar"): "the mother had a diagnosis of bipolar disorder",
    ("diagnosis", "schizophrenia"): "the mother had a diagnosis of schizophrenia or a similar illness",
    ("diagnosis", "other_psychosis"): "the mother had a diagnosis of another kind of psychosis",
    ("diagnosis", "personality_disorder"): "the mother had a diagnosis of personality disorder",
    ("diagnosis", "anxiety"): "the mother had a diagnosis of anxiety or a related condition",
    ("diagnosis", "other"): "the mother had a diagnosis of another mental health condition",
}
#: A numeric term: its wording when the chance rose ("higher") or fell ("lower") as the value rose.
NUMERIC_PHRASES: dict[str, dict[str, str]] = {
    "maternal_age": {"higher": "the mother was older", "lower": "the mother was younger"},
}
#: The group a level of a many-level term was compared with (its reference level), in plain words.
COMPARED_WITH: dict[tuple[str, str], str] = {
    ("diagnosis", "depression"): "mothers with a diagnosis of depression",
    ("relationship", "married_cohabiting"): "mothers who were married or lived with a partner",
    ("service_type", "mbu"): "mothers cared for in a mother and baby unit",
    ("nation", "england"): "families in England",
}
#: The care settings of ``service_type`` as the summary names them (codes of the codebook).
CARE_SETTINGS: dict[str, str] = {
    "mbu": "were cared for in a mother and baby unit",
    "general_ward": "were cared for on a general mental health ward",
    "crisis_team": "had care at home from a crisis team",
}


def natural_frequency(k: Count, n: Count) -> str | None:
    """A proportion ``k`` of ``n`` as a coarse natural frequency: "none", "all", "nearly all" (95% or more),
    "about half", "about a in b" with b one of 2, 3, 4, 5, 10 (the nearest such fraction, from 1 in 10 to
    9 in 10), "about 1 in N" with N from ``RARE_DENOMINATORS`` (nearest on a log scale, below 1 in 10),
    or "fewer than 1 in 100". None when ``k`` or ``n`` is suppressed or ``n`` is 0: a natural frequency
    is a count and is never worked out from a protected one."""
    if any_hidden(k, n) or n is None or pd.isna(n) or k is None or pd.isna(k) or int(n) == 0:
        return None
    k, n = int(k), int(n)
    if not 0 <= k <= n:
        raise ValueError(f"a natural frequency needs 0 <= count <= denominator, not {k} of {n}")
    if k == 0:
        return "none"
    if k == n:
        return "all"
    p = k / n
    if p >= 0.95:
        return "nearly all"
    if p < 0.01:
        return "fewer than 1 in 100"
    if p < 0.1:
        d = min(RARE_DENOMINATORS, key=lambda d: (abs(log(p * d)), d))
        return f"about 1 in {d}"
    f = min(SIMPLE_FRACTIONS, key=lambda f: (abs(p - f), f.denominator))
    return "about half" if f == Fraction(1, 2) else f"about {f.numerator} in {f.denominator}"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


def _section(title: str, body: list[str], *, is_synthetic: bool, checked: bool, numbers: bool = True) -> str:
    parts = [f"## {title}", ""]
    banner = unchecked_banner(checked)
    if banner:
        parts += [banner]
    if is_synthetic and numbers:
        parts += [SYNTHETIC_CALLOUT]
    return "\n".join(parts + body) + "\n"


def _count_text(x: Count) -> str | None:
    return None if hidden(x) or x is None or pd.isna(x) else str(int(x))


def _care_settings(results: Mapping[str, pd.DataFrame]) -> list[str]:
    t = results.get("table2_clinical")
    if t is None or "variable" not in t:
        return []
    rows = t[(t["variable"] == "service_type") & (t["group"].astype(str) == "overall") & (t["row_type"] == "level")]
    out, held_back = [], False
    for _, r in rows.iterrows():
        where = CARE_SETTINGS.get(str(r["level"]))
        share = natural_frequency(r["n"], r["denominator"])
        if where is None:
            continue
        if share is None:
            held_back = True
            continue
        out.append(f"{_sentence(share)} of the mothers {where}.")
    if held_back:
        out.append("We do not give the number for every kind of care, to protect the privacy of the families.")
    return out


def _factor_phrase(row: pd.Series, reference: dict[str, str]) -> str | None:
    term, direction = str(row["term"]), str(row["direction"])
    if term in NUMERIC_PHRASES:
        return NUMERIC_PHRASES[term].get(direction)
    level = "" if pd.isna(row["level"]) else str(row["level"])
    phrase = FACTOR_PHRASES.get((term, level))
    if phrase is None:
        return None
    ref = reference.get(term)
    if ref is not None and (term, ref) in COMPARED_WITH:
        phrase += f" (compared with {COMPARED_WITH[(term, ref)]})"
    return phrase


def factor_lines(models: pd.DataFrame | None, when: str) -> list[str]:
    """Markdown saying which things were linked with more (or less) children's social care involvement in
    one model: the adjusted terms whose ``direction`` the models stage marks "higher" or "lower".

    A withheld model, or one with every term withheld, says that it cannot be reported; a withheld term is
    left out with a note; a term without plain wording is counted, never shown by its technical label."""
    if models is None or models.empty or "direction" not in models:
        return []
    adj = models[(models["type"] == "Adjusted") & ~models["reference"].astype(str).str.lower().eq("true")]
    if adj.empty:
        return []
    if adj["direction"].map(hidden).all():
        return [f"We cannot say what was linked with children's social care being involved {when}. The groups "
                "were too small to share safely."]
    reference = {str(r["term"]): str(r["level"]) for _, r in models[
        (models["type"] == "Adjusted") & models["reference"].astype(str).str.lower().eq("true")].iterrows()}
    lines: list[str] = []
    unnamed = 0
    for direction, words in (("higher", "more often"), ("lower", "less often")):
        rows = adj[adj["direction"].astype(str) == direction]
        phrases = [p for p in (_factor_phrase(r, reference) for _, r in rows.iterrows()) if p]
        unnamed += len(rows) - len(phrases)
        if phrases:
            lines += [f"{_sentence(when)}, children's social care was involved {words} when:", ""]
            lines += [f"- {_sentence(p)}." for p in phrases] + [""]
    if not lines and not unnamed:
        lines.append(f"None of the things we looked at was clearly linked with children's social care being "
                     f"involved {when}.")
    if unnamed:
        things = "one more thing" if unnamed == 1 else f"{unnamed} more things"
        lines.append(f"The full report names {things} linked with it {when}.")
    if adj["direction"].map(hidden).any():
        lines.append("Some things we looked at are not reported here, to protect the privacy of the families.")
    return lines


def _findings(h: Headline) -> list[str]:
    out = []
    share = natural_frequency(h.csc_index, h.csc_index_of)
    out.append(f"During the mother's urgent care, children's social care was involved with {share} families."
               if share else f"We looked at how often children's social care was involved during the mother's "
                             f"urgent care. {PRIVACY}")
    heard = natural_frequency(h.followed_1y, h.n)
    out.append(f"A year after her care ended, we heard again from {heard} of the families."
               if heard else "A year after her care ended, we heard again from some of the families. " + PRIVACY)

    def of_them(k: Count, den: Count) -> str:
        known = "" if any_hidden(den, h.followed_1y) or den == h.followed_1y else " (where we knew)"
        return f"{natural_frequency(k, den)} of these families{known}"

    if natural_frequency(h.csc_1y, h.csc_1y_of):
        out.append(f"At that time, children's social care was involved with {of_them(h.csc_1y, h.csc_1y_of)}.")
    else:
        out.append(f"We looked at how often children's social care was involved at that time. {PRIVACY}")
    if natural_frequency(h.not_in_care_1y, h.not_in_care_1y_of):
        out.append(f"The baby was not living in the mother's care for {of_them(h.not_in_care_1y, h.not_in_care_1y_of)}.")
    else:
        out.append(f"We looked at how many babies were not living in their mother's care. {PRIVACY}")
    plan = ("A Child Protection Plan is made when the council is worried that a child could come to serious "
            "harm.")
    if natural_frequency(h.cpp_1y, h.cpp_1y_of):
        out.append(f"The baby had a Child Protection Plan for {of_them(h.cpp_1y, h.cpp_1y_of)}. {plan}")
    else:
        out.append(f"We looked at how many babies had a Child Protection Plan. {PRIVACY} {plan}")
    return [f"- {s}" for s in out] + [""]


#: The groups of CAN-M domains (codebook ``any_of`` variables) in plain words: "a need for help with ...".
PLAIN_AREAS: dict[str, str] = {
    "canm_1y_any_daily": "everyday living, such as food, the home or things to do in the day",
    "canm_1y_any_health": "their physical or mental health",
    "canm_1y_any_safety": "safety, alcohol or drugs",
    "canm_1y_any_relationships": "friends and relationships",
    "canm_1y_any_practical": "money, benefits, transport or learning",
    "canm_1y_any_baby": "pregnancy, the baby or other children",
}
#: Below this p-value the summary says that satisfaction differed; above it, that no clear difference was found.
DIFFERENCE_P = 0.05


def most_unmet(results: Mapping[str, pd.DataFrame]) -> tuple[str, str, str] | None:
    """(variable, natural frequency, plain area) of the group of needs most often unmet at one year among all
    mothers assessed, from released counts only; None without such rows."""
    t = results.get("table3_needs")
    if t is None or "variable" not in t:
        return None
    rows = t[t["variable"].astype(str).isin(PLAIN_AREAS) & (t["row_type"] == "level")
             & (t["group"].astype(str) == "overall")]
    best = None
    for _, r in rows.iterrows():
        share = natural_frequency(r["n"], r["denominator"])
        if share and (best is None or int(r["n"]) / int(r["denominator"]) > best[0]):
            best = (int(r["n"]) / int(r["denominator"]), r["variable"], share)
    return None if best is None else (best[1], best[2], PLAIN_AREAS[best[1]])


def satisfaction(results: Mapping[str, pd.DataFrame]) -> tuple[float, float, float] | None:
    """(mean CSQ-8 with CSC involvement, mean without, p of their test) from the released ``table3_needs``;
    None when the rows are absent or any of the three is suppressed."""
    t = results.get("table3_needs")
    if t is None or "variable" not in t:
        return None
    csq = t[(t["variable"] == "csq8_total") & (t["row_type"] == "summary")]
    csq = csq.set_index(csq["group"].astype(str))
    if not {"1", "0"} <= set(csq.index) or any_hidden(csq.at["1", "mean"], csq.at["0", "mean"], csq.at["1", "p"]):
        return None
    return float(csq.at["1", "mean"]), float(csq.at["0", "mean"]), float(csq.at["1", "p"])


def _needs_and_satisfaction(results: Mapping[str, pd.DataFrame]) -> list[str]:
    """Two findings on the study's first aim, in words: the need most often unmet a year later (a natural
    frequency), and whether mothers with children's social care involvement were less or more satisfied
    with their care (said only where the test found a difference, p below ``DIFFERENCE_P``)."""
    out = []
    most = most_unmet(results)
    if most:
        out.append(f"A year after her care ended, {most[1]} of the mothers had a need for help with {most[2]} "
                   "that was not being met. This was the kind of need most often not met.")
    csq = satisfaction(results)
    if csq is not None:
        with_csc, without, p = csq
        if p < DIFFERENCE_P:
            how = "less" if with_csc < without else "more"
            out.append(f"Mothers whose family had children's social care involvement were {how} happy with "
                       "their mental health care than other mothers.")
        else:
            out.append("We did not find a clear difference in how happy mothers were with their mental health "
                       "care, whether or not children's social care was involved.")
    return [f"- {s}" for s in out] + ([""] if out else [])


#: Where families can find help (docs/REPORT.md: where each was checked; the team checks them before publishing).
SUPPORT_LINES = [
    "If you are worried about your mental health, talk to your GP, midwife or health visitor.", "",
    "- If you need urgent help with your mental health in England, call NHS 111 and choose option 2. Wales "
    "has a similar NHS 111 service.",
    "- If a life is at risk, call 999 or go to A&E.",
    "- You can talk to Samaritans at any time, for free, on 116 123.",
    "- Family Rights Group gives free advice to families about children's social care (frg.org.uk).", "",
]

#: CSC status during the episode that means an assessment, early help or support, not statutory protection.
SUPPORT_LEVELS = ("assessment", "child_in_need")
INVOLVED_LEVELS = (*SUPPORT_LEVELS, "child_protection_plan", "looked_after")


def involvement_kinds(results: Mapping[str, pd.DataFrame]) -> dict[str, tuple[int, str]] | None:
    """Each kind of CSC involvement during the episode -> (dyads, the transitions row's group), among the
    dyads followed up with status known at both times (the row totals of ``table4_transitions``, released
    counts); None when a total is hidden or the table is absent."""
    t = results.get("table4_transitions")
    if t is None or "variable" not in t:
        return None
    rows = t[t["variable"] == "csc_status_index"]
    out = {}
    for level in INVOLVED_LEVELS:
        r = rows[rows["level"].astype(str) == level]
        if r.empty or hidden(r["denominator"].iloc[0]):
            return None
        out[level] = (int(r["denominator"].iloc[0]), str(r["group"].iloc[0]))
    return out


def support_share(results: Mapping[str, pd.DataFrame]) -> str | None:
    """The natural frequency of support (an assessment, early help or child in need) among the kinds of
    involvement during the episode; None when a count is hidden."""
    kinds = involvement_kinds(results)
    if kinds is None:
        return None
    support = sum(n for lev, (n, _) in kinds.items() if lev in SUPPORT_LEVELS)
    return natural_frequency(support, sum(n for n, _ in kinds.values()))


def _help_for_the_family(results: Mapping[str, pd.DataFrame]) -> list[str]:
    """What involvement meant, in plain words, when the released counts say it: for how many of the families
    it was help (a check, early help or support) rather than a Child Protection Plan or care away from the mother."""
    share = support_share(results)
    if share is None:
        return []
    return ["Children's social care being involved does not always mean worry about the baby's safety. We "
            "heard a year later from some of the families it was involved with during the mother's care. For "
            f"{share} of them, it meant a check on how the family was doing, early help or support. It did not "
            "mean a Child Protection Plan or the baby living away from the mother.", ""]


HEADLINE_MEASURES = ("csc_index", "csc_1y", "not_in_care_1y", "cpp_1y")


def summary_numbers(results: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every number the summary can state, with its source: ``text`` (as printed: "278", "about 1 in 3"),
    ``table``, ``row`` (the row's key) and ``columns`` (the cells it is made from). A natural frequency
    of a suppressed cell is not listed (the summary never states it), so a read-back of the rendered
    summary can check that each number it finds is one of these."""
    h = results["headline"].set_index("measure")
    rows = []
    for measure in ("dyads", "sites"):
        v = h.at[measure, "n"]
        if not hidden(v):
            rows.append((str(int(v)), "headline", measure, "n"))
    followed = natural_frequency(h.at["followed_1y", "n"], h.at["dyads", "n"])
    if followed:
        rows.append((followed, "headline", "followed_1y; dyads", "n; n"))
    for measure in HEADLINE_MEASURES:
        share = natural_frequency(h.at[measure, "n"], h.at[measure, "denominator"])
        if share:
            rows.append((share, "headline", measure, "n, denominator"))
    t = results.get("table2_clinical")
    if t is not None and "variable" in t:
        care = t[(t["variable"] == "service_type") & (t["group"].astype(str) == "overall") & (t["row_type"] == "level")]
        for _, r in care.iterrows():
            share = natural_frequency(r["n"], r["denominator"])
            if share and str(r["level"]) in CARE_SETTINGS:
                rows.append((share, "table2_clinical", f"service_type {r['level']} overall", "n, denominator"))
    most = most_unmet(results)
    if most:
        rows.append((most[1], "table3_needs", f"{most[0]} overall", "n, denominator"))
    share = support_share(results)
    if share:
        rows.append((share, "table4_transitions", "csc_status_index " + ", ".join(INVOLVED_LEVELS), "denominator"))
    return pd.DataFrame(rows, columns=["text", "table", "row", "columns"])


def plain_summary(results: Mapping[str, pd.DataFrame], *, is_synthetic: bool, checked: bool = True) -> str:
    """The whole plain-English summary (Markdown: a data notice and four sections), from the released
    tables only. ``is_synthetic`` labels the page and every section that gives or reads numbers SYNTHETIC; ``checked`` False (policy 'none') opens
    every section with the 'Outputs not checked' warning."""
    h = headline(results)
    n = _count_text(h.n)
    sites = _count_text(h.n_sites)
    notice = f"::: {{.callout-note}}\n**{data_notice(is_synthetic, checked)}**\n:::\n"
    kw = {"is_synthetic": is_synthetic, "checked": checked}

    about = _section("What was this study about?", [
        "Some mothers need urgent care for their mental health in the year after they have a baby. "
        "They may be cared for in a mother and baby unit, on a general mental health ward, or at home by a "
        "crisis team.", "",
        "Children's social care is the council service that helps children and families and keeps children "
        "safe. We wanted to know how often it was involved with these families. We also asked how this "
        "changed over a year, and what was linked with it.", "",
    ], **kw, numbers=False)

    who = [f"The study included {n} mothers and their babies" if n else "The study included mothers and their babies"]
    who[0] += f", from {sites} NHS organisations in England and Wales." if sites else ", from England and Wales."
    who += ["", "We used the mothers' health records, and we talked with the mothers. We looked at three times: "
            "during the mother's urgent care, one month after it ended, and one year after it ended.", ""]
    settings = _care_settings(results)
    if settings:
        who += [" ".join(settings), ""]
    people = _section("Who took part?", who, **kw)

    found = _findings(h) + _needs_and_satisfaction(results)
    for key, when in (("models_episode", "during the mother's urgent care"), ("models_one_year", "a year later")):
        lines = factor_lines(results.get(key), when)
        if lines:
            found += [*lines, ""]
    found += ["These are links. They do not show that one thing caused another.", ""]
    findings = _section("What did we find?", found, **kw)

    meaning = _section("What does this mean for families and practitioners?", [
        *_help_for_the_family(results),
        "These findings describe the families who took part. They cannot tell what will happen to any one "
        "family.", "",
        "Mothers and families can ask their care team what help there is for them and their baby. Mental "
        "health and social care teams can use these findings to think about which families may need help "
        "from both services, and to plan that help together.", "",
        "The numbers in this summary are rounded to make them easy to read. The full report gives more detail, "
        "and says how we worked the numbers out.", "",
        "This work was paid for by What Works for Children's Social Care, now called Foundations. The bigger "
        "study it comes from was paid for by the National Institute for Health and Care Research.", "",
    ], **kw)
    support = _section("Where to find help", SUPPORT_LINES, **kw, numbers=False)
    return "\n".join([notice, about, people, findings, meaning, support])
