"""Rebuild tests/fixtures/review/libreoffice-reviewed.docx: the review test project rendered to Word,
reviewed as Microsoft Word writes reviews (tests/review_project.py), then opened and saved by
LibreOffice headless, so the tests also read LibreOffice's way of writing comments and tracked changes.

    .venv/bin/python scripts/make_review_fixture.py      # needs soffice (Debian: libreoffice-writer)
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from review_project import render_docx, reviewed, write_project  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "review" / "libreoffice-reviewed.docx"


def main() -> None:
    soffice = shutil.which("soffice") or sys.exit("soffice not found: install LibreOffice (libreoffice-writer)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        draft = reviewed(render_docx(write_project(tmp / "project")), tmp / "word-reviewed.docx")
        out_dir = tmp / "lo"
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to",
                        "docx:MS Word 2007 XML", "--outdir", str(out_dir), str(draft)], check=True,
                       capture_output=True, timeout=180)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out_dir / draft.name, OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
