"""Executing the manuscript's cells in one Jupyter kernel and turning their outputs into markdown.

Quarto semantics for the documented cell options (`label`, `echo`, `include`, `eval`, `output`,
`warning`, `fig-cap`, `tbl-cap`, `fig-alt`) and for inline `{python}` expressions, which are
evaluated in document order in the same kernel.
"""
from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

from ..errors import UserError
from ..paths import FIGURE_EXPORT_DPI
from .qmd import INLINE_RE, Chunk, SourceError

INLINE_MIME = "application/x-perinatal-csc-inline+json"
HIRES_MIME = "image/x-perinatal-csc-png-600dpi"
EXPORTS = "exports"  # folder beside the figures: each figure as vector PDF and 600 dpi PNG
EXPORT_DPI = FIGURE_EXPORT_DPI
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

KERNEL_SETUP = f"""\
from IPython.display import display as _pcsc_display

def _pcsc_figure_png(fig):
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()

# A matplotlib Figure shown as a cell's value becomes a PNG whatever the backend (even Agg).
get_ipython().display_formatter.formatters["image/png"].for_type_by_name(
    "matplotlib.figure", "Figure", _pcsc_figure_png)

# ... and, for the figure files a journal asks for, a vector PDF and a {EXPORT_DPI} dpi PNG.
def _pcsc_figure_pdf(fig):
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", bbox_inches="tight")
    return buf.getvalue()

def _pcsc_figure_hires(fig):
    import base64, io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi={EXPORT_DPI}, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")

from IPython.core.formatters import BaseFormatter as _PcscBaseFormatter
from traitlets import ObjectName as _PcscObjectName, Unicode as _PcscUnicode

class _PcscHiResFormatter(_PcscBaseFormatter):
    format_type = _PcscUnicode({HIRES_MIME!r})
    print_method = _PcscObjectName("_repr_pcsc_hires_")

_pcsc_formatters = get_ipython().display_formatter.formatters
_pcsc_formatters[{HIRES_MIME!r}] = _PcscHiResFormatter(parent=get_ipython().display_formatter)
_pcsc_formatters["application/pdf"].for_type_by_name("matplotlib.figure", "Figure", _pcsc_figure_pdf)
_pcsc_formatters[{HIRES_MIME!r}].for_type_by_name("matplotlib.figure", "Figure", _pcsc_figure_hires)

def _pcsc_inline_value(v):
    if isinstance(v, str):
        return v
    md = getattr(v, "_repr_markdown_", None)
    if callable(md):
        r = md()
        if r is not None:
            return r if isinstance(r, str) else r[0]
    return str(v)

def _pcsc_inline_show(values):
    _pcsc_display({{{INLINE_MIME!r}: values}}, raw=True)
"""


class CellError(UserError):
    """A cell (or inline expression) raised: the message names the chapter, the cell and the traceback."""


def _truthy(opts: dict[str, Any], defaults: dict[str, Any], key: str) -> Any:
    return opts.get(key, defaults.get(key))


def inline_code(exprs: list[str]) -> str:
    """Kernel code that evaluates inline expressions, one per line, and displays their text."""
    lines = ["_pcsc_v = []"]
    lines += [f"_pcsc_v.append(_pcsc_inline_value(({e})))" for e in exprs]
    lines.append("_pcsc_inline_show(_pcsc_v)")
    return "\n".join(lines)


