"""The pre- and post-render steps that Quarto and the built-in path share (render/hooks.py)."""
from __future__ import annotations

import base64
import subprocess
import zipfile
from pathlib import Path

import pypandoc
import pytest
import yaml
from lxml import etree

from perinatal_csc.render import hooks
from perinatal_csc.render.project import FILTER
from perinatal_csc.render.provenance import KEYS
from perinatal_csc.render.word import W_NS

ROOT = Path(__file__).resolve().parents[2]
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
GT_TABLE = """<table class="gt_table">
<thead><tr><th class="gt_col_heading gt_left">Characteristic</th>
<th class="gt_col_heading gt_right">CSC involvement<br>N = 99</th><th class="gt_col_heading gt_right">p</th></tr></thead>
<tbody><tr><td class="gt_row gt_left">Age, years</td><td class="gt_row gt_right">30 (25, 34)</td>
<td class="gt_row gt_right">0.21</td></tr></tbody>
<tfoot class="gt_sourcenotes"><tr><td class="gt_sourcenote" colspan="3">Median (Q1, Q3).</td></tr></tfoot>
</table>"""


def test_embed_resources_inlines_every_local_file(tmp_path):
    files = tmp_path / "index_files"
    (files / "fonts").mkdir(parents=True)
    (files / "fonts" / "a.woff2").write_bytes(b"font-bytes")
    (files / "style.css").write_text("body { font-family: x; } @font-face { src: url('fonts/a.woff2'); }")
    (files / "app.js").write_text("var x = '</script>';")
    (files / "figure.png").write_bytes(PNG)
    html = tmp_path / "index.html"
    html.write_text('<html><head><link rel="stylesheet" href="index_files/style.css">'
                    '<script src="index_files/app.js"></script>'
                    '<link rel="stylesheet" href="https://cdn.example/x.css"></head>'
                    '<body><img src="index_files/figure.png" alt="a figure"><a href="#x">x</a></body></html>')
    assert hooks.embed_resources(html) == []
    text = html.read_text()
    assert "index_files/" not in text
    assert base64.b64encode(PNG).decode() in text
    assert base64.b64encode(b"font-bytes").decode() in text
    assert "<\\/script>" in text and "https://cdn.example/x.css" in text and 'href="#x"' in text


def test_embed_resources_reports_a_missing_file(tmp_path):
    html = tmp_path / "index.html"
    html.write_text('<img src="index_files/gone.png">')
    assert hooks.embed_resources(html) == ["index_files/gone.png"]


