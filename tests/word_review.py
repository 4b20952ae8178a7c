"""Test helper: review a rendered Word draft the way Microsoft Word writes it.

Tracked changes are ``w:del`` (runs with ``w:delText``) and ``w:ins`` elements with an id, author and
date around split runs; a comment is a ``word/comments.xml`` part (with its relationship and content
type) anchored by ``w:commentRangeStart``/``w:commentRangeEnd`` and a run holding
``w:commentReference``. Written independently of the package's reader.
"""
from __future__ import annotations

import copy
import zipfile
from pathlib import Path

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
DATE = "2026-11-30T10:00:00Z"


def _text(p) -> str:
    return "".join(t.text or "" for t in p.iter(f"{W}t"))


class WordReview:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with zipfile.ZipFile(self.path) as z:
            self.parts = {n: z.read(n) for n in z.namelist()}
        self.root = etree.fromstring(self.parts["word/document.xml"])
        self.next_id = 900
        self.comments: list[tuple[int, str, str]] = []

    def paragraph(self, contains: str, in_table: bool = False):
        for p in self.root.iter(f"{W}p"):
            inside = any(a.tag == f"{W}tbl" for a in p.iterancestors())
            if inside == in_table and contains in _text(p):
                return p
        raise AssertionError(f"no paragraph contains {contains!r}")

    def _split(self, p, start: int, end: int):
        """Split ``p``'s runs so that [start, end) of its text is exactly some runs; return those runs."""
        pos = 0
        for r in list(p.iter(f"{W}r")):
            t = r.find(f"{W}t")
            if t is None:
                continue
            text = t.text or ""
            a, b = pos, pos + len(text)
            for cut in (start, end):
                if a < cut < b:
                    left = copy.deepcopy(r)
                    left.find(f"{W}t").text = text[:cut - a]
                    left.find(f"{W}t").set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                    t.text = text[cut - a:]
                    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                    r.addprevious(left)
                    return self._split(p, start, end)
            pos = b
        out, pos = [], 0
        for r in p.iter(f"{W}r"):
            t = r.find(f"{W}t")
            if t is None:
                continue
            n = len(t.text or "")
            if start <= pos and pos + n <= end and n:
                out.append(r)
            pos += n
        return out

    def _mark(self, tag: str, author: str):
        self.next_id += 1
        return etree.Element(f"{W}{tag}", {f"{W}id": str(self.next_id), f"{W}author": author, f"{W}date": DATE})

    def replace(self, p, old: str, new: str, author: str = "Co-author A") -> None:
        """Track-change ``old`` (its first occurrence in ``p``) into ``new``."""
        start = _text(p).index(old)
        runs = self._split(p, start, start + len(old))
        deleted = self._mark("del", author)
        runs[0].addprevious(deleted)
        for r in runs:
            t = r.find(f"{W}t")
            t.tag = f"{W}delText"
            deleted.append(r)
        if new:
            inserted = self._mark("ins", author)
            run = copy.deepcopy(runs[0])
            dt = run.find(f"{W}delText")
            dt.tag = f"{W}t"
            dt.text = new
            inserted.append(run)
            deleted.addnext(inserted)

    def insert(self, p, after: str, new: str, author: str = "Co-author A") -> None:
        end = _text(p).index(after) + len(after)
        runs = self._split(p, 0, end)
        inserted = self._mark("ins", author)
        run = copy.deepcopy(runs[-1])
        run.find(f"{W}t").text = new
        run.find(f"{W}t").set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        inserted.append(run)
        runs[-1].addnext(inserted)

    def comment(self, p, anchor: str, text: str, author: str = "Co-author B") -> None:
        start = _text(p).index(anchor)
        runs = self._split(p, start, start + len(anchor))
        cid = len(self.comments)
        runs[0].addprevious(etree.Element(f"{W}commentRangeStart", {f"{W}id": str(cid)}))
        runs[-1].addnext(etree.Element(f"{W}commentRangeEnd", {f"{W}id": str(cid)}))
        ref = etree.Element(f"{W}r")
        etree.SubElement(ref, f"{W}commentReference", {f"{W}id": str(cid)})
        p.find(f"{W}commentRangeEnd[@{W}id='{cid}']").addnext(ref)
        self.comments.append((cid, author, text))

    def save(self, out: Path) -> Path:
        parts = dict(self.parts)
        parts["word/document.xml"] = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                                                    standalone=True)
        if self.comments:
            body = "".join(f'<w:comment w:id="{cid}" w:author="{a}" w:date="{DATE}" w:initials="X">'
                           f'<w:p><w:r><w:t xml:space="preserve">{t}</w:t></w:r></w:p></w:comment>'
                           for cid, a, t in self.comments)
            parts["word/comments.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                          f'<w:comments xmlns:w="{W_NS}">{body}</w:comments>').encode()
            rels = parts["word/_rels/document.xml.rels"].decode()
            if "comments.xml" not in rels:
                rels = rels.replace("</Relationships>", '<Relationship Id="rIdTestComments" Type="http://schemas.'
                                    'openxmlformats.org/officeDocument/2006/relationships/comments" '
                                    'Target="comments.xml"/></Relationships>')
            parts["word/_rels/document.xml.rels"] = rels.encode()
            types = parts["[Content_Types].xml"].decode()
            if "/word/comments.xml" not in types:
                types = types.replace("</Types>", '<Override PartName="/word/comments.xml" ContentType="application/'
                                      'vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/></Types>')
            parts["[Content_Types].xml"] = types.encode()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(name, data)
        return out
