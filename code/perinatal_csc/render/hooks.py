"""The project's pre- and post-render steps, run by Quarto (``_quarto.yml``) and by the built-in path.

    python -m perinatal_csc.render.hooks pre-render    # writes _provenance.yml and _crossref.yml
    python -m perinatal_csc.render.hooks post-render   # finishes each output file

Quarto runs them as ``scripts/quarto_hook.py`` (with ``QUARTO_PYTHON``); under a plain ``quarto render``
the pre-render step also runs the analysis when its release is not current (creating the synthetic
cohort on a fresh clone), so every document's kernel reads one release.

One implementation for both renderers, so what the built-in path's tests prove about the Word tables
and the single-file HTML holds under Quarto too.
"""
from __future__ import annotations

import base64
import mimetypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from ..config import Config
from .crossref import write_label_map
from ..files import yaml_text
from ..paths import QUARTO_FIGURE_EXPORTS, figure_export_key
from .project import PROVENANCE_FILE, documents, project_config
from .qmd import Document, read_document
from .provenance import provenance
from .word import polish

LINK_RE = re.compile(r"<link\b[^>]*\brel=[\"']stylesheet[\"'][^>]*>", re.I)
SCRIPT_RE = re.compile(r"<script\b([^>]*)\bsrc=[\"']([^\"']+)[\"']([^>]*)>\s*</script>", re.I)
IMG_RE = re.compile(r"(<img\b[^>]*\bsrc=)([\"'])([^\"']+)\2", re.I)
HREF_RE = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.I)
CSS_URL_RE = re.compile(r"url\(\s*([\"']?)([^)\"']+)\1\s*\)")


def write_provenance(config: Config, root: Path, renderer: str, *, review: bool = False,
                     blind: bool = False) -> dict[str, str | bool]:
    """Write ``_provenance.yml`` for this render and return its keys."""
    prov = provenance(config, root, renderer, review=review, blind=blind)
    (root / PROVENANCE_FILE).write_text(yaml_text(prov), encoding="utf-8")
    return prov


def _local(ref: str) -> bool:
    return not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", ref, re.I)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(css: str, base: Path) -> str:
    def repl(m: re.Match) -> str:
        ref = m.group(2)
        target = (base / ref.split("#")[0].split("?")[0])
        return f"url({_data_uri(target)})" if _local(ref) and target.is_file() else m.group(0)
    return CSS_URL_RE.sub(repl, css)


#: What Quarto puts in the head of any page whose cells show HTML (for interactive "widgets"; the
#: project's tables and figures are static): require.js and jQuery from a CDN (cdnjs in Quarto 1.7,
#: jsDelivr in 1.10), and their glue.
WIDGET_LOADER_RES = (
    re.compile(r"<script\b[^>]*\bsrc=[\"']https://(?:cdnjs\.cloudflare\.com/ajax/libs/(?:require\.js|jquery)/"
               r"|cdn\.jsdelivr\.net/npm/(?:requirejs|jquery)@)[^\"']*[\"'][^>]*>\s*</script>\s*", re.I),
    re.compile(r"<script type=\"application/javascript\">define\('jquery', \[\],function\(\) \{return window\.jQuery;\}\)</script>\s*"),
)


def drop_widget_loaders(text: str) -> str:
    """``text`` without Quarto's widget loaders (a single-file page must not fetch scripts it never uses)."""
    for pattern in WIDGET_LOADER_RES:
        text = pattern.sub("", text)
    return text


def embed_resources(html: Path) -> list[str]:
    """Rewrite ``html`` so it needs no other file: local stylesheets, scripts, images and the fonts and
    images those stylesheets name are inlined. Returns the local references that could not be found."""
    base = html.parent
    text = html.read_text(encoding="utf-8")
    missing: list[str] = []

    def target(ref: str) -> Path | None:
        path = base / ref.split("#")[0].split("?")[0]
        if path.is_file():
            return path
        missing.append(ref)
        return None

    def css(m: re.Match) -> str:
        href = HREF_RE.search(m.group(0))
        if not href or not _local(href.group(1)) or (path := target(href.group(1))) is None:
            return m.group(0)
        return f"<style>\n{_inline_css(path.read_text(encoding='utf-8'), path.parent)}\n</style>"

    def script(m: re.Match) -> str:
        if not _local(m.group(2)) or (path := target(m.group(2))) is None:
            return m.group(0)
        body = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
        return f"<script{m.group(1)}{m.group(3)}>\n{body}\n</script>"

    def img(m: re.Match) -> str:
        if not _local(m.group(3)) or (path := target(m.group(3))) is None:
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{_data_uri(path)}{m.group(2)}"

    text = IMG_RE.sub(img, SCRIPT_RE.sub(script, LINK_RE.sub(css, drop_widget_loaders(text))))
    html.write_text(text, encoding="utf-8")
    return missing


