"""The project configuration (``config/project.yml``) and per-run overrides."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .files import read_yaml
from .paths import PROJECT_ROOT

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "project.yml"


class ConfigError(UserError):
    """A configuration problem, reported to the user without a traceback."""


@dataclass(frozen=True)
class Config:
    """Resolved settings for one run. Paths are absolute."""

    root: Path
    source: str                  # "synthetic" or "real"
    data_path: Path
    mapping_path: Path | None
    synthetic_n: int
    synthetic_seed: int
    codebook_path: Path
    synthetic_parameters_path: Path
    analysis_plan_path: Path
    disclosure: Any                  # ``disclosure:`` as written: a preset name or a mapping (see disclose.policy)
    results_root: Path
    output_root: Path
    real_output_root: Path
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def organisations(self) -> int | None:
        """NHS organisations that took part in the parent study (``study.organisations``), or None."""
        return (self.raw.get("study") or {}).get("organisations")

    @property
    def is_synthetic(self) -> bool:
        return self.source == "synthetic"

    @property
    def results_dir(self) -> Path:
        """Results of this data source only: _results/synthetic or _results/real (internal)."""
        return self.results_root / self.source

    @property
    def release_dir(self) -> Path:
        """The disclosure-checked release beside the full results: _results/<source>/release."""
        return self.results_dir / "release"

    @property
    def output_dir(self) -> Path:
        return self.output_root if self.is_synthetic else self.real_output_root

    @property
    def recognised_from(self) -> str | None:
        """The file a SYNTHETIC run was recognised from (``pipeline.labelled``), or None."""
        return ((self.raw.get("data") or {}).get("synthetic") or {}).get("recognised_from")

    @property
    def data_label(self) -> str:
        return "SYNTHETIC" if self.is_synthetic else f"REAL: {self.data_path.name}"


def _resolve(root: Path, p: Any) -> Path | None:
    if p in (None, ""):
        return None
    q = Path(str(p)).expanduser()
    return q if q.is_absolute() else (root / q)


def load_config(path: str | Path | None = None, *, data: str | Path | None = None,
                mapping: str | Path | None = None, source: str | None = None) -> Config:
    """Read the project configuration; ``data``/``mapping`` override it for one run.

    Passing ``data`` (a real export) switches the source to real unless ``source`` says otherwise.
    """
    cfg_path = Path(path) if path is not None else DEFAULT_CONFIG
    raw = read_yaml(cfg_path, "configuration file", ConfigError)
    root = PROJECT_ROOT
    d = raw.get("data", {}) or {}
    synth = d.get("synthetic", {}) or {}
    real = d.get("real", {}) or {}
    src = source or ("real" if data is not None else d.get("source", "synthetic"))
    if src not in ("synthetic", "real"):
        raise ConfigError(f"{cfg_path}: data.source must be 'synthetic' or 'real', not {src!r}")
    if src == "synthetic":
        data_path = _resolve(root, data) or _resolve(root, synth.get("path", "data/synthetic/synthetic_cohort.csv"))
        mapping_path = _resolve(root, mapping)
    else:
        data_path = _resolve(root, data) or _resolve(root, real.get("path"))
        mapping_path = _resolve(root, mapping) or _resolve(root, real.get("mapping"))
        if data_path is None and mapping_path is None:
            raise ConfigError(f"{cfg_path}: data.source is 'real' but neither data.real.path nor "
                              "data.real.mapping is set (or pass --data PATH)")
        if data_path is None:
            data_path = mapping_path
    organisations = (raw.get("study") or {}).get("organisations")
    if organisations is not None and (isinstance(organisations, bool) or not isinstance(organisations, int)
                                      or organisations < 1):
        raise ConfigError(f"{cfg_path}: study.organisations must be a whole number of at least 1, "
                          f"not {organisations!r}")
    return Config(
        root=root, source=src, data_path=data_path, mapping_path=mapping_path,
        synthetic_n=int(synth.get("n", 278)), synthetic_seed=int(synth.get("seed", 2023)),
        codebook_path=_resolve(root, raw.get("codebook", "data/codebook.yml")),
        synthetic_parameters_path=_resolve(root, raw.get("synthetic_parameters", "data/synthetic_parameters.yml")),
        analysis_plan_path=_resolve(root, raw.get("analysis_plan", "config/analysis_plan.yml")),
        disclosure=raw.get("disclosure", "cohort"),
        results_root=_resolve(root, raw.get("results_dir", "_results")),
        output_root=_resolve(root, raw.get("output_dir", "_output")),
        real_output_root=_resolve(root, raw.get("real_output_dir", "_output-real")),
        raw=raw,
    )
