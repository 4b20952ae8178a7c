"""The whole manuscript, rendered once through the built-in path and read back in all three formats.

Tables are found generically: every "Table N: ..." caption maps to its label (HTML ids), the label
to a RELEASED results CSV (after disclosure control; docs/ARCHITECTURE.md, Rendering), and each Word
row is checked against the CSV rows it names: a suppressed value must be shown as the marker. The read-back itself is tested on hand-made Word tables first (not slow).
"""
from __future__ import annotations

import hashlib
import json
import html as htmllib
import re
import subprocess
from pathlib import Path

import docx
import numpy as np
import pandas as pd
import pypdf
import pytest
from docx.oxml import OxmlElement

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.disclose.policy import MARKER
from perinatal_csc.present.appendix import CODEBOOK_COLUMNS, codebook_frame
from readback import COMMENT, NUMBER, literal_numbers, prose_of, prose_problems, section_html

slow = pytest.mark.slow
SYNTHETIC = "SYNTHETIC data: illustrative only, not study findings."
BAD_TEXT = ("Traceback (most recent call last)", "UserWarning", "FutureWarning", "RuntimeWarning",
            "DeprecationWarning", "SettingWithCopyWarning", "ConvergenceWarning", "Error:", "??")


def norm(s: str) -> str:
    return " ".join(s.replace("\u2212", "-").replace("\u00a0", " ").replace("\u2009", " ").split())


def squash(s: str) -> str:
    return re.sub(r"\s+", "", norm(s))


@pytest.fixture(scope="module")
def rendered(default_render):
    """Both documents of the project (rendered once per test session), each read back in its three formats."""
    cfg, paths, results = default_render["config"], default_render["paths"], default_render["release"]
    docs = {}
    for stem in ("index", "supplement"):
        by_fmt = {p.suffix[1:]: p for p in paths if p.stem == stem}
        html = by_fmt["html"].read_text(encoding="utf-8")
        pdf = "\n".join(p.extract_text() for p in pypdf.PdfReader(by_fmt["pdf"]).pages)
        docs[stem] = {"config": cfg, "paths": by_fmt, "html": html, "html_text": html_text(html), "pdf": norm(pdf),
                      "docx": docx.Document(str(by_fmt["docx"])), "csv": {p.stem: p for p in results},
                      "prefix": "Table" if stem == "index" else "Supplementary Table"}
    return docs


@pytest.fixture(scope="module")
def manuscript(rendered):
    return rendered["index"]


@pytest.fixture(scope="module")
def supplement(rendered):
    return rendered["supplement"]


@pytest.fixture(scope="module", params=["index", "supplement"])
def document(request, rendered):
    return rendered[request.param]


