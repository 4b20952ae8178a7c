"""Build code/perinatal_csc/render/resources/reference.docx: pandoc's default reference document on A4 with
a table style that survives in Word (booktabs-like rules: top, under the header, bottom; 9 pt text),
a small "Table Note" paragraph style for source notes under tables, and upright bold table captions.

Run again only to change the Word look:  .venv/bin/python scripts/make_reference_docx.py
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docx
import pypandoc
from docx.oxml.ns import qn
from docx.oxml import parse_xml

OUT = Path(__file__).resolve().parents[1] / "code" / "perinatal_csc" / "render" / "resources" / "reference.docx"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

TABLE_STYLE_PR = f"""
<w:tblPr {W}>
  <w:tblStyleRowBandSize w:val="1"/>
  <w:tblBorders>
    <w:top w:val="single" w:sz="8" w:space="0" w:color="000000"/>
    <w:bottom w:val="single" w:sz="8" w:space="0" w:color="000000"/>
  </w:tblBorders>
  <w:tblCellMar>
    <w:top w:w="20" w:type="dxa"/><w:left w:w="80" w:type="dxa"/>
    <w:bottom w:w="20" w:type="dxa"/><w:right w:w="80" w:type="dxa"/>
  </w:tblCellMar>
</w:tblPr>"""

FIRST_ROW = f"""
<w:tblStylePr {W} w:type="firstRow">
  <w:rPr><w:b/></w:rPr>
  <w:tcPr><w:tcBorders><w:bottom w:val="single" w:sz="6" w:space="0" w:color="000000"/></w:tcBorders>
    <w:vAlign w:val="bottom"/></w:tcPr>
</w:tblStylePr>"""

TABLE_NOTE = f"""
<w:style {W} w:type="paragraph" w:customStyle="1" w:styleId="TableNote">
  <w:name w:val="Table Note"/><w:basedOn w:val="Normal"/><w:qFormat/>
  <w:pPr><w:spacing w:before="20" w:after="40" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:rPr><w:sz w:val="16"/><w:szCs w:val="16"/></w:rPr>
</w:style>"""

A4_PAGE = f"""
<w:sectPr {W}>
  <w:footnotePr><w:numRestart w:val="eachSect"/></w:footnotePr>
  <w:pgSz w:w="11906" w:h="16838"/>
  <w:pgMar w:top="1247" w:right="1247" w:bottom="1247" w:left="1247" w:header="709" w:footer="709" w:gutter="0"/>
</w:sectPr>"""


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    raw = subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file", "reference.docx"],
                         check=True, capture_output=True).stdout
    OUT.write_bytes(raw)
    d = docx.Document(str(OUT))
    style = d.styles["Table"]
    el = style.element
    for old in el.findall(qn("w:tblPr")) + el.findall(qn("w:tblStylePr")):
        el.remove(old)
    el.append(parse_xml(TABLE_STYLE_PR))
    el.append(parse_xml(FIRST_ROW))
    style.font.size = docx.shared.Pt(9)
    names = [s.name for s in d.styles]
    if "Table Caption" in names:
        cap = d.styles["Table Caption"]
        cap.font.bold, cap.font.italic = True, False
        cap.paragraph_format.space_before = docx.shared.Pt(12)
    if "Table Note" not in names:
        d.styles.element.append(parse_xml(TABLE_NOTE))
    body = d.element.body
    for old in body.findall(qn("w:sectPr")):
        body.remove(old)
    body.append(parse_xml(A4_PAGE))
    d.save(str(OUT))
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
