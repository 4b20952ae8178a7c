"""Presentation of the models: pure formatting of the tidy tables (rounding, notes, alt text, figure)."""
import numpy as np
import pytest

from perinatal_csc import models
from perinatal_csc.codebook import load_codebook
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.plan import load_plan
from perinatal_csc.present import models as pm
from test_models_sim import simulate_cohort


@pytest.fixture(scope="module")
def res():
    cb = load_codebook()
    return models.fit_models(simulate_cohort(n=278, seed=1), load_plan(PROJECT_ROOT / "config" / "analysis_plan.yml", cb), cb)


def test_rounding_rules():
    assert pm.fmt_or(1.005) in ("1.00", "1.01") and pm.fmt_or(12.3456) == "12.35"
    assert pm.fmt_p(0.0004) == "<0.001" and pm.fmt_p(0.0012) == "0.001" and pm.fmt_p(0.04449) == "0.044"
    assert pm.fmt_ci(0.123, 4.567) == "0.12 to 4.57" and pm.fmt_or(np.nan) == pm.DASH


def test_odds_ratio_frame_shows_every_tidy_estimate_with_stated_rounding(res):
    frame = pm.odds_ratio_frame(res, "one_year")
    t = res["models_one_year"]
    for kind, prefix in (("Unadjusted", "u"), ("Adjusted", "a")):
        est = t[(t.type == kind) & ~t.reference]
        shown = [v for v in frame[f"{prefix}_or"] if v not in ("", "1.00")]
        assert shown == [f"{x:.2f}" for x in est["or"]]
        level_lines = frame[frame[f"{prefix}_or"] != ""]
        assert [v for v in level_lines[f"{prefix}_p"] if v != pm.DASH] == [pm.fmt_p(p) for p in est.p]
    assert any("(reference)" in c for c in frame.characteristic)


def test_tables_carry_synthetic_note_and_method_footnote(res):
    html = pm.odds_ratio_table(res, "episode", is_synthetic=True).as_raw_html()
    method = res["models_summary"].set_index("model").loc["episode", "method"]
    assert "SYNTHETIC" in html and method in html
    assert "SYNTHETIC" not in pm.summary_table(res, is_synthetic=False).as_raw_html()
    for build in (pm.sensitivity_table, ):
        assert "Multiple imputation" in build(res, "one_year", is_synthetic=True).as_raw_html()
    assert "DeLong" in pm.diagnostics_table(res, is_synthetic=True).as_raw_html()
    assert pm.exclusions_table(res, is_synthetic=True).as_raw_html()


def test_forest_plot_is_log_scaled_with_reference_line_and_data_driven_alt_text(res):
    fig = pm.forest_plot(res, is_synthetic=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert any(len(line.get_xdata()) == 2 and np.allclose(line.get_xdata(), [1, 1]) for line in ax.get_lines())
    alt = pm.forest_alt_text(res)
    t = res["models_episode"]
    r = t[(t.type == "Adjusted") & (t.term == "deprived")].iloc[0]
    assert f"{r['or']:.2f} ({r.ci_low:.2f} to {r.ci_high:.2f})" in alt
    import matplotlib.pyplot as plt
    plt.close(fig)
