"""Hand-made result tables with the adversarial cases of disclosure control (issue 10), shared by the
release tests and the rendered-document tests: 40 dyads with and 60 without CSC involvement.

- ``rare``: a cell of 1 ("Rare", 1 of 40 with CSC involvement);
- ``diff``: a cell of 3 that the other level and the column total would give away by differencing;
- ``pair``: a category held by two dyads, both with CSC involvement (2 and a zero: class disclosure);
- ``known``: a "Not known" row of 1;
- ``linked``: a Yes/No characteristic whose unadjusted odds ratio in a model of CSC involvement on the
  same dyads would give away its "Not known" row of 2;
- the flow loses 3 dyads with CSC involvement at one year (a small count in a figure, its text
  description and an inline sentence);
- model ``m``: a covariate ``x`` with 2 events in one category (too few), ``age`` continuous, and
  ``linked``'s unadjusted odds ratio.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

GROUPS = (("1", "With CSC involvement"), ("0", "Without CSC involvement"), ("overall", "Overall"))
SIZES = {"1": 40, "0": 60}


def characteristics(variables: dict, sizes: dict = SIZES) -> pd.DataFrame:
    """A describe-style long table: ``variables`` maps name -> (label, {level: (n with, n without)});
    level "not_known" is the "Not known" row; a variable with one other level is a one-level row."""
    group_n = {**sizes, "overall": sum(sizes.values())}
    rows = []
    for variable, (label, levels) in variables.items():
        nk = levels.get("not_known", (0, 0))
        known = {"1": sizes["1"] - nk[0], "0": sizes["0"] - nk[1]}
        known["overall"] = known["1"] + known["0"]
        for level, counts in levels.items():
            is_nk = level == "not_known"
            for g, glabel in GROUPS:
                n = counts[0] if g == "1" else counts[1] if g == "0" else sum(counts)
                rows.append({"section": "", "variable": variable, "label": label, "unit": "", "summary": "n_pct",
                             "row_type": "not_known" if is_nk else "level", "level": level,
                             "level_label": "Not known" if is_nk else level.title(), "group": g, "group_label": glabel,
                             "group_n": group_n[g], "n": n, "denominator": np.nan if is_nk else known[g],
                             "percent": np.nan if is_nk else 100 * n / known[g],
                             "mean": np.nan, "sd": np.nan, "median": np.nan, "q1": np.nan, "q3": np.nan,
                             "n_missing": nk[0] if g == "1" else nk[1] if g == "0" else sum(nk),
                             "n_not_applicable": 0, "requires": "", "statistic": 4.2, "df": 1.0,
                             "test": "Fisher's exact test", "p": 0.0437, "q": 0.0871, "smd": 0.3129})
    return pd.DataFrame(rows)


ADVERSARIAL = {
    "rare": ("Rarity", {"common": (39, 40), "rare": (1, 20)}),
    "diff": ("Differencing", {"larger": (37, 30), "smaller": (3, 30)}),
    "pair": ("Pairing", {"unpaired": (38, 60), "paired": (2, 0)}),
    "known": ("Knowledge", {"yes": (12, 14), "no": (27, 40), "not_known": (1, 6)}),
}
#: Yes/No characteristic 'linked': Yes (20, 15), implied No (18, 39), Not known (2, 6).
LINKED = {"linked": ("Linkage", {"1": (20, 15), "not_known": (2, 6)})}
LINKED_TABLE = {"1": (20, 15), None: (18, 39)}        # level -> (events, non-events) among the model's dyads


def flow(lost_1y: tuple[int, int] = (3, 20)) -> pd.DataFrame:
    """The participant flow of the fixture: 100 dyads, all analysed; one-month follow-up loses 8 and 9,
    one year ``lost_1y``, and CSC status at one year is not known for 5 and 6 of those followed up."""
    rows = [{"stage": "cohort", "stage_label": "Dyads in the cohort", "parent": np.nan, "group": "overall",
             "group_label": "Overall", "n": 100, "excluded": 0, "reason": np.nan, "parent_n": np.nan, "percent": np.nan}]
    for g, label in (("overall", "Overall"), ("1", "With CSC involvement"), ("0", "Without CSC involvement")):
        size = 100 if g == "overall" else SIZES[g]
        pick = (lambda a, b: a + b) if g == "overall" else (lambda a, b: a if g == "1" else b)
        lost_1m, lost, unknown = pick(8, 9), pick(*lost_1y), pick(5, 6)
        parent = "cohort" if g == "overall" else "analysed_episode"
        rows.append({"stage": "analysed_episode", "stage_label": "Analysed for the acute episode", "parent": parent,
                     "group": g, "group_label": label, "n": size, "excluded": 0, "reason": "outcome not recorded",
                     "parent_n": 100, "percent": size})
        rows.append({"stage": "followed_up_1m", "stage_label": "Followed up at one month", "parent": "analysed_episode",
                     "group": g, "group_label": label, "n": size - lost_1m, "excluded": lost_1m,
                     "reason": "Not followed up", "parent_n": size, "percent": 100 * (size - lost_1m) / size})
        rows.append({"stage": "followed_up_1y", "stage_label": "Followed up at one year", "parent": "analysed_episode",
                     "group": g, "group_label": label, "n": size - lost, "excluded": lost,
                     "reason": "Lost to follow-up", "parent_n": size, "percent": 100 * (size - lost) / size})
        rows.append({"stage": "analysed_1y", "stage_label": "Analysed at one year", "parent": "followed_up_1y",
                     "group": g, "group_label": label, "n": size - lost - unknown, "excluded": unknown,
                     "reason": "CSC status at one year not known", "parent_n": size - lost,
                     "percent": 100 * (size - lost - unknown) / (size - lost)})
    return pd.DataFrame(rows)


def wald(a: int, b: int, c: int, d: int) -> tuple[float, float, float, float, float]:
    """(log OR, SE, OR, CI low, CI high) of a 2 x 2 table by hand (a, b: events and non-events in the
    category; c, d: in the reference): the maximum-likelihood logistic estimate with a Wald interval."""
    est = float(np.log(a * d / (b * c)))
    se = float(np.sqrt(1 / a + 1 / b + 1 / c + 1 / d))
    return est, se, float(np.exp(est)), float(np.exp(est - 1.959963984540054 * se)), float(np.exp(est + 1.959963984540054 * se))


def models(n: int = 92, events: int = 38) -> dict[str, pd.DataFrame]:
    """Model ``m`` of CSC involvement during the episode (``csc_any_index``) on the 92 dyads with
    'linked' known: x (2 events in its 'Yes' category: too few), linked (unadjusted OR from its table),
    age (continuous)."""
    (a, b), (c, d) = LINKED_TABLE["1"], LINKED_TABLE[None]
    est, se, or_, lo, hi = wald(a, b, c, d)
    base = {"model": "m", "reference": False, "method": "Maximum likelihood", "n": n, "events": events,
            "p_global": np.nan}
    rows = []
    for kind in ("Unadjusted", "Adjusted"):
        rows += [
            {**base, "type": kind, "term": "x", "label": "Exposure", "level": "1", "level_label": "Yes",
             "estimate": 0.5008, "se": 0.2, "or": 1.65, "ci_low": 1.1148, "ci_high": 2.4422, "p": 0.0123,
             "direction": "higher"},
            {**base, "type": kind, "term": "linked", "label": "Linkage", "level": "1", "level_label": "Yes",
             "estimate": est if kind == "Unadjusted" else 0.9, "se": se if kind == "Unadjusted" else 0.5,
             "or": or_ if kind == "Unadjusted" else 2.4596, "ci_low": lo if kind == "Unadjusted" else 0.9232,
             "ci_high": hi if kind == "Unadjusted" else 6.5535, "p": 0.0234, "direction": "higher"},
            {**base, "type": kind, "term": "age", "label": "Maternal age (per 5 years)", "level": "", "level_label": "",
             "estimate": -0.1054, "se": 0.05, "or": 0.9, "ci_low": 0.8160, "ci_high": 0.9926, "p": 0.0345,
             "direction": ""},
        ]
    counts = [{"model": "m", "term": "x", "level": "1", "level_label": "Yes", "reference": False, "events": 2, "non_events": 30},
              {"model": "m", "term": "x", "level": "", "level_label": "Reference level", "reference": True,
               "events": events - 2, "non_events": n - events - 30},
              {"model": "m", "term": "linked", "level": "1", "level_label": "Yes", "reference": False, "events": a, "non_events": b},
              {"model": "m", "term": "linked", "level": "", "level_label": "Reference level", "reference": True,
               "events": c, "non_events": d}]
    return {
        "models_m": pd.DataFrame(rows),
        "models_summary": pd.DataFrame([{"model": "m", "title": "CSC involvement during the acute episode",
                                         "outcome": "csc_any_index", "outcome_label": "Any CSC involvement",
                                         "population": "all analysed dyads", "n": n, "events": events,
                                         "non_events": n - events, "parameters": 3, "epv": events / 3,
                                         "epv_note": "At least 10 events per variable",
                                         "separation": "No separation detected",
                                         "convergence": "Maximum likelihood converged",
                                         "method": "Maximum likelihood", "ci_method": "Wald",
                                         "p_global_method": "likelihood ratio test", "confidence_level": 0.95,
                                         "footnote": "Maximum likelihood logistic regression; Wald 95% intervals."}]),
        "models_level_counts": pd.DataFrame(counts),
    }


def results() -> dict[str, pd.DataFrame]:
    """Every fixture table, as the analysis would return them."""
    return {"table1_sociodemographic": characteristics({**ADVERSARIAL, **LINKED}), "flow": flow(), **models()}
