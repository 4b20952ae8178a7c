"""A Word draft as a reviewer returns it: paragraphs with tracked changes, comments and properties.

Word and LibreOffice both write comments to ``word/comments.xml`` (anchored in the text by
``w:commentRangeStart``/``w:commentRangeEnd``) and tracked changes as ``w:ins``/``w:del`` (moves as
``w:moveFrom``/``w:moveTo``); LibreOffice also anchors a comment with only a ``w:commentReference``.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import UserError

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
INSERTED, DELETED, SAME = "ins", "del", "same"


class DraftError(UserError):
    """The file is not a readable Word draft of this manuscript."""


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


@dataclass
class Piece:
    text: str
    kind: str            # SAME, INSERTED or DELETED
    author: str = ""
    date: str = ""


@dataclass
class Paragraph:
    """One paragraph of the draft: its text before the review (``original``) and after it."""

    index: int
    style: str | None
    in_table: bool
    pieces: list[Piece] = field(default_factory=list)

    @property
    def original(self) -> str:
        return "".join(p.text for p in self.pieces if p.kind != INSERTED)

    @property
    def revised(self) -> str:
        return "".join(p.text for p in self.pieces if p.kind != DELETED)

    @property
    def changed(self) -> bool:
        return any(p.kind != SAME and p.text for p in self.pieces)

    def changes(self) -> list[tuple[int, int, str, str]]:
        """Each run of tracked changes as (start, end) in the original text, deleted text, inserted text."""
        out: list[tuple[int, int, str, str]] = []
        pos = 0
        for piece in self.pieces:
            if piece.kind == SAME:
                pos += len(piece.text)
                continue
            if out and out[-1][1] == pos and (piece.kind == INSERTED or not out[-1][3]):
                a, b, deleted, inserted = out.pop()
            else:
                a, b, deleted, inserted = pos, pos, "", ""
            if piece.kind == DELETED:
                deleted += piece.text
                b += len(piece.text)
                pos += len(piece.text)
            else:
                inserted += piece.text
            out.append((a, b, deleted, inserted))
        return [c for c in out if c[2] or c[3]]


@dataclass
class Comment:
    id: str
    author: str
    date: str
    text: str
    paragraph: int | None = None      # index of the paragraph where the anchor starts
    start: int = 0                    # offset in that paragraph's original text
    anchored: str = ""


@dataclass
class Draft:
    path: Path
    paragraphs: list[Paragraph]
    comments: list[Comment]
    properties: dict[str, str]


def _run_text(run: etree._Element) -> str:
    out = []
    for el in run:
        tag = etree.QName(el).localname
        if tag in ("t", "delText"):
            out.append(el.text or "")
        elif tag == "tab":
            out.append("\t")
        elif tag in ("br", "cr"):
            out.append(" ")
        elif tag == "noBreakHyphen":
            out.append("-")
    return "".join(out)


def _walk(el: etree._Element, kind: str, meta: tuple[str, str], para: Paragraph, marks: dict[str, list]) -> None:
    for child in el:
        tag = etree.QName(child).localname
        if tag == "r":
            text = _run_text(child)
            if text:
                para.pieces.append(Piece(text, kind, *meta))
        elif tag in ("ins", "moveTo"):
            _walk(child, INSERTED, (child.get(w("author"), ""), child.get(w("date"), "")), para, marks)
        elif tag in ("del", "moveFrom"):
            _walk(child, DELETED, (child.get(w("author"), ""), child.get(w("date"), "")), para, marks)
        elif tag in ("commentRangeStart", "commentRangeEnd"):
            marks.setdefault(child.get(w("id")), []).append((tag, para.index, len(para.original)))
        elif tag in ("hyperlink", "smartTag", "sdt", "sdtContent", "fldSimple", "customXml", "bdo", "dir"):
            _walk(child, kind, meta, para, marks)
        if tag == "r":
            ref = child.find(w("commentReference"))
            if ref is not None:
                marks.setdefault(ref.get(w("id")), []).append(("commentReference", para.index, len(para.original)))


def _properties(z: zipfile.ZipFile) -> dict[str, str]:
    if "docProps/custom.xml" not in z.namelist():
        return {}
    root = etree.fromstring(z.read("docProps/custom.xml"))
    out = {}
    for prop in root.findall(f"{{{CUSTOM_NS}}}property"):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return out


def read_draft(path: Path) -> Draft:
    """The draft's paragraphs (body and table cells, in document order), comments and properties."""
    path = Path(path)
    if not path.exists():
        raise DraftError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if "word/document.xml" not in names:
                raise DraftError(f"{path}: not a Word document (no word/document.xml inside)")
            root = etree.fromstring(z.read("word/document.xml"))
            comments_xml = etree.fromstring(z.read("word/comments.xml")) if "word/comments.xml" in names else None
            properties = _properties(z)
    except zipfile.BadZipFile:
        raise DraftError(f"{path}: not a Word document, or the file is damaged (not a valid .docx ZIP file)") from None
    except etree.XMLSyntaxError as e:
        raise DraftError(f"{path}: the Word document's XML is damaged ({e})") from None
    body = root.find(w("body"))
    if body is None:
        raise DraftError(f"{path}: the Word document has no body")
    paragraphs: list[Paragraph] = []
    marks: dict[str, list] = {}
    for p in body.iter(w("p")):
        style_el = p.find(f"{w('pPr')}/{w('pStyle')}")
        para = Paragraph(len(paragraphs), style_el.get(w("val")) if style_el is not None else None,
                         any(etree.QName(a).localname == "tbl" for a in p.iterancestors()))
        _walk(p, SAME, ("", ""), para, marks)
        paragraphs.append(para)
    comments = []
    if comments_xml is not None:
        for c in comments_xml.findall(w("comment")):
            cid = c.get(w("id"))
            text = "\n".join("".join(_run_text(r) for r in p.iter(w("r"))) for p in c.iter(w("p"))).strip()
            comment = Comment(cid, c.get(w("author"), ""), c.get(w("date"), ""), text)
            spots = marks.get(cid, [])
            starts = [s for s in spots if s[0] == "commentRangeStart"] or spots
            ends = [s for s in spots if s[0] == "commentRangeEnd"] or spots
            if starts:
                _, pi, off = starts[0]
                _, pj, end = ends[-1]
                comment.paragraph, comment.start = pi, off
                if pi == pj:
                    comment.anchored = paragraphs[pi].original[off:end]
                else:
                    comment.anchored = " ".join([paragraphs[pi].original[off:]] +
                                                [paragraphs[k].original for k in range(pi + 1, pj)] +
                                                [paragraphs[pj].original[:end]])
            comments.append(comment)
    return Draft(path, paragraphs, comments, properties)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
