"""Shared number formats."""
import numpy as np

from perinatal_csc.present import fmt


def test_p_values_round_to_three_places_with_a_floor():
    assert fmt.fmt_p(0.0004) == "<0.001" and fmt.fmt_p(0.0126) == "0.013" and fmt.fmt_p(np.nan) == fmt.DASH


def test_n_of_computes_the_percentage_from_the_denominator():
    assert fmt.fmt_n_of(20, 208) == "20 (9.6%)" and fmt.fmt_n_of(3, 0) == "3"
