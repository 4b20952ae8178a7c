"""Test helper: a small manuscript project for the review tests (prose, an inline number, a table,
a list and an include), rendered to Word by the built-in path. Its text is fixed here because the
LibreOffice-written fixture in tests/fixtures/review/ was made from it (scripts/make_review_fixture.py).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from fixture_project import quarto_yml, render_project

QUARTO_YML = quarto_yml("  docx: default\n")

INDEX = """\
---
title: "Review fixture"
---

```{{python}}
#| label: setup
import pandas as pd
from great_tables import GT
n_dyads = {value}
wales = {wales}
```

Mothers who needed acute care often came into contact with children's social care.
We studied `{{python}} n_dyads` dyads from several services.

{{{{< include chapters/_more.qmd >}}}}
"""

MORE = """\
## Results

Support after discharge varied {wording} between services.

```{{python}}
#| label: tbl-demo
#| tbl-cap: "Demo table"
GT(pd.DataFrame({{"Group": ["England", "Wales"], "n": ["248", str(wales)]}}))
```

- A list item about follow-up.
"""


def write_project(root: Path, value: int = 278, wales: int = 30, wording: str = "widely") -> Path:
    (root / "chapters").mkdir(parents=True, exist_ok=True)
    (root / "_quarto.yml").write_text(QUARTO_YML)
    (root / "index.qmd").write_text(INDEX.format(value=value, wales=wales))
    (root / "chapters" / "_more.qmd").write_text(MORE.format(wording=wording, wales=wales))
    (root / "data.csv").write_text("a,b\n1,2\n")
    return root


def commit(root: Path, message: str = "sources") -> None:
    run = lambda *a: subprocess.run(["git", "-C", str(root), *a], check=True, capture_output=True)  # noqa: E731
    if not (root / ".git").exists():
        run("init", "-q")
        run("config", "user.email", "test@example.org")
        run("config", "user.name", "Test")
        (root / ".gitignore").write_text("_output/\n.cache/\n_provenance.yml\n")
    run("add", "-A")
    run("commit", "-q", "-m", message)


def render_docx(root: Path) -> Path:
    (path,) = render_project(root, ["docx"])
    return path


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line of ``path`` containing ``text`` (found independently of the package)."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def reviewed(draft: Path, out: Path) -> Path:
    """The draft with the review the tests expect, written as Microsoft Word writes it."""
    from word_review import WordReview

    r = WordReview(draft)
    prose = r.paragraph("often came into contact")
    r.replace(prose, "often", "frequently")
    r.replace(prose, "278", "300")
    r.replace(r.paragraph("England", in_table=True), "England", "England and Wales")
    r.replace(r.paragraph("Demo table"), "Demo", "Example")
    support = r.paragraph("Support after discharge")
    r.insert(support, "varied", " greatly")
    r.comment(support, "Support after discharge", "Which services? Name them.")
    r.replace(r.paragraph("A list item"), "follow-up", "follow up")
    return r.save(out)
