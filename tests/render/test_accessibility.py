"""Accessibility of every document the project renders (UK public sector bodies publish to WCAG 2.2 AA).

PDF: PDF/UA-1 (``pdfua``'s checks, no errors), every figure's alternative text the same as the HTML's,
title shown by the viewer (DisplayDocTitle), language, PDF/UA identification, headings from level 1 in
order. HTML: banner, navigation and main landmarks, headings in order, table header cells with a scope,
and axe-core in headless Chromium (no serious or critical violation; skipped without Chromium).

The documents are those of ``project.render`` in _quarto.yml, so a new document is checked as it is
added; a document whose front matter leaves out a format is skipped for that format. The rendered
files are the session's (``default_render`` in tests/conftest.py); the filter and template tests at
the top need no render.
"""
from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pypandoc
import pytest

import accessibility as a11y
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.render.driver import FORMATS, RESOURCES, document_formats, pdf_standards
from perinatal_csc.render.project import FILTER, documents, project_config
from perinatal_csc.render.qmd import read_document

DOCUMENTS = [Path(d).stem for d in documents(project_config(PROJECT_ROOT))]
slow = pytest.mark.slow
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def rendered(default_render, stem: str, fmt: str) -> Path:
    """The session's rendering of ``stem`` in ``fmt``; skipped when the document is not made in it."""
    found = [p for p in default_render["paths"] if p.stem == stem and p.suffix == f".{fmt}"]
    if found:
        return found[0]
    if fmt not in document_formats(read_document(PROJECT_ROOT / f"{stem}.qmd", PROJECT_ROOT), list(FORMATS)):
        pytest.skip(f"{stem}.qmd is not made as {fmt} (the format: of its front matter)")
    pytest.fail(f"{stem}.{fmt} was not rendered")


def html_figure_alts(page: Path) -> list[str]:
    tree = lxml.html.parse(str(page))
    return [img.get("alt") or "" for img in tree.xpath("//figure//img")]


# -- without a render: the filter, the template and the settings ------------------------------------

FIGURE_MD = """---
title: A figure test
lang: en-GB
---

## Results

### Participants

::: {#fig-x}

![Bars of \\"counts\\" by group, with a back\\\\slash and children's care.](x.png){fig-alt="Bars"}

The caption

:::
"""


def _pandoc(src: Path, *args: str) -> str:
    return subprocess.run([pypandoc.get_pandoc_path(), str(src), "--from", "markdown", "--standalone",
                           f"--lua-filter={PROJECT_ROOT / FILTER}", *args], cwd=src.parent, check=True,
                          capture_output=True, text=True).stdout


def test_typst_gets_the_figures_text_and_headings_from_level_1_and_compiles_as_pdf_ua(tmp_path):
    import typst

    (tmp_path / "x.png").write_bytes(PNG)
    src = tmp_path / "in.md"
    src.write_text(FIGURE_MD, encoding="utf-8")
    typ = _pandoc(src, "--to", "typst")
    html = _pandoc(src, "--to", "html5")
    alt = lxml.html.fromstring(html).xpath("//figure//img")[0].get("alt")
    assert alt.startswith("Bars of") and "children’s" in alt        # the HTML's text, as pandoc made it
    assert '#image("x.png", alt: "Bars of \\"counts\\" by group, with a back\\\\slash and children’s care.")' in typ
    # the headings move up one level and keep the size and spacing of the level they had
    assert "\n= Results\n" in typ and "\n== Participants\n" in typ
    assert "#show heading.where(level: 1): set text(size: 0.857143em)" in typ
    (tmp_path / "in.typ").write_text(typ, encoding="utf-8")
    typst.compile(str(tmp_path / "in.typ"), output=str(tmp_path / "in.pdf"), root=str(tmp_path),
                  ignore_system_fonts=True, pdf_standards=["ua-1"])
    facts = a11y.pdf_facts(tmp_path / "in.pdf")
    assert facts["figures"] == [alt]
    assert facts["display_doc_title"] and facts["title"] == "A figure test" and facts["lang"] == "en-GB"
    assert facts["headings"] == [1, 2]
    assert not a11y.pdfua_errors(tmp_path / "in.pdf")


def test_the_built_in_html_page_has_banner_navigation_and_main(tmp_path):
    src = tmp_path / "in.md"
    src.write_text(FIGURE_MD, encoding="utf-8")
    (tmp_path / "x.png").write_bytes(PNG)
    html = tmp_path / "in.html"
    html.write_text(_pandoc(src, "--to", "html5", "--toc", "--section-divs",
                            f"--template={RESOURCES / 'manuscript.html'}"), encoding="utf-8")
    s = a11y.html_structure(html)
    assert s["landmarks"] == ["banner", "navigation", "main"]
    assert not a11y.skipped_heading_levels(s["headings"])


