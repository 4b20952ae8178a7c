"""The funder's report (report.qmd): written by the built-in path in three formats, its sections in the
order sector reports take, the key findings first after the contents, every number of its findings read
back against the release, plain enough for practitioners, and different when the data differ."""
from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pypdf
import pytest

from plain_language import reading_grade
from readback import COMMENT, NUMBER, literal_numbers, norm, prose_of, prose_problems, section_html

slow = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

#: The report's sections (HTML ids and Word headings), in order.
SECTIONS = [("sec-key-findings", "Key findings"), ("sec-executive-summary", "Executive summary"),
            ("sec-report-background", "Background and policy context"), ("sec-plain-methods", "How we did the study"),
            ("sec-report-findings", "Findings"), ("sec-report-implications", "Implications for practice and policy"),
            ("sec-report-limitations", "Limitations"), ("sec-report-conclusion", "Conclusion"),
            ("sec-report-relation", "Relation to the published paper"), ("sec-report-glossary", "Glossary"),
            ("sec-report-acknowledgements", "Acknowledgements"), ("sec-report-references", "References"),
            ("sec-report-appendix", "Appendix: detailed tables")]
#: The parts whose every number must be a released cell: key findings, executive summary, findings, limitations.
REGIONS = [("sec-key-findings", "sec-report-background"), ("sec-report-findings", "sec-report-implications"),
           ("sec-report-limitations", "sec-report-conclusion")]
NATURAL = re.compile(r"about (\d+) in (\d+)(?: \w+)? \((\d+) of (\d+), (\d+\.\d)%\)")
FREQUENCY = re.compile(r"\b(?:about )?\d+ in \d+\b")


def report_files(paths) -> dict[str, Path]:
    return {p.suffix[1:]: p for p in paths if p.stem == "report"}


def literal() -> set[str]:
    """Numbers written in the sources: the documents and the glossary (the CSQ-8's range, 8 to 32)."""
    return literal_numbers() | set(NUMBER.findall((ROOT / "data" / "reporting" / "glossary.yml").read_text()))


def readback(html: str, release: dict[str, Path], text: str | None = None) -> list[str]:
    """The read-back problems of the report's findings (``text``: the prose, else read from ``html``);
    natural frequencies are checked on their own."""
    records = json.loads(COMMENT.search(html).group(1))
    text = FREQUENCY.sub(" ", prose_of(html, REGIONS) if text is None else text)
    for r in records:
        r["text"] = FREQUENCY.sub(" ", r["text"])
    return prose_problems(text, records, release, literal())


@pytest.fixture(scope="module")
def report(default_render):
    files = report_files(default_render["paths"])
    html = files["html"].read_text(encoding="utf-8")
    return {"files": files, "html": html, "csv": {p.stem: p for p in default_render["release"]}}


@slow
def test_the_report_and_the_summary_are_written_in_every_format(default_render):
    assert set(report_files(default_render["paths"])) == {"html", "docx", "pdf"}
    assert {p.suffix for p in default_render["paths"] if p.stem == "summary"} == {".html", ".docx", ".pdf"}


@slow
def test_the_sections_come_in_order_in_html_and_word(report):
    at = [report["html"].index(f'<section id="{sid}"') for sid, _ in SECTIONS]
    assert at == sorted(at)
    headings = [norm(p.text) for p in docx.Document(str(report["files"]["docx"])).paragraphs
                if p.style.name.startswith("Heading") and p.text.strip()]
    at = [headings.index(title) for _, title in SECTIONS]
    assert at == sorted(at), headings


@slow
def test_the_key_findings_open_the_report_after_the_cover_and_contents(report):
    pages = [norm(p.extract_text()) for p in pypdf.PdfReader(str(report["files"]["pdf"])).pages]
    assert "Final report to Foundations" in pages[0] and "SYNTHETIC" in pages[0]
    contents = next(i for i, t in enumerate(pages) if t.startswith("Contents") or " Contents " in f" {t[:200]} ")
    findings = next(i for i, t in enumerate(pages) if i > contents and "Key findings" in t[:300])
    assert contents <= 1 and findings == contents + 1


