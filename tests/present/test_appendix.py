"""The synthetic-cohort appendix documents every generating parameter, and is absent for real data."""
from dataclasses import replace

import yaml

from perinatal_csc.config import load_config
from perinatal_csc.present.appendix import synthetic_cohort_section


def test_every_parameter_is_listed_under_its_status():
    cfg = load_config(source="synthetic")
    raw = yaml.safe_load(cfg.synthetic_parameters_path.read_text())["parameters"]
    text = synthetic_cohort_section(cfg)
    published, assumed = text.split("**Reproduced from publications.**")[1].split("**Assumed.**")
    for name, entry in raw.items():
        block = published if entry["status"] == "published" else assumed
        assert f"`{name}` = " in block, name
    assert "SYNTHETIC" in text
    n_pub = sum(e["status"] == "published" for e in raw.values())
    assert f"{n_pub} parameters reproduce published figures" in text


def test_real_data_gets_no_synthetic_section():
    cfg = replace(load_config(source="synthetic"), source="real")
    assert synthetic_cohort_section(cfg) == ""
