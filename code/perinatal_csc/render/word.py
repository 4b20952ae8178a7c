"""Finish pandoc's Word tables: full text width, bottom-aligned ruled header, rows kept whole.

pandoc sizes a table's grid for a fixed 5.5-inch text block and marks only the first row for the
table style's header rule; this pass fits the grid to the page of the reference document, rules
and bottom-aligns the whole (possibly two-row) header, stops rows from splitting across pages, and
sets the text of very wide tables a point smaller than the table style's 9 pt.
"""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT = "word/document.xml"
DEFAULT_TEXT_WIDTH = 9412  # twips: A4 less 2.2 cm margins
TC_ORDER = ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
            "textDirection", "tcFitText", "vAlign", "hideMark")
TR_ORDER = ("cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight",
            "tblHeader", "tblCellSpacing", "jc", "hidden")
R_ORDER = ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
           "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing",
           "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText",
           "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath")
HEADER_RULE = "6"
SPANNER_RULE = "4"
WIDE_COLUMNS = 10
WIDE_SIZE = "16"  # half-points


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def _child(parent: etree._Element, tag: str, order: tuple[str, ...]) -> etree._Element:
    """The ``w:tag`` child of ``parent``, created in schema order when missing."""
    found = parent.find(w(tag))
    if found is not None:
        return found
    el = etree.Element(w(tag))
    rank = order.index(tag)
    for i, sib in enumerate(parent):
        name = etree.QName(sib).localname
        if name in order and order.index(name) > rank:
            parent.insert(i, el)
            return el
    parent.append(el)
    return el


def _pr(el: etree._Element, tag: str) -> etree._Element:
    pr = el.find(w(tag))
    if pr is None:
        pr = etree.Element(w(tag))
        el.insert(0, pr)
    return pr


def text_width(root: etree._Element) -> int:
    """Width between the margins of the document's last section, in twips."""
    sect = root.find(f"{w('body')}/{w('sectPr')}")
    size = sect.find(w("pgSz")) if sect is not None else None
    margin = sect.find(w("pgMar")) if sect is not None else None
    if size is None or margin is None:
        return DEFAULT_TEXT_WIDTH
    return int(size.get(w("w"))) - int(margin.get(w("left"), 0)) - int(margin.get(w("right"), 0))


def _fit_grid(tbl: etree._Element, width: int) -> None:
    tbl_w = tbl.find(f"{w('tblPr')}/{w('tblW')}")
    grid = tbl.findall(f"{w('tblGrid')}/{w('gridCol')}")
    if tbl_w is None or tbl_w.get(w("type")) != "pct" or not grid:
        return
    target = width * int(tbl_w.get(w("w"))) / 5000
    total = sum(int(g.get(w("w"))) for g in grid)
    for g in grid:
        g.set(w("w"), str(round(int(g.get(w("w"))) * target / total)))


def _rule(tc: etree._Element, size: str | None) -> None:
    tc_pr = _pr(tc, "tcPr")
    borders = _child(tc_pr, "tcBorders", TC_ORDER)
    for old in borders.findall(w("bottom")):
        borders.remove(old)
    bottom = etree.SubElement(borders, w("bottom"))
    if size is None:
        bottom.set(w("val"), "nil")
    else:
        bottom.attrib.update({w("val"): "single", w("sz"): size, w("space"): "0", w("color"): "000000"})
    _child(tc_pr, "vAlign", TC_ORDER).set(w("val"), "bottom")


def _polish_table(tbl: etree._Element, width: int) -> None:
    _fit_grid(tbl, width)
    rows = tbl.findall(w("tr"))
    header = [r for r in rows if r.find(f"{w('trPr')}/{w('tblHeader')}") is not None]
    for i, row in enumerate(header):
        last = i == len(header) - 1
        for tc in row.findall(w("tc")):
            span = tc.find(f"{w('tcPr')}/{w('gridSpan')}")
            spanner = span is not None and int(span.get(w("val"))) > 1
            _rule(tc, HEADER_RULE if last else (SPANNER_RULE if spanner else None))
    for row in rows:
        _child(_pr(row, "trPr"), "cantSplit", TR_ORDER)
    if len(tbl.findall(f"{w('tblGrid')}/{w('gridCol')}")) >= WIDE_COLUMNS:
        for run in tbl.iter(w("r")):
            r_pr = _pr(run, "rPr")
            for tag in ("sz", "szCs"):
                _child(r_pr, tag, R_ORDER).set(w("val"), WIDE_SIZE)


def polish(path: Path) -> None:
    """Rewrite the Word file at ``path`` in place with its tables finished."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read(DOCUMENT))
    width = text_width(root)
    for tbl in root.iter(w("tbl")):
        _polish_table(tbl, width)
    tmp = Path(tempfile.mkstemp(suffix=".docx", dir=path.parent)[1])
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True) \
                if item.filename == DOCUMENT else src.read(item.filename)
            dst.writestr(item, data)
    shutil.move(tmp, path)
