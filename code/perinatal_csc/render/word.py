"""Finish a Word manuscript from pandoc (built-in path) or Quarto: tables, page furniture, review mode.

pandoc sizes a table's grid for a fixed 5.5-inch text block and marks only the first row for the
table style's header rule; this pass fits the grid to the page of the reference document, rules
and bottom-aligns the whole (possibly two-row) header, stops rows from splitting across pages, keeps
each caption with its table's first rows and the notes with its last row, puts wide tables on
landscape pages, sets the text of very wide tables a point smaller than the table style's 9 pt, and
adds page numbers, the data notice as a running header and, for review, line numbers and double
spacing. Captions and cross-references become Word fields, and the contents (when a document has them)
follow its cover on a page of their own, listed until Word updates them. Running it twice gives the
same document.
"""
from __future__ import annotations

import copy
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT = "word/document.xml"
DEFAULT_TEXT_WIDTH = 9412  # twips: A4 less 2.2 cm margins
DEFAULT_PAGE = {"w": "11906", "h": "16838"}  # A4, used when a document states no page size
DEFAULT_MARGINS = {"top": "1247", "right": "1247", "bottom": "1247", "left": "1247", "header": "709",
                   "footer": "709", "gutter": "0"}
TC_ORDER = ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
            "textDirection", "tcFitText", "vAlign", "hideMark")
TR_ORDER = ("cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight",
            "tblHeader", "tblCellSpacing", "jc", "hidden")
R_ORDER = ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
           "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing",
           "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText",
           "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath")
P_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
           "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
           "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
           "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
           "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")
SECT_ORDER = ("headerReference", "footerReference", "footnotePr", "endnotePr", "type", "pgSz", "pgMar",
              "paperSrc", "pgBorders", "lnNumType", "pgNumType", "cols", "formProt", "vAlign", "noEndnote",
              "titlePg", "textDirection", "bidi", "rtlGutter", "docGrid", "printerSettings", "sectPrChange")
