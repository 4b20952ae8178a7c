"""Where the project lives on disk."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("PERINATAL_CSC_ROOT", Path(__file__).resolve().parents[2]))
CROSSREF_FILE = "_crossref.yml"   # the cross-document label map, written by the pre-render step
#: Under Quarto, the rendering kernel keeps each figure's files here (``report.export_figures_in_kernel``)
#: and the post-render step numbers them into ``_output/figures/``, as the built-in path does.
QUARTO_FIGURE_EXPORTS = ".cache/render/quarto-figures"
#: Resolution of the PNG kept for each figure (beside its vector PDF).
FIGURE_EXPORT_DPI = 600


def figure_export_key(code: str) -> str:
    """The name a Quarto kernel keeps a figure cell's files under: Quarto sends a cell's code without
    its ``#|`` options, so the label is unknown there and the code (as the document reader has it) names it."""
    import hashlib

    return "fig-" + hashlib.sha256(code.strip().encode("utf-8")).hexdigest()[:16]
