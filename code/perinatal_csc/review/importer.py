"""``perinatal-csc review import``: a co-author's Word draft back to the sources.

Every comment and tracked change is placed at its source file and line and classified: an edit to
prose can be applied to the ``.qmd`` source; an edit to a number the data computes, a table cell, a
generated caption or any other generated text is flagged and never applied ("change the analysis,
codebook or plan, not the text").
"""
from __future__ import annotations

import bisect
import html
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..render.provenance import sources_digest
from .draft import Draft, DraftError, Paragraph, read_draft
from .sources import Float, Match, Matcher, Unit, float_for_caption, floats, manuscript_units, normalise, units_at_commit

COMPUTED = "computed: this number comes from the data: change the analysis, codebook or plan, not the text"
TABLE = "table cell: tables are computed from the results: change the analysis, codebook or plan, not the table"
CAPTION = "caption: set by a cell's #| tbl-cap or #| fig-cap option or computed from the results; edit that by hand"
FRONT = "front matter (title, authors, date): edit index.qmd's YAML header by hand"
GENERATED = "generated text (from a code cell or the results): not in the sources; change the code or results"
CHANGED = "the sources changed here since this draft (line given as it was then): carry it over by hand"
PLACE = "could not be placed exactly in the source (it spans markup or generated text); carry it over by hand"
CAPTION_STYLES = {"TableCaption", "ImageCaption", "Caption", "FigureCaption"}
FRONT_STYLES = {"Title", "Subtitle", "Author", "Date", "Abstract", "AbstractTitle"}
MARKDOWN_SPECIAL = "\\`*_[]@<>#"


@dataclass
class Edit:
    path: Path
    start: int
    end: int
    text: str


@dataclass
class Item:
    """One comment or one tracked change, with where it belongs and what may be done with it."""

    kind: str                      # "comment" or "change"
    paragraph: Paragraph
    path: Path | None
    line: int | None
    before: str
    after: str
    author: str = ""
    date: str = ""
    comment: str = ""
    flag: str | None = None        # why it is not applied (None: an applicable prose edit)
    edit: Edit | None = None
    applied: bool = False


@dataclass
class Review:
    draft: Draft
    items: list[Item]
    older_sources: bool
    changed_since: list[Paragraph] = field(default_factory=list)
    older_unread: str = ""           # why the older sources could not be read (then nothing is marked changed)


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in MARKDOWN_SPECIAL else ch for ch in text)


def _norm_pos(where: list[int], raw: int) -> int:
    return bisect.bisect_left(where, raw)


def _placed(m: Match, file_text: str, na: int, nb: int, inserted: str) -> Edit | None:
    """The source edit for replacing normalised text [na, nb) by ``inserted``, or None."""
    offs = m.source_of
    if na < nb:
        span = offs[na:nb]
        if any(o < 0 for o in span):
            return None
        a, b = span[0], span[-1] + 1
        if normalise(file_text[a:b])[0] != normalise(m.text[na:nb])[0]:
            return None
        return Edit(m.unit.path, a, b, _escape(inserted))
    if na < len(offs) and offs[na] >= 0:
        pos = offs[na]
    elif na > 0 and offs[na - 1] >= 0:
        pos = offs[na - 1] + 1
    else:
        return None
    return Edit(m.unit.path, pos, pos, _escape(inserted))


def _line_at(m: Match, file_text: str, na: int) -> int:
    """The source line of the rendered character at ``na`` (or the nearest typed character before it)."""
    offs = m.source_of
    k = min(na, len(offs) - 1)
    while k > 0 and offs[k] < 0:
        k -= 1
    if offs[k] < 0:
        k = next((j for j in range(len(offs)) if offs[j] >= 0), 0)
    return file_text.count("\n", 0, max(offs[k], 0)) + 1


def _flag_for(p: Paragraph, m: Match | None) -> str | None:
    if p.in_table:
        return TABLE
    if p.style in CAPTION_STYLES:
        return CAPTION
    if p.style in FRONT_STYLES:
        return FRONT
    if m is None:
        return GENERATED
    return None


