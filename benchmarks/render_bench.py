"""Cold and warm render times for HTML, Word and PDF together (not part of `make test`).

    .venv/bin/python benchmarks/render_bench.py [--repeat 3]

Cold: the executed-results cache is bypassed (kernel, analysis, every cell, pandoc, Typst).
Warm: nothing changed, so executed results come from the cache (pandoc and Typst only).
Targets on a 2-core machine: under 20 s cold, under 5 s warm. Always uses the built-in path.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from perinatal_csc.config import load_config
from perinatal_csc.render.driver import render


def timed(use_cache: bool) -> float:
    t0 = time.perf_counter()
    render(load_config(), ["html", "docx", "pdf"], use_cache=use_cache, builtin=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"cores: {os.cpu_count()}; formats: html, docx, pdf; built-in path")
    cold = [timed(use_cache=False) for _ in range(a.repeat)]
    warm = [timed(use_cache=True) for _ in range(a.repeat)]
    for name, xs, target in (("cold", cold, 20.0), ("warm", warm, 5.0)):
        ok = "OK" if statistics.median(xs) < target else "OVER TARGET"
        print(f"{name}: median {statistics.median(xs):.1f} s (runs: {', '.join(f'{x:.1f}' for x in xs)}; "
              f"target < {target:.0f} s) {ok}")


if __name__ == "__main__":
    main()
