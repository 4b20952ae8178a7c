"""Data flows one way: a stage imports only itself and earlier stages (docs/ARCHITECTURE.md).

A module's stage is the subpackage it lives in, so a new module is placed by where it is saved. This
file is the one place that declares the order: of the stages, of the few top-level modules, and of
the modules inside a stage where that order matters.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "code" / "perinatal_csc"

#: Stages in data-flow order; each subpackage is the stage of its own name.
STAGES: tuple[str, ...] = ("settings", "data", "stats", "disclose", "present", "pipeline", "render", "review",
                          "cli")
#: The top-level modules and their stage.
TOP_LEVEL: dict[str, str] = {"__init__": "settings", "paths": "settings", "errors": "settings",
                             "files": "settings", "config": "settings",
                             "pipeline": "pipeline", "report": "pipeline", "cli": "cli"}
#: Inside these stages each module imports only the ones listed before it (and every module is listed).
ORDER_WITHIN: dict[str, tuple[str, ...]] = {
    "data": ("codebook", "synth", "validate", "mapping", "load", "derive"),
    "render": ("qmd", "provenance", "execute", "project", "crossref", "word", "hooks", "driver"),
}
STATISTICS = "stats"


def module_names(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name relative to it ("data.load", "present", "cli")."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def is_package(name: str, package: Path) -> bool:
    return name == "" or (package / Path(*name.split("."))).is_dir()


def imported_modules(path: Path, package: Path) -> set[str]:
    """Package modules ``path`` imports, at any depth in the file (function-level imports too)."""
    rel = path.relative_to(package).with_suffix("").parts
    here = list(rel[:-1])
    found: set[str] = set()
    known = module_names(package)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").startswith("perinatal_csc"):
                    continue
                base = node.module.split(".")[1:]
            else:
                base = here[: len(here) - (node.level - 1)] + ((node.module or "").split(".") if node.module else [])
            name = ".".join(base)
            targets = [f"{name}.{a.name}".lstrip(".") if is_package(name, package)
                       and f"{name}.{a.name}".lstrip(".") in known else name or "__init__" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [".".join(a.name.split(".")[1:]) for a in node.names if a.name.startswith("perinatal_csc.")]
        found.update(t for t in targets if t)
    return found


def stage_of(name: str) -> str:
    head = name.split(".")[0]
    if "." in name or head in STAGES and head not in TOP_LEVEL:
        return head
    return TOP_LEVEL.get(head, "?")


def import_graph(package: Path) -> dict[str, set[str]]:
    names = module_names(package)
    return {name: {t for t in imported_modules(path, package) if t in names and t != name}
            for name, path in names.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the list of modules along it (depth-first search)."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


GRAPH = import_graph(PACKAGE)
MODULES = sorted(GRAPH)


def test_every_module_has_a_stage():
    assert {m: stage_of(m) for m in MODULES if stage_of(m) not in STAGES} == {}


def test_every_subpackage_is_a_stage():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert subpackages - set(STAGES) == set()


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_only_earlier_stages(name):
    own = STAGES.index(stage_of(name))
    later = {m for m in GRAPH[name] if STAGES.index(stage_of(m)) > own}
    assert later == set(), f"{name} (stage {STAGES[own]}) imports later stages: {sorted(later)}"


@pytest.mark.parametrize("stage", sorted(ORDER_WITHIN))
def test_order_inside_a_stage(stage):
    order = ORDER_WITHIN[stage]
    members = {m.split(".")[1] for m in MODULES if m.startswith(f"{stage}.")}
    assert members == set(order), f"list every module of {stage}/ in ORDER_WITHIN: {sorted(members ^ set(order))}"
    for i, module in enumerate(order):
        later = {m.split(".")[1] for m in GRAPH[f"{stage}.{module}"] if m.startswith(f"{stage}.")} - set(order[:i])
        assert later == set(), f"{stage}.{module} imports {sorted(later)}, declared after it"


def test_import_graph_has_no_cycles():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("name", [m for m in MODULES if stage_of(m) == "render"])
def test_renderer_knows_no_statistics(name):
    assert {m for m in GRAPH[name] if stage_of(m) == STATISTICS} == set()


def test_the_pipeline_names_its_stages_by_import():
    source = (PACKAGE / "pipeline.py").read_text(encoding="utf-8")
    assert "importlib" not in source
    assert {"stats.describe", "stats.models"} <= GRAPH["pipeline"]


def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "perinatal_csc"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_check_resolves_every_import_form(tmp_path):
    root = _fake_package(tmp_path, {
        "data/__init__.py": "", "stats/__init__.py": "",
        "data/codebook.py": "", "stats/compare.py": "",
        "stats/describe.py": "from . import compare\nfrom ..data.codebook import X\n"
                             "def f():\n    import perinatal_csc.config\n",
        "config.py": "", "cli.py": "from .stats.describe import f\nfrom perinatal_csc.data import codebook\n",
    })
    assert imported_modules(root / "stats/describe.py", root) == {"stats.compare", "data.codebook", "config"}
    assert imported_modules(root / "cli.py", root) == {"stats.describe", "data.codebook"}


def test_the_check_catches_a_backward_import_and_a_cycle(tmp_path):
    root = _fake_package(tmp_path, {
        "data/__init__.py": "", "stats/__init__.py": "",
        "data/codebook.py": "from ..stats.describe import summarise\n",
        "stats/describe.py": "from ..data.codebook import Codebook\n",
    })
    graph = import_graph(root)
    assert STAGES.index(stage_of("stats.describe")) > STAGES.index(stage_of("data.codebook"))
    assert graph["data.codebook"] == {"stats.describe"}
    assert cycles(graph) == [["data.codebook", "stats.describe", "data.codebook"]]


def test_tests_mirror_the_package():
    tests = Path(__file__).resolve().parent
    folders = {p.name for p in tests.iterdir() if p.is_dir() and any(p.glob("test_*.py"))}
    assert folders <= set(STAGES) and folders, f"test folders that are not stages: {sorted(folders - set(STAGES))}"
