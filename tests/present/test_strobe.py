"""The STROBE cohort checklist data file: every item exactly once, every `where` label present in the documents
(index.qmd and supplement.qmd with their includes expanded), and the table built from it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.present.strobe import (STROBE_COHORT, ChecklistError, checklist_frame, load_checklist,
                                          strobe_table, unknown_labels)
from perinatal_csc.render.qmd import expand_includes

#: The items of the STROBE checklist for cohort studies, in order (items 1-22 with their lettered parts).
COHORT_ITEMS = ["1a", "1b", "2", "3", "4", "5", "6a", "6b", "7", "8", "9", "10", "11",
                "12a", "12b", "12c", "12d", "12e", "13a", "13b", "13c", "14a", "14b", "14c", "15",
                "16a", "16b", "16c", "17", "18", "19", "20", "21", "22"]
DOCUMENTS = ("index.qmd", "supplement.qmd")
HEADING_ID_RE = re.compile(r"\{#((?:sec|fig|tbl)-[A-Za-z0-9_-]+)[^}]*\}")
CELL_LABEL_RE = re.compile(r"^#\|\s*label:\s*[\"']?((?:sec|fig|tbl)-[A-Za-z0-9_-]+)[\"']?\s*$", re.M)


def document_labels(root: Path = PROJECT_ROOT, documents=DOCUMENTS) -> set[str]:
    """Every `{#sec-...}` / `{#fig-...}` / `{#tbl-...}` id and `#| label:` cell option of the documents,
    includes expanded (a missing document contributes nothing: the existence test then names its labels)."""
    found: set[str] = set()
    for name in documents:
        path = root / name
        if not path.exists():
            continue
        for _, text in expand_includes(path, path.parent, root):
            found |= set(HEADING_ID_RE.findall(text)) | set(CELL_LABEL_RE.findall(text))
    return found


@pytest.fixture(scope="module")
def checklist():
    return load_checklist()


def test_every_cohort_item_is_in_the_file_exactly_once_and_in_order(checklist):
    assert [it.item for it in checklist.items] == COHORT_ITEMS


def test_items_carry_their_section_and_the_checklist_wording(checklist):
    by = {it.item: it for it in checklist.items}
    sections = {"Title and abstract": ["1a", "1b"], "Introduction": ["2", "3"],
                "Methods": COHORT_ITEMS[4:18], "Results": COHORT_ITEMS[18:29],
                "Discussion": ["18", "19", "20", "21"], "Other information": ["22"]}
    for section, items in sections.items():
        assert {by[i].section for i in items} == {section}, section
    assert by["9"].recommendation == "Describe any efforts to address potential sources of bias"
    assert by["10"].recommendation == "Explain how the study size was arrived at"
    assert by["12d"].recommendation == "If applicable, explain how loss to follow-up was addressed"
    assert by["14c"].recommendation == "Summarise follow-up time (eg, average and total amount)"
    assert by["22"].recommendation.endswith("for the original study on which the present article is based")
    assert {i for i, it in by.items() if it.asterisk} == {"8", "13a", "13b", "13c", "14a", "14b", "14c", "15"}
    assert checklist.citation == "vonelm2007strobe"
    bib = (PROJECT_ROOT / "references.bib").read_text(encoding="utf-8")
    assert "@article{vonelm2007strobe," in bib


def test_every_where_label_exists_in_the_documents(checklist):
    """Passes once index.qmd and supplement.qmd carry the labels (the lead's restructuring)."""
    missing = unknown_labels(checklist, document_labels())
    assert sorted({label for _, label in missing}) == [], missing


def test_the_label_check_fails_on_a_made_up_label(tmp_path, checklist):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "index.qmd").write_text("---\ntitle: x\n---\n\n## Bias {#sec-bias}\n\n"
                                        "{{< include chapters/_r.qmd >}}\n", encoding="utf-8")
    (tmp_path / "chapters" / "_r.qmd").write_text(
        "## Results {#sec-main-results .unnumbered}\n\n```{python}\n#| label: fig-flow\n#| fig-cap: x\nf()\n```\n",
        encoding="utf-8")
    known = document_labels(tmp_path)
    assert known == {"sec-bias", "sec-main-results", "fig-flow"}
    data = tmp_path / "c.yml"
    data.write_text(
        "guideline: STROBE\nchecklist: x\nitems:\n"
        "  - {item: '9', section: Methods, topic: Bias, recommendation: r, where: [sec-bias]}\n"
        "  - {item: 13c, section: Results, topic: Participants, recommendation: r, where: [fig-flow, sec-made-up]}\n",
        encoding="utf-8")
    assert unknown_labels(load_checklist(data), known) == [("13c", "sec-made-up")]
    assert unknown_labels(checklist, known) != []       # the real file points to labels this toy lacks


@pytest.mark.parametrize("items, message", [
    ("  - {item: '9', section: Methods, topic: Bias, where: [sec-bias]}", "item 9: missing recommendation"),
    ("  - {item: '9', section: M, topic: B, recommendation: r, where: [sec-bias]}\n"
     "  - {item: '9', section: M, topic: B, recommendation: r, where: [sec-bias]}", "item 9 appears more than once"),
    ("  - {item: '9', section: M, topic: B, recommendation: r, where: [Bias section]}", "is not a cross-reference"),
    ("  - {item: 9x, section: M, topic: B, recommendation: r, where: [sec-bias]}", "is not like 12 or 12a"),
    ("  - {item: '9', section: M, topic: B, recommendation: r, where: [sec-bias], page: 3}", "unknown field(s) page"),
])
def test_a_malformed_checklist_is_refused_with_the_file_and_item(tmp_path, items, message):
    data = tmp_path / "bad.yml"
    data.write_text(f"guideline: STROBE\nitems:\n{items}\n", encoding="utf-8")
    with pytest.raises(ChecklistError) as e:
        load_checklist(data)
    assert str(data) in str(e.value) and message in str(e.value)


def test_the_table_says_where_each_item_is_addressed_through_the_label_map(checklist):
    names = {"sec-bias": "Main text, Methods: Bias", "sec-s-codebook": "Supplementary Table S1"}
    frame = checklist_frame(checklist, lambda label: names.get(label, label.upper()))
    row = frame.set_index("item")
    assert row.at["9", "where"] == "Main text, Methods: Bias"
    assert row.at["7", "where"] == "SEC-VARIABLES; Supplementary Table S1"
    assert row.at["6b", "where"] == "Not applicable (not a matched study). SEC-PARTICIPANTS"
    assert list(frame["item"]) == COHORT_ITEMS
    assert row.at["12a", "topic"] == "Statistical methods" and row.at["12b", "topic"] == ""
    assert row.at["13a", "topic"] == "Participants" and row.at["6a", "topic"] == "Participants"
    html = strobe_table(lambda label: names.get(label, label)).as_raw_html()
    assert "Main text, Methods: Bias" in html and "Where addressed" in html
    assert "Describe any efforts to address potential sources of bias" in html
    for section in ("Title and abstract", "Methods", "Results", "Discussion", "Other information"):
        assert section in html


def test_the_default_file_is_the_project_data_file():
    assert STROBE_COHORT == PROJECT_ROOT / "data" / "reporting" / "strobe_cohort.yml"
