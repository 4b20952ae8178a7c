"""Data in, tidy results out: the one path every command and every chapter takes.

``cohort`` loads, validates and derives; ``run_analysis`` calls each analysis stage's
``results(cohort, config)`` and returns their tidy tables by name; ``write_results`` saves them
as CSV into the data source's own results folder (internal: never leaves the secure environment);
``disclose`` applies the configured disclosure policy and ``write_release`` saves the released tables,
the audit of every decision and the output request beside them (``_results/<source>/release/``).
"""
from __future__ import annotations

import copy
import dataclasses
import filecmp
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .config import Config
from .files import read_stamp
from .data.codebook import load_codebook
from .data.derive import derive
from .data.load import load_cohort
from .data.synth import generate, recognise, write_cohort
from .disclose.policy import MARKER, policy_for
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


def labelled(config: Config) -> Config:
    """The configuration with its data labelled by what the file is, not by the command that named it: a
    real-data run on a file that the synthetic generator recognises as its own output (regenerated
    byte for byte from the seed in its ids and its size) becomes a SYNTHETIC run of that n and seed;
    anything else stays real, with real data's disclosure rules."""
    if config.is_synthetic or config.mapping_path is not None or config.data_path is None:
        return config
    found = recognise(config.data_path, config.synthetic_parameters_path)
    if found is None:
        return config
    n, seed = found
    raw = copy.deepcopy(config.raw)
    data = raw.setdefault("data", {})
    data["source"] = "synthetic"
    data["synthetic"] = {**(data.get("synthetic") or {}), "path": str(config.data_path), "n": n, "seed": seed,
                         "recognised_from": str(config.data_path)}
    return dataclasses.replace(config, source="synthetic", synthetic_n=n, synthetic_seed=seed, raw=raw)


def cohort(config: Config, progress: Callable[[str], None] = lambda s: None) -> pd.DataFrame:
    """The validated cohort with derived variables: the input of every analysis."""
    ensure_synthetic(config, progress)
    loaded = load_cohort(config.data_path, config.mapping_path, codebook_path=config.codebook_path,
                         analysis_plan_path=config.analysis_plan_path)
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


def write_release(rel: Release, out_dir: Path, inputs: str | None = None) -> list[Path]:
    """Write the released tables (suppressed values as the marker), ``disclosure_audit.json`` (every
    decision, no protected value), ``output_request.csv`` and ``RELEASE.json`` (the policy and the
    fingerprint of the inputs, ``inputs``, that let the rendering kernel reuse the release); return
    the table paths."""
    (out_dir / RELEASE_STAMP).unlink(missing_ok=True)
    paths = write_results(rel.tables, out_dir)
    audit = {"policy": rel.policy.name, "checked": rel.policy.checked, "rule": rel.policy.rule_text(),
             "threshold": rel.policy.threshold, "rounding": rel.policy.rounding,
             "decisions": rel.audit_records()}
    (out_dir / AUDIT).write_text(json.dumps(audit, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rel.tables[SUMMARY_TABLE].to_csv(out_dir / OUTPUT_REQUEST, index=False, lineterminator="\n")
    if inputs is not None:
        (out_dir / RELEASE_STAMP).write_text(json.dumps({"inputs": inputs, "policy": rel.policy.name}) + "\n",
                                             encoding="utf-8")
    return paths


RELEASE_STAMP = "RELEASE.json"
PACKAGE_DIR = Path(__file__).resolve().parent


def _feed(h: "hashlib._Hash", label: str, path: Path | None) -> None:
    h.update(f"\0{label}\0".encode())
    if path is None or not path.exists():
        h.update(b"<none>")
    elif path.is_dir():
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(path)).encode())
            h.update(p.read_bytes())
    else:
        h.update(path.read_bytes())


