"""Property: corrupting a valid export, byte by byte or cell by cell, never ends in a traceback.

Every outcome is either the project's own error (UserError, of which ValidationError is one: a
message and a non-zero exit) or a clean pass; a pass accounts for every record in the file (one
dyad per data record, none dropped, none invented).
"""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perinatal_csc.data.load import load_cohort
from perinatal_csc.errors import UserError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "load"
CB = FIX / "mini_codebook.yml"
PLAN = FIX / "mini_plan.yml"
VALID = (FIX / "valid.csv").read_bytes()
GRID = list(csv.reader(io.StringIO(VALID.decode("utf-8"), newline="")))

SETTINGS = settings(derandomize=True, deadline=None, max_examples=150,
                    suppress_health_check=[HealthCheck.too_slow])

NASTY = ["", " ", "-9", "999", "9", "NaN", "nan", "inf", "-inf", "1e400", "1.5", "3.0", "0x10", "None", "NA",
         "TRUE", '"', '""', ",", ";", "\n", "\r", "\t", "D01", "M01", "england", "ENGLAND", "looked_after",
         "01/02/2020", "SW1A 1AA", "943 476 5919", "\ufeff", "\x00", "é", "maternal_age", "Maternal Age",
         "dyad_id", "postcode", "=1+1", "a" * 200]
cell_value = st.one_of(st.sampled_from(NASTY), st.text(max_size=8))


def outcome(data: bytes) -> None:
    """Load the bytes as a CSV export: a UserError is fine; a pass must hold one dyad per record."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(data)
        try:
            res = load_cohort(path, codebook_path=CB, analysis_plan_path=PLAN)
        except UserError as e:
            assert str(e).strip()
            return
    records = [r for r in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))][1:]
    records = [r for r in records if r]
    assert len(res.data) == len(records)
    ids = res.data["dyad_id"]
    assert ids.notna().all() and ids.is_unique
    assert sorted(ids) == sorted(r[GRID[0].index("dyad_id")].strip() for r in records)


byte_edit = st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, len(VALID) - 1),
                      st.binary(min_size=1, max_size=3))


@SETTINGS
@given(st.lists(byte_edit, min_size=1, max_size=4))
def test_byte_level_corruptions_give_a_message_or_a_clean_pass(edits):
    data = bytearray(VALID)
    for op, pos, blob in edits:
        pos = min(pos, len(data))
        if op == "replace":
            data[pos:pos + len(blob)] = blob
        elif op == "insert":
            data[pos:pos] = blob
        else:
            del data[pos:pos + len(blob)]
    outcome(bytes(data))


cell_edit = st.one_of(
    st.tuples(st.just("cell"), st.integers(0, len(GRID) - 1), st.integers(0, len(GRID[0]) - 1), cell_value),
    st.tuples(st.just("blank column"), st.integers(0, len(GRID[0]) - 1), st.just(0), st.just("")),
    st.tuples(st.just("copy header"), st.integers(0, len(GRID[0]) - 1), st.integers(0, len(GRID[0]) - 1), st.just("")),
    st.tuples(st.just("drop column"), st.integers(0, len(GRID[0]) - 1), st.just(0), st.just("")),
    st.tuples(st.just("drop row"), st.integers(1, len(GRID) - 1), st.just(0), st.just("")),
    st.tuples(st.just("repeat row"), st.integers(1, len(GRID) - 1), st.just(0), st.just("")),
)


@SETTINGS
@given(st.lists(cell_edit, min_size=1, max_size=5), st.sampled_from([",", ";"]))
def test_cell_level_corruptions_give_a_message_or_a_clean_pass(edits, delimiter):
    grid = [list(r) for r in GRID]
    for op, a, b, value in edits:
        width = len(grid[0])
        if op == "cell":
            grid[min(a, len(grid) - 1)][min(b, width - 1)] = value
        elif op == "blank column":
            for r in grid[1:]:
                r[min(a, width - 1)] = ""
        elif op == "copy header":
            grid[0][min(b, width - 1)] = grid[0][min(a, width - 1)]
        elif op == "drop column" and width > 1:
            for r in grid:
                del r[min(a, width - 1)]
        elif op == "drop row" and len(grid) > 2:
            del grid[min(a, len(grid) - 1)]
        elif op == "repeat row":
            grid.append(list(grid[min(a, len(grid) - 1)]))
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(grid)
    outcome(buf.getvalue().encode("utf-8"))


def test_the_uncorrupted_export_passes_with_every_record():
    outcome(VALID)
    res = load_cohort(FIX / "valid.csv", codebook_path=CB, analysis_plan_path=PLAN)
    assert len(res.data) == 5