def html_text(html: str) -> str:
    body = re.sub(r"<style.*?</style>|<script.*?</script>", " ", html, flags=re.S)
    return norm(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def walk_tables(tables):
    """Every table, including tables nested in cells (Quarto nests captioned tables in Word)."""
    for t in tables:
        yield t
        for row in t.rows:
            for cell in row.cells:
                yield from walk_tables(cell.tables)


def docx_tables(d, prefix: str = "Table") -> list[tuple[str, object]]:
    """(caption, table) for each captioned Word table, in document order."""
    body = d.element.body
    out, caption = [], None
    tables = {t._tbl: t for t in walk_tables(d.tables)}
    for el in body.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p" and el.getparent() is body:
            text = "".join(x.text or "" for x in el.iter() if x.tag.endswith("}t"))
            if re.match(rf"{prefix} \d+: ", text):
                caption = text
        elif tag == "tbl" and el in tables and caption:
            out.append((caption, tables[el]))
            caption = None
    return out


def rows_of(table) -> list[list[str]]:
    return [[norm(c.text) for c in r.cells] for r in table.rows]


def is_header(row) -> bool:
    return row._tr.trPr is not None and any(x.tag.endswith("tblHeader") for x in row._tr.trPr)


def body_rows(table) -> list[list[str]]:
    """Rows that are neither header rows nor full-width rows (group headings, source notes)."""
    out = []
    for r in table.rows:
        cells = [norm(c.text) for c in r.cells]
        if is_header(r) or len(set(cells)) == 1:
            continue
        out.append(cells)
    return out


def label_of(html: str, number: int, prefix: str = "Table") -> str:
    m = re.search(rf'<div id="(tbl-[^"]+)" class="table-float">\s*<div class="table-caption">\s*<p>{prefix} {number}:', html)
    assert m, f"Table {number} has no labelled float in the HTML"
    return m.group(1)


def csv_for(label: str, csvs: dict[str, Path]) -> tuple[Path, str] | None:
    """tbl-<csv name, - for _, without a leading tableN_>[-<subset>]: the longest CSV name that fits, and the subset."""
    key = label.removeprefix("tbl-").removeprefix("s-").replace("-", "_")
    hits = [(stem, name) for name in csvs for stem in (name, re.sub(r"^table\d+_", "", name))
            if key == stem or key.startswith(stem + "_")]
    if not hits:
        return None
    stem, name = max(hits, key=lambda h: len(h[1]))
    return csvs[name], key[len(stem) + 1:]


# -- row-aware read-back of a Word table against its tidy results CSV -------------------------
#
# Each Word body row is keyed to CSV rows by text: its stub (first cell) must name CSV rows (a stage,
# title, reason, label, level or group label); an indented row is also keyed by the heading row
# above it, and a full-width row (section or group heading) keys the rows below it when it names CSV
# rows. Each column header keys the cells below it when it names a comparison, group, analysis,
# model type or level ("N = k" keys group_n), and restricts them to one statistic when it names one
# ("p", "SMD", "OR", "95% CI", or a CSV column's own name). CSV rows that a more specific Word row
# shows (a "Not known" line) are not also candidates for the broader row above it, and an indented
# row does not show a term's global value (columns named *global*).
# Every number printed in a cell must then be a value of those CSV rows, formatted with the
# documented rounding (n whole; percentages, means, SDs, medians, quartiles and EPV to 1 decimal;
# SMD, ORs, CIs, C-statistics to 2; p to 3, "<0.001" below), and the numbers under one column key
# of a Word row must come from a single CSV row; where that key still leaves several CSV rows, the
# value must be the same in all of them (a heading row shows the variable's p, not a level's).
# Remaining gaps: a key is dropped when it names no CSV row of the Word row, so rows whose keys
# leave the same CSV rows as another Word row (the exclusion table's reasons under model headings,
# which the CSV stores as model ids) and tables whose stubs name nothing in the CSV (model
# diagnostics) are only checked cell by cell against any of those rows; a number moved into a
# text-only column whose header names no statistic is not caught, nor a variable's p or SMD moved
# onto one of its own level rows (it is the same in all of them); medians and quartiles may be shown
# without decimals whenever they are whole, not only when all those of the variable are; numeric
# columns without a documented rule are accepted at the printed precision.

ROW_KEYS = ("stage_label", "title", "reason", "short_label", "label", "level_label", "group_label", "comparison_label", "analysis")
COLUMN_KEYS = ("comparison_label", "group_label", "analysis", "type", "level_label")
ID_COLUMNS = ("variable", "term", "model", "level", "group", "stage", "parent", "step", "section")
COUNT_COLUMNS = {"n", "excluded", "remaining", "events", "non_events", "n_pairs", "group_n", "denominator",
                 "parent_n", "n_missing", "n_not_applicable", "hl_df", "parameters"}
DECIMALS = {"percent": (1,), "mean": (1,), "sd": (1,), "median": (1, 0), "q1": (1, 0), "q3": (1, 0), "epv": (1,),
            "smd": (2,), "or": (2,), "ci_low": (2,), "ci_high": (2,), "c_statistic": (2,), "c_ci_low": (2,),
            "c_ci_high": (2,), "hl_chi2": (2,), "max_gvif": (2,)}
STAT_HEADERS = {"smd": ("smd",), "or": ("or",), "95% ci": ("ci_low", "ci_high")}
N_ROW = re.compile(r"^Followed up .+, N$")      # the N of a follow-up population: group_n - n_not_applicable
TOKEN_RE = re.compile(r"([<>≤≥])\s*(\d+(?:\.\d+)?)|(?<![\w.])(-?\d+(?:\.\d+)?)")
INDENTED = re.compile(r"^[\s\u2003\u00a0]")


def is_p_column(name: str) -> bool:
    return name in ("p", "q") or name.startswith("p_") or name.endswith("_p")


def stat_columns(header: str, numeric: list[str]) -> list[str] | None:
    """The CSV columns a column header such as "p", "SMD", "OR" or "95% CI" shows (None when it names none)."""
    h = header.casefold()
    if h in ("p", "q"):
        return [c for c in numeric if is_p_column(c)]
    if h in STAT_HEADERS:
        return [c for c in STAT_HEADERS[h] if c in numeric]
    name = re.sub(r"\W+", "_", h).strip("_")
    return [name] if name in numeric else None


def tokens(cell: str) -> list[str]:
    """Numbers printed in a cell; thresholds as "<0.001"."""
    return [f"{op}{x}" if op else plain for op, x, plain in TOKEN_RE.findall(norm(cell))]


def shows(token: str, column: str, value: float) -> bool:
    """``token`` is how the manuscript prints ``value`` of ``column`` (documented rounding rules)."""
    if is_p_column(column):
        return token == ("<0.001" if value < 0.001 else ">0.99" if value > 0.99 else f"{value:.3f}")
    if token[0] in "<>≤≥":
        return False
    if column in COUNT_COLUMNS:
        return float(value).is_integer() and token == str(int(value))
    if column in DECIMALS:
        return any(token == f"{value:.{d}f}" for d in DECIMALS[column] if d or float(value).is_integer())
    dec = len(token.split(".")[1]) if "." in token else 0
    return token == f"{value:.{dec}f}"


def numeric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV's numeric columns as floats (a reference level's odds ratio is 1 by definition)."""
    out = {}
    for c in frame.columns:
        vals = pd.to_numeric(frame[c].replace({"": np.nan, MARKER: np.nan}), errors="coerce")
        if c not in ID_COLUMNS and vals.notna().any() and vals.notna().sum() == (~frame[c].isin(["", MARKER])).sum():
            out[c] = vals
    num = pd.DataFrame(out, index=frame.index)
    if "reference" in frame and "or" in num:
        num.loc[(frame["reference"] == "True") & num["or"].isna(), "or"] = 1.0
    return num


def _words_in(inner: str, outer: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(inner)}(?!\w)", outer) is not None


def key_mask(text: str | None, frame: pd.DataFrame, columns, *, contained: bool = False,
             containing: bool = False) -> pd.Series | None:
    """CSV rows that ``text`` names: equal to a value, else starting with it (then ", n (%)", " (years)",
    ": level"...), else (``contained``) inside a value as words, else (``containing``) holding a value as
    words; the first column in ``columns`` that fits, its longest fitting value."""
    if not text:
        return None
    t = text.casefold()
    cols = [c for c in columns if c in frame]
    tests = [lambda v: v == t, lambda v: len(t) > len(v) and t.startswith(v) and not t[len(v)].isalnum()]
    if contained:
        tests.append(lambda v: _words_in(t, v))
    if containing:
        tests.append(lambda v: _words_in(v, t))
    for test in tests:
        for c in cols:
            vals = frame[c].str.casefold()
            hits = {v for v in set(vals) if v and test(v)}
            if hits:
                return vals == max(hits, key=len)
    return None


def _explained(toks: list[tuple[str, list[str]]], rows: pd.Index, num: pd.DataFrame, same: bool) -> bool:
    """Every token is a value of one CSV row in ``rows`` (``same``: a value equal in all of them)."""
    if same:
        def constant(tok: str, c: str) -> bool:
            vals = num.loc[rows, c].dropna().unique()
            return len(vals) == 1 and shows(tok, c, vals[0])
        return all(any(constant(tok, c) for c in cols if c in num) for tok, cols in toks)
    return any(all(any(c in num and pd.notna(num.at[i, c]) and shows(tok, c, num.at[i, c]) for c in cols)
                   for tok, cols in toks) for i in rows)


def table_problems(table, frame: pd.DataFrame, subset: str = "") -> list[str]:
    """Body cells of a Word table whose numbers are not those of the CSV rows they are keyed to."""
    text_cols = [c for c in frame.columns if c not in numeric_frame(frame)]
    for c in text_cols if subset else ():
        if (frame[c] == subset).any():
            frame = frame[frame[c] == subset]
            break
    num = numeric_frame(frame)
    numeric = list(num.columns)
    context_cols = list(ROW_KEYS) + [c for c in text_cols if c not in ROW_KEYS]
    header_rows = [[norm(c.text) for c in r.cells] for r in table.rows if is_header(r)]
    col_keys: dict[int, list[tuple[str, pd.Series]]] = {}
    col_stats: dict[int, list[str] | None] = {}
    for j in range(1, max(len(r.cells) for r in table.rows)):
        texts = list(dict.fromkeys(h[j] for h in header_rows if j < len(h)))
        # a header names its column's value, holds it ("N = 99" beside it), or is its short form (the
        # words a long label starts with, the full wording in the notes)
        keys = [(t, key_mask(t, frame, COLUMN_KEYS, containing=True)
                 if key_mask(t, frame, COLUMN_KEYS, containing=True) is not None
                 else key_mask(t, frame, COLUMN_KEYS, contained=True)) for t in texts]
        for t in texts:
            if (m := re.search(r"\bN = (\d+)", t)) and "group_n" in num:
                keys.append((f"N = {m.group(1)}", num["group_n"] == int(m.group(1))))
        col_keys[j] = [(t, m) for t, m in keys if m is not None]
        col_stats[j] = stat_columns(texts[-1], numeric) if texts else None
    lines = []                                       # (stub, cells, candidate rows, keyed by the stub)
    n_lines = []                                     # (stub, cells, section) of "Followed up ..., N" rows
    section = parent = None
    for r in table.rows:
        if is_header(r):
            continue
        raw = [c.text for c in r.cells]
        cells = [norm(c) for c in raw]
        if len(set(cells)) == 1:
            section, parent = cells[0], None
            continue
        stub, indented = cells[0], bool(INDENTED.match(raw[0]))
        if N_ROW.match(stub):
            n_lines.append((stub, cells, section))
            continue
        rows = pd.Series(True, index=frame.index)
        stub_mask = key_mask(stub, frame, ROW_KEYS, contained=True)
        if stub_mask is not None:
            rows &= stub_mask
        for ctx in (section, parent if indented else None):
            m = key_mask(ctx, frame, context_cols, contained=True)
            if m is not None and (rows & m).any():
                rows &= m
        if not indented:
            parent = stub
        lines.append((stub, cells, rows, stub_mask is not None, indented))
    group_keys = {j: [m for t, m in keys if t.startswith("N = ") or key_mask(t, frame, ("comparison_label", "group_label"),
                                                                              containing=True) is not None]
                  for j, keys in col_keys.items()}
    problems = n_row_problems(n_lines, frame, num, group_keys, context_cols)
    keyed = [line[0] for line in lines if line[3]]
    if keyed and len(keyed) < len(lines):
        problems.append(f"rows whose stub names no CSV row: {[line[0] for line in lines if not line[3]]}")
    masks = [line[2] for line in lines]
    for stub, cells, rows, _, indented in lines:
        narrower = [m for m in masks if m.sum() < rows.sum() and not (m & ~rows).any()]
        if narrower:
            rest = rows & ~pd.concat(narrower, axis=1).any(axis=1)
            rows = rest if rest.any() else rows
        shared = sum(m.equals(rows) for m in masks) > 1
        buckets: dict[tuple, tuple[pd.Series, list]] = {}
        for j in range(1, len(cells)):
            cand, applied = rows, []
            for t, m in col_keys.get(j, []):
                if (cand & m).any():
                    cand, applied = cand & m, applied + [t]
            bucket = buckets.setdefault(tuple(applied), (cand, []))
            cols = [c for c in col_stats.get(j) or numeric if not (indented and "global" in c)]
            bucket[1].extend((tok, cols, cells[j]) for tok in tokens(cells[j]))
            if MARKER in cells[j] and not (frame.loc[cand, cols] == MARKER).any().any():
                problems.append(f"row {stub!r}, column {j}: {cells[j]!r} shows the disclosure marker but none of the "
                                f"{int(cand.sum())} CSV rows it is keyed to has a suppressed value")
        for sig, (cand, toks) in buckets.items():
            if toks and not _explained([(t, c) for t, c, _ in toks], frame.index[cand], num,
                                       same=bool(keyed) and not shared):
                shown = "; ".join(dict.fromkeys(cell for _, _, cell in toks))
                problems.append(f"row {stub!r}, columns keyed by {list(sig) or 'nothing'}: {shown!r} is not "
                                f"shown as the CSV values of the {int(cand.sum())} rows it is keyed to")
    return problems


def n_row_problems(n_lines, frame: pd.DataFrame, num: pd.DataFrame, group_keys, context_cols) -> list[str]:
    """Each "Followed up ..., N" row shows, under each group's column (``group_keys``: the column's masks that
    name a comparison, a group or its N), group_n - n_not_applicable of a CSV row of that group (in the row's
    section) that has dyads not followed up; the marker where either count is suppressed."""
    problems = []
    for stub, cells, sect in n_lines:
        if not {"group_n", "n_not_applicable"} <= set(frame.columns):
            problems.append(f"row {stub!r}: the CSV has no group_n and n_not_applicable")
            continue
        base = pd.Series(True, index=frame.index)
        m = key_mask(sect, frame, context_cols, contained=True)
        if m is not None and (base & m).any():
            base &= m
        for j in range(1, len(cells)):
            cand, applied = base, False
            for m in group_keys.get(j, []):
                if (cand & m).any():
                    cand, applied = cand & m, True
            if not cells[j]:
                continue
            if not applied:
                problems.append(f"row {stub!r}, column {j}: {cells[j]!r} is under no group's column")
            elif cells[j] == MARKER:
                if not (frame.loc[cand, ["group_n", "n_not_applicable"]] == MARKER).any().any():
                    problems.append(f"row {stub!r}, column {j}: the marker, but no dyads not followed up are suppressed")
            else:
                ok = {str(int(g - a)) for g, a in zip(num.loc[cand, "group_n"], num.loc[cand, "n_not_applicable"])
                      if pd.notna(g) and pd.notna(a) and a > 0}
                if tokens(cells[j]) != [t for t in tokens(cells[j]) if t in ok] or not tokens(cells[j]):
                    problems.append(f"row {stub!r}, column {j}: {cells[j]!r} is not a group's N followed up {sorted(ok)}")
    return problems


# -- the tests --------------------------------------------------------------------------------

@slow
def test_all_three_formats_were_written(document):
    assert set(document["paths"]) == {"html", "docx", "pdf"}
    assert all(p.parent == document["config"].output_dir for p in document["paths"].values())


@slow
def test_word_has_the_codebook_as_a_real_table_equal_to_the_codebook(supplement):
    tables = {cap: t for cap, t in docx_tables(supplement["docx"], "Supplementary Table")}
    cap = next(c for c in tables if "Codebook" in c)
    rows = rows_of(tables[cap])
    frame = codebook_frame(load_codebook(supplement["config"].codebook_path)).astype(str)
    assert rows[0] == list(CODEBOOK_COLUMNS.values())
    expected = [[norm(v) for v in r] for r in frame.to_numpy().tolist()]
    assert body_rows(tables[cap]) == expected


NOT_FROM_ONE_CSV = {"tbl-s-codebook", "tbl-s-synthetic", "tbl-s-missing", "tbl-s-strobe"}   # metadata, or several tables


@slow
def test_every_word_table_is_captioned_numbered_and_backed_by_results(document):
    tables = docx_tables(document["docx"], document["prefix"])
    numbers = [int(re.match(rf"{document['prefix']} (\d+)", c).group(1)) for c, _ in tables]
    assert numbers == list(range(1, len(numbers) + 1))
    floats = re.findall(r'<div id="tbl-[^"]+" class="table-float">', document["html"])
    assert len(floats) == len(tables)
    checked, problems, skipped = 0, [], 0
    for (cap, table), n in zip(tables, numbers):
        label = label_of(document["html"], n, document["prefix"])
        if label in NOT_FROM_ONE_CSV:
            skipped += 1
            continue
        found = csv_for(label, document["csv"])
        assert found is not None, f"{label} ({cap}) maps to no results CSV in {sorted(document['csv'])}"
        path, subset = found
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        problems += [f"{label} ({path.name}): {p}" for p in table_problems(table, frame, subset)]
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked == len(tables) - skipped and checked >= 4


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def next_paragraph(element):
    """The first Word paragraph after a table's or paragraph's XML element."""
    el = element.getnext()
    while el is not None and el.tag != f"{W}p":
        el = el.getnext()
    return el


def section_of(element):
    """The Word section properties that govern ``element``: the next section break after it."""
    el = element.getnext()
    while el is not None:
        found = el.find(f"{W}pPr/{W}sectPr") if el.tag == f"{W}p" else (el if el.tag == f"{W}sectPr" else None)
        if found is not None:
            return found
        el = el.getnext()
    return element.getparent().find(f"{W}sectPr")


def section_text_width(sect) -> tuple[int, bool]:
    """Text width in twips and whether the section is landscape."""
    size, margin = sect.find(f"{W}pgSz"), sect.find(f"{W}pgMar")
    width = int(size.get(f"{W}w")) - int(margin.get(f"{W}left")) - int(margin.get(f"{W}right"))
    return width, int(size.get(f"{W}w")) > int(size.get(f"{W}h"))


@slow
def test_every_word_table_spans_the_text_width_repeats_its_header_and_has_notes_below(document):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.text.paragraph import Paragraph
    d = document["docx"]
    tables = docx_tables(d, document["prefix"])
    noted = 0
    for cap, table in tables:
        grid = [int(g.get(f"{W}w")) for g in table._tbl.iter(f"{W}gridCol")]
        text_width, landscape = section_text_width(section_of(table._tbl))
        assert landscape == (len(grid) >= 8), cap
        assert abs(sum(grid) - text_width) <= 0.01 * text_width, cap
        assert is_header(table.rows[0]), cap
        first_body = next(r for r in table.rows if not is_header(r))
        assert first_body.cells[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT, cap
        assert not any(norm(SYNTHETIC) in norm(c.text) for r in table.rows for c in r.cells), cap
        note = Paragraph(next_paragraph(table._tbl), d)
        assert note.style.name == "Table Note", cap
        while note.style.name == "Table Note":
            noted += norm(note.text) == SYNTHETIC
            note = Paragraph(next_paragraph(note._p), d)
    assert noted >= len(tables) - 3             # all but the codebook, the synthetic parameters and the STROBE checklist


@slow
def test_stub_column_of_the_characteristics_table_is_the_widest(manuscript):
    tables = docx_tables(manuscript["docx"])
    n = next(i for i in range(1, len(tables) + 1) if label_of(manuscript["html"], i) == "tbl-sociodemographic")
    _, table = tables[n - 1]
    grid = [int(g.get(f"{W}w")) for g in table._tbl.iter(f"{W}gridCol")]
    assert grid[0] == max(grid) and grid[0] > 0.25 * sum(grid)


@slow
def test_every_word_table_cell_appears_in_html_and_pdf(document):
    html = squash(document["html_text"])
    pdf = squash(document["pdf"])
    for cap, table in docx_tables(document["docx"], document["prefix"]):
        assert squash(cap) in html and squash(cap) in pdf, cap
        for row in rows_of(table):
            for cell in row:
                assert squash(cell) in html, f"{cap}: {cell!r} missing from the HTML"
                assert squash(cell) in pdf, f"{cap}: {cell!r} missing from the PDF"


@slow
def test_every_figure_is_present_and_numbered(manuscript):
    html = manuscript["html"]
    figure_ids = re.findall(r'<figure id="(fig-[^"]+)"', html)
    assert figure_ids, "the manuscript has no figure"
    k = len(figure_ids)
    assert len(re.findall(r'<figure id="fig-[^"]+">\s*<img[^>]+src="data:image/png;base64', html)) == k
    word_caps = [p.text for p in manuscript["docx"].paragraphs if re.match(r"Figure \d+: ", p.text)]
    assert [int(re.match(r"Figure (\d+)", c).group(1)) for c in word_caps] == list(range(1, k + 1))
    assert len(manuscript["docx"].inline_shapes) >= k
    for i in range(1, k + 1):
        assert f"Figure {i}:" in manuscript["pdf"] and f"Figure {i}:" in manuscript["html_text"]
    images = sum(len(p.images) for p in pypdf.PdfReader(manuscript["paths"]["pdf"]).pages)
    assert images >= k


@slow
def test_references_became_table_and_figure_numbers(manuscript):
    word = norm("\n".join(p.text for p in manuscript["docx"].paragraphs))
    for text in (manuscript["html_text"], manuscript["pdf"], word):
        assert not re.search(r"@(tbl|fig|sec)-", text)
        assert "??" not in text
    for target, shown in re.findall(r'<a href="#((?:tbl|fig)-[^"]+)"[^>]*>([^<]+)</a>', manuscript["html"]):
        shown = norm(shown)
        kind = "Table" if target.startswith("tbl-") else "Figure"
        assert re.fullmatch(rf"{kind} \d+", shown), (target, shown)
        n = int(shown.split()[1])
        if kind == "Table":
            assert label_of(manuscript["html"], n) == target


@slow
def test_numbers_in_text_agree_across_formats(manuscript):
    word = norm("\n".join(p.text for p in manuscript["docx"].paragraphs))
    m = re.search(r"CSC was involved during the acute episode for (\d+ \(\d+\.\d%\)) dyads", word)
    assert m
    for text in (manuscript["html_text"], manuscript["pdf"]):
        assert m.group(1) in text


@slow
def test_each_count_has_one_definition_in_the_release_and_the_documents(manuscript):
    """The abstract's counts are the flow's and the sub-group table's: the dyads analysed and with CSC
    involvement are the flow's, the dyads followed up at one year too, and the infants not in the mother's
    care (or with a Child Protection Plan) at one year are Table 9's sub-groups, in the release and in the
    rendered abstract and Table 9 header, and Table 4's note sets them beside its looked-after column; the
    sites the abstract names are the Methods' sites."""
    read = {k: pd.read_csv(manuscript["csv"][k], dtype=str, keep_default_na=False) for k in ("headline", "flow", "table5_subgroups")}
    head = read["headline"].set_index("measure")["n"]
    flow = read["flow"].set_index(["stage", "group"])["n"]
    sub = read["table5_subgroups"]
    sub_n = {c: sub[(sub["comparison"] == c) & (sub["group"] == "1")]["group_n"].iloc[0] for c in ("infant_not_in_care_1y", "cpp_1y")}
    assert head["dyads"] == flow["analysed_episode", "overall"]
    assert head["csc_index"] == flow["analysed_episode", "1"]
    assert head["followed_1y"] == flow["followed_up_1y", "overall"]
    assert head["not_in_care_1y"] == sub_n["infant_not_in_care_1y"] and head["cpp_1y"] == sub_n["cpp_1y"]
    abstract = norm(re.sub(r"<[^>]+>", " ", section_html(manuscript["html"], "sec-abstract", "sec-strengths")))
    assert f"{head['not_in_care_1y']} (" in abstract and f"{head['cpp_1y']} (" in abstract
    sites = f"{head['sites']} of the {den} " if (den := read["headline"].set_index("measure").at["sites", "denominator"]) else f"{head['sites']} "
    assert f"Setting. {sites}NHS organisations" in abstract
    assert f"recruited from {sites}NHS organisations" in manuscript["html_text"]
    assert f"Yes, N = {sub_n['infant_not_in_care_1y']}" in manuscript["html_text"]
    assert f"Yes, N = {sub_n['cpp_1y']}" in manuscript["html_text"]
    t4 = pd.read_csv(manuscript["csv"]["table4_transitions"], dtype=str, keep_default_na=False)
    placed = t4[t4["row_type"] == "total"].iloc[-1]
    assert placed["group"] == "looked_after"
    assert (f"(column total {placed['n']}) counts only placements made by CSC" in manuscript["html_text"]
            and f"by a family arrangement: {head['not_in_care_1y']} of the {head['followed_1y']} dyads followed up"
            in manuscript["html_text"]), "Table 4 does not reconcile its looked-after column with the abstract"


