"""Malformed exports a new analyst meets: each gets a message naming what is wrong, never a traceback.

One small fixture per case in tests/fixtures/load/, with the message it must produce.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from perinatal_csc.cli import main
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.data.load import load_cohort, planned_variables
from perinatal_csc.data.validate import ValidationError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "load"
CB = FIX / "mini_codebook.yml"
PLAN = FIX / "mini_plan.yml"


def load(name: str | None = None, mapping: str | None = None):
    return load_cohort(None if name is None else FIX / name, None if mapping is None else FIX / mapping,
                       codebook_path=CB, analysis_plan_path=PLAN)


def problems(name: str | None = None, mapping: str | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        load(name, mapping)
    return info.value


def test_a_repeated_header_is_named_with_both_positions_and_no_value_is_read():
    err = problems("duplicate_header.csv")
    assert [(p.kind, p.column, p.value) for p in err.problems] == [
        ("duplicate column", "'maternal_age'", "the header of columns 7 and 18")]
    assert "rename or remove all but one" in str(err)


def test_a_repeated_header_in_an_excel_sheet_is_found_although_pandas_would_rename_it(tmp_path):
    frame = pd.read_csv(FIX / "duplicate_header.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "dup.xlsx"
    frame.to_excel(path, index=False)
    import openpyxl
    wb = openpyxl.load_workbook(path)
    assert wb.active.cell(1, 18).value == "maternal_age.1"      # pandas renamed it on writing
    wb.active.cell(1, 18).value = "maternal_age"
    wb.save(path)
    with pytest.raises(ValidationError) as info:
        load_cohort(path, codebook_path=CB, analysis_plan_path=PLAN)
    assert [(p.kind, p.value) for p in info.value.problems] == [("duplicate column", "the header of columns 7 and 18")]


def test_a_column_without_values_is_a_warning_in_the_summary_and_the_completeness_table():
    res = load("empty_column.csv")
    assert res.warnings == ["empty_column.csv, column tag_1: no values (all 5 cells are blank or a missing code), "
                            "so tag_1 is missing for every dyad"]
    c = res.completeness.set_index("variable")
    assert c.loc["tag_1", "no_values"] and not c.loc["tag_2", "no_values"]
    assert c.loc["tag_1", "n_present"] == 0
    text = res.summary_text()
    assert "; 1 warning" in text.splitlines()[0]
    assert "warning: empty_column.csv, column tag_1: no values" in text
    assert [line for line in text.splitlines() if "NO VALUES" in line][0].split()[0] == "tag_1"


def test_a_column_without_values_that_the_analysis_plan_needs_is_a_problem():
    err = problems("empty_covariate.csv")
    assert [(p.kind, p.column) for p in err.problems] == [("empty column", "maternal_age")]
    assert "maternal_age is a covariate of the 'episode' model in mini_plan.yml" in str(err)
    assert "every cell is blank or a missing code" in str(err)


def test_the_plan_traces_derived_covariates_and_outcomes_to_recorded_variables(tmp_path):
    (tmp_path / "plan.yml").write_text(
        "models:\n  m:\n    outcome: csc_any_index\n    covariates: [deprived, maternal_age]\n", encoding="utf-8")
    needs = planned_variables(tmp_path / "plan.yml", load_codebook())
    assert set(needs) == {"csc_status_index", "imd_quintile", "maternal_age"}
    assert needs["imd_quintile"] == "a covariate of the 'm' model (through deprived, derived from it)"
    assert needs["csc_status_index"].startswith("the outcome of the 'm' model")


def test_a_semicolon_separated_file_gets_a_delimiter_hint_and_is_not_re_read_with_a_guess():
    err = problems("semicolon.csv")
    assert [(p.kind, p.row) for p in err.problems] == [("unreadable file", 1)]
    msg = str(err)
    assert "the header looks separated by semicolons (17 fields)" in msg
    assert 'declare delimiter: ";"' in msg


def test_a_declared_delimiter_reads_the_file_like_its_comma_separated_twin():
    pd.testing.assert_frame_equal(load(mapping="semicolon_mapping.yml").data, load("valid.csv").data)


def test_a_tab_separated_file_is_named_as_such(tmp_path):
    text = (FIX / "valid.csv").read_text(encoding="utf-8").replace(",", "\t")
    (tmp_path / "tabs.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_cohort(tmp_path / "tabs.csv", codebook_path=CB, analysis_plan_path=PLAN)
    assert 'separated by tabs (17 fields)' in str(info.value) and 'delimiter: "\\t"' in str(info.value)
    (tmp_path / "m.yml").write_text("files:\n  - {path: tabs.csv, delimiter: tab}\n", encoding="utf-8")
    pd.testing.assert_frame_equal(load_cohort(None, tmp_path / "m.yml", codebook_path=CB).data, load("valid.csv").data)


def test_a_bad_or_misplaced_delimiter_in_the_mapping_is_a_mapping_problem(tmp_path):
    (tmp_path / "m.yml").write_text("files:\n  - {path: x.csv, delimiter: ':'}\n  - {path: y.sav, delimiter: ';'}\n",
                                    encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_cohort(None, tmp_path / "m.yml", codebook_path=CB)
    assert [(p.kind, p.column, p.value) for p in info.value.problems] == [
        ("mapping", "delimiter", "':'"), ("mapping", "delimiter", "';'")]
    assert "a delimiter only for a .csv file" in str(info.value)


def test_headers_equal_to_codebook_names_up_to_case_spacing_or_punctuation_get_did_you_mean():
    err = problems("case_headers.csv")
    msg = str(err)
    for header, name in (("Dyad_ID", "dyad_id"), ("Maternal Age", "maternal_age"), ("IMD-Quintile", "imd_quintile")):
        assert f"column {header!r}; expected a codebook name: did you mean {name!r}?" in msg
    assert "missing column (1)\n  case_headers.csv, column dyad_id; expected a dyad ID column in every file " \
           "(files are joined on it); the file has a column 'Dyad_ID': did you mean it?" in msg


def test_a_required_column_named_with_other_case_is_pointed_at_from_the_missing_column_problem(tmp_path):
    text = (FIX / "valid.csv").read_text(encoding="utf-8").replace("maternal_age", "MaternalAge", 1)
    (tmp_path / "x.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_cohort(tmp_path / "x.csv", codebook_path=CB, analysis_plan_path=PLAN)
    assert {(p.kind, p.column) for p in info.value.problems} == {("unexpected column", "'MaternalAge'"),
                                                                 ("missing column", "maternal_age")}
    assert "x.csv has a column 'MaternalAge': did you mean it?" in str(info.value)


def test_mapping_slips_in_case_get_did_you_mean_on_both_sides(tmp_path):
    err = problems(mapping="team_typo_mapping.yml")
    assert {(p.kind, p.column) for p in err.problems} == {("mapping", "columns: IMD")}
    assert "not a codebook variable; did you mean 'imd_quintile'?" in str(err)
    # with the codebook name corrected, the header slip (AgeYRS for the file's AgeYrs) is found
    fixed = (FIX / "team_typo_mapping.yml").read_text(encoding="utf-8")
    fixed = fixed.replace("Imd_Quintile", "imd_quintile").replace("path: team_index.csv",
                                                                  f"path: {FIX / 'team_index.csv'}")
    (tmp_path / "m.yml").write_text(fixed, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_cohort(None, tmp_path / "m.yml", codebook_path=CB, analysis_plan_path=PLAN)
    found = {(p.kind, p.column): p.expected for p in info.value.problems}
    assert {("missing column", "'AgeYRS'"), ("unexpected column", "'AgeYrs'"),
            ("missing column", "maternal_age")} <= set(found)
    assert "did you mean the file's 'AgeYrs'?" in found[("missing column", "'AgeYRS'")]
    assert "did you mean the mapping's 'AgeYRS'?" in found[("unexpected column", "'AgeYrs'")]


def test_a_missing_file_is_no_such_file_with_its_full_path():
    err = problems("no_such_export.csv")
    assert [p.kind for p in err.problems] == ["no such file"]
    assert f"a file at {FIX / 'no_such_export.csv'}: there is no such file" in str(err)
    assert "unreadable" not in str(err)


def test_a_mapping_naming_a_missing_file_or_a_missing_mapping_is_no_such_file():
    err = problems(mapping="missing_file_mapping.yml")
    assert [(p.kind, p.file) for p in err.problems] == [("no such file", "no_such_export.csv")]
    assert "paths in a mapping file are relative to the mapping file" in str(err)
    err = problems(mapping="no_such_mapping.yml")
    assert [(p.kind, p.file) for p in err.problems] == [("no such file", "no_such_mapping.yml")]


@pytest.mark.parametrize("name, words", [
    ("duplicate_header.csv", "duplicate column (1)"), ("semicolon.csv", "separated by semicolons"),
    ("empty_covariate.csv", "empty column (1)"), ("case_headers.csv", "did you mean 'maternal_age'?"),
    ("no_such_export.csv", "no such file (1)"),
])
def test_the_command_line_prints_each_message_without_a_traceback(name, words, tmp_path, capsys):
    import yaml
    (tmp_path / "project.yml").write_text(yaml.safe_dump({"codebook": str(CB), "analysis_plan": str(PLAN)}),
                                          encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["validate", str(FIX / name), "--config", str(tmp_path / "project.yml")])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the data did not pass validation") and "Traceback" not in err
    assert words in err


def test_the_command_line_prints_warnings_and_exits_0(tmp_path, capsys):
    import yaml
    (tmp_path / "project.yml").write_text(yaml.safe_dump({"codebook": str(CB), "analysis_plan": str(PLAN)}),
                                          encoding="utf-8")
    main(["validate", str(FIX / "empty_column.csv"), "--config", str(tmp_path / "project.yml")])
    out = capsys.readouterr().out
    assert "validated 5 dyads" in out and "1 warning" in out and "warning: empty_column.csv, column tag_1" in out


def test_formatted_empty_cells_after_the_last_excel_header_are_not_blank_headers(tmp_path):
    import openpyxl
    from openpyxl.styles import Font
    path = tmp_path / "styled.xlsx"
    pd.read_csv(FIX / "valid.csv", dtype=str, keep_default_na=False).to_excel(path, index=False)
    wb = openpyxl.load_workbook(path)
    wb.active.cell(1, 25).font = Font(bold=True)        # the sheet now reaches column 25
    wb.save(path)
    assert openpyxl.load_workbook(path).active.max_column == 25
    res = load_cohort(path, codebook_path=CB, analysis_plan_path=PLAN)
    assert res.data["dyad_id"].tolist() == ["D01", "D02", "D03", "D04", "D05"]
