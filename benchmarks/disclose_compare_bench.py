"""Benchmark: information lost to disclosure control, this version against an earlier one, side by side.

Not part of `make test`. For each preset that suppresses and each cohort size, both versions analyse
the same synthetic cohort and release it; printed per version: the share of table values suppressed
(counts, percentages, summaries, tests and odds ratios of Tables 1-5 and the models), the dyads behind
suppressed counts of the descriptive tables, the tests withheld, the model estimates withheld, and the
time of the disclosure stage. The earlier version is taken from git (default: the commit before the
cost-based suppression, e418b04) into a temporary folder and run in its own process.
Run:  .venv/bin/python benchmarks/disclose_compare_bench.py [--ref e418b04] [--sizes 278 200 120]
      [--presets cohort tre nhs]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r'''
import json, sys, tempfile, time
from pathlib import Path
import yaml
import pandas as pd
from perinatal_csc.config import load_config
from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.pipeline import cohort, run_analysis
from perinatal_csc.disclose.release import release
import perinatal_csc.pipeline as pipeline

preset, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tmp = Path(tempfile.mkdtemp())
cfg_path = tmp / "project.yml"
cfg_path.write_text(yaml.safe_dump({"disclosure": preset, "data": {"source": "synthetic", "synthetic": {
    "path": str(tmp / "cohort.csv"), "n": n, "seed": seed}}}))
cfg = load_config(cfg_path)
full = run_analysis(cohort(cfg), cfg)
t = time.perf_counter()
rel = pipeline.disclose(full, cfg) if hasattr(pipeline, "disclose") else release(full, PRESETS[preset])
seconds = time.perf_counter() - t
SHOWN = ("n", "percent", "mean", "sd", "median", "q1", "q3", "p", "q", "smd", "or", "ci_low", "ci_high")
TABLES = [k for k in full if k.startswith(("table", "models_episode", "models_one_year"))]
values = hidden = mass = 0
tests, terms = set(), set()
for key in TABLES:
    a, b = full[key].reset_index(drop=True), rel.tables[key].reset_index(drop=True)
    for c in SHOWN:
        if c not in a:
            continue
        ok = a[c].notna()
        values += int(ok.sum())
        hid = (b[c].astype(object) == MARKER) & ok
        hidden += int(hid.sum())
        if c == "n" and key.startswith("table") and key != "table4_paired_tests":
            mass += int(pd.to_numeric(a.loc[hid, "n"]).sum())
        if c == "p" and key.startswith("table"):
            ids = [x for x in ("comparison", "variable", "group") if x in a and (x != "group" or key == "table4_needs_change")]
            tests |= {(key, *map(str, r)) for r in a.loc[hid, ids].itertuples(index=False)}
        if c == "or":
            terms |= {(key, *map(str, r)) for r in a.loc[hid, [x for x in ("type", "term", "level") if x in a]].itertuples(index=False)}
print(json.dumps({"values": values, "hidden": hidden, "mass": mass, "tests": len(tests), "terms": len(terms),
                  "seconds": seconds}))
'''


def run(code_dir: Path, preset: str, n: int, seed: int) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKER, preset, str(n), str(seed)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(code_dir), "PATH": "/usr/bin:/bin"}, cwd=code_dir.parent, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="e418b04")
    ap.add_argument("--sizes", type=int, nargs="+", default=[278, 200, 120])
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--presets", nargs="+", default=["cohort", "tre"], choices=["cohort", "tre", "nhs"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_root = Path(tmp) / "old"
        old_root.mkdir()
        archive = subprocess.run(["git", "archive", args.ref], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_root)], input=archive, check=True)
        print(f"{'preset':7s} {'dyads':>5s}  {'version':9s} {'values hidden':>17s} {'dyads hidden':>12s} "
              f"{'tests withheld':>14s} {'OR rows withheld':>16s} {'stage s':>8s}")
        for preset in args.presets:
            for n in args.sizes:
                for name, code in ((args.ref[:9], old_root / "code"), ("this", ROOT / "code")):
                    r = run(code, preset, n, args.seed)
                    share = 100 * r["hidden"] / max(r["values"], 1)
                    print(f"{preset:7s} {n:5d}  {name:9s} {r['hidden']:5d}/{r['values']:5d} {share:5.1f}% "
                          f"{r['mass']:12d} {r['tests']:14d} {r['terms']:16d} {r['seconds']:8.2f}")


if __name__ == "__main__":
    main()