def read_settings(root: Path) -> dict[str, Any]:
    """This render's ``_provenance.yml`` (written by the pre-render step), or nothing."""
    path = root / PROVENANCE_FILE
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def post_render(outputs: list[Path], settings: dict[str, Any] | None = None) -> None:
    """Finish every rendered file: the Word document (``word.polish``: tables, page numbers, running
    header, review mode) and a single-file HTML."""
    settings = settings or {}
    for path in outputs:
        if path.suffix == ".docx" and path.exists():
            polish(path, notice=settings.get("data-notice"), review=bool(settings.get("review")))
        elif path.suffix == ".html" and path.exists():
            embed_resources(path)


def export_figures(doc: Document, exports: Path, target: Path, *, by_code: bool = False) -> list[Path]:
    """Copy each figure's own files to ``target`` as ``figure-<N>-<label>.<ext>``, N being its number
    in the manuscript (fig- labels in document order); the folder holds only this render's figures.
    The files in ``exports`` are named by label, or (``by_code``, Quarto's kernel) by the cell's code."""
    if target.exists():
        shutil.rmtree(target)
    cells = [c for c in doc.chunks if c.kind == "code" and (c.label or "").startswith("fig-")]
    written = []
    for n, cell in enumerate(cells, start=1):
        label = cell.label
        for src in sorted(exports.glob(f"{figure_export_key(cell.text) if by_code else label}.*")):
            target.mkdir(parents=True, exist_ok=True)
            written.append(shutil.copyfile(src, target / f"figure-{n}-{label[4:]}{src.suffix}"))
    return written


def _drop_inlined_copies(root: Path, outputs: list[Path]) -> list[Path]:
    """Remove what Quarto copied beside the outputs and the finished files no longer need: each HTML
    page's ``<stem>_files`` folder and the project's stylesheets (all inlined or embedded by now)."""
    out_dir = outputs[0].parent
    removed = []
    for stem in {p.stem for p in outputs if p.suffix == ".html"}:
        folder = out_dir / f"{stem}_files"
        if folder.is_dir():
            shutil.rmtree(folder)
            removed.append(folder)
    sheets = ((project_config(root).get("format") or {}).get("html") or {}).get("css") or []
    for css in sheets if isinstance(sheets, list) else [sheets]:
        copy = out_dir / str(css)
        if copy.is_file() and copy.resolve() != (root / str(css)).resolve():
            copy.unlink()
            removed.append(copy)
            for parent in copy.parents:
                if parent == out_dir or not parent.is_dir() or any(parent.iterdir()):
                    break
                parent.rmdir()
    return removed


def _quarto_outputs() -> list[Path]:
    root = Path(os.environ.get("QUARTO_PROJECT_DIR") or Path.cwd())
    listed = os.environ.get("QUARTO_PROJECT_OUTPUT_FILES", "")
    return [p if p.is_absolute() else root / p for p in (Path(x) for x in listed.splitlines() if x.strip())]


def _quarto_renderer() -> str:
    quarto = shutil.which("quarto")
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip() if quarto else ""
    return f"Quarto {version}".strip()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(os.environ.get("QUARTO_PROJECT_DIR") or Path.cwd())
    if args == ["pre-render"]:
        from ..report import config_from_environment

        config = config_from_environment()
        renderer = os.environ.get("PERINATAL_CSC_RENDERER")
        if not renderer:        # a plain `quarto render`: analyse here, once, as `perinatal-csc render` does first
            from ..pipeline import analyse

            renderer = _quarto_renderer()
            analyse(config, progress=lambda m: print(f"perinatal-csc: {m}", file=sys.stderr, flush=True))
        write_provenance(config, root, renderer,
                         review=os.environ.get("PERINATAL_CSC_REVIEW") == "1",
                         blind=os.environ.get("PERINATAL_CSC_BLIND") == "1")
        write_label_map(root, documents(project_config(root)))
        shutil.rmtree(root / QUARTO_FIGURE_EXPORTS, ignore_errors=True)   # the kernels write this render's
        return 0
    if args == ["post-render"]:
        outputs = _quarto_outputs()
        post_render(outputs, read_settings(root))
        if outputs:
            _drop_inlined_copies(root, outputs)
        article = documents(project_config(root))[0]
        if any(p.stem == Path(article).stem for p in outputs):
            export_figures(read_document(root / article, root), root / QUARTO_FIGURE_EXPORTS,
                           outputs[0].parent / "figures", by_code=True)
        return 0
    print("usage: python -m perinatal_csc.render.hooks pre-render|post-render", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