HEADER_RULE = "6"
SPANNER_RULE = "4"
LANDSCAPE_COLUMNS = 8    # a table this wide gets landscape pages (WIDE_COLUMNS in manuscript.lua)
SMALL_COLUMNS = 10       # and from this width a point smaller text
WIDE_SIZE = "16"  # half-points
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RELS = "word/_rels/document.xml.rels"
TYPES = "[Content_Types].xml"
STYLES = "word/styles.xml"
FURNITURE = {  # part, relationship id, relationship type, content type, root element
    "header": ("word/header_pcsc.xml", "rIdPcscHeader", f"{R_NS}/header",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml", "hdr"),
    "footer": ("word/footer_pcsc.xml", "rIdPcscFooter", f"{R_NS}/footer",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml", "ftr"),
}
NOTICE_COLOUR = "8A0015"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def child(parent: etree._Element, tag: str, order: tuple[str, ...]) -> etree._Element:
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


def props(el: etree._Element, tag: str) -> etree._Element:
    """The ``w:tag`` properties element of ``el`` (its first child), created when missing."""
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


TBL_ORDER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
             "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
             "tblCaption", "tblDescription")


def _full_width(tbl: etree._Element) -> None:
    """A top-level table without a stated share of the width (e.g. a pandoc pipe table) spans it."""
    tbl_w = child(props(tbl, "tblPr"), "tblW", TBL_ORDER)
    if tbl_w.get(w("type")) != "pct":
        tbl_w.attrib.update({w("type"): "pct", w("w"): "5000"})


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
    tc_pr = props(tc, "tcPr")
    borders = child(tc_pr, "tcBorders", TC_ORDER)
    for old in borders.findall(w("bottom")):
        borders.remove(old)
    bottom = etree.SubElement(borders, w("bottom"))
    if size is None:
        bottom.set(w("val"), "nil")
    else:
        bottom.attrib.update({w("val"): "single", w("sz"): size, w("space"): "0", w("color"): "000000"})
    child(tc_pr, "vAlign", TC_ORDER).set(w("val"), "bottom")


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
        child(props(row, "trPr"), "cantSplit", TR_ORDER)
    if _columns(tbl) >= SMALL_COLUMNS:
        for run in tbl.iter(w("r")):
            r_pr = props(run, "rPr")
            for tag in ("sz", "szCs"):
                child(r_pr, tag, R_ORDER).set(w("val"), WIDE_SIZE)


def _columns(tbl: etree._Element) -> int:
    return len(tbl.findall(f"{w('tblGrid')}/{w('gridCol')}"))


def _style(p: etree._Element) -> str | None:
    style = p.find(f"{w('pPr')}/{w('pStyle')}")
    return style.get(w("val")) if style is not None else None


def _keep_next(p: etree._Element) -> None:
    child(props(p, "pPr"), "keepNext", P_ORDER)


def _sibling(el: etree._Element, step: int) -> etree._Element | None:
    """The nearest paragraph or table before (step -1) or after (+1) ``el``, skipping bookmarks."""
    sib = el.getprevious() if step < 0 else el.getnext()
    while sib is not None and etree.QName(sib).localname in ("bookmarkStart", "bookmarkEnd"):
        sib = sib.getprevious() if step < 0 else sib.getnext()
    return sib


def _caption_and_notes(tbl: etree._Element) -> tuple[etree._Element | None, list[etree._Element]]:
    before = _sibling(tbl, -1)
    caption = before if before is not None and before.tag == w("p") and _style(before) == "TableCaption" else None
    notes, nxt = [], _sibling(tbl, 1)
    while nxt is not None and nxt.tag == w("p") and _style(nxt) == "TableNote":
        notes.append(nxt)
        nxt = _sibling(nxt, 1)
    return caption, notes


#: A table starts with at least this many of its rows on its first page (never a caption and header alone).
KEEP_ROWS = 3


def _keep_together(tbl: etree._Element, caption: etree._Element | None, notes: list[etree._Element]) -> None:
    """Caption with the header and the first ``KEEP_ROWS`` rows; last row with the notes; the notes with each other."""
    rows = tbl.findall(w("tr"))
    header = [r for r in rows if r.find(f"{w('trPr')}/{w('tblHeader')}") is not None]
    first = rows[len(header):len(header) + KEEP_ROWS - 1]
    keep = ([caption] if caption is not None else []) + [p for r in header + first for p in r.iter(w("p"))]
    if notes:
        keep += [p for p in rows[-1].iter(w("p"))] + notes[:-1]
    for p in keep:
        _keep_next(p)


def _section(template: etree._Element, landscape: bool) -> etree._Element:
    sect = copy.deepcopy(template)
    size = sect.find(w("pgSz"))
    if size is not None:
        a, b = int(size.get(w("w"))), int(size.get(w("h")))
        wide, tall = max(a, b), min(a, b)
        size.set(w("w"), str(wide if landscape else tall))
        size.set(w("h"), str(tall if landscape else wide))
        if landscape:
            size.set(w("orient"), "landscape")
        elif w("orient") in size.attrib:
            del size.attrib[w("orient")]
    return sect


def _is_landscape(sect: etree._Element | None) -> bool:
    size = sect.find(w("pgSz")) if sect is not None else None
    return size is not None and size.get(w("orient")) == "landscape"


def _ends_section(p: etree._Element | None) -> etree._Element | None:
    return p.find(f"{w('pPr')}/{w('sectPr')}") if p is not None and p.tag == w("p") else None


def _landscape(tbl: etree._Element, caption: etree._Element | None, notes: list[etree._Element],
               body_sect: etree._Element) -> None:
    """Put the table, its caption and notes in a landscape section of their own."""
    first = caption if caption is not None else tbl
    last = notes[-1] if notes else tbl
    if _is_landscape(_ends_section(last)):
        return
    before = _sibling(first, -1)
    if _is_landscape(_ends_section(before)):
        props(before, "pPr").remove(_ends_section(before))
    elif before is not None and before.tag == w("p") and _ends_section(before) is None:
        child(props(before, "pPr"), "sectPr", P_ORDER).extend(list(_section(body_sect, landscape=False)))
    else:
        holder = etree.Element(w("p"))
        child(props(holder, "pPr"), "sectPr", P_ORDER).extend(list(_section(body_sect, landscape=False)))
        first.addprevious(holder)
    if last.tag != w("p"):
        holder = etree.Element(w("p"))
        last.addnext(holder)
        last = holder
    child(props(last, "pPr"), "sectPr", P_ORDER).extend(list(_section(body_sect, landscape=True)))


def _paragraph_xml(text: str, field: bool, colour: str | None, align: str) -> str:
    colour_xml = f'<w:color w:val="{colour}"/>' if colour else ""
    run = f'<w:rPr>{colour_xml}<w:sz w:val="16"/></w:rPr>'
    body = (f'<w:fldSimple w:instr=" PAGE "><w:r>{run}<w:t>1</w:t></w:r></w:fldSimple>' if field
            else f'<w:r>{run}<w:t xml:space="preserve">{text}</w:t></w:r>')
    return f'<w:p><w:pPr><w:jc w:val="{align}"/></w:pPr>{body}</w:p>'


def _furniture(parts: dict[str, bytes], root: etree._Element, notice: str | None) -> None:
    """Page numbers in the footer and the data notice as a running header, in every section."""
    from xml.sax.saxutils import escape

    content = {"footer": _paragraph_xml("", True, None, "center")}
    if notice:
        content["header"] = _paragraph_xml(escape(notice), False, NOTICE_COLOUR, "right")
    rels = etree.fromstring(parts[RELS])
    types = etree.fromstring(parts[TYPES])
    for kind, xml in content.items():
        part, rid, rel_type, content_type, tag = FURNITURE[kind]
        parts[part] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       f'<w:{tag} xmlns:w="{W_NS}" xmlns:r="{R_NS}">{xml}</w:{tag}>').encode("utf-8")
        if not any(r.get("Id") == rid for r in rels):
            etree.SubElement(rels, f"{{{PKG_REL_NS}}}Relationship",
                             {"Id": rid, "Type": rel_type, "Target": part.split("/", 1)[1]})
        if not any(o.get("PartName") == "/" + part for o in types):
            etree.SubElement(types, f"{{{CT_NS}}}Override", {"PartName": "/" + part, "ContentType": content_type})
        for sect in root.iter(w("sectPr")):
            ref_tag = f"{kind}Reference"
            for old in sect.findall(w(ref_tag)):
                if old.get(w("type"), "default") == "default":
                    sect.remove(old)
            ref = etree.Element(w(ref_tag), {w("type"): "default", f"{{{R_NS}}}id": rid})
            sect.insert(0 if kind == "header" else len(sect.findall(w("headerReference"))), ref)
    parts[RELS] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts[TYPES] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)


