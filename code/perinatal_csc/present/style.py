"""Shared look of every table and figure: one palette, one table style, one data-source note."""
from __future__ import annotations

from great_tables import GT

# Okabe-Ito: colour-blind safe; paired with hatches/markers where greyscale must separate series.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
HATCHES = ["", "///", "...", "xxx", "\\\\\\", "ooo", "---", "+++"]
SYNTHETIC_NOTE = "SYNTHETIC data: illustrative only, not study findings."


def source_note(is_synthetic: bool) -> str | None:
    """The note every table and figure carries when its data is synthetic."""
    return SYNTHETIC_NOTE if is_synthetic else None


def style_table(gt: GT, *, is_synthetic: bool, footnotes: list[str] | tuple[str, ...] = ()) -> GT:
    """Apply the project's table style and footnotes (and the SYNTHETIC note where it applies)."""
    for note in footnotes:
        gt = gt.tab_source_note(note)
    note = source_note(is_synthetic)
    if note:
        gt = gt.tab_source_note(note)
    return gt.tab_options(
        table_font_size="10pt",
        heading_title_font_size="11pt",
        column_labels_font_weight="bold",
        row_group_font_weight="bold",
        source_notes_font_size="8.5pt",
        table_width="100%",
    )


def setup_matplotlib() -> None:
    """Consistent, print-friendly matplotlib defaults."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 150, "savefig.dpi": 200, "font.size": 9, "axes.spines.top": False,
        "axes.spines.right": False, "axes.prop_cycle": plt.cycler(color=PALETTE),
        "svg.hashsalt": "perinatal-csc", "savefig.bbox": "tight",
    })
