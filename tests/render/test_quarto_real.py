"""The project's sources under a real Quarto CLI (``make test-quarto``; not part of ``make test``).

A copy of the working tree with its own git history, rendered two ways a Quarto user would: plain
``quarto render`` with only ``QUARTO_PYTHON`` set (the package's environment not on PATH), and
``perinatal-csc render`` with Quarto on PATH. Then the files are read back: every document in every
format, the figure files, PDF pages with nothing past the text area or printed over other text, the
"(continued)" headers and landscape pages of the built-in path, no code or escaped markdown where
prose belongs, Word without layout tables and with a landscape section, a one-file HTML, and the same
word count and table and figure numbering as the built-in path. Quarto is found as ``$QUARTO`` or on
PATH; without it these tests fail (build one with ../shared/tools/quarto/build.sh).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pdfplumber
import pytest
from lxml import etree

from perinatal_csc.render.driver import document_formats
from perinatal_csc.render.project import documents, project_config
from perinatal_csc.render.qmd import read_document

from pdf_layout import body_words, overprinted

pytestmark = [pytest.mark.quarto, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FORMATS = ["html", "docx", "pdf"]
CM = 72 / 2.54
MARGIN = 2.2 * CM


def quarto_binary() -> str:
    found = os.environ.get("QUARTO") or shutil.which("quarto")
    if not found:
        pytest.fail("no Quarto: set QUARTO or put a Quarto's bin/ on PATH (../shared/tools/quarto/build.sh builds one)")
    return found


def copy_project(target: Path) -> Path:
    """The working tree's files (tracked and new, not ignored) in ``target``, committed in a new repository."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "copy"], cwd=target, check=True)
    return target


def user_env(root: Path, *, quarto_on_path: bool) -> dict[str, str]:
    """A Quarto user's environment: this Python as QUARTO_PYTHON, its venv not on PATH (except that
    ``perinatal-csc render`` runs from it), the copy as the project root."""
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    quarto_bin = str(Path(quarto_binary()).parent)
    path = ([quarto_bin] if quarto_on_path else []) + [p for p in path if p != quarto_bin or quarto_on_path]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERINATAL_CSC_", "QUARTO_")) and k != "VIRTUAL_ENV"}
    env.update({"PATH": os.pathsep.join(path), "QUARTO_PYTHON": sys.executable, "PERINATAL_CSC_ROOT": str(root)})
    return env


def expected_outputs(root: Path) -> list[Path]:
    out = []
    for doc in documents(project_config(root)):
        for fmt in document_formats(read_document(root / doc, root), FORMATS):
            out.append(root / "_output" / f"{Path(doc).stem}.{fmt}")
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Plain `quarto render` on a fresh copy, as a Quarto user runs it."""
    root = copy_project(tmp_path_factory.mktemp("quarto-plain"))
    quarto = quarto_binary()
    t0 = time.perf_counter()
    run = subprocess.run([quarto, "render"], cwd=root, env=user_env(root, quarto_on_path=False),
                         capture_output=True, text=True)
    return {"root": root, "run": run, "seconds": time.perf_counter() - t0}


@pytest.fixture(scope="module")
def driven(tmp_path_factory):
    """`perinatal-csc render` with Quarto on PATH; then the built-in path's Word manuscript of the same copy."""
    root = copy_project(tmp_path_factory.mktemp("quarto-driven"))
    cli = str(Path(sys.executable).parent / "perinatal-csc")
    t0 = time.perf_counter()
    run = subprocess.run([cli, "render"], cwd=root, env=user_env(root, quarto_on_path=True),
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    kept = root / "quarto-index.docx"
    if (root / "_output" / "index.docx").exists():
        shutil.copy(root / "_output" / "index.docx", kept)
    builtin = subprocess.run([cli, "render", "--to", "docx"], cwd=root, env=user_env(root, quarto_on_path=False),
                             capture_output=True, text=True)
    return {"root": root, "run": run, "seconds": seconds, "quarto_docx": kept, "builtin_run": builtin}


def pdf_pages(path: Path) -> list[dict]:
    with pdfplumber.open(path) as pdf:
        return [{"width": float(p.width), "height": float(p.height), "text": p.extract_text() or "",
                 "words": p.extract_words(keep_blank_chars=False, use_text_flow=False)} for p in pdf.pages]


def docx_root(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("word/document.xml"))


def docx_text(path: Path) -> list[str]:
    return ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in docx_root(path).iter(f"{W}p")]