@slow
def test_every_output_is_labelled_synthetic_and_the_supplement_states_provenance(manuscript, supplement):
    for doc in (manuscript, supplement):
        word = norm("\n".join(p.text for p in doc["docx"].paragraphs))
        for text in (doc["html_text"], doc["pdf"], word):
            assert "SYNTHETIC data: illustrative only, not study findings." in text
    cfg = supplement["config"]
    digest = hashlib.sha256(cfg.data_path.read_bytes()).hexdigest()
    word = norm("\n".join(p.text for p in supplement["docx"].paragraphs))
    commits = set()
    for text in (supplement["html_text"], supplement["pdf"], word):
        assert "SYNTHETIC data: illustrative only, not study findings." in text
        assert squash(digest) in squash(text)
        assert "perinatal-csc 0.1.0" in text
        commits.add(re.search(r"git commit ([0-9a-f]{12})( \(modified\))?", text).group(1))
    assert len(commits) == 1
    known = subprocess.run(["git", "-C", str(cfg.root), "cat-file", "-e", f"{commits.pop()}^{{commit}}"])
    assert known.returncode == 0
    assert "built-in renderer" in supplement["html_text"]


@slow
def test_no_traceback_or_warning_text(document):
    word = "\n".join(p.text for p in document["docx"].paragraphs)
    for text in (document["html_text"], document["pdf"], word):
        for bad in BAD_TEXT:
            assert bad not in text, bad


