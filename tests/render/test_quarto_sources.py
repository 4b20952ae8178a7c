"""The manuscript sources use only Quarto-documented syntax, so `quarto render` (1.5+) reads the
same files the built-in renderer does. Checked statically with this test's own parsing."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from perinatal_csc.render.crossref import label_map
from perinatal_csc.render.project import documents, lint
from perinatal_csc.render.qmd import expand_includes

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / d for d in documents(yaml.safe_load((ROOT / "_quarto.yml").read_text()))]
SOURCES = [*DOCUMENTS, *sorted((ROOT / "chapters").glob("*.qmd"))]
# Quarto's documented cell options that this project uses (quarto.org/docs/reference/cells/cells-jupyter.html)
DOCUMENTED_OPTIONS = {"label", "echo", "include", "eval", "output", "warning", "fig-cap", "tbl-cap", "fig-alt"}
SHORTCODE = re.compile(r"\{\{<\s*(\w+)")
CELL = re.compile(r"^```\{python\}\s*\n(.*?)^```\s*$", re.S | re.M)


def cells(text: str) -> list[dict]:
    out = []
    for body in CELL.findall(text):
        opts = "\n".join(line[3:] for line in body.splitlines() if line.startswith("#| "))
        out.append(yaml.safe_load(opts) or {})
    return out


def test_project_renders_the_manuscript_and_its_supplement_in_three_formats():
    cfg = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert cfg["project"]["type"] == "default"
    assert cfg["project"]["output-dir"] == "_output"
    assert cfg["project"]["render"][:2] == ["index.qmd", "supplement.qmd"]
    assert all(p.exists() for p in DOCUMENTS)
    assert set(cfg["format"]) == {"html", "docx", "typst"}
    front = yaml.safe_load((ROOT / "supplement.qmd").read_text().split("---")[1])
    assert front["crossref"]["tbl-title"] == front["crossref"]["tbl-prefix"] == "Supplementary Table"
    assert "embed-resources" not in cfg["format"]["html"]
    assert (ROOT / cfg["format"]["docx"]["reference-doc"]).exists()
    for key in ("bibliography", "csl"):
        assert (ROOT / cfg[key]).exists()


def test_chapters_start_with_an_underscore_and_have_no_front_matter():
    for path in SOURCES[len(DOCUMENTS):]:
        assert path.name.startswith("_"), path.name
        assert not path.read_text().startswith("---"), path.name


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_only_documented_cell_options_and_shortcodes(path):
    text = path.read_text()
    for opts in cells(text):
        assert set(opts) <= DOCUMENTED_OPTIONS, (path.name, set(opts) - DOCUMENTED_OPTIONS)
        label = opts.get("label", "")
        if label.startswith("tbl-"):
            assert "tbl-cap" in opts, (path.name, label)
        if label.startswith("fig-"):
            assert {"fig-cap", "fig-alt"} <= set(opts), (path.name, label)
    assert set(SHORTCODE.findall(text)) <= {"include", "meta"}, path.name


INCLUDE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")


def included_by(path: Path) -> list[Path]:
    """Every file ``path`` includes, directly or through another include, once per include directive."""
    out = []
    for target in INCLUDE.findall(path.read_text()):
        assert (ROOT / target).exists(), target
        out += [(ROOT / target).resolve(), *included_by(ROOT / target)]
    return out


def test_every_include_exists_and_every_chapter_is_included_once_in_a_document():
    """Every chapter is used, and no document holds one twice (a shared part, such as the relation to the
    published paper, may serve several documents)."""
    used = set()
    for doc in DOCUMENTS:
        mine = included_by(doc)
        assert len(mine) == len(set(mine)), doc.name
        used |= set(mine)
    assert used == {p.resolve() for p in SOURCES[len(DOCUMENTS):]}


def test_labels_are_unique_and_cross_references_have_targets_in_their_own_document():
    labels = [o["label"] for p in SOURCES for o in cells(p.read_text()) if "label" in o]
    assert len(labels) == len(set(labels))
    for doc in DOCUMENTS:
        text = "\n".join(t for _, t in expand_includes(doc, doc.parent, ROOT))
        own = {o["label"] for o in cells(text) if "label" in o}
        refs = set(re.findall(r"@((?:tbl|fig)-[\w-]+[\w])", text))
        assert refs <= own and (refs or doc.name == "summary.qmd"), (doc.name, refs - own)
        assert not re.search(r"(?<![\w@])@sec-", text), f"{doc.name}: use xref() for sections (Quarto numbers none)"


def test_every_cross_document_reference_names_a_label_of_the_project():
    labels = label_map(ROOT, [p.name for p in DOCUMENTS])
    def used_in(paths) -> set[str]:
        return {m for p in paths for m in re.findall(r"xref\(\"([\w-]+)\"", p.read_text())}

    used = used_in(SOURCES)
    assert used and used <= set(labels), used - set(labels)
    in_supplement = {k for k, v in labels.items() if v["document"] == "supplement"}
    manuscript = [ROOT / "index.qmd", *(p for p in SOURCES[len(DOCUMENTS):] if not p.name.startswith("_supplement"))]
    assert used_in(manuscript) <= in_supplement, "the manuscript refers to its own labels with @, not xref()"
    for doc in DOCUMENTS:
        assert all(labels[m]["document"] != doc.stem for m in used_in([doc])), f"{doc.name} names its own label with xref()"
    assert labels["tbl-s-codebook"]["text"].startswith("Supplementary Table ")
    assert labels["sec-bias"]["text"] == "Methods: Bias"


def test_inline_code_uses_quarto_inline_syntax():
    found = 0
    for path in SOURCES:
        text = path.read_text()
        assert "`r " not in text and "{{python" not in text, path.name
        for expr in re.findall(r"(?<!`)`\{python\}([^`]*)`", text):
            assert expr.startswith(" ") and expr.strip() and "\n" not in expr, (path.name, expr)
            found += 1
    assert found >= 10, "the manuscript's numbers in prose come from inline expressions"


def test_the_project_has_none_of_the_known_quarto_pitfalls():
    assert lint(ROOT) == []


def _copy_project(tmp_path: Path) -> Path:
    for name in ("_quarto.yml", *(d.name for d in DOCUMENTS), "authors.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "chapters", tmp_path / "chapters")
    shutil.copytree(ROOT / "csl", tmp_path / "csl")
    return tmp_path


def _edit_config(root: Path, change) -> None:
    cfg = yaml.safe_load((root / "_quarto.yml").read_text())
    change(cfg)
    (root / "_quarto.yml").write_text(yaml.safe_dump(cfg))


PITFALLS = {
    # 1. quarto-dev/quarto-cli#14063: the PDF's figures and the notebook preview are deleted
    "embed-resources": (lambda c: c["format"]["html"].update({"embed-resources": True}), "embed-resources"),
    # 2. docs/*.md and tests/*.py rendered as documents
    "render list": (lambda c: c["project"].pop("render"), "project.render"),
    "render glob": (lambda c: c["project"].update({"render": ["index.qmd", "**/*.py"]}), "project.render"),
    # 3. {{< meta provenance-* >}} undefined when Quarto runs directly
    "provenance file": (lambda c: c.pop("metadata-files"), "meta provenance-"),
    "pre-render step": (lambda c: c["project"].pop("pre-render"), "meta provenance-"),
    # 4. tables converted by Quarto, not by the project's filter and Word finishing
    "filter": (lambda c: c.pop("filters"), "filters"),
    "table processing": (lambda c: c.pop("html-table-processing"), "html-table-processing"),
    "post-render step": (lambda c: c["project"].pop("post-render"), "post-render"),
    # 3b. the steps run through PATH's python, not QUARTO_PYTHON: "No module named 'perinatal_csc'"
    "step through PATH": (lambda c: c["project"].update({"pre-render": "python -m perinatal_csc.render.hooks pre-render"}),
                          "QUARTO_PYTHON"),
    # 4b. citations set by Typst's own engine under Quarto, not by the CSL
    "typst citeproc": (lambda c: c["format"]["typst"].pop("citeproc"), "citeproc"),
    # 5. a manuscript project renders the supplement only as an HTML notebook view
    "manuscript type": (lambda c: c["project"].update({"type": "manuscript"}), "project.type"),
}


@pytest.mark.parametrize("name", sorted(PITFALLS))
def test_lint_fails_on_a_copy_that_reintroduces_a_pitfall(tmp_path, name):
    root = _copy_project(tmp_path)
    assert lint(root) == []
    change, words = PITFALLS[name]
    _edit_config(root, change)
    problems = lint(root)
    assert problems and any(words in p for p in problems), problems


def test_lint_finds_a_meta_key_that_nothing_defines(tmp_path):
    root = _copy_project(tmp_path)
    path = root / "chapters" / "_supplement-reporting.qmd"
    path.write_text(path.read_text() + "\nCommit: {{< meta provenance-branch >}}\n")
    assert [p for p in lint(root) if "provenance-branch" in p]


def test_lint_wants_the_gitignore_lines_quarto_would_append(tmp_path):
    """Quarto adds "/.quarto/" to a .gitignore that has only ".quarto/", and the render's provenance
    then reads a clean clone's commit as "(modified)"."""
    root = _copy_project(tmp_path)
    shutil.copy(ROOT / ".gitignore", root / ".gitignore")
    assert lint(root) == []
    text = (root / ".gitignore").read_text()
    (root / ".gitignore").write_text(text.replace("/.quarto/", ".quarto/"))
    assert [p for p in lint(root) if "/.quarto/" in p]
