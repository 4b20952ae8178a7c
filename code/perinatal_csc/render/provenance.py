"""Where a rendered document came from: data file hashes, git commit, package version, render time.

Written by the project's pre-render step to ``_provenance.yml`` (named in ``metadata-files`` of
``_quarto.yml``), so that Quarto and the built-in path read the same keys through
``{{< meta provenance-* >}}``.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import subprocess
from pathlib import Path

from .. import __version__
from ..config import Config
from ..present.style import SYNTHETIC_NOTE

REAL_NOTE = "REAL data: every output must pass disclosure checks before it leaves the secure environment."
KEYS = ("data-label", "data-notice", "provenance-data", "provenance-data-sha256", "provenance-plan-sha256", "provenance-commit",
        "provenance-sources", "provenance-version", "provenance-rendered", "provenance-renderer", "review", "blind")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_files(config: Config) -> list[Path]:
    """The data file, or every file of a data folder, that the run reads."""
    p = config.data_path
    if p is None or not p.exists():
        return []
    if p.is_dir():
        return sorted(q for q in p.rglob("*") if q.is_file())
    return [p]


def git_state(root: Path) -> str:
    """Short commit, with "(modified)" when tracked files differ from it."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], check=True,
                                capture_output=True, text=True, timeout=20).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               check=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{commit} (modified)" if dirty else commit


def sources_digest(root: Path, main: str = "index.qmd") -> str:
    """SHA-256 over the manuscript's sources (the article and every file it includes, with their paths):
    a Word draft carries it, so a review can tell whether the sources changed since that draft."""
    from .qmd import expand_includes

    path = root / main
    h = hashlib.sha256()
    if not path.exists():
        return "no sources"
    for src in sorted({p for p, _ in expand_includes(path, path.parent, root)} | {path}):
        h.update(str(src.relative_to(root)).encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()


def provenance(config: Config, root: Path, renderer: str, *, review: bool = False,
               blind: bool = False) -> dict[str, str | bool]:
    """What every output states about where it came from (flat keys for `{{< meta >}}`), and the
    render's mode: ``review`` (line numbers, double spacing) and ``blind`` (no authors)."""
    files = data_files(config)
    digest = "; ".join(f"SHA-256 {sha256_file(f)}" for f in files) or "not found"
    data = f"SYNTHETIC cohort ({digest})" if config.is_synthetic else f"REAL data ({digest})"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "data-label": "SYNTHETIC" if config.is_synthetic else "REAL",
        "data-notice": SYNTHETIC_NOTE if config.is_synthetic else REAL_NOTE,
        "provenance-data": data,
        "provenance-data-sha256": ",".join(sha256_file(f) for f in files),
        "provenance-plan-sha256": sha256_file(config.analysis_plan_path) if config.analysis_plan_path.exists() else "not found",
        "provenance-commit": git_state(root),
        "provenance-sources": sources_digest(root),
        "provenance-version": f"perinatal-csc {__version__}",
        "provenance-rendered": now,
        "provenance-renderer": renderer,
        "review": review,
        "blind": blind,
    }
