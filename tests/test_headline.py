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
