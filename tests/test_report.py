"""What the chapters see: released tables only; read from the release folder when analyse wrote it
from the same inputs (the analysis runs once per report), computed in the kernel otherwise; and the
manuscript is the same either way."""
from __future__ import annotations

import pytest
import yaml

from perinatal_csc import pipeline, report
from perinatal_csc.cli import main
from perinatal_csc.config import load_config
from perinatal_csc.disclose.policy import PRESETS
from perinatal_csc.disclose.release import release
from perinatal_csc.pipeline import SUMMARY_TABLE, read_release, write_release

from manuscript_outputs import every_output


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    cfg = tmp / "project.yml"
    cfg.write_text(yaml.safe_dump({"data": {"source": "synthetic", "synthetic": {"path": str(tmp / "c.csv")}},
                                   "results_dir": str(tmp / "_results"), "disclosure": "cohort"}))
    main(["analyse", "--config", str(cfg)])
    return cfg


@pytest.fixture
def kernel(project, monkeypatch):
    monkeypatch.setenv("PERINATAL_CSC_CONFIG", str(project))
    report.context.cache_clear()
    yield
    report.context.cache_clear()


def test_the_kernel_reads_the_release_analyse_wrote_without_analysing_again(kernel, project, monkeypatch):
    def no_analysis(*a, **k):
        raise AssertionError("the analysis ran again")
    monkeypatch.setattr(report, "run_analysis", no_analysis)
    ctx = report.context()
    cfg = load_config(project)
    assert ctx.origin == str(cfg.release_dir)
    assert not hasattr(ctx, "cohort")
    assert set(ctx.results) == set(read_release(cfg.release_dir))
    assert "models_level_counts" not in ctx.results          # internal table: never released


def test_changed_inputs_make_the_kernel_compute_the_release_itself(kernel, project, monkeypatch):
    calls = []
    real = report.run_analysis
    monkeypatch.setattr(report, "run_analysis", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(report, "inputs_fingerprint", lambda cfg: "something else")
    ctx = report.context()
    assert calls and ctx.origin == "computed in the rendering kernel"
    assert ctx.policy == PRESETS["cohort"]


@pytest.mark.parametrize("preset", list(PRESETS))
def test_the_manuscript_is_the_same_from_the_release_csvs_as_from_memory(project, preset, tmp_path):
    rel = release(_full(project), PRESETS[preset])
    rel.tables[SUMMARY_TABLE] = rel.summary()
    write_release(rel, tmp_path / "release")
    a, b = every_output(rel.tables, PRESETS[preset]), every_output(read_release(tmp_path / "release"), PRESETS[preset])
    assert len(a) > 25
    assert [k for k in a if a[k] != b[k]] == []


_FULL = {}


def _full(project):
    if project not in _FULL:
        cfg = load_config(project)
        _FULL[project] = pipeline.run_analysis(pipeline.cohort(cfg), cfg)
    return _FULL[project]


@pytest.fixture
def shell():
    """A real IPython shell, as in the kernel Quarto starts, with its formatters and events restored."""
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    formatter = sh.display_formatter.formatters["text/markdown"]
    before = (dict(formatter.type_printers), {k: list(v) for k, v in sh.events.callbacks.items()})
    yield sh
    formatter.type_printers.clear()
    formatter.type_printers.update(before[0])
    for name, callbacks in before[1].items():
        sh.events.callbacks[name][:] = callbacks


def test_under_quarto_text_results_are_markdown_and_an_empty_one_leaves_no_code(shell):
    """Quarto escapes a text result's plain form (``\\*``, ``\\[@ref]``) and keeps the code of an empty
    one; as markdown, the result is read as the built-in path reads it."""
    assert report.prose_as_markdown()
    data, _ = shell.display_formatter.format("p = * (Table 2; [@firth1993])")
    assert data["text/markdown"] == "p = * (Table 2; [@firth1993])"
    assert shell.display_formatter.format("")[0]["text/markdown"] == report.EMPTY_INLINE
    assert "text/markdown" not in shell.display_formatter.format(3)[0]


def test_under_quarto_a_figure_cell_keeps_its_pdf_and_png_named_by_its_code(shell, tmp_path):
    """Quarto sends a cell's code without its ``#|`` options, so the files are named by the code."""
    from perinatal_csc.paths import figure_export_key

    assert report.export_figures_in_kernel(tmp_path)
    code = "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nfig = plt.figure(figsize=(1, 1))\nfig"
    shell.run_cell(code)
    shell.run_cell("x = 1")
    key = figure_export_key(code)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{key}.pdf", f"{key}.png"]
    assert (tmp_path / f"{key}.pdf").read_bytes().startswith(b"%PDF")
    from PIL import Image
    assert Image.open(tmp_path / f"{key}.png").info["dpi"][0] == pytest.approx(600, abs=1)
