"""The abstract's list of associated factors keeps the direction of each association."""
import pandas as pd
import pytest

from perinatal_csc.present.headline import as_list_text, associated_factors


@pytest.fixture
def models():
    return pd.DataFrame({
        "type": ["Adjusted"] * 4 + ["Unadjusted"],
        "reference": [False, False, False, True, False],
        "label": ["Domestic abuse", "Primary diagnosis", "Maternal age (per 5 years)", "Primary diagnosis", "Single"],
        "level_label": ["Yes", "Bipolar disorder", "", "Depression", "Yes"],
        "ci_low": [1.2, 0.04, 0.6, None, 1.5],
        "ci_high": [3.0, 0.93, 1.1, None, 4.0],
        "direction": ["higher", "lower", "", "", "higher"],
    })


def test_higher_odds_lists_only_intervals_above_one(models):
    assert associated_factors(models, "higher") == ["Domestic abuse"]


def test_lower_odds_lists_only_intervals_below_one(models):
    assert associated_factors(models, "lower") == ["Bipolar disorder (primary diagnosis)"]


def test_unknown_direction_is_an_error(models):
    with pytest.raises(ValueError):
        associated_factors(models, "both")


def test_list_text():
    assert as_list_text([]) == "none"
    assert as_list_text(["Domestic abuse", "CSC status", "Bipolar"]) == "domestic abuse, CSC status and bipolar"


def test_headline_formats_the_result_table_only():
    from perinatal_csc.present.headline import headline

    table = pd.DataFrame({
        "measure": ["dyads", "sites", "csc_index", "followed_1y", "csc_1y", "not_in_care_1y", "cpp_1y"],
        "n": [200, 30, 70, 150, 45, 12, 9],
        "denominator": pd.array([pd.NA, pd.NA, 196, 200, 148, 150, 149], dtype="Int64"),
    })
    h = headline({"headline": table})
    assert (h.n, h.n_sites) == (200, 30)
    assert h.csc_index_text == "70 (35.7%)"          # of 196 with status known, not of 200
    assert h.followed_1y_text == "150 (75.0%)"
    assert h.csc_1y_text == "45 (30.4%)" and h.not_in_care_1y_text == "12 (8.0%)" and h.cpp_1y_text == "9 (6.0%)"
    assert h.sites_text == "30"
    took_part = table.assign(denominator=pd.array([pd.NA, 32, 196, 200, 148, 150, 149], dtype="Int64"))
    assert headline({"headline": took_part}).sites_text == "30 of the 32"


def test_the_results_sentence_chooses_its_terms_by_rule(models):
    """The terms whose interval excludes 1, in both directions, never a fixed pair; none when none does."""
    from perinatal_csc.present.headline import findings_text

    models = models.assign(term=["domestic_abuse", "diagnosis", "maternal_age", "diagnosis", "relationship"],
                           level=["1", "bipolar", "", "depression", "single"], **{"or": [1.9, 0.2, 0.8, None, 2.4]})
    text = findings_text({"models_episode": models}, "episode")
    assert text == ("more likely with domestic abuse (OR 1.90, 1.20 to 3.00) and less likely with bipolar disorder "
                    "(primary diagnosis) (OR 0.20, 0.04 to 0.93)")
    none = models.assign(direction="")
    assert findings_text({"models_episode": none}, "episode").startswith("not clearly associated")
