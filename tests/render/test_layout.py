"""Layout of the rendered manuscript, read back from the files: PDF (pdfplumber) and Word (its XML).

The manuscript from the project's own sources, in the normal layout (the session's render, shared with
tests/render/test_manuscript.py, which also reads the supplement's tables back) and the review layout. Nothing here
names a table by its current number or content: tables are found by their "Table N:" captions.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import replace

import pdfplumber
import pytest
from lxml import etree

from perinatal_csc.render.driver import render

from pdf_layout import MARGIN, body_words, overprinted

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WIDE = 8
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["normal", "review"])
def layout(request, tmp_path_factory, default_render):
    if request.param == "normal":          # the session's render of the project, shared with the manuscript tests
        paths = {p.suffix[1:]: p for p in default_render["paths"] if p.stem == "index"}
    else:
        out = tmp_path_factory.mktemp(request.param)
        cfg = replace(default_render["config"], output_root=out / "_output")    # reads the session's release
        paths = {p.suffix[1:]: p for p in render(cfg, ["docx", "pdf"], builtin=True, review=True, documents=["index"])}
    with pdfplumber.open(paths["pdf"]) as pdf:
        pages = [{"width": float(p.width), "height": float(p.height), "text": p.extract_text() or "",
                  "words": p.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])}
                 for p in pdf.pages]
    with zipfile.ZipFile(paths["docx"]) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    return {"mode": request.param, "pages": pages, "docx": parts}


def captions(pages: list[dict]) -> dict[int, int]:
    """Table number -> index of the page holding its caption "Table N:"."""
    found = {}
    for i, page in enumerate(pages):
        for n in re.findall(r"^Table (\d+): ", page["text"], flags=re.M):
            found.setdefault(int(n), i)
    return found


def test_no_text_runs_past_the_text_area(layout):
    problems = []
    for i, page in enumerate(layout["pages"], start=1):
        for w in body_words(page):
            if w["x0"] < MARGIN - 6 and not (layout["mode"] == "review" and w["text"].isdigit()):
                problems.append((i, w["text"], round(w["x0"])))
            if w["x1"] > page["width"] - MARGIN + 6:
                problems.append((i, w["text"], round(w["x1"])))
    assert problems == []


def test_the_overprint_check_finds_words_drawn_on_top_of_each_other():
    word = {"text": "involveme", "x0": 100, "x1": 140, "top": 700, "bottom": 708}
    assert overprinted([word, {**word, "text": "Notes", "x0": 110, "x1": 135, "top": 701, "bottom": 709}])
    assert not overprinted([word, {**word, "text": "nt", "top": 709, "bottom": 717}])


def test_no_two_words_overprint(layout):
    found = {i: overprinted(p["words"]) for i, p in enumerate(layout["pages"], start=1)}
    assert {i: f[:5] for i, f in found.items() if f} == {}


def test_every_table_caption_is_followed_by_its_table_on_the_same_page(layout):
    """A caption is never stranded at a page foot: rows of its table follow it on its page."""
    pages = layout["pages"]
    for n, i in captions(pages).items():
        page = pages[i]
        words = body_words(page)
        cap = next(w for w in words if w["text"] == "Table" and re.match(rf"Table {n}:", " ".join(
            x["text"] for x in words if abs(x["top"] - w["top"]) < 1 and x["x0"] >= w["x0"])))
        below = {round(w["top"]) for w in words if w["top"] > cap["bottom"] + 12}
        assert len(below) >= 3, f"Table {n}: fewer than three lines follow its caption on page {i + 1}"


def text_lines(page: dict) -> list[str]:
    """The page's lines without review-mode line numbers."""
    return [re.sub(r"^\d+ ", "", line) for line in page["text"].splitlines()]


def test_continued_tables_repeat_their_header(layout):
    """Every page a table continues onto says "Table N (continued)" and then repeats the column
    headings that follow the table's caption on its first page."""
    pages = layout["pages"]
    caps = captions(pages)
    continued = 0
    for i, page in enumerate(pages):
        lines = text_lines(page)
        for k, line in enumerate(lines):
            m = re.match(r"Table (\d+) \(continued\)$", line.strip())
            if not m:
                continue
            continued += 1
            n = int(m.group(1))
            assert caps[n] < i
            repeated = [w for w in lines[k + 1].split() if w.isalpha()]
            first = text_lines(pages[caps[n]])
            start = next(j for j, x in enumerate(first) if x.startswith(f"Table {n}: "))
            assert repeated and " ".join(lines[k + 1].split()) in [" ".join(x.split()) for x in first[start:start + 8]], \
                f"Table {n} continued on page {i + 1} without its column headings"
    assert continued >= 1, "the manuscript has long tables, so some table must continue"


