"""Where the project lives on disk."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("PERINATAL_CSC_ROOT", Path(__file__).resolve().parents[2]))
CROSSREF_FILE = "_crossref.yml"   # the cross-document label map, written by the pre-render step