# -- the read-back on hand-made tables: it passes a true table and fails when a number moves ----

def word_table(rows: list[list[str]], header_rows: int = 1):
    """A python-docx table of ``rows``, the first ``header_rows`` marked as repeating header rows."""
    table = docx.Document().add_table(rows=len(rows), cols=len(rows[0]))
    for row, values in zip(table.rows, rows):
        for cell, value in zip(row.cells, values):
            cell.text = value
    for row in table.rows[:header_rows]:
        row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    return table


def tidy(records: list[dict]) -> pd.DataFrame:
    """A results CSV as the manuscript test reads it: every field text, missing as ""."""
    return pd.DataFrame(records).astype(object).where(lambda f: f.notna(), "").astype(str)


def descriptive_csv() -> pd.DataFrame:
    groups = [("1", "With CSC involvement", 99), ("0", "Without CSC involvement", 179)]
    records = []
    for variable, label, p, smd, levels in [
            ("nation", "Nation", 0.49677, 0.08655, [("england", "England", "level", (90, 90.90909), (158, 88.26816)),
                                                    ("wales", "Wales", "level", (9, 9.09091), (21, 11.73184)),
                                                    ("not_known", "Not known", "not_known", (4, None), (7, None))]),
            ("previous", "Previous admission", 0.00031, 0.551, [("1", "Yes", "level", (51, 53.68421), (49, 27.68362)),
                                                                ("not_known", "Not known", "not_known", (4, None), (2, None))])]:
        for level, level_label, row_type, *counts in levels:
            for (group, group_label, group_n), (n, pct) in zip(groups, counts):
                records.append({"variable": variable, "label": label, "summary": "n_pct", "row_type": row_type,
                                "level": level, "level_label": level_label, "group": group, "group_label": group_label,
                                "group_n": group_n, "n": n, "percent": pct, "p": p, "smd": smd})
    for (group, group_label, group_n), (mean, sd) in zip(groups, [(29.41, 5.68), (31.62, 5.93)]):
        records.append({"variable": "age", "label": "Maternal age", "summary": "mean_sd", "row_type": "summary",
                        "group": group, "group_label": group_label, "group_n": group_n, "n": group_n,
                        "mean": mean, "sd": sd, "p": 0.0031, "smd": 0.3812})
    for (group, group_label, group_n), (n, mean, sd, na) in zip(groups, [(80, 23.51, 5.1, 18), (160, 25.66, 4.5, 15)]):
        records.append({"variable": "csq", "label": "CSQ-8 total", "summary": "mean_sd", "row_type": "summary",
                        "group": group, "group_label": group_label, "group_n": group_n, "n": n, "mean": mean,
                        "sd": sd, "n_not_applicable": na, "requires": "followed_up_1m", "p": 0.99961, "smd": 0.4512})
    return tidy(records)


