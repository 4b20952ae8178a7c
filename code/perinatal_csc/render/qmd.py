"""Reading a Quarto manuscript project without Quarto: `_quarto.yml`, front matter, includes,
code cells with their `#|` options, and inline `{python}` expressions.

Only Quarto-documented syntax is understood; anything else is left to pandoc as plain markdown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..files import read_yaml as read_project_yaml

INCLUDE_RE = re.compile(r"^\{\{<\s*include\s+(\"[^\"]+\"|'[^']+'|\S+)\s*>\}\}\s*$")
INLINE_RE = re.compile(r"`\{python\}\s+([^`]+?)\s*`")
META_RE = re.compile(r"\{\{<\s*meta\s+([\w.\-]+)\s*>\}\}")
OPTION_RE = re.compile(r"^#\|\s?(.*)$")
CELL_OPTIONS = ("label", "echo", "include", "eval", "output", "warning", "fig-cap", "tbl-cap", "fig-alt")
EXECUTE_DEFAULTS: dict[str, Any] = {"echo": True, "eval": True, "include": True, "output": True, "warning": True}


class SourceError(UserError):
    """A problem in the manuscript sources (a missing include, bad YAML, a bad cell option)."""


@dataclass
class Chunk:
    """A piece of the expanded document: markdown, or a code cell, from one source file."""

    kind: str                                   # "markdown" or "code"
    text: str
    source: Path
    options: dict[str, Any] = field(default_factory=dict)
    inline: list[str] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        return self.options.get("label")


@dataclass
class Document:
    """The main file's metadata (project + front matter) and its expanded chunks."""

    path: Path
    metadata: dict[str, Any]
    execute: dict[str, Any]
    chunks: list[Chunk]
    sources: list[Path]
    front: dict[str, Any] = field(default_factory=dict)


