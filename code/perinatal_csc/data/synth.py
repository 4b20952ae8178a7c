"""The SYNTHETIC cohort: a raw, export-like frame that conforms to the codebook.

The generating model is the small set of parameters in ``data/synthetic_parameters.yml``; each is
marked ``published`` (the figure it reproduces) or ``assumed`` (why it is plausible). In outline:

* sites: 42 NHS organisations (a few Welsh: nation is a site property) with Dirichlet sizes and one
  standardised random effect per site, so the latent-scale ICC of CSC involvement is exactly the
  stated value in the population of sites;
* one shared latent adversity factor drives deprivation, childhood trauma, domestic abuse, substance
  misuse, being single, younger age and fewer qualifications, so those risk factors cluster;
* CSC involvement during the episode is the top ``round(n * 99 / 278)`` of a latent logistic score
  (linear predictor + site effect + logistic noise): a logistic model with exact count for every
  seed; its category comes from the rank of a noisier severity score;
* service types, readmission within service type, loss to follow-up, CSC status at one year and item
  missingness are likewise met EXACTLY by ranking a latent score (covariates decide who, the
  parameter file decides how many);
* outcomes of dyads lost to follow-up are missing, never invented; instrument totals are the sums
  of their items (missing where an item is missing).

Every number of the model lives in the parameter file; the code holds only its structure (which
item an effect touches, the codebook's ranges). Everything is vectorised numpy driven by
``np.random.default_rng(seed)``: same seed, same bytes.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit, ndtri

from .codebook import load_codebook
from ..errors import UserError
from ..files import read_yaml
from ..paths import PROJECT_ROOT

DEFAULT_PARAMETERS = PROJECT_ROOT / "data" / "synthetic_parameters.yml"
STATUSES = ("published", "assumed")

SERVICES = ("mbu", "general_ward", "crisis_team")
DIAGNOSES = ("depression", "bipolar", "schizophrenia", "other_psychosis", "personality_disorder", "anxiety", "other")
CSC_STATUS = ("none", "assessment", "child_in_need", "child_protection_plan", "looked_after")
RELATIONSHIP = ("married_cohabiting", "partner_not_cohabiting", "single")
EDUCATION = ("none", "school", "further", "degree")
EMPLOYMENT = ("employed", "not_employed", "student")
HOUSING = ("owner", "social_rent", "private_rent", "family_friends", "temporary_homeless")
ETHNICITY = ("white", "mixed", "asian", "black", "other")
PSYCHOSES = ("schizophrenia", "other_psychosis", "bipolar")


class ParameterError(UserError):
    """The synthetic parameter file is missing, malformed or inconsistent."""


# ----------------------------------------------------------------------------------- parameters
def load_parameters(params_path: str | Path | None = None) -> dict[str, Any]:
    """The ``value`` of every parameter, by name, after checking that each is documented."""
    return {name: entry["value"] for name, entry in _documented_parameters(params_path).items()}


def parameter_documentation(params_path: str | Path | None = None) -> pd.DataFrame:
    """One row per parameter (name, status, value, basis): what the synthetic cohort reproduces from
    publications and what it assumes, for the manuscript's synthetic-data appendix."""
    raw = read_yaml(_parameters_path(params_path), "synthetic parameter file", ParameterError)
    sources = raw.get("sources", {}) or {}
    rows = []
    for name, e in _documented_parameters(params_path).items():
        basis = (f"{e['figure']} ({sources.get(e['source'], e['source'])})" if e["status"] == "published"
                 else e["rationale"])
        rows.append({"name": name, "status": e["status"], "value": e["value"], "basis": basis})
    return pd.DataFrame(rows, columns=["name", "status", "value", "basis"])


def _parameters_path(params_path: str | Path | None) -> Path:
    return Path(params_path) if params_path is not None else DEFAULT_PARAMETERS


def _documented_parameters(params_path: str | Path | None) -> dict[str, dict[str, Any]]:
    """Every parameter's entry, after checking that each is documented.

    Each parameter must say ``status: published`` with a ``figure`` and a ``source``, or
    ``status: assumed`` with a ``rationale``; published directions must agree with the assumed ORs.
    """
    path = _parameters_path(params_path)
    raw = read_yaml(path, "synthetic parameter file", ParameterError)
    params = raw.get("parameters")
    if not isinstance(params, dict) or not params:
        raise ParameterError(f"{path}: no 'parameters' mapping")
    problems = []
    for name, entry in params.items():
        if not isinstance(entry, dict) or "value" not in entry:
            problems.append(f"parameter {name!r} has no 'value'")
            continue
        status = entry.get("status")
        if status not in STATUSES:
            problems.append(f"parameter {name!r}: status {status!r} is not one of {STATUSES}")
        elif status == "published" and not (entry.get("figure") and entry.get("source")):
            problems.append(f"parameter {name!r}: a published parameter needs 'figure' and 'source'")
        elif status == "assumed" and not entry.get("rationale"):
            problems.append(f"parameter {name!r}: an assumed parameter needs a one-line 'rationale'")
    values = {name: entry.get("value") for name, entry in params.items() if isinstance(entry, dict)}
    missing = sorted(set(_REQUIRED) - set(values))
    if missing:
        problems.append(f"missing parameters {missing}")
    if not problems:
        problems += _direction_problems(values)
    if problems:
        raise ParameterError(f"{path}: " + "; ".join(problems))
    return params


