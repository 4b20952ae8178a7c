"""The Methods prose is generated from the codebook and the analysis plan: it reads as a paper (no file,
function or variable names, no seeds), cites what it names, and changes when the plan changes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.present import methods as pmeth
from perinatal_csc.present.strobe import load_checklist
from perinatal_csc.stats.models import fit_models, plan_table
from perinatal_csc.stats.plan import load_plan
from simulated_cohort import simulate_cohort

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "config" / "analysis_plan.yml"
CODE_LIKE = (r"\b[\w-]+\.(?:py|ya?ml|csv|qmd|json)\b", r"\b[a-z0-9]+_[a-z0-9_]+\b", r"\b[A-Za-z_][\w.]*\((?=[\w'\"=)])",
             r"`", r"\bseed\b")


def results_for(plan_path: Path) -> dict:
    cb = load_codebook()
    return {"models_plan": plan_table(load_plan(plan_path, cb), cb)}


def paragraphs(results: dict) -> list[str]:
    return [pmeth.outcomes_text(results, load_codebook()), pmeth.covariates_text(results), pmeth.models_text(results),
            pmeth.missing_text(results), pmeth.sensitivity_text(results)]


def changed_plan(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "plan.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_the_generated_methods_name_no_file_function_variable_or_seed():
    text = " ".join(paragraphs(results_for(PLAN)))
    without_citations = re.sub(r"\[@[^\]]+\]", "", text)
    for pattern in CODE_LIKE:
        assert not re.search(pattern, without_citations), (pattern, re.findall(pattern, without_citations)[:3])
    assert "complete-case" in text and "Rubin's rules" in text


@pytest.mark.parametrize("method,key", [("Firth's penalised likelihood", "firth1993"),
                                        ("chained equations", "vanbuuren2011mice"), ("Rubin's rules", "rubin1987"),
                                        ("Barnard–Rubin", "barnard1999"), ("DeLong's confidence interval", "delong1988"),
                                        ("Hosmer–Lemeshow test", "hosmer1980"),
                                        ("generalised variance inflation factor", "fox1992gvif")])
def test_each_method_the_generated_methods_name_is_cited_right_after_it(method, key):
    text = " ".join(paragraphs(results_for(PLAN)))
    at = text.index(method)
    assert re.search(r"\[[^\]]*@" + key + r"[;\]]", text[at:at + len(method) + 60]), method


def test_changing_a_covariate_in_the_plan_changes_the_methods_the_model_table_and_the_strobe_target(tmp_path):
    def swap(raw):
        covs = raw["models"]["episode"]["covariates"]
        covs.remove("domestic_abuse")
        covs.append("relationship")

    before, after = results_for(PLAN), results_for(changed_plan(tmp_path, swap))
    old, new = pmeth.covariates_text(before), pmeth.covariates_text(after)
    episode = lambda t: re.search(r"The model of CSC involvement during the acute episode.*?\.", t).group(0)
    assert "domestic abuse" in episode(old) and "domestic abuse" not in episode(new)
    assert "relationship status" in episode(new) and "relationship status" not in episode(old)
    strobe = {i.item: i for i in load_checklist().items}["12a"]       # "statistical methods … confounding"
    assert "sec-statistical-methods" in strobe.where
    target = lambda r: pmeth.models_text(r)                            # what that section prints about the models
    assert "domestic abuse" in target(before) and "domestic abuse" not in target(after)
    assert "relationship status" in target(after)
    section = (ROOT / "chapters" / "_methods.qmd").read_text(encoding="utf-8").split("{#sec-statistical-methods}")[1]
    assert "pmeth.models_text(ctx.results)" in section.split("\n### ")[0]
    cb = load_codebook()
    df = simulate_cohort(n=300, seed=3)
    terms = lambda plan: set(fit_models(df, load_plan(plan, cb), cb, sensitivity=False)["models_episode"].term)
    assert terms(PLAN) ^ terms(changed_plan(tmp_path, swap)) == {"domestic_abuse", "relationship"}


def test_the_method_rule_and_confidence_level_come_from_the_plan(tmp_path):
    def firth_90(raw):
        raw["method"]["rule"] = "firth"
        raw["method"]["confidence_level"] = 0.9

    text = pmeth.models_text(results_for(changed_plan(tmp_path, firth_90)))
    assert "Every model was fitted by Firth's penalised likelihood" in text and "90% confidence intervals" in text
    assert "95%" in pmeth.models_text(results_for(PLAN))


def test_disclosure_text_states_the_rules_and_combinations_applied_in_journal_words():
    import pandas as pd

    from perinatal_csc.disclose.policy import PRESETS
    from perinatal_csc.present.methods import disclosure_text

    recodes = pd.DataFrame([
        {"applies_to": "tables", "variable": "ethnicity", "label": "Ethnicity", "combined": "Mixed or multiple; Other",
         "into": "Mixed, multiple or other ethnic group"},
        {"applies_to": "models", "variable": "diagnosis", "label": "Primary diagnosis",
         "combined": "Bipolar disorder; Other psychosis", "into": "Bipolar disorder or other psychosis"}])
    summary = pd.DataFrame([{"output": "table1.csv", "rows": 10, "policy": "tre", "checked": "yes", "suppressed": 3,
                             "summary": 0, "test": 2, "model_estimate": 0, "model_link": 0, "rounded": 0,
                             "q_adjusted": 1, "coarsened": 0, "rules_applied": "x"}])
    text = disclosure_text({"recodes": recodes, "disclosure_summary": summary}, PRESETS["tre"])
    assert "below 10" in text and "10 or more" in text
    assert "“Mixed, multiple or other ethnic group”" in text and "In the models" in text
    assert "q-values were computed with any withheld p-value counted as 1" in text
    assert "standardised mean difference" in text and "whole numbers" not in text      # only rules applied
    assert "residual degrees of freedom" in text                                      # tre's model rule
    for word in ("tre", "cohort", "preset", "policy", "integer program"):
        assert f" {word} " not in f" {text} ", word
    bare = disclosure_text({"recodes": recodes.iloc[:0], "disclosure_summary": summary}, PRESETS["cohort"])
    assert "combined" not in bare and "below 5" in bare
    assert "not checked" in disclosure_text({}, PRESETS["none"])


@pytest.mark.parametrize("before, says", [(True, "before the study data were analysed"),
                                          (False, "not pre-specified"), (None, "Authors to state")])
def test_the_methods_call_the_models_pre_specified_only_when_the_plan_says_so(tmp_path, before, says):
    import yaml

    from perinatal_csc.data.codebook import load_codebook
    from perinatal_csc.present.models import plan_facts
    from perinatal_csc.stats.models import plan_table
    from perinatal_csc.stats.plan import load_plan

    raw = yaml.safe_load((ROOT / "config" / "analysis_plan.yml").read_text())
    raw["fixed_before_data"] = before
    path = tmp_path / "plan.yml"
    path.write_text(yaml.safe_dump(raw))
    cb = load_codebook()
    text = plan_facts({"models_plan": plan_table(load_plan(path, cb), cb)})["fixed_text"]
    assert says in text
    assert ("before the study data were analysed" in text) == (before is True)


def test_a_plan_that_says_neither_yes_nor_no_is_refused(tmp_path):
    import yaml

    from perinatal_csc.data.codebook import load_codebook
    from perinatal_csc.stats.plan import PlanError, load_plan

    raw = yaml.safe_load((ROOT / "config" / "analysis_plan.yml").read_text())
    raw["fixed_before_data"] = "probably"
    path = tmp_path / "plan.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PlanError, match="fixed_before_data"):
        load_plan(path, load_codebook())