def _fence(text: str, cls: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{cls}\n{text.rstrip()}\n{ticks}"


def _attr_value(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


class OutputWriter:
    """Turns one cell's Jupyter outputs into markdown, saving images into ``fig_dir``."""

    def __init__(self, fig_dir: Path, fig_prefix: str) -> None:
        self.fig_dir = fig_dir
        self.fig_prefix = fig_prefix
        self.count = 0

    def _image(self, data: str, ext: str, alt: str, label: str) -> str:
        self.fig_dir.mkdir(parents=True, exist_ok=True)
        self.count += 1
        name = f"{re.sub(r'[^A-Za-z0-9_-]', '-', label)}-{self.count}.{ext}"
        path = self.fig_dir / name
        if ext == "svg":
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(base64.b64decode(data))
        attr = f'{{fig-alt="{_attr_value(alt)}"}}' if alt else ""
        return f"![{alt}]({self.fig_dir.name}/{name}){attr}"

    def _export(self, data: dict[str, Any], label: str) -> None:
        """Keep a figure cell's vector PDF and high-resolution PNG, named by its label."""
        if not label.startswith("fig-"):
            return
        folder = self.fig_dir / EXPORTS
        folder.mkdir(parents=True, exist_ok=True)
        for mime, ext in (("application/pdf", "pdf"), (HIRES_MIME, "png")):
            if mime in data:
                (folder / f"{label}.{ext}").write_bytes(base64.b64decode(data[mime]))

    def markdown(self, outputs: list[dict], opts: dict[str, Any], defaults: dict[str, Any], label: str) -> str:
        output = _truthy(opts, defaults, "output")
        if output is False:
            return ""
        asis = output == "asis"
        warning = _truthy(opts, defaults, "warning")
        alt = str(opts.get("fig-alt") or "")
        parts: list[str] = []
        for out in outputs:
            kind = out.get("output_type")
            if kind == "stream":
                if out.get("name") == "stderr" and not warning:
                    continue
                text = out.get("text", "")
                parts.append(text if asis else _fence(text))
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                if "text/markdown" in data:
                    parts.append(data["text/markdown"])
                elif "text/html" in data:
                    parts.append(data["text/html"] if asis else _fence(data["text/html"], "{=html}"))
                elif "image/png" in data:
                    parts.append(self._image(data["image/png"], "png", alt, label))
                    self._export(data, label)
                elif "image/svg+xml" in data:
                    parts.append(self._image(data["image/svg+xml"], "svg", alt, label))
                elif "text/plain" in data:
                    parts.append(data["text/plain"] if asis else _fence(data["text/plain"]))
        return "\n\n".join(p for p in parts if p.strip())


def _float(label: str | None, opts: dict[str, Any], body: str, chunk: Chunk) -> str:
    """Wrap a labelled cell's output in Quarto's cross-reference div (caption = last paragraph)."""
    if not label or not (label.startswith("fig-") or label.startswith("tbl-")):
        return body
    cap_key = "fig-cap" if label.startswith("fig-") else "tbl-cap"
    cap = opts.get(cap_key)
    if not cap:
        raise SourceError(f"{chunk.source.name}: cell '{label}' needs a `#| {cap_key}:` caption")
    if not body.strip():
        raise SourceError(f"{chunk.source.name}: cell '{label}' produced no output to show as a "
                          f"{'figure' if cap_key == 'fig-cap' else 'table'}")
    return f"::: {{#{label}}}\n\n{body}\n\n{str(cap).strip()}\n\n:::"


def _error_text(out: dict) -> str:
    tb = "\n".join(out.get("traceback") or [f"{out.get('ename')}: {out.get('evalue')}"])
    return ANSI_RE.sub("", tb)


def kernel_manager() -> Any:
    """A kernel manager that starts ipykernel with this interpreter, whatever kernelspecs are installed.

    A kernelspec named "python3" in the user's Jupyter data directory would otherwise win over the
    project environment's own, and the chapters could not import the package.
    """
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    spec = KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                      display_name=f"Python ({sys.executable})", language="python")

    class ThisInterpreterKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            return spec

    return ThisInterpreterKernelManager(kernel_name="python3")


def execute(chunks: list[Chunk], defaults: dict[str, Any], *, root: Path, fig_dir: Path,
            env: dict[str, str], progress: Callable[[str], None] = lambda s: None,
            timeout: int = 1800) -> str:
    """Run every code cell and inline expression in one kernel; return the executed markdown."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    plan: list[tuple[Chunk, Any]] = []
    for chunk in chunks:
        if chunk.kind == "code":
            run = _truthy(chunk.options, defaults, "eval") is not False
            plan.append((chunk, nbformat.v4.new_code_cell(chunk.text) if run else None))
        elif chunk.inline:
            plan.append((chunk, nbformat.v4.new_code_cell(inline_code(chunk.inline))))
        else:
            plan.append((chunk, None))
    setup = nbformat.v4.new_code_cell(KERNEL_SETUP)
    nb.cells = [setup] + [c for _, c in plan if c is not None]
    client = NotebookClient(nb, km=kernel_manager(), timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(root)}})
    writer = OutputWriter(fig_dir, "fig")
    pieces: list[str] = []
    log = fig_dir.parent / "kernel.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as kernel_stderr, client.setup_kernel(env=env, stderr=kernel_stderr, cleanup_kc=True):
        client.execute_cell(setup, 0)
        _raise_on_error(setup, None, "kernel set-up")
        index = 0
        for i, (chunk, cell) in enumerate(plan, start=1):
            if cell is not None:
                index += 1
                client.execute_cell(cell, index)
                _raise_on_error(cell, chunk, chunk.label or ("inline code" if chunk.kind == "markdown" else None))
            pieces.append(_piece(chunk, cell, defaults, writer, i))
    progress(f"executed {sum(1 for _, c in plan if c is not None)} cells")
    return "\n\n".join(p for p in pieces if p.strip()) + "\n"


def _raise_on_error(cell: Any, chunk: Chunk | None, what: str | None) -> None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            where = chunk.source.name if chunk is not None else "renderer"
            name = what or "unlabelled cell"
            code = cell.source if chunk is None or chunk.kind == "markdown" else chunk.text
            raise CellError(f"render stopped: {where}, cell '{name}' raised {out.get('ename')}\n"
                            f"--- code ---\n{code.strip()}\n--- traceback ---\n{_error_text(out)}")


def _piece(chunk: Chunk, cell: Any, defaults: dict[str, Any], writer: OutputWriter, i: int) -> str:
    if chunk.kind == "markdown":
        if not chunk.inline:
            return chunk.text
        values = None
        for out in cell.get("outputs", []):
            if INLINE_MIME in out.get("data", {}):
                values = out["data"][INLINE_MIME]
        if values is None:
            raise CellError(f"{chunk.source.name}: inline expressions produced no value: {chunk.inline}")
        if isinstance(values, str):
            values = json.loads(values)
        it = iter(values)
        return INLINE_RE.sub(lambda m: next(it), chunk.text)
    opts = chunk.options
    if _truthy(opts, defaults, "include") is False:
        return ""
    label = chunk.label
    parts = []
    if _truthy(opts, defaults, "echo") is True:
        parts.append(_fence(chunk.text, "python"))
    if cell is not None:
        body = writer.markdown(cell.get("outputs", []), opts, defaults, label or f"cell-{i}")
        parts.append(_float(label, opts, body, chunk))
    return "\n\n".join(p for p in parts if p.strip())