DESCRIPTIVE_ROWS = [
    ["Characteristic", "With CSC involvement, N = 99", "Without CSC involvement, N = 179", "p", "SMD"],
    ["Nation, n (%)", "", "", "0.497", "0.09"],
    ["\u2003England", "90 (90.9%)", "158 (88.3%)", "", ""],
    ["\u2003Wales", "9 (9.1%)", "21 (11.7%)", "", ""],
    ["\u2003Not known", "4", "7", "", ""],
    ["Maternal age (years), mean (SD)", "29.4 (5.7)", "31.6 (5.9)", "0.003", "0.38"],
    ["Previous admission, n (%)", "51 (53.7%)", "49 (27.7%)", "<0.001", "0.55"],
    ["\u2003Not known", "4", "2", "", ""],
    ["Followed up at one month, N", "81", "164", "", ""],
    ["CSQ-8 total, mean (SD)", "23.5 (5.1)", "25.7 (4.5)", ">0.99a", "0.45"],
]


def moved(rows: list[list[str]], *edits: tuple[int, int, str]) -> list[list[str]]:
    out = [list(r) for r in rows]
    for i, j, text in edits:
        out[i][j] = text
    return out


def test_readback_accepts_a_descriptive_table_that_shows_its_csv():
    assert table_problems(word_table(DESCRIPTIVE_ROWS), descriptive_csv()) == []