@slow
def test_in_word_the_contents_come_after_the_cover_and_list_every_section(report):
    """As in the PDF: the cover (funder and data notice), a page break, the contents listing each section, a
    page break, then the key findings (pandoc alone puts the contents before the cover's funding line)."""
    import zipfile

    from lxml import etree

    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    body = etree.fromstring(zipfile.ZipFile(report["files"]["docx"]).read("word/document.xml")).find("w:body", ns)
    kids = list(body)
    toc = next(i for i, el in enumerate(kids) if el.find(".//w:docPartGallery[@w:val='Table of Contents']", ns)
               is not None)
    text = ["".join(t.text or "" for t in el.iterfind(".//w:t", ns)) for el in kids]
    brk = [el.find("w:r/w:br[@w:type='page']", ns) is not None for el in kids]
    assert any(t.startswith("Funded by") for t in text[:toc]) and "SYNTHETIC" in " ".join(text[:toc])
    assert brk[toc - 1] and brk[toc + 1]
    assert next(t for t in text[toc + 1:] if t.strip()) == "Key findings"
    entries = [norm("".join(t.text or "" for t in p.iterfind(".//w:t", ns)))
               for p in kids[toc].iterfind(".//w:p", ns) if p.find("w:hyperlink", ns) is not None]
    assert [title for _, title in SECTIONS if title not in entries] == []


@slow
def test_every_number_of_the_findings_is_its_own_released_cell(report):
    assert len(NUMBER.findall(prose_of(report["html"], REGIONS))) > 30
    assert readback(report["html"], report["csv"]) == []


@slow
def test_the_report_read_back_fails_on_a_changed_number(report):
    text = prose_of(report["html"], REGIONS)
    m = NATURAL.search(text)
    changed = text.replace(f"({m.group(3)} of {m.group(4)},", f"({int(m.group(3)) + 1} of {m.group(4)},", 1)
    assert changed != text and readback(report["html"], report["csv"], changed)


@slow
def test_each_natural_frequency_is_near_its_count_and_percentage(report):
    text = prose_of(report["html"], REGIONS)
    hits = NATURAL.findall(text)
    assert len(hits) >= 4
    for a, b, k, n, pct in hits:
        assert abs(int(a) / int(b) - int(k) / int(n)) <= 0.1, (a, b, k, n)
        assert f"{100 * int(k) / int(n):.1f}" == pct


@slow
def test_key_findings_and_executive_summary_read_at_grade_10_or_below(report):
    for start, stop in (("sec-key-findings", "sec-executive-summary"), ("sec-executive-summary", "sec-report-background")):
        text = prose_of(report["html"], [(start, stop)])
        assert len(text.split()) > 80
        assert reading_grade(text) <= 10, (start, reading_grade(text))


@slow
def test_the_glossary_defines_the_care_categories(report):
    glossary = norm(re.sub(r"<[^>]+>", " ", section_html(report["html"], "sec-report-glossary", "sec-report-acknowledgements")))
    for term in ("Child in need", "Child Protection Plan", "Looked after", "Odds ratio", "Statistical disclosure control"):
        assert term in glossary


@pytest.fixture(scope="module")
def second_cohort(tmp_path_factory):
    """The report of another synthetic cohort (200 dyads, seed 11), rendered by the built-in path."""
    import yaml

    from perinatal_csc.config import DEFAULT_CONFIG, load_config
    from perinatal_csc.pipeline import cohort, disclose, inputs_fingerprint, run_analysis, write_release
    from perinatal_csc.render.driver import render

    out = tmp_path_factory.mktemp("report-second")
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    raw.update(results_dir=str(out / "_results"), output_dir=str(out / "_output"))
    raw["data"]["synthetic"] = {"path": str(out / "cohort.csv"), "n": 200, "seed": 11}
    (out / "project.yml").write_text(yaml.safe_dump(raw))
    cfg = load_config(out / "project.yml")
    released = write_release(disclose(run_analysis(cohort(cfg), cfg), cfg), cfg.release_dir,
                             inputs=inputs_fingerprint(cfg))
    paths = render(cfg, ["html"], use_cache=False, builtin=True, documents=["report"])
    return {"html": paths[0].read_text(encoding="utf-8"), "csv": {p.stem: p for p in released}}


@slow
def test_another_cohort_gives_another_report_that_reads_back(report, second_cohort):
    mine, other = (prose_of(r["html"], [REGIONS[0]]) for r in (report, second_cohort))
    assert NATURAL.findall(mine) != NATURAL.findall(other)
    assert readback(second_cohort["html"], second_cohort["csv"]) == []
