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
    intro = (ROOT / "chapters" / "_introduction.qmd").read_text(encoding="utf-8")
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
