"""Presentation of the models: pure formatting of the tidy tables (rounding, notes, alt text, figure)."""
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from perinatal_csc.stats import models
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.paths import PROJECT_ROOT
from perinatal_csc.stats.plan import load_plan
from perinatal_csc.present import models as pm
import pandas as pd
from simulated_cohort import simulate_cohort


@pytest.fixture(scope="module")
def res():
    cb = load_codebook()
    return models.fit_models(simulate_cohort(n=278, seed=1), load_plan(PROJECT_ROOT / "config" / "analysis_plan.yml", cb), cb)


def test_rounding_rules():
    assert pm.fmt_or(1.005) == "1.00" and pm.fmt_or(1.125) == "1.12" and pm.fmt_or(12.3456) == "12.35"
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


def test_exclusions_frame_shows_every_reason_and_count(res):
    e = res["models_exclusions"]
    frame = pm.exclusions_frame(res)
    assert frame.Step.tolist() == e.reason.tolist()
    assert frame.Remaining.tolist() == [str(x) for x in e.remaining]
    assert frame.Excluded.tolist() == [pm.DASH if x == 0 else str(x) for x in e.excluded]
    html = pm.exclusions_table(res, is_synthetic=True).as_raw_html()
    for reason in e.reason:
        assert reason in html.replace("&#x27;", "'")
    assert "CSC involvement at one year after discharge" in html


def test_diagnostics_frame_shows_an_independently_computed_c_statistic(res):
    import statsmodels.api as sm
    from scipy import stats
    from simulated_cohort import simulate_cohort as sim

    df = sim(n=278, seed=1)
    cc = df[df.followed_up_1y == 1].dropna(subset=["csc_any_1y", "deprived", "childhood_trauma", "relationship",
                                                    "readmitted_1y", "maternal_age"])
    X = sm.add_constant(np.column_stack([
        cc.deprived.astype(float), cc.childhood_trauma.astype(float),
        (cc.relationship.astype(object) == "partner_not_cohabiting").astype(float),
        (cc.relationship.astype(object) == "single").astype(float), cc.readmitted_1y.astype(float),
        cc.maternal_age / 5]))
    y = cc.csc_any_1y.astype(float).to_numpy()
    p = sm.Logit(y, X).fit(disp=0).predict(X)
    c = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum())
    frame = pm.diagnostics_frame(res).set_index("Model")
    cell = frame.loc["CSC involvement at one year after discharge", "C-statistic (95% CI)"]
    assert cell.startswith(f"{c:.2f} (")
    d = res["models_diagnostics"].set_index("model").loc["one_year"]
    assert frame.loc["CSC involvement at one year after discharge", "Hosmer-Lemeshow"] == \
        f"χ² = {d.hl_chi2:.2f}, df = {d.hl_df}, p = {pm.fmt_p(d.hl_p)}"


def test_confidence_level_and_groups_come_from_the_results(res):
    changed = dict(res)
    changed["models_summary"] = res["models_summary"].assign(confidence_level=0.9)
    changed["models_diagnostics"] = res["models_diagnostics"].assign(hl_groups=8)
    html = pm.odds_ratio_table(changed, "episode", is_synthetic=False).as_raw_html()
    assert "90% CI" in html and "95% CI" not in html
    assert "90% CI" in pm.or_text(changed, "episode", "deprived") and "90% confidence" in pm.forest_alt_text(changed)
    assert "over 8 groups" in pm.diagnostics_table(changed, is_synthetic=False).as_raw_html()
    assert "90% CI" in " ".join(pm.diagnostics_frame(changed).columns)


def test_plan_text_comes_from_the_plan_table(res):
    from perinatal_csc.config import load_config
    from perinatal_csc.pipeline import cohort

    cfg = load_config(source="synthetic")
    out = models.results(cohort(cfg), cfg)
    facts = pm.plan_facts(out)
    plan = load_plan(cfg.analysis_plan_path, load_codebook(cfg.codebook_path))
    assert facts["m"] == str(plan.mi["m"]) and facts["seed"] == str(plan.mi["seed"])
    assert facts["level"] == f"{plan.confidence_level:.0%}" and facts["plan_file"] == "config/analysis_plan.yml"
    md = pm.plan_markdown(out)
    assert "Reference level: Depression." in md and "Reference level: Married or cohabiting." in md
    assert md.count("Covariates:") == len(plan.models)


