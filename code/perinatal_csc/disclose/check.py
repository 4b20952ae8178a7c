"""``perinatal-csc check-disclosure``: find counts in released files, however they were made.

Reads HTML (text, table cells, alt text, titles and meta tags), Word (paragraphs, tables, headers,
footers, document properties), PDF (text of every page and metadata) and CSV (columns of counts and
text cells). A count is "n (%)", "N = n", "n/N", "n of N", a number before dyads, mothers, infants,
families, women or babies, a bare whole number in a table cell of a "Not known" row or under a
column headed "N = ...", or the count a natural frequency "1 in k" implies with the "(n of N)"
beside it. Raster images cannot be read and are listed for a manual check.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .policy import Policy

PATTERNS = {
    "n (%)": re.compile(r"(?<![\w.,])(\d+)\s*\(\s*\d+(?:\.\d+)?\s*%\s*\)"),
    "N = n": re.compile(r"(?<![\w])[Nn]\s*=\s*(\d+)(?![\d.])"),
    # not a journal issue such as "Biometrika. 1951;38(1/2)": a fraction right after a volume number
    "n/N": re.compile(r"(?<![\w./^])(?<!\d\()(\d+)\s*/\s*(\d+)(?![\d./^])"),
    "n of N": re.compile(r"(?<![\w.,])(\d+) of (?:the )?(\d+)(?![\d.])(?!\s+(?:NHS\s+)?(?:organisations|sites|domains|items|scales))"),
    "n people": re.compile(r"(?<![\w.,])(\d+)\s+(?:[A-Za-z\u2013-]+\s+){0,2}?(?:dyads|mothers|infants|families|women|babies)\b",
                           re.IGNORECASE),
}
NATURAL = re.compile(r"\b\d+ in \d+\b")      # "about 3 in 4 of the families": a ratio, not 4 families
ONE_IN = re.compile(r"\b1 in (\d+)\b[^.;]*?\((\d+) of (\d+)\)")
BARE = re.compile(r"^\s*(\d+)\s*$")
NOT_KNOWN_LINE = re.compile(r"^\s*Not known((?:\s+\d+)+)\s*$")   # a PDF table row of bare counts
COUNT_COLUMNS = {"n", "denominator", "group_n", "n_missing", "n_not_applicable", "excluded", "remaining", "parent_n",
                 "events", "non_events", "n_pairs", "n_involved", "n_status_unknown", "n_domain_not_known"}
RASTER = {".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp"}


@dataclass(frozen=True)
class Finding:
    """A count found in a file: where (file, table/row/column or paragraph), what, and whether it breaks the policy."""

    file: str
    where: str
    text: str
    count: int
    kind: str

    def line(self) -> str:
        return f"{self.file}: {self.where}: {self.kind} {self.count} in {self.text!r}"


def counts_in(text: str) -> Iterator[tuple[str, int]]:
    """(kind, count) of every count pattern in ``text`` ("about 1 in k families" counts as the n of its
    "(n of N)", not as k families)."""
    for m in ONE_IN.finditer(text):
        k, n, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
        yield "1 in k", n if n else round(total / k)
    text = NATURAL.sub(" ", text)
    for kind, pat in PATTERNS.items():
        for m in pat.finditer(text):
            for g in m.groups():
                if g is not None:
                    yield kind, int(g)


@dataclass
class _Unit:
    where: str
    text: str
    bare_is_count: bool = False
    bare_counts: tuple[int, ...] = ()


def _column_labels(rows) -> list[str]:
    """The label of each column of an HTML table head: row and column spans laid out on a grid, and
    each column named by its lowest label (the one just above the body)."""
    grid: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr.xpath("./th|./td"):
            while (r, c) in grid:
                c += 1
            text = " ".join(cell.text_content().split())
            for dr in range(int(cell.get("rowspan", 1) or 1)):
                for dc in range(int(cell.get("colspan", 1) or 1)):
                    grid[(r + dr, c + dc)] = text
            c += int(cell.get("colspan", 1) or 1)
    width = 1 + max((c for _, c in grid), default=-1)
    labels = []
    for c in range(width):
        column = [grid[(r, c)] for r in range(len(rows) + 1) if (r, c) in grid]
        labels.append(column[-1] if column else "")
    return labels


def _html_units(path: Path) -> Iterator[_Unit]:
    from lxml import html as lhtml

    doc = lhtml.fromstring(path.read_text(encoding="utf-8", errors="replace"))   # lxml reads bytes as Latin-1
    for bad in doc.xpath("//script|//style"):
        bad.getparent().remove(bad)
    for k, table in enumerate(doc.xpath("//table"), 1):
        header = _column_labels(table.xpath(".//thead/tr"))
        for r, tr in enumerate(table.xpath(".//tr"), 1):
            cells = [" ".join(c.text_content().split()) for c in tr.xpath("./th|./td")]
            stub = cells[0] if cells else ""
            for c, text in enumerate(cells, 1):
                col = header[c - 1] if c - 1 < len(header) else ""
                yield _Unit(f"table {k}, row {r} ({stub[:80]}), column {c} ({col[:60]})", text,
                            "not known" in stub.lower() or "N =" in col)
        table.getparent().remove(table)
    for i, el in enumerate(doc.xpath("//*[@alt or @title or @aria-label]"), 1):
        for attr in ("alt", "title", "aria-label"):
            if el.get(attr):
                yield _Unit(f"{attr} text {i}", el.get(attr))
    for i, meta in enumerate(doc.xpath("//meta[@content]"), 1):
        yield _Unit(f"meta {meta.get('name') or meta.get('property') or i}", meta.get("content"))
    for i, block in enumerate(doc.xpath("//p|//li|//h1|//h2|//h3|//h4|//figcaption|//caption|//title|//div[not(*)]|//span[not(*)]"), 1):
        text = " ".join(block.text_content().split())
        if text:
            yield _Unit(f"text block {i}", text)


def _docx_units(path: Path) -> Iterator[_Unit]:
    import docx

    d = docx.Document(str(path))

    def tables(ts, prefix=""):
        for k, t in enumerate(ts, 1):
            rows = [[" ".join(c.text.split()) for c in r.cells] for r in t.rows]
            marked = [cells for r, cells in zip(t.rows, rows) if r._tr.trPr is not None
                      and any(x.tag.endswith("tblHeader") for x in r._tr.trPr)]
            header = (marked or rows[:1] or [[]])[-1]
            for r, cells in enumerate(rows, 1):
                stub = cells[0] if cells else ""
                for c, text in enumerate(cells, 1):
                    col = header[c - 1] if c - 1 < len(header) else ""
                    yield _Unit(f"{prefix}table {k}, row {r} ({stub[:80]}), column {c} ({col[:60]})", text,
                                "not known" in stub.lower() or "N =" in col)
            for r in t.rows:
                for cell in r.cells:
                    yield from tables(cell.tables, prefix=f"{prefix}table {k} nested ")

    yield from tables(d.tables)
    for i, p in enumerate(d.paragraphs, 1):
        if p.text.strip():
            yield _Unit(f"paragraph {i}", p.text)
    for s, section in enumerate(d.sections, 1):
        for part, name in ((section.header, "header"), (section.footer, "footer")):
            for p in part.paragraphs:
                if p.text.strip():
                    yield _Unit(f"section {s} {name}", p.text)
    for el in d.element.body.iter():
        descr = el.get("descr") if hasattr(el, "get") else None
        if descr:
            yield _Unit("image description (alt text)", descr)
    props = d.core_properties
    for name in ("title", "subject", "keywords", "comments", "description"):
        v = getattr(props, name, None)
        if v:
            yield _Unit(f"document property {name}", str(v))


CAPTION = re.compile(r"^Table (\d+)(?: \(continued\))?:?")
CELL_GAP = 6.0          # points: words closer than this belong to one table cell
LINE_TOL = 2.0          # points: words whose tops differ by less are on one line


def _pdf_lines(words: list[dict]) -> list[list[dict]]:
    """Words grouped into lines (by their top), each line left to right."""
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"], 1), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - w["top"]) < LINE_TOL:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


def _segments(line: list[dict]) -> list[tuple[float, float, str]]:
    """A line's table cells: runs of words separated by less than ``CELL_GAP`` (x0, x1, text)."""
    out: list[list] = []
    for w in line:
        if out and w["x0"] - out[-1][1] < CELL_GAP:
            out[-1][1], out[-1][2] = w["x1"], out[-1][2] + " " + w["text"]
        else:
            out.append([w["x0"], w["x1"], w["text"]])
    return [tuple(o) for o in out]


