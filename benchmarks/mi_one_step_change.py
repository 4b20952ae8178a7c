"""How far the pooled MI estimates move when the plan's large-cohort imputation switches on.

Above ``large_n.mi_one_step_min_dyads`` the chained equations read the categorical predictors from a
maintained pattern key and, after each chain's first round, take one Newton step per imputation model
instead of iterating to convergence (``imputation.mice(one_step=True)``). The imputations then differ
from the fully iterated ones (the random draws meet slightly different parameters), so this script runs
the plan's imputation both ways on synthetic cohorts above the bound, fits each adjusted model on every
imputed dataset and prints, for every coefficient, the change in the pooled log odds ratio against its
Monte Carlo error sqrt(B / m) (B the between-imputation variance; the larger of the two runs') and
against the pooled standard error. Both runs use the plan's seed, so they draw the same random numbers.

Run:  .venv/bin/python benchmarks/mi_one_step_change.py [--sizes 20000] [--seeds 2023,7]
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from perinatal_csc.config import load_config
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.pipeline import cohort
from perinatal_csc.stats.plan import load_plan
from pmm_change import pooled          # benchmarks/ is on sys.path when this script runs


def timed_pooled(df, plan, cb) -> tuple[dict, float]:
    """``pmm_change.pooled`` (pooled estimate, Monte Carlo SE, Rubin's total SE per coefficient) and its wall time."""
    t0 = time.perf_counter()
    out = pooled(df, plan, cb)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000")
    ap.add_argument("--seeds", default="2023,7")
    args = ap.parse_args()
    cfg = load_config(source="synthetic")
    cb = load_codebook(cfg.codebook_path)
    base = load_plan(cfg.analysis_plan_path, cb)
    worst = worst_se = 0.0
    within = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                df = cohort(dataclasses.replace(cfg, synthetic_n=n, synthetic_seed=seed,
                                                data_path=Path(tmp) / f"{n}-{seed}.csv"))
                plans = {flag: dataclasses.replace(base, large_n=dataclasses.replace(
                    base.large_n, mi_one_step_min_dyads=1 if flag else None)) for flag in (False, True)}
                (before, t_before), (after, t_after) = timed_pooled(df, plans[False], cb), timed_pooled(df, plans[True], cb)
                print(f"\nSYNTHETIC N = {n}, seed {seed}: imputation {t_before:.1f} s fully iterated, {t_after:.1f} s "
                      "large-cohort; pooled log OR fully iterated -> large-cohort, change / Monte Carlo SE")
                for key, (b, mc_b, se) in before.items():
                    a, mc_a, _ = after[key]
                    mc = max(mc_a, mc_b)
                    ratio = abs(a - b) / mc if mc > 0 else 0.0
                    within += ratio < 1
                    total += 1
                    worst = max(worst, ratio)
                    worst_se = max(worst_se, abs(a - b) / se)
                    print(f"  {key[0]:>9} {key[1]:<40} {b:+.4f} -> {a:+.4f}  change {a - b:+.5f}  MC SE {mc:.5f}  "
                          f"ratio {ratio:.2f}  change / SE {abs(a - b) / se:.3f}")
    print(f"\n{within} of {total} pooled coefficients moved by less than their Monte Carlo SE; "
          f"largest change {worst:.2f} Monte Carlo SEs; largest change / pooled SE {worst_se:.3f}")


if __name__ == "__main__":
    main()
