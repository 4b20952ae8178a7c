"""Render the manuscript (HTML, Word, PDF) with Quarto when installed, else the built-in path.

The built-in path reads the same `_quarto.yml` and `.qmd` sources: cells are executed in one
Jupyter kernel (``execute``), the executed markdown goes through pandoc 3 (``pypandoc-binary``)
with ``resources/manuscript.lua`` (cross-references, native tables for Word and Typst) and
``--citeproc``; ``word`` finishes the Word tables and the Typst source is compiled to PDF
with the ``typst`` wheel. Executed results are cached under ``.cache/render/<key>/``; the key covers everything that feeds them.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from .. import __version__
from ..config import Config
from ..errors import UserError
from ..files import read_stamp, yaml_text
from ..paths import CROSSREF_FILE
from .hooks import export_figures, post_render, write_provenance
from .execute import EXPORT_DPI, EXPORTS, execute
from .crossref import write_label_map
from .project import documents, filters, lint, project_config
from .provenance import data_files, sha256_file
from .qmd import Document, SourceError, flatten, read_document, substitute_meta

RESOURCES = Path(__file__).resolve().parent / "resources"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
FORMATS = ("html", "docx", "pdf")
QUARTO_ONLY_KEYS = ("format", "execute", "project", "manuscript", "jupyter", "engine",
                    "number-sections", "toc", "reference-doc", "embed-resources", "csl", "bibliography",
                    "keywords",  # pandoc's Typst template writes keywords as code and fails
                    "filters", "metadata-files", "html-table-processing")
# `crossref` stays: the filter reads its tbl-title / fig-title on the built-in path
CACHE_KEEP = 4
Progress = Callable[[str], None]


class RenderError(UserError):
    """pandoc, Typst or Quarto failed; the message carries their own words."""


def render(config: Config, formats: list[str] | tuple[str, ...] = FORMATS, *, use_cache: bool = True,
           progress: Progress = lambda s: None, project_dir: Path | None = None,
           builtin: bool | None = None, review: bool = False, blind: bool = False,
           documents: list[str] | None = None) -> list[Path]:
    """Render the project's documents (``project.render`` of ``_quarto.yml``: the manuscript, its
    supplementary material, the plain-language summary), or only those named in ``documents``, into
    ``config.output_dir``; return the written files, the article's first.

    ``review`` adds line numbers and double spacing to Word and PDF, as journals ask of submitted
    manuscripts; ``blind`` leaves out authors, affiliations and acknowledgements for peer review.
    """
    wanted = _formats(formats)
    root = Path(project_dir or config.root).resolve()
    if builtin is None:
        builtin = bool(os.environ.get("PERINATAL_CSC_BUILTIN_RENDER")) or shutil.which("quarto") is None
    mode = {"review": review, "blind": blind}
    if not builtin:
        return _render_quarto(config, wanted, root, progress, mode, documents, use_cache=use_cache)
    return _render_builtin(config, wanted, root, use_cache, progress, mode, documents)


def _formats(formats: list[str] | tuple[str, ...]) -> list[str]:
    out = []
    for f in formats:
        f = {"typst": "pdf", "word": "docx"}.get(f.lower(), f.lower())
        if f not in FORMATS:
            raise UserError(f"unknown output format {f!r}: choose from {', '.join(FORMATS)}")
        if f not in out:
            out.append(f)
    if not out:
        raise UserError("no output format given (choose from html, docx, pdf)")
    return out


# -- cache key --------------------------------------------------------------------------------

def _feed(h: "hashlib._Hash", label: str, path: Path | None) -> None:
    h.update(label.encode() + b"\0")
    if path is None or not path.exists():
        h.update(b"<missing>\0")
        return
    for f in ([path] if path.is_file() else sorted(q for q in path.rglob("*") if q.is_file())):
        if "__pycache__" in f.parts:
            continue
        h.update(str(f.name).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())


def kernel_env(config: Config, run_dir: Path) -> dict[str, str]:
    """The per-run settings the chapters' kernel reads (see ``report.config_from_environment``)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg_file = run_dir / "config.yml"
    cfg_file.write_text(yaml.safe_dump(config.raw, sort_keys=True), encoding="utf-8")
    env = {
        "PERINATAL_CSC_CONFIG": str(cfg_file),
        "PERINATAL_CSC_SOURCE": config.source,
        "PERINATAL_CSC_DATA": str(config.data_path) if config.data_path else "",
        "PERINATAL_CSC_MAPPING": str(config.mapping_path) if config.mapping_path else "",
    }
    return env


