"""Disclosure presets, overrides, and the refusal of unchecked outputs from real data."""
import pytest
import yaml

from perinatal_csc.config import load_config
from perinatal_csc.disclose.policy import PRESETS, PolicyError, policy_for, policy_from_settings


def test_presets_protect_what_the_issue_says():
    cohort, tre, nhs, none = PRESETS["cohort"], PRESETS["tre"], PRESETS["nhs"], PRESETS["none"]
    assert [n for n in range(12) if cohort.protects(n)] == [1, 2, 3, 4]
    assert [n for n in range(12) if tre.protects(n)] == list(range(1, 10))
    assert tre.min_residual_df == 10 and tre.min_summary_n == 10
    assert [n for n in range(12) if nhs.protects(n)] == list(range(1, 8)) and nhs.rounding == 5
    assert not any(none.protects(n) for n in range(12)) and not none.checked


def test_default_is_cohort_and_a_name_or_mapping_selects_a_preset():
    assert policy_from_settings(None, source="synthetic") == PRESETS["cohort"]
    assert policy_from_settings("tre", source="real") == PRESETS["tre"]
    p = policy_from_settings({"preset": "cohort", "threshold": 11}, source="real")
    assert p.threshold == 11 and p.protects(10) and "threshold 11" in p.name


@pytest.mark.parametrize("bad", [{"preset": "strict"}, {"threshold": -1}, {"threshold": "5"}, {"colour": 1}, 3,
                                 {"preset": "none", "threshold": 5}, {"allow_unchecked_real_outputs": "yes"}])
def test_bad_settings_are_refused_by_name(bad):
    with pytest.raises(PolicyError, match="disclosure"):
        policy_from_settings(bad, source="synthetic")


def test_none_is_refused_with_real_data_unless_explicitly_allowed():
    assert not policy_from_settings("none", source="synthetic").checked
    with pytest.raises(PolicyError, match="refused with real data"):
        policy_from_settings("none", source="real")
    p = policy_from_settings({"preset": "none", "allow_unchecked_real_outputs": True}, source="real")
    assert not p.checked and "not checked" in p.rule_text()


def test_configuration_key_reaches_the_policy(tmp_path):
    cfg = tmp_path / "project.yml"
    cfg.write_text(yaml.safe_dump({"data": {"source": "synthetic"}, "disclosure": {"preset": "nhs"}}))
    assert policy_for(load_config(cfg)) == PRESETS["nhs"]
    cfg.write_text(yaml.safe_dump({"data": {"source": "synthetic"}}))
    assert policy_for(load_config(cfg)) == PRESETS["cohort"]
    assert policy_for(load_config()) == PRESETS["cohort"]