def read_yaml(path: Path) -> dict[str, Any]:
    return read_project_yaml(path, "Quarto project file", SourceError)


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    """The YAML front matter (if any) and the body."""
    m = re.match(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", text, re.S)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        raise SourceError(f"{path}: front matter is not valid YAML ({e})") from None
    return meta, text[m.end():]


def _include_target(arg: str, main_dir: Path, root: Path) -> Path:
    arg = arg.strip("\"'")
    # Quarto resolves include paths against the main document's folder; "/" means the project root.
    return (root / arg.lstrip("/")) if arg.startswith("/") else (main_dir / arg)


def expand_includes(path: Path, main_dir: Path, root: Path, stack: tuple[Path, ...] = ()) -> list[tuple[Path, str]]:
    """The file's text as (source file, text) segments with every `{{< include >}}` expanded."""
    if path in stack:
        chain = " -> ".join(str(p.relative_to(root)) for p in (*stack, path))
        raise SourceError(f"include cycle: {chain}")
    if not path.exists():
        where = f" (included from {stack[-1].relative_to(root)})" if stack else ""
        raise SourceError(f"manuscript source not found: {path}{where}")
    text = path.read_text(encoding="utf-8")
    if stack and split_front_matter(text, path)[0]:
        raise SourceError(f"{path}: an included file must not have YAML front matter (it would apply to the "
                          "whole manuscript); put metadata in index.qmd or _quarto.yml")
    segments: list[tuple[Path, str]] = []
    buf: list[str] = []
    in_fence = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = True if not in_fence else bool(stripped.strip("`"))
        m = None if in_fence else INCLUDE_RE.match(line.strip())
        if m:
            segments.append((path, "\n".join(buf)))
            buf = []
            segments.extend(expand_includes(_include_target(m.group(1), main_dir, root), main_dir, root,
                                            (*stack, path)))
        else:
            buf.append(line)
    segments.append((path, "\n".join(buf)))
    return [(p, t) for p, t in segments if t.strip()]


def parse_options(code: str, source: Path) -> tuple[dict[str, Any], str]:
    """Split a cell's leading `#|` option lines (YAML) from its code."""
    lines = code.splitlines()
    opt_lines: list[str] = []
    i = 0
    while i < len(lines):
        m = OPTION_RE.match(lines[i])
        if not m:
            break
        opt_lines.append(m.group(1))
        i += 1
    try:
        opts = yaml.safe_load("\n".join(opt_lines)) or {} if opt_lines else {}
    except yaml.YAMLError as e:
        raise SourceError(f"{source}: cell options are not valid YAML ({e}):\n" + "\n".join(opt_lines)) from None
    if not isinstance(opts, dict):
        raise SourceError(f"{source}: cell options must be `#| key: value` lines:\n" + "\n".join(opt_lines))
    return opts, "\n".join(lines[i:])


def chunks_of(source: Path, text: str) -> list[Chunk]:
    """Cells of one segment, read the way jupytext reads R Markdown (```{python} chunks)."""
    import jupytext

    nb = jupytext.reads(text, fmt="Rmd")
    out: list[Chunk] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            lang = (cell.metadata.get("language") or "python").lower()
            if lang != "python":
                raise SourceError(f"{source}: only python cells are supported, found a {lang!r} cell")
            opts, code = parse_options(cell.source, source)
            out.append(Chunk("code", code, source, opts))
        else:
            src = cell.source
            out.append(Chunk("markdown", src, source, inline=INLINE_RE.findall(src)))
    return out


def read_document(main: Path, root: Path) -> Document:
    """Project settings, front matter and expanded chunks of the main manuscript file."""
    project = read_yaml(root / "_quarto.yml") if (root / "_quarto.yml").exists() else {}
    text = main.read_text(encoding="utf-8")
    front, _ = split_front_matter(text, main)
    segments = expand_includes(main, main.parent, root)
    first_path, first_text = segments[0]
    if first_path == main:
        segments[0] = (first_path, split_front_matter(first_text + "\n", main)[1])
    chunks: list[Chunk] = []
    for src, seg in segments:
        chunks.extend(chunks_of(src, seg))
    execute = dict(EXECUTE_DEFAULTS)
    execute.update(project.get("execute") or {})
    execute.update(front.get("execute") or {})
    meta = {k: v for k, v in project.items() if k not in ("project", "manuscript", "execute", "format")}
    for name in ([project["metadata-files"]] if isinstance(project.get("metadata-files"), str)
                 else project.get("metadata-files") or []):
        path = root / str(name)
        if not path.exists():
            raise SourceError(f"{path}: listed in metadata-files of _quarto.yml but not found "
                              "(the pre-render step writes it)")
        meta.update(read_yaml(path))
    meta.update({k: v for k, v in front.items() if k not in ("execute", "format")})
    meta["format"] = _merged_formats(project.get("format") or {}, front.get("format") or {})
    sources = sorted({main, *(s for s, _ in segments)})
    return Document(path=main, metadata=meta, execute=execute, chunks=chunks, sources=sources, front=front)


def substitute_meta(text: str, values: dict[str, str]) -> str:
    """Expand Quarto's `{{< meta key >}}` shortcodes from the given (flattened) metadata."""
    def repl(m: re.Match) -> str:
        key = m.group(1)
        if key not in values:
            raise SourceError(f"{{{{< meta {key} >}}}}: no metadata value '{key}'")
        return str(values[key])
    return META_RE.sub(repl, text)


def flatten(meta: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted keys for scalar metadata values (Quarto's meta shortcode addressing)."""
    out: dict[str, str] = {}
    for k, v in meta.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif not isinstance(v, list):
            out[key] = "" if v is None else str(v)
    return out


def _merged_formats(project: dict, front: dict) -> dict:
    """The formats of a document as Quarto merges them: the front matter's options of a format on top of the
    project's (``typst: {toc: true}`` keeps the project's margins and PDF standard)."""
    out = dict(project)
    for fmt, opts in front.items():
        base = project.get(fmt)
        out[fmt] = {**base, **opts} if isinstance(base, dict) and isinstance(opts, dict) else (
            base if opts in (None, "default") and isinstance(base, dict) else opts)
    return out