def test_pre_render_writes_every_provenance_key(tmp_path, monkeypatch):
    monkeypatch.setenv("QUARTO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("PERINATAL_CSC_RENDERER", "Quarto 1.7.34")
    assert hooks.main(["pre-render"]) == 0
    written = yaml.safe_load((tmp_path / "_provenance.yml").read_text())
    assert set(written) == set(KEYS)
    assert written["provenance-renderer"] == "Quarto 1.7.34"


def test_hooks_refuse_an_unknown_step():
    assert hooks.main(["mid-render"]) == 2


def _docx_xml(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("word/document.xml"))


def _pandoc_docx(tmp_path: Path, markdown: str, *extra: str) -> Path:
    src = tmp_path / "in.md"
    src.write_text(markdown)
    out = tmp_path / "out.docx"
    subprocess.run([pypandoc.get_pandoc_path(), str(src), "--from", "markdown", "--to", "docx",
                    "--output", str(out), *extra], check=True, capture_output=True)
    return out


def test_post_render_finishes_a_plain_pandoc_docx_as_a_stand_in_for_quarto(tmp_path, monkeypatch):
    """Quarto's own Word output has pandoc's tables: the shared finishing must rule, align and keep
    their rows whole, and running it twice changes nothing."""
    docx = _pandoc_docx(tmp_path, "| Characteristic | N = 99 |\n|:--|--:|\n| Age | 30 |\n| Parity | 2 |\n")
    monkeypatch.setenv("QUARTO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("QUARTO_PROJECT_OUTPUT_FILES", "out.docx\n")
    assert hooks.main(["post-render"]) == 0
    root = _docx_xml(docx)
    ns = {"w": W_NS}
    rows = root.findall(".//w:tbl/w:tr", ns)
    assert rows and all(r.find("w:trPr/w:cantSplit", ns) is not None for r in rows)
    header = [r for r in rows if r.find("w:trPr/w:tblHeader", ns) is not None]
    assert header and all(tc.find("w:tcPr/w:tcBorders/w:bottom", ns).get(f"{{{W_NS}}}val") == "single"
                          for tc in header[-1].findall("w:tc", ns))
    once = etree.tostring(root)
    hooks.post_render([docx])
    assert etree.tostring(_docx_xml(docx)) == once


@pytest.mark.parametrize("quarto", [True, False], ids=["under-quarto", "built-in"])
@pytest.mark.parametrize("fmt", ["native", "typst"])
def test_the_filter_under_quarto_only_converts_tables(tmp_path, fmt, quarto):
    """With Quarto's `quarto` module present, the filter leaves numbering and cross-references to
    Quarto and only turns the great-tables HTML into a native table with its notes below it."""
    wrapper = tmp_path / "filter.lua"
    wrapper.write_text(("quarto = { doc = {} }\n" if quarto else "") + f"dofile({str(ROOT / FILTER)!r})\n")
    src = tmp_path / "in.md"
    src.write_text(f"See @tbl-x.\n\n::: {{#tbl-x}}\n```{{=html}}\n{GT_TABLE}\n```\n\nA caption\n:::\n")
    out = subprocess.run([pypandoc.get_pandoc_path(), str(src), "--from", "markdown", "--to", fmt,
                          f"--lua-filter={wrapper}"], check=True, capture_output=True, text=True).stdout
    assert "<table" not in out and "gt_table" not in out
    assert "Median" in out and "Characteristic" in out
    native_table = ("table(" in out) if fmt == "typst" else ("Table\n" in out or "Table (" in out)
    assert native_table
    numbered = "Table 1" in out or ('Str "Table"' in out and 'Str "1:"' in out)
    assert numbered is not quarto


def test_the_shared_word_finishing_lays_out_a_plain_pandoc_docx(tmp_path):
    """A wide captioned table from plain pandoc (no project filter) gets a landscape section of its own
    between portrait ones, its caption kept with it, page numbers, the running header and, in review
    mode, line numbers."""
    head = "| " + " | ".join(f"Col{i}" for i in range(9)) + " |\n|" + "--|" * 9 + "\n"
    rows = "".join("| " + " | ".join(str(r * 10 + c) for c in range(9)) + " |\n" for r in range(3))
    docx = _pandoc_docx(tmp_path, f"Before.\n\n{head}{rows}\n: A wide table {{#tbl-wide}}\n\nAfter.\n")
    hooks.post_render([docx], {"data-notice": "SYNTHETIC data: test notice.", "review": True})
    ns = {"w": W_NS}
    root = _docx_xml(docx)
    body = root.find("w:body", ns)
    sections = root.findall(".//w:sectPr", ns)
    orient = [s.find("w:pgSz", ns).get(f"{{{W_NS}}}orient") for s in sections]
    assert orient == [None, "landscape", None]
    tbl = body.find("w:tbl", ns)
    grid = sum(int(g.get(f"{{{W_NS}}}w")) for g in tbl.findall("w:tblGrid/w:gridCol", ns))
    landscape = sections[1].find("w:pgSz", ns)
    margin = sections[1].find("w:pgMar", ns)
    width = int(landscape.get(f"{{{W_NS}}}w")) - int(margin.get(f"{{{W_NS}}}left")) - int(margin.get(f"{{{W_NS}}}right"))
    assert abs(grid - width) <= 0.01 * width
    assert all(s.find("w:lnNumType", ns) is not None for s in sections)
    with zipfile.ZipFile(docx) as z:
        names = z.namelist()
        header = z.read(next(n for n in names if n.startswith("word/header"))).decode()
        footer = z.read(next(n for n in names if n.startswith("word/footer"))).decode()
        types = z.read("[Content_Types].xml").decode()
    assert "SYNTHETIC data: test notice." in header and "PAGE" in footer
    assert "header_pcsc.xml" in types and "footer_pcsc.xml" in types


def test_the_word_finishing_drops_document_properties_that_hold_local_paths(tmp_path):
    """pandoc copies the bibliography and style paths into the Word file's custom properties; a draft that
    leaves the secure environment must not name its folders. The provenance properties stay."""
    src = tmp_path / "in.md"
    src.write_text("---\nbibliography: /secure/project/references.bib\ncsl: /secure/project/style.csl\n"
                   "provenance-commit: abc123\n---\n\nText.\n")
    docx = tmp_path / "out.docx"
    subprocess.run([pypandoc.get_pandoc_path(), str(src), "-o", str(docx)], check=True)
    import zipfile
    with zipfile.ZipFile(docx) as z:
        assert b"/secure/project" in z.read("docProps/custom.xml")
    hooks.post_render([docx])
    with zipfile.ZipFile(docx) as z:
        custom = z.read("docProps/custom.xml")
    assert b"/secure/project" not in custom and b"abc123" in custom
