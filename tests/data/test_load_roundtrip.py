"""The synthetic cohort loads; the same cohort as .sav, .dta, .xlsx and as a two-file team export loads identically."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from perinatal_csc.cli import main
from perinatal_csc.data.load import load_cohort
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.data.synth import generate, write_cohort

SPEC = yaml.safe_load((PROJECT_ROOT / "data" / "codebook.yml").read_text(encoding="utf-8"))
RECORDED = [v for v in SPEC["variables"] if "derived" not in v]
BY_NAME = {v["name"]: v for v in RECORDED}


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "cohort.csv"
    write_cohort(generate(278, 1), path)
    return path


@pytest.fixture(scope="module")
def base(cohort_csv):
    return load_cohort(cohort_csv)


@pytest.fixture(scope="module")
def raw(cohort_csv) -> pd.DataFrame:
    return pd.read_csv(cohort_csv, dtype=str, keep_default_na=False)


def _missing(raw_col: pd.Series, name: str) -> pd.Series:
    codes = {str(c) for c in BY_NAME[name].get("missing_codes", [])}
    return (raw_col == "") | raw_col.isin(codes)


def test_synthetic_csv_loads_and_matches_an_independent_reading(base, raw):
    d = base.data
    assert len(d) == len(raw) == 279
    assert list(d.columns) == [v["name"] for v in RECORDED if v["name"] in raw.columns]
    for name in d.columns:
        v, r = BY_NAME[name], raw[name]
        miss = _missing(r, name)
        assert (d[name].isna().to_numpy() == miss.to_numpy()).all(), name
        got, want = d[name][~miss.to_numpy()], r[~miss]
        if v["type"] in ("integer", "binary", "continuous") or (
                v["type"] == "categorical" and isinstance(v["levels"][0]["code"], int)):
            assert np.allclose(got.astype(float).to_numpy(), want.astype(float).to_numpy()), name
        else:
            assert got.astype(str).tolist() == want.tolist(), name
    comp = base.completeness.set_index("variable")
    for name in d.columns:
        assert comp.loc[name, "n_missing"] == _missing(raw[name], name).sum()
        assert comp.loc[name, "n_missing_code"] == raw[name].isin(
            {str(c) for c in BY_NAME[name].get("missing_codes", [])}).sum()


def _numeric_export(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[float, str]]]:
    """The cohort as a statistics package holds it: numbers with value labels, strings for IDs."""
    out, labels = {}, {}
    for name in raw.columns:
        v, r = BY_NAME[name], raw[name]
        if v["type"] == "id":
            out[name] = r
            continue
        levels = v.get("levels") or []
        if levels and not isinstance(levels[0]["code"], int):
            number = {lv["code"]: i for i, lv in enumerate(levels, start=1)}
            labels[name] = {float(i): lv["label"] for lv, i in zip(levels, number.values())}
            out[name] = r.map(lambda x: number.get(x, x)).replace("", np.nan).astype(float)
        else:
            if levels:
                labels[name] = {float(lv["code"]): lv["label"] for lv in levels}
            out[name] = pd.to_numeric(r.replace("", np.nan)).astype(float)
    return pd.DataFrame(out), labels


def test_sav_with_value_labels_equals_the_csv_load(base, raw, tmp_path):
    df, labels = _numeric_export(raw)
    assert set(labels) >= {"service_type", "ethnicity", "imd_quintile", "canm_1y_d01"}
    path = tmp_path / "cohort.sav"
    pyreadstat.write_sav(df, path, variable_value_labels=labels)
    pd.testing.assert_frame_equal(load_cohort(path).data, base.data)


def test_dta_with_value_labels_equals_the_csv_load(base, raw, tmp_path):
    df, labels = _numeric_export(raw)
    path = tmp_path / "cohort.dta"
    pyreadstat.write_dta(df, path, variable_value_labels=labels)
    pd.testing.assert_frame_equal(load_cohort(path).data, base.data)


def test_excel_equals_the_csv_load(base, raw, tmp_path):
    path = tmp_path / "cohort.xlsx"
    df = raw.replace("", np.nan)
    numeric = [n for n in raw.columns if BY_NAME[n]["type"] in ("integer", "binary", "continuous")]
    df[numeric] = df[numeric].apply(pd.to_numeric)
    df.to_excel(path, index=False)
    pd.testing.assert_frame_equal(load_cohort(path).data, base.data)


def test_two_file_team_export_through_a_mapping_equals_the_one_file_load(base, raw, tmp_path):
    one_year = [n for n in raw.columns if BY_NAME[n].get("requires") == "followed_up_1y"]
    index_cols = [n for n in raw.columns if n not in one_year and n != "followed_up_1y"]
    team = {n: f"Q{i:03d}_{n[:6].upper()}" for i, n in enumerate(raw.columns)}
    codes: dict[str, dict[int, str]] = {}
    idx = raw[index_cols].copy()
    for n in index_cols:
        levels = BY_NAME[n].get("levels") or []
        if levels and not isinstance(levels[0]["code"], int):
            codes[n] = {i: lv["code"] for i, lv in enumerate(levels, start=11)}
            back = {c: str(i) for i, c in codes[n].items()}
            idx[n] = idx[n].map(lambda x: back.get(x, x))
    idx = idx.rename(columns=team).assign(Export_batch="B1")
    followed = raw["followed_up_1y"] == "1"
    yr = raw.loc[followed, ["dyad_id", *one_year]].rename(columns=team).iloc[::-1]   # other row order
    idx.to_csv(tmp_path / "index.csv", index=False)
    yr.to_csv(tmp_path / "one_year.csv", index=False)
    mapping = {"files": [
        {"path": "index.csv", "columns": {team[n]: n for n in index_cols}, "codes": codes, "ignore": ["Export_batch"]},
        {"path": "one_year.csv", "role": "followup", "flag": "followed_up_1y",
         "columns": {team[n]: n for n in ["dyad_id", *one_year]}},
    ]}
    (tmp_path / "mapping.yml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    got = load_cohort(None, tmp_path / "mapping.yml")
    pd.testing.assert_frame_equal(got.data, base.data)
    n_absent = int((~followed).sum())
    assert any(f"the {n_absent} absent dyads are recorded as followed_up_1y = 0" in n for n in got.notes)


def test_cli_synth_then_validate_then_four_problems(tmp_path, capsys):
    a = tmp_path / "a.csv"
    main(["synth", "--n", "278", "--seed", "1", "--out", str(a)])
    main(["validate", str(a)])
    out = capsys.readouterr().out
    assert "validated 279 dyads (one row per mother's index episode; 278 analysed, with CSC status during the episode known)" in out
    df = pd.read_csv(a, dtype=str, keep_default_na=False)
    df.loc[10, "dyad_id"] = df.loc[3, "dyad_id"]
    df.loc[20, "service_type"] = "day_hospital"
    df.loc[30, "maternal_age"] = "61"
    df = df.drop(columns="diagnosis")
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    with pytest.raises(SystemExit) as info:
        main(["validate", str(bad)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    dup = df.loc[3, "dyad_id"]
    assert f"bad.csv, column dyad_id, row 12: value '{dup}'" in err          # duplicated ID (row 12 = line 12)
    assert "column service_type, row 22" in err and "'day_hospital'" in err   # code outside the codebook
    assert "column diagnosis; expected a column for diagnosis" in err        # missing required column
    assert "column maternal_age, row 32" in err and "'61'" in err             # out-of-range age