_REQUIRED = (
    "cohort_size", "parent_cohort", "csc_index_involved", "service_type_counts", "readmission_1y", "n_sites", "associations_index",
    "associations_1y", "welsh_sites", "site_size_concentration", "site_icc_csc_index", "site_effect_1y_scale",
    "adversity_loadings", "maternal_age", "imd_quintile_shares", "prevalence", "ethnicity_shares",
    "relationship_shares", "education_shares", "employment_shares", "housing_shares", "infant_age_weeks",
    "diagnosis_shares", "diagnosis_adversity_log_odds", "prev_admission_odds_ratios", "mha_detention_rate",
    "length_of_stay_median_days", "instruments", "csc_index_odds_ratios", "csc_index_category_shares",
    "readmission_odds_ratios", "csc_1y_shares", "csc_1y_odds_ratios", "infant_not_in_care_1y", "satisfaction",
    "needs", "service_use", "couplings", "loss_to_follow_up", "item_missingness",
)


def _direction_problems(v: dict[str, Any]) -> list[str]:
    out = []
    for factor in v["associations_index"]:
        if not v["csc_index_odds_ratios"].get(factor, 0) > 1:
            out.append(f"published factor {factor!r} needs csc_index_odds_ratios > 1")
    for factor in v["associations_1y"]:
        if not v["csc_1y_odds_ratios"].get(factor, 0) > 1:
            out.append(f"published factor {factor!r} needs csc_1y_odds_ratios > 1")
    if not 0 < v["site_icc_csc_index"] < 1:
        out.append("site_icc_csc_index must lie strictly between 0 and 1")
    return out


# ----------------------------------------------------------------------------------- helpers
def _counts(n: int, weights: Any) -> np.ndarray:
    """Largest-remainder allocation of n into len(weights) whole counts (ties to the earlier category)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: n - base.sum()]] += 1
    return base


def _rank_categories(score: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Category index per row: the lowest ``counts[0]`` scores get 0, the next ``counts[1]`` get 1, ..."""
    pos = np.empty(len(score), dtype=int)
    pos[np.argsort(score, kind="stable")] = np.arange(len(score))
    return np.searchsorted(np.cumsum(counts), pos, side="right")


