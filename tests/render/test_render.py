"""The built-in render path on small self-contained Quarto projects: cell options, includes,
inline code, cross-references, citations, caching and loud failure."""
from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from pathlib import Path

import docx
import pytest

from perinatal_csc.config import load_config
from perinatal_csc.errors import UserError
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.render.driver import RenderError, cache_key, kernel_env, render
from perinatal_csc.render.execute import CellError
from perinatal_csc.render.project import FILTER
from perinatal_csc.render.qmd import (INLINE_RE, SourceError, expand_includes, parse_options, read_document,
                                      substitute_meta)

QUARTO_YML = """\
project:
  type: manuscript
  output-dir: _output
manuscript:
  article: index.qmd
execute:
  echo: false
  warning: false
bibliography: references.bib
filters: [FILTER]
format:
  html: default
  docx: default
  typst: default
"""

INDEX = """\
---
title: "Fixture manuscript"
author:
  - name: "Author to be added"
---

```{python}
#| label: setup
answer = 6 * 7
import warnings
warnings.warn("WARNTEXT-should-not-appear")
print("STDOUT-visible")
```

The answer is `{python} answer`. See @tbl-demo and @fig-line, as shown before [@smith2020].

```{python}
#| label: hidden
#| include: false
print("INCLUDE-FALSE-TEXT")
```

```{python}
#| label: not-run
#| eval: false
raise RuntimeError("this cell must not run")
```

```{python}
#| label: shown
#| echo: true
#| output: false
shown_value = answer + 1
print("OUTPUT-" + "FALSE-TEXT")
```

{{< include chapters/_part.qmd >}}

Renderer: {{< meta provenance-renderer >}}.
"""

PART = """\
## Part

```{python}
#| label: tbl-demo
#| tbl-cap: "Demo table"
import pandas as pd
from great_tables import GT
GT(pd.DataFrame({"Group": ["A", "B"], "Value": ["12 (34.5%)", str(shown_value)]}))
```

```{python}
#| label: tbl-shape
#| tbl-cap: "Shaped table"
frame = pd.DataFrame({"grp": ["Needs", "Needs", "Use"],
                      "Characteristic": ["A long characteristic label that needs room", "Level label", "Visits"],
                      "With CSC involvement, N = 99": ["12 (34.5%)", "3 (1.0%)", "5 (2.0%)"],
                      "p": ["0.012", "", "0.500"]})
(GT(frame, rowname_col="Characteristic", groupname_col="grp").tab_stubhead(label="Characteristic")
 .tab_stub_indent(rows=[1], indent=2).tab_source_note("NOTE-TEXT: a source note."))
```

```{python}
#| label: fig-line
#| fig-cap: "A line"
#| fig-alt: "A rising line"
from matplotlib.figure import Figure
fig = Figure(figsize=(3, 2))
fig.subplots().plot([1, 2, 3])
fig
```
"""

BIB = "@article{smith2020, author={Smith, Ann}, title={A title}, journal={Journal}, year={2020}}\n"


def make_project(root: Path, index: str = INDEX, part: str = PART) -> Path:
    (root / "chapters").mkdir(parents=True, exist_ok=True)
    (root / "_quarto.yml").write_text(QUARTO_YML.replace("FILTER", str(PROJECT_ROOT / FILTER)))
    (root / "index.qmd").write_text(index)
    (root / "chapters" / "_part.qmd").write_text(part)
    (root / "references.bib").write_text(BIB)
    (root / "data.csv").write_text("a,b\n1,2\n")
    return root


def fixture_config(root: Path):
    return replace(load_config(), data_path=root / "data.csv", output_root=root / "_output")


