"""Fixtures shared by several test modules."""
import pytest

from perinatal_csc.stats import models
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.stats.plan import load_plan
from simulated_cohort import simulate_cohort


@pytest.fixture(scope="session")
def cb():
    """The project's codebook."""
    return load_codebook()


@pytest.fixture(scope="session")
def plan(cb):
    """The project's analysis plan."""
    return load_plan(PROJECT_ROOT / "config" / "analysis_plan.yml", cb)


@pytest.fixture(scope="session")
def simulated(plan, cb):
    """A simulated cohort (independent of synth.py) and the models fitted to it."""
    df = simulate_cohort(n=278, seed=1)
    return df, models.fit_models(df, plan, cb)


@pytest.fixture(scope="session")
def default_render(tmp_path_factory):
    """The project's documents rendered once in the normal layout by the built-in path (HTML, Word, PDF),
    with the release they were made from: shared by the manuscript read-back and the layout tests."""
    from dataclasses import replace

    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort, disclose, run_analysis, write_release, write_results
    from perinatal_csc.render.driver import render

    out = tmp_path_factory.mktemp("default-render")
    cfg = replace(load_config(), output_root=out / "_output")
    full = run_analysis(cohort(cfg), cfg)
    write_results(full, out / "_results")
    released = write_release(disclose(full, cfg), out / "_results" / "release")
    paths = render(cfg, ["html", "docx", "pdf"], use_cache=False, builtin=True)
    return {"config": cfg, "paths": paths, "release": released}
