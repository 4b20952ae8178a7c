"""The whole manuscript, rendered once through the built-in path and read back in all three formats.

Tables are found generically: every "Table N: ..." caption maps to its label (HTML ids), the label
to a results CSV (docs/ARCHITECTURE.md, Rendering), and the Word cells are checked against it.
"""
from __future__ import annotations

import hashlib
import html as htmllib
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import docx
import pandas as pd
import pypdf
import pytest

from perinatal_csc.codebook import load_codebook
from perinatal_csc.config import load_config
from perinatal_csc.pipeline import cohort, run_analysis, write_results
from perinatal_csc.present.appendix import CODEBOOK_COLUMNS, codebook_frame
from perinatal_csc.render import render

pytestmark = pytest.mark.slow
NUM_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
SYNTHETIC = "SYNTHETIC data: illustrative only, not study findings."
BAD_TEXT = ("Traceback (most recent call last)", "UserWarning", "FutureWarning", "RuntimeWarning",
            "DeprecationWarning", "SettingWithCopyWarning", "ConvergenceWarning", "Error:", "??")


def norm(s: str) -> str:
    return " ".join(s.replace("\u2212", "-").replace("\u00a0", " ").replace("\u2009", " ").split())


def squash(s: str) -> str:
    return re.sub(r"\s+", "", norm(s))


@pytest.fixture(scope="module")
def manuscript(tmp_path_factory):
    out = tmp_path_factory.mktemp("manuscript")
    cfg = replace(load_config(), output_root=out / "_output")
    results = write_results(run_analysis(cohort(cfg), cfg), out / "_results")
    paths = render(cfg, ["html", "docx", "pdf"], use_cache=False, builtin=True)
    by_fmt = {p.suffix[1:]: p for p in paths}
    html = by_fmt["html"].read_text(encoding="utf-8")
    pdf = "\n".join(p.extract_text() for p in pypdf.PdfReader(by_fmt["pdf"]).pages)
    return {"config": cfg, "paths": by_fmt, "html": html, "html_text": html_text(html), "pdf": norm(pdf),
            "docx": docx.Document(str(by_fmt["docx"])), "csv": {p.stem: p for p in results}}