def test_plain_quarto_render_writes_every_document_in_every_format_and_the_figures(plain):
    run = plain["run"]
    assert run.returncode == 0, run.stderr[-4000:]
    root = plain["root"]
    missing = [p.name for p in expected_outputs(root) if not p.exists()]
    assert missing == []
    extra = {p.name for p in (root / "_output").iterdir()} - {p.name for p in expected_outputs(root)} - {"figures"}
    assert extra == set()       # nothing Quarto copied beside the finished, self-contained files
    figures = sorted(p.name for p in (root / "_output" / "figures").glob("figure-*"))
    assert figures and any(n.startswith("figure-1-") and n.endswith(".pdf") for n in figures), figures


def test_perinatal_csc_render_with_quarto_on_path_writes_every_document(driven):
    run = driven["run"]
    assert run.returncode == 0, run.stderr[-4000:]
    assert "with Quarto" in run.stdout + run.stderr
    assert [p.name for p in expected_outputs(driven["root"]) if not p.exists()] == []


@pytest.mark.parametrize("doc", ["index", "supplement"])
def test_quarto_pdf_pages_read_as_the_built_in_ones(plain, doc):
    pages = pdf_pages(plain["root"] / "_output" / f"{doc}.pdf")
    text = "\n".join(p["text"] for p in pages)
    for bad in ("{python}", "\\*", "<Figure", "[(", "?@"):
        assert bad not in text, f"{doc}.pdf shows {bad!r}"
    past = [(i, w["text"]) for i, p in enumerate(pages, 1) for w in body_words(p)
            if w["x1"] > p["width"] - MARGIN + 6 or w["x0"] < MARGIN - 6]
    assert past == []
    over = {i: overprinted(p["words"])[:3] for i, p in enumerate(pages, 1) if overprinted(p["words"])}
    assert over == {}
    assert re.search(r"Table \d+ \(continued\)", text)
    if doc == "index":
        assert any(p["width"] > p["height"] for p in pages), "no landscape page for the wide tables"


@pytest.mark.parametrize("doc", ["index", "supplement"])
def test_quarto_word_has_no_layout_tables_and_a_landscape_section(plain, doc):
    root = docx_root(plain["root"] / "_output" / f"{doc}.docx")
    assert root.findall(f".//{W}tbl//{W}tbl") == []
    orients = {s.find(f"{W}pgSz").get(f"{W}orient") for s in root.iter(f"{W}sectPr") if s.find(f"{W}pgSz") is not None}
    assert "landscape" in orients
    text = "\n".join(docx_text(plain["root"] / "_output" / f"{doc}.docx"))
    for bad in ("{python}", "\\*", "<Figure", "[("):
        assert bad not in text


@pytest.mark.parametrize("doc", ["index", "supplement", "summary", "report"])
def test_quarto_html_is_one_file(plain, doc):
    html = (plain["root"] / "_output" / f"{doc}.html").read_text(encoding="utf-8")
    refs = re.findall(r"<(?:script|img|link)\b[^>]*\b(?:src|href)=[\"']([^\"'#]+)[\"']", html)
    assert [r for r in refs if not r.startswith("data:")] == []
    assert "{python}" not in html


def test_quarto_and_the_built_in_path_count_and_number_alike(driven):
    assert driven["run"].returncode == 0 and driven["builtin_run"].returncode == 0, driven["builtin_run"].stderr[-3000:]
    under_quarto = docx_text(driven["quarto_docx"])
    builtin = docx_text(driven["root"] / "_output" / "index.docx")

    def counts(lines):
        return [x for x in lines if x.startswith("Word counts:")]

    def numbering(lines):
        return [m.group(0).replace("\u00a0", " ") for x in lines if (m := re.match(r"(Table|Figure)[\s\u00a0]\d+(?=:)", x))]

    def authors(path):
        return ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in docx_root(path).iter(f"{W}p")
                if (st := p.find(f"{W}pPr/{W}pStyle")) is not None and st.get(f"{W}val") == "Author"]

    assert authors(driven["quarto_docx"]) == authors(driven["root"] / "_output" / "index.docx") != []
    assert counts(builtin) and counts(under_quarto) == counts(builtin)
    assert numbering(builtin) and numbering(under_quarto) == numbering(builtin)