def cache_key(config: Config, doc: Document, root: Path, env: dict[str, str]) -> str:
    """Hash of everything that feeds the executed results."""
    h = hashlib.sha256()
    h.update(f"python {sys.version}\0perinatal-csc {__version__}\0".encode())
    h.update(json.dumps({k: v for k, v in env.items() if k != "PERINATAL_CSC_CONFIG"}, sort_keys=True).encode())
    h.update(json.dumps(config.raw, sort_keys=True, default=str).encode())
    _feed(h, "package", PACKAGE_DIR)
    for name in ("requirements.lock", "pyproject.toml", "_quarto.yml"):
        _feed(h, name, root / name)
        if root != config.root:
            _feed(h, "project " + name, config.root / name)
    for label in ("codebook_path", "analysis_plan_path", "synthetic_parameters_path", "mapping_path"):
        _feed(h, label, getattr(config, label))
    _feed(h, "reporting guidelines", root / "data" / "reporting")
    _feed(h, "label map", root / CROSSREF_FILE)
    for f in data_files(config):
        _feed(h, "data", f)
    for src in doc.sources:
        _feed(h, "source " + str(src.relative_to(root)), src)
    return h.hexdigest()[:24]


# -- built-in path ----------------------------------------------------------------------------

def _render_builtin(config: Config, formats: list[str], root: Path, use_cache: bool, progress: Progress,
                    mode: dict[str, bool], only: list[str] | None = None) -> list[Path]:
    import pypandoc

    t0 = time.perf_counter()
    names = selected_documents(root, only)
    if root == config.root:
        from ..pipeline import ensure_synthetic
        ensure_synthetic(config, progress)
    renderer = (f"the project's built-in renderer (pandoc {pypandoc.get_pandoc_version()}, Typst {_typst_version()}), "
                "not Quarto")
    prov = write_provenance(config, root, renderer, **mode)
    every = documents(project_config(root))
    write_label_map(root, every)
    final: list[Path] = []
    for name in names:
        final += _render_document(config, root / name, formats, root, use_cache, progress, prov,
                                  export=name == every[0], keep=CACHE_KEEP * len(every))
    progress(f"rendered {len(names)} document{'s' if len(names) > 1 else ''} in {time.perf_counter() - t0:.1f} s "
             f"-> {config.output_dir}")
    return final


def selected_documents(root: Path, only: list[str] | None = None) -> list[str]:
    """The project's documents to render (``project.render``, the article first), or the named ones."""
    names = documents(project_config(root))
    for name in names:
        if not (root / name).exists():
            raise SourceError(f"{root / name}: listed in project.render of _quarto.yml but not found")
    if not only:
        return names
    wanted = [n if n.endswith(".qmd") else f"{n}.qmd" for n in only]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise UserError(f"no document {', '.join(unknown)} in this project (its documents: {', '.join(names)})")
    return [n for n in names if n in wanted]


def document_formats(doc: Document, wanted: list[str]) -> list[str]:
    """The wanted formats this document is made in: all of them, or those its front matter's
    ``format:`` lists (the plain summary is HTML and Word only)."""
    own = doc.front.get("format") if isinstance(doc.front.get("format"), dict) else None
    if not own:
        return wanted
    have = {"typst": "pdf", "pdf": "pdf", "docx": "docx", "html": "html"}
    listed = {have[k] for k in own if k in have}
    return [f for f in wanted if f in listed]


