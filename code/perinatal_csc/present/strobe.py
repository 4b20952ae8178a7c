"""The STROBE checklist for cohort studies (``data/reporting/strobe_cohort.yml``) and where our documents
address each of its items, as a great-tables table for the supplement.

The data file holds each item's section, topic, recommendation (the checklist's wording, with where it was
found) and ``where``: cross-reference labels of the manuscript or supplement. The table turns each label
into words through a ``where(label) -> str`` callable (the cross-document label map), so the checklist never
names a section or table number itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
from great_tables import GT

from ..errors import UserError
from ..files import read_yaml
from ..paths import PROJECT_ROOT
from .style import style_table

STROBE_COHORT = PROJECT_ROOT / "data" / "reporting" / "strobe_cohort.yml"
LABEL_RE = re.compile(r"^(sec|fig|tbl)-[a-z0-9]+(-[a-z0-9]+)*$")
ITEM_RE = re.compile(r"^[1-9][0-9]?[a-e]?$")
FIELDS = ("item", "section", "topic", "recommendation", "where")


class ChecklistError(UserError):
    """A reporting-guideline data file that cannot be used."""


@dataclass(frozen=True)
class ChecklistItem:
    item: str
    section: str
    topic: str
    recommendation: str
    where: tuple[str, ...]
    note: str = ""
    asterisk: bool = False
    authors: str = ""


@dataclass(frozen=True)
class Checklist:
    guideline: str
    name: str
    citation: str
    items: tuple[ChecklistItem, ...]

    def labels(self) -> set[str]:
        """Every cross-reference label the checklist points to."""
        return {label for it in self.items for label in it.where}


def load_checklist(path: str | Path = STROBE_COHORT) -> Checklist:
    """The checklist in ``path``; a ``ChecklistError`` names the file, the item and the field of anything
    missing or malformed (an unknown field, an item number twice, a label that is not sec-/fig-/tbl-...)."""
    path = Path(path)
    raw = read_yaml(path, "reporting checklist", ChecklistError)
    items, seen = [], set()
    for i, rec in enumerate(raw.get("items") or []):
        where_ = f"{path}: items[{i}]"
        if not isinstance(rec, dict):
            raise ChecklistError(f"{where_}: expected a mapping with {', '.join(FIELDS)}, found {rec!r}")
        item = str(rec.get("item", "")).strip()
        where_ = f"{path}: item {item or f'[{i}]'}"
        missing = [f for f in FIELDS if not rec.get(f) and not (f == "where" and rec.get("authors"))]
        if missing:
            raise ChecklistError(f"{where_}: missing {', '.join(missing)}")
        unknown = set(rec) - {*FIELDS, "note", "asterisk", "authors"}
        if unknown:
            raise ChecklistError(f"{where_}: unknown field(s) {', '.join(sorted(unknown))}")
        if not ITEM_RE.match(item):
            raise ChecklistError(f"{where_}: item number {item!r} is not like 12 or 12a")
        if item in seen:
            raise ChecklistError(f"{where_}: item {item} appears more than once")
        seen.add(item)
        labels = rec.get("where") or []
        labels = labels if isinstance(labels, list) else [labels]
        bad = [str(lb) for lb in labels if not LABEL_RE.match(str(lb))]
        if bad:
            raise ChecklistError(f"{where_}: where: {', '.join(bad)} is not a cross-reference label "
                                 "(sec-..., fig-... or tbl-...)")
        items.append(ChecklistItem(item=item, section=str(rec["section"]), topic=str(rec["topic"]),
                                   recommendation=" ".join(str(rec["recommendation"]).split()),
                                   where=tuple(str(lb) for lb in labels), note=str(rec.get("note") or ""),
                                   asterisk=bool(rec.get("asterisk")), authors=str(rec.get("authors") or "")))
    if not items:
        raise ChecklistError(f"{path}: no items")
    return Checklist(guideline=str(raw.get("guideline", "")), name=str(raw.get("checklist", "")),
                     citation=str(raw.get("citation", "")), items=tuple(items))


def unknown_labels(checklist: Checklist, known: Iterable[str]) -> list[tuple[str, str]]:
    """(item, label) for every ``where`` label that is not among the documents' ``known`` labels."""
    known = set(known)
    return [(it.item, label) for it in checklist.items for label in it.where if label not in known]


def checklist_frame(checklist: Checklist, where: Callable[[str], str]) -> pd.DataFrame:
    """One row per item: section, item number, topic (on the first of its lettered items only, as the
    checklist prints it), recommendation and where it is addressed (each label through ``where``, joined by
    '; ', after the item's note), then what is left for the authors to write."""
    rows = []
    previous = None
    for it in checklist.items:
        places = "; ".join(where(label) for label in it.where)
        topic = "" if (it.section, it.topic) == previous else it.topic
        previous = (it.section, it.topic)
        parts = [f"{it.note}. {places}" if it.note and places else it.note or places,
                 f"For the authors: {it.authors}" if it.authors else ""]
        rows.append({"section": it.section, "item": it.item, "topic": topic,
                     "recommendation": it.recommendation, "where": "; ".join(p for p in parts if p)})
    return pd.DataFrame(rows)


def strobe_table(where: Callable[[str], str], *, path: str | Path = STROBE_COHORT,
                 is_synthetic: bool = False) -> GT:
    """The checklist as a table grouped by section: item, topic, recommendation, where addressed."""
    checklist = load_checklist(path)
    frame = checklist_frame(checklist, where)
    gt = (GT(frame, groupname_col="section")
          .cols_label(item="Item", topic="Topic", recommendation="Recommendation", where="Where addressed"))
    return style_table(gt, is_synthetic=is_synthetic, footnotes=[
        f"{checklist.guideline}: {checklist.name}. Recommendations in the checklist's wording; where addressed, the "
        "part of the main text or of this supplement that reports it, and what is left for the authors to write."])
