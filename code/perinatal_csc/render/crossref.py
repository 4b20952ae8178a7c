"""The cross-document label map: what "Supplementary Table 3" or "Methods: Bias" a label stands for.

Quarto numbers tables and figures within one document and has no references between documents, so
the manuscript cannot write ``@tbl-s-codebook`` for a table of the supplement. The pre-render step of
both renderers reads every document of the project (``project.render``) in order, numbers its
``tbl-``/``fig-`` cells as Quarto will (document order, per kind, caption prefix from the document's
``crossref: tbl-title/fig-title``), records each ``{#sec-...}`` heading with its parent section,
and writes the result to ``_crossref.yml``; the chapters read it through ``report.xref``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..files import yaml_text
from ..paths import CROSSREF_FILE
from .qmd import OPTION_RE, SourceError, expand_includes, split_front_matter

HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*\{([^}]*)\}\s*$")
PLAIN_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
ID_RE = re.compile(r"#((?:sec|tbl|fig)-[\w-]+)")
FENCE_RE = re.compile(r"^\s*```")
CELL_RE = re.compile(r"^\s*```\{python\b")
KINDS = {"tbl": ("tbl-title", "Table"), "fig": ("fig-title", "Figure")}


def _labels_of(path: Path, root: Path) -> list[dict[str, Any]]:
    """Every label of one document in order: kind, label, and for sections the heading path."""
    out: list[dict[str, Any]] = []
    parents: dict[int, str] = {}
    in_cell = False
    entry: dict[str, Any] | None = None
    cap: str | None = None
    for _, text in expand_includes(path, path.parent, root):
        for line in text.splitlines():
            if FENCE_RE.match(line):
                in_cell = bool(CELL_RE.match(line)) if not in_cell else False
                entry, cap = None, None
                continue
            if in_cell:
                m = OPTION_RE.match(line)
                option = m.group(1).strip() if m else ""
                if option.startswith("label:"):
                    label = option.split(":", 1)[1].strip().strip("\"'")
                    if label.split("-")[0] in KINDS:
                        entry = {"label": label, "kind": label.split("-")[0], **({"title": cap} if cap else {})}
                        out.append(entry)
                elif option.startswith(("tbl-cap:", "fig-cap:")):
                    cap = option.split(":", 1)[1].strip().strip("\"'")
                    if entry is not None:
                        entry["title"] = cap
                continue
            h = HEADING_RE.match(line) or PLAIN_HEADING_RE.match(line)
            if not h:
                continue
            level, title = len(h.group(1)), h.group(2).strip()
            parents = {k: v for k, v in parents.items() if k < level}
            parents[level] = title
            ids = ID_RE.findall(h.group(3)) if h.re is HEADING_RE else []
            if ids and ids[0].startswith("sec-"):
                trail = [parents[k] for k in sorted(parents) if k >= 2]
                out.append({"label": ids[0], "kind": "sec", "title": title, "path": trail})
    return out


def label_map(root: Path, documents: list[str]) -> dict[str, dict[str, Any]]:
    """Every label of every document: its document, kind, number (tables and figures) and display text
    ("Supplementary Table 3"; a section of the article as its heading path, "Methods: Bias"; a section of
    another document as that document's title and its heading, "Supplementary material, Missing data")."""
    labels: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(documents):
        path = root / name
        if not path.exists():
            continue                # reported by the renderers and by lint, not here
        front, _ = split_front_matter(path.read_text(encoding="utf-8"), path)
        crossref = front.get("crossref") or {}
        title = str(front.get("title") or Path(name).stem)
        counters = {k: 0 for k in KINDS}
        for entry in _labels_of(path, root):
            label = entry["label"]
            if label in labels:
                raise SourceError(f"{name}: label '{label}' is also used in {labels[label]['document']}; "
                                  "labels must be unique across the project's documents")
            entry = {**entry, "document": Path(name).stem, "document_title": title}
            if entry["kind"] in KINDS:
                key, default = KINDS[entry["kind"]]
                counters[entry["kind"]] += 1
                entry["number"] = counters[entry["kind"]]
                entry["text"] = f"{crossref.get(key, default)} {entry['number']}"
            else:
                trail = entry.pop("path")
                entry["text"] = ": ".join(trail) if i == 0 else f"{title}, {entry['title']}"
            labels[label] = entry
    return labels


def write_label_map(root: Path, documents: list[str]) -> dict[str, dict[str, Any]]:
    """Write ``_crossref.yml`` for this render and return it."""
    labels = label_map(root, documents)
    (root / CROSSREF_FILE).write_text(yaml_text(labels), encoding="utf-8")
    return labels