def word_table_columns(layout) -> dict[int, int]:
    """Table number -> number of columns, from the Word file's captions and table grids."""
    body = document(layout).find(f"{W}body")
    out = {}
    for tbl in (t for t in body.iter(f"{W}tbl") if t.getparent() is body):
        prev = tbl.getprevious()
        while prev is not None and prev.tag != f"{W}p":
            prev = prev.getprevious()
        text = "".join(t.text or "" for t in prev.iter(f"{W}t")) if prev is not None else ""
        m = re.match(r"Table (\d+): ", text)
        if m:
            out[int(m.group(1))] = len(tbl.findall(f"{W}tblGrid/{W}gridCol"))
    return out


def test_wide_tables_have_landscape_pages_and_no_other_table_does(layout):
    pages = layout["pages"]
    columns = word_table_columns(layout)
    caps = captions(pages)
    assert set(caps) == set(columns)
    assert any(c >= WIDE for c in columns.values()), "the sub-group table is wide"
    for n, i in caps.items():
        landscape = pages[i]["width"] > pages[i]["height"]
        assert landscape == (columns[n] >= WIDE), f"Table {n} ({columns[n]} columns) on page {i + 1}"


def test_every_page_is_numbered_and_says_synthetic(layout):
    for i, page in enumerate(layout["pages"], start=1):
        foot = [w["text"] for w in page["words"] if w["top"] > page["height"] - MARGIN]
        head = " ".join(w["text"] for w in page["words"] if w["bottom"] < MARGIN)
        assert str(i) in foot, f"page {i} has no page number"
        assert "SYNTHETIC" in head, f"page {i} has no running header"


def line_numbers(page: dict) -> list[int]:
    return [int(w["text"]) for w in page["words"] if w["text"].isdigit() and w["x1"] < MARGIN - 2]


def test_line_numbers_only_in_review_mode(layout):
    numbers = [n for p in layout["pages"] for n in line_numbers(p)]
    if layout["mode"] == "review":
        assert len(numbers) > 200 and numbers == sorted(numbers), "continuous line numbers in the margin"
    else:
        assert numbers == []


def document(layout) -> etree._Element:
    return etree.fromstring(layout["docx"]["word/document.xml"])


def test_word_has_page_numbers_and_a_running_header_in_every_section(layout):
    root = document(layout)
    sections = list(root.iter(f"{W}sectPr"))
    assert len(sections) >= 3, "a landscape section for each wide table, between portrait ones"
    for sect in sections:
        kinds = {etree.QName(r).localname for r in sect if etree.QName(r).localname.endswith("Reference")}
        assert kinds == {"headerReference", "footerReference"}
    footer = next(v for k, v in layout["docx"].items() if k.startswith("word/footer")).decode()
    header = next(v for k, v in layout["docx"].items() if k.startswith("word/header")).decode()
    assert 'w:instr=" PAGE "' in footer and "SYNTHETIC" in header


def test_word_captions_keep_with_their_tables_and_wide_tables_are_landscape(layout):
    root = document(layout)
    body = root.find(f"{W}body")
    tables = [t for t in body.iter(f"{W}tbl") if t.getparent() is body]
    assert tables
    for tbl in tables:
        prev = tbl.getprevious()
        while prev is not None and prev.tag != f"{W}p":
            prev = prev.getprevious()
        assert prev.find(f"{W}pPr/{W}keepNext") is not None, "caption keeps with its table"
        last = tbl.findall(f"{W}tr")[-1]
        assert all(p.find(f"{W}pPr/{W}keepNext") is not None for p in last.iter(f"{W}p"))
        el = tbl.getnext()
        sect = None
        while el is not None and sect is None:
            sect = el.find(f"{W}pPr/{W}sectPr") if el.tag == f"{W}p" else None
            el = el.getnext()
        sect = sect if sect is not None else body.find(f"{W}sectPr")
        size = sect.find(f"{W}pgSz")
        landscape = size.get(f"{W}orient") == "landscape"
        assert landscape == (len(tbl.findall(f"{W}tblGrid/{W}gridCol")) >= WIDE)


def test_word_review_mode_numbers_lines_and_double_spaces(layout):
    root = document(layout)
    numbered = [s.find(f"{W}lnNumType") is not None for s in root.iter(f"{W}sectPr")]
    styles = etree.fromstring(layout["docx"]["word/styles.xml"])
    spacing = styles.find(f"{W}docDefaults/{W}pPrDefault/{W}pPr/{W}spacing")
    double = spacing is not None and spacing.get(f"{W}line") == "480"
    if layout["mode"] == "review":
        assert all(numbered) and double
    else:
        assert not any(numbered) and not double
