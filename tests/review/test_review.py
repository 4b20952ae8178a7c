"""Co-authors' review loop: a rendered draft, reviewed as Word and LibreOffice write reviews, back to
the sources; and the differences between two drafts as tracked changes."""
from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from perinatal_csc.review.changes import compare
from perinatal_csc.review.draft import DraftError, read_draft
from perinatal_csc.review.importer import (CAPTION, CHANGED, COMPUTED, TABLE, apply_edits, import_review,
                                           write_report)
from review_project import commit, line_of, render_docx, reviewed, write_project

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "review"


@pytest.fixture()
def project(tmp_path):
    root = write_project(tmp_path / "project")
    commit(root)
    return root, render_docx(root)


def test_every_comment_and_change_is_placed_and_classified(project, tmp_path):
    root, draft = project
    review = import_review(reviewed(draft, tmp_path / "reviewed.docx"), root, data_label="SYNTHETIC")
    index, more = root / "index.qmd", root / "chapters" / "_more.qmd"
    changes = {(i.before.strip("…"), i.after.strip("…")): i for i in review.items if i.kind == "change"}
    assert len(changes) == 6

    def find(new: str):
        return next(i for (b, a), i in changes.items() if new in a and new not in b)

    often = find("frequently")
    assert (often.path, often.line, often.flag) == (index, line_of(index, "often came into contact"), None)
    number = find("300")
    assert (number.path, number.line, number.flag) == (index, line_of(index, "We studied"), COMPUTED)
    cell_line = line_of(more, "label: tbl-demo")
    table, caption = find("England and Wales"), find("Example")
    assert (table.path, table.line, table.flag) == (more, cell_line, f"{TABLE} (cell tbl-demo)")
    assert (caption.path, caption.line, caption.flag) == (more, cell_line, f"{CAPTION} (cell tbl-demo)")
    greatly = find("greatly")
    assert (greatly.path, greatly.line, greatly.flag) == (more, line_of(more, "Support after discharge"), None)
    item = find("follow up")
    assert (item.path, item.line, item.flag) == (more, line_of(more, "A list item"), None)
    (comment,) = [i for i in review.items if i.kind == "comment"]
    assert (comment.path, comment.line, comment.before, comment.comment, comment.author) == (
        more, line_of(more, "Support after discharge"), "Support after discharge", "Which services? Name them.",
        "Co-author B")
    assert not review.older_sources