def _column_of(seg: tuple[float, float, str], columns: list[tuple[float, float, str]]) -> int:
    """The header column a cell lies under: the largest horizontal overlap, else the nearest edge."""
    def score(c):
        overlap = min(seg[1], c[1]) - max(seg[0], c[0])
        return overlap if overlap > 0 else -min(abs(seg[1] - c[1]), abs(seg[0] - c[0]))
    return max(range(len(columns)), key=lambda k: score(columns[k]))


def _pdf_rows(body: list[list[dict]], columns: list) -> list[list[list]]:
    """Body lines as table rows of [column, text] cells: a line closer to the one above than 1.4 times
    the text height continues that row (a wrapped label or cell: table rows are further apart by
    their cell padding), its text appended cell by cell."""
    rows: list[list[list]] = []
    above = None
    for line in body:
        cells = [[_column_of(seg, columns), seg[2]] for seg in _segments(line)]
        if rows and above is not None and \
                line[0]["top"] - above[0]["top"] < 1.4 * max(w["bottom"] - w["top"] for w in above):
            for c, text in cells:
                hit = next((cell for cell in rows[-1] if cell[0] == c), None)
                if hit is None:
                    rows[-1].append([c, text])
                else:
                    hit[1] += ("" if hit[1].endswith("-") else " ") + text
        else:
            rows.append(cells)
        above = line
    return rows


