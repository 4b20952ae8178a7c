"""How far the pooled MI estimates move when the plan's large-cohort imputation switches on.

Above ``large_n.mi_one_step_min_dyads`` two things change (``imputation.mice(one_step=True)``):

1. the chains become independent, each with its own random stream, and run in parallel. Below the bound
   the chains run one after another from one stream. This changes only which random numbers are drawn,
   like changing the seed: the pooled estimates of the two runs differ by Monte Carlo error alone, so
   their change is judged against the Monte Carlo SE of a difference of two independent runs,
   sqrt(B1 / m + B2 / m), and about 95% of changes should be below 2 of those. As a control, the same
   comparison between two sequential runs whose seeds differ by one shows what Monte Carlo error alone gives;
2. after each chain's first round, every imputation model takes one Newton step instead of iterating to
   convergence (and reads its categorical predictors from a maintained pattern key). With the same
   random streams this is the only difference, so the change is judged against the Monte Carlo error
   sqrt(B / m) of one run (B the between-imputation variance; the larger of the two runs') and against
   the pooled standard error: it should be a small fraction of either.

The script runs the plan's imputation three ways on synthetic cohorts above the bound (sequential and
fully iterated; independent and fully iterated; the large-cohort variant), fits each adjusted model on
every imputed dataset and prints every coefficient's changes.

Run:  .venv/bin/python benchmarks/mi_one_step_change.py [--sizes 20000] [--seeds 2023,7]
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

from perinatal_csc.config import load_config
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.pipeline import cohort
from perinatal_csc.stats import imputation, models
from perinatal_csc.stats.plan import load_plan
from pmm_change import pooled          # benchmarks/ is on sys.path when this script runs


def timed_pooled(df, plan, cb, independent: bool | None = None) -> tuple[dict, float]:
    """``pmm_change.pooled`` (pooled estimate, Monte Carlo SE, Rubin's total SE per coefficient) and its wall time;
    ``independent`` overrides whether the chains have a random stream each."""
    t0 = time.perf_counter()
    with mock.patch.object(models, "mice", functools.partial(imputation.mice, independent=independent)):
        out = pooled(df, plan, cb)
    return out, time.perf_counter() - t0


def compare(before: dict, after: dict, independent_runs: bool, tally: dict) -> None:
    for key, (b, mc_b, se) in before.items():
        a, mc_a, _ = after[key]
        mc = np.hypot(mc_a, mc_b) if independent_runs else max(mc_a, mc_b)
        ratio = abs(a - b) / mc if mc > 0 else 0.0
        tally["n"] += 1
        tally["within"] += ratio < (2 if independent_runs else 1)
        tally["worst"] = max(tally["worst"], ratio)
        tally["worst_se"] = max(tally["worst_se"], abs(a - b) / se)
        print(f"  {key[0]:>9} {key[1]:<40} {b:+.4f} -> {a:+.4f}  change {a - b:+.5f}  MC SE {mc:.5f}  "
              f"ratio {ratio:.2f}  change / SE {abs(a - b) / se:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000")
    ap.add_argument("--seeds", default="2023,7")
    args = ap.parse_args()
    cfg = load_config(source="synthetic")
    cb = load_codebook(cfg.codebook_path)
    base = load_plan(cfg.analysis_plan_path, cb)
    streams = {"n": 0, "within": 0, "worst": 0.0, "worst_se": 0.0}
    step, control = dict(streams), dict(streams)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                df = cohort(dataclasses.replace(cfg, synthetic_n=n, synthetic_seed=seed,
                                                data_path=Path(tmp) / f"{n}-{seed}.csv"))
                plans = {flag: dataclasses.replace(base, large_n=dataclasses.replace(
                    base.large_n, mi_one_step_min_dyads=1 if flag else None)) for flag in (False, True)}
                sequential, t_seq = timed_pooled(df, plans[False], cb)
                reseeded, _ = timed_pooled(df, dataclasses.replace(plans[False], mi={
                    **base.mi, "seed": int(base.mi.get("seed", 0)) + 1}), cb)
                independent, t_ind = timed_pooled(df, plans[False], cb, independent=True)
                large, t_large = timed_pooled(df, plans[True], cb)
                print(f"\nSYNTHETIC N = {n}, seed {seed}: imputation and pooled fits {t_seq:.1f} s sequential, "
                      f"{t_ind:.1f} s independent chains, {t_large:.1f} s large-cohort")
                print(" 0. control: sequential -> sequential with the next seed: change / MC SE of a difference")
                compare(sequential, reseeded, True, control)
                print(" 1. sequential -> independent chains (fully iterated): change / MC SE of a difference")
                compare(sequential, independent, True, streams)
                print(" 2. independent chains fully iterated -> one Newton step (same streams): change / MC SE")
                compare(independent, large, False, step)
    print(f"\n0. control, another seed: {control['within']} of {control['n']} pooled coefficients changed by less than "
          f"2 Monte Carlo SEs of a difference; largest {control['worst']:.2f}; largest change / pooled SE "
          f"{control['worst_se']:.3f}")
    print(f"1. independent chains: {streams['within']} of {streams['n']} pooled coefficients changed by less than 2 "
          f"Monte Carlo SEs of a difference (about 95% expected); largest {streams['worst']:.2f}; largest change / "
          f"pooled SE {streams['worst_se']:.3f}")
    print(f"2. one Newton step: {step['within']} of {step['n']} pooled coefficients moved by less than their Monte "
          f"Carlo SE; largest change {step['worst']:.2f} Monte Carlo SEs; largest change / pooled SE "
          f"{step['worst_se']:.3f}")


if __name__ == "__main__":
    main()