def _check_draft(draft: Draft, data_label: str | None) -> None:
    props = draft.properties
    if "provenance-commit" not in props and "provenance-sources" not in props:
        raise DraftError(f"{draft.path}: not a draft of this manuscript (its document properties carry no "
                         "perinatal-csc provenance; was it rendered by perinatal-csc render?)")
    if data_label and props.get("data-label") and props["data-label"] != data_label:
        raise DraftError(f"{draft.path}: a draft rendered from {props['data-label']} data, but this working tree "
                         f"is set to {data_label} data; review it where it was made (or switch data.source)")


def import_review(path: Path, root: Path, *, data_label: str | None = None) -> Review:
    """Read a reviewed draft and place each comment and tracked change in the sources."""
    root = Path(root).resolve()
    draft = read_draft(path)
    _check_draft(draft, data_label)
    matcher = Matcher(manuscript_units(root))
    older = draft.properties.get("provenance-sources", "") != sources_digest(root)
    commit = draft.properties.get("provenance-commit", "").split(" ")[0]
    then_units = units_at_commit(root, commit) if older and commit else []
    earlier = Matcher(then_units) if then_units else None
    unread = ("" if not older or then_units else
              "the draft records no commit" if not commit else
              f"the draft's commit {commit} is not in this repository, or holds none of today's source files")
    cells = floats(root)
    current_float: Float | None = None
    files: dict[Path, str] = {}
    items: list[Item] = []
    located: dict[int, tuple[Match | None, Unit | None]] = {}
    last: Unit | None = None
    changed_since = []
    for p in draft.paragraphs:
        if not p.original.strip() and not p.revised.strip():
            continue
        m = None if p.in_table else matcher.match(p.original)
        if m is not None:
            last = m.unit
        located[p.index] = (m, m.unit if m else last)
        flag = _flag_for(p, m)
        if p.style in CAPTION_STYLES:
            current_float = float_for_caption(cells, p.original)
        cell = current_float if flag in (TABLE, CAPTION) else None
        if cell is not None:
            flag = f"{flag} (cell {cell.label})"
        then = earlier.match(p.original) if flag == GENERATED and earlier is not None else None
        if then is not None:
            flag = CHANGED
            changed_since.append(p)
            located[p.index] = (None, then.unit)
        for a, b, deleted, inserted in p.changes():
            unit = then.unit if then else (m.unit if m else last)
            path, line = (cell.path, cell.line) if cell else (unit.path if unit else None, unit.line if unit else None)
            item = Item("change", p, path, line, p.original[a:b] if deleted else "", inserted, flag=flag)
            item.before, item.after = _context(p.original, a, b, deleted, inserted)
            pieces = [x for x in p.pieces if x.kind != "same"]
            if pieces:
                item.author, item.date = pieces[0].author, pieces[0].date
            if flag is None and m is not None:
                text, where = normalise(p.original)
                na, nb = _norm_pos(where, a), _norm_pos(where, b)
                src = files.setdefault(m.unit.path, m.unit.path.read_text(encoding="utf-8"))
                item.line = _line_at(m, src, na)
                if m.computed(na, nb):
                    item.flag = COMPUTED
                else:
                    item.edit = _placed(m, src, na, nb, inserted)
                    if item.edit is None:
                        item.flag = PLACE
            items.append(item)
    for c in draft.comments:
        m, unit = located.get(c.paragraph, (None, None)) if c.paragraph is not None else (None, None)
        p = draft.paragraphs[c.paragraph] if c.paragraph is not None else None
        line = unit.line if unit else None
        if m is not None:
            _, where = normalise(p.original)
            line = _line_at(m, files.setdefault(m.unit.path, m.unit.path.read_text(encoding="utf-8")),
                            _norm_pos(where, c.start))
        items.append(Item("comment", p, unit.path if unit else None, line,
                          c.anchored, "", author=c.author, date=c.date, comment=c.text,
                          flag=(CHANGED if p in changed_since else _flag_for(p, m)) if p is not None else GENERATED))
    return Review(draft, items, older, changed_since, unread)


