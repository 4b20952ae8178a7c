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


def subgroup_cohort():
    """40 dyads with CSC involvement: diagnosis by the two sub-groups, made so that only within the
    sub-groups are some categories small (bipolar: 2 of the 10 infants not in care; 1 of the 8 with a plan)."""
    from perinatal_csc.stats.describe import SUBGROUPS
    diag = ["depression"] * 14 + ["bipolar"] * 6 + ["other_psychosis"] * 6 + ["schizophrenia"] * 6 + ["anxiety"] * 8
    not_in_care = [1] * 4 + [0] * 10 + [1] * 2 + [0] * 4 + [1] * 1 + [0] * 5 + [1] * 1 + [0] * 5 + [1] * 2 + [0] * 6
    cpp = [0] * 10 + [1] * 4 + [0] * 5 + [1] * 1 + [0] * 6 + [0] * 6 + [0] * 5 + [1] * 3
    df = pd.DataFrame({"diagnosis": pd.Categorical(diag, categories=CB["diagnosis"].codes),
                       "csc_any_index": pd.array([1] * 40, dtype="Int64"),
                       "csc_any_1y": pd.array([1] * 40, dtype="Int64")})
    for name, values in zip(SUBGROUPS, (not_in_care, cpp)):
        df[name] = pd.array(values, dtype="Int64")
    return df


def test_the_sub_group_comparisons_combine_their_own_small_categories_the_same_way_in_both():
    from perinatal_csc.stats.describe import SUBGROUPS, table5_subgroups
    from perinatal_csc.stats.recode import combine_for_comparisons
    df = subgroup_cohort()
    plain = table5_subgroups(df, CB)
    assert set(plain.loc[plain.variable == "diagnosis", "level"].dropna()) >= {"bipolar", "other_psychosis"}
    assert combine_for_comparisons(df, CB, 0, SUBGROUPS)[2] == []
    data, cb, done = combine_for_comparisons(df, CB, 5, SUBGROUPS, variables=["diagnosis"])
    table = table5_subgroups(df, CB, combined=(data, cb))
    assert {r.applies_to for r in done} == {"subgroups"}
    assert done[0].into == "Bipolar disorder or other psychosis (incl. postpartum psychosis)"
    levels = table[table.variable == "diagnosis"].groupby("comparison")["level"].apply(lambda s: tuple(sorted(set(s.dropna()))))
    assert levels.nunique() == 1                        # the same categories side by side
    assert levels.iloc[0] == ("depression", "schizophrenia")    # every declared step was needed: psychosis or not
    assert [r.into for r in done][-1].endswith("(no psychosis)")
    rows = table[(table.variable == "diagnosis") & (table.row_type == "level")]
    overall = rows[rows.group == "overall"].groupby("comparison")["n"].apply(lambda s: pd.to_numeric(s).sum())
    assert (overall == len(df)).all()                   # every dyad still counted
    yes = rows[(rows.comparison == "infant_not_in_care_1y") & (rows.group == "1")].set_index("level")["n"]
    assert pd.to_numeric(yes).to_dict() == {"depression": 6, "schizophrenia": 4}   # 4 + 2 and 2 + 1 + 1


def test_a_combination_the_main_tables_applied_lets_a_sub_group_combine_further():
    """Relationship: "partner, not living together" with its 3 not known in the main comparison; within
    the sub-group it is still small and combines with "single", the next declared step."""
    rel = ["married_cohabiting"] * 20 + ["partner_not_cohabiting"] * 6 + [None] * 3 + ["single"] * 11
    sub = [0] * 14 + [1] * 6 + [1] * 2 + [0] * 4 + [0] * 3 + [1] * 2 + [0] * 9
    df = pd.DataFrame({"relationship": pd.Categorical(rel, categories=CB["relationship"].codes),
                       "csc_any_index": pd.array([1] * 20 + [0] * 20, dtype="Int64"),
                       "infant_not_in_care_1y": pd.array(sub, dtype="Int64")})
    main, cb, done = combine_sparse(df, CB, 5, variables=["relationship"])
    assert [r.into for r in done] == ["Partner, not living together, or not known"]
    out, cb2, more = combine_sparse(main, cb, 5, by="infant_not_in_care_1y", variables=["relationship"])
    assert [r.into for r in more] == ["Not living with a partner, or not known"]
    assert (out["relationship"] == "partner_not_cohabiting").sum() == 6 + 3 + 11


def test_a_sub_group_pass_after_the_main_tables_merged_every_declared_step_changes_nothing():
    rel = ["married_cohabiting"] * 20 + ["partner_not_cohabiting"] * 2 + [None] + ["single"] * 2
    df = pd.DataFrame({"relationship": pd.Categorical(rel + ["married_cohabiting"] * 25, categories=CB["relationship"].codes),
                       "csc_any_index": pd.array([1] * 25 + [0] * 25, dtype="Int64"),
                       "infant_not_in_care_1y": pd.array([1, 0] * 25, dtype="Int64")})
    main, cb, done = combine_sparse(df, CB, 5, variables=["relationship"])
    assert [r.into for r in done] == ["Partner, not living together, or not known", "Not living with a partner, or not known"]
    out, cb2, more = combine_sparse(main, cb, 5, by="infant_not_in_care_1y", variables=["relationship"])
    assert more == [] and cb2["relationship"] == cb["relationship"]
