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


QUARTO_HEAD = """<html><head>
<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js" integrity="sha512-x" crossorigin="anonymous"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js" integrity="sha512-y" crossorigin="anonymous" data-relocate-top="true"></script>
<script type="application/javascript">define('jquery', [],function() {return window.jQuery;})</script>
<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js" integrity="sha384-z" crossorigin="anonymous"></script>
<script src="https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.min.js" integrity="sha384-c" crossorigin="anonymous"></script>
<script src="site.js"></script>
</head><body><p>Text</p></body></html>"""


def test_a_quarto_page_becomes_one_file_without_the_widget_loaders(tmp_path):
    """Quarto adds require.js and jQuery from a CDN (cdnjs in 1.7, jsDelivr in 1.10) to any page whose
    cells show HTML; the project's pages have no widgets, so the single-file page drops them and inlines
    its own script."""
    (tmp_path / "site.js").write_text("var x = 1;")
    page = tmp_path / "index.html"
    page.write_text(QUARTO_HEAD)
    assert hooks.embed_resources(page) == []
    text = page.read_text()
    assert "cdnjs" not in text and "jsdelivr" not in text and "define('jquery'" not in text and "<script src" not in text
    assert "var x = 1;" in text and "<p>Text</p>" in text


def _wrap_in_layout_table(docx: Path, with_table: bool) -> None:
    """Rewrite a pandoc docx the way Quarto sets a float: the caption (Image Caption, in a paragraph
    with two pPr) and the table or image inside the one cell of a layout table."""
    with zipfile.ZipFile(docx) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    root = etree.fromstring(parts["word/document.xml"])
    w = lambda tag: f"{{{W_NS}}}{tag}"
    body = root.find(w("body"))
    inner = body.find(w("tbl")) if with_table else next(p for p in body.findall(w("p")) if p.find(f".//{w('drawing')}") is not None)
    caption = etree.fromstring(f'<w:p xmlns:w="{W_NS}"><w:pPr><w:keepNext/><w:jc w:val="center"/></w:pPr>'
                               '<w:pPr><w:jc w:val="start"/><w:pStyle w:val="ImageCaption"/></w:pPr>'
                               '<w:r><w:t>Table 1: A caption</w:t></w:r></w:p>')
    outer = etree.fromstring(f'<w:tbl xmlns:w="{W_NS}"><w:tblPr/><w:tblGrid><w:gridCol/></w:tblGrid>'
                             '<w:tr><w:tc><w:tcPr/></w:tc></w:tr></w:tbl>')
    at = body.index(inner)
    body.remove(inner)
    cell = outer.find(f"{w('tr')}/{w('tc')}")
    cell.append(caption)
    cell.append(inner)
    cell.append(etree.fromstring(f'<w:p xmlns:w="{W_NS}"><w:pPr><w:pStyle w:val="TableNote"/></w:pPr>'
                                 '<w:r><w:t>A note.</w:t></w:r></w:p>'))
    body.insert(at, outer)
    parts["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(docx, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


@pytest.mark.parametrize("with_table", [True, False], ids=["table", "figure"])
def test_the_word_finishing_takes_quarto_floats_out_of_their_layout_tables(tmp_path, with_table):
    """Quarto sets every float in a one-cell layout table, whose unsplittable row starts each table on a
    new page and keeps it off a landscape section; the finishing puts the content back in the text."""
    if with_table:
        head = "| " + " | ".join(f"Col{i}" for i in range(9)) + " |\n|" + "--|" * 9 + "\n"
        docx = _pandoc_docx(tmp_path, "Text.\n\n" + head + "| " + " | ".join(["1"] * 9) + " |\n\nAfter.\n")
    else:
        (tmp_path / "dot.png").write_bytes(PNG)
        docx = _pandoc_docx(tmp_path, "Text.\n\n![](dot.png)\n\nAfter.\n", "--resource-path", str(tmp_path))
    _wrap_in_layout_table(docx, with_table)
    hooks.post_render([docx])
    root = _docx_xml(docx)
    ns = {"w": W_NS}
    assert root.findall(".//w:tbl//w:tbl", ns) == []
    caption = next(p for p in root.iter(f"{{{W_NS}}}p")
                   if "".join(t.text or "" for t in p.iter(f"{{{W_NS}}}t")) == "Table 1: A caption")
    assert caption.getparent().tag == f"{{{W_NS}}}body"
    assert len(caption.findall("w:pPr", ns)) == 1
    style = caption.find("w:pPr/w:pStyle", ns).get(f"{{{W_NS}}}val")
    assert style == ("TableCaption" if with_table else "ImageCaption")
    assert caption.find("w:pPr/w:jc", ns).get(f"{{{W_NS}}}val") == "start"     # the later setting wins
    assert all(len(p.findall("w:pPr", ns)) <= 1 for p in root.iter(f"{{{W_NS}}}p"))
    if with_table:      # a top-level wide table, so on a landscape section of its own
        assert root.find("w:body/w:tbl", ns) is not None
        orients = [s.find("w:pgSz", ns).get(f"{{{W_NS}}}orient") for s in root.iter(f"{{{W_NS}}}sectPr")]
        assert "landscape" in orients


def test_a_plain_quarto_render_analyses_in_the_pre_render_step(tmp_path, monkeypatch):
    """Quarto run directly (no perinatal-csc driver) gets the release made first, once, so a fresh clone
    renders; under `perinatal-csc render` the driver has analysed already and the step does not."""
    from perinatal_csc import pipeline

    calls = []
    monkeypatch.setattr(pipeline, "analyse", lambda config, **kw: calls.append(config))
    monkeypatch.setenv("QUARTO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("PERINATAL_CSC_RENDERER", "Quarto 1.7.34")
    assert hooks.main(["pre-render"]) == 0 and calls == []
    monkeypatch.delenv("PERINATAL_CSC_RENDERER")
    monkeypatch.setattr(hooks, "_quarto_renderer", lambda: "Quarto 1.7.34")
    assert hooks.main(["pre-render"]) == 0 and len(calls) == 1


def test_quarto_post_render_numbers_the_article_figures_the_kernel_kept(tmp_path, monkeypatch):
    """The kernel named each figure's files by its cell's code; the post-render step numbers the fig- cells'."""
    from perinatal_csc.paths import QUARTO_FIGURE_EXPORTS, figure_export_key

    (tmp_path / "_quarto.yml").write_text("project:\n  render: [index.qmd]\n")
    chunk = "```{{python}}\n#| label: {}\n{}\n```\n\n"
    (tmp_path / "index.qmd").write_text("---\ntitle: T\n---\n\n" + chunk.format("fig-b", "draw_b()")
                                        + chunk.format("tbl-x", "table()") + chunk.format("fig-a", "draw_a()"))
    exports = tmp_path / QUARTO_FIGURE_EXPORTS
    exports.mkdir(parents=True)
    for code, ext in (("draw_a()", "pdf"), ("draw_a()", "png"), ("draw_b()", "pdf"), ("table()", "pdf"), ("old()", "pdf")):
        (exports / f"{figure_export_key(code)}.{ext}").write_bytes(b"%")
    (tmp_path / "_output").mkdir()
    (tmp_path / "_output" / "index.html").write_text("<html><body></body></html>")
    monkeypatch.setenv("QUARTO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("QUARTO_PROJECT_OUTPUT_FILES", "_output/index.html\n")
    assert hooks.main(["post-render"]) == 0
    assert sorted(p.name for p in (tmp_path / "_output" / "figures").iterdir()) == [
        "figure-1-b.pdf", "figure-2-a.pdf", "figure-2-a.png"]


def test_quarto_post_render_removes_the_copies_the_finished_files_no_longer_need(tmp_path, monkeypatch):
    (tmp_path / "_quarto.yml").write_text("project:\n  render: [index.qmd]\nformat:\n  html:\n    css: res/style.css\n")
    (tmp_path / "index.qmd").write_text("---\ntitle: T\n---\n\nText.\n")
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "style.css").write_text("p { color: red; }")
    out = tmp_path / "_output"
    (out / "res").mkdir(parents=True)
    (out / "res" / "style.css").write_text("p { color: red; }")
    (out / "index_files" / "figure-html").mkdir(parents=True)
    (out / "index_files" / "figure-html" / "a.png").write_bytes(PNG)
    (out / "index.html").write_text('<html><head><link rel="stylesheet" href="res/style.css"></head>'
                                    '<body><img src="index_files/figure-html/a.png"></body></html>')
    monkeypatch.setenv("QUARTO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("QUARTO_PROJECT_OUTPUT_FILES", "_output/index.html\n")
    assert hooks.main(["post-render"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    html = (out / "index.html").read_text()
    assert "color: red" in html and "data:image/png;base64," in html
    assert (tmp_path / "res" / "style.css").exists()


WIDE_GT = GT_TABLE.replace('<th class="gt_col_heading gt_right">p</th>', "".join(
    f'<th class="gt_col_heading gt_right">c{i}</th>' for i in range(8))).replace(
    '<td class="gt_row gt_right">0.21</td>', "".join(f'<td class="gt_row gt_right">{i}</td>' for i in range(8)))


@pytest.mark.parametrize("quarto", [True, False], ids=["under-quarto", "built-in"])
def test_a_wide_table_gets_landscape_pages_outside_any_container(tmp_path, quarto):
    """Quarto sets a table inside its float (a Typst figure), where `page(...)` is an error ("page
    configuration is not allowed inside of containers"): under Quarto the landscape pages go around
    the whole top-level block; on the built-in path, which owns the float, around the table."""
    wrapper = tmp_path / "filter.lua"
    wrapper.write_text(("quarto = { doc = {} }\n" if quarto else "") + f"dofile({str(ROOT / FILTER)!r})\n")
    src = tmp_path / "in.md"
    src.write_text(f"Text.\n\n::: {{#tbl-x}}\n```{{=html}}\n{WIDE_GT}\n```\n\nA caption\n:::\n")
    out = subprocess.run([pypandoc.get_pandoc_path(), str(src), "--from", "markdown", "--to", "typst",
                          f"--lua-filter={wrapper}"], check=True, capture_output=True, text=True).stdout
    assert out.count("#page(flipped: true)[") == 1
    before = out[: out.index("#page(flipped: true)[")]
    if quarto:       # nothing of the table's own block (`#[` ... `#table(`) is open where the page starts
        assert "#table(" not in before and "#set table(" not in before
        assert out.index("#page(flipped: true)[") < out.index("#[")
    else:
        assert "#table(" not in before
