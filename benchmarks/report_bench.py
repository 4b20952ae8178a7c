"""Warm `perinatal-csc report` (what `make report` runs) when nothing changed, on the default cohort.

    .venv/bin/python benchmarks/report_bench.py [--repeat 5]

One report first (it may analyse and render), then --repeat reports with nothing changed: each should
reuse the analysis (results up to date) and the finished documents (outputs up to date). Prints each
run's wall time, the median, the machine's load, and the target (under 5 s on 2 cores).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("perinatal-csc")


def report() -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run([str(CLI), "report"], cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, done.stdout + done.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    first, _ = report()
    times, reused = [], []
    for _ in range(args.repeat):
        t, out = report()
        times.append(t)
        reused.append("results up to date" in out and "outputs up to date" in out)
    med = statistics.median(times)
    print(f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}")
    print(f"first report: {first:.1f} s")
    print(f"warm report: median {med:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}); "
          f"analysis and documents reused in {sum(reused)} of {len(reused)} runs; target < 5 s "
          f"{'OK' if med < 5 and all(reused) else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
