"""Journal prose: the rendered documents (HTML and Word, every document) read back for software
vocabulary, which belongs in the project's documentation, not in an article. The reference list is
left out (software is cited there by its title)."""
from __future__ import annotations

import html as htmllib
import re

import docx
import pytest

#: What a journal reader should never meet, each with why.
VOCABULARY = {
    r"\bpresets?\b|\bpolic(?:y|ies) '": "a disclosure preset's name",
    r"\btype 7\b": "a quantile type of a statistics package",
    r"\bseeds?\b": "a random seed",
    r"\b[\w-]+\.(?:csv|py|ya?ml|json|qmd|parquet|sav|dta)\b": "a file name",
    r"\btests?/": "a path in the code",
    r"\b\w+(?:\.\w+)+\(": "a function call",
    r"(?<![\w-])R(?:'s)?(?![\w²-])": "the R language",
    r"\bautomated checks?\b": "the project's test suite",
    r"\btypeset": "typesetting",
    r"\bmethod rule\b": "a setting of the analysis plan",
    r"\blogistf\b|\bbrglm2?\b|\bnbclient\b|\bjupytext\b|\bwilcox\b": "a software package",
}


def software_vocabulary(text: str) -> list[str]:
    """Each match of ``VOCABULARY`` in ``text`` with some context and the reason."""
    found = []
    for pattern, why in VOCABULARY.items():
        for m in re.finditer(pattern, text):
            found.append(f"{why}: ...{text[max(0, m.start() - 50):m.end() + 30]}...")
    return found


def before_references(text: str) -> str:
    """The text up to the reference list (its last 'References' heading)."""
    i = text.rfind("References")
    return text[:i] if i > 0 else text


