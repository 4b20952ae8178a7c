"""Time the whole modelling step (MI included) on the default synthetic cohort (N = 278).

Usage: .venv/bin/python benchmarks/models_bench.py [repeats]
"""
from __future__ import annotations

import sys
import time

from perinatal_csc.stats import models
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.config import load_config
from perinatal_csc.pipeline import cohort
from perinatal_csc.stats.plan import load_plan


def main(repeats: int = 3) -> None:
    cfg = load_config(source="synthetic")
    df = cohort(cfg)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = models.results(df, cfg)
        times.append(time.perf_counter() - t0)
    m = load_plan(cfg.analysis_plan_path, load_codebook(cfg.codebook_path)).mi.get("m")
    print(f"models.results on N = {len(df)} (SYNTHETIC), {len(out)} tables, MI m = {m}: "
          f"best {min(times):.2f} s, mean {sum(times) / len(times):.2f} s over {repeats} runs (budget 10 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
