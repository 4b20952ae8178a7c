"""Pre-specified combination of sparse categories, on hand-made cohorts whose counts are known."""
from __future__ import annotations

import pandas as pd
import pytest

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.stats.recode import combine_sparse, recode_table

CB = load_codebook()


def cohort(ethnicity_1, ethnicity_0, first_baby_1=(), first_baby_0=()):
    """Group 1 and group 0 of CSC involvement with the given ethnicity codes (None: not known) and first-baby
    values (padded with 1 to the group's size)."""
    rows = []
    for group, eth, fb in ((1, ethnicity_1, first_baby_1), (0, ethnicity_0, first_baby_0)):
        fb = list(fb) + [1] * (len(eth) - len(fb))
        rows += [{"csc_any_index": group, "ethnicity": e, "first_baby": f} for e, f in zip(eth, fb)]
    df = pd.DataFrame(rows)
    df["ethnicity"] = pd.Categorical(df["ethnicity"], categories=CB["ethnicity"].codes)
    df["first_baby"] = pd.array(df["first_baby"], dtype="Int64")
    df["csc_any_index"] = pd.array(df["csc_any_index"], dtype="Int64")
    return df


def test_a_small_category_is_combined_as_declared_and_every_dyad_is_kept():
    df = cohort(["white"] * 20 + ["mixed"] * 3 + ["other"] * 6 + ["asian"] * 6 + ["black"] * 6,
                ["white"] * 30 + ["mixed"] * 8 + ["other"] * 7 + ["asian"] * 9 + ["black"] * 9)
    out, cb, done = combine_sparse(df, CB, 5)
    assert [(r.variable, r.into) for r in done] == [("ethnicity", "Mixed, multiple or other ethnic group")]
    assert cb["ethnicity"].codes == ["white", "mixed", "asian", "black"]
    assert cb["ethnicity"].level_label("mixed") == "Mixed, multiple or other ethnic group"
    counts = out.groupby("csc_any_index")["ethnicity"].value_counts().unstack()
    assert counts.loc[1, "mixed"] == 9 and counts.loc[0, "mixed"] == 15       # 3 + 6 and 8 + 7
    assert len(out) == len(df) and out["ethnicity"].notna().sum() == df["ethnicity"].notna().sum()
    assert df["ethnicity"].cat.categories.tolist() == CB["ethnicity"].codes  # the input is untouched


def test_nothing_sparse_changes_nothing():
    df = cohort(["white"] * 20 + ["mixed"] * 5 + ["other"] * 6 + ["asian"] * 6 + ["black"] * 6,
                ["white"] * 30 + ["mixed"] * 8 + ["other"] * 7 + ["asian"] * 9 + ["black"] * 9)
    out, cb, done = combine_sparse(df, CB, 5)
    assert done == [] and cb["ethnicity"] == CB["ethnicity"]
    pd.testing.assert_series_equal(out["ethnicity"], df["ethnicity"])
    assert combine_sparse(df, CB, 0)[2] == [] and combine_sparse(df, CB, 1)[2] == []


def test_not_known_counted_with_a_declared_level_only_after_the_combination_its_label_names():
    base1 = ["white"] * 20 + ["mixed"] * 5 + ["other"] * 6 + ["asian"] * 6 + ["black"] * 6
    base0 = ["white"] * 30 + ["mixed"] * 8 + ["other"] * 7 + ["asian"] * 9 + ["black"] * 9
    # not known small, but "mixed" and "other" were never combined: the label "mixed, multiple or other,
    # or not known" would be wrong, so not known stays as it is
    _, _, done = combine_sparse(cohort(base1 + [None] * 2, base0), CB, 5)
    assert done == []
    # with "mixed" small too, the first combination applies and then "not known" joins it
    out, cb, done = combine_sparse(cohort(["white"] * 20 + ["mixed"] * 2 + ["other"] * 6 + ["asian"] * 6
                                          + ["black"] * 6 + [None] * 3, base0), CB, 5)
    assert [r.into for r in done] == ["Mixed, multiple or other ethnic group",
                                      "Mixed, multiple or other ethnic group, or not known"]
    assert out["ethnicity"].isna().sum() == 0
    assert (out.loc[out.csc_any_index == 1, "ethnicity"] == "mixed").sum() == 2 + 6 + 3


def test_a_yes_no_variable_counts_not_known_as_no_and_says_so():
    eth1 = ["white"] * 40
    df = cohort(eth1, ["white"] * 40, first_baby_1=[None, None, 0, 0, 0, 0, 0, 0], first_baby_0=[0] * 10)
    out, cb, done = combine_sparse(df, CB, 5)
    assert [(r.variable, r.combined) for r in done] == [("first_baby", ("No", "Not known"))]
    assert out["first_baby"].isna().sum() == 0
    assert int((out.loc[out.csc_any_index == 1, "first_baby"] == 0).sum()) == 8
    assert int((out["first_baby"] == 1).sum()) == int((df["first_baby"] == 1).sum())   # Yes unchanged
    assert "not known" in cb["first_baby"].definition
    table = recode_table(done)
    assert table.to_dict("records") == [{"applies_to": "tables", "variable": "first_baby", "label": "First baby",
                                        "combined": "No; Not known", "into": "No or not known"}]


def test_for_models_a_category_without_events_is_sparse_and_not_known_is_never_a_category():
    df = cohort(["white"] * 20 + ["mixed"] * 6 + ["other"] * 6 + ["asian"] * 6 + ["black"] * 6 + [None] * 2,
                ["white"] * 30 + ["mixed"] * 8 + ["other"] * 7 + ["asian"] * 9 + ["black"] * 9)
    df.loc[(df.csc_any_index == 1) & (df.ethnicity == "black"), "ethnicity"] = "asian"   # no events for black
    out, cb, done = combine_sparse(df, CB, 5, "csc_any_index", variables=["ethnicity"], for_models=True)
    assert [r.into for r in done] == ["Asian, Asian British, Black or Black British"]
    assert done[0].applies_to == "models"
    assert out["ethnicity"].isna().sum() == 2
    assert combine_sparse(df, CB, 5, "csc_any_index", variables=["first_baby"], for_models=True)[2] == []


def test_the_codebook_refuses_a_combination_of_unknown_levels():
    from perinatal_csc.data.codebook import Level, _combine

    levels = (Level("a", "A"), Level("b", "B"))
    with pytest.raises(ValueError, match="unknown"):
        _combine([{"levels": ["a", "z"], "label": "A or Z"}], levels, "v", "categorical")
    with pytest.raises(ValueError, match="binary"):
        _combine([{"levels": ["a", "b"], "label": "A or B"}], levels, "v", "binary")
    assert _combine([{"levels": ["a", "b"], "label": "A or B"}, {"levels": ["a", "not_known"], "label": "x"}],
                    levels, "v", "categorical")[1].levels == ("a", "not_known")