def html_prose(path) -> str:
    body = re.sub(r"<style.*?</style>|<script.*?</script>|<head.*?</head>", " ", path.read_text(encoding="utf-8"),
                  flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def docx_prose(path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    return " ".join(parts)


QUOTED = ("policy 'cohort'", "(R type 7)", "seed 20230", "before anything was typeset",
          "the agreement of the estimates with R", "The method rule in the plan was auto",
          "R's wilcox.test(exact = FALSE)", "verified by automated checks that run with every change to the code",
          "table1_sociodemographic.csv", "tests/data/test_synth_plausibility.py")


@pytest.mark.parametrize("phrase", QUOTED)
def test_the_check_finds_each_phrase_an_editor_found(phrase):
    clean = "Groups were compared with Welch's t-test and the Mann–Whitney U test; OR 2.1, R² 0.3."
    assert not software_vocabulary(clean)
    assert software_vocabulary(f"{clean} Results were checked ({phrase}).")


@pytest.fixture(scope="module", params=["index", "supplement", "summary"])
def document(request, default_render):
    return {p.suffix: p for p in default_render["paths"] if p.stem == request.param}


def test_rendered_documents_have_no_software_vocabulary(document):
    found = software_vocabulary(before_references(html_prose(document[".html"])))
    found += software_vocabulary(before_references(docx_prose(document[".docx"])))
    assert not found, "\n".join(found[:15])


#: An author–year citation in brackets, e.g. "(Li, Raghunathan and Rubin 1991)" or "(Yang et al., 2012)":
#: the documents cite by number.
AUTHOR_YEAR = re.compile(r"\([A-Z][\w'-]+(?: et al\.?|(?:, [A-Z][\w'-]+)* (?:and|&) [A-Z][\w'-]+)?,? (?:19|20)\d\d[a-z]?\)")


@pytest.mark.parametrize("text, found", [
    ("pooled over imputations (Li, Raghunathan and Rubin 1991), F reference", True),
    ("as described (Yang et al., 2012).", True), ("as described (Firth 1993).", True),
    ("as described (22,23) in 2012 (IMD in England, WIMD in Wales).", False),
])
def test_the_author_year_check(text, found):
    assert bool(AUTHOR_YEAR.search(text)) is found


def test_the_documents_cite_by_number_only(document):
    for text in (before_references(html_prose(document[".html"])), before_references(docx_prose(document[".docx"]))):
        assert not AUTHOR_YEAR.findall(text)


def test_word_names_a_font_every_reviewer_has_and_no_placeholder_author(document):
    import zipfile

    d = docx.Document(str(document[".docx"]))
    assert "[" not in (d.core_properties.author or "")
    with zipfile.ZipFile(document[".docx"]) as z:
        theme = z.read("word/theme/theme1.xml").decode("utf-8")
    assert "Aptos" not in theme and 'typeface="Arial"' in theme


def test_the_author_property_keeps_names_without_affiliations():
    from lxml import etree

    from perinatal_csc.render.word import CORE, _author_property

    xml = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{}</dc:creator></cp:coreProperties>')
    for given, expected in (("Ann Lee (King's College London); Bo Ng (University of Leeds)", "Ann Lee; Bo Ng"),
                            ("[Author names to be added by the team] ([Affiliations])", "")):
        parts = {CORE: xml.format(given).encode()}
        _author_property(parts)
        assert (etree.fromstring(parts[CORE])[0].text or "") == expected


def _placeholder_free_words(element) -> int:
    text = re.sub(r"\[[^\]]*(?:[Aa]uthors?|[Tt]o (?:add|write|confirm))[^\]]*\]", " ", element.text_content())
    return len(re.findall(r"[A-Za-z]{3,}", text))


def test_no_strobe_item_points_at_a_place_without_it(default_render):
    """Every place the STROBE table names for an item holds written text (not an authors' placeholder);
    what the authors still have to write is listed as theirs."""
    from lxml import html as lhtml

    from perinatal_csc.present.strobe import load_checklist

    pages = [lhtml.fromstring(p.read_text(encoding="utf-8")) for p in default_render["paths"]
             if p.suffix == ".html" and p.stem in ("index", "supplement")]
    problems = []
    for item in load_checklist().items:
        for label in item.where:
            found = [el for page in pages for el in page.xpath(f"//*[@id='{label}']")]
            if not found:
                problems.append(f"{item.item}: {label} is not in the documents")
            elif _placeholder_free_words(found[0]) < 12:
                problems.append(f"{item.item}: {label} holds no written text")
    assert not problems, problems
    key_results = [el for page in pages for el in page.xpath("//*[@id='sec-key-results']")]
    assert key_results and _placeholder_free_words(key_results[0]) < 12      # the check sees a placeholder


#: What the places an item points to must hold, item by item: the item's subject, not just any text.
#: An item whose remaining part is the authors' (``authors:``) is checked only for what the data give.
STROBE_CONTENT = {
    "5": r"one month and one year after\s+discharge",
    "6a": r"eligible",
    "12c": r"missing",
    "12d": r"(?s)follow-up.*weight",
    "13a": r"(?s)parent cohort.*analysed.*followed up at one year",
    "13b": r"lost to follow-up|not followed up|not known",
    "13c": r"[Pp]articipant flow",
    "14b": r"[Mm]issing|[Nn]ot known",
    "14c": r"(?s)follow-up time.*followed up at one month.*at one year",
    "15": r"\d+ \(\d+\.\d%\)",
    "16a": r"(?s)OR \d+\.\d\d, \d+\.\d\d to \d+\.\d\d.*adjusted",
    "16b": r"quintiles|categor",
    "22": r"[Ff]und",
}
DATES = re.compile(r"\b(?:19|20)\d\d\b")


def strobe_content_problems(pages, checklist) -> list[str]:
    """Items whose places lack their subject (``STROBE_CONTENT``), and a dates item (5) whose places hold no
    year while the checklist does not list the dates as the authors' to add."""
    problems = []
    for item in checklist.items:
        text = " ".join(" ".join(el.text_content().split()) for label in item.where for page in pages
                        for el in page.xpath(f"//*[@id='{label}']"))
        want = STROBE_CONTENT.get(item.item)
        if want and not re.search(want, text):
            problems.append(f"{item.item}: {', '.join(item.where)} lacks {want!r}")
        if item.item == "5" and not DATES.search(text) and "periods" not in item.authors:
            problems.append("5: no dates, and the dates are not listed for the authors")
    return problems


def test_each_strobe_item_points_at_a_place_that_holds_its_subject(default_render):
    from lxml import html as lhtml

    from perinatal_csc.present.strobe import load_checklist

    pages = [lhtml.fromstring(p.read_text(encoding="utf-8")) for p in default_render["paths"]
             if p.suffix == ".html" and p.stem in ("index", "supplement")]
    checklist = load_checklist()
    assert set(STROBE_CONTENT) <= {it.item for it in checklist.items}
    assert not strobe_content_problems(pages, checklist)


def test_the_strobe_subject_check_fails_on_a_place_without_it():
    from dataclasses import replace

    from lxml import html as lhtml

    from perinatal_csc.present.strobe import load_checklist

    checklist = load_checklist()
    page = lhtml.fromstring('<html><body><section id="sec-participants-results"><p>At one year 208 (74.8%) were '
                            'followed up.</p></section><section id="sec-setting"><p>Data were collected one month '
                            'and one year after discharge.</p></section></body></html>')
    items = [it for it in checklist.items if it.item in ("14c", "5")]
    found = strobe_content_problems([page], replace(checklist, items=tuple(items)))
    assert found == ["14c: sec-participants-results lacks " + repr(STROBE_CONTENT["14c"])]
    no_authors = tuple(replace(it, authors="") for it in items)
    assert "5: no dates, and the dates are not listed for the authors" in strobe_content_problems(
        [page], replace(checklist, items=no_authors))


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def test_captions_become_seq_fields_and_references_ref_fields():
    """A caption 'Table 2: ...' gets its number from a SEQ field inside a bookmark; 'Table 2' in the text (plain
    or a link) becomes a REF field to it, showing the same words; a table of another document stays text."""
    from lxml import etree

    from perinatal_csc.render.word import _numbered_fields

    body = etree.fromstring(
        f'<w:body xmlns:w="{W}">'
        '<w:p><w:pPr><w:pStyle w:val="TableCaption"/></w:pPr><w:r><w:t>Table 2: Clinical characteristics</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>As in Table 2 and Supplementary Table 2.</w:t></w:r>'
        '<w:hyperlink w:anchor="tbl-x"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr><w:t>Table 2</w:t></w:r>'
        '</w:hyperlink></w:p></w:body>')
    assert _numbered_fields(body) == (1, 2)
    ns = {"w": W}
    instr = [t.text.strip() for t in body.iterfind(".//w:instrText", ns)]
    assert instr == ["SEQ Table \\* ARABIC", "REF _RefTable2 \\h", "REF _RefTable2 \\h"]
    assert body.find(".//w:bookmarkStart", ns).get(f"{{{W}}}name") == "_RefTable2"
    shown = ["".join(t.text for t in p.iterfind(".//w:t", ns)) for p in body.iterfind("w:p", ns)]
    assert shown == ["Table 2: Clinical characteristics", "As in Table 2 and Supplementary Table 2.Table 2"]


def test_word_contents_follow_the_cover_on_their_own_page_and_list_the_headings():
    """pandoc's contents field sits after the title block; a cover ended by a page break moves it behind that
    break (with one after it), and the field's result lists the headings, linked, until Word updates it."""
    from lxml import etree

    from perinatal_csc.render.word import _contents_page

    toc = ('<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj></w:sdtPr>'
           '<w:sdtContent><w:p><w:pPr><w:pStyle w:val="TOCHeading"/></w:pPr><w:r><w:t>Contents</w:t></w:r></w:p>'
           '<w:p><w:r><w:fldChar w:fldCharType="begin"/><w:instrText>TOC \\o "1-3"</w:instrText>'
           '<w:fldChar w:fldCharType="separate"/><w:fldChar w:fldCharType="end"/></w:r></w:p></w:sdtContent></w:sdt>')
    body = etree.fromstring(
        f'<w:body xmlns:w="{W}"><w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Report</w:t></w:r></w:p>'
        f'{toc}<w:p><w:r><w:t>Funded by a funder</w:t></w:r></w:p><w:p><w:r><w:br w:type="page"/></w:r></w:p>'
        '<w:bookmarkStart w:id="1" w:name="sec-a"/><w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr>'
        '<w:r><w:t>Key findings</w:t></w:r></w:p><w:bookmarkEnd w:id="1"/>'
        '<w:p><w:pPr><w:pStyle w:val="Heading3"/></w:pPr><w:r><w:t>Aims</w:t></w:r></w:p>'
        '<w:p><w:pPr><w:pStyle w:val="Heading5"/></w:pPr><w:r><w:t>Too deep</w:t></w:r></w:p></w:body>')
    ns = {"w": W}

    def outline():
        out = []
        for el in body:
            name = etree.QName(el).localname
            if name == "sdt":
                out.append("CONTENTS")
            elif el.find(".//w:br", ns) is not None:
                out.append("BREAK")
            elif name == "p":
                out.append("".join(t.text for t in el.iterfind(".//w:t", ns)))
        return out

    assert _contents_page(body)
    assert outline() == ["Report", "Funded by a funder", "BREAK", "CONTENTS", "BREAK", "Key findings", "Aims",
                         "Too deep"]
    entries = [(p.find("w:pPr/w:pStyle", ns).get(f"{{{W}}}val"), p.find("w:hyperlink", ns).get(f"{{{W}}}anchor"),
                "".join(t.text for t in p.iterfind(".//w:t", ns)))
               for p in body.iterfind("w:sdt/w:sdtContent/w:p", ns) if p.find("w:hyperlink", ns) is not None]
    assert entries == [("TOC1", "sec-a", "Key findings"), ("TOC2", None, "Aims")]
    kinds = [f.get(f"{{{W}}}fldCharType") for f in body.iterfind(".//w:fldChar", ns)]
    assert kinds == ["begin", "separate", "end"]
    assert body.find("w:sdt/w:sdtContent/w:p[last()]/w:r[last()]/w:fldChar", ns).get(f"{{{W}}}fldCharType") == "end"
    before = etree.tostring(body)
    _contents_page(body)
    assert etree.tostring(body) == before


def test_word_captions_and_references_are_fields(document):
    import zipfile

    xml = zipfile.ZipFile(document[".docx"]).read("word/document.xml").decode("utf-8")
    captions = re.findall(r'w:name="(_Ref(?:STable|Table|Figure)\d+)"', xml)
    assert len(captions) == len(re.findall(r"SEQ (?:STable|Table|Figure) ", xml))
    assert len(captions) >= 3 or document[".docx"].stem == "summary"
    refs = re.findall(r"REF (_Ref\w+) ", xml)
    assert set(refs) <= set(captions)
    if document[".docx"].stem == "index":
        assert refs
