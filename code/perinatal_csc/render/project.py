"""The Quarto project file as both renderers read it, and the pitfalls known to break `quarto render`.

``lint`` is run by the static tests of the sources and before every Quarto render, because Quarto
cannot be installed where this project is developed: each rule names the failure it prevents.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .provenance import KEYS as PROVENANCE_KEYS
from .qmd import META_RE, expand_includes, flatten, read_yaml, split_front_matter

PROJECT_FILE = "_quarto.yml"
PROVENANCE_FILE = "_provenance.yml"
FILTER = "code/perinatal_csc/render/resources/manuscript.lua"
HOOK_SCRIPT = "scripts/quarto_hook.py"
PRE_RENDER = f"{HOOK_SCRIPT} pre-render"
POST_RENDER = f"{HOOK_SCRIPT} post-render"
SELF_CONTAINED_KEYS = ("embed-resources", "self-contained")
#: Lines Quarto appends to a project's .gitignore unless they are there exactly (1.7: the first; 1.10: both).
QUARTO_GITIGNORE = ("/.quarto/", "**/*.quarto_ipynb")


def project_config(root: Path) -> dict[str, Any]:
    path = root / PROJECT_FILE
    return read_yaml(path) if path.exists() else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def documents(cfg: dict[str, Any]) -> list[str]:
    """The documents the project renders (``project.render``), the article (index.qmd) first."""
    listed = [str(x) for x in _as_list((cfg.get("project") or {}).get("render"))]
    article = (cfg.get("manuscript") or {}).get("article") or "index.qmd"
    return [article] + [d for d in listed if d != article]


def filters(cfg: dict[str, Any], root: Path) -> list[Path]:
    return [root / str(f) for f in _as_list(cfg.get("filters")) if str(f) != "quarto"]


def metadata_files(cfg: dict[str, Any], root: Path) -> list[Path]:
    return [root / str(f) for f in _as_list(cfg.get("metadata-files"))]


def _meta_keys_used(root: Path, cfg: dict[str, Any]) -> dict[str, set[str]]:
    """Each document's ``{{< meta key >}}`` keys, with the keys its front matter defines."""
    used: dict[str, set[str]] = {}
    for doc in documents(cfg):
        path = root / doc
        if not path.exists():
            continue
        front, _ = split_front_matter(path.read_text(encoding="utf-8"), path)
        text = "".join(t for _, t in expand_includes(path, path.parent, root))
        used[doc] = set(META_RE.findall(text)) - set(flatten(front))
    return used


def lint(root: Path) -> list[str]:
    """Every known Quarto pitfall in the project's sources, as messages (empty when clean)."""
    cfg = project_config(root)
    project = cfg.get("project") or {}
    problems: list[str] = []
    for fmt, opts in (cfg.get("format") or {}).items():
        for key in SELF_CONTAINED_KEYS:
            if isinstance(opts, dict) and opts.get(key):
                problems.append(f"format.{fmt}.{key} is set: in a manuscript project Quarto then deletes "
                                "index_files/ before Typst compiles (quarto-dev/quarto-cli#14063); the built-in "
                                "path and the post-render step make the single-file HTML instead")
    listed = [str(x) for x in _as_list(project.get("render"))]
    if len(listed) > 1 and project.get("type") == "manuscript":
        problems.append("project.type is manuscript but project.render lists several documents: a manuscript "
                        "project renders only its article in every format (the others become HTML notebook "
                        "views), so the supplement and summary need project.type: default")
    if not listed:
        problems.append("project.render is not set: Quarto would render every .md, .qmd and notebook-like .py "
                        "file in the project (docs/, tests/), not only the manuscript")
    for doc in listed:
        if not doc.endswith(".qmd") or any(ch in doc for ch in "*?[") or not (root / doc).exists():
            problems.append(f"project.render lists {doc!r}: list only the project's own .qmd documents")
    meta_files = [str(f) for f in _as_list(cfg.get("metadata-files"))]
    pre = [str(x) for x in _as_list(project.get("pre-render"))]
    defined = set(flatten({k: v for k, v in cfg.items() if k not in ("project", "format")}))
    if PROVENANCE_FILE in meta_files and PRE_RENDER in pre:
        defined |= set(PROVENANCE_KEYS)
    for doc, keys in _meta_keys_used(root, cfg).items():
        for key in sorted(keys - defined):
            problems.append(f"{doc}: {{{{< meta {key} >}}}} is not defined for Quarto (front matter, {PROJECT_FILE} or "
                            f"{PROVENANCE_FILE} written by the pre-render step '{PRE_RENDER}')")
    if FILTER not in [str(f) for f in _as_list(cfg.get("filters"))]:
        problems.append(f"filters does not list {FILTER}: under Quarto the tables would not become the project's "
                        "native Word and Typst tables (they overprint at page feet in the PDF)")
    if cfg.get("html-table-processing") != "none":
        problems.append("html-table-processing is not 'none': Quarto would convert the great-tables HTML itself "
                        "before the project's filter sees it")
    for step in ("pre-render", "post-render"):
        for command in _as_list(project.get(step)):
            if str(command).split()[:1] in (["python"], ["python3"]):
                problems.append(f"project.{step} runs {str(command)!r}: Quarto finds 'python' through PATH, not "
                                "QUARTO_PYTHON, so the step fails where the package is installed only in "
                                f"QUARTO_PYTHON's environment; run the script '{HOOK_SCRIPT}' (Quarto runs a .py "
                                "script with QUARTO_PYTHON)")
    typst = (cfg.get("format") or {}).get("typst")
    if isinstance(typst, dict) and typst.get("citeproc") is not True:
        problems.append("format.typst.citeproc is not true: Quarto then leaves citations to Typst, whose "
                        "bibliography ignores the CSL (Title Case titles, an extra 'Bibliography' heading)")
    ignore = root / ".gitignore"
    if ignore.exists():
        lines = [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()]
        for entry in QUARTO_GITIGNORE:
            if entry not in lines:
                problems.append(f".gitignore lacks the line {entry!r}: Quarto appends it on every render, so a clean "
                                "clone's provenance reads the commit as modified")
    if POST_RENDER not in [str(x) for x in _as_list(project.get("post-render"))]:
        problems.append(f"project.post-render does not run '{POST_RENDER}': the Word finishing and the "
                        "single-file HTML would happen only on the built-in path")
    return problems
