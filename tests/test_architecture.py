"""Data flows one way: a stage imports only itself and earlier stages (docs/ARCHITECTURE.md)."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "code" / "perinatal_csc"

STAGES: list[set[str]] = [
    {"__init__", "paths", "errors", "files", "config", "codebook"},
    {"synth"},
    {"validate", "mapping", "load"},
    {"derive"},
    {"compare", "diagnostics", "firth", "imputation", "plan", "describe", "flow", "models"},
    {"disclose"},
    {"present"},
    {"pipeline", "report"},
    {"render_qmd", "render_exec", "render_docx", "render"},
    {"cli"},
]
STAGE_OF = {m: i for i, stage in enumerate(STAGES) for m in stage}
STATISTICS = set().union(*STAGES[1:5])


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return "present" if rel.parts[0] == "present" else rel.stem


def imported_modules(path: Path) -> set[str]:
    """Package modules that ``path`` imports, at any depth in the file (function-level imports too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_present = path.parent.name == "present"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("perinatal_csc"):
                parts = node.module.split(".")[1:]
            elif node.level == 1 and not in_present or node.level == 2 and in_present:
                parts = (node.module or "").split(".") if node.module else []
            elif node.level == 1 and in_present:
                parts = ["present"]
            else:
                continue
            if parts and parts[0]:
                found.add("present" if parts[0] == "present" else parts[0])
            else:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("perinatal_csc."):
                    found.add(a.name.split(".")[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_has_a_stage():
    assert {module_name(p) for p in MODULES} - set(STAGE_OF) == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_earlier_stages(path):
    own = STAGE_OF[module_name(path)]
    later = {m for m in imported_modules(path) if m in STAGE_OF and STAGE_OF[m] > own}
    assert later == set(), f"{path.name} (stage {own}) imports later stages {later}"


@pytest.mark.parametrize("path", [p for p in MODULES
                                  if module_name(p) in {"render", "render_qmd", "render_exec", "render_docx"}],
                         ids=lambda p: p.name)
def test_renderer_knows_no_statistics(path):
    assert imported_modules(path) & STATISTICS == set()


def test_the_layering_check_catches_a_backward_import(tmp_path):
    fake = tmp_path / "codebook.py"
    fake.write_text("from .describe import summarise\n")
    assert imported_modules(fake) == {"describe"}
