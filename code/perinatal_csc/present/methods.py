"""The Methods as a published paper states them, generated from the codebook and the analysis plan.

Each function returns a paragraph (Markdown, with citation keys) that changes when the plan or the
codebook changes: the outcomes and their categories, the covariates of each model and how each is
coded, the model-fitting rule, the missing-data and sensitivity analyses. No file, function or
variable names, no seeds: those are in the supplement's technical details.
"""
from __future__ import annotations

import re

import pandas as pd

from ..data.codebook import Codebook
from ..disclose.release import MEAN_FITS_ANY_N, RELEASED_KINDS
from .models import plan_facts
from .descriptive import _NUMBERED
from .fmt import series


def _plan(results: dict[str, pd.DataFrame], section: str) -> pd.DataFrame:
    t = results["models_plan"]
    return t[t.section == section]


def _lower(text: str) -> str:
    """Sentence-case label in running text; acronyms and proper names (Child Protection Plan) kept."""
    words = text.split(" ")
    keep = text[:2].isupper() or (len(words) > 1 and words[1][:1].isupper())
    return text if keep else text[0].lower() + text[1:]


def _prose(text: str) -> str:
    """Ranges with an en dash (quintiles 1–2) and no parenthetical notes on labels."""
    return re.sub(r"(\d)-(\d)", "\\1\u2013\\2", text)


def _first_clause(text: str) -> str:
    """The text up to its first semicolon outside parentheses."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            return text[:i].strip()
    return text.strip()


def _names(results: dict[str, pd.DataFrame], section: str) -> str:
    return series([_lower(x) for x in _plan(results, section).label])




def outcomes_text(results: dict[str, pd.DataFrame], codebook: Codebook) -> str:
    """The outcomes: CSC status categories (from the codebook) and how 'any involvement' is derived."""
    status = codebook["csc_status_index"]
    none = status.level_label(status.reference)
    cats = [_lower(lv.label) for lv in status.levels if lv.code != status.reference]
    models = _plan(results, "model")
    outcome = {r.model: _lower(str(r.value)) for r in models.itertuples()}
    parts = [f"Children's social care status was recorded from case notes for the acute episode and, for "
             f"families followed up, one year after discharge, in {len(status.levels)} categories: "
             f"{_lower(none)}, {series(cats)}."]
    if outcome:
        parts.append("The outcomes of the regression models were " + series(
            [f"{o} (any category other than {_lower(none)})" for o in outcome.values()]) + ".")
    if "infant_not_in_care_1y" in codebook and "cpp_1y" in codebook:
        looked_after = [lv.label for lv in status.levels][-1]
        parts.append(
            "Two further outcomes at one year were described: a Child Protection Plan (the CSC status category) and "
            "the infant not living in the mother's care, recorded at follow-up whatever the arrangement. The latter "
            "is wider than the CSC category "
            f"“{_lower(looked_after)}”, which counts only placements made by CSC: an infant may also live with "
            "relatives by a family arrangement.")
    return " ".join(parts)


def covariates_text(results: dict[str, pd.DataFrame]) -> str:
    """Each model's covariates, then how each covariate is coded (with its reference category)."""
    covs = _plan(results, "covariate")
    facts = plan_facts(results)
    sentences = []
    for m in _plan(results, "model").itertuples():
        mine = [_lower(x) for x in covs[covs.model == m.model].label]
        verb = "included" if (covs[covs.model == m.model].value == "covariate").all() else "screened"
        sentences.append(f"The model of {_lower(m.label)} ({m.detail}) {verb} {series(mine)}.")
    coding = []
    for c in _plan(results, "coding").itertuples():
        how = _first_clause(str(c.value))
        named = str(c.label).split(" ")[0].lower() in how.lower()
        coding.append(how if named else f"{_lower(c.label)}: {how}")
    lead = (f"The covariates were {facts['strategy_text']}. {facts['fixed_text']}" if facts["strategy"] == "prespecified"
            else f"Covariates were selected by bivariable screening of the plan's candidates at p < {facts['screen_p']}. "
                 f"{facts['fixed_text']}")
    return _prose(f"{lead} {' '.join(sentences)} Covariates were coded as {'; '.join(coding)}.")


