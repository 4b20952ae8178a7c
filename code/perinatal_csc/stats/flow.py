"""Participant flow: every record from the cohort to the groups analysed, with reasons for leaving.

Stages (each one's ``n + excluded`` equals its parent's ``n``):
parent cohort -> analysed (CSC status during the episode known) -> followed up at one month
and, separately, followed up at one year -> analysed at one year (CSC status at one year known).
Rows for the two episode groups (with / without CSC involvement) split the analysed dyads; there,
``percent`` is of all analysed dyads; elsewhere it is of the parent stage in the same group.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.load import analysed
from ..errors import UserError

FLOW_COLUMNS = ["stage", "stage_label", "parent", "group", "group_label", "n", "excluded", "reason", "parent_n", "percent"]

WITH, WITHOUT = "With CSC involvement", "Without CSC involvement"


def _flag(df: pd.DataFrame, name: str) -> np.ndarray:
    """Dyads with the follow-up flag ``name`` equal to 1; the flag is a required column."""
    if name not in df:
        raise KeyError(f"the follow-up flag {name!r} is not in the data; it is a required column")
    return (df[name] == 1).fillna(False).to_numpy(dtype=bool)


def participant_flow(cohort: pd.DataFrame) -> pd.DataFrame:
    """The flow table of the parent cohort: one row per stage and group (overall, with, without CSC involvement)."""
    n_all = len(cohort)
    known = analysed(cohort)
    csc = cohort["csc_any_index"]
    with_ = (csc == 1).fillna(False).to_numpy(dtype=bool) & known
    without = (csc == 0).fillna(False).to_numpy(dtype=bool) & known
    fu1m, fu1y = _flag(cohort, "followed_up_1m"), _flag(cohort, "followed_up_1y")
    known_1y = cohort["csc_status_1y"].notna().to_numpy() if "csc_status_1y" in cohort else np.zeros(n_all, bool)
    rows = [("cohort", "Dyads in the parent cohort", "", "overall", "Overall", n_all, 0, "")]
    for key, label, mask in (("overall", "Overall", known), ("1", WITH, with_), ("0", WITHOUT, without)):
        base = int(mask.sum())
        a1m, a1y = int((mask & fu1m).sum()), int((mask & fu1y).sum())
        a1y_known = int((mask & fu1y & known_1y).sum())
        if key == "overall":
            rows.append(("analysed_episode", "Analysed for the acute episode", "cohort", key, label, base,
                         n_all - base, "CSC status during the episode not known"))
        else:
            rows.append(("analysed_episode", "Analysed for the acute episode", "analysed_episode", key, label, base,
                         0, ""))
        rows += [
            ("followed_up_1m", "Followed up at one month", "analysed_episode", key, label, a1m, base - a1m,
             "Not followed up at one month"),
            ("followed_up_1y", "Followed up at one year", "analysed_episode", key, label, a1y, base - a1y,
             "Lost to follow-up at one year"),
            ("analysed_1y", "Analysed at one year", "followed_up_1y", key, label, a1y_known, a1y - a1y_known,
             "Followed up, CSC status at one year not known"),
        ]
    out = pd.DataFrame(rows, columns=FLOW_COLUMNS[:-2])
    lookup = out.set_index(["stage", "group"])["n"]
    parent_group = np.where((out.stage == "analysed_episode") | (out.stage == "cohort"), "overall", out.group)
    keys = pd.MultiIndex.from_arrays([out.parent, parent_group])
    parent_n = lookup.reindex(keys).to_numpy(dtype=float)
    out["parent_n"] = pd.array(np.where(np.isnan(parent_n), pd.NA, parent_n), dtype="Int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["percent"] = 100.0 * out["n"] / parent_n
    return out[FLOW_COLUMNS]


HEADLINE_COLUMNS = ["measure", "label", "population", "n", "denominator", "percent"]


def _yes_among(cohort: pd.DataFrame, name: str, population: np.ndarray) -> tuple[int, int]:
    """Dyads with ``name == 1`` and dyads with ``name`` known, within ``population``."""
    if name not in cohort:
        return 0, 0
    col = cohort[name]
    known = col.notna().to_numpy() & population
    return int(((col == 1).fillna(False).to_numpy(dtype=bool) & known).sum()), int(known.sum())


def headline_counts(cohort: pd.DataFrame, parent: pd.DataFrame | None = None,
                    organisations: int | None = None) -> pd.DataFrame:
    """The counts the abstract and the plain-English summary quote, one row per measure, of the analysed
    ``cohort``; ``parent``: the parent cohort it comes from (the cohort itself when not given);
    ``organisations``: the NHS organisations that took part in the study, the denominator of those
    that contributed dyads (the data cannot hold one that contributed none).

    Percentages are of ``denominator``: the dyads in ``population`` with the measure known (for
    the cohorts there is no denominator)."""
    n_all = len(cohort)
    n_parent = n_all if parent is None else len(parent)
    everyone = np.ones(n_all, dtype=bool)
    followed = _flag(cohort, "followed_up_1y")
    csc_index, analysed = _yes_among(cohort, "csc_any_index", everyone)
    sites = int(cohort["site"].nunique()) if "site" in cohort else 0
    if organisations is not None and sites > organisations:
        raise UserError(f"column site: the data hold {sites} NHS organisations but study.organisations in the "
                        f"configuration says {organisations} took part")
    rows = [
        ("parent", "Dyads in the parent cohort", "parent cohort", n_parent, pd.NA),
        ("dyads", "Dyads analysed", "cohort", n_all, pd.NA),
        ("sites", "NHS organisations contributing dyads", "cohort", sites,
         pd.NA if organisations is None else organisations),
        ("csc_index", "CSC involvement during the acute episode", "cohort", csc_index, analysed),
        ("followed_1y", "Followed up at one year", "cohort", int(followed.sum()), n_all),
        ("csc_1y", "CSC involvement at one year", "followed up at one year", *_yes_among(cohort, "csc_any_1y", followed)),
        ("not_in_care_1y", "Infant not in mother's care at one year", "followed up at one year",
         *_yes_among(cohort, "infant_not_in_care_1y", followed)),
        ("cpp_1y", "Child Protection Plan at one year", "followed up at one year",
         *_yes_among(cohort, "cpp_1y", followed)),
    ]
    out = pd.DataFrame(rows, columns=HEADLINE_COLUMNS[:-1])
    out["n"] = out["n"].astype("Int64")
    out["denominator"] = pd.array(out["denominator"].tolist(), dtype="Int64")
    den = out["denominator"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["percent"] = np.where(den > 0, 100.0 * out["n"].to_numpy(dtype=float) / den, np.nan)
    return out[HEADLINE_COLUMNS]
