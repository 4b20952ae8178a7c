"""Benchmark: what the disclosure stage adds to `perinatal-csc analyse` on the default cohort.

Not part of `make test`. Times the analysis (describe + models) once, then the release under each
preset (median of --repeat runs), and writing the release (tables, audit, output request).
Run:  .venv/bin/python benchmarks/disclose_bench.py [--repeat 5]
The issue's budget: under 1 s for the default preset (cohort) on the default cohort.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from perinatal_csc.config import load_config
from perinatal_csc.disclose.policy import PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.pipeline import cohort, disclose, run_analysis, write_release


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cfg = load_config()
    t0 = time.perf_counter()
    results = run_analysis(cohort(cfg), cfg)
    print(f"analysis (cohort + describe + models): {time.perf_counter() - t0:.2f} s")
    for name, policy in PRESETS.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            rel = release(results, policy)
            times.append(time.perf_counter() - t)
        protected = sum(d.kind == "primary" for d in rel.decisions)
        print(f"release under {name:7s}: median {statistics.median(times):.3f} s (min {min(times):.3f}); "
              f"{protected} protected values, {len(rel.decisions)} decisions")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_release(disclose(results, cfg), Path(tmp) / "release")
        print(f"release + write (default policy {cfg.disclosure}): {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