def method_rule_text(rule: str) -> str:
    """How the plan's rule chose between maximum likelihood and Firth's penalised likelihood, as Methods prose."""
    return {
        "auto": ("Each model was first checked for complete or quasi-complete separation, and its maximum "
                 "likelihood fit for convergence. Where either problem occurred in any model of an outcome, every "
                 "model of that outcome was fitted by Firth's penalised likelihood [@firth1993; @heinze2002], with "
                 "profile penalised-likelihood confidence intervals; otherwise by maximum likelihood with "
                 "profile-likelihood confidence intervals and likelihood ratio tests."),
        "firth": "Every model was fitted by Firth's penalised likelihood [@firth1993; @heinze2002].",
        "ml": "Every model was fitted by maximum likelihood with profile-likelihood confidence intervals.",
    }.get(rule, f"Models were fitted by the {rule} method.")


def models_text(results: dict[str, pd.DataFrame]) -> str:
    """How the models were fitted: the method rule, interval level and the events-per-variable check."""
    f = plan_facts(results)
    rule = method_rule_text(f["method_rule"])
    covs = _plan(results, "covariate")
    adjusted = "; ".join(f"for {_lower(m.label)}, {series([_lower(x) for x in covs[covs.model == m.model].label])}"
                         for m in _plan(results, "model").itertuples())
    return (f"Unadjusted and adjusted odds ratios with {f['level']} confidence intervals were estimated by "
            f"logistic regression on the dyads with the outcome and every covariate recorded; each adjusted model "
            f"controlled for confounding by including its covariates together ({adjusted}). {rule} "
            "Covariates with more than two categories were also tested as a whole by a likelihood ratio test. "
            f"Fewer than {f['epv_threshold']} events per estimated parameter was taken to flag possibly unstable "
            "estimates.")


def missing_text(results: dict[str, pd.DataFrame]) -> str:
    """Multiple imputation as a sensitivity analysis for missing covariates."""
    f = plan_facts(results)
    return (f"Missing covariate values were handled by complete-case analysis in the primary models and by "
            f"multiple imputation by chained equations [@vanbuuren2011mice] in a sensitivity analysis, with "
            f"{f['m']} imputed datasets; each variable was imputed from all the others, both outcomes and "
            f"{_names(results, 'mi_auxiliary')}. Estimates were combined by Rubin's rules [@rubin1987] with the "
            "Barnard–Rubin degrees of freedom [@barnard1999]. Outcomes missing because a family was not followed up "
            "were not imputed.")


def sensitivity_text(results: dict[str, pd.DataFrame]) -> str:
    """The other sensitivity analyses and the model checks."""
    f = plan_facts(results)
    cluster = _lower(re.sub(r" [(].*[)]", "", f["cluster"]))
    return (f"To allow for loss to follow-up, the one-year model was refitted with inverse probability of "
            f"follow-up weights from a logistic model of whether a family was {f['weight_outcome']} on "
            f"{_names(results, 'weight_predictor')}. To allow for clustering of families within services, standard "
            f"errors were also estimated with clustering by {cluster}. Discrimination was summarised by the C-statistic with "
            f"DeLong's confidence interval [@delong1988; @sun2014delong], calibration by the Hosmer–Lemeshow test "
            f"[@hosmer1980] over {f['hl_groups']} groups, and collinearity by the generalised variance inflation "
            "factor [@fox1992gvif]. The linearity of maternal age was checked with restricted cubic splines "
            "[@harrell2015rms].")


def _combined(rows: pd.DataFrame) -> str:
    """'ethnicity (“A or B”; “C or D”)': each variable with the combined categories it shows, in order
    (a combination that a later one combined again is named only as the later one)."""
    per: dict[tuple, list[str]] = {}
    for label, g in rows.groupby("label", sort=False):
        later = {part for combined in g["combined"] for part in str(combined).split("; ")}
        shown = tuple(x for x in dict.fromkeys(g["into"]) if x not in later)
        numbered = _NUMBERED.match(str(label))
        per.setdefault((numbered["stem"], numbered["tail"], shown) if numbered else (shown,), []).append(label)
    parts = []
    for key, labels in per.items():
        what = "; ".join(f"“{x}”" for x in key[-1])
        if len(key) == 3:
            names = [_lower(_NUMBERED.match(lab)["name"]) for lab in labels]
            stem = key[0] + ("s" if len(names) > 1 else "")
            parts.append(f"{stem} {series(names)} ({what})")
        else:
            parts.append(f"{series([_lower(x) for x in labels])} ({'each ' if len(labels) > 1 else ''}{what})")
    return series(parts)