def docx_text(path: Path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        parts += [c.text for r in t.rows for c in r.cells]
    return "\n".join(parts)


# -- pure parsing -----------------------------------------------------------------------------

def test_cell_options_are_parsed_from_leading_pipe_lines():
    opts, code = parse_options('#| label: tbl-x\n#| tbl-cap: "A: caption"\n#| echo: true\nx = 1\n#| not: option', Path("f"))
    assert opts == {"label": "tbl-x", "tbl-cap": "A: caption", "echo": True}
    assert code == "x = 1\n#| not: option"


def test_bad_cell_options_are_a_source_error():
    with pytest.raises(SourceError, match="not valid YAML"):
        parse_options("#| label: [unclosed\nx = 1", Path("f"))


def test_inline_expressions_are_found_in_order():
    assert INLINE_RE.findall("a `{python} x + 1` b `{python} f('y')` c `x`") == ["x + 1", "f('y')"]


def test_includes_expand_relative_to_main_document(tmp_path):
    root = make_project(tmp_path)
    segments = expand_includes(root / "index.qmd", root, root)
    assert [p.name for p, _ in segments] == ["index.qmd", "_part.qmd", "index.qmd"]
    assert "## Part" in segments[1][1]


def test_include_cycle_and_missing_include_are_errors(tmp_path):
    root = make_project(tmp_path, part="{{< include chapters/_part.qmd >}}\n")
    with pytest.raises(SourceError, match="include cycle"):
        expand_includes(root / "index.qmd", root, root)
    (root / "chapters" / "_part.qmd").write_text("{{< include chapters/_nope.qmd >}}\n")
    with pytest.raises(SourceError, match="_nope.qmd"):
        expand_includes(root / "index.qmd", root, root)


def test_meta_shortcode_needs_a_value():
    assert substitute_meta("by {{< meta a-b >}}.", {"a-b": "X"}) == "by X."
    with pytest.raises(SourceError, match="missing-key"):
        substitute_meta("{{< meta missing-key >}}", {})


def test_execute_defaults_come_from_project_then_front_matter(tmp_path):
    root = make_project(tmp_path, index=INDEX.replace('title: "Fixture manuscript"',
                                                      'title: "F"\nexecute:\n  echo: true'))
    doc = read_document(root / "index.qmd", root)
    assert doc.execute["echo"] is True and doc.execute["warning"] is False


def test_cache_key_follows_data_and_sources(tmp_path):
    root = make_project(tmp_path)
    cfg = fixture_config(root)
    env = kernel_env(cfg, tmp_path / ".run")
    key = cache_key(cfg, read_document(root / "index.qmd", root), root, env)
    assert key == cache_key(cfg, read_document(root / "index.qmd", root), root, env)
    (root / "data.csv").write_text("a,b\n1,3\n")
    key_data = cache_key(cfg, read_document(root / "index.qmd", root), root, env)
    assert key_data != key
    (root / "chapters" / "_part.qmd").write_text(PART + "\nMore prose.\n")
    assert cache_key(cfg, read_document(root / "index.qmd", root), root, env) != key_data


# -- a full fixture render (one kernel per test below) ----------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("fixture"))
    messages: list[str] = []
    paths = render(fixture_config(root), ["html", "docx", "pdf"], progress=messages.append, project_dir=root,
                   builtin=True)
    return root, {p.suffix[1:]: p for p in paths}, messages


def test_fixture_renders_all_formats(rendered):
    _, paths, _ = rendered
    assert set(paths) == {"html", "docx", "pdf"}
    assert all(p.stat().st_size > 1000 for p in paths.values())


def test_cell_options_are_honoured(rendered):
    _, paths, _ = rendered
    html = paths["html"].read_text()
    assert "The answer is 42." in html
    assert "STDOUT-visible" in html
    assert "WARNTEXT" not in html                       # warning: false
    assert "INCLUDE-FALSE-TEXT" not in html             # include: false
    assert "must not run" not in html                   # eval: false (and echo: false)
    assert "sourceCode python" in html and "shown_value" in html   # echo: true
    assert "OUTPUT-FALSE-TEXT" not in html              # output: false
    assert "43" in html                                 # the not-shown cell still ran


def test_cross_references_and_citations_resolve_in_every_format(rendered):
    _, paths, _ = rendered
    import pypdf
    html = paths["html"].read_text()
    word = docx_text(paths["docx"])
    pdf = " ".join(p.extract_text() for p in pypdf.PdfReader(paths["pdf"]).pages)
    for text in (html, word, pdf):
        assert "Table 1" in text and "Figure 1" in text
        assert "Table 1: Demo table" in " ".join(text.split())
        assert "@tbl-" not in text and "@fig-" not in text and "??" not in text
        assert "Smith" in text                      # the bibliography entry
    assert 'href="#tbl-demo"' in html
    assert 'alt="A rising line"' in html or 'aria-label="A rising line"' in html
    assert "data:image/png;base64" in html          # self-contained


def test_word_gets_a_real_table_from_great_tables_html(rendered):
    _, paths, _ = rendered
    d = docx.Document(str(paths["docx"]))
    cells = [[c.text for c in r.cells] for t in d.tables for r in t.rows]
    assert ["Group", "Value"] in cells and ["A", "12 (34.5%)"] in cells and ["B", "43"] in cells
    assert len(d.inline_shapes) == 1


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def shaped_word_table(path: Path):
    d = docx.Document(str(path))
    table = next(t for t in d.tables if any("Visits" in c.text for r in t.rows for c in r.cells))
    return d, table


def test_word_table_spans_the_text_width_with_the_stub_widest(rendered):
    _, paths, _ = rendered
    d, table = shaped_word_table(paths["docx"])
    section = d.sections[-1]
    text_width = (section.page_width - section.left_margin - section.right_margin) / 635  # EMU -> twips
    grid = [int(g.get(f"{W}w")) for g in table._tbl.iter(f"{W}gridCol")]
    assert len(grid) == 3
    assert abs(sum(grid) - text_width) <= 0.01 * text_width
    assert grid[0] > grid[1] and grid[0] > grid[2]
    assert table._tbl.find(f"{W}tblPr/{W}tblW").get(f"{W}type") == "pct"


def test_word_table_header_repeats_is_bold_and_bottom_aligned(rendered):
    _, paths, _ = rendered
    _, table = shaped_word_table(paths["docx"])
    first = table.rows[0]
    assert first._tr.find(f"{W}trPr/{W}tblHeader") is not None
    assert [c.text for c in first.cells] == ["Characteristic", "With CSC involvement, N\u00a0=\u00a099", "p"]  # N = 99 unbroken
    for cell in first.cells:
        assert cell._tc.find(f"{W}tcPr/{W}vAlign").get(f"{W}val") == "bottom"
        assert all(r.bold for r in cell.paragraphs[0].runs)
        assert cell._tc.find(f"{W}tcPr/{W}tcBorders/{W}bottom").get(f"{W}val") == "single"


def test_word_table_aligns_stub_left_numbers_right_and_keeps_the_indent(rendered):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    _, paths, _ = rendered
    _, table = shaped_word_table(paths["docx"])
    row = next(r for r in table.rows if r.cells[0].text == "Visits")
    assert row.cells[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert row.cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert row.cells[2].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    level = next(r for r in table.rows if "Level label" in r.cells[0].text)
    assert level.cells[0].text == "\u2003\u2003Level label"          # tab_stub_indent(indent=2)


def test_word_row_group_heading_spans_the_row_in_bold(rendered):
    _, paths, _ = rendered
    _, table = shaped_word_table(paths["docx"])
    row = next(r for r in table.rows if r.cells[0].text == "Needs")
    assert len({c._tc for c in row.cells}) == 1                      # one cell across all columns
    assert all(r.bold for r in row.cells[0].paragraphs[0].runs)


def test_word_source_note_is_a_small_paragraph_under_the_table(rendered):
    _, paths, _ = rendered
    d, table = shaped_word_table(paths["docx"])
    assert not any("NOTE-TEXT" in c.text for r in table.rows for c in r.cells)
    following = table._tbl.getnext()
    while following.tag != f"{W}p":                                  # past pandoc's bookmark end
        following = following.getnext()
    note = docx.text.paragraph.Paragraph(following, d)
    assert note.text == "NOTE-TEXT: a source note."
    assert note.style.name == "Table Note"
    assert note.style.font.size.pt <= 8.5


def shaped_typst_table(root: Path) -> tuple[str, str]:
    """(the Typst source before the shaped table, the table and what follows it)."""
    (typ,) = root.glob(".cache/render/*/index.typ")
    source = typ.read_text(encoding="utf-8")
    at = source.index("#table(", source.index("Demo table"))
    return source[:at], source[at:]


def test_typst_table_aligns_columns_and_sizes_them_to_the_text_width(rendered):
    root, _, _ = rendered
    _, table = shaped_typst_table(root)
    head = table[:table.index("table.header")]
    assert "align:(left,right,right,)" in head.replace(" ", "")
    widths = [float(w) for w in re.findall(r"([\d.]+)%", re.search(r"columns: \(([^)]*)\)", head).group(1))]
    assert len(widths) == 3 and abs(sum(widths) - 100) < 0.5 and widths[0] == max(widths)


def test_typst_header_is_bottom_aligned_repeats_and_says_continued(rendered):
    """Row 0 of the repeated header says "Table N (continued)" on every page after the table's first;
    the column headings below it are bottom-aligned, with the top rule above them."""
    root, _, _ = rendered
    before, table = shaped_typst_table(root)
    scope = before[before.rindex("#["):]
    assert "#show table.cell.where(y: 1): set align(bottom)" in scope
    assert "if y == 1 { (top: 0.8pt) }" in scope
    header = table[table.index("table.header("):table.index("Visits")]
    continued = re.search(r"colspan: 3[^\]]*\[#context \{ if here\(\)\.page\(\) > locate\(<tbl-shape>\)\.page\(\) "
                          r"\[#emph\[Table 2 \(continued\)\]\] \}\]", header)
    assert continued and header.index("#context") < header.index("Characteristic")


def test_typst_group_heading_is_bold_and_notes_are_the_tables_last_row(rendered):
    """The notes are a full-width last row, ruled above, so they stay with the table's last part."""
    root, _, _ = rendered
    before, table = shaped_typst_table(root)
    body = table[:table.index("caption:")]
    assert re.search(r"table\.cell\((align: left, )?colspan: 3\)\[#strong\[Needs\]\]", body)
    assert "table.footer" not in body
    notes = re.search(r"table\.cell\(align: left, colspan: 3, inset: \(x: 0pt, top: 5pt, bottom: 0pt\), "
                      r"stroke: \(top: 0\.6pt\)\)\[#set text\(size: 7\.5pt\)[^\]]*NOTE-TEXT", body)
    assert notes and body.index("NOTE-TEXT") > body.rindex("Visits")
    rest = body[notes.end():]
    assert "table.cell" not in rest and re.match(r"^[^\[\]]*\],\s*\)", rest), rest[:80]   # the table's last row


def test_provenance_meta_shortcode_names_the_renderer(rendered):
    _, paths, _ = rendered
    assert "built-in renderer" in paths["html"].read_text()


def test_unchanged_render_reuses_the_cache_and_a_change_does_not(rendered):
    root, _, messages = rendered
    assert not any("reusing" in m for m in messages)
    again: list[str] = []
    render(fixture_config(root), ["html"], progress=again.append, project_dir=root, builtin=True)
    assert any("reusing executed results" in m for m in again)
    (root / "data.csv").write_text("a,b\n5,6\n")
    third: list[str] = []
    render(fixture_config(root), ["html"], progress=third.append, project_dir=root, builtin=True)
    assert not any("reusing" in m for m in third)


# -- failure is loud --------------------------------------------------------------------------

def test_an_exception_in_a_cell_names_chapter_label_and_traceback(tmp_path):
    part = PART.replace("fig = Figure(figsize=(3, 2))", "fig = Figure(figsize=(3, 2))\n1 / 0")
    root = make_project(tmp_path, part=part)
    with pytest.raises(CellError) as e:
        render(fixture_config(root), ["html"], project_dir=root, builtin=True)
    msg = str(e.value)
    assert "_part.qmd" in msg and "fig-line" in msg and "ZeroDivisionError" in msg and "1 / 0" in msg
    assert isinstance(e.value, UserError)
    assert not (root / "_output" / "index.html").exists()


def test_unresolved_cross_reference_or_citation_is_an_error(tmp_path):
    root = make_project(tmp_path, index=INDEX.replace("@fig-line", "@fig-nowhere").replace("smith2020", "nobody1999"))
    with pytest.raises(RenderError) as e:
        render(fixture_config(root), ["docx"], project_dir=root, builtin=True)
    assert "@fig-nowhere" in str(e.value) and "@nobody1999" in str(e.value)


def test_labelled_table_without_caption_is_an_error(tmp_path):
    root = make_project(tmp_path, part=PART.replace('#| tbl-cap: "Demo table"\n', ""))
    with pytest.raises(SourceError, match="tbl-cap"):
        render(fixture_config(root), ["html"], project_dir=root, builtin=True)


def test_unknown_format_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown output format"):
        render(fixture_config(tmp_path), ["pptx"], project_dir=tmp_path, builtin=True)


# -- the kernel is this interpreter -----------------------------------------------------------

def test_a_user_kernelspec_named_python3_does_not_replace_this_interpreter(tmp_path, monkeypatch):
    jupyter = tmp_path / "jupyter"
    spec_dir = jupyter / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'broken interpreter' >&2\nexit 3\n")
    broken.chmod(0o755)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(broken), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Broken user kernel", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(jupyter))
    from jupyter_client.kernelspec import KernelSpecManager
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == str(broken)   # the trap is armed
    root = make_project(tmp_path / "project", part=PART.replace("import pandas as pd", "import sys\nimport pandas as pd")
                        .replace('"Value": ["12 (34.5%)", str(shown_value)]', '"Value": ["12 (34.5%)", sys.executable]'))
    (html,) = render(fixture_config(root), ["html"], project_dir=root, builtin=True, use_cache=False)
    assert sys.executable in html.read_text()


def test_every_figure_is_written_as_vector_pdf_and_600_dpi_png_named_by_its_number(rendered):
    from PIL import Image

    root, _, messages = rendered
    folder = root / "_output" / "figures"
    assert sorted(p.name for p in folder.iterdir()) == ["figure-1-line.pdf", "figure-1-line.png"]
    assert (folder / "figure-1-line.pdf").read_bytes().startswith(b"%PDF")
    with Image.open(folder / "figure-1-line.png") as im:
        assert [round(d) for d in im.info["dpi"]] == [600, 600]
        assert min(im.size) > 1000
    assert any("figure files" in m for m in messages)


def test_blind_review_render_has_no_authors_and_numbers_lines(tmp_path):
    import pypdf

    root = make_project(tmp_path, index=INDEX + "\n## Acknowledgements\n\nWe thank ACK-PERSON.\n\n## After\n\nAFTER-TEXT\n")
    paths = {p.suffix[1:]: p for p in render(fixture_config(root), ["html", "docx", "pdf"], project_dir=root,
                                             builtin=True, review=True, blind=True)}
    pdf = " ".join(p.extract_text() for p in pypdf.PdfReader(paths["pdf"]).pages)
    for text in (paths["html"].read_text(), docx_text(paths["docx"]), pdf):
        flat = text.replace("\n", " ")
        assert "Author to be added" not in flat and "ACK-PERSON" not in flat
        assert "The answer is 42" in flat and "AFTER-TEXT" in flat
    assert "Author to be added" not in (pypdf.PdfReader(paths["pdf"]).metadata.get("/Author") or "")
    import zipfile
    with zipfile.ZipFile(paths["docx"]) as z:
        assert b"lnNumType" in z.read("word/document.xml")
        assert b"Author to be added" not in z.read("docProps/core.xml")


def test_a_normal_render_keeps_the_authors(rendered):
    _, paths, _ = rendered
    assert "Author to be added" in docx_text(paths["docx"])


def test_finished_outputs_are_reused_only_while_nothing_they_depend_on_changed(tmp_path):
    root = make_project(tmp_path)
    cfg = fixture_config(root)

    def run(**options):
        messages: list[str] = []
        paths = render(cfg, ["html", "docx"], progress=messages.append, project_dir=root, builtin=True, **options)
        return " | ".join(messages), paths

    _, paths = run()
    before = {p: p.read_bytes() for p in paths}
    again, _ = run()
    assert "outputs up to date" in again and {p: p.read_bytes() for p in paths} == before
    cached_text = docx_text(paths[1])
    fresh, paths = run(use_cache=False)
    assert "executing" in fresh and "outputs up to date" not in fresh
    assert docx_text(paths[1]) == cached_text                       # a cached render equals a fresh one
    (root / "references.bib").write_text(BIB.replace("A title", "Another title"))
    messages, paths = run()
    assert "reusing executed results" in messages and "outputs up to date" not in messages
    assert "another title" in paths[0].read_text().lower()
    messages, _ = run(review=True)
    assert "outputs up to date" not in messages
    run()
    paths[0].write_text("edited by hand")
    messages, paths = run()
    assert "outputs up to date" not in messages and "edited by hand" not in paths[0].read_text()
    (root / "chapters" / "_part.qmd").write_text(PART.replace("Demo table", "Renamed table"))
    messages, paths = run()
    assert "executing" in messages and "Renamed table" in paths[0].read_text()


def stand_in_quarto(tmp_path: Path, monkeypatch, action: str) -> Path:
    """A `quarto` on PATH that says it is 1.7.34, records each call's arguments in the returned file and
    then runs ``action`` (shell); the project lint is skipped (the projects are built-in fixtures)."""
    import os
    import stat

    calls = tmp_path / "calls.txt"
    fake = tmp_path / "bin" / "quarto"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n"
                    'if [ "$1" = "--version" ]; then echo 1.7.34; exit 0; fi\n'
                    f'echo "$@" >> "{calls}"\n' + action + "\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr("perinatal_csc.render.driver.lint", lambda root: [])
    return calls


def test_quarto_gets_one_format_per_call_as_a_project_needs(tmp_path, monkeypatch):
    """Quarto 1.7 inside a project takes a comma-joined ``--to`` as one unknown format: a stand-in quarto
    that fails as it does records the calls."""
    from perinatal_csc.render.driver import _render_quarto

    root = make_project(tmp_path / "project")
    calls = stand_in_quarto(tmp_path, monkeypatch, 'case "$*" in *"--to "*,*) echo "ERROR: Unknown format" >&2; exit 1;; esac')
    written = _render_quarto(fixture_config(root), ["html", "docx", "pdf"], root, lambda s: None,
                             {"review": False, "blind": False})
    lines = calls.read_text().splitlines()
    assert [line.split("--to ")[1].split()[0] for line in lines] == ["html", "docx", "typst"]
    assert all(line.startswith("render index.qmd --to ") for line in lines)
    assert [p.name for p in written] == ["index.html", "index.docx", "index.pdf"]


def test_an_unchanged_render_with_quarto_reuses_its_outputs_and_a_change_renders_again(tmp_path, monkeypatch):
    """Quarto renders each format in a kernel of its own (about a minute a document): an unchanged
    re-render through perinatal-csc reuses the finished files; a changed source renders anew."""
    from perinatal_csc.render.driver import _render_quarto

    root = make_project(tmp_path / "project")
    calls = stand_in_quarto(tmp_path, monkeypatch,
                            '[ -f _crossref.yml ] || echo "labels: {}" > _crossref.yml\n'   # as its pre-render step
                            'ext=$4; [ "$ext" = typst ] && ext=pdf; mkdir -p "$6"; echo "$2 $4" > "$6/${2%.qmd}.$ext"')
    mode = {"review": False, "blind": False}
    render = lambda: _render_quarto(fixture_config(root), ["html", "docx"], root, lambda s: None, mode)
    (root / "_crossref.yml").unlink(missing_ok=True)     # a fresh clone: Quarto's pre-render step writes it
    first = render()
    assert len(calls.read_text().splitlines()) == 2 and all(p.exists() for p in first)
    assert render() == first and len(calls.read_text().splitlines()) == 2
    main = root / "index.qmd"
    main.write_text(main.read_text() + "\nOne more sentence.\n")
    render()
    assert len(calls.read_text().splitlines()) == 4
    first[0].write_text("edited by hand")
    render()
    assert len(calls.read_text().splitlines()) == 6