def _context(text: str, a: int, b: int, deleted: str, inserted: str, width: int = 40) -> tuple[str, str]:
    left = text[max(0, a - width):a]
    right = text[b:b + width]
    return f"…{left}{deleted}{right}…", f"…{left}{inserted}{right}…"


def apply_edits(review: Review) -> list[Item]:
    """Write every applicable prose edit into its source file; return the items applied."""
    by_file: dict[Path, list[Item]] = defaultdict(list)
    for item in review.items:
        if item.kind == "change" and item.flag is None and item.edit is not None:
            by_file[item.edit.path].append(item)
    applied = []
    for path, items in by_file.items():
        text = path.read_text(encoding="utf-8")
        last_start = len(text) + 1
        for item in sorted(items, key=lambda i: (i.edit.start, i.edit.end), reverse=True):
            e = item.edit
            if e.end > last_start:
                item.flag = PLACE
                continue
            text = text[:e.start] + e.text + text[e.end:]
            last_start = e.start
            item.applied = True
            applied.append(item)
        path.write_text(text, encoding="utf-8")
    return applied


def report_markdown(review: Review, root: Path) -> str:
    """The review report: comments and changes grouped by source file and line, before -> after."""
    root = Path(root).resolve()
    props = review.draft.properties
    lines = [f"# Review of {review.draft.path.name}", "",
             f"- Draft rendered {props.get('provenance-rendered', '?')} from commit "
             f"{props.get('provenance-commit', '?')}, {props.get('data-label', '?')} data.",
             f"- {sum(i.kind == 'comment' for i in review.items)} comments, "
             f"{sum(i.kind == 'change' for i in review.items)} tracked changes; "
             f"{sum(i.kind == 'change' and i.flag is None for i in review.items)} changes to prose can be applied "
             f"(`perinatal-csc review import {review.draft.path.name} --apply`), "
             f"{sum(i.kind == 'change' and i.flag is not None for i in review.items)} are flagged."]
    if review.older_sources and review.older_unread:
        lines.append("- **The draft was made from older sources than the working tree, and they could not be read** "
                     f"({review.older_unread}): paragraphs changed since are not flagged; check each change against "
                     "the sources before applying it.")
    elif review.older_sources:
        lines.append("- **The draft was made from older sources than the working tree** (commit "
                     f"{props.get('provenance-commit', '?')}): {len(review.changed_since)} of its paragraphs have "
                     "changed since; changes and comments on them are flagged, with their line as it was then.")
    lines.append("")
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in review.items:
        key = str(item.path.relative_to(root)) if item.path else "(not placed)"
        groups[key].append(item)
    for key in sorted(groups):
        lines += [f"## {key}", ""]
        for item in sorted(groups[key], key=lambda i: (i.line or 0, i.kind)):
            where = f"line {item.line}" if item.line else "unplaced"
            who = f" ({item.author}, {item.date})" if item.author else ""
            if item.kind == "comment":
                lines.append(f"- **Comment**, {where}{who}: {item.comment}")
                lines.append(f"  - on: “{item.before}”")
            else:
                status = ("applied" if item.applied else "can be applied") if item.flag is None else f"FLAGGED: {item.flag}"
                lines.append(f"- **Change**, {where}{who} [{status}]")
                lines.append(f"  - before: “{item.before}”")
                lines.append(f"  - after: “{item.after}”")
        lines.append("")
    return "\n".join(lines)


def write_report(review: Review, root: Path, out_dir: Path) -> list[Path]:
    """``review.md`` and a standalone ``review.html`` in ``out_dir``."""
    import pypandoc

    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "review.md"
    md.write_text(report_markdown(review, root), encoding="utf-8")
    out = out_dir / "review.html"
    subprocess.run([pypandoc.get_pandoc_path(), str(md), "--from", "markdown", "--to", "html5", "--standalone",
                    "--metadata", f"title={html.escape('Review of ' + review.draft.path.name)}",
                    "--output", str(out)], check=True, capture_output=True)
    return [md, out]
