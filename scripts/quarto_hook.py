"""Quarto's pre- and post-render step (``_quarto.yml``): ``perinatal_csc.render.hooks`` as a script.

Quarto runs a ``.py`` script with the Python of ``QUARTO_PYTHON`` (else the one it finds), the same
Python that runs the chapters' cells; a ``python -m ...`` command would run whichever ``python`` is
first on PATH, where the package may not be installed.
"""
import sys
from pathlib import Path

try:
    import perinatal_csc  # noqa: F401
except ModuleNotFoundError:      # the project's own sources, when this Python has the dependencies only
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "code"))

from perinatal_csc.render.hooks import main

sys.exit(main())