@settings(derandomize=True, deadline=None, max_examples=200)
@given(st.floats(min_value=0.001, max_value=1000, allow_nan=False))
def test_fmt_or_rounds_half_to_even_on_the_stored_value(x):
    assert pm.fmt_or(x) == str(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


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


def test_a_long_term_label_wraps_and_leaves_the_forest_plot_its_width(res):
    import matplotlib.pyplot as plt

    long = "Primary diagnosis of a kind whose name runs to well over eighty characters in all"
    t = res["models_episode"]
    shown = t[(t.type == "Adjusted") & ~t.reference].index[0]
    relabelled = t.assign(label=t.label.where(t.index != shown, long), level_label=t.level_label.where(t.index != shown, ""))
    if "short_label" in t:
        relabelled["short_label"] = t.short_label.where(t.index != shown, "")
    fig = pm.forest_plot({**res, "models_episode": relabelled}, is_synthetic=True)
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [lab.get_text() for lab in ax.get_yticklabels()]
    assert any(lab.replace("\n", " ").startswith(long) for lab in ticks)
    assert max(len(line) for lab in ticks for line in lab.split("\n")) <= pm.FOREST_LABEL_WIDTH
    assert ax.get_position().width >= 0.45, "the labels squeeze the plot"
    shown_ticks = [float(v) for v in ax.get_xticks()]
    assert 1.0 in shown_ticks and len(shown_ticks) >= 3
    plt.close(fig)


def test_the_large_cohort_options_are_stated_only_when_a_model_used_them():
    import pandas as pd

    from perinatal_csc.present.models import large_n_text

    plan = pd.DataFrame({"section": ["setting", "setting"], "model": ["", ""],
                         "name": ["wald_ci_min_epv", "collapse_min_dyads"], "label": ["", ""],
                         "value": ["100", "10000"], "detail": ["", ""]})
    small = {"models_plan": plan, "models_summary": pd.DataFrame({"ci_method": ["profile likelihood"], "n": [278]})}
    assert large_n_text(small) == ""
    large = {"models_plan": plan,
             "models_summary": pd.DataFrame({"ci_method": ["Wald (at least 100 events per parameter)"], "n": [20000]})}
    text = large_n_text(large)
    assert "at least 100 events per parameter" in text and "at least 10,000 dyads" in text
    assert "Newton" not in text
    with_mi = pd.concat([plan, pd.DataFrame({"section": ["setting"], "model": [""], "name": ["mi_one_step_min_dyads"],
                                             "label": [""], "value": ["10000"], "detail": [""]})])
    full = {"models_plan": with_mi, "models_summary": small["models_summary"],
            "models_sensitivity": pd.DataFrame({"analysis": ["Multiple imputation"],
                                                "inference": ["m = 20 imputations; in this cohort of at least 10000 "
                                                              "dyads, each imputation model after the first round "
                                                              "takes one Newton step from the previous round's "
                                                              "estimates"]})}
    text = large_n_text(full)
    assert text.startswith("Because the cohort has at least 10,000 dyads") and "one Newton step" in text
    full["models_sensitivity"] = pd.DataFrame({"analysis": ["Multiple imputation"], "inference": ["m = 20"]})
    assert large_n_text(full) == ""


def linearity_fixture():
    import pandas as pd
    return {"models_linearity": pd.DataFrame([
        {"model": "episode", "title": "During the episode", "term": "maternal_age", "label": "Maternal age", "knots": 4,
         "knot_percentiles": "5, 35, 65, 95", "method": "Firth penalised likelihood", "lr_chi2": 0.004, "df": 2,
         "p": 0.9996, "note": ""},
        {"model": "one_year", "title": "At one year", "term": "maternal_age", "label": "Maternal age", "knots": 4,
         "knot_percentiles": "5, 35, 65, 95", "method": "Maximum likelihood", "lr_chi2": 14.567, "df": 2,
         "p": 0.00069, "note": "the spline model is separated or does not converge by maximum likelihood"}])}


def test_linearity_table_shows_the_check_with_the_stated_rounding():
    r = linearity_fixture()
    frame = pm.linearity_frame(r)
    assert frame.values.tolist() == [
        ["During the episode", "Maternal age", "4", "0.00", "2", ">0.99", "Firth penalised likelihood"],
        ["At one year", "Maternal age", "4", "14.57", "2", "<0.001", "Maximum likelihood"]]
    html = pm.linearity_table(r, is_synthetic=True).as_raw_html()
    assert "4 knots at the 5th, 35th, 65th and 95th percentiles" in html
    assert "penalised likelihood ratio test" in html and "At one year: the spline model is separated" in html
    assert "SYNTHETIC" in html and pm.SUPPRESSED_NOTE[:20] not in html


def test_linearity_table_shows_a_withheld_check_as_the_marker():
    r = linearity_fixture()
    t = r["models_linearity"].astype(object)
    t.loc[1, ["lr_chi2", "df", "p"]] = pm.MARKER
    frame = pm.linearity_frame({"models_linearity": t})
    assert frame.loc[1, ["LR χ²", "df", "p"]].tolist() == [pm.MARKER] * 3
    assert pm.SUPPRESSED_NOTE[:20] in pm.linearity_table({"models_linearity": t}, is_synthetic=False).as_raw_html()


def test_linearity_sentence_for_the_methods_follows_the_results():
    r = linearity_fixture()
    text = pm.linearity_text(r)
    assert text == ("The linearity of maternal age on the log-odds scale was checked in each adjusted model by refitting "
                    "the model with maternal age as a restricted cubic spline (4 knots at the 5th, 35th, 65th and 95th "
                    "percentiles) and comparing the two fits by a likelihood ratio test (a penalised likelihood ratio "
                    "test where the model was fitted by Firth's method).")
    ml = r["models_linearity"].assign(method="Maximum likelihood", knots=3, knot_percentiles="10, 50, 90")
    assert pm.linearity_text({"models_linearity": ml}).endswith(
        "(3 knots at the 10th, 50th and 90th percentiles) and comparing the two fits by a likelihood ratio test.")
    assert pm.linearity_text({"models_linearity": ml.iloc[:0]}) == ""


@pytest.mark.parametrize("before, claims", [("yes", True), ("no", False), ("not stated", False)])
def test_the_abstract_claims_a_plan_fixed_before_the_data_only_when_the_plan_says_so(before, claims):
    from perinatal_csc.present.models import plan_strength

    plan = pd.DataFrame({"section": ["setting"], "name": ["fixed_before_data"], "value": [before],
                         "label": ["Plan fixed before the study data were analysed"]})
    text = plan_strength({"models_plan": plan})
    assert ("before the study data were analysed" in text) is claims
    assert text.startswith("Covariates") and text.endswith("re-run.")
