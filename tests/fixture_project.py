"""Test helper: the one-document manuscript project the fixture projects (review_project.py,
disclosure_project.py) are built on, rendered by the built-in path."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from perinatal_csc.config import load_config
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.render.driver import render
from perinatal_csc.render.project import FILTER


def quarto_yml(formats: str, extra: str = "") -> str:
    """``_quarto.yml`` of a project rendering ``index.qmd`` with the package's Lua filter; ``formats`` is the
    indented body of ``format:``, ``extra`` top-level lines added before it."""
    return f"""\
project:
  type: manuscript
  output-dir: _output
  render: [index.qmd]
manuscript:
  article: index.qmd
execute:
  echo: false
  warning: false
metadata-files: [_provenance.yml]
filters: [{PROJECT_ROOT / FILTER}]
{extra}format:
{formats}"""


def render_project(root: Path, formats: list[str], **kwargs) -> list[Path]:
    """The project's outputs in ``formats`` (its own ``data.csv`` as the data, ``_output`` beside it)."""
    cfg = replace(load_config(), data_path=root / "data.csv", output_root=root / "_output")
    return render(cfg, formats, project_dir=root, builtin=True, **kwargs)