def html_text(html: str) -> str:
    body = re.sub(r"<style.*?</style>|<script.*?</script>", " ", html, flags=re.S)
    return norm(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def walk_tables(tables):
    """Every table, including tables nested in cells (Quarto nests captioned tables in Word)."""
    for t in tables:
        yield t
        for row in t.rows:
            for cell in row.cells:
                yield from walk_tables(cell.tables)


def docx_tables(d) -> list[tuple[str, object]]:
    """(caption, table) for each captioned Word table, in document order."""
    body = d.element.body
    out, caption = [], None
    tables = {t._tbl: t for t in walk_tables(d.tables)}
    for el in body.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p" and el.getparent() is body:
            text = "".join(x.text or "" for x in el.iter() if x.tag.endswith("}t"))
            if re.match(r"Table \d+: ", text):
                caption = text
        elif tag == "tbl" and el in tables and caption:
            out.append((caption, tables[el]))
            caption = None
    return out


def rows_of(table) -> list[list[str]]:
    return [[norm(c.text) for c in r.cells] for r in table.rows]


def is_header(row) -> bool:
    return row._tr.trPr is not None and any(x.tag.endswith("tblHeader") for x in row._tr.trPr)


def body_rows(table) -> list[list[str]]:
    """Rows that are neither header rows nor full-width rows (group headings, source notes)."""
    out = []
    for r in table.rows:
        cells = [norm(c.text) for c in r.cells]
        if is_header(r) or len(set(cells)) == 1:
            continue
        out.append(cells)
    return out


def label_of(html: str, number: int) -> str:
    m = re.search(rf'<div id="(tbl-[^"]+)" class="table-float">\s*<div class="table-caption">\s*<p>Table {number}:', html)
    assert m, f"Table {number} has no labelled float in the HTML"
    return m.group(1)


def csv_for(label: str, csvs: dict[str, Path]) -> Path | None:
    """tbl-<csv name, - for _, without a leading tableN_>[-<subset>]: the longest CSV name that fits."""
    key = label.removeprefix("tbl-").replace("-", "_")
    hits = [name for name in csvs
            if any(key == stem or key.startswith(stem + "_") for stem in (name, re.sub(r"^table\d+_", "", name)))]
    return csvs[max(hits, key=len)] if hits else None


def shown_numbers(cell: str) -> list[str]:
    """Numbers printed in a cell, leaving out thresholds such as "<0.001"."""
    return NUM_RE.findall(re.sub(r"[<>≤≥]\s*-?\d+(?:\.\d+)?", " ", cell))


def csv_numbers(path: Path) -> list[float]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    vals = []
    for cell in frame.to_numpy().ravel():
        for tok in NUM_RE.findall(str(cell)):
            vals.append(float(tok))
    return vals


def shown_matches(token: str, values: list[float]) -> bool:
    """A number as printed matches some CSV value rounded to the printed precision (or as a percentage)."""
    t = float(token)
    dec = len(token.split(".")[1]) if "." in token else 0
    tol = 0.5 * 10 ** -dec + 1e-9
    return any(abs(v - t) <= tol or abs(100 * v - t) <= tol or abs(abs(v) - abs(t)) <= tol and dec == 0 and v == int(v)
               for v in values)


# -- the tests --------------------------------------------------------------------------------

def test_all_three_formats_were_written(manuscript):
    assert set(manuscript["paths"]) == {"html", "docx", "pdf"}
    assert all(p.parent == manuscript["config"].output_dir for p in manuscript["paths"].values())


def test_word_has_the_codebook_as_a_real_table_equal_to_the_codebook(manuscript):
    tables = {cap: t for cap, t in docx_tables(manuscript["docx"])}
    cap = next(c for c in tables if "Codebook" in c)
    rows = rows_of(tables[cap])
    frame = codebook_frame(load_codebook(manuscript["config"].codebook_path)).astype(str)
    assert rows[0] == list(CODEBOOK_COLUMNS.values())
    expected = [[norm(v) for v in r] for r in frame.to_numpy().tolist()]
    assert body_rows(tables[cap]) == expected


def test_every_word_table_is_captioned_numbered_and_backed_by_results(manuscript):
    tables = docx_tables(manuscript["docx"])
    numbers = [int(re.match(r"Table (\d+)", c).group(1)) for c, _ in tables]
    assert numbers == list(range(1, len(numbers) + 1))
    floats = re.findall(r'<div id="tbl-[^"]+" class="table-float">', manuscript["html"])
    assert len(floats) == len(tables)
    checked = 0
    for (cap, table), n in zip(tables, numbers):
        label = label_of(manuscript["html"], n)
        if label == "tbl-codebook":
            continue
        path = csv_for(label, manuscript["csv"])
        assert path is not None, f"{label} ({cap}) maps to no results CSV in {sorted(manuscript['csv'])}"
        values = csv_numbers(path)
        for row in body_rows(table):
            for cell in row:
                for tok in shown_numbers(cell):
                    assert shown_matches(tok, values), f"{label}: {tok!r} in {cell!r} is not in {path.name}"
        checked += 1
    assert checked == len(tables) - 1


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def next_paragraph(table):
    el = table._tbl.getnext()
    while el is not None and el.tag != f"{W}p":
        el = el.getnext()
    return el


def test_every_word_table_spans_the_text_width_repeats_its_header_and_has_notes_below(manuscript):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.text.paragraph import Paragraph
    d = manuscript["docx"]
    section = d.sections[-1]
    text_width = (section.page_width - section.left_margin - section.right_margin) / 635  # EMU -> twips
    tables = docx_tables(d)
    noted = 0
    for cap, table in tables:
        grid = [int(g.get(f"{W}w")) for g in table._tbl.iter(f"{W}gridCol")]
        assert abs(sum(grid) - text_width) <= 0.01 * text_width, cap
        assert is_header(table.rows[0]), cap
        first_body = next(r for r in table.rows if not is_header(r))
        assert first_body.cells[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT, cap
        assert not any(norm(SYNTHETIC) in norm(c.text) for r in table.rows for c in r.cells), cap
        note = Paragraph(next_paragraph(table), d)
        assert note.style.name == "Table Note", cap
        while note.style.name == "Table Note":
            noted += norm(note.text) == SYNTHETIC
            note = Paragraph(next_paragraph_after(note), d)
    assert noted >= len(tables) - 1                                   # all but the codebook


def next_paragraph_after(paragraph):
    el = paragraph._p.getnext()
    while el is not None and el.tag != f"{W}p":
        el = el.getnext()
    return el


def test_stub_column_of_the_characteristics_table_is_the_widest(manuscript):
    tables = docx_tables(manuscript["docx"])
    n = next(i for i in range(1, len(tables) + 1) if label_of(manuscript["html"], i) == "tbl-sociodemographic")
    _, table = tables[n - 1]
    grid = [int(g.get(f"{W}w")) for g in table._tbl.iter(f"{W}gridCol")]
    assert grid[0] == max(grid) and grid[0] > 0.25 * sum(grid)


def test_every_word_table_cell_appears_in_html_and_pdf(manuscript):
    html = squash(manuscript["html_text"])
    pdf = squash(manuscript["pdf"])
    for cap, table in docx_tables(manuscript["docx"]):
        assert squash(cap) in html and squash(cap) in pdf, cap
        for row in rows_of(table):
            for cell in row:
                assert squash(cell) in html, f"{cap}: {cell!r} missing from the HTML"
                assert squash(cell) in pdf, f"{cap}: {cell!r} missing from the PDF"


def test_every_figure_is_present_and_numbered(manuscript):
    html = manuscript["html"]
    figure_ids = re.findall(r'<figure id="(fig-[^"]+)"', html)
    assert figure_ids, "the manuscript has no figure"
    k = len(figure_ids)
    assert len(re.findall(r'<figure id="fig-[^"]+">\s*<img[^>]+src="data:image/png;base64', html)) == k
    word_caps = [p.text for p in manuscript["docx"].paragraphs if re.match(r"Figure \d+: ", p.text)]
    assert [int(re.match(r"Figure (\d+)", c).group(1)) for c in word_caps] == list(range(1, k + 1))
    assert len(manuscript["docx"].inline_shapes) >= k
    for i in range(1, k + 1):
        assert f"Figure {i}:" in manuscript["pdf"] and f"Figure {i}:" in manuscript["html_text"]
    images = sum(len(p.images) for p in pypdf.PdfReader(manuscript["paths"]["pdf"]).pages)
    assert images >= k


def test_references_became_table_and_figure_numbers(manuscript):
    word = norm("\n".join(p.text for p in manuscript["docx"].paragraphs))
    for text in (manuscript["html_text"], manuscript["pdf"], word):
        assert not re.search(r"@(tbl|fig|sec)-", text)
        assert "??" not in text
    for target, shown in re.findall(r'<a href="#((?:tbl|fig)-[^"]+)"[^>]*>([^<]+)</a>', manuscript["html"]):
        shown = norm(shown)
        kind = "Table" if target.startswith("tbl-") else "Figure"
        assert re.fullmatch(rf"{kind} \d+", shown), (target, shown)
        n = int(shown.split()[1])
        if kind == "Table":
            assert label_of(manuscript["html"], n) == target


def test_numbers_in_text_agree_across_formats(manuscript):
    word = norm("\n".join(p.text for p in manuscript["docx"].paragraphs))
    m = re.search(r"CSC was involved during the acute episode for (\d+ \(\d+\.\d%\)) dyads", word)
    assert m
    for text in (manuscript["html_text"], manuscript["pdf"]):
        assert m.group(1) in text


def test_every_output_is_labelled_synthetic_and_states_provenance(manuscript):
    cfg = manuscript["config"]
    digest = hashlib.sha256(cfg.data_path.read_bytes()).hexdigest()
    word = norm("\n".join(p.text for p in manuscript["docx"].paragraphs))
    commits = set()
    for text in (manuscript["html_text"], manuscript["pdf"], word):
        assert "SYNTHETIC data: illustrative only, not study findings." in text
        assert squash(digest) in squash(text)
        assert "perinatal-csc 0.1.0" in text
        commits.add(re.search(r"git commit ([0-9a-f]{12})( \(modified\))?", text).group(1))
    assert len(commits) == 1
    known = subprocess.run(["git", "-C", str(cfg.root), "cat-file", "-e", f"{commits.pop()}^{{commit}}"])
    assert known.returncode == 0
    assert "built-in renderer" in manuscript["html_text"]


def test_no_traceback_or_warning_text(manuscript):
    word = "\n".join(p.text for p in manuscript["docx"].paragraphs)
    for text in (manuscript["html_text"], manuscript["pdf"], word):
        for bad in BAD_TEXT:
            assert bad not in text, bad