def _sources_only(tmp_path: Path) -> Path:
    """The project's sources as a fresh clone has them: no render has written ``_provenance.yml`` yet,
    so the test reads the settings from a copy with an empty one (the pre-render step's file)."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "chapters", root / "chapters")
    for path in [*PROJECT_ROOT.glob("*.qmd"), PROJECT_ROOT / "_quarto.yml", PROJECT_ROOT / "authors.yml"]:
        shutil.copy(path, root / path.name)
    (root / "_provenance.yml").write_text("{}\n", encoding="utf-8")
    return root


def test_every_pdf_is_made_to_pdf_ua_1(tmp_path):
    """Both renderers read format.typst.pdf-standard from _quarto.yml (Quarto from 1.9)."""
    root = _sources_only(tmp_path)
    for stem in DOCUMENTS:
        doc = read_document(root / f"{stem}.qmd", root)
        if "pdf" in document_formats(doc, list(FORMATS)):
            assert "ua-1" in pdf_standards(doc), stem


# -- the session's rendered documents ---------------------------------------------------------------

#: pdfua 0.1.3 cannot evaluate its empty-heading rule on any Typst PDF (it reads an array's
#: `/is_integer` and pikepdf raises ValueError); test_pdf_figures_title_language_and_headings checks
#: the headings instead.
PDFUA_BROKEN_RULES = {"UA-14-001"}


@slow
@pytest.mark.parametrize("stem", DOCUMENTS)
def test_pdf_has_no_pdf_ua_errors(default_render, stem):
    from pdfua import validate

    pdf = rendered(default_render, stem, "pdf")
    assert not a11y.pdfua_errors(pdf)
    skipped = {o.rule_id: o.skipped_reason for o in validate(str(pdf)).skipped}
    assert set(skipped) <= PDFUA_BROKEN_RULES, skipped


@slow
@pytest.mark.parametrize("stem", DOCUMENTS)
def test_pdf_figures_title_language_and_headings(default_render, stem):
    pdf = rendered(default_render, stem, "pdf")
    facts = a11y.pdf_facts(pdf)
    assert facts["marked"] and facts["pdfua_part"] == "1"
    assert facts["display_doc_title"], "the viewer would show the file name, not the title"
    title = read_document(PROJECT_ROOT / f"{stem}.qmd", PROJECT_ROOT).metadata.get("title")
    assert facts["title"] and " ".join(facts["title"].split()) == " ".join(str(title).split())
    assert facts["lang"].startswith("en")
    assert all(alt and alt.strip() for alt in facts["figures"]), facts["figures"]
    assert facts["figures"] == html_figure_alts(rendered(default_render, stem, "html"))
    assert facts["headings"][:1] == [1] and not a11y.skipped_heading_levels(facts["headings"])


@slow
@pytest.mark.parametrize("stem", DOCUMENTS)
def test_html_landmarks_headings_and_table_headers(default_render, stem):
    page = rendered(default_render, stem, "html")
    s = a11y.html_structure(page)
    assert s["landmarks"].count("main") == 1 and "banner" in s["landmarks"] and "navigation" in s["landmarks"]
    assert s["headings"][:1] == [1] and s["headings"].count(1) == 1
    assert not a11y.skipped_heading_levels(s["headings"])
    assert s["th_without_scope"] == 0, f"{s['th_without_scope']} of {s['th']} header cells have no scope"
    assert all(alt.strip() for alt in html_figure_alts(page))


@slow
def test_html_contents_list_sections_not_callout_titles(default_render):
    """A callout's title (the data notice's "Data source") is no section: as under Quarto, the contents leave it
    out, and every entry links to a section."""
    with_contents = titled = 0
    for stem in DOCUMENTS:
        tree = lxml.html.parse(str(rendered(default_render, stem, "html"))).getroot()
        nav = tree.xpath("//nav[@id='TOC']")
        if not nav:
            continue
        with_contents += 1
        targets = [a.get("href")[1:] for a in nav[0].iter("a") if (a.get("href") or "").startswith("#")]
        callouts = tree.xpath("//*[contains(@class, 'callout')]")      # pandoc makes a titled one a section
        called = {el.get("id") for c in callouts for el in (c, *c.xpath(".//h2 | .//h3")) if el.get("id")}
        assert not called & set(targets), (stem, called & set(targets))
        titled += len(called)
        assert targets and all(tree.xpath(f"//section[@id='{t}']") for t in targets), (stem, targets)
    assert with_contents >= 3 and titled >= 3


@slow
def test_axe_core_finds_no_serious_or_critical_violation(default_render):
    browser = a11y.chromium()
    if browser is None:
        pytest.skip("axe-core runs in headless Chromium: none on PATH (Debian: apt-get install -y chromium)")
    js = a11y.axe_script()
    if js is None:
        pytest.skip(f"axe-core not found in {a11y.AXE_DIR} and npm could not install it there "
                    f"(npm install --prefix .cache/axe axe-core@{a11y.AXE_VERSION}, or set AXE_CORE_JS)")
    pages = [p for p in default_render["paths"] if p.suffix == ".html"]
    assert pages
    found = []
    for page, violations in a11y.axe_violations(pages, js, browser).items():
        found += [f"{page.name}: {v['impact']} {v['id']} ({v['count']}): {v['help']}: {', '.join(v['nodes'])}"
                  for v in violations if v["impact"] in a11y.SEVERE]
    assert not found, "\n".join(found)
