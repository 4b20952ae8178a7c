"""Test helper: a small manuscript project that shows the adversarial disclosure fixtures
(tests/disclosure_fixtures.py) through the package's own release and presentation functions, the
way the chapters do (a characteristics table, the odds-ratio table, the flow diagram with its text
description, an inline sentence), rendered to HTML, Word and PDF by the built-in path."""
from __future__ import annotations

import pickle
from pathlib import Path

from perinatal_csc.paths import PROJECT_ROOT

import disclosure_fixtures as fx
from fixture_project import quarto_yml, render_project

QUARTO_YML = quarto_yml(f"""\
  html: default
  docx:
    reference-doc: {PROJECT_ROOT / "code/perinatal_csc/render/resources/reference.docx"}
  typst:
    papersize: a4
""", extra="html-table-processing: none\n")

INDEX = """\
---
title: "Disclosure fixture ({preset})"
---

```{{python}}
#| label: setup
import pickle
from perinatal_csc.disclose.policy import PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.present import descriptive as pdx
from perinatal_csc.present import figures as pfig
from perinatal_csc.present import models as pmod
with open("fixture.pkl", "rb") as fh:
    full = pickle.load(fh)
r = release(full, PRESETS["{preset}"]).tables
```

## Results

Among the dyads with CSC involvement, `{{python}} pdx.group_summary(r, "table1_sociodemographic", "rare", "1", level="rare")`
had the rare characteristic.

```{{python}}
#| label: tbl-sociodemographic
#| tbl-cap: "Characteristics of the fixture dyads"
pdx.table1(r, is_synthetic=True)
```

```{{python}}
#| label: fig-flow
#| fig-cap: "Flow of the fixture dyads"
#| fig-alt: "Flow diagram of the fixture dyads; the text description below gives every count."
pfig.flow_figure(r, is_synthetic=True)
```

*Text description of @fig-flow:* `{{python}} pfig.flow_alt(r)`

```{{python}}
#| label: tbl-models-m
#| tbl-cap: "Odds ratios of the fixture model"
pmod.odds_ratio_table(r, "m", is_synthetic=True)
```
"""


def write_project(root: Path, preset: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_quarto.yml").write_text(QUARTO_YML)
    (root / "index.qmd").write_text(INDEX.format(preset=preset))
    with (root / "fixture.pkl").open("wb") as fh:
        pickle.dump(fx.results(), fh)
    (root / "data.csv").write_text("a,b\n1,2\n")
    return root


def render_all(root: Path) -> dict[str, Path]:
    """index.html, index.docx and index.pdf of the project (no cache), by format."""
    paths = render_project(root, ["html", "docx", "pdf"], use_cache=False)
    return {p.suffix[1:]: p for p in paths}
