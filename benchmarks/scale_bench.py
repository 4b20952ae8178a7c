"""Benchmark: synth then analyse at 10^4, 10^5 and 10^6 dyads; wall time and peak memory per stage.

Not part of `make test` (10^6 dyads takes minutes and a few GB). Each size runs in a fresh process so
that its peak memory is its own. Stages:

    synth        generate the SYNTHETIC cohort and write it as CSV (``perinatal-csc synth``)
    load         read the file (``load._read``, timed inside ``load_cohort``)
    validate     the rest of ``load_cohort``: mapping, parsing, checks, joining
    derive       ``derive``
    describe     ``describe.results``
    models       ``models.results`` without the two stages below (fits, CIs, tests, clusters, weights)
    MI           the chained-equation imputations and the pooled fits (``impute`` + ``_mi_rows``)
    diagnostics  C-statistic, Hosmer-Lemeshow, GVIF (``diagnostics_row``)
    analyse      describe + models (MI and diagnostics included): the analysis after loading
    disclosure   writing the result tables, the disclosure control of the release and writing it
    command      everything ``perinatal-csc analyse`` does on the file: load, validate, derive, analyse, disclosure

CPU time is the process's and its worker processes' (all their threads'), which the other users of a shared
machine do not inflate; the growth exponents are of CPU time. Wall time is what the analyst waits: the
large-cohort imputation runs its chains in one worker process per core, so wall time can be below CPU time.
Peak memory is the largest resident set size (RSS, sampled every 5 ms) of the process plus its worker
processes while the stage ran; it includes what earlier stages left in memory. The growth exponent between two sizes is
log(t2 / t1) / log(n2 / n1): 1 is linear. Budgets at 10^6 (issue 13): analyse <= 180 s,
peak memory <= 8 GB, exponent <= 1.2 from 10^5 to 10^6; the budget is checked against ``command``.

``--blas-threads N`` sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS in each size's
process. On this shared 2-core machine OpenBLAS's threads spin while waiting for a core that another
user holds, and the imputation's many medium-sized products ran 3x slower with two threads than with one.

Run:  .venv/bin/python benchmarks/scale_bench.py [--sizes 10000,100000,1000000] [--seed 2023] [--blas-threads 1]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

STAGES = ("synth", "load", "validate", "derive", "describe", "models", "MI", "diagnostics", "analyse", "disclosure",
          "command")
BUDGET_S = 180.0
BUDGET_GB = 8.0
BUDGET_EXPONENT = 1.2


def _pids(pid: int) -> list[int]:
    """``pid`` and its descendants (the imputation's worker processes)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in task.read_text().split():
                out += _pids(int(child))
    return out


def _rss() -> int:
    total = 0
    for pid in _pids(os.getpid()):
        with contextlib.suppress(OSError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return total


def _cpu() -> float:
    """CPU seconds of this process and of its finished (waited-for) children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Meter:
    """Wall time and peak RSS per named stage; stages may nest and recur (times add up, peaks take the max)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.peak: dict[str, int] = {}
        self.active: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._note()

    def _note(self) -> None:
        r = _rss()
        for name in list(self.active):
            if r > self.peak.get(name, 0):
                self.peak[name] = r

    @contextlib.contextmanager
    def stage(self, name: str):
        self.active.append(name)
        self._note()
        t0, c0 = time.perf_counter(), _cpu()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
            self.cpu[name] = self.cpu.get(name, 0.0) + _cpu() - c0
            self._note()
            self.active.remove(name)

    def wrap(self, owner, attr: str, name: str) -> None:
        """Time every call of ``owner.attr`` as stage ``name`` (and take it out of the enclosing stage)."""
        inner = getattr(owner, attr)

        def timed(*args, **kwargs):
            with self.stage(name):
                return inner(*args, **kwargs)
        setattr(owner, attr, timed)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def one(n: int, seed: int, folder: Path) -> dict:
    """Run every stage once at ``n`` dyads; seconds and peak bytes per stage."""
    from perinatal_csc import pipeline
    from perinatal_csc.config import load_config
    from perinatal_csc.data import load
    from perinatal_csc.data.codebook import load_codebook
    from perinatal_csc.data.derive import derive
    from perinatal_csc.data.synth import generate, write_cohort
    from perinatal_csc.stats import models

    meter = Meter()
    path = folder / f"synth-{n}-{seed}.csv"
    with meter.stage("synth"):
        write_cohort(generate(n, seed), path)
    cfg = load_config(data=path)
    meter.wrap(load, "_read", "load")
    with meter.stage("command"):
        with meter.stage("load+validate"):
            loaded = load.load_cohort(cfg.data_path, cfg.mapping_path, codebook_path=cfg.codebook_path,
                                      analysis_plan_path=cfg.analysis_plan_path)
        with meter.stage("derive"):
            df = derive(loaded.data, load_codebook(cfg.codebook_path))
        meter.wrap(models, "impute", "MI")
        meter.wrap(models, "_mi_rows", "MI")
        meter.wrap(models, "diagnostics_row", "diagnostics")
        stages = dict(pipeline.ANALYSIS_STAGES)
        assert set(stages) == {"describe", "models"}, f"stages not timed: {set(stages) - {'describe', 'models'}}"
        with meter.stage("analyse"):
            with meter.stage("describe"):
                results = dict(stages["describe"](df, cfg))
            with meter.stage("models+"):
                results.update(stages["models"](df, cfg))
        with meter.stage("disclosure"):
            out = folder / f"results-{n}"
            pipeline.write_results(results, out)
            pipeline.write_release(pipeline.disclose(results, cfg), out / "release")
    meter.close()
    s, c = meter.seconds, meter.cpu
    c["validate"] = c.pop("load+validate") - c["load"]
    c["models"] = c.pop("models+") - c["MI"] - c["diagnostics"]
    s["validate"] = s.pop("load+validate") - s["load"]
    s["models"] = s.pop("models+") - s["MI"] - s["diagnostics"]
    peak = dict(meter.peak)
    peak["validate"] = peak.pop("load+validate")
    peak["models"] = peak.pop("models+")
    return {"n": n, "seconds": s, "cpu": c, "peak": peak}


def _exponent(t1: float, t2: float, n1: int, n2: int) -> float:
    return math.log(max(t2, 1e-3) / max(t1, 1e-3)) / math.log(n2 / n1)


def report(runs: list[dict]) -> None:
    cpu = all("cpu" in r for r in runs)
    width = 32 if cpu else 22
    print(f"\n{'stage':<12}" + "".join(f"{r['n']:>{width},}" for r in runs)
          + "".join(f"{'exp ' + format(a['n'], '.0e') + '->' + format(b['n'], '.0e'):>18}" for a, b in zip(runs, runs[1:]))
          + ("   (exponents of CPU time)" if cpu else ""))
    head = "wall (s)  cpu (s)  peak (GB)" if cpu else "time (s)  peak (GB)"
    print(f"{'':<12}" + "".join(f"{head:>{width}}" for _ in runs))
    key = "cpu" if cpu else "seconds"
    for st in STAGES:
        cells = "".join(f"{r['seconds'][st]:>12.2f}" + (f"{r['cpu'][st]:>10.2f}" if cpu else "")
                        + f"{r['peak'][st] / 1e9:>10.2f}" for r in runs)
        exps = "".join(f"{_exponent(a[key][st], b[key][st], a['n'], b['n']):>18.2f}"
                       for a, b in zip(runs, runs[1:]))
        print(f"{st:<12}{cells}{exps}")
    last = runs[-1]
    if last["n"] >= 10**6:
        a = last["seconds"]["analyse"]
        print(f"\nat {last['n']:,} dyads: the analysis after loading (describe, models, MI, diagnostics) {a:.1f} s wall"
              + (f", {last['cpu']['analyse']:.1f} s CPU" if cpu else ""), end="")
        t, gb = last["seconds"]["command"], last["peak"]["command"] / 1e9
        print(f"; the analyse command {t:.1f} s wall"
              + (f", {last['cpu']['command']:.1f} s CPU" if cpu else "")
              + f" (budget {BUDGET_S:g} s), peak memory {gb:.2f} GB (budget {BUDGET_GB:g})", end="")
        prev = [r for r in runs if r["n"] * 10 == last["n"]]
        if prev:
            e = _exponent(prev[0][key]["command"], last[key]["command"], prev[0]["n"], last["n"])
            print(f", exponent {e:.2f} from {prev[0]['n']:,} (budget {BUDGET_EXPONENT:g})", end="")
        print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--blas-threads", type=int, help="threads for the BLAS library (default: its own choice)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed, Path(args.folder))))
        return
    env = dict(os.environ)
    if args.blas_threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.blas_threads)
    print(f"BLAS threads: {args.blas_threads or 'library default'}; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            done = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed), "--folder", tmp],
                                  capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise SystemExit(f"n = {n} failed:\n{done.stderr[-4000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            r = runs[-1]
            print(f"n = {n:,}: " + ", ".join(f"{st} {r['seconds'][st]:.1f} s" for st in STAGES)
                  + f" (load average {os.getloadavg()[0]:.1f})", flush=True)
            (Path(tmp) / f"synth-{n}-{args.seed}.csv").unlink(missing_ok=True)
    report(runs)


if __name__ == "__main__":
    main()
