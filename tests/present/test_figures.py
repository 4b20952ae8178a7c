"""Figures as a renderer's kernel draws them."""


def test_the_withheld_figure_is_drawn_by_ipython_as_quartos_kernel_draws_figures():
    """IPython's inline backend (Quarto's kernel) makes no image of a figure without axes and shows its
    text form ("<Figure size ... with 0 Axes>") instead."""
    from IPython.core.pylabtools import print_figure

    from perinatal_csc.present.figures import withheld_figure
    png = print_figure(withheld_figure(True), "png")
    assert png and png.startswith(b"\x89PNG")
