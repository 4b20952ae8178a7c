"""The codebook appendix table, straight from ``Codebook.to_frame()``."""
from __future__ import annotations

from great_tables import GT

from ..codebook import Codebook
from .style import style_table

CODEBOOK_COLUMNS = {
    "name": "Variable", "label": "Label", "type": "Type", "timepoint": "Timepoint",
    "levels": "Levels (code = label)", "range": "Range", "missing_codes": "Missing codes",
}


def codebook_frame(codebook: Codebook):
    """The columns of the codebook export the appendix shows, in order."""
    return codebook.to_frame()[list(CODEBOOK_COLUMNS)]


def codebook_table(codebook: Codebook) -> GT:
    """Every variable with its label, type, timepoint, levels, range and missing codes (metadata, not data)."""
    gt = GT(codebook_frame(codebook)).cols_label(**CODEBOOK_COLUMNS)
    return style_table(gt, is_synthetic=False, footnotes=[
        f"Codebook version {codebook.version}; derived variables are computed in the analysis from recorded ones."])
