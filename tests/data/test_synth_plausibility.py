"""The SYNTHETIC cohort is plausible: no assumed effect makes a standardised difference (SMD) in the
descriptive tables exceed the bound the parameter file documents (descriptive_smd_bound).

Groups, derived variables and SMDs are computed here from the raw generated frame with pandas and
numpy: (mean1 - mean2) / sqrt((var1 + var2) / 2) for numbers, Yang and Dalton's multivariate SMD for
categories (binary variables are two-level categories). Which variables each table shows is read
from the codebook's groups, as the tables declare them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from perinatal_csc.data.synth import generate
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.stats.describe import SUBGROUP_VARIABLES, TABLE3_EXTRA

PARAMS = yaml.safe_load((PROJECT_ROOT / "data" / "synthetic_parameters.yml").read_text(encoding="utf-8"))["parameters"]
BOUND = PARAMS["descriptive_smd_bound"]["value"]
CODEBOOK = {v["name"]: v for v in yaml.safe_load((PROJECT_ROOT / "data" / "codebook.yml").read_text(encoding="utf-8"))["variables"]}
CSC_LEVELS = ["none", "assessment", "child_in_need", "child_protection_plan", "looked_after"]


def group(name: str, timepoint: str | None = None) -> list[str]:
    return [n for n, v in CODEBOOK.items() if v.get("group") == name and (timepoint is None or v.get("timepoint") == timepoint)]


BY_CSC = ["nation", *group("sociodemographic"), *group("clinical"), *group("needs"), *TABLE3_EXTRA, *group("service_use")]
DOMAINS_1Y = group("canm_domain", "1y")


def smd_numeric(a: np.ndarray, b: np.ndarray) -> float:
    return abs(a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)


def smd_categorical(a: np.ndarray, b: np.ndarray) -> float:
    """Yang & Dalton (2012): sqrt((p1 - p2)' S^-1 (p1 - p2)) over all levels but the first, with S the
    mean of the two groups' multinomial covariance matrices (levels seen in neither group dropped)."""
    levels = sorted(set(a.tolist()) | set(b.tolist()), key=str)
    p1 = np.array([np.mean(a == lv) for lv in levels])[1:]
    p2 = np.array([np.mean(b == lv) for lv in levels])[1:]
    if p1.size == 0:
        return 0.0
    s = (np.diag(p1) - np.outer(p1, p1) + np.diag(p2) - np.outer(p2, p2)) / 2
    d = p1 - p2
    return float(np.sqrt(max(d @ np.linalg.pinv(s) @ d, 0.0)))


def with_derived(raw: pd.DataFrame) -> pd.DataFrame:
    """The derived variables the tables use, by the codebook's stated rules."""
    d = raw.copy()
    status = d["csc_status_index"].astype(object)
    d["csc_any_index"] = (status != "none").astype(float).where(status.notna())
    s1y = d["csc_status_1y"].astype(object)
    d["csc_any_1y"] = (s1y != "none").astype(float).where(s1y.notna())
    d["cpp_1y"] = (s1y == "child_protection_plan").astype(float).where(s1y.notna())
    care = d["infant_in_care_1y"].astype("Float64")
    d["infant_not_in_care_1y"] = (care == 0).astype(float).where(care.notna())
    imd = d["imd_quintile"].astype("Float64")
    d["deprived"] = (imd <= 2).astype(float).where(imd.notna())
    dom = d[DOMAINS_1Y].astype("Float64")
    rated = dom.isin([0, 1, 2]).any(axis=1) & (d["followed_up_1y"] == 1)
    d["canm_1y_met"] = (dom == 1).sum(axis=1).astype(float).where(rated)
    d["canm_1y_unmet"] = (dom == 2).sum(axis=1).astype(float).where(rated)
    any_rating = dom.isin([0, 1, 2, 9]).any(axis=1) & (d["followed_up_1y"] == 1)
    d["canm_1y_not_known"] = (dom == 9).sum(axis=1).astype(float).where(any_rating)
    for c in DOMAINS_1Y:                         # Table 3: unmet need (2) against no or met need (0, 1); 9 = not known
        v = d[c].astype("Float64")
        d[c] = (v == 2).astype(float).where(v.isin([0, 1, 2]))
    return d


def smds(d: pd.DataFrame, by: str, variables: list[str]) -> dict[str, float]:
    out = {}
    g = d[by]
    for name in variables:
        x = d[name]
        ok = x.notna() & g.notna()
        a, b = x[ok & (g == 1)], x[ok & (g == 0)]
        if len(a) < 2 or len(b) < 2:
            continue
        numeric = name not in DOMAINS_1Y and CODEBOOK[name]["type"] in ("integer", "continuous")
        out[name] = (smd_numeric(a.astype(float).to_numpy(), b.astype(float).to_numpy()) if numeric
                     else smd_categorical(a.astype(object).astype(str).to_numpy(), b.astype(object).astype(str).to_numpy()))
    return out


def table_smds(raw: pd.DataFrame, subgroups: bool) -> dict[tuple[str, str], float]:
    d = with_derived(raw)
    found = {("by CSC during the episode", k): v for k, v in smds(d, "csc_any_index", [*BY_CSC, *DOMAINS_1Y]).items()}
    if subgroups:
        involved = d[(d["csc_any_index"] == 1) | (d["csc_any_1y"] == 1)]
        for sub in ("infant_not_in_care_1y", "cpp_1y"):
            found |= {(sub, k): v for k, v in smds(involved, sub, list(SUBGROUP_VARIABLES)).items()}
    return found


def over(found: dict, bound: float) -> dict:
    return {k: round(v, 2) for k, v in found.items() if v > bound}


def test_the_bound_is_a_documented_assumption():
    entry = PARAMS["descriptive_smd_bound"]
    assert entry["status"] == "assumed" and entry["value"] == 1.2 and "Yang-Dalton" in entry["rationale"]


def test_the_independent_smds_agree_with_hand_worked_values():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, 8.0])
    assert smd_numeric(a, b) == pytest.approx(2.5 / np.sqrt((5 / 3 + 20 / 3) / 2))
    # two levels: Yang-Dalton equals (p1 - p2) / sqrt((p1 q1 + p2 q2) / 2)
    x, y = np.array(["0"] * 6 + ["1"] * 4), np.array(["0"] * 8 + ["1"] * 2)
    assert smd_categorical(x, y) == pytest.approx(0.2 / np.sqrt((0.4 * 0.6 + 0.2 * 0.8) / 2))
    assert smd_categorical(x, x) == 0.0


