"""A small simulated cohort in the pipeline's dtypes, for the models tests (independent of synth.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from perinatal_csc.data.codebook import load_codebook

DIAGNOSES = ["depression", "bipolar", "schizophrenia", "other_psychosis", "personality_disorder", "anxiety", "other"]


def simulate_cohort(n: int = 278, seed: int = 1, effect: float = 0.9, mar: bool = True) -> pd.DataFrame:
    """Dyads whose published factors raise the odds of CSC involvement; covariates missing at random."""
    cb = load_codebook()
    rng = np.random.default_rng(seed)
    b = lambda p: rng.binomial(1, p, n)
    deprived = b(0.45)
    trauma = b(0.4)
    abuse = b(0.25)
    prev = b(0.4)
    diag = rng.choice(DIAGNOSES, n, p=[0.4, 0.15, 0.08, 0.12, 0.1, 0.1, 0.05])
    age = rng.normal(30, 5.5, n)
    rel = rng.choice(["married_cohabiting", "partner_not_cohabiting", "single"], n, p=[0.55, 0.15, 0.3])
    service = rng.choice(["mbu", "general_ward", "crisis_team"], n, p=[0.39, 0.22, 0.39])
    nation = rng.choice(["england", "wales"], n, p=[0.85, 0.15])
    site = np.array([f"S{i:02d}" for i in rng.integers(0, 20, n)])
    lin = (-2.3 + effect * (deprived + trauma + abuse + prev) + effect * np.isin(diag, ["schizophrenia", "personality_disorder"])
           - 0.02 * (age - 30))
    csc_index = rng.binomial(1, 1 / (1 + np.exp(-lin)))
    followed = rng.binomial(1, 1 / (1 + np.exp(-(1.6 - 0.8 * csc_index - 0.4 * deprived))))
    readm = b(0.25)
    lin1 = -2.4 + effect * (deprived + trauma + (rel == "single") + readm) + 1.2 * csc_index
    csc_1y = rng.binomial(1, 1 / (1 + np.exp(-lin1))).astype(float)
    csc_1y[followed == 0] = np.nan
    imd = np.where(deprived == 1, rng.choice([1, 2], n), rng.choice([3, 4, 5], n))
    df = pd.DataFrame({
        "dyad_id": pd.array([f"D{i:04d}" for i in range(n)], dtype="string"),
        "site": pd.array(site, dtype="string"),
        "nation": pd.Categorical(nation, categories=cb["nation"].codes),
        "service_type": pd.Categorical(service, categories=cb["service_type"].codes),
        "maternal_age": age,
        "relationship": pd.Categorical(rel, categories=cb["relationship"].codes),
        "imd_quintile": pd.Categorical(imd, categories=cb["imd_quintile"].codes),
        "diagnosis": pd.Categorical(diag, categories=cb["diagnosis"].codes),
        "prev_psych_admission": pd.array(prev, dtype="Int64"),
        "childhood_trauma": pd.array(trauma, dtype="Int64"),
        "domestic_abuse": pd.array(abuse, dtype="Int64"),
        "readmitted_1y": pd.array(readm, dtype="Int64"),
        "followed_up_1y": pd.array(followed, dtype="Int64"),
        "csc_any_index": pd.array(csc_index, dtype="Int64"),
        "csc_any_1y": pd.array(csc_1y, dtype="Int64"),
        "deprived": pd.array(deprived, dtype="Int64"),
    })
    if mar:
        # missingness depends on observed values (the outcome and service type): not completely at random
        for col, base in [("childhood_trauma", -2.6), ("domestic_abuse", -2.8), ("deprived", -3.0),
                          ("maternal_age", -3.2), ("relationship", -3.0)]:
            pm = 1 / (1 + np.exp(-(base + 1.2 * csc_index + 0.6 * (service == "crisis_team"))))
            miss = rng.random(n) < pm
            df.loc[miss, col] = pd.NA if df[col].dtype != "float64" else np.nan
        df.loc[df.deprived.isna(), "imd_quintile"] = np.nan
    return df
