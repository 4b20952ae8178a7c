"""Build code/perinatal_csc/resources/reference.docx: pandoc's default reference document with a
table style that survives in Word (ruled header and bottom, compact text).

Run again only to change the Word look:  .venv/bin/python scripts/make_reference_docx.py
"""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import docx
import pypandoc
from docx.oxml.ns import qn
from docx.oxml import parse_xml

OUT = Path(__file__).resolve().parents[1] / "code" / "perinatal_csc" / "resources" / "reference.docx"
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
  <w:tcPr><w:tcBorders><w:bottom w:val="single" w:sz="6" w:space="0" w:color="000000"/></w:tcBorders></w:tcPr>
</w:tblStylePr>"""


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
    for name in ("Table Caption", "Image Caption"):
        if name in [s.name for s in d.styles]:
            d.styles[name].font.bold = True if name == "Table Caption" else None
    d.save(str(OUT))
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