#: What each released rule (the output request's columns) did, as a clause of the Methods.
_RULE_SENTENCES = (
    ("summary", lambda p: f"no mean, standard deviation, median or quartile was given from fewer than "
                          f"{p.min_summary_n} dyads"),
    ("coarsened", lambda p: "where the number of dyads with a value was suppressed, medians and quartiles were given "
                            "to whole numbers, and means and standard deviations were not given for fewer than "
                            f"{MEAN_FITS_ANY_N} dyads"),
    ("test", lambda p: "a test, standardised mean difference or q-value was not given where a suppressed category "
                       "count could be worked out from it"),
    ("q_adjusted", lambda p: "q-values were computed with any withheld p-value counted as 1, so that none reveals it"),
    ("model_estimate", lambda p: f"odds ratios of a category with fewer than {p.min_level_events} dyads with or "
                                 "without the outcome were not given"),
    ("model_link", lambda p: "an unadjusted odds ratio that would give away a suppressed count of a table about the "
                             "same dyads was not given"),
)


def disclosure_text(results: dict[str, pd.DataFrame], policy) -> str:
    """The disclosure control actually applied, for a journal reader: the threshold, how further values
    were chosen and checked, the categories combined (declared in advance, from ``recodes``) and the
    rules that changed any released value (from the output request), with no software vocabulary."""
    if not policy.checked:
        return ("No statistical disclosure control was applied: the outputs were not checked and must not leave "
                "the secure environment.")
    t = policy.threshold
    changed = results.get("disclosure_summary")
    used = set() if changed is None else {k for k in RELEASED_KINDS if k in changed
                                          and pd.to_numeric(changed[k], errors="coerce").fillna(0).sum() > 0}
    out = [f"To protect the mothers and infants, no count of dyads below {t} other than zero was published (such "
           "counts are shown as *). Further values were suppressed where a suppressed count could otherwise be worked out from "
           "totals, other cells, other tables or the statistics beside them; they were chosen to lose as little "
           "information as possible (counts of missing values before findings), and each table was checked by "
           "computing every value consistent with what was published, which had to leave each suppressed count at "
           f"least three possible values, one of them {t} or more."]
    if policy.rounding:
        out.append(f"Every other count was rounded to the nearest {policy.rounding}, and percentages were computed "
                   "from the rounded counts.")
    recodes = results.get("recodes")
    if recodes is not None and len(recodes):
        tables = recodes[recodes["applies_to"] == "tables"]
        models = recodes[recodes["applies_to"] == "models"]
        subgroups = recodes[recodes["applies_to"] == "subgroups"]
        if len(tables):
            out.append("Categories were combined as declared in the codebook before analysis wherever one would "
                       f"otherwise have had fewer than {t} dyads (but some) in a group: {_combined(tables)}; tables and tests "
                       "use the combined categories.")
        if len(subgroups):
            out.append("The sub-group comparisons, whose groups are small, combined further categories in the same "
                       f"way, the same for both comparisons: {_combined(subgroups)}.")
        if len(models):
            out.append(f"In the models, categories of {_combined(models)} were combined in the same way, because a "
                       f"category had fewer than {policy.min_level_events} dyads with, or without, a model's outcome "
                       "(every model uses the combined categories).")
    rules = [sentence(policy) for kind, sentence in _RULE_SENTENCES if kind in used]
    if policy.min_residual_df:
        rules.append(f"no model with fewer than {policy.min_residual_df} residual degrees of freedom was reported")
    if rules:
        text = "; ".join(rules)
        out.append(text[0].upper() + text[1:] + ".")
    return " ".join(out)


def domain_groups_text(codebook: Codebook) -> str:
    """The declared groups of CAN-M domains (``any_of`` variables), for the Methods: 'daily living
    (accommodation, food …); health (…)'."""
    parts = []
    for v in codebook:
        if v.any_of is None:
            continue
        matches = [(_NUMBERED.match(codebook[i].label), codebook[i].label) for i in v.inputs]
        names = [_lower(m["name"] if m else label) for m, label in matches]
        title = v.table_label.split(" (")[0]
        parts.append(f"{_lower(title)} ({series(names)})")
    return "; ".join(parts)
