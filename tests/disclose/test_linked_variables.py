"""A variable and one derived from it as a sum of its categories (deprived = IMD quintile 1 or 2) are
protected together: the attacker adds the published rows up across the two."""
from __future__ import annotations

import pandas as pd
import pytest

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.disclose.policy import PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.pipeline import codebook_links
from perinatal_csc.stats.describe import summarise

from disclosure_attacker import bounds, characteristics_systems, safe

CB = load_codebook()
QUINTILES = {1: (6, 10), 2: (20, 20), 3: (15, 18), 4: (12, 15), 5: (30, 25), None: (3, 6)}


def table() -> pd.DataFrame:
    rows = []
    for q, (n1, n0) in QUINTILES.items():
        rows += [{"csc_any_index": 1, "imd_quintile": q}] * n1 + [{"csc_any_index": 0, "imd_quintile": q}] * n0
    df = pd.DataFrame(rows)
    df["deprived"] = pd.array([None if pd.isna(q) else int(q in (1, 2)) for q in df["imd_quintile"]], dtype="Int64")
    df["imd_quintile"] = pd.Categorical(df["imd_quintile"], categories=CB["imd_quintile"].codes)
    df["csc_any_index"] = pd.array(df["csc_any_index"], dtype="Int64")
    return summarise(df, ["imd_quintile", "deprived"], by="csc_any_index", codebook=CB,
                     group_order=[1, 0]).add_overall().add_p().table


def joint_system(full, rel):
    """Both variables' systems in one, with deprived's Yes = quintiles 1 + 2 and the same dyads not known."""
    parts = {name: s for name, *s in characteristics_systems(full, rel)}
    v1, p1, r1, l1 = parts["imd_quintile"]
    v2, p2, r2, l2 = parts["deprived"]
    k = len(v1)
    values, published = v1 + v2, p1 + p2
    relations = r1 + [([m + k for m in members], total + k) for members, total in r2]
    labels = [("imd", *lab) if isinstance(lab, tuple) else lab for lab in l1] + \
             [("deprived", *lab) if isinstance(lab, tuple) else lab for lab in l2]
    for g in ("1", "0", "overall"):
        relations.append(([l1.index((g, ("level", "1"))), l1.index((g, ("level", "2")))],
                          k + l2.index((g, ("level", "1")))))
        relations.append(([l1.index((g, ("not_known", "not_known")))], k + l2.index((g, ("not_known", "not_known")))))
    return values, published, relations, labels


def protected_ranges(links, policy):
    full = table()
    rel = release({"table1_sociodemographic": full}, policy, links=links).tables["table1_sociodemographic"]
    values, published, relations, labels = joint_system(full, rel)
    out = {}
    for i, v in enumerate(values):
        if policy.protects(v) and "outside the groups" not in str(labels[i]) and "complement" not in str(labels[i]):
            out[labels[i]] = (published[i], bounds(values, published, relations, i, rounding=policy.rounding,
                                                    threshold=policy.threshold))
    return out


def test_without_the_link_the_sum_gives_a_small_not_known_count_away():
    ranges = protected_ranges(None, PRESETS["cohort"])
    assert ranges and any(lo == hi for _, (lo, hi) in ranges.values())


@pytest.mark.parametrize("preset", ["cohort", "tre"])
def test_protected_together_no_small_count_can_be_narrowed(preset):
    policy = PRESETS[preset]
    ranges = protected_ranges(codebook_links(CB), policy)
    assert ranges
    for label, (shown, (lo, hi)) in ranges.items():
        assert shown is None, label
        assert safe(lo, hi, policy.threshold, policy.rounding), (label, lo, hi)
