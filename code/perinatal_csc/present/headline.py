"""The handful of counts the abstract and the plain-English summary quote, as text.

Pure formatting: the counts come from the ``headline`` result table (``flow.headline_counts``),
computed in the analysis stage and written as CSV with the other results.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from .fmt import MARKER, any_hidden, fmt_count, fmt_n_of
from .models import fmt_ci, fmt_or
from .prose import sourced

Count = int | str       # a whole number, or the disclosure marker when suppressed


@dataclass(frozen=True)
class Headline:
    """Headline counts; each ``*_of`` is the denominator of the count of the same name."""

    n: Count
    n_sites: Count
    n_sites_of: Count | None
    csc_index: Count
    csc_index_of: Count
    followed_1y: Count
    csc_1y: Count
    csc_1y_of: Count
    not_in_care_1y: Count
    not_in_care_1y_of: Count
    cpp_1y: Count
    cpp_1y_of: Count

    def _n_of(self, measure: str, k: Count, n: Count) -> str:
        return sourced(fmt_n_of(k, n), ("headline", {"measure": measure}, "n"),
                       ("headline", {"measure": measure}, "percent"))

    @property
    def n_text(self) -> str:
        return sourced(fmt_count(self.n), ("headline", {"measure": "dyads"}, "n"))

    @property
    def sites_text(self) -> str:
        """"41 of the 42" (organisations contributing dyads of those in the study), or "41" when the
        configuration does not say how many took part."""
        cell = ("headline", {"measure": "sites"}, "n")
        if self.n_sites_of is None:
            return sourced(fmt_count(self.n_sites), cell)
        return sourced(f"{fmt_count(self.n_sites)} of the {fmt_count(self.n_sites_of)}", cell,
                       ("headline", {"measure": "sites"}, "denominator"))

    @property
    def csc_index_text(self) -> str:
        return self._n_of("csc_index", self.csc_index, self.csc_index_of)

    @property
    def followed_1y_text(self) -> str:
        return self._n_of("followed_1y", self.followed_1y, self.n)

    @property
    def csc_1y_text(self) -> str:
        return self._n_of("csc_1y", self.csc_1y, self.csc_1y_of)

    @property
    def not_in_care_1y_text(self) -> str:
        return self._n_of("not_in_care_1y", self.not_in_care_1y, self.not_in_care_1y_of)

    @property
    def cpp_1y_text(self) -> str:
        return self._n_of("cpp_1y", self.cpp_1y, self.cpp_1y_of)


def headline(results: Mapping[str, pd.DataFrame]) -> Headline:
    """The headline counts of the run, read from its ``headline`` result table."""
    t = results["headline"].set_index("measure")

    def n(measure: str) -> Count:
        v = t.at[measure, "n"]
        return MARKER if v == MARKER else int(v)

    def of(measure: str) -> Count:
        d = t.at[measure, "denominator"]
        return MARKER if d == MARKER else 0 if pd.isna(d) else int(d)

    sites_of = t.at["sites", "denominator"]

    return Headline(n=n("dyads"), n_sites=n("sites"), n_sites_of=None if pd.isna(sites_of) else of("sites"),
                    csc_index=n("csc_index"), csc_index_of=of("csc_index"),
                    followed_1y=n("followed_1y"), csc_1y=n("csc_1y"), csc_1y_of=of("csc_1y"),
                    not_in_care_1y=n("not_in_care_1y"), not_in_care_1y_of=of("not_in_care_1y"),
                    cpp_1y=n("cpp_1y"), cpp_1y_of=of("cpp_1y"))


def associated_factors(models: pd.DataFrame, direction: str, kind: str = "Adjusted") -> list[str]:
    """Labels of terms the models stage marks ``direction`` "higher" or "lower" (CI wholly above or below 1)."""
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")
    hits = models[(models["type"] == kind) & (models["direction"] == direction)]
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
UNCHECKED_NOTICE = ("OUTPUTS NOT CHECKED: disclosure control was switched off (policy 'none'); no output of this "
                    "run may leave the secure environment.")


def unchecked_banner(checked: bool) -> str:
    """A warning callout (Markdown) for the top of every section when the outputs were not checked;
    empty when they were."""
    if checked:
        return ""
    return f"::: {{.callout-important}}\n## Outputs not checked\n\n{UNCHECKED_NOTICE}\n:::\n"


def data_notice(is_synthetic: bool, checked: bool = True) -> str:
    """The label every rendered document opens with (and the warning that outputs were not checked)."""
    from .style import SYNTHETIC_NOTE

    text = SYNTHETIC_NOTE if is_synthetic else REAL_NOTICE
    return text if checked else f"{text} {UNCHECKED_NOTICE}"


def abstract_factors(results: Mapping[str, pd.DataFrame], model: str, direction: str = "higher") -> str:
    """The adjusted terms of ``model`` whose interval lies wholly above (or below) 1, each with its odds
    ratio and interval, for the abstract: 'deprivation (OR 5.49, 2.56 to 12.50) and …'; 'no factor'
    when none does. A withheld estimate (disclosure marker) is never quoted."""
    t = results[f"models_{model}"]
    hits = t[(t["type"] == "Adjusted") & (t["direction"] == direction)]
    items = []
    for _, r in hits.iterrows():
        if any_hidden(r["or"], r["ci_low"], r["ci_high"]):
            continue
        level = str(r.get("level_label") or "")
        label = str(r["label"])
        name = f"{level} ({label[0].lower() + label[1:]})" if level and level not in ("Yes", "nan") else label
        key = {"model": model, "type": "Adjusted", "term": r["term"], "level": r["level"]}
        items.append(sourced(f"{name} (OR {fmt_or(r['or'])}, {fmt_ci(r['ci_low'], r['ci_high'])})",
                             *((f"models_{model}", key, c) for c in ("or", "ci_low", "ci_high"))))
    return as_list_text(items) if items else "no factor"


def findings_text(results: Mapping[str, pd.DataFrame], model: str) -> str:
    """What an adjusted model found, chosen by rule for the Results: 'more likely with …' (the terms whose
    interval lies wholly above 1) and 'less likely with …' (wholly below), each with its odds ratio and
    interval; 'not clearly associated with any factor' when no interval excludes 1."""
    parts = [f"{word} likely with {found}" for word, direction in (("more", "higher"), ("less", "lower"))
             if (found := abstract_factors(results, model, direction)) != "no factor"]
    return " and ".join(parts) if parts else "not clearly associated with any factor (every interval included 1)"
