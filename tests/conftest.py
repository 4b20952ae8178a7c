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
    import yaml

    from perinatal_csc.config import DEFAULT_CONFIG, load_config
    from perinatal_csc.pipeline import (cohort, disclose, inputs_fingerprint, run_analysis, write_release,
                                        write_results)
    from perinatal_csc.render.driver import render

    out = tmp_path_factory.mktemp("default-render")
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())          # the project's configuration, results and outputs here
    raw.update(results_dir=str(out / "_results"), output_dir=str(out / "_output"))
    (out / "project.yml").write_text(yaml.safe_dump(raw))
    cfg = load_config(out / "project.yml")
    # analysed once, as `perinatal-csc report` does: each document's kernel then reads this release
    full = run_analysis(cohort(cfg), cfg)
    write_results(full, cfg.results_dir)
    released = write_release(disclose(full, cfg), cfg.release_dir, inputs=inputs_fingerprint(cfg))
    paths = render(cfg, ["html", "docx", "pdf"], use_cache=False, builtin=True)
    return {"config": cfg, "paths": paths, "release": released}
