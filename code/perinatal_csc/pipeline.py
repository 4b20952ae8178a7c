"""Data in, tidy results out: the one path every command and every chapter takes.

``cohort`` loads, validates and derives; ``run_analysis`` calls each analysis stage's
``results(cohort, config)`` and returns their tidy tables by name; ``write_results`` saves them
as CSV into the data source's own results folder (internal: never leaves the secure environment);
``disclose`` applies the configured disclosure policy and ``write_release`` saves the released tables,
the audit of every decision and the output request beside them (``_results/<source>/release/``).
"""
from __future__ import annotations

import filecmp
import json
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd

from .config import Config
from .data.codebook import load_codebook
from .data.derive import derive
from .data.load import load_cohort
from .data.synth import generate, write_cohort
from .disclose.policy import policy_for
from .disclose.release import Release, release
from .stats import describe, models

Stage = Callable[[pd.DataFrame, Config], dict[str, pd.DataFrame]]

#: The analysis stages, in order: each returns its tidy result tables by name.
ANALYSIS_STAGES: tuple[tuple[str, Stage], ...] = (
    ("describe", describe.results),
    ("models", models.results),
)


def ensure_synthetic(config: Config, progress: Callable[[str], None] = lambda s: None) -> Path:
    """Make the configured synthetic cohort file match the current generator and parameters; return its path.

    The file is rebuilt in every run (it takes milliseconds) and rewritten only when its bytes would
    change, so an edit to the parameters or to ``synth.py`` can never leave a stale cohort behind.
    """
    path = config.data_path
    if not config.is_synthetic:
        return path
    fresh = write_cohort(generate(config.synthetic_n, config.synthetic_seed, config.synthetic_parameters_path),
                         path.with_name(path.name + ".new"))
    if path.exists() and filecmp.cmp(fresh, path, shallow=False):
        fresh.unlink()
    else:
        progress(f"built the SYNTHETIC cohort (n={config.synthetic_n}, seed={config.synthetic_seed}) -> {path}")
        fresh.replace(path)
    return path


def cohort(config: Config, progress: Callable[[str], None] = lambda s: None) -> pd.DataFrame:
    """The validated cohort with derived variables: the input of every analysis."""
    ensure_synthetic(config, progress)
    loaded = load_cohort(config.data_path, config.mapping_path, codebook_path=config.codebook_path)
    return derive(loaded.data, load_codebook(config.codebook_path))


def run_analysis(data: pd.DataFrame, config: Config,
                 progress: Callable[[str], None] = lambda s: None) -> dict[str, pd.DataFrame]:
    """Every analysis stage's tidy tables, by name."""
    out: dict[str, pd.DataFrame] = {}
    for name, stage in ANALYSIS_STAGES:
        progress(f"analysis: {name}")
        for key, table in stage(data, config).items():
            if key in out:
                raise RuntimeError(f"result table {key!r} produced twice (second time by {name})")
            out[key] = table
    return out


MANIFEST = "MANIFEST.txt"


def write_results(results: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Write each table as ``<name>.csv`` and list them in ``MANIFEST.txt``.

    Every table is written to a temporary folder first, so a failure leaves the folder as it was;
    tables an earlier run wrote (by its manifest) that this run no longer produces are removed, so
    the folder never mixes results of two runs. Other files in ``out_dir`` are left alone.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}-") as tmp:
        staged = []
        for name, table in results.items():
            p = Path(tmp) / f"{name}.csv"
            table.to_csv(p, index=False, lineterminator="\n")
            staged.append(p)
        manifest = out_dir / MANIFEST
        previous = manifest.read_text(encoding="utf-8").split() if manifest.exists() else []
        names = [p.name for p in staged]
        for old in set(previous) - set(names):
            (out_dir / old).unlink(missing_ok=True)
        paths = [p.replace(out_dir / p.name) for p in staged]
        manifest.write_text("\n".join(names) + "\n", encoding="utf-8")
    return paths


AUDIT = "disclosure_audit.json"
OUTPUT_REQUEST = "output_request.csv"
#: The release's own table of decisions, shown in the appendix.
SUMMARY_TABLE = "disclosure_summary"


def disclose(results: dict[str, pd.DataFrame], config: Config) -> Release:
    """The release of ``results`` under the configuration's disclosure policy; its tables include
    ``disclosure_summary`` (the output request, one row per released output)."""
    rel = release(results, policy_for(config))
    rel.tables[SUMMARY_TABLE] = rel.summary()
    return rel


def write_release(rel: Release, out_dir: Path) -> list[Path]:
    """Write the released tables (suppressed values as the marker), ``disclosure_audit.json`` (every
    decision, no protected value) and ``output_request.csv``; return the table paths."""
    paths = write_results(rel.tables, out_dir)
    audit = {"policy": rel.policy.name, "checked": rel.policy.checked, "rule": rel.policy.rule_text(),
             "threshold": rel.policy.threshold, "rounding": rel.policy.rounding,
             "decisions": rel.audit_records()}
    (out_dir / AUDIT).write_text(json.dumps(audit, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rel.tables[SUMMARY_TABLE].to_csv(out_dir / OUTPUT_REQUEST, index=False, lineterminator="\n")
    return paths
