"""A register of earlier releases, to warn when a new release could be differenced against one.

Each release's published counts (never a suppressed one) are recorded by output, row and column. A
count that differs from the same count in an earlier release by 1 to threshold-1 (e.g. N 278 then
279) lets anyone who holds both releases work out a protected count: ``differencing_warnings`` lists
every such pair.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from .policy import Policy
from .release import COUNT_FIELDS, Release

KEY_COLUMNS = ("model", "analysis", "comparison", "variable", "stage", "measure", "term", "type", "level", "group",
               "step")


def published_counts(rel: Release) -> dict[str, int]:
    """Every published count of the release: "output | row key | column" -> value."""
    out = {}
    for name, t in rel.tables.items():
        keys = [c for c in KEY_COLUMNS if c in t]
        for c in COUNT_FIELDS:
            if c not in t:
                continue
            for i in range(len(t)):
                v = t[c].iat[i]
                if isinstance(v, str) or v is None or pd.isna(v):
                    continue
                row = " / ".join(str(t[k].iat[i]) for k in keys) or str(i)
                out[f"{name} | {row} | {c}"] = int(v)
    return out


def read_register(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def differencing_warnings(path: Path, rel: Release, policy: Policy) -> list[str]:
    """Counts of ``rel`` that differ from an earlier registered release by a protected amount."""
    new = published_counts(rel)
    warnings = []
    for entry in read_register(path):
        old = entry["counts"]
        for key, value in new.items():
            if key in old and policy.protects(abs(value - old[key])):
                warnings.append(f"{key}: {old[key]} in the release of {entry['when']} and {value} now; the "
                                f"difference ({abs(value - old[key])}) is a protected count")
    return warnings


def record(path: Path, rel: Release, inputs: str) -> None:
    """Add this release to the register (unless the same inputs are registered already)."""
    entries = read_register(path)
    if any(e.get("inputs") == inputs for e in entries):
        return
    entries.append({"when": time.strftime("%Y-%m-%d %H:%M:%S"), "policy": rel.policy.name, "inputs": inputs,
                    "counts": published_counts(rel)})
    path.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")