@pytest.mark.parametrize("rows, where", [
    (moved(DESCRIPTIVE_ROWS, (1, 3, "0.003"), (5, 3, "0.497")), "p-values of two variables swapped"),
    (moved(DESCRIPTIVE_ROWS, (2, 1, "90 (88.3%)"), (2, 2, "158 (90.9%)")), "percentages of two groups swapped"),
    (moved(DESCRIPTIVE_ROWS, (2, 1, "9 (9.1%)"), (3, 1, "90 (90.9%)")), "two levels swapped in one group"),
    (moved(DESCRIPTIVE_ROWS, (4, 1, "2"), (7, 2, "4")), "'Not known' counts of two variables swapped"),
    (moved(DESCRIPTIVE_ROWS, (6, 1, "4 (53.7%)")), "the 'Not known' count on the variable's own line"),
    (moved(DESCRIPTIVE_ROWS, (1, 1, "90 (90.9%)")), "a level's count on the heading line"),
    (moved(DESCRIPTIVE_ROWS, (5, 3, "<0.001")), "a threshold that the p-value is not below"),
    (moved(DESCRIPTIVE_ROWS, (2, 1, "90 (90.8%)")), "a percentage rounded wrongly"),
    (moved(DESCRIPTIVE_ROWS, (5, 4, "0.381")), "an SMD to 3 decimals"),
    (moved(DESCRIPTIVE_ROWS, (8, 1, "99")), "the whole group's N as the N followed up"),
    (moved(DESCRIPTIVE_ROWS, (8, 1, "164"), (8, 2, "81")), "the N followed up of two groups swapped"),
    (moved(DESCRIPTIVE_ROWS, (8, 1, MARKER)), "the N followed up marked though it is released"),
    (moved(DESCRIPTIVE_ROWS, (9, 3, "1.000")), "a p-value above 0.99 printed as 1.000"),
])
def test_readback_fails_when_a_number_is_in_the_wrong_place(rows, where):
    assert table_problems(word_table(rows), descriptive_csv()), where


