"""The plain-language check of the plain-English summary, shared by the summary's tests and the read-back of
the rendered summary document: ``plain_language_problems(text)`` lists what is wrong with any text (a reading
grade above 8, a jargon or stigmatising term of data/plain_language.yml, a statistic a plain summary never
shows, a protected value); ``rendered_text(path)`` reads a rendered .html or .docx back as that text."""
from __future__ import annotations

import re
from pathlib import Path

import pypandoc
import textstat
import yaml

from perinatal_csc.paths import PROJECT_ROOT

LISTS_FILE = PROJECT_ROOT / "data" / "plain_language.yml"
MAX_GRADE = 8.0
#: Statistics a plain summary never shows (each could appear by accident from a table helper).
STATISTICS_PATTERNS: dict[str, str] = {
    "odds ratio": r"(?i)\bodds\b",
    "OR abbreviation": r"\bORs?\b",
    "p-value": r"(?i)\bp[\s-]*values?\b|\bp\s*[<=>≤≥]",
    "confidence interval": r"(?i)\bconfidence\s+intervals?\b|\bCIs?\b",
    "interval of numbers": r"\d\s*(?:–|-|to)\s*\d+\.\d",
    "decimal number": r"\d\.\d",
    "percentage": r"\d\s*%|\bper\s?cent\b",
}


def load_lists(path: Path = LISTS_FILE) -> dict[str, list[dict]]:
    """The jargon and stigmatising-terms lists."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _form_pattern(form: str, case_sensitive: bool) -> re.Pattern:
    body = r"[\s\-‐–]+".join(re.escape(w) for w in re.split(r"[\s\-]+", form.strip()))
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", 0 if case_sensitive else re.IGNORECASE)


def term_hits(text: str, entries: list[dict]) -> list[str]:
    """'term: form' for every listed form found in ``text`` (whole words)."""
    hits = []
    for e in entries:
        for form in e["forms"]:
            if _form_pattern(str(form), bool(e.get("case_sensitive"))).search(text):
                hits.append(f"{e['term']}: {form!r}")
    return hits


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade of plain text (textstat)."""
    return textstat.flesch_kincaid_grade(text)


def plain_language_problems(text: str, *, protected: tuple[str, ...] = (), max_grade: float = MAX_GRADE) -> list[str]:
    """Everything wrong with a plain-English summary's text (empty when nothing is): a reading grade above
    ``max_grade``, a jargon or stigmatising term of data/plain_language.yml, a statistic a plain summary never
    shows, or one of the ``protected`` regular expressions (a suppressed count in whatever form it could
    appear). Works on plain text: the summary through pandoc, or a rendered HTML/Word document read back."""
    lists = load_lists()
    problems = []
    grade = reading_grade(text)
    if grade > max_grade:
        problems.append(f"Flesch-Kincaid grade {grade:.1f} > {max_grade}")
    problems += [f"jargon: {h}" for h in term_hits(text, lists["jargon"])]
    problems += [f"stigmatising: {h}" for h in term_hits(text, lists["stigmatising"])]
    problems += [f"statistic ({name}): {m.group(0)!r}" for name, rx in STATISTICS_PATTERNS.items()
                 for m in [re.search(rx, text)] if m]
    problems += [f"protected value: {m.group(0)!r}" for rx in protected for m in [re.search(rx, text)] if m]
    return problems


def rendered_text(path: Path) -> str:
    """The text a reader sees in a rendered summary (.html: the body without scripts and styles; .docx: the
    paragraphs, tables included; .pdf: each page's text), one block per line, for ``plain_language_problems``."""
    path = Path(path)
    if path.suffix == ".docx":
        import docx

        d = docx.Document(str(path))
        cells = [p.text for t in d.tables for row in t.rows for c in row.cells for p in c.paragraphs]
        return "\n".join([p.text for p in d.paragraphs] + cells)
    if path.suffix in (".html", ".htm"):
        from lxml import html

        root = html.fromstring(path.read_text(encoding="utf-8"))
        for el in root.xpath("//script|//style|//head|//nav"):
            el.getparent().remove(el)
        for el in root.iter():
            if el.tag in ("p", "li", "h1", "h2", "h3", "h4", "div", "td", "th", "caption", "header"):
                el.tail = (el.tail or "") + "\n"
        return re.sub(r"\n\s*\n+", "\n\n", root.text_content()).strip()
    if path.suffix == ".pdf":
        import pypdf

        return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)
    raise ValueError(f"{path}: expected a rendered .html, .docx or .pdf file")


def as_text(markdown: str) -> str:
    """The summary's Markdown as the plain text a reader sees (pandoc, no markup)."""
    return pypandoc.convert_text(markdown, "plain", format="markdown-smart", extra_args=["--wrap=none"])
