"""Render stage: the manuscript sources to HTML, Word and PDF, with Quarto or the built-in path.

``driver`` chooses the renderer and caches executed cells; ``qmd`` reads the sources; ``execute``
runs the cells in a Jupyter kernel; ``word`` finishes the Word tables; ``resources/`` holds the Lua
filter, CSS and Word reference document. Knows nothing of statistics.
"""