def models_csv() -> pd.DataFrame:
    records = []
    for kind, fits in (("Unadjusted", [(6.612, 3.468, 13.325, 1.5e-9), (0.361, 0.082, 1.221, 0.1061), (6.80, 2.09, 24.85, 0.0011)]),
                       ("Adjusted", [(5.492, 2.565, 12.497, 6.8e-6), (0.231, 0.041, 0.934, 0.0381), (4.561, 1.212, 19.043, 0.0249)])):
        (o1, l1, h1, p1), *levels = fits
        records.append({"type": kind, "term": "deprived", "label": "Most deprived quintiles", "level": "1",
                        "level_label": "Yes", "reference": "False", "or": o1, "ci_low": l1, "ci_high": h1, "p": p1})
        records.append({"type": kind, "term": "diagnosis", "label": "Primary diagnosis", "level": "depression",
                        "level_label": "Depression", "reference": "True", "p_global": 0.00021 if kind == "Adjusted" else 0.0412})
        for (level, level_label), (o, lo, hi, p) in zip([("bipolar", "Bipolar disorder"), ("scz", "Schizophrenia")], levels):
            records.append({"type": kind, "term": "diagnosis", "label": "Primary diagnosis", "level": level,
                            "level_label": level_label, "reference": "False", "or": o, "ci_low": lo, "ci_high": hi,
                            "p": p, "p_global": 0.00021 if kind == "Adjusted" else 0.0412})
    return tidy(records)


MODEL_ROWS = [
    ["Characteristic", "Unadjusted", "Unadjusted", "Unadjusted", "Adjusted", "Adjusted", "Adjusted"],
    ["Characteristic", "OR", "95% CI", "p", "OR", "95% CI", "p"],
    ["Most deprived quintiles", "6.61", "3.47 to 13.32", "<0.001", "5.49", "2.56 to 12.50", "<0.001"],
    ["Primary diagnosis", "", "", "0.041", "", "", "<0.001"],
    ["\u2003Depression (reference)", "1.00", "—", "—", "1.00", "—", "—"],
    ["\u2003Bipolar disorder", "0.36", "0.08 to 1.22", "0.106", "0.23", "0.04 to 0.93", "0.038"],
    ["\u2003Schizophrenia", "6.80", "2.09 to 24.85", "0.001", "4.56", "1.21 to 19.04", "0.025"],
]


def test_readback_accepts_a_model_table_that_shows_its_csv():
    assert table_problems(word_table(MODEL_ROWS, header_rows=2), models_csv()) == []


@pytest.mark.parametrize("rows, where", [
    (moved(MODEL_ROWS, (5, 1, "0.23"), (5, 4, "0.36")), "unadjusted and adjusted ORs swapped"),
    (moved(MODEL_ROWS, (5, 2, "2.09 to 24.85"), (6, 2, "0.08 to 1.22")), "CIs of two levels swapped"),
    (moved(MODEL_ROWS, (3, 3, "0.106")), "a level's p on the term's line"),
    (moved(MODEL_ROWS, (5, 6, "<0.001")), "the term's global p on a level's line"),
    (moved(MODEL_ROWS, (6, 5, "1.21 to 19.03")), "a confidence limit rounded wrongly"),
])
def test_readback_fails_when_a_model_number_is_in_the_wrong_place(rows, where):
    assert table_problems(word_table(rows, header_rows=2), models_csv()), where


def released(frame: pd.DataFrame, **cells) -> pd.DataFrame:
    """``frame`` with the named values suppressed: ``variable__level__group__column=True``."""
    out = frame.copy()
    for key in cells:
        variable, level, group, column = key.split("__")
        out.loc[(out.variable == variable) & (out.level == level) & (out.group == group), column] = MARKER
    return out


SUPPRESSED = dict(nation__not_known__1__n=True, nation__not_known__0__n=True,
                  nation__wales__1__n=True, nation__wales__1__percent=True,
                  nation__wales__0__n=True, nation__wales__0__percent=True)


def test_readback_accepts_suppressed_cells_shown_as_the_marker():
    rows = moved(DESCRIPTIVE_ROWS, (3, 1, MARKER), (3, 2, MARKER), (4, 1, MARKER), (4, 2, MARKER))
    assert table_problems(word_table(rows), released(descriptive_csv(), **SUPPRESSED)) == []


@pytest.mark.parametrize("rows, where", [
    (moved(DESCRIPTIVE_ROWS, (3, 1, MARKER), (3, 2, MARKER), (4, 2, MARKER)), "a suppressed count printed"),
    (moved(DESCRIPTIVE_ROWS, (3, 1, MARKER), (3, 2, MARKER), (4, 1, MARKER), (4, 2, MARKER), (2, 1, MARKER)),
     "the marker where the release has the number"),
])
def test_readback_fails_when_a_suppressed_cell_is_shown_or_a_shown_cell_is_marked(rows, where):
    assert table_problems(word_table(rows), released(descriptive_csv(), **SUPPRESSED)), where


def test_csv_for_maps_labels_to_results_and_subsets():
    csvs = {name: Path(f"{name}.csv") for name in ("table1_sociodemographic", "models_sensitivity", "models_summary")}
    assert csv_for("tbl-sociodemographic", csvs) == (Path("table1_sociodemographic.csv"), "")
    assert csv_for("tbl-models-sensitivity-one-year", csvs) == (Path("models_sensitivity.csv"), "one_year")
    assert csv_for("tbl-models-summary", csvs) == (Path("models_summary.csv"), "")
    assert csv_for("tbl-nowhere", csvs) is None


@slow
def test_rendered_documents_and_release_pass_check_disclosure(manuscript):
    """The default policy (cohort) holds in what is published: no protected count in the HTML, Word
    and PDF (text, tables, alt text, headers, footers, metadata) nor in the released CSVs."""
    from perinatal_csc.disclose.check import scan
    from perinatal_csc.disclose.policy import policy_for

    policy = policy_for(manuscript["config"])
    assert policy.checked
    for folder in (manuscript["paths"]["html"].parent, next(iter(manuscript["csv"].values())).parent):
        found, breaches, _ = scan(folder, policy)
        assert found, folder
        assert not breaches, "\n".join(b.line() for b in breaches[:20])
    assert "not checked" not in manuscript["html_text"].lower()