def inputs_fingerprint(config: Config) -> str:
    """Hash of everything the released tables depend on: data, mapping, configuration, codebook,
    analysis plan, synthetic parameters, the package's code and the pinned libraries."""
    h = hashlib.sha256()
    h.update(json.dumps(config.raw, sort_keys=True, default=str).encode())
    h.update(f"{config.source}\0{config.data_path}\0{config.mapping_path}".encode())
    for label, path in (("data", config.data_path), ("mapping", config.mapping_path),
                        ("codebook", config.codebook_path), ("plan", config.analysis_plan_path),
                        ("synthetic", config.synthetic_parameters_path),
                        ("lock", config.root / "requirements.lock")):
        _feed(h, label, path)
    for p in sorted(PACKAGE_DIR.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".yml", ".yaml") and "__pycache__" not in p.parts:
            _feed(h, str(p.relative_to(PACKAGE_DIR)), p)
    return h.hexdigest()


def current_results(config: Config, folder: Path, policy_name: str) -> list[Path] | None:
    """The result tables in ``folder`` when ``analyse`` wrote them and their release from exactly the
    current inputs under ``policy_name`` (nothing would change by running it again); else None."""
    written = read_stamp(folder / "release" / RELEASE_STAMP)
    manifest = folder / MANIFEST
    if written is None or not manifest.exists():
        return None
    paths = [folder / name for name in manifest.read_text(encoding="utf-8").split()]
    if not paths or not all(p.exists() for p in paths) or not (folder / "release" / MANIFEST).exists():
        return None
    if written.get("policy") != policy_name or written.get("inputs") != inputs_fingerprint(config):
        return None
    return paths


#: Result columns that hold numbers (an all-empty one is read as missing numbers, not as text).
NUMERIC_COLUMNS = frozenset({
    "c_ci_high", "c_ci_low", "c_statistic", "ci_high", "ci_low", "confidence_level", "denominator", "df", "epv",
    "estimate", "events", "excluded", "fmi", "group_n", "hl_chi2", "hl_df", "hl_groups", "hl_p", "max_gvif", "mean",
    "median", "n", "n_domain_not_known", "n_involved", "n_missing", "n_not_applicable", "n_pairs", "n_status_unknown",
    "non_events", "or", "p", "p_global", "parameters", "parent_n", "percent", "q", "q1", "q3", "remaining", "sd", "se",
    "smd", "statistic", "step"})


#: Columns of codes and names: text even when every value looks like a number ("1", "2").
CODE_COLUMNS = frozenset({"variable", "level", "group", "term", "model", "stage", "parent", "measure", "comparison",
                          "section", "from_variable", "to_variable", "group_variable", "requires", "output", "name",
                          "value", "detail", "label", "level_label", "group_label", "stage_label"})


def _typed(column: pd.Series) -> pd.Series:
    """A released CSV column as the release holds it: numbers (the marker kept as text where a value
    is suppressed), True/False as booleans, other text as text ("" for empty)."""
    values = column.tolist()
    if column.name in CODE_COLUMNS:
        return column.astype(object)
    filled = [v for v in values if v not in ("", MARKER)]
    if filled and all(v in ("True", "False") for v in filled):
        return pd.Series([{"True": True, "False": False}.get(v, np.nan) for v in values], index=column.index,
                         dtype=object if len(filled) < len(values) else bool)
    try:
        nums = [float(v) for v in filled]
    except ValueError:
        return column.astype(object)
    if not nums:
        if MARKER in values or column.name not in NUMERIC_COLUMNS:
            return column.astype(object)
        return pd.Series(np.nan, index=column.index, dtype="float64")
    whole = all(x.is_integer() for x in nums) and not any("." in v or "e" in v.lower() for v in filled)
    if MARKER not in values:
        if whole and len(filled) == len(values):
            return pd.Series([int(v) for v in values], index=column.index, dtype="int64")
        return pd.Series([float(v) if v != "" else np.nan for v in values], index=column.index, dtype="float64")
    return pd.Series([MARKER if v == MARKER else (np.nan if v == "" else (int(v) if whole else float(v)))
                      for v in values], index=column.index, dtype=object)


def read_release(folder: Path) -> dict[str, pd.DataFrame]:
    """The released tables a ``write_release`` folder lists in its manifest, typed as ``_typed`` says."""
    names = (folder / MANIFEST).read_text(encoding="utf-8").split()
    out = {}
    for name in names:
        raw = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        out[Path(name).stem] = pd.DataFrame({c: _typed(raw[c]) for c in raw.columns}, index=raw.index)
    return out
