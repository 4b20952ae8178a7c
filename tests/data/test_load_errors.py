"""Each error class has its own small hand-written fixture; the loader must name every problem in it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from perinatal_csc.cli import main
from perinatal_csc.data.load import load_cohort
from perinatal_csc.data.validate import ValidationError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "load"
CB = FIX / "mini_codebook.yml"


def problems(name: str, mapping: str | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        if mapping:
            load_cohort(None, FIX / mapping, codebook_path=CB)
        else:
            load_cohort(FIX / name, codebook_path=CB)
    return info.value


def found(err: ValidationError) -> set[tuple]:
    return {(p.kind, p.column, p.row, p.dyad_id) for p in err.problems}


def test_valid_fixture_loads_with_codebook_dtypes_and_hand_worked_values():
    res = load_cohort(FIX / "valid.csv", codebook_path=CB)
    d = res.data
    assert list(d["dyad_id"]) == ["D01", "D02", "D03", "D04", "D05"]
    assert d["dyad_id"].dtype == "string"
    assert list(d["nation"].cat.categories) == ["england", "wales"]
    assert list(d["imd_quintile"].cat.categories) == [1, 2, 3, 4, 5]
    # -9 and 999 are maternal_age's missing codes; 1.0 and 3.0 are whole numbers; ' 2 ' is trimmed
    assert d["maternal_age"].tolist()[0] == 31.5 and np.isnan(d["maternal_age"].tolist()[1])
    assert d["maternal_age"].dtype == "float64"
    assert d["index_infant_order"].tolist() == [1, 2, 1, 1, 1]
    assert d["n_other_children"].tolist() == [0, 2, 1, 3, 0]
    assert d["tag_1"].iloc[4] == 2
    assert pd.isna(d["imd_quintile"].iloc[2]) and d["imd_quintile"].iloc[3] == 5
    assert d["csc_status_1y"].astype(object).where(d["csc_status_1y"].notna(), None).tolist() == \
        ["none", "looked_after", None, "child_protection_plan", None]
    assert d["infant_in_care_1y"].dtype == "Int64"
    c = res.completeness.set_index("variable")
    assert c.loc["maternal_age", ["n_present", "n_missing", "n_missing_code"]].tolist() == [4, 1, 1]
    assert c.loc["infant_in_care_1y", ["n_present", "n_missing", "n_missing_code"]].tolist() == [2, 3, 1]
    text = res.summary_text()
    assert "5 dyads" in text and "multiple births (twins or more): 1" in text and "infant 2: 1" in text


def test_missing_required_columns_are_all_named():
    err = problems("missing_column.csv")
    assert {(p.kind, p.column) for p in err.problems} == {("missing column", "maternal_age"),
                                                          ("missing column", "infant_in_care_1y")}


def test_unknown_codes_including_a_fraction_in_an_integer_coded_categorical():
    err = problems("unknown_code.csv")
    assert found(err) == {("unknown code", "nation", 2, "D01"), ("unknown code", "multiple_birth", 3, "D02"),
                          ("unknown code", "imd_quintile", 3, "D02"), ("unknown code", "imd_quintile", 4, "D03"),
                          ("unknown code", "csc_status_1y", 4, "D03")}
    assert "'scotland'" in str(err) and "england, wales" in str(err)


def test_out_of_range_values():
    err = problems("out_of_range.csv")
    assert found(err) == {("out of range", "maternal_age", 2, "D01"), ("out of range", "maternal_age", 3, "D02"),
                          ("out of range", "n_other_children", 3, "D02"), ("out of range", "index_infant_order", 4, "D03"),
                          ("out of range", "tag_1", 4, "D03")}


def test_duplicate_and_blank_dyad_ids_name_their_rows():
    err = problems("duplicate_id.csv")
    assert found(err) == {("duplicate ID", "dyad_id", 2, None), ("duplicate ID", "dyad_id", 4, None),
                          ("blank ID", "dyad_id", 5, None)}
    assert "also on row 4" in str(err)


def test_repeat_episode_of_the_same_mother_is_rejected_naming_rows():
    err = problems("repeat_episode.csv")
    assert found(err) == {("repeat episode", "mother_id", 2, "D01"), ("repeat episode", "mother_id", 4, "D03")}


def test_wrong_types_are_problems_but_whole_numbers_written_with_a_decimal_point_are_not():
    err = problems("wrong_type.csv")
    assert found(err) == {("wrong type", "maternal_age", 2, "D01"), ("wrong type", "n_other_children", 2, "D01"),
                          ("wrong type", "n_other_children", 3, "D02"), ("wrong type", "site", 5, "D04"),
                          ("unknown code", "followed_up_1y", 4, "D03")}


@pytest.mark.parametrize("name, words", [
    ("empty.csv", "empty"), ("header_only.csv", "only a header"),
    ("image_renamed.csv", "PNG"), ("document_renamed.csv", "PDF"), ("export.txt", ".txt"),
    ("cp1252.csv", "0xE9"),
])
def test_unreadable_files(name, words):
    err = problems(name)
    assert [p.kind for p in err.problems] == ["unreadable file"]
    assert words in str(err)


def test_declared_encoding_and_ignored_column_load():
    res = load_cohort(None, FIX / "cp1252_mapping.yml", codebook_path=CB)
    assert res.data["dyad_id"].tolist() == ["D01"] and "team_ref" not in res.data


def test_identifier_headers_stop_before_values_are_read():
    err = problems("identifier_headers.csv")
    assert {p.kind for p in err.problems} == {"direct identifier"}     # 'thirty' in maternal_age never read
    assert {p.column for p in err.problems} == {"'NHS_Number'", "'Postcode'", "'DOB'", "'Mother Name'",
                                                "'clinician_notes'"}
    for secret in ("943 476 5919", "SW1A", "1990", "Jane", "Tuesday"):
        assert secret not in str(err)


def test_identifier_values_are_found_and_withheld():
    err = problems("identifier_values.csv")
    assert found(err) == {("direct identifier", "mother_id", 3, None), ("direct identifier", "site", 4, None),
                          ("direct identifier", "maternal_age", 5, None)}
    for secret in ("9434765919", "SW1A", "1990"):
        assert secret not in str(err)


def test_unexpected_column_is_a_problem():
    err = problems("unexpected_column.csv")
    assert [(p.kind, p.column) for p in err.problems] == [("unexpected column", "'extra_info'")]


def test_codebook_consistency_rules():
    err = problems("inconsistent.csv")
    assert {(p.kind, p.column, p.dyad_id) for p in err.problems} == {
        ("inconsistent", "csc_status_1y", "D01"),       # present though not followed up
        ("inconsistent", "index_infant_order", "D01"),  # single birth, index infant 2
        ("inconsistent", "tag_total", "D02"),           # 3 != 1 + 1
        ("inconsistent", "canm_1m_met", "D02"),         # 20 + 7 > 26
        ("inconsistent", "csc_status_1y", "D02"),       # looked after but in mother's care
        ("inconsistent", "infant_in_care_1y", "D03"),   # present though not followed up
    }


def test_two_team_files_through_a_mapping_equal_the_one_file_load():
    one = load_cohort(FIX / "valid.csv", codebook_path=CB)
    two = load_cohort(None, FIX / "team_mapping.yml", codebook_path=CB)
    pd.testing.assert_frame_equal(two.data, one.data)
    assert any("2 absent dyads are recorded as followed_up_1y = 0" in n for n in two.notes)


def test_follow_up_orphans_and_unlisted_columns_are_reported():
    err = problems(None, "team_orphan_mapping.yml")
    assert {(p.kind, p.dyad_id) for p in err.problems} == {("ID not in every file", "D99"),
                                                           ("unexpected column", None)}


def test_cli_reports_every_problem_and_exits_1_without_traceback(capsys):
    with pytest.raises(SystemExit) as info:
        main(["validate", str(FIX / "unknown_code.csv"), "--config", str(_config(capsys))])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert err.count("unknown_code.csv, column") == 5


def _config(_capsys) -> Path:
    """A project configuration that points the codebook at the mini codebook."""
    import tempfile

    import yaml
    d = Path(tempfile.mkdtemp())
    (d / "project.yml").write_text(yaml.safe_dump({"codebook": str(CB)}), encoding="utf-8")
    return d / "project.yml"


def test_the_documented_example_mapping_is_valid():
    from perinatal_csc.data.codebook import load_codebook
    from perinatal_csc.data.mapping import read_mapping
    from perinatal_csc.paths import PROJECT_ROOT
    from perinatal_csc.data.validate import Collector

    out = Collector()
    m = read_mapping(PROJECT_ROOT / "config" / "mapping.example.yml", load_codebook(), out)
    assert out.problems == [] and [f.role for f in m.files] == ["main", "followup"]


def test_mapping_mistakes_are_reported(tmp_path):
    (tmp_path / "m.yml").write_text(
        "files:\n  - path: x.csv\n    columns: {A: not_a_variable, B: deprived}\n    role: later\n"
        "    codes: {nation: {1: scotland}}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_cohort(None, tmp_path / "m.yml")
    assert {p.column for p in info.value.problems} == {"columns: A", "columns: B", "role", "codes: nation",
                                                         None}  # no file left with role: main


def test_a_row_longer_than_the_header_is_not_silently_shifted(tmp_path):
    text = (FIX / "valid.csv").read_text(encoding="utf-8").splitlines()
    text[2] += ",surplus"
    (tmp_path / "long.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_cohort(tmp_path / "long.csv", codebook_path=CB)
    assert [p.kind for p in info.value.problems] == ["unreadable file"]


def test_rows_with_too_few_or_too_many_fields_are_named_never_padded():
    err = problems("ragged_rows.csv")
    assert {(p.kind, p.row, p.expected[-8:]) for p in err.problems} == {("unreadable file", 3, "found 15"),
                                                                        ("unreadable file", 4, "found 18")}
    assert "17 fields per row" in str(err)


def test_rows_are_numbered_by_file_line_even_after_a_multi_line_field():
    err = problems("multiline.csv")
    assert {("wrong type", "site", 3, "D02"), ("out of range", "maternal_age", 5, "D03")} <= found(err)