def _review(parts: dict[str, bytes], root: etree._Element) -> None:
    """Continuous line numbers and double-spaced text (tables and their notes stay single-spaced)."""
    for sect in root.iter(w("sectPr")):
        child(sect, "lnNumType", SECT_ORDER).attrib.update({w("countBy"): "1", w("restart"): "continuous",
                                                              w("distance"): "284"})
    styles = etree.fromstring(parts[STYLES])
    defaults = props(child(props(styles, "docDefaults"), "pPrDefault", ("rPrDefault", "pPrDefault")), "pPr")
    child(defaults, "spacing", P_ORDER).attrib.update({w("line"): "480", w("lineRule"): "auto"})
    for style in styles.findall(w("style")):
        if style.get(w("styleId")) in ("Compact", "TableNote", "TableCaption"):
            child(props(style, "pPr"), "spacing", P_ORDER).attrib.update({w("line"): "240", w("lineRule"): "auto"})
    parts[STYLES] = etree.tostring(styles, xml_declaration=True, encoding="UTF-8", standalone=True)


CUSTOM = "docProps/custom.xml"
LOCAL_PATH_PROPERTIES = ("bibliography", "csl")


def _without_local_paths(parts: dict[str, bytes]) -> None:
    """Drop the document properties that hold this machine's file paths (pandoc copies the bibliography
    and style paths there): a draft that leaves the secure environment names no folder of it."""
    if CUSTOM not in parts:
        return
    props = etree.fromstring(parts[CUSTOM])
    for prop in list(props):
        if prop.get("name") in LOCAL_PATH_PROPERTIES:
            props.remove(prop)
    parts[CUSTOM] = etree.tostring(props, xml_declaration=True, encoding="UTF-8", standalone=True)


#: Caption labels, longest first, and the Word sequence each numbers.
SEQUENCES = (("Supplementary Table", "STable"), ("Table", "Table"), ("Figure", "Figure"))
CAPTION_STYLES = ("TableCaption", "ImageCaption")
_LABEL = "|".join(label for label, _ in SEQUENCES)
_CAPTION_RE = re.compile(rf"^({_LABEL}) (\d+)(?=\b)")
_REF_RE = re.compile(rf"\b({_LABEL}) (\d+)\b")