@pytest.fixture(scope="module")
def large() -> pd.DataFrame:
    return generate(20_000, 20230)


def test_generating_effects_keep_every_descriptive_smd_within_the_bound(large):
    found = table_smds(large, subgroups=True)
    assert len(found) == len(BY_CSC) + len(DOMAINS_1Y) + 2 * len(SUBGROUP_VARIABLES)    # none left out
    assert over(found, BOUND) == {}


@pytest.mark.parametrize("seed", [2023, 1, 2, 3, 4, 5])
def test_tables_by_csc_involvement_stay_within_the_bound_at_the_published_n(seed):
    found = table_smds(generate(278, seed), subgroups=False)
    assert over(found, BOUND) == {}


def test_every_table_of_the_default_cohort_stays_within_the_bound():
    found = table_smds(generate(278, 2023), subgroups=True)
    assert any(k[0] == "cpp_1y" for k in found)
    assert over(found, BOUND) == {}


def test_the_safeguarding_item_still_rises_with_involvement_and_its_seriousness(large):
    means = large.groupby(large["csc_status_index"].astype(object))["tag_safeguarding"].mean()[CSC_LEVELS]
    assert means.is_monotonic_increasing and means.iloc[-1] - means.iloc[0] > 0.8
    smd = table_smds(large, subgroups=False)[("by CSC during the episode", "tag_safeguarding")]
    assert 0.5 < smd < BOUND
