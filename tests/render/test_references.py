"""References: every citation key resolves, and every statistical method the Methods name is cited."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "index.qmd", *sorted((ROOT / "chapters").glob("*.qmd"))]
CITE = re.compile(r"(?<![\w@])@([A-Za-z][\w:.-]*[\w])")
# a method the Methods name, and the key(s) its citation must include
METHODS = {
    "Fisher–Freeman–Halton": "freeman1951", "Welch's t-test": "welch1947", "Mann–Whitney": "mann1947",
    "Yang and\nDalton": "yang2012smd", "Benjamini–Hochberg": "benjamini1995", "McNemar test": "mcnemar1947",
    "Stuart–Maxwell test": "stuart1955", "Wilcoxon signed-rank": "wilcoxon1945",
    "chained equations": "vanbuuren2011mice", "Rubin's rules": "rubin1987", "Barnard–Rubin": "barnard1999",
    "DeLong's confidence interval": "delong1988", "Hosmer–Lemeshow test": "hosmer1980",
    "generalised variance inflation factor": "fox1992gvif", "Firth's penalised\nlikelihood": "firth1993",
    "Li, Raghunathan and Rubin": "li1991",
}


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(encoding="utf-8"), re.M))


def test_every_citation_key_is_in_the_bibliography():
    keys = bib_keys()
    cited = {k for p in SOURCES for k in CITE.findall(p.read_text(encoding="utf-8"))
             if not k.startswith(("tbl-", "fig-", "sec-"))}
    assert cited and cited - keys == set()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_each_named_method_is_cited_where_it_is_named(method):
    text = "".join(p.read_text(encoding="utf-8") for p in SOURCES if p.name.startswith("_methods"))
    at = text.find(method)
    assert at >= 0, f"{method!r} is not named in the Methods"
    window = text[at:at + len(method) + 160]
    cite = re.search(r"\[[^\]]*@" + re.escape(METHODS[method]) + r"[;\]]", window)
    assert cite, f"{method!r} has no citation of @{METHODS[method]} right after it"
    assert METHODS[method] in bib_keys()


def test_the_study_sources_are_cited_in_the_introduction():
    from perinatal_csc.render.qmd import expand_includes

    intro = "\n".join(t for _, t in expand_includes(ROOT / "chapters" / "_introduction.qmd", ROOT, ROOT))
    for key in ("trevillion2019esmi", "howard2022esmi", "levertaylor2023"):
        assert f"@{key}" in intro and key in bib_keys()


def test_every_added_reference_says_how_it_was_confirmed():
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=@\w+\{)", text)
    for prev, entry in zip(entries, entries[1:]):
        key = re.match(r"@\w+\{([^,]+),", entry).group(1)
        if key in {"larsen1979csq", "wing1998honos", "phelan1995can", "slade2000tag", "overall1962bprs",
                   "vonelm2007strobe", "firth1993", "heinze2002", "rubin1987", "li1991", "vanbuuren2011mice",
                   "seabold2010statsmodels", "mckinney2010pandas", "hunter2007matplotlib"}:
            continue
        assert "% confirmed:" in prev.strip().splitlines()[-1], key


#: What each entry type must give for a reader to find the work (BibTeX field names; "a|b": either).
REQUIRED = {
    "article": ("author", "title", "journal", "year", "volume", "pages|eid"),
    "book": ("author", "title", "publisher", "year"),
    "techreport": ("author", "title", "institution", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
}
#: Words that make an author a body rather than a person: it must be braced whole, or its "and" splits it.
CORPORATE = re.compile(r"\b(Institute|Institution|Council|Department|Organisation|Organization|Excellence|"
                       r"Office|Agency|Association|Society|College|Foundation|Centre|Center)\b")


def bib_entries(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """key -> (entry type, fields), for a bibliography whose fields are 'name = {value}' (braces nested)."""
    out = {}
    for m in re.finditer(r"^@(\w+)\{([^,]+),", text, re.M):
        start, depth, i = m.end(), 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body, fields, j = text[start:i - 1], {}, 0
        for f in re.finditer(r"(\w+)\s*=\s*\{", body):
            if f.start() < j:
                continue
            k, depth = f.end(), 1
            while depth:
                depth += {"{": 1, "}": -1}.get(body[k], 0)
                k += 1
            fields[f.group(1).lower()] = body[f.end():k - 1]
            j = k
        out[m.group(2).strip()] = (m.group(1).lower(), fields)
    return out


def reference_problems(text: str) -> list[str]:
    """Entries without a field their type requires (unless their note marks it UNCONFIRMED for the authors
    to check, naming the field), and corporate authors not braced whole."""
    problems = []
    for key, (kind, fields) in bib_entries(text).items():
        note = fields.get("note", "")
        for need in REQUIRED.get(kind, ()):
            options = need.split("|")
            if any(fields.get(o) for o in options):
                continue
            if "UNCONFIRMED" in note and any(o.rstrip("s") in note.lower() for o in options):
                continue
            problems.append(f"{key}: no {need}")
        for field in ("author", "editor"):
            value = fields.get(field, "")
            if CORPORATE.search(value) and not re.fullmatch(r"\{[^{}]*\}", value.strip()):
                problems.append(f"{key}: {field} {value!r} is a body and must be braced whole")
    return problems


def test_every_reference_has_the_fields_its_type_needs_and_bodies_are_braced():
    assert reference_problems((ROOT / "references.bib").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("entry, problem", [
    ("@article{a, author = {Lee, A.}, title = {T}, journal = {J}, year = {2020}, pages = {1--2}}", "a: no volume"),
    ("@techreport{b, author = {National Institute for Health and Care Excellence}, title = {T}, "
     "institution = {NICE}, year = {2014}}", "must be braced whole"),
    ("@book{c, author = {Lee, A.}, title = {T}, year = {2008}}", "c: no publisher"),
])
def test_the_reference_check_finds_a_missing_field_and_a_split_body(entry, problem):
    assert any(problem in p for p in reference_problems(entry))


def test_the_style_gives_a_doi_and_a_paper_number_where_volume_and_pages_are_missing(tmp_path):
    """An online-first article is found by its DOI and a conference paper by its number, not by '2022;'."""
    import pypandoc

    (tmp_path / "refs.bib").write_text(
        "@article{a, author = {Lee, Ann}, title = {Online first}, journal = {Journal of Tests}, year = {2022},\n"
        "  doi = {10.1000/xyz.1}}\n"
        "@inproceedings{b, author = {Roe, Bo}, title = {A paper}, booktitle = {Proceedings of a Forum 2012},\n"
        "  year = {2012}, number = {335-2012}}\n", encoding="utf-8")
    (tmp_path / "in.md").write_text(f"---\nbibliography: {tmp_path / 'refs.bib'}\ncsl: {ROOT / 'csl' / 'vancouver.csl'}\n"
                                    "---\nText [@a; @b].\n", encoding="utf-8")
    out = " ".join(pypandoc.convert_file(str(tmp_path / "in.md"), "plain", extra_args=["--citeproc"]).split())
    assert "Journal of Tests. 2022. doi:10.1000/xyz.1" in out and "2022;" not in out
    assert "In: Proceedings of a forum 2012. 2012. Paper 335-2012." in out
