"""What the manuscript's chapters see: the configuration, codebook, disclosure policy and the released
result tables, never the cohort frame or the full (unchecked) results.

Computed once per rendering kernel, from the data in the configuration, so every number in the
manuscript comes from the run that renders it, and passes through the same disclosure control as
``perinatal-csc analyse``'s release. The renderer passes per-run overrides through the
environment (PERINATAL_CSC_CONFIG, PERINATAL_CSC_DATA, PERINATAL_CSC_MAPPING).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from .data.codebook import Codebook, load_codebook
from .config import Config, load_config
from .disclose.policy import Policy
from .pipeline import cohort, disclose, run_analysis


@dataclass(frozen=True)
class ReportContext:
    """``results`` are the released tables only (suppressed values hold the disclosure marker)."""

    config: Config
    codebook: Codebook
    policy: Policy
    results: dict[str, pd.DataFrame]

    @property
    def is_synthetic(self) -> bool:
        return self.config.is_synthetic


def config_from_environment() -> Config:
    """The run's configuration, including the renderer's per-run overrides."""
    env = os.environ
    return load_config(env.get("PERINATAL_CSC_CONFIG") or None, data=env.get("PERINATAL_CSC_DATA") or None,
                       mapping=env.get("PERINATAL_CSC_MAPPING") or None,
                       source=env.get("PERINATAL_CSC_SOURCE") or None)


@lru_cache(maxsize=1)
def context() -> ReportContext:
    """Load, validate, derive, analyse and disclose once; every chapter shares the release."""
    cfg = config_from_environment()
    released = disclose(run_analysis(cohort(cfg), cfg), cfg)
    return ReportContext(config=cfg, codebook=load_codebook(cfg.codebook_path), policy=released.policy,
                         results=released.tables)
