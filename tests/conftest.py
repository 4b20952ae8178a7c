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
