"""The codebook covers the study's variables and is internally coherent."""
import re

import pytest
import yaml

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.paths import PROJECT_ROOT

CB = load_codebook()

# Every variable STUDY.md asks the codebook to cover, by our name for it.
STUDY_VARIABLES = [
    "dyad_id", "site", "nation", "service_type", "maternal_age", "ethnicity", "relationship", "education",
    "employment", "imd_quintile", "housing", "first_baby", "n_other_children", "infant_age_weeks", "diagnosis",
    "prev_psych_admission", "mha_detention", "substance_misuse", "childhood_trauma", "domestic_abuse",
    "tag_total", "tag_safeguarding", "honos_total", "bprs_count", "length_of_stay_days", "csc_status_index",
    "canm_1m_met", "canm_1m_unmet", "csq8_total", "followed_up_1y", "readmitted_1y", "csc_status_1y",
    "infant_in_care_1y", "cpp_1y", "canm_1y_met", "canm_1y_unmet", "su_gp", "su_health_visitor", "su_pmht",
    "su_cmht", "su_social_worker", "su_crisis", "su_inpatient_days",
]


@pytest.mark.parametrize("name", STUDY_VARIABLES)
def test_study_variable_is_in_codebook(name):
    assert name in CB


def test_relationship_levels_match_study():
    assert CB["relationship"].codes == ["married_cohabiting", "partner_not_cohabiting", "single"]


def test_diagnosis_has_the_seven_study_categories():
    assert len(CB["diagnosis"].levels) == 7
    assert CB["diagnosis"].reference == "depression"


def test_csc_status_has_five_categories_at_both_timepoints():
    assert CB["csc_status_index"].codes == CB["csc_status_1y"].codes
    assert len(CB["csc_status_index"].codes) == 5


def test_canm_has_26_domains_at_one_year():
    domains = [v for v in CB if re.fullmatch(r"canm_1y_d\d\d", v.name)]
    assert len(domains) == 26
    assert all(v.missing_codes == (9,) for v in domains)


def test_instrument_totals_list_items_with_compatible_ranges():
    for name, n_items, item_max in [("tag_total", 7, 4), ("honos_total", 12, 4), ("bprs_count", 24, 1), ("csq8_total", 8, 4)]:
        v = CB[name]
        assert len(v.items) == n_items
        assert v.range[1] == n_items * item_max


def test_every_continuous_variable_says_how_it_is_summarised():
    for v in CB:
        if v.type in ("integer", "continuous"):
            assert v.summary in ("mean_sd", "median_iqr"), v.name


def test_derived_variables_state_rule_and_inputs():
    derived = {v.name for v in CB.derived()}
    assert {"csc_any_index", "csc_any_1y", "infant_not_in_care_1y", "cpp_1y", "deprived",
            "canm_1y_met", "canm_1y_unmet"} <= derived
    for v in CB.derived():
        assert v.derived and v.inputs


def test_labels_use_non_stigmatising_language():
    text = " ".join(v.label + " " + " ".join(lv.label for lv in v.levels) for v in CB).lower()
    for term in ("custody", "unfit", "case "):
        assert term not in text


def test_no_direct_identifier_in_codebook():
    for v in CB:
        assert not re.search(r"nhs_number|postcode|date_of_birth|dob|name$|free_text", v.name), v.name


def test_codebook_file_is_the_one_read():
    raw = yaml.safe_load((PROJECT_ROOT / "data" / "codebook.yml").read_text())
    assert [d["name"] for d in raw["variables"]] == CB.names


def test_codebook_frame_has_a_row_per_variable():
    frame = CB.to_frame()
    assert len(frame) == len(CB)
    assert frame.loc[frame.name == "maternal_age", "summary"].item() == "mean (SD)"


@pytest.mark.parametrize("entry", [
    {"type": "integer", "summary": "median_iqr"},
    {"inputs": ["canm_1y_d01"]},
    {"any_of": {"level": 2, "extra": 1}},
    {"any_of": [2]},
])
def test_any_of_needs_a_derived_binary_of_two_or_more_inputs(tmp_path, entry):
    raw = yaml.safe_load((PROJECT_ROOT / "data" / "codebook.yml").read_text())
    var = next(v for v in raw["variables"] if v.get("any_of"))
    var.update(entry)
    if entry.get("type") == "integer":
        var.pop("levels"), var.pop("reference"), var.pop("combine")
    path = tmp_path / "codebook.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match=f"{var['name']}.*any_of"):
        load_codebook(path)
