"""The cross-document label map: numbers, display text and errors, on a hand-made two-document project."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from perinatal_csc.errors import UserError
from perinatal_csc.render.crossref import label_map, write_label_map
from perinatal_csc.render.qmd import SourceError
from perinatal_csc.report import xref

MAIN = """---
title: Paper
---

## Methods {#sec-methods}

### Bias {#sec-bias}

```{python}
#| label: tbl-first
#| tbl-cap: "First"
1
```

```{{python}}
#| label: tbl-not-a-cell
```

{{< include chapters/_part.qmd >}}
"""

PART = """## Results

```{python}
#| label: fig-one
#| fig-cap: "One"
#| fig-alt: "One"
1
```

```{python}
#| label: tbl-second
#| tbl-cap: "Second"
2
```
"""

SUPPLEMENT = """---
title: Supplementary material
crossref:
  tbl-title: Supplementary Table
  tbl-prefix: Supplementary Table
---

## Extra {#sec-s-extra}

```{python}
#| label: setup-supplement
```

```{python}
#| label: tbl-s-one
#| tbl-cap: "S one"
1
```

### Missing data {#sec-s-missing}

```{python}
#| label: tbl-s-two
#| tbl-cap: "S two"
2
```
"""


def project(tmp_path: Path, supplement: str = SUPPLEMENT) -> Path:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "index.qmd").write_text(MAIN)
    (tmp_path / "chapters" / "_part.qmd").write_text(PART)
    (tmp_path / "supplement.qmd").write_text(supplement)
    return tmp_path


def test_tables_and_figures_are_numbered_per_document_and_kind_with_its_own_title(tmp_path):
    labels = label_map(project(tmp_path), ["index.qmd", "supplement.qmd"])
    assert {k: v["text"] for k, v in labels.items() if v["kind"] != "sec"} == {
        "tbl-first": "Table 1", "fig-one": "Figure 1", "tbl-second": "Table 2",
        "tbl-s-one": "Supplementary Table 1", "tbl-s-two": "Supplementary Table 2"}
    assert labels["tbl-second"]["document"] == "index" and labels["tbl-s-two"]["document"] == "supplement"


def test_sections_read_as_their_heading_path_or_document_and_heading(tmp_path):
    labels = label_map(project(tmp_path), ["index.qmd", "supplement.qmd"])
    assert labels["sec-bias"]["text"] == "Methods: Bias"
    assert labels["sec-methods"]["text"] == "Methods"
    assert labels["sec-s-missing"]["text"] == "Supplementary material, Missing data"
    assert "setup-supplement" not in labels


def test_a_label_used_in_two_documents_is_an_error(tmp_path):
    root = project(tmp_path, SUPPLEMENT.replace("tbl-s-two", "tbl-first"))
    with pytest.raises(SourceError, match="tbl-first.*index"):
        label_map(root, ["index.qmd", "supplement.qmd"])


def test_xref_reads_the_written_map_and_names_an_unknown_label(tmp_path):
    root = project(tmp_path)
    write_label_map(root, ["index.qmd", "supplement.qmd"])
    assert yaml.safe_load((root / "_crossref.yml").read_text())["tbl-s-two"]["number"] == 2
    assert xref("tbl-s-two", root) == "Supplementary Table 2"
    with pytest.raises(UserError, match="tbl-s-three.*no document"):
        xref("tbl-s-three", root)
    (root / "_crossref.yml").unlink()
    with pytest.raises(UserError, match="pre-render step writes it"):
        xref("tbl-s-two", root)