def _render_document(config: Config, main: Path, wanted: list[str], root: Path, use_cache: bool,
                     progress: Progress, prov: dict[str, Any], *, export: bool, keep: int) -> list[Path]:
    import pypandoc

    stem = main.stem
    doc = read_document(main, root)
    formats = document_formats(doc, wanted)
    if not formats:
        return []
    cache_root = root / ".cache" / "render"
    env = {**os.environ, **kernel_env(config, cache_root / "run"), "PYTHONHASHSEED": "0"}
    key = cache_key(config, doc, root, {k: env[k] for k in env if k.startswith("PERINATAL_CSC_")})
    build = cache_root / key
    executed = build / "executed.md"
    if use_cache and executed.exists():
        progress(f"{stem}: reusing executed results (cache {key}): nothing that feeds them changed")
    else:
        progress(f"{stem}: executing {sum(c.kind == 'code' for c in doc.chunks)} cells from "
                 f"{len(doc.sources)} source files in one kernel")
        tmp = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=_mkdir(cache_root)))
        try:
            body = execute(doc.chunks, doc.execute, root=root, fig_dir=tmp / "figures", env=env, progress=progress)
            (tmp / "executed.md").write_text(body, encoding="utf-8")
            if build.exists():
                shutil.rmtree(build)
            tmp.rename(build)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _prune(cache_root, keep=build, count=keep)
    out_dir = _mkdir(config.output_dir)
    targets = [out_dir / f"{stem}.{fmt}" for fmt in formats]
    stamp = build / OUTPUTS_STAMP
    final_key = outputs_key(key, formats, prov, doc, root)
    if use_cache and outputs_current(stamp, final_key, targets):
        progress(f"{stem}: outputs up to date: {', '.join(p.name for p in targets)} were rendered from exactly "
                 "these executed results, sources, references, styles and provenance (--no-cache to render anew)")
        return targets
    pandoc = pypandoc.get_pandoc_path()
    meta = _pandoc_metadata(doc, root, prov)
    body = substitute_meta(executed.read_text(encoding="utf-8"), {**flatten(doc.metadata), **prov})
    src = build / f"{stem}.md"
    src.write_text("---\n" + yaml_text(meta) + "---\n\n" + body,
                   encoding="utf-8")
    written = _run_pandoc(pandoc, src, build, formats, doc, root, progress, prov)
    final = []
    for fmt, path in written.items():
        target = out_dir / f"{stem}.{fmt}"
        shutil.copyfile(path, target)
        final.append(target)
    exported: list[Path] = []
    if export:
        exported = export_figures(doc, build / "figures" / EXPORTS, out_dir / "figures")
        if exported:
            progress(f"wrote {len(exported)} figure files (vector PDF and {EXPORT_DPI} dpi PNG) -> {out_dir / 'figures'}")
    write_outputs_stamp(stamp, final_key, final + exported)
    progress(f"{stem}: wrote {', '.join(p.name for p in final)}")
    return final


OUTPUTS_STAMP = "outputs.json"


def outputs_key(cells_key: str, formats: list[str], prov: dict[str, Any], doc: Document, root: Path) -> str:
    """Hash of everything a finished document depends on beyond the executed cells: the formats and
    mode, the provenance (all but the render time), the bibliography, citation style, CSS, Word
    reference document and filters."""
    h = hashlib.sha256()
    h.update(cells_key.encode() + b"\0" + ",".join(formats).encode())
    h.update(json.dumps({k: v for k, v in prov.items() if k != "provenance-rendered"}, sort_keys=True,
                        default=str).encode())
    files = _resolve(root, doc.metadata.get("bibliography")) + _resolve(root, doc.metadata.get("csl"))
    for fmt in formats:
        opts = _format_options(doc, fmt)
        files += _resolve(root, opts.get("css")) + _resolve(root, opts.get("reference-doc"))
    files += filters(project_config(root), root)
    for f in files:
        _feed(h, "file " + f.name, f)
    return h.hexdigest()


def outputs_current(stamp: Path, key: str, targets: list[Path]) -> bool:
    """True when ``targets`` (and the figure files) are, byte for byte, what a render with ``key`` wrote."""
    written = read_stamp(stamp)
    if written is None:
        return False
    files = written.get("files", {})
    if written.get("key") != key or not all(str(t) in files for t in targets):
        return False
    return all(Path(f).exists() and sha256_file(Path(f)) == digest for f, digest in files.items())