def _top_k(score: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(len(score), dtype=bool)
    if k > 0:
        out[np.argsort(-score, kind="stable")[:k]] = True
    return out


def _choose(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row from unnormalised log-probabilities (Gumbel-max)."""
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)


def _latent(a: np.ndarray, loading: float, rng: np.random.Generator) -> np.ndarray:
    return loading * a + math.sqrt(1 - loading**2) * rng.standard_normal(len(a))


def _ordinal(latent: np.ndarray, shares: list[float]) -> np.ndarray:
    """Cut a standard-normal latent at the normal quantiles of cumulative shares (0 = lowest)."""
    cuts = ndtri(np.cumsum(shares)[:-1] / np.sum(shares))
    return np.searchsorted(cuts, latent)


def _log(ors: dict[str, float]) -> dict[str, float]:
    return {k: math.log(v) for k, v in ors.items() if not isinstance(v, dict)}


def _int_items(mean: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.rint(mean), lo, hi).astype(float)


# ----------------------------------------------------------------------------------- the model
def generate(n: int, seed: int, params_path: str | Path | None = None) -> pd.DataFrame:
    """A SYNTHETIC export-like parent cohort of ``n`` analysed dyads and ``not_analysed(n)`` more whose CSC
    status during the episode was not recorded: every recorded codebook variable, in codebook order.

    Values are codebook codes; missing values are NA, except unrated one-year CAN-M domains, which carry
    the export's 'not known' code 9.

    Each step below draws from the one ``rng`` in turn and adds its arrays to ``x``; the order of the
    steps is the order of the draws, so it must not change (same seed, same bytes).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise UserError(f"synthetic cohort size must be a positive whole number, got {n!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"synthetic cohort seed must be a non-negative whole number, got {seed!r}")
    p = load_parameters(params_path)
    analysed = _columns(p, n, seed, first_id=1)
    extra = not_analysed(n, p)
    if not extra:
        return _frame(analysed)
    more = _columns(p, extra, seed, first_id=n + 1)
    more["csc_status_index"] = np.full(extra, None, dtype=object)
    above = 10 ** max(4, len(str(10 * n)))             # past every analysed mother's number
    more["mother_id"] = f"SYN{seed}-M-" + pd.Series(np.arange(above, above + extra)).astype(str)
    return pd.concat([_frame(analysed), _frame(more)], ignore_index=True)


def not_analysed(n: int, p: dict[str, Any] | None = None) -> int:
    """The dyads of the parent cohort beside ``n`` analysed ones whose CSC status during the episode was
    not recorded (``parent_cohort``: 279 for 278, rounded at any size)."""
    pc = (p or load_parameters())["parent_cohort"]
    return round(n * (pc["parent"] - pc["analysed"]) / pc["analysed"])


def _columns(p: dict[str, Any], n: int, seed: int, first_id: int) -> dict[str, Any]:
    """The columns of ``n`` dyads drawn from the generating model (ids from ``first_id``); a second
    draw (the dyads not analysed) uses its own generator, so the analysed dyads' bytes do not depend on it."""
    rng = np.random.default_rng(seed if first_id == 1 else [seed, first_id])
    x: dict[str, Any] = {"seed": int(seed), "first_id": first_id}
    for step in (_sites, _mother, _family, _clinical_history, _csc_index, _index_measures, _readmission,
                 _loss_to_follow_up, _csc_one_year, _one_month_measures, _one_year_needs, _service_use,
                 _missingness):
        step(p, n, rng, x)
    c = _baseline_columns(n, rng, x)
    _follow_up_columns(c, x)
    return c


def _sites(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws site sizes, each dyad's site, the standardised site effects (the stated ICC) and service types."""
    n_sites = int(p["n_sites"])
    site_codes = np.array([f"S{i:02d}" for i in range(1, n_sites + 1)])
    site = rng.choice(n_sites, size=n, p=rng.dirichlet(np.full(n_sites, float(p["site_size_concentration"]))))
    icc = float(p["site_icc_csc_index"])
    raw_u = rng.standard_normal(n_sites)
    u_site = (raw_u - raw_u.mean()) / raw_u.std(ddof=1) * math.sqrt(icc / (1 - icc) * math.pi**2 / 3)
    u = u_site[site]
    welsh = np.isin(site_codes, list(p["welsh_sites"]))
    svc_counts = _counts(n, [p["service_type_counts"][s] for s in SERVICES])
    service = rng.permutation(np.repeat(np.arange(3), svc_counts))
    mbu, crisis = service == 0, service == 2
    x.update(site_codes=site_codes, site=site, u=u, welsh=welsh, service=service, mbu=mbu, crisis=crisis)


def _mother(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws the shared adversity factor and from it the mother's age, deprivation, risk factors and
    demographics at the index admission, so that they cluster."""
    load = p["adversity_loadings"]
    k = p["couplings"]
    adv = rng.standard_normal(n)
    age_cfg = p["maternal_age"]
    z_age = _latent(adv, load["age"], rng)
    age = np.round(np.clip(age_cfg["mean"] + age_cfg["sd"] * z_age, age_cfg["min"], age_cfg["max"]), 1)
    age5 = (age - age_cfg["mean"]) / 5
    imd = 1 + _ordinal(-_latent(adv, load["deprivation"], rng), p["imd_quintile_shares"])
    deprived = imd <= 2
    prev = p["prevalence"]
    trauma = _latent(adv, load["childhood_trauma"], rng) > ndtri(1 - prev["childhood_trauma"])
    abuse = _latent(adv, load["domestic_abuse"], rng) > ndtri(1 - prev["domestic_abuse"])
    substance = _latent(adv, load["substance_misuse"], rng) > ndtri(1 - prev["substance_misuse"])
    rel_latent = (load["single"] * adv - k["single_per_younger_sd"] * z_age
                  + math.sqrt(1 - load["single"] ** 2 - k["single_per_younger_sd"] ** 2) * rng.standard_normal(n))
    relationship = _ordinal(rel_latent, [p["relationship_shares"][r] for r in RELATIONSHIP])
    single = relationship == 2
    edu_latent = (load["education"] * adv + k["education_per_older_sd"] * z_age
                  + math.sqrt(1 - load["education"] ** 2 - k["education_per_older_sd"] ** 2) * rng.standard_normal(n))
    education = _ordinal(edu_latent, [p["education_shares"][e] for e in EDUCATION])
    emp_logits = np.log([p["employment_shares"][e] for e in EMPLOYMENT]) + np.column_stack(
        [np.zeros(n), k["not_employed"]["adversity"] * adv + k["not_employed"]["education"] * edu_latent,
         -k["student_per_younger_sd"] * z_age])
    employment = _choose(emp_logits, rng)
    housing_logits = (np.log([p["housing_shares"][h] for h in HOUSING])
                      + np.outer(adv, [k["housing_adversity"][h] for h in HOUSING])
                      + np.outer(deprived, [k["housing_deprived"][h] for h in HOUSING]))
    housing = _choose(housing_logits, rng)
    ethnicity = _choose(np.tile(np.log([p["ethnicity_shares"][e] for e in ETHNICITY]), (n, 1)), rng)
    x.update(adv=adv, z_age=z_age, age=age, age5=age5, imd=imd, deprived=deprived, trauma=trauma, abuse=abuse,
             substance=substance, relationship=relationship, single=single, education=education,
             employment=employment, housing=housing, ethnicity=ethnicity)


def _family(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws first baby and other children (younger and more adverse mothers differ), multiple birth,
    the index infant's order and age."""
    adv, z_age = x["adv"], x["z_age"]
    k = p["couplings"]
    prev = p["prevalence"]
    first_baby = rng.random(n) < expit(logit(prev["first_baby"]) - k["first_baby_per_younger_sd"] * z_age)
    oc = k["other_children"]
    n_other = np.where(first_baby, 0, np.minimum(1 + rng.poisson(oc["extra_mean"] * np.exp(oc["adversity"] * adv)),
                                                 oc["max"]))
    multiple = rng.random(n) < prev["multiple_birth"]
    infant_order = np.where(multiple, 1 + (rng.random(n) < k["twin_index_second_prob"]), 1)
    ia = p["infant_age_weeks"]
    infant_age = np.round(np.clip(np.exp(math.log(ia["median"]) + ia["log_sd"] * rng.standard_normal(n)), 0.0, 52.1), 1)
    x.update(first_baby=first_baby, n_other=n_other, multiple=multiple, infant_order=infant_order,
             infant_age=infant_age)


def _clinical_history(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws the diagnosis (by service type and adversity), previous admission, detention under the
    Mental Health Act and length of stay."""
    adv, service = x["adv"], x["service"]
    prev = p["prevalence"]
    dshares = np.array([[p["diagnosis_shares"][s][d] for d in DIAGNOSES] for s in SERVICES])
    adv_vec = np.array([p["diagnosis_adversity_log_odds"].get(d, 0.0) for d in DIAGNOSES])
    diagnosis = _choose(np.log(dshares[service]) + np.outer(adv, adv_vec), rng)
    dx = {d: diagnosis == i for i, d in enumerate(DIAGNOSES)}
    psychosis = np.isin(diagnosis, [DIAGNOSES.index(d) for d in PSYCHOSES])
    pa = _log(p["prev_admission_odds_ratios"])
    lp_prev = sum(pa[d] * dx[d] for d in DIAGNOSES if d in pa) + pa["adversity_per_sd"] * adv
    prev_adm = rng.random(n) < expit(logit(prev["prev_psych_admission"]) + lp_prev - lp_prev.mean())
    mha = p["mha_detention_rate"]
    psy_c = psychosis - psychosis.mean()
    detained = rng.random(n) < expit(logit(np.array([mha[s] for s in SERVICES])[service])
                                     + math.log(mha["psychosis_odds_ratio"]) * psy_c)
    los = p["length_of_stay_median_days"]
    los_days = np.clip(np.rint(np.exp(np.log(np.array([los[s] for s in SERVICES], dtype=float))[service]
                                      + los["log_sd"] * rng.standard_normal(n))), 1, 365)
    x.update(diagnosis=diagnosis, dx=dx, psychosis=psychosis, prev_adm=prev_adm, detained=detained,
             los_days=los_days)


def _csc_index(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws the logistic noise that picks the exact count involved with CSC during the episode (linear
    predictor plus site effect), then the noisier severity that ranks them into categories."""
    deprived, trauma, abuse, substance = x["deprived"], x["trauma"], x["abuse"], x["substance"]
    prev_adm, single, age5, dx, u = x["prev_adm"], x["single"], x["age5"], x["dx"], x["u"]
    o = _log(p["csc_index_odds_ratios"])
    lp_idx = (o["deprived"] * deprived + o["childhood_trauma"] * trauma + o["domestic_abuse"] * abuse
              + o["substance_misuse"] * substance + o["prev_psych_admission"] * prev_adm + o["single"] * single
              + o["age_per_5y"] * age5 + sum(o[d] * dx[d] for d in DIAGNOSES if d in o))
    score_idx = lp_idx + u + rng.logistic(size=n)
    k_idx = round(n * p["csc_index_involved"]["count"] / p["csc_index_involved"]["of"])
    involved = _top_k(score_idx, k_idx)
    cat_shares = [p["csc_index_category_shares"][s] for s in CSC_STATUS[1:]]
    csc_index = np.zeros(n, dtype=int)
    csc_index[involved] = 1 + _rank_categories(score_idx[involved] + rng.logistic(size=k_idx),
                                               _counts(k_idx, cat_shares))
    x.update(involved=involved, csc_index=csc_index)


def _index_measures(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws a latent severity and from it the TAG (with its safeguarding item), HoNOS and BPRS-E items
    at the index admission, each item shifted by the risk factors it asks about."""
    adv, dx, psychosis, abuse, substance = x["adv"], x["dx"], x["psychosis"], x["abuse"], x["substance"]
    deprived, housing, involved, csc_index = x["deprived"], x["housing"], x["involved"], x["csc_index"]
    ins = p["instruments"]
    k = p["couplings"]
    sv = k["severity"]
    severity = (sv["adversity"] * adv + sum(sv[d] * dx[d] for d in DIAGNOSES if d in sv)
                + sv["noise_sd"] * rng.standard_normal(n))
    sl, noise, sh = ins["severity_loading"], k["item_noise_sd"], k["item_shifts"]
    temporary = housing == HOUSING.index("temporary_homeless")
    tag_mean = np.asarray(ins["tag_item_mean"]) + sl * severity[:, None] + noise * rng.standard_normal((n, 7))
    tag_mean[:, 2] += sh["tag3_domestic_abuse"] * abuse
    tag_mean[:, 3] += sh["tag4_psychosis"] * psychosis
    tag_mean[:, 6] += sh["tag7_deprived"] * deprived + sh["tag7_temporary_housing"] * temporary
    tag = _int_items(tag_mean, 0, 4)
    sg = k["safeguarding_item"]
    tag_safe = _int_items(sg["base"] + ins["safeguarding_csc_shift"] * involved + sg["per_category"] * csc_index
                          + sg["noise_sd"] * rng.standard_normal(n), 0, 4)
    hon_mean = np.asarray(ins["honos_item_mean"]) + sl * severity[:, None] + noise * rng.standard_normal((n, 12))
    hon_mean[:, 2] += sh["honos3_substance"] * substance
    hon_mean[:, 5] += sh["honos6_psychosis"] * psychosis
    hon_mean[:, 6] += sh["honos7_depression"] * dx["depression"]
    hon_mean[:, 10] += sh["honos11_temporary_housing"] * temporary + sh["honos11_deprived"] * deprived
    honos = _int_items(hon_mean, 0, 4)
    bp = k["bprs"]
    bprs_logit = (logit(ins["bprs_item_prob"]) + bp["severity"] * severity[:, None]
                  + bp["noise_sd"] * rng.standard_normal((n, 24)))
    bprs_logit[:, 8:11] += sh["bprs_psychotic_items_psychosis"] * psychosis[:, None]
    bprs_logit[:, 2:5] += sh["bprs_mood_items_depression"] * dx["depression"][:, None]
    bprs = (rng.random((n, 24)) < expit(bprs_logit)).astype(float)
    x.update(severity=severity, tag=tag, tag_safe=tag_safe, honos=honos, bprs=bprs)


def _readmission(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws the logistic noise that picks who is readmitted within a year: an exact count per service type."""
    prev_adm, substance, dx, service = x["prev_adm"], x["substance"], x["dx"], x["service"]
    r = _log(p["readmission_odds_ratios"])
    lp_re = (r["prev_psych_admission"] * prev_adm + r["substance_misuse"] * substance
             + sum(r[d] * dx[d] for d in DIAGNOSES if d in r))
    score_re = lp_re + rng.logistic(size=n)
    readmitted = np.zeros(n, dtype=bool)
    for s_i, s in enumerate(SERVICES):
        idx = np.flatnonzero(service == s_i)
        readmitted[idx[_top_k(score_re[idx], round(len(idx) * p["readmission_1y"][s]))]] = True
    x.update(readmitted=readmitted)


def _loss_to_follow_up(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws who is lost at one month and at one year: exact counts, driven by observed characteristics."""
    age5, deprived, single, involved = x["age5"], x["deprived"], x["single"], x["involved"]
    lf = p["loss_to_follow_up"]
    lo = _log(lf["odds_ratios"])
    lp_loss = (-lo["younger_per_5y"] * age5 + lo["deprived"] * deprived + lo["single"] * single
               + lo["csc_index_any"] * involved)
    lost_1m = _top_k(lp_loss + rng.logistic(size=n), round(n * lf["lost_1m"]))
    lost_1y = _top_k(lp_loss + lo["lost_1m"] * lost_1m + rng.logistic(size=n), round(n * lf["lost_1y"]))
    x.update(lost_1m=lost_1m, lost_1y=lost_1y)


def _csc_one_year(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws CSC status at one year (ordered logistic cut at exact shares, no direct service-type effect)
    and whether the infant is in the mother's care."""
    deprived, trauma, single, readmitted = x["deprived"], x["trauma"], x["single"], x["readmitted"]
    abuse, substance, csc_index, u = x["abuse"], x["substance"], x["csc_index"], x["u"]
    q = p["csc_1y_odds_ratios"]
    q1 = _log(q)
    idx_eff = np.array([0.0] + [math.log(q["index_status"][s]) for s in CSC_STATUS[1:]])
    lp_1y = (q1["deprived"] * deprived + q1["childhood_trauma"] * trauma + q1["single"] * single
             + q1["readmitted_1y"] * readmitted + q1["domestic_abuse"] * abuse + q1["substance_misuse"] * substance
             + idx_eff[csc_index] + float(p["site_effect_1y_scale"]) * u)
    csc_1y = _rank_categories(lp_1y + rng.logistic(size=n), _counts(n, [p["csc_1y_shares"][s] for s in CSC_STATUS]))
    p_away = np.array([p["infant_not_in_care_1y"][s] for s in CSC_STATUS])[csc_1y]
    in_care_1y = ~(rng.random(n) < p_away)
    csc_1y_any = csc_1y > 0
    x.update(csc_1y=csc_1y, in_care_1y=in_care_1y, csc_1y_any=csc_1y_any)


def _one_month_measures(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws the one-month CSQ-8 items (satisfaction higher after an MBU) and CAN-M met and unmet counts."""
    mbu, involved, adv, severity = x["mbu"], x["involved"], x["adv"], x["severity"]
    k = p["couplings"]
    sat = p["satisfaction"]
    sat_latent = sat["mbu_effect_sd"] * mbu + sat["csc_effect_sd"] * involved + rng.standard_normal(n)
    csq = _int_items(sat["item_mean"] + sat["latent_loading"] * sat_latent[:, None]
                     + sat["item_noise_sd"] * rng.standard_normal((n, 8)), 1, 4)
    nd = p["needs"]
    n1 = k["need_1m"]
    need_1m = n1["adversity"] * adv + n1["severity"] * severity + n1["noise_sd"] * rng.standard_normal(n)
    met_1m = np.minimum(rng.poisson(nd["met_1m_mean"] * np.exp(n1["met_loading"] * need_1m)), 26)
    unmet_1m = np.minimum(rng.poisson(nd["unmet_1m_mean"] * np.exp(n1["unmet_loading"] * need_1m
                                                                  + nd["csc_unmet_log_ratio"] * involved)),
                          26 - met_1m)
    x.update(csq=csq, met_1m=met_1m, unmet_1m=unmet_1m)


def _one_year_needs(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws the 26 one-year CAN-M domains (need, then unmet need, then 'not known'), more needs under CSC."""
    adv, csc_1y_any, n_other = x["adv"], x["csc_1y_any"], x["n_other"]
    ny = p["couplings"]["need_1y"]
    nd = p["needs"]
    need_1y = ny["adversity"] * adv + ny["noise_sd"] * rng.standard_normal(n)
    need_logit = (logit(np.asarray(nd["domain_need_prob"]))[None, :] + ny["need_loading"] * need_1y[:, None]
                  + ny["csc_need"] * csc_1y_any[:, None])
    need_logit[:, 23] += ny["infant_safety_csc"] * csc_1y_any
    has_need = rng.random((n, 26)) < expit(need_logit)
    has_need[:, 16] &= n_other > 0
    unmet = rng.random((n, 26)) < expit(logit(nd["unmet_given_need"]) + ny["unmet_loading"] * need_1y
                                         + ny["unmet_csc"] * csc_1y_any)[:, None]
    canm = np.where(has_need, np.where(unmet, 2.0, 1.0), 0.0)
    canm[rng.random((n, 26)) < nd["canm_not_known_rate"]] = 9.0
    x.update(canm=canm)


def _service_use(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws one-year service-use counts (gamma-Poisson, by CSC status, readmission and MBU) and inpatient days."""
    csc_1y_any, readmitted, mbu = x["csc_1y_any"], x["readmitted"], x["mbu"]
    k = p["couplings"]
    su = p["service_use"]
    shape = su["dispersion_shape"]
    su_mult = {"su_social_worker": np.where(csc_1y_any, su["social_worker_csc_ratio"], 1.0),
               "su_crisis": np.where(readmitted, su["crisis_readmitted_ratio"], 1.0),
               "su_pmht": np.where(mbu, k["pmht_after_mbu_ratio"], 1.0)}
    service_use = {}
    for name, mean in su["mean"].items():
        lam = mean * su_mult.get(name, 1.0) * rng.gamma(shape, 1 / shape, size=n)
        service_use[name] = np.minimum(rng.poisson(lam), 400).astype(float)
    inpatient = readmitted & (rng.random(n) < su["inpatient_share_of_readmissions"])
    days = np.clip(np.rint(np.exp(math.log(su["inpatient_days_median"]) + su["inpatient_days_log_sd"]
                                  * rng.standard_normal(n))), 1, 365)
    service_use["su_inpatient_days"] = np.where(inpatient, days, 0.0)
    x.update(service_use=service_use)


def _missingness(p: dict[str, Any], n: int, rng: np.random.Generator, x: dict[str, Any]) -> None:
    """Draws which items and whole instruments are missing (MAR given the always-observed age, service
    type and CSC involvement), blanking the measures in place."""
    age5, crisis, involved = x["age5"], x["crisis"], x["involved"]
    tag, honos, bprs, csq, canm, service_use = x["tag"], x["honos"], x["bprs"], x["csq"], x["canm"], x["service_use"]
    ins = p["instruments"]
    nd = p["needs"]
    su = p["service_use"]
    im = p["item_missingness"]
    mo = _log(im["odds_ratios"])
    lp_miss = -mo["younger_per_5y"] * age5 + mo["crisis_team"] * crisis + mo["csc_index_any"] * involved
    masks = {v: _top_k(lp_miss + rng.logistic(size=n), round(n * rate)) for v, rate in im["rates"].items()}
    lp_inst = math.log(ins["crisis_team_missing_odds_ratio"]) * crisis
    for key, arr in (("tag", tag), ("honos", honos), ("bprs", bprs)):
        whole = _top_k(lp_inst + rng.logistic(size=n), round(n * ins["missing_instrument"][key]))
        arr[whole] = np.nan
        arr[rng.random(arr.shape) < ins["missing_item_rate"]] = np.nan
    tag_safe = np.where(np.isnan(tag).all(axis=1), np.nan, x["tag_safe"])
    csq[rng.random((n, 8)) < im["csq_item_rate"]] = np.nan
    canm1m_missing = rng.random(n) < im["canm_1m_missing"]
    canm_not_done = rng.random(n) < nd["canm_not_done_1y"]
    canm[canm_not_done] = np.nan
    for name in service_use:
        service_use[name][rng.random(n) < su["item_missing_rate"]] = np.nan
    x.update(masks=masks, tag_safe=tag_safe, canm1m_missing=canm1m_missing)


def _baseline_columns(n: int, rng: np.random.Generator, x: dict[str, Any]) -> dict[str, Any]:
    """Draws the pseudonymous mother ids (the last draw) and lays out the index-admission columns in
    codebook order. Ids carry the seed ("SYN2023-0001"), so that a copy of the file can be recognised as
    synthetic by regenerating it (``recognise``)."""
    masks = x["masks"]
    c: dict[str, Any] = {}
    width = max(4, len(str(n + x["first_id"] - 1)))
    m_width = max(4, len(str(10 * n)))
    mother_num = rng.choice(10**m_width - 10 ** (m_width - 1), size=n, replace=False) + 10 ** (m_width - 1)
    c["dyad_id"] = f"SYN{x['seed']}-" + pd.Series(np.arange(x["first_id"], x["first_id"] + n)).astype(str).str.zfill(width)
    c["mother_id"] = f"SYN{x['seed']}-M-" + pd.Series(mother_num).astype(str)
    c["site"] = x["site_codes"][x["site"]]
    c["nation"] = np.where(x["welsh"][x["site"]], "wales", "england")
    c["service_type"] = np.array(SERVICES)[x["service"]]
    c["multiple_birth"] = x["multiple"]
    c["index_infant_order"] = x["infant_order"]
    c["maternal_age"] = x["age"]
    c["ethnicity"] = _masked(np.array(ETHNICITY)[x["ethnicity"]], masks.get("ethnicity"))
    c["relationship"] = _masked(np.array(RELATIONSHIP)[x["relationship"]], masks.get("relationship"))
    c["education"] = _masked(np.array(EDUCATION)[x["education"]], masks.get("education"))
    c["employment"] = _masked(np.array(EMPLOYMENT)[x["employment"]], masks.get("employment"))
    c["imd_quintile"] = _masked(x["imd"], masks.get("imd_quintile"))
    c["housing"] = _masked(np.array(HOUSING)[x["housing"]], masks.get("housing"))
    c["first_baby"] = _masked(x["first_baby"], masks.get("first_baby"))
    c["n_other_children"] = _masked(x["n_other"], masks.get("n_other_children"))
    c["infant_age_weeks"] = x["infant_age"]
    c["diagnosis"] = np.array(DIAGNOSES)[x["diagnosis"]]
    c["prev_psych_admission"] = _masked(x["prev_adm"], masks.get("prev_psych_admission"))
    c["mha_detention"] = x["detained"]
    c["substance_misuse"] = _masked(x["substance"], masks.get("substance_misuse"))
    c["childhood_trauma"] = _masked(x["trauma"], masks.get("childhood_trauma"))
    c["domestic_abuse"] = _masked(x["abuse"], masks.get("domestic_abuse"))
    _items(c, "tag", x["tag"], "tag_total")
    c["tag_safeguarding"] = x["tag_safe"]
    _items(c, "honos", x["honos"], "honos_total")
    _items(c, "bprs", x["bprs"], "bprs_count")
    c["length_of_stay_days"] = x["los_days"]
    c["csc_status_index"] = np.array(CSC_STATUS)[x["csc_index"]]
    return c


def _follow_up_columns(c: dict[str, Any], x: dict[str, Any]) -> None:
    """Adds the one-month and one-year columns, missing for dyads lost to follow-up, never invented."""
    lost_1m, lost_1y, csq, canm = x["lost_1m"], x["lost_1y"], x["csq"], x["canm"]
    fu1m, fu1y = ~lost_1m, ~lost_1y
    c["followed_up_1m"] = fu1m
    c["canm_1m_met"] = _masked(x["met_1m"], lost_1m | x["canm1m_missing"])
    c["canm_1m_unmet"] = _masked(x["unmet_1m"], lost_1m | x["canm1m_missing"])
    csq[lost_1m] = np.nan
    _items(c, "csq", csq, "csq8_total")
    c["followed_up_1y"] = fu1y
    c["readmitted_1y"] = x["readmitted"]
    c["csc_status_1y"] = _masked(np.array(CSC_STATUS)[x["csc_1y"]], lost_1y)
    c["infant_in_care_1y"] = _masked(x["in_care_1y"], lost_1y)
    canm[lost_1y] = np.nan
    for d in range(26):
        c[f"canm_1y_d{d + 1:02d}"] = canm[:, d]
    for name, arr in x["service_use"].items():
        c[name] = _masked(arr, lost_1y)


def _masked(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The values as an object or float array with NaN where ``mask`` is true."""
    if mask is None:
        return values
    if values.dtype.kind in "OUS":
        return np.where(mask, None, values.astype(object))
    return np.where(mask, np.nan, values.astype(float))


def _items(c: dict[str, Any], prefix: str, items: np.ndarray, total: str) -> None:
    for j in range(items.shape[1]):
        c[f"{prefix}_{j + 1}"] = items[:, j]
    c[total] = items.sum(axis=1)  # NaN wherever an item is missing


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """Columns in codebook order with export-like dtypes (string codes, nullable integers, floats)."""
    cb = load_codebook()
    recorded = cb.recorded()
    unknown = [v.name for v in recorded if v.name not in columns]
    if unknown:
        raise RuntimeError(f"the synthetic generator has no values for codebook variables {unknown}")
    out = {}
    for v in recorded:
        col = pd.Series(columns[v.name])
        if v.type == "id" or (v.type == "categorical" and isinstance(v.codes[0], str)):
            out[v.name] = col.astype("string")
        elif v.type == "continuous":
            out[v.name] = col.astype("float64")
        else:
            out[v.name] = col.astype("float64").astype("Int64")
    return pd.DataFrame(out)


SYNTHETIC_ID = re.compile(r"^SYN(\d+)-\d+$")


def recognise(path: str | Path, params_path: str | Path | None = None) -> tuple[int, int] | None:
    """(n, seed) when the file at ``path`` is, byte for byte, the cohort this generator writes for that
    n and seed (read from its dyad ids) with these parameters; otherwise None: anything else, a real
    export or an edited or older synthetic file, is treated as real data."""
    import hashlib

    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".csv":
        return None
    # one pass over the first field of each line, stopping at the first id the generator does not write
    # (the generator never quotes a field or breaks a line inside one, so a file that needs a CSV parser
    # to read its ids is not its output)
    found, n = None, 0
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            if fh.readline().split(",", 1)[0].rstrip("\r\n") != "dyad_id":
                return None
            for line in fh:
                m = SYNTHETIC_ID.match(line.split(",", 1)[0].rstrip("\r\n"))
                if m is None or (found is not None and m.group(1) != found):
                    return None
                found, n = m.group(1), n + 1
    except (OSError, UnicodeDecodeError):
        return None
    if found is None:
        return None
    seed = int(found)
    try:
        p = load_parameters(params_path)
    except UserError:
        return None
    analysed = [k for k in range(max(1, n - n // 100 - 2), n + 1) if k + not_analysed(k, p) == n]
    if len(analysed) != 1:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="perinatal-csc-recognise-"))
    try:
        fresh = write_cohort(generate(analysed[0], seed, params_path), tmp / "cohort.csv")
        same = hashlib.sha256(fresh.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
    except UserError:
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return (analysed[0], seed) if same else None


def write_cohort(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the cohort as CSV, byte-for-byte reproducible; returns the path.

    Missing values are blank cells, floats use a fixed format, lines end in ``\\n``. The file is
    written to a temporary name and moved into place, so a failure leaves no partial output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False, lineterminator="\n", float_format="%.10g", na_rep="")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