def _run(r_pr: etree._Element | None, *, text: str | None = None, fld: str | None = None,
         instr: str | None = None) -> etree._Element:
    r = etree.Element(w("r"))
    if r_pr is not None:
        r.append(copy.deepcopy(r_pr))
    if text is not None:
        t = etree.SubElement(r, w("t"))
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    elif fld is not None:
        etree.SubElement(r, w("fldChar")).set(w("fldCharType"), fld)
    else:
        t = etree.SubElement(r, w("instrText"))
        t.text = instr
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return r


def _field(r_pr: etree._Element | None, instr: str, result: str) -> list[etree._Element]:
    """The runs of a Word field showing ``result`` until Word updates it."""
    return [_run(r_pr, fld="begin"), _run(r_pr, instr=f" {instr} "), _run(r_pr, fld="separate"),
            _run(r_pr, text=result), _run(r_pr, fld="end")]


def _split_run(r: etree._Element, pieces: list) -> None:
    """Replace run ``r`` (one text) by ``pieces``: strings (runs with r's properties) and elements."""
    r_pr = r.find(w("rPr"))
    parent, at = r.getparent(), r.getparent().index(r)
    parent.remove(r)
    for piece in pieces:
        for el in ([_run(r_pr, text=piece)] if isinstance(piece, str) else [piece]) if piece != "" else []:
            parent.insert(at, el)
            at += 1


def _single_text(r: etree._Element) -> str | None:
    """The text of a run that holds one ``w:t`` and nothing else but its properties, else None."""
    kids = [k for k in r if k.tag != w("rPr")]
    return kids[0].text or "" if len(kids) == 1 and kids[0].tag == w("t") else None


def _numbered_fields(body: etree._Element) -> tuple[int, int]:
    """Captions numbered by Word SEQ fields inside bookmarks, and each cross-reference to them in the text
    as a REF field, so that Word renumbers both when a co-author moves a table (fields keep the numbers
    as their shown result until updated). Returns (captions, references) made fields."""
    marks, next_id = {}, 9000
    for p in body.iter(w("p")):
        if _style(p) not in CAPTION_STYLES:
            continue
        for r in p.findall(w("r")):
            text = _single_text(r)
            m = _CAPTION_RE.match(text) if text else None
            if not m:
                continue
            label, number = m.group(1), m.group(2)
            seq = dict(SEQUENCES)[label]
            name = f"_Ref{seq}{number}"
            start, end = etree.Element(w("bookmarkStart")), etree.Element(w("bookmarkEnd"))
            start.set(w("id"), str(next_id)), start.set(w("name"), name), end.set(w("id"), str(next_id))
            next_id += 1
            r_pr = r.find(w("rPr"))
            _split_run(r, [start, f"{label} ", *_field(r_pr, f"SEQ {seq} \\* ARABIC", number), end, text[m.end():]])
            marks[label, number] = name
            break
    refs = 0
    for p in body.iter(w("p")):
        if _style(p) in CAPTION_STYLES:
            continue
        for r in p.findall(w("r")):
            text = _single_text(r)
            if not text or not _REF_RE.search(text):
                continue
            pieces, last = [], 0
            for m in _REF_RE.finditer(text):
                name = marks.get((m.group(1), m.group(2)))
                if name is None:
                    continue
                pieces += [text[last:m.start()], *_field(r.find(w("rPr")), f"REF {name} \\h", m.group(0))]
                last, refs = m.end(), refs + 1
            if pieces:
                _split_run(r, [*pieces, text[last:]])
    for link in list(body.iter(w("hyperlink"))):
        runs = link.findall(w("r"))
        text = _single_text(runs[0]) if len(runs) == 1 and link.get(w("anchor")) else None
        m = _REF_RE.fullmatch(text) if text else None
        name = marks.get((m.group(1), m.group(2))) if m else None
        if name is None:
            continue
        parent, at = link.getparent(), link.getparent().index(link)
        parent.remove(link)
        for el in _field(runs[0].find(w("rPr")), f"REF {name} \\h", text):
            parent.insert(at, el)
            at += 1
        refs += 1
    return len(marks), refs


CORE = "docProps/core.xml"
DC = "http://purl.org/dc/elements/1.1/"


