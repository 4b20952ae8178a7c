"""Benchmark: table 1 (every row, test and SMD) with perinatal_csc.stats.describe against tableone.

Not part of `make test`. Cohorts of 278, 10^4 and 10^6 dyads are drawn with replacement (fixed seed)
from the default SYNTHETIC cohort, so every size has the codebook's dtypes and missing values.
Run:  .venv/bin/python benchmarks/table1_bench.py [--sizes 278,10000,1000000] [--repeat 3]
Needs tableone (pinned in requirements.lock).
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from perinatal_csc.stats import describe
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.config import load_config
from perinatal_csc.pipeline import cohort


def _ours(df: pd.DataFrame, cb) -> pd.DataFrame:
    return describe.table1_sociodemographic(df, cb)


def _tableone(df: pd.DataFrame, cb):
    from tableone import TableOne

    names = ["nation", *[v.name for v in cb.select(group="sociodemographic")]]
    names = [n for n in names if n in df]
    plain = pd.DataFrame({n: (df[n].astype(object).where(df[n].notna(), None) if cb[n].type in ("categorical", "binary")
                              else df[n].astype("float64")) for n in names})
    plain["group"] = df[describe.CSC_BY].astype("float64")
    plain = plain[plain["group"].notna()]
    categorical = [n for n in names if cb[n].type in ("categorical", "binary")]
    nonnormal = [n for n in names if cb[n].summary == "median_iqr"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TableOne(plain, columns=names, categorical=categorical, nonnormal=nonnormal, groupby="group",
                        pval=True, smd=True, htest_name=True, missing=True, overall=True)


def _time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="278,10000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cfg = load_config(source="synthetic")
    base = cohort(cfg)
    cb = load_codebook(cfg.codebook_path)
    rng = np.random.default_rng(2023)
    print(f"{'dyads':>10} {'ours (s)':>10} {'tableone (s)':>13} {'ours/tableone':>14}")
    for n in (int(s) for s in args.sizes.split(",")):
        df = base if n == len(base) else base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
        rep = args.repeat if n < 10**6 else 1
        ours = _time(lambda: _ours(df, cb), rep)
        theirs = _time(lambda: _tableone(df, cb), rep)
        print(f"{n:>10} {ours:>10.3f} {theirs:>13.3f} {ours / theirs:>14.3f}", flush=True)


if __name__ == "__main__":
    main()
