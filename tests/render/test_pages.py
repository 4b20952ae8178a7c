"""Tables on the page, in every document the project renders: in the PDF a table that breaks across pages
starts with at least three lines of its rows under its caption (never a caption and header stranded at a
page foot) and every page it continues onto shows at least one of its rows (never a header and notes
alone); in Word the caption, header and first rows keep with each other and the last row with the notes."""
from __future__ import annotations

import re
import zipfile
from collections import OrderedDict

import pdfplumber
import pytest
from lxml import etree

pytestmark = pytest.mark.slow
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TABLE_SIZE = 8.5            # table text (the Lua filter's `#show table: set text(size: 8.5pt)`); notes are 7.5pt
CAPTION = re.compile(r"^(?:Supplementary )?Table (\d+): ")
CONTINUED = re.compile(r"^(?:Supplementary )?Table (\d+) \(continued\)")
KEEP_ROWS = 3


def page_lines(page) -> list[dict]:
    """The page's lines, top to bottom: text, font size and whether the line is in the regular (not bold or
    italic) face, the face of a table's data rows."""
    lines: OrderedDict[int, list] = OrderedDict()
    for w in page.extract_words(extra_attrs=["size", "fontname"]):
        lines.setdefault(round(w["top"] / 3), []).append(w)
    out = []
    for words in lines.values():
        sizes = [round(w["size"], 1) for w in words]
        regular = all("Bold" not in w["fontname"] and "Italic" not in w["fontname"] for w in words)
        out.append({"text": " ".join(w["text"] for w in words), "size": max(set(sizes), key=sizes.count),
                    "regular": regular})
    return out


def is_row_line(line: dict) -> bool:
    return abs(line["size"] - TABLE_SIZE) < 0.3 and line["regular"]


def table_problems(pages: list[list[dict]], name: str) -> list[str]:
    """Captions of breaking tables with fewer than KEEP_ROWS row lines under them on their page, and
    continuation pages without a row line."""
    problems = []
    continues = {(i, int(m.group(1))) for i, lines in enumerate(pages) for ln in lines
                 if (m := CONTINUED.match(ln["text"]))}
    for i, lines in enumerate(pages):
        for k, ln in enumerate(lines):
            if (m := CAPTION.match(ln["text"])) and (i + 1, int(m.group(1))) in continues:
                rows = sum(is_row_line(x) for x in lines[k + 1:] if not CAPTION.match(x["text"]))
                if rows < KEEP_ROWS:
                    problems.append(f"{name} page {i + 1}: {ln['text'][:40]!r} starts with {rows} row lines")
            if CONTINUED.match(ln["text"]):
                after = lines[k + 1:]
                body = after[:next((j for j, x in enumerate(after) if abs(x["size"] - TABLE_SIZE) >= 0.3), len(after))]
                if not any(is_row_line(x) for x in body):
                    problems.append(f"{name} page {i + 1}: {ln['text']!r} shows no row of its table")
    return problems


def test_the_page_check_finds_a_stranded_start_and_an_empty_continuation():
    cap = {"text": "Table 2: Clinical characteristics", "size": 11.0, "regular": True}
    head = {"text": "Characteristic N = 99", "size": 8.5, "regular": False}
    row = {"text": "Diagnosis 10 (5.0%)", "size": 8.5, "regular": True}
    cont = {"text": "Table 2 (continued)", "size": 8.5, "regular": False}
    note = {"text": "Tests: a Fisher's exact test", "size": 7.5, "regular": True}
    assert table_problems([[cap, head, row], [cont, head, row, row, note]], "x") == [
        "x page 1: 'Table 2: Clinical characteristics' starts with 1 row lines"]
    assert table_problems([[cap, head, row, row, row], [cont, head, note]], "x") == [
        "x page 2: 'Table 2 (continued)' shows no row of its table"]
    assert table_problems([[cap, head, row, row, row], [cont, head, row, note]], "x") == []


def test_no_table_is_stranded_or_continued_without_rows_in_any_pdf(default_render):
    pdfs = [p for p in default_render["paths"] if p.suffix == ".pdf"]
    assert {p.stem for p in pdfs} >= {"index", "supplement", "report"}
    problems, continued = [], 0
    for path in pdfs:
        with pdfplumber.open(path) as pdf:
            pages = [page_lines(p) for p in pdf.pages]
        continued += sum(bool(CONTINUED.match(ln["text"])) for lines in pages for ln in lines)
        problems += table_problems(pages, path.name)
    assert continued >= 3 and problems == []


def test_word_keeps_each_caption_header_and_first_rows_together_and_the_last_row_with_its_notes(default_render):
    for path in (p for p in default_render["paths"] if p.suffix == ".docx"):
        with zipfile.ZipFile(path) as z:
            body = etree.fromstring(z.read("word/document.xml")).find(f"{W}body")
        for tbl in (t for t in body.iter(f"{W}tbl") if t.getparent() is body):
            rows = tbl.findall(f"{W}tr")
            header = [r for r in rows if r.find(f"{W}trPr/{W}tblHeader") is not None]
            data = rows[len(header):]
            keep = header + data[:min(KEEP_ROWS - 1, len(data) - 1)]
            assert all(p.find(f"{W}pPr/{W}keepNext") is not None for r in keep for p in r.iter(f"{W}p")), path.name
            after = tbl.getnext()
            notes = after is not None and after.find(f"{W}pPr/{W}pStyle") is not None and \
                after.find(f"{W}pPr/{W}pStyle").get(f"{W}val") == "TableNote"
            if notes:
                assert all(p.find(f"{W}pPr/{W}keepNext") is not None for p in rows[-1].iter(f"{W}p")), path.name