def _author_property(parts: dict[str, bytes]) -> None:
    """The document's author property as the authors' names: blank while they are placeholders ("[...]"),
    without the affiliations the title page gives beside each name."""
    if CORE not in parts:
        return
    core = etree.fromstring(parts[CORE])
    for creator in core.iter(f"{{{DC}}}creator"):
        text = creator.text or ""
        creator.text = "" if "[" in text else re.sub(r"\s*\([^()]*\)", "", text).strip()
    parts[CORE] = etree.tostring(core, xml_declaration=True, encoding="UTF-8", standalone=True)


def _one_paragraph_props(root: etree._Element) -> int:
    """Merge a paragraph's several ``pPr`` (Quarto's float and callout code adds a second one, which
    Word and LibreOffice read differently) into one, later settings winning; returns how many."""
    merged = 0
    for p in root.iter(w("p")):
        several = p.findall(w("pPr"))
        if len(several) < 2:
            continue
        first = several[0]
        for extra in several[1:]:
            for item in list(extra):
                if not isinstance(item.tag, str):
                    continue
                old = first.find(item.tag)
                if old is not None:
                    first.remove(old)
                first.append(item)
            p.remove(extra)
        ordered = sorted(first, key=lambda e: P_ORDER.index(etree.QName(e).localname)
                         if isinstance(e.tag, str) and etree.QName(e).localname in P_ORDER else len(P_ORDER))
        first[:] = ordered
        merged += 1
    return merged


def _unwrap_floats(body: etree._Element) -> int:
    """Quarto sets each table and figure float in a one-cell layout table (caption in Image Caption
    style): put its content back in the text, so tables are top-level as on the built-in path (full
    width, landscape sections, rows that may break across pages) and a table's caption is a Table
    Caption. Returns how many were unwrapped."""
    unwrapped = 0
    for outer in list(body.findall(w("tbl"))):
        rows = outer.findall(w("tr"))
        cells = rows[0].findall(w("tc")) if len(rows) == 1 else []
        if len(cells) != 1:
            continue
        content = [c for c in cells[0] if c.tag != w("tcPr")]
        captions = [c for c in content if c.tag == w("p") and _style(c) == "ImageCaption"]
        if not captions:
            continue
        has_table = any(c.tag == w("tbl") for c in content)
        if has_table:
            for cap in captions:
                child(props(cap, "pPr"), "pStyle", P_ORDER).set(w("val"), "TableCaption")
        parent, at = outer.getparent(), outer.getparent().index(outer)
        parent.remove(outer)
        for k, item in enumerate(content):
            parent.insert(at + k, item)
        unwrapped += 1
    return unwrapped


HEADING = re.compile(r"Heading([1-9])$")
CONTENTS_INDENT = 360  # twips per level below the top one


def _contents(body: etree._Element) -> etree._Element | None:
    """pandoc's table of contents: a content control holding a TOC field."""
    for sdt in body.findall(w("sdt")):
        gallery = sdt.find(f"{w('sdtPr')}/{w('docPartObj')}/{w('docPartGallery')}")
        if gallery is not None and gallery.get(w("val")) == "Table of Contents":
            return sdt
    return None


def _page_break_only(el: etree._Element) -> bool:
    breaks = el.findall(f"{w('r')}/{w('br')}")
    return (el.tag == w("p") and len(breaks) == 1 and breaks[0].get(w("type")) == "page"
            and el.find(f".//{w('t')}") is None)


def _heading_level(el: etree._Element) -> int | None:
    m = HEADING.match(_style(el) or "") if el.tag == w("p") else None
    return int(m.group(1)) if m else None


def _anchor(p: etree._Element) -> str | None:
    """The bookmark a heading paragraph holds or directly follows (pandoc's section identifier)."""
    mark = p.find(w("bookmarkStart"))
    prev = p.getprevious()
    while mark is None and prev is not None and prev.tag == w("bookmarkStart"):
        mark, prev = prev, prev.getprevious()
    return None if mark is None else mark.get(w("name"))