def test_apply_changes_only_the_prose(project, tmp_path):
    root, draft = project
    review = import_review(reviewed(draft, tmp_path / "reviewed.docx"), root, data_label="SYNTHETIC")
    applied = apply_edits(review)
    assert len(applied) == 3
    diff = subprocess.run(["git", "-C", str(root), "diff", "-U0", "--no-color"], capture_output=True, text=True,
                          check=True).stdout
    removed = [l[1:] for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    added = [l[1:] for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert removed == ["Support after discharge varied widely between services.",          # chapters/_more.qmd
                       "- A list item about follow-up.",
                       "Mothers who needed acute care often came into contact with children's social care."]  # index
    assert added == ["Support after discharge varied greatly widely between services.",
                     "- A list item about follow up.",
                     "Mothers who needed acute care frequently came into contact with children's social care."]


def test_the_report_groups_by_file_and_line_and_explains_flags(project, tmp_path):
    root, draft = project
    review = import_review(reviewed(draft, tmp_path / "reviewed.docx"), root, data_label="SYNTHETIC")
    md, html = write_report(review, root, tmp_path / "review")
    text = md.read_text()
    assert text.index("## chapters/_more.qmd") < text.index("## index.qmd")
    assert f"line {line_of(root / 'index.qmd', 'We studied')}" in text
    assert "this number comes from the data" in text and "Which services? Name them." in text
    assert "<html" in html.read_text() and "Which services? Name them." in html.read_text()


def test_a_draft_from_older_sources_says_which_paragraphs_changed(project, tmp_path):
    root, draft = project
    old_line = line_of(root / "chapters" / "_more.qmd", "Support after discharge")
    more = root / "chapters" / "_more.qmd"
    more.write_text("Intro line.\n\n" + more.read_text().replace("varied widely", "differed"))
    commit(root, "edit")
    review = import_review(reviewed(draft, tmp_path / "reviewed.docx"), root, data_label="SYNTHETIC")
    assert review.older_sources
    assert [p.original for p in review.changed_since] == ["Support after discharge varied widely between services."]
    greatly = next(i for i in review.items if i.kind == "change" and "greatly" in i.after)
    assert (greatly.flag, greatly.line) == (CHANGED, old_line)
    often = next(i for i in review.items if i.kind == "change" and "frequently" in i.after)
    assert often.flag is None


def test_a_draft_reviewed_in_libreoffice_is_read_the_same_way(tmp_path):
    """tests/fixtures/review/libreoffice-reviewed.docx: the Word-style review above, opened and saved by
    LibreOffice (headless), which rewrites comments and tracked changes in its own way."""
    root = write_project(tmp_path / "project")
    review = import_review(FIXTURES / "libreoffice-reviewed.docx", root, data_label=None)
    index, more = root / "index.qmd", root / "chapters" / "_more.qmd"
    changes = [i for i in review.items if i.kind == "change"]
    placed = {(i.path, i.line, i.flag) for i in changes}
    assert (index, line_of(index, "often came into contact"), None) in placed
    assert (index, line_of(index, "We studied"), COMPUTED) in placed
    assert (more, line_of(more, "Support after discharge"), None) in placed
    assert any(i.flag == f"{TABLE} (cell tbl-demo)" for i in changes)
    assert any(i.flag == f"{CAPTION} (cell tbl-demo)" for i in changes)
    (comment,) = [i for i in review.items if i.kind == "comment"]
    assert (comment.path, comment.line, comment.comment) == (more, line_of(more, "Support after discharge"),
                                                             "Which services? Name them.")
    assert apply_edits(review) and "frequently came" in index.read_text()


def test_bad_drafts_get_a_clear_message(project, tmp_path):
    root, draft = project
    not_word = tmp_path / "notes.docx"
    not_word.write_text("just text")
    with pytest.raises(DraftError, match="not a Word document"):
        read_draft(not_word)
    damaged = tmp_path / "damaged.docx"
    damaged.write_bytes(draft.read_bytes()[:2000])
    with pytest.raises(DraftError, match="damaged|not a Word document"):
        read_draft(damaged)
    with pytest.raises(DraftError, match="no such file"):
        read_draft(tmp_path / "missing.docx")
    plain = tmp_path / "plain.docx"
    docx.Document().save(str(plain))
    with pytest.raises(DraftError, match="not a draft of this manuscript"):
        import_review(plain, root)
    real = tmp_path / "real.docx"
    with zipfile.ZipFile(draft) as src, zipfile.ZipFile(real, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/custom.xml":
                data = data.replace(b"<vt:lpwstr>SYNTHETIC</vt:lpwstr>", b"<vt:lpwstr>REAL</vt:lpwstr>")
            dst.writestr(item, data)
    with pytest.raises(DraftError, match="REAL data"):
        import_review(real, root, data_label="SYNTHETIC")


def marks(path: Path) -> tuple[list[str], list[str]]:
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    deleted = ["".join(t.text or "" for t in d.iter(f"{W}delText")) for d in root.iter(f"{W}del")]
    inserted = ["".join(t.text or "" for t in i.iter(f"{W}t")) for i in root.iter(f"{W}ins")]
    return [d for d in deleted if d], [i for i in inserted if i]


def test_changes_between_two_drafts_are_exactly_the_tracked_changes(tmp_path):
    first = write_project(tmp_path / "a")
    before = render_docx(first)
    second = write_project(tmp_path / "b", wales=31, wording="greatly")
    after = render_docx(second)
    out = tmp_path / "changes.docx"
    n = compare(before, after, out)
    assert n == 2
    assert marks(out) == (["widely", "30"], ["greatly", "31"])
    text = [p.text for p in docx.Document(str(out)).paragraphs]
    assert "Support after discharge varied greatly between services." not in text   # deletion shown too
    assert compare(before, before, tmp_path / "same.docx") == 0
    assert marks(tmp_path / "same.docx") == ([], [])


def test_a_new_and_a_removed_paragraph_are_marked_whole(tmp_path):
    first = write_project(tmp_path / "a")
    before = render_docx(first)
    second = write_project(tmp_path / "b")
    more = second / "chapters" / "_more.qmd"
    more.write_text(more.read_text().replace("- A list item about follow-up.\n", "A new closing paragraph.\n"))
    after = render_docx(second)
    out = tmp_path / "changes.docx"
    compare(before, after, out)
    deleted, inserted = marks(out)
    assert "".join(deleted) == "A list item about follow-up." and "".join(inserted) == "A new closing paragraph."


def test_the_review_commands_report_and_fail_cleanly(tmp_path, capsys):
    from perinatal_csc.cli import main

    first = render_docx(write_project(tmp_path / "a"))
    second = render_docx(write_project(tmp_path / "b", wording="greatly"))
    out = tmp_path / "marked.docx"
    main(["review", "changes", str(first), "--current", str(second), "--out", str(out)])
    assert "1 changes marked" in capsys.readouterr().out and marks(out) == (["widely"], ["greatly"])
    bad = tmp_path / "bad.docx"
    bad.write_text("not a document")
    with pytest.raises(SystemExit) as exit_info:
        main(["review", "import", str(bad)])
    assert exit_info.value.code != 0
    assert "not a Word document" in capsys.readouterr().err


def test_a_draft_whose_commit_cannot_be_read_says_so(project, tmp_path):
    """When the draft's sources are older and its recorded commit is not in the repository, nothing can be
    marked as changed since: the review says why instead of reporting no changes."""
    import re

    root, draft = project
    more = root / "chapters" / "_more.qmd"
    more.write_text(more.read_text().replace("varied widely", "differed"))
    commit(root, "edit")
    with zipfile.ZipFile(draft) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts["docProps/custom.xml"] = re.sub(rb'(name="provenance-commit"><vt:lpwstr>)[^<]*', rb"\g<1>9.900509e7025",
                                          parts["docProps/custom.xml"])
    stale = tmp_path / "stale.docx"
    with zipfile.ZipFile(stale, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    review = import_review(reviewed(stale, tmp_path / "reviewed.docx"), root, data_label="SYNTHETIC")
    assert review.older_sources and review.changed_since == []
    assert "9.900509e7025 is not in this repository" in review.older_unread
    md, _ = write_report(review, root, tmp_path / "review")
    assert "could not be read" in md.read_text() and "paragraphs changed since are not flagged" in md.read_text()
