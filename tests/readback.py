"""The prose read-back shared by the manuscript's and the report's tests: every number of the rendered
prose is matched, in order, to the released cell its kernel recorded (``present.prose.sourced``), formatted
by this module's own rules, or is written literally in the sources."""
from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pandas as pd

from perinatal_csc.disclose.policy import MARKER


def norm(s: str) -> str:
    return " ".join(s.replace("\u2212", "-").replace("\u00a0", " ").replace("\u2009", " ").split())


def section_html(html: str, start: str, stop: str) -> str:
    """The HTML from the section with id ``start`` up to the section with id ``stop``."""
    a = html.index(f'<section id="{start}"')
    return html[a:html.index(f'<section id="{stop}"', a)]


NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
REFERENCE = re.compile(r"(?:Supplementary\s+)?(?:Table|Figure)\s+\d+")
COMMENT = re.compile(r"<!-- perinatal-csc prose sources: (.*?) -->", re.S)


def prose_of(html: str, regions: list[tuple[str, str]]) -> str:
    """The text of the given (start, stop) sections without tables, figures (their captions included) and
    cross-references: the prose a reader reads, figure text descriptions included."""
    out = []
    for start, stop in regions:
        f = section_html(html, start, stop)
        f = re.sub(r'<div id="tbl-[^"]+" class="table-float">.*?</table>.*?</div>\s*</div>|<figure.*?</figure>|'
                   r"<style.*?</style>", " ", f, flags=re.S)
        out.append(REFERENCE.sub(" ", htmllib.unescape(re.sub(r"<[^>]+>", " ", f))))
    return norm(" ".join(out))


def cell_value(frame: pd.DataFrame, key: dict, column: str):
    """The cell a record names: one value (every matching row agrees), or the sum over rows for 'sum:'."""
    rows = frame
    for k, v in key.items():
        rows = rows[rows[k] == rows[v[1:]]] if v.startswith("=") else rows[rows[k].astype(str) == v]
    assert len(rows), f"no row {key}"
    if column.startswith("sum:"):
        vals = rows[column[4:]]
        return MARKER if (vals == MARKER).any() else sum(int(float(x)) for x in vals)
    vals = set(rows[column])
    assert len(vals) == 1, f"{key} {column}: rows disagree {vals}"
    return vals.pop()


def expected_numbers(value, column: str) -> list[set[str]]:
    """The number a cell shows as prose, formatted by this test's own rules (any one of the forms)."""
    if value in ("", MARKER):
        return []
    v = float(value)
    col = column.removeprefix("sum:")
    if col in ("n", "excluded", "events", "n_pairs", "n_domain_not_known", "denominator", "group_n"):
        return [{str(int(v))}]
    if col == "p":
        return [{"0.001"}] if v < 0.001 else [{"0.99"}] if v > 0.99 else [{f"{v:.3f}"}]
    if col in ("or", "ci_low", "ci_high"):
        return [{f"{v:.2f}"}]
    if col == "confidence_level":
        return [{f"{100 * v:.0f}"}]
    if col in ("median", "q1", "q3"):
        return [{f"{v:.1f}"} | ({str(int(v))} if v == int(v) else set())]
    return [{f"{v:.1f}"}]


def prose_problems(text: str, records: list[dict], csv: dict[str, Path], literal: set[str]) -> list[str]:
    """Records are matched in order, each at the next number of ``text`` (past numbers written in the
    sources); a matched record must show its cells as this test formats them, and every number of
    ``text`` no record matched must be written literally in the sources."""
    frames = {name: pd.read_csv(path, dtype=str, keep_default_na=False) for name, path in csv.items()}
    prose = NUMBER.findall(text)
    used, pos, problems, found = [False] * len(prose), 0, [], 0
    for rec in records:
        mine = NUMBER.findall(rec["text"])
        if not mine:
            continue
        at = pos
        while at < len(prose) and prose[at:at + len(mine)] != mine and prose[at] in literal:
            at += 1             # numbers written in the sources (instrument ranges, '26 domains') may come between
        if prose[at:at + len(mine)] != mine:
            continue            # not the next number: a record of another part of the document (the Methods)
        found += 1
        used[at:at + len(mine)] = [True] * len(mine)
        pos = at + len(mine)
        want = [forms for c in rec["cells"] for forms in expected_numbers(
            cell_value(frames[c["table"]], c["key"], c["column"]), c["column"])]
        it = iter(mine)
        if not all(any(tok in forms for tok in it) for forms in want):
            problems.append(f"{rec['text']!r} does not show its cells {rec['cells']}")
    for tok, ok in zip(prose, used):
        if not ok and tok not in literal:
            problems.append(f"{tok} in the prose comes from no result cell and is not written in the sources")
    if not found:
        problems.append("no sourced number found in the prose")
    return problems


def literal_numbers() -> set[str]:
    root = Path(__file__).resolve().parents[1]
    text = " ".join(p.read_text(encoding="utf-8") for p in [*root.glob("*.qmd"), *(root / "chapters").glob("*.qmd")])
    return set(NUMBER.findall(re.sub(r"`\{python\}[^`]*`|```\{python\}.*?```", " ", text, flags=re.S)))