def write_outputs_stamp(stamp: Path, key: str, files: list[Path]) -> None:
    """Record that ``files`` (outputs and figure files) are what a render with ``key`` wrote (``outputs_current``)."""
    stamp.write_text(json.dumps({"key": key, "files": {str(f): sha256_file(f) for f in files}}, indent=1),
                     encoding="utf-8")


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _prune(cache_root: Path, keep: Path, count: int = CACHE_KEEP) -> None:
    entries = sorted((p for p in cache_root.iterdir() if p.is_dir() and p.name not in ("run",) and p != keep
                      and (p / "executed.md").exists()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[count - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def _typst_version() -> str:
    try:
        import typst
        return getattr(typst, "__version__", "")
    except ImportError:
        return "(not installed)"


def _author(a: Any) -> str:
    if not isinstance(a, dict):
        return str(a)
    name = a.get("name")
    name = " ".join(str(name.get(k, "")) for k in ("given", "family")).strip() if isinstance(name, dict) else str(name or "")
    affs = a.get("affiliations") or a.get("affiliation") or []
    affs = affs if isinstance(affs, list) else [affs]
    aff = "; ".join(str(x.get("name", "")) if isinstance(x, dict) else str(x) for x in affs)
    return f"{name} ({aff})" if aff else name


def _pandoc_metadata(doc: Document, root: Path, prov: dict[str, str]) -> dict[str, Any]:
    """Quarto front matter reduced to what pandoc's own templates understand."""
    meta = {k: v for k, v in doc.metadata.items() if k not in QUARTO_ONLY_KEYS}
    if doc.metadata.get("keywords"):
        meta["title-keywords"] = doc.metadata["keywords"]     # for the filter's keywords line
    authors = doc.metadata.get("author")
    if authors is not None:
        meta["author"] = [_author(a) for a in (authors if isinstance(authors, list) else [authors])]
    if str(meta.get("date", "")).lower() in ("today", "now", "last-modified"):
        meta["date"] = _dt.date.today().isoformat()
    typst = _format_options(doc, "pdf")
    meta.update({k: typst[k] for k in ("papersize", "fontsize", "mainfont", "margin") if k in typst})
    meta.update(prov)
    meta["lang"] = meta.get("lang", "en-GB")
    return meta


def _format_options(doc: Document, fmt: str) -> dict[str, Any]:
    formats = doc.metadata.get("format") or {}
    key = {"pdf": "typst"}.get(fmt, fmt)
    opts = formats.get(key) or {}
    return opts if isinstance(opts, dict) else {}


def _resolve(root: Path, value: Any) -> list[Path]:
    vals = value if isinstance(value, list) else [value]
    return [root / str(v) for v in vals if v]


def _run_pandoc(pandoc: str, src: Path, build: Path, formats: list[str], doc: Document, root: Path,
                progress: Progress, settings: dict[str, Any]) -> dict[str, Path]:
    """pandoc for every format at once, then Typst for the PDF."""
    common = [pandoc, str(src), "--from", "markdown", "--standalone", "--resource-path", str(build)]
    common += [f"--lua-filter={f}" for f in filters(project_config(root), root)]
    bib = _resolve(root, doc.metadata.get("bibliography"))
    csl = _resolve(root, doc.metadata.get("csl"))
    tail = ["--citeproc"] + [f"--bibliography={b}" for b in bib] + [f"--csl={c}" for c in csl[:1]]
    jobs: dict[str, tuple[list[str], Path]] = {}
    for fmt in formats:
        opts = _format_options(doc, fmt)
        if fmt == "html":
            out = src.with_suffix(".html")
            css = _resolve(root, opts.get("css")) or [RESOURCES / "manuscript.css"]
            # pandoc's page with WCAG landmarks (header, nav, main); Quarto's own page has them
            args = ["--to", "html5", "--embed-resources", "--section-divs", f"--template={RESOURCES / 'manuscript.html'}"]
            args += [f"--css={c}" for c in css]
            if opts.get("toc", True):
                args.append("--toc")
        elif fmt == "docx":
            out = src.with_suffix(".docx")
            ref = _resolve(root, opts.get("reference-doc")) or [RESOURCES / "reference.docx"]
            args = ["--to", "docx", f"--reference-doc={ref[0]}"] + (["--toc"] if opts.get("toc") else [])
        else:
            out = src.with_suffix(".typ")
            args = ["--to", "typst"] + (["--toc"] if opts.get("toc") else [])
        jobs[fmt] = (common + args + tail + ["--output", str(out)], out)
    procs = {fmt: subprocess.Popen(cmd, cwd=build, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for fmt, (cmd, _) in jobs.items()}
    failures = []
    for fmt, p in procs.items():
        _, err = p.communicate()
        if p.returncode != 0:
            failures.append(f"pandoc ({fmt}) failed with exit code {p.returncode}:\n{err.strip()}")
        elif err.strip():
            progress(f"pandoc ({fmt}): {err.strip()}")
    if failures:
        raise RenderError("\n\n".join(failures))
    written = {fmt: out for fmt, (_, out) in jobs.items()}
    post_render([written[f] for f in ("docx", "html") if f in written], settings)
    if "pdf" in written:
        written["pdf"] = _typst_pdf(written["pdf"], build, pdf_standards(doc))
    return written


def pdf_standards(doc: Document) -> list[str]:
    """The PDF standards the Typst PDF is made to (``format.typst.pdf-standard``, as Quarto 1.9 reads it),
    e.g. ``ua-1``: tagged PDF/UA-1, which Typst checks as it writes (alternative text, title, language)."""
    value = _format_options(doc, "pdf").get("pdf-standard")
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def _typst_pdf(typ: Path, build: Path, standards: list[str] | None = None) -> Path:
    import typst

    pdf = typ.with_suffix(".pdf")
    try:
        typst.compile(str(typ), output=str(pdf), root=str(build), ignore_system_fonts=True,
                      **({"pdf_standards": standards} if standards else {}))
    except Exception as e:  # typst raises its own TypstError with the compiler's diagnostics
        detail = getattr(e, "diagnostic", "") or str(e)
        raise RenderError(f"Typst could not compile {typ}:\n{detail}") from None
    return pdf


# -- Quarto path ------------------------------------------------------------------------------

def _render_quarto(config: Config, formats: list[str], root: Path, progress: Progress,
                   mode: dict[str, bool], only: list[str] | None = None, *, use_cache: bool = True) -> list[Path]:
    quarto = shutil.which("quarto")
    if quarto is None:
        raise RenderError("quarto is not on PATH")
    problems = lint(root)
    if problems:
        raise RenderError("the project's Quarto settings have known problems:\n- " + "\n- ".join(problems))
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip()
    if root == config.root:     # the release every kernel reads, made once (as the pre-render step of a plain render)
        from ..pipeline import analyse
        analyse(config, progress=progress)
    out_dir = config.output_dir
    env = {**os.environ, "QUARTO_PYTHON": sys.executable, "PERINATAL_CSC_RENDERER": f"Quarto {version}",
           "PERINATAL_CSC_REVIEW": "1" if mode["review"] else "0", "PERINATAL_CSC_BLIND": "1" if mode["blind"] else "0",
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           **kernel_env(config, root / ".cache" / "render" / "run")}
    prov = write_provenance(config, root, f"Quarto {version}", **mode)
    every = documents(project_config(root))
    write_label_map(root, every)      # before the keys (it feeds them); the pre-render step writes the same
    written: list[Path] = []
    for name in selected_documents(root, only):
        doc = read_document(root / name, root)
        fmts = document_formats(doc, formats)
        if not fmts:
            continue
        targets = [out_dir / f"{Path(name).stem}.{f}" for f in fmts]
        figures = out_dir / "figures" if name == every[0] else None
        stamp = _mkdir(root / ".cache" / "render") / f"quarto-{Path(name).stem}.json"
        key = outputs_key(cache_key(config, doc, root, {k: env[k] for k in env if k.startswith("PERINATAL_CSC_")})
                          + f" quarto {version}", fmts, prov, doc, root)
        if use_cache and outputs_current(stamp, key, targets):
            progress(f"{name}: outputs up to date: {', '.join(p.name for p in targets)} were rendered by Quarto "
                     f"{version} from exactly these data, code and sources (--no-cache to render anew)")
            written += targets
            continue
        stamp.unlink(missing_ok=True)
        for f in fmts:            # inside a project, Quarto 1.7 reads a comma-joined --to as one format's name
            to = "typst" if f == "pdf" else f
            progress(f"rendering {name} to {to} with Quarto {version} (pre- and post-render steps from _quarto.yml)")
            p = subprocess.run([quarto, "render", name, "--to", to, "--output-dir", str(out_dir)], cwd=root,
                               env=env, capture_output=True, text=True)
            if p.returncode != 0:
                raise RenderError(f"quarto render {name} --to {to} failed (exit {p.returncode}):\n"
                                  f"{p.stderr.strip()[-6000:]}")
        kept = sorted(figures.glob("figure-*")) if figures is not None and figures.exists() else []
        if all(t.exists() for t in targets):
            write_outputs_stamp(stamp, key, targets + kept)
        written += targets
    return written