def _pdf_table(k: int, header: list[list[dict]], body: list[list[dict]], rows_so_far: dict) -> Iterator[_Unit]:
    """The cells of one table (or its part on one page), numbered as in Word: the header rows (columns
    from the header's lowest line, each named by its cell in the last header row), then a row per
    body line (wrapped lines joined to their row) named by its first cell; a table continued from an
    earlier page goes on counting its rows (``rows_so_far``)."""
    if not header:
        return
    columns = _segments(header[-1])
    head = _pdf_rows(header, columns)
    labels = ["" for _ in columns]
    for c, text in head[-1]:
        labels[c] = text
    for r, cells in enumerate(head, 1):
        for c, text in sorted(cells, key=lambda cell: cell[0]):
            yield _Unit(f"table {k}, row {r} ({labels[0][:80]}), column {c + 1} ({labels[c][:60]})", text)
    first_row = max(rows_so_far.get(k, 0), len(head)) + 1
    for r, cells in enumerate(_pdf_rows(body, columns), first_row):
        rows_so_far[k] = r
        stub = next((text for c, text in cells if c == 0), "")
        for c, text in sorted(cells, key=lambda cell: cell[0]):
            col = labels[c]
            yield _Unit(f"table {k}, row {r} ({stub[:80]}), column {c + 1} ({col[:60]})", text,
                        "not known" in stub.lower() or "N =" in col)


def _pdf_page_units(i: int, page, rows_so_far: dict) -> Iterator[_Unit]:
    """One page: each table cell (between a "Table N" caption's top rule and its bottom rule, the
    header above the second rule) with its row and column, every other line of text as a line."""
    lines = _pdf_lines(page.extract_words())
    rules = sorted({round(l["top"], 1) for l in page.lines if abs(l["top"] - l["bottom"]) < 1})
    texts = [" ".join(w["text"] for w in line) for line in lines]
    taken = set()
    for n, text in enumerate(texts):
        m = CAPTION.match(text)
        if not m:
            continue
        below = [y for y in rules if y > lines[n][0]["top"]]
        if len(below) < 2:
            continue
        top, mid = below[0], below[1]
        bottom = below[2] if len(below) > 2 else page.height
        header = [j for j, line in enumerate(lines) if top < line[0]["top"] < mid]
        body = [j for j, line in enumerate(lines) if mid < line[0]["top"] < bottom and not
                (j == len(lines) - 1 and BARE.match(texts[j]))]          # the page number below a running table
        yield from _pdf_table(int(m.group(1)), [lines[j] for j in header], [lines[j] for j in body], rows_so_far)
        taken.update(header + body)
    for n, text in enumerate(texts):
        if n not in taken and text.strip():
            row = NOT_KNOWN_LINE.match(text)
            yield _Unit(f"page {i}, line {n + 1}", text,
                        bare_counts=tuple(int(x) for x in row.group(1).split()) if row else ())


def _pdf_units(path: Path) -> Iterator[_Unit]:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        rows_so_far: dict[int, int] = {}
        for i, page in enumerate(pdf.pages, 1):
            yield from _pdf_page_units(i, page, rows_so_far)
        for k, v in (pdf.metadata or {}).items():
            yield _Unit(f"metadata {k}", str(v))


def _csv_units(path: Path) -> Iterator[_Unit]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return
    header = rows[0]
    for r, row in enumerate(rows[1:], 2):
        for c, (name, value) in enumerate(zip(header, row), 1):
            where = f"row {r}, column {name}"
            if name in COUNT_COLUMNS:
                m = re.fullmatch(r"\s*(\d+)(?:\.0+)?\s*", value)
                if m:
                    yield _Unit(where, m.group(1), True)
            elif value and not re.fullmatch(r"[-+\d.eE]+", value):
                yield _Unit(where, value)


READERS = {".html": _html_units, ".htm": _html_units, ".docx": _docx_units, ".pdf": _pdf_units, ".csv": _csv_units}


def scan(folder: Path, policy: Policy) -> tuple[list[Finding], list[Finding], list[str]]:
    """(every count found, those the policy protects, files needing a manual check) under ``folder``."""
    found, breaches, manual = [], [], []
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        suffix = path.suffix.lower()
        if suffix in RASTER:
            manual.append(str(path))
            continue
        reader = READERS.get(suffix)
        if reader is None:
            continue
        for unit in reader(path):
            hits = list(counts_in(unit.text))
            if not hits and unit.bare_is_count and (m := BARE.match(unit.text)):
                hits = [("count", int(m.group(1)))]
            if not hits and unit.bare_counts:
                hits = [("count", n) for n in unit.bare_counts]
            for kind, n in hits:
                f = Finding(str(path), unit.where, unit.text.strip()[:160], n, kind)
                found.append(f)
                if policy.protects(n):
                    breaches.append(f)
    return found, breaches, manual
