"""How far the pooled MI estimates moved when predictive mean matching stopped using a distance matrix.

The old step took the 5 nearest donors with ``np.argpartition`` over a missing x observed distance
matrix; the new one (``imputation.nearest_donors``) searches a sorted array. Both draw the same random
numbers, but the donors come in a different order, so the same draw can pick a different donor and the
imputations change once. This script runs the plan's imputation both ways on the default SYNTHETIC
cohort (and on other seeds) and on the tests' simulated cohorts (``tests/simulated_cohort.py``, where
maternal age, the one numeric model variable, is missing for some dyads; in the synthetic cohort it is
always recorded, so there PMM never runs and nothing can move), fits each adjusted model on every imputed dataset, and prints for every
coefficient the change in the pooled log odds ratio against its Monte Carlo error sqrt(B / m), B the
between-imputation variance.

Run:  .venv/bin/python benchmarks/pmm_change.py [--seeds 4242,99] [--simulated 1,5,9]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np

from perinatal_csc.config import load_config
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.pipeline import cohort
from perinatal_csc.stats import imputation, models
from perinatal_csc.stats.firth import fit_logit
from perinatal_csc.stats.plan import load_plan


def old_nearest_donors(pred_obs: np.ndarray, pred_mis: np.ndarray, k: int) -> np.ndarray:
    """The replaced step, verbatim: the k smallest of the missing x observed distance matrix, by argpartition."""
    dist = np.abs(pred_mis[:, None] - pred_obs[None, :])
    return np.argpartition(dist, k - 1, axis=1)[:, :k]


def pooled(df, plan, cb) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(pooled estimate, Monte Carlo SE sqrt(B/m), Rubin's total SE) of every adjusted coefficient, by
    (model, column label)."""
    imputed = models.impute(df, plan, cb)
    out = {}
    for spec in plan.models:
        p = models.fit_primary(df, spec, plan, cb)
        rows = p.with_outcome[p.with_outcome].index
        design, design_of = models.mi_design(imputed, rows, p.covariates, plan, cb)
        ys = [f.loc[rows, spec.outcome].to_numpy(dtype=float) for f in imputed]
        fits = [fit_logit(design_of(i).X, y, firth=p.method == models.FIRTH) for i, y in enumerate(ys)]
        Q = np.array([f.coef[1:] for f in fits])
        U = np.array([f.se[1:] ** 2 for f in fits])
        m = len(Q)
        for j, c in enumerate(design.columns):
            b = Q[:, j].var(ddof=1)
            out[(spec.key, f"{c.term}={c.level}" if c.level else c.term)] = (
                Q[:, j].mean(), np.sqrt(b / m), np.sqrt(U[:, j].mean() + (1 + 1 / m) * b))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="4242,99", help="synthetic seeds besides the default cohort")
    ap.add_argument("--simulated", default="1,5,9", help="seeds of the tests' simulated cohort (N = 278)")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from simulated_cohort import simulate_cohort
    cfg = load_config(source="synthetic")
    cb = load_codebook(cfg.codebook_path)
    plan = load_plan(cfg.analysis_plan_path, cb)
    worst = worst_se = 0.0
    within = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        frames = [("default SYNTHETIC", lambda: cohort(cfg))]
        frames += [(f"SYNTHETIC seed {s}", lambda s=s: cohort(replace(cfg, synthetic_seed=int(s),
                                                                      data_path=Path(tmp) / f"{s}.csv")))
                   for s in args.seeds.split(",") if s]
        frames += [(f"simulated seed {s}", lambda s=s: simulate_cohort(n=278, seed=int(s)))
                   for s in args.simulated.split(",") if s]
        for name, make in frames:
            df = make()
            with mock.patch.object(imputation, "nearest_donors", old_nearest_donors):
                before = pooled(df, plan, cb)
            after = pooled(df, plan, cb)
            print(f"\n{name} (N = {len(df)}, maternal age missing for {int(df.maternal_age.isna().sum())}): "
                  "pooled log OR before -> after, change / Monte Carlo SE")
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
    print(f"\n{within} of {total} pooled coefficients moved by less than their Monte Carlo SE; largest change "
          f"{worst:.2f} Monte Carlo SEs; largest change / pooled SE {worst_se:.3f}")


if __name__ == "__main__":
    main()