def _contents_page(body: etree._Element) -> bool:
    """The contents on a page of their own after the cover, listed before Word updates the field.

    pandoc puts the contents straight after the title block, so a cover that goes on after it (the
    funder's report's funding line and data notice, ended by a page break) came after the contents.
    When a page break ends the cover, the contents move behind it, with a page break after them. The
    field's result lists the headings (levels 1 to 3, linked to their sections, without page numbers)
    so that a reader whose program does not update fields (LibreOffice, or Word when the update is
    declined) still sees the contents; Word replaces the list, with page numbers, when it updates."""
    sdt = _contents(body)
    if sdt is None:
        return False
    before = sdt.getprevious()
    nxt = sdt.getnext()
    while nxt is not None and _heading_level(nxt) is None and not _page_break_only(nxt):
        nxt = nxt.getnext()
    if nxt is not None and _page_break_only(nxt) and not (before is not None and _page_break_only(before)):
        nxt.addnext(sdt)
        sdt.addnext(etree.fromstring(f'<w:p xmlns:w="{W_NS}"><w:r><w:br w:type="page"/></w:r></w:p>'))
    field = next((p for p in sdt.iter(w("p")) if p.find(f".//{w('instrText')}") is not None), None)
    chars = [] if field is None else field.findall(f"{w('r')}/{w('fldChar')}")
    if not chars or chars[-1].get(w("fldCharType")) != "end":
        return True                   # no field, or its list is already there
    headings = [(lvl, p) for p in body if (lvl := _heading_level(p)) is not None and lvl <= 3]
    if not headings:
        return True
    end_run = chars[-1].getparent()
    if len(end_run.findall(w("fldChar"))) > 1:      # begin, separate and end in one run: split off the end
        end_run.remove(chars[-1])
        end_run = _run(None, fld="end")
    else:
        field.remove(end_run)
    top = min(lvl for lvl, _ in headings)
    at = field
    for k, (lvl, h) in enumerate(headings):
        p = field if k == 0 else etree.Element(w("p"))
        p_pr = props(p, "pPr")
        child(p_pr, "pStyle", P_ORDER).set(w("val"), f"TOC{lvl - top + 1}")
        child(p_pr, "ind", P_ORDER).set(w("left"), str(CONTENTS_INDENT * (lvl - top)))
        link = etree.SubElement(p, w("hyperlink"))
        if (name := _anchor(h)) is not None:
            link.set(w("anchor"), name)
        link.append(_run(None, text="".join(t.text or "" for t in h.iter(w("t")))))
        if k:
            at.addnext(p)
            at = p
    at.append(end_run)
    return True


def polish(path: Path, *, notice: str | None = None, review: bool = False) -> None:
    """Rewrite the Word file at ``path`` in place, finished (see the module's docstring)."""
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i.filename) for i in infos}
    root = etree.fromstring(parts[DOCUMENT])
    body = root.find(w("body"))
    body_sect = body.find(w("sectPr"))
    if body_sect is None:
        body_sect = etree.SubElement(body, w("sectPr"))
    for tag, values in (("pgSz", DEFAULT_PAGE), ("pgMar", DEFAULT_MARGINS)):
        if body_sect.find(w(tag)) is None:
            child(body_sect, tag, SECT_ORDER).attrib.update({w(k): v for k, v in values.items()})
    _one_paragraph_props(root)
    _unwrap_floats(body)
    _numbered_fields(body)
    _contents_page(body)
    width = text_width(root)
    for tbl in list(root.iter(w("tbl"))):
        caption, notes = _caption_and_notes(tbl)
        top_level = tbl.getparent() is body
        if top_level:
            _full_width(tbl)
        wide = _columns(tbl) >= LANDSCAPE_COLUMNS and top_level
        if wide:
            _landscape(tbl, caption, notes, body_sect)
            size = body_sect.find(w("pgSz"))
            margin = body_sect.find(w("pgMar"))
            landscape_width = int(size.get(w("h"))) - int(margin.get(w("left"), 0)) - int(margin.get(w("right"), 0))
        _polish_table(tbl, landscape_width if wide else width)
        _keep_together(tbl, caption, notes)
    _furniture(parts, root, notice)
    _without_local_paths(parts)
    _author_property(parts)
    if review:
        _review(parts, root)
    parts[DOCUMENT] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    tmp = Path(tempfile.mkstemp(suffix=".docx", dir=path.parent)[1])
    names = [i.filename for i in infos]
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in infos:
            dst.writestr(item, parts[item.filename])
        for name in parts:
            if name not in names:
                dst.writestr(name, parts[name])
    shutil.move(tmp, path)