def test_readback_accepts_the_n_followed_up_shown_as_the_marker_when_its_count_is_suppressed():
    rows = moved(DESCRIPTIVE_ROWS, (8, 1, MARKER))
    assert table_problems(word_table(rows), released(descriptive_csv(), csq____1__n_not_applicable=True)) == []
    assert table_problems(word_table(DESCRIPTIVE_ROWS), released(descriptive_csv(), csq____1__n_not_applicable=True))


# -- a paper, not software documentation --------------------------------------------------------

CODE_LIKE = {
    "file name": r"\b[\w-]+\.(?:py|ya?ml|csv|qmd|json|lua|md)\b",
    "snake_case name": r"\b[a-z0-9]+_[a-z0-9_]+\b",
    "function call": r"\b[A-Za-z_][\w.]*\((?=[\w'\"=)])",
    "code span": r"<code>",
    "seed": r"\bseed\b",
}


@slow
def test_the_methods_name_no_file_module_function_or_seed(manuscript):
    methods = section_html(manuscript["html"], "sec-methods", "sec-results")
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", methods.replace("<code>", " <code>")))
    for what, pattern in CODE_LIKE.items():
        found = re.findall(pattern, methods if what == "code span" else text)
        assert not found, f"the Methods show a {what}: {found[:5]}"
    assert len(text.split()) > 800


def test_the_code_like_patterns_find_what_they_look_for():
    text = "from config/analysis_plan.yml the models_sensitivity.csv; R's wilcox.test(x) with seed 1"
    assert all(re.search(p, text) for w, p in CODE_LIKE.items() if w != "code span")


def prose_words(fragment: str) -> int:
    """Words of prose in an HTML fragment, counted independently of the filter: tables, figures, figure
    descriptions and citations removed, then every whitespace token with a letter or digit."""
    f = re.sub(r'<div id="tbl-[^"]+" class="table-float">.*?</table>\s*(?:<p[^>]*class="[^"]*table-note.*?</p>\s*)*</div>',
               " ", fragment, flags=re.S)
    f = re.sub(r"<figure.*?</figure>|<span class=\"citation\".*?</span>|<style.*?</style>", " ", f, flags=re.S)
    f = re.sub(r"<p><em>Text description of.*?</p>", " ", f, flags=re.S)
    words = htmllib.unescape(re.sub(r"<[^>]+>", " ", f)).split()
    return sum(bool(re.search(r"\w", w)) for w in words)


@slow
def test_word_counts_state_what_they_count_and_agree_with_an_independent_count(manuscript):
    m = re.search(r"Word counts: abstract (\d+) words \(its text\); main text (\d+) words \(Introduction to the end "
                  r"of the Discussion, without tables, figures, figure descriptions and references\)", manuscript["html_text"])
    assert m, "the title page states both word counts and what they include"
    abstract, main = int(m.group(1)), int(m.group(2))
    html = manuscript["html"]
    a = html.index('<section id="sec-abstract"')
    abstract_html = html[a:html.index('<section id="sec-strengths"', a)]
    abstract_html = re.sub(r"<h2.*?</h2>", " ", abstract_html, flags=re.S)
    assert abs(prose_words(abstract_html) - abstract) <= 0.02 * abstract
    body = section_html(html, "sec-introduction", "sec-declarations")
    assert abs(prose_words(body) - main) <= 0.03 * main, (prose_words(body), main)
    assert 1000 < main < prose_words(html)
    word = norm("\n".join(p.text for p in manuscript["docx"].paragraphs))
    for text in (manuscript["pdf"], word):
        assert f"abstract {abstract} words" in text and f"main text {main} words" in text


@slow
def test_references_to_the_supplement_name_its_tables(manuscript, supplement):
    cited = set(re.findall(r"Supplementary Table (\d+)", manuscript["html_text"]))
    captions = set(re.findall(r"Supplementary Table (\d+):", supplement["html_text"]))
    assert cited and cited <= captions, cited - captions
    for label in ("tbl-s-codebook", "tbl-s-missing", "tbl-s-models-diagnostics"):
        n = next(i for i in range(1, 30) if label_of(supplement["html"], i, "Supplementary Table") == label)
        assert f"Supplementary Table {n}" in manuscript["html_text"]


@slow
def test_every_aim_has_its_section(manuscript):
    for label in ("sec-participants-results", "sec-descriptive", "sec-outcomes", "sec-main-results",
                  "sec-subgroups", "sec-other-analyses"):
        assert f'<section id="{label}"' in manuscript["html"], label
    assert "Keywords:" in manuscript["html_text"] and "Strengths and limitations of this study" in manuscript["html_text"]


# -- every number in the prose is its own released cell ----------------------------------------


PROSE_REGIONS = [("sec-abstract", "sec-strengths"), ("sec-results", "sec-discussion")]


@slow
def test_every_number_in_the_abstract_and_results_prose_is_its_own_released_cell(manuscript):
    records = json.loads(COMMENT.search(manuscript["html"]).group(1))
    text = prose_of(manuscript["html"], PROSE_REGIONS)
    assert len(NUMBER.findall(text)) > 40
    assert prose_problems(text, records, manuscript["csv"], literal_numbers()) == []


@slow
def test_the_prose_read_back_fails_on_a_changed_number(manuscript):
    records = json.loads(COMMENT.search(manuscript["html"]).group(1))
    text = prose_of(manuscript["html"], PROSE_REGIONS)
    rec = next(r for r in records if "dyads (" in r["text"] and r["text"] in text)     # a model's N and events
    first = NUMBER.search(rec["text"])
    wrong = rec["text"][:first.start()] + str(int(first.group()) + 1) + rec["text"][first.end():]
    changed = text.replace(rec["text"], wrong, 1)
    assert prose_problems(changed, records, manuscript["csv"], literal_numbers())


@slow
def test_the_plain_summary_is_its_own_document_at_reading_grade_8_without_statistics(default_render):
    from plain_language import plain_language_problems, rendered_text

    paths = {p.suffix[1:]: p for p in default_render["paths"] if p.stem == "summary"}
    assert set(paths) == {"html", "docx", "pdf"}
    for fmt, path in paths.items():
        text = rendered_text(path)
        assert "SYNTHETIC" in text and len(text.split()) > 150, fmt
        assert plain_language_problems(text) == [], fmt
