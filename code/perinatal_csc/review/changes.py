"""``perinatal-csc review changes``: the current draft with its differences from an earlier one marked
as real Word tracked changes, so co-authors read only what changed.

Body paragraphs and tables are aligned in document order; a changed paragraph or table cell is
rewritten word by word as ``w:del`` (deleted words) and ``w:ins`` (inserted words); a new paragraph is
marked inserted and a removed one is put back as deleted. Word's "Accept all" gives the current draft
and "Reject all" the previous one (as text).
"""
from __future__ import annotations

import copy
import datetime as _dt
import difflib
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

from ..render.word import P_ORDER, child, props
from .draft import read_draft, w

AUTHOR = "perinatal-csc (changes since the previous draft)"
TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
WORD = re.compile(r"\w+|[^\w\s]")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
SIMILAR = 0.5  # paragraphs less alike than this are shown as one deleted and one inserted


class _Marker:
    def __init__(self) -> None:
        self.next_id = 10_000
        self.date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def element(self, tag: str) -> etree._Element:
        self.next_id += 1
        return etree.Element(w(tag), {w("id"): str(self.next_id), w("author"): AUTHOR, w("date"): self.date})


def _text(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(w("t")))


def _run(text: str, rpr: etree._Element | None, deleted: bool = False) -> etree._Element:
    r = etree.Element(w("r"))
    if rpr is not None:
        r.append(copy.deepcopy(rpr))
    t = etree.SubElement(r, w("delText" if deleted else "t"))
    t.text = text
    t.set(XML_SPACE, "preserve")
    return r


def _first_rpr(p: etree._Element) -> etree._Element | None:
    run = p.find(f".//{w('r')}")
    return run.find(w("rPr")) if run is not None else None


def _rewrite(p: etree._Element, old: str, marker: _Marker) -> int:
    """Replace ``p``'s runs by a word-level diff from ``old`` to its current text; return the changes made."""
    new = _text(p)
    rpr = _first_rpr(p)
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    for el in list(p):
        if etree.QName(el).localname != "pPr":
            p.remove(el)
    changes = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            p.append(_run("".join(b[j1:j2]), rpr))
            continue
        changes += 1
        if i2 > i1:
            d = marker.element("del")
            d.append(_run("".join(a[i1:i2]), rpr, deleted=True))
            p.append(d)
        if j2 > j1:
            ins = marker.element("ins")
            ins.append(_run("".join(b[j1:j2]), rpr))
            p.append(ins)
    return changes


def _mark_paragraph(p: etree._Element, kind: str, marker: _Marker) -> None:
    """Mark every run of ``p`` (and its paragraph mark) inserted or deleted."""
    child(props(p, "pPr"), "rPr", P_ORDER).append(marker.element(kind))
    for r in [r for r in p.iter(w("r")) if r.getparent().tag not in (w("ins"), w("del"))]:
        if kind == "del":
            for t in r.iter(w("t")):
                t.tag = w("delText")
        wrapper = marker.element(kind)
        r.addprevious(wrapper)
        wrapper.append(r)


def _blocks(body: etree._Element) -> list[etree._Element]:
    return [el for el in body if el.tag in (w("p"), w("tbl"))]


def _key(el: etree._Element) -> str:
    if el.tag == w("tbl"):
        return "TABLE\0" + "\0".join(_text(tc) for tc in el.iter(w("tc")))
    return _text(el)


def _cells(tbl: etree._Element) -> list[list[etree._Element]]:
    return [tr.findall(w("tc")) for tr in tbl.findall(w("tr"))]


def _diff_table(old: etree._Element, new: etree._Element, marker: _Marker) -> int:
    """Mark changed cells of a table whose shape is unchanged; else the whole table as replaced."""
    a, b = _cells(old), _cells(new)
    if [len(r) for r in a] != [len(r) for r in b]:
        for p in new.iter(w("p")):
            _mark_paragraph(p, "ins", marker)
        gone = copy.deepcopy(old)
        for p in gone.iter(w("p")):
            _mark_paragraph(p, "del", marker)
        new.addprevious(gone)
        return 1
    changes = 0
    for row_a, row_b in zip(a, b):
        for ca, cb in zip(row_a, row_b):
            if _text(ca) != _text(cb):
                pa, pb = ca.findall(w("p")), cb.findall(w("p"))
                for k, p in enumerate(pb):
                    changes += _rewrite(p, _text(pa[k]) if k < len(pa) else "", marker)
    return changes


def compare(previous: Path, current: Path, out: Path) -> int:
    """Write ``out``: ``current`` with its differences from ``previous`` as tracked changes; return how
    many changes were marked."""
    for path in (previous, current):
        read_draft(path)  # a clear error for a missing, damaged or non-Word file
    with zipfile.ZipFile(previous) as z:
        old_body = etree.fromstring(z.read("word/document.xml")).find(w("body"))
    with zipfile.ZipFile(current) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i.filename) for i in infos}
    root = etree.fromstring(parts["word/document.xml"])
    body = root.find(w("body"))
    old_blocks, new_blocks = _blocks(old_body), _blocks(body)
    marker = _Marker()
    changes = 0
    matcher = difflib.SequenceMatcher(None, [_key(b) for b in old_blocks], [_key(b) for b in new_blocks],
                                      autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        olds, news = old_blocks[i1:i2], new_blocks[j1:j2]
        paired = min(len(olds), len(news)) if op == "replace" else 0
        for o, n in zip(olds[:paired], news[:paired]):
            similar = difflib.SequenceMatcher(None, WORD.findall(_key(o)), WORD.findall(_key(n)),
                                              autojunk=False).ratio() >= SIMILAR
            if o.tag == n.tag == w("p") and similar:
                changes += _rewrite(n, _text(o), marker)
            elif o.tag == n.tag == w("tbl"):
                changes += _diff_table(o, n, marker)
            else:
                olds.append(o)
                news.append(n)
        for n in news[paired:]:
            for p in ([n] if n.tag == w("p") else list(n.iter(w("p")))):
                _mark_paragraph(p, "ins", marker)
            changes += 1
        anchor = new_blocks[j1] if j1 < len(new_blocks) else None
        for o in olds[paired:]:
            gone = copy.deepcopy(o)
            for p in ([gone] if gone.tag == w("p") else list(gone.iter(w("p")))):
                _mark_paragraph(p, "del", marker)
            if anchor is not None:
                anchor.addprevious(gone)
            else:
                body.find(w("sectPr")).addprevious(gone)
            changes += 1
    parts["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkstemp(suffix=".docx", dir=out.parent)[1])
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in infos:
            dst.writestr(item, parts[item.filename])
    shutil.move(tmp, out)
    return changes
