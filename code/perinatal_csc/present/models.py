"""Tables, forest plot and prose snippets for the logistic models: pure formatting of ``models_*`` tables.

Rounding: odds ratios and confidence limits to 2 decimal places; p-values to 3, below 0.001 as "<0.001" and
above 0.99 as ">0.99";
events per variable to 1; C-statistic to 2.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from great_tables import GT

from .fmt import (DASH, INDENT, MARKER, SUPPRESSED_NOTE, any_hidden, definition_notes, fmt_count, fmt_num, fmt_p, hidden,
                  p_text, series, shown_label)
from .prose import sourced
from .style import PALETTE, setup_matplotlib, style_table

MARKERS = ["o", "s", "^", "D"]


def fmt_or(x: float) -> str:
    """An odds ratio or confidence limit, 2 decimal places; a dash if missing.

    Rounded as Python formats the stored double: half to even on its exact binary value, so 1.005
    (stored just below) gives "1.00" and 1.125 (exact) gives "1.12".
    """
    if hidden(x):
        return MARKER
    return DASH if x is None or pd.isna(x) else f"{x:.2f}"


def fmt_ci(lo: float, hi: float) -> str:
    """A confidence interval as 'lo to hi' (2 decimal places); the marker when suppressed."""
    if any_hidden(lo, hi):
        return MARKER
    return DASH if pd.isna(lo) or pd.isna(hi) else f"{lo:.2f} to {hi:.2f}"


def _level(results: dict[str, pd.DataFrame]) -> str:
    levels = results["models_summary"].confidence_level.unique()
    if len(levels) != 1:
        raise ValueError(f"models use different confidence levels: {levels}")
    return f"{float(levels[0]):.0%}"


def level_text(results: dict[str, pd.DataFrame]) -> str:
    """The plan's confidence level as a percentage ('95%'), from the model summary."""
    return sourced(_level(results), ("models_summary", {}, "confidence_level"))


def _summary(results: dict[str, pd.DataFrame], model: str) -> pd.Series:
    return results["models_summary"].set_index("model").loc[model]


def _display_rows(t: pd.DataFrame) -> list[tuple[str, pd.DataFrame, bool]]:
    """(row text, rows of t, is heading) per display line: a heading for categorical terms, one line per level.

    A heading line carries all its term's rows (for the term's global p-value).
    """
    lines = []
    for term in dict.fromkeys(t.term):
        g = t[t.term == term]
        if g.reference.any():
            lines.append((shown_label(g.iloc[0]), g, True))
            for level in dict.fromkeys(g.level):
                gl = g[g.level == level]
                text = INDENT + gl.level_label.iloc[0] + (" (reference)" if gl.reference.iloc[0] else "")
                lines.append((text, gl, False))
        else:
            lines.append((shown_label(g.iloc[0]), g, False))
    return lines


def _global_p(rows: pd.DataFrame) -> float:
    """A term's global p-value (NaN when it has none), from any of its rows."""
    if "p_global" in rows and len(rows) and hidden(rows.p_global.iloc[0]):
        return MARKER
    return float(rows.p_global.iloc[0]) if "p_global" in rows and len(rows) else np.nan


def _has_global_p(t: pd.DataFrame) -> bool:
    return "p_global" in t and bool(t.p_global.notna().any())


def odds_ratio_frame(results: dict[str, pd.DataFrame], model: str) -> pd.DataFrame:
    """Display frame: characteristic, then OR, CI and p for the unadjusted and the adjusted model."""
    t = results[f"models_{model}"]
    adj, una = t[t.type == "Adjusted"], t[t.type == "Unadjusted"]
    rows = []
    for text, g, heading in _display_rows(adj):
        row = {"characteristic": text}
        for prefix, src in (("u", una), ("a", adj)):
            if heading:
                pg = _global_p(src[src.term == g.term.iloc[0]])
                row |= {f"{prefix}_or": "", f"{prefix}_ci": "", f"{prefix}_p": fmt_p(pg) if hidden(pg) or not np.isnan(pg) else ""}
                continue
            hit = src[(src.term == g.term.iloc[0]) & (src.level == g.level.iloc[0])]
            if len(hit) and hit.reference.iloc[0]:
                row |= {f"{prefix}_or": "1.00", f"{prefix}_ci": DASH, f"{prefix}_p": DASH}
            elif len(hit):
                h = hit.iloc[0]
                row |= {f"{prefix}_or": fmt_or(h["or"]), f"{prefix}_ci": fmt_ci(h.ci_low, h.ci_high),
                        f"{prefix}_p": fmt_p(h.p)}
            else:
                row |= {f"{prefix}_or": "", f"{prefix}_ci": "", f"{prefix}_p": ""}
        rows.append(row)
    return pd.DataFrame(rows)


def model_footnotes(results: dict[str, pd.DataFrame], model: str) -> list[str]:
    """Method, sample and sparse-data notes for one model's table."""
    s = _summary(results, model)
    withheld = [SUPPRESSED_NOTE + " Odds ratios are withheld for a characteristic with too few dyads with or "
                "without the outcome in one of its categories, for a model with too few events, non-events or "
                "residual degrees of freedom, and (unadjusted) where the odds ratio would give away a suppressed "
                "count of a characteristics table about the same dyads."] if (results[f"models_{model}"].astype(object) == MARKER).any().any() else []
    global_note = ([f"p on a characteristic's own line: global p-value, the {s.p_global_method}, on the same dyads; "
                    "p on a category's line compares that category with the reference."]
                   if _has_global_p(results[f"models_{model}"]) else [])
    return [
        f"{s.footnote} Unadjusted: one covariate at a time; adjusted: all covariates together; both on the same "
        f"{fmt_count(s.n)} dyads with every model variable recorded ({fmt_count(s.events)} with the outcome).",
        *global_note,
        f"Events per variable {'*' if hidden(s.epv) else f'{s.epv:.1f}'} (min(events, non-events) / {s.parameters} parameters, intercept not counted). "
        f"{s.epv_note}.",
        f"{s.separation}. {s.convergence}.",
        *definition_notes(results[f"models_{model}"]),
        "OR = odds ratio; CI = confidence interval. ORs and CIs rounded to 2 decimals, p-values to 3 (<0.001 below that, >0.99 above).",
        *withheld,
    ]


def odds_ratio_table(results: dict[str, pd.DataFrame], model: str, *, is_synthetic: bool) -> GT:
    """gtsummary-style table: unadjusted and adjusted odds ratios side by side, with method footnotes."""
    frame = odds_ratio_frame(results, model)
    ci = f"{level_text(results)} CI"
    gt = (GT(frame)
          .tab_spanner("Unadjusted", ["u_or", "u_ci", "u_p"])
          .tab_spanner("Adjusted", ["a_or", "a_ci", "a_p"])
          .cols_label(characteristic="Characteristic", u_or="OR", u_ci=ci, u_p="p",
                      a_or="OR", a_ci=ci, a_p="p")
          .cols_align("right", ["u_or", "u_ci", "u_p", "a_or", "a_ci", "a_p"]))
    return style_table(gt, is_synthetic=is_synthetic, footnotes=model_footnotes(results, model))


NOT_ESTIMABLE = "Not estimable"
NOT_ESTIMABLE_NOTE = ("Not estimable: the primary model is separated for this category (Firth's penalised likelihood "
                      "estimates it); a Wald interval from another analysis's variance would overstate certainty.")


def _not_estimable(h: pd.DataFrame) -> bool:
    return "estimable" in h and h["estimable"].iloc[0] is False or (
        "estimable" in h and str(h["estimable"].iloc[0]) == "False")


def sensitivity_frame(results: dict[str, pd.DataFrame], model: str) -> pd.DataFrame:
    """Display frame: adjusted OR (CI) by analysis (primary first), one line per level of any analysis."""
    s = results["models_sensitivity"]
    s = s[s.model == model]
    analyses = list(dict.fromkeys(s.analysis))
    base = s.drop_duplicates(["term", "level"])
    base = base.assign(_t=base.term.map({t: i for i, t in enumerate(dict.fromkeys(base.term))})).sort_values(
        "_t", kind="stable")
    main = results[f"models_{model}"]
    cat_terms = set(main.loc[main.reference, "term"])
    rows = []
    for term in dict.fromkeys(base.term):
        g = base[base.term == term]
        categorical = term in cat_terms
        if categorical:
            heading = {"characteristic": shown_label(g.iloc[0])}
            for a in analyses:
                pg = _global_p(s[(s.analysis == a) & (s.term == term)])
                heading[a] = p_text(pg) if hidden(pg) or not np.isnan(pg) else ""
            rows.append(heading)
        for _, r in g.iterrows():
            text = INDENT + r.level_label if categorical else shown_label(r)
            row = {"characteristic": text}
            for a in analyses:
                h = s[(s.analysis == a) & (s.term == r.term) & (s.level == r.level)]
                row[a] = (DASH if h.empty else NOT_ESTIMABLE if _not_estimable(h)
                          else f"{fmt_or(h['or'].iloc[0])} ({fmt_ci(h.ci_low.iloc[0], h.ci_high.iloc[0])})")
            rows.append(row)
    return pd.DataFrame(rows)


def sensitivity_table(results: dict[str, pd.DataFrame], model: str, *, is_synthetic: bool) -> GT:
    """Adjusted odds ratios of the primary analysis beside the multiple-imputation, weighted and clustered variants."""
    s = results["models_sensitivity"]
    s = s[s.model == model]
    frame = sensitivity_frame(results, model)
    notes = []
    for a, g in s.groupby("analysis", sort=False):
        fmi = g.fmi.dropna() if "fmi" in g else pd.Series(dtype=float)
        fmi = fmi[fmi.astype(object) != MARKER].astype(float)
        fmi_text = f"; fraction of missing information {fmi.min():.2f} to {fmi.max():.2f}" if len(fmi) else ""
        notes.append(f"{a} (n = {fmt_count(g.n.iloc[0])}): {g.method.iloc[0]}; {g.inference.iloc[0]}{fmi_text}.")
    if _has_global_p(s):
        by = "; ".join(f"{a}: {g.p_global_method.iloc[0]}" for a, g in s.groupby("analysis", sort=False))
        notes.append(f"p on a characteristic's own line: global p-value of all its categories together. {by}.")
    notes += definition_notes(s)
    notes.append(f"Adjusted OR ({level_text(results)} CI), rounded to 2 decimals; p-values to 3 (<0.001 below that, >0.99 above).")
    if (frame.astype(object) == NOT_ESTIMABLE).any().any():
        notes.append(NOT_ESTIMABLE_NOTE)
    if (s.astype(object) == MARKER).any().any():
        notes.append(SUPPRESSED_NOTE)
    gt = GT(frame).cols_label(characteristic="Characteristic").cols_align("right", list(frame.columns[1:]))
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def summary_frame(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Display frame: per model N, events, EPV, separation, convergence, method."""
    s = results["models_summary"]
    return pd.DataFrame({
        "Model": s.title, "Dyads analysed": s.n.map(fmt_count), "With outcome": s.events.map(fmt_count),
        "Events per variable": s.epv.map(lambda x: MARKER if hidden(x) else f"{x:.1f}"), "Separation": s.separation,
        "Convergence": s.convergence, "Method": s.method})


def summary_table(results: dict[str, pd.DataFrame], *, is_synthetic: bool) -> GT:
    """One line per model: sample, events, events per variable, sparse-data checks and the method used."""
    s = results["models_summary"]
    return style_table(GT(summary_frame(results)), is_synthetic=is_synthetic, footnotes=[
        "Events per variable = min(events, non-events) / parameters estimated (intercept not counted).",
        *([SUPPRESSED_NOTE] if (s.astype(object) == MARKER).any().any() else [])])


def exclusions_frame(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Display frame: the participant flow into each model, one line per exclusion reason."""
    e = results["models_exclusions"]
    titles = results["models_summary"].set_index("model").title
    return pd.DataFrame({"Model": e.model.map(titles), "Step": e.reason,
                         "Excluded": e.excluded.map(lambda x: DASH if not hidden(x) and x == 0 else fmt_count(x)),
                         "Remaining": e.remaining.map(fmt_count)})


def exclusions_table(results: dict[str, pd.DataFrame], *, is_synthetic: bool) -> GT:
    """Every excluded dyad by reason, in the order the reasons were applied."""
    notes = ["Reasons applied in order: a dyad is counted once, under its first reason."]
    e = results["models_exclusions"]
    weighted = e.reason[e.analysis != e.analysis.iloc[0]]
    if len(weighted):
        notes.append(f"Steps marked \"{weighted.iloc[0].split(':')[0]}\" leave dyads out of the inverse probability "
                     "of follow-up weighted sensitivity analysis only, after the complete-case steps.")
    if (e[["excluded", "remaining"]].astype(object) == MARKER).any().any():
        notes.append(SUPPRESSED_NOTE)
    return style_table(GT(exclusions_frame(results), groupname_col="Model"), is_synthetic=is_synthetic, footnotes=notes)


def diagnostics_frame(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Display frame: C-statistic (DeLong CI), Hosmer-Lemeshow test and largest GVIF per model."""
    d = results["models_diagnostics"]
    titles = results["models_summary"].set_index("model").title
    return pd.DataFrame({
        "Model": d.model.map(titles),
        f"C-statistic ({level_text(results)} CI)": [MARKER if any_hidden(c, lo, hi) else f"{c:.2f} ({lo:.2f} to {hi:.2f})"
                                                    for c, lo, hi in zip(d.c_statistic, d.c_ci_low, d.c_ci_high)],
        "Hosmer-Lemeshow": [MARKER if any_hidden(x, k, p) else f"χ² = {fmt_num(x, 2)}, df = {k}, {p_text(p)}"
                            for x, k, p in zip(d.hl_chi2, d.hl_df, d.hl_p)],
        "Largest GVIF^(1/(2df))": [MARKER if hidden(g) else f"{g:.2f} ({t})" for g, t in zip(d.max_gvif, d.max_gvif_term)]})


def diagnostics_table(results: dict[str, pd.DataFrame], *, is_synthetic: bool) -> GT:
    """Discrimination, calibration and collinearity of each adjusted model."""
    groups = ", ".join(str(g) for g in results["models_diagnostics"].hl_groups.unique())
    return style_table(GT(diagnostics_frame(results)), is_synthetic=is_synthetic, footnotes=[
        f"C-statistic with DeLong's confidence interval; Hosmer-Lemeshow test over {groups} groups of predicted "
        "risk cut at its quantiles (tied predictions merge groups; df = groups formed - 2); generalised variance "
        "inflation factor GVIF^(1/(2df)), comparable with the square root of a VIF.",
        *([SUPPRESSED_NOTE] if (results["models_diagnostics"].astype(object) == MARKER).any().any() else [])])


def _ordinal(x: str) -> str:
    n = float(x)
    whole = int(n) if n.is_integer() else None
    suffix = "th" if whole is None or 10 <= whole % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{x}{suffix}"




def linearity_frame(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Display frame: per model and continuous covariate, the spline's knots, the likelihood ratio chi-square
    of spline against linear, its df and p, and the method."""
    t = results["models_linearity"]
    return pd.DataFrame({
        "Model": t.title, "Characteristic": t.label, "Knots": t.knots.map(fmt_count),
        "LR χ²": t.lr_chi2.map(lambda x: fmt_num(x, 2)), "df": t.df.map(fmt_count), "p": t.p.map(fmt_p),
        "Method": t.method})


def linearity_text(results: dict[str, pd.DataFrame]) -> str:
    """The Methods sentence on the linearity check, from ``models_linearity`` ('' when no model has a
    continuous covariate)."""
    t = results["models_linearity"]
    if t.empty:
        return ""
    names = series([str(x)[0].lower() + str(x)[1:] for x in dict.fromkeys(t.label)])
    knots = series(list(dict.fromkeys(
        f"{fmt_count(k)} knots at the " + series([_ordinal(q.strip()) for q in str(pc).split(",")]) + " percentiles"
        for k, pc in zip(t.knots, t.knot_percentiles))))
    firth = (" (a penalised likelihood ratio test where the model was fitted by Firth's method)"
             if (t.method.astype(str) == "Firth penalised likelihood").any() else "")
    return (f"The linearity of {names} on the log-odds scale was checked in each adjusted model by refitting the "
            f"model with {names} as a restricted cubic spline ({knots}) and comparing the two fits by a likelihood "
            f"ratio test{firth}.")


def linearity_table(results: dict[str, pd.DataFrame], *, is_synthetic: bool) -> GT:
    """Supplementary table: is each continuous covariate (maternal age) linear on the log-odds scale in the
    adjusted models? Restricted cubic spline against linear, by the (penalised) likelihood ratio test."""
    t = results["models_linearity"]
    knots = "; ".join(dict.fromkeys(
        f"{fmt_count(k)} knots at the " + series([_ordinal(q.strip()) for q in str(pc).split(",")])
        + " percentiles" for k, pc in zip(t.knots, t.knot_percentiles)))
    notes = [("Each adjusted model refitted with the covariate as a restricted cubic spline (Harrell's "
              f"parameterisation; {knots or 'no continuous covariate'} of the covariate among the model's dyads) "
              "and compared with the model as fitted, in which it is linear: likelihood ratio (LR) chi-square test "
              "of the spline's non-linear terms (df = knots − 2), on the same dyads. A small p suggests the "
              "covariate's effect on the log-odds is not linear.")]
    if (t.method.astype(str) == "Firth penalised likelihood").any():
        notes.append("Firth penalised likelihood: penalised likelihood ratio test, the linear model fitted under the "
                     "spline model's penalty (as the models' own tests).")
    notes += [f"{title}: {note}." for title, note in zip(t.title, t.note) if isinstance(note, str) and note]
    notes.append("LR chi-square to 2 decimals; p to 3 (<0.001 below that, >0.99 above).")
    if (t.astype(object) == MARKER).any().any():
        notes.append(SUPPRESSED_NOTE + " A check is withheld with its model.")
    gt = GT(linearity_frame(results)).cols_align("right", ["Knots", "LR χ²", "df", "p"])
    return style_table(gt, is_synthetic=is_synthetic, footnotes=notes)


def _forest_rows(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for model in results["models_summary"].model:
        t = results[f"models_{model}"]
        t = t[(t.type == "Adjusted") & ~t.reference & (t["or"].astype(object) != MARKER)].copy()
        t[["or", "ci_low", "ci_high"]] = t[["or", "ci_low", "ci_high"]].astype(float)
        labels = [shown_label(r) for _, r in t.iterrows()]
        t["text"] = [f"{lab}: {lev}" if lev and lev != "Yes" else lab for lab, lev in zip(labels, t.level_label.fillna(""))]
        rows.append(t)
    return pd.concat(rows, ignore_index=True)


def forest_alt_text(results: dict[str, pd.DataFrame]) -> str:
    """Alt text generated from the plotted numbers."""
    f = _forest_rows(results)
    titles = results["models_summary"].set_index("model").title
    parts = []
    for model, g in f.groupby("model", sort=False):
        items = "; ".join(sourced(f"{t} {fmt_or(o)} ({fmt_ci(lo, hi)})",
                                  *((f"models_{model}", {"model": model, "type": "Adjusted", "term": term, "level": lv}, c)
                                    for c in ("or", "ci_low", "ci_high")))
                          for t, o, lo, hi, term, lv in zip(g.text, g["or"], g.ci_low, g.ci_high, g.term, g.level))
        parts.append(f"{titles[model]}: {items}")
    withheld = any((results[f"models_{m}"]["or"].astype(object) == MARKER).any() for m in results["models_summary"].model)
    return (f"Forest plot of adjusted odds ratios with {level_text(results)} confidence intervals on a log scale, "
            "reference line at 1. "
            + ". ".join(parts) + "."
            + (" Odds ratios withheld under disclosure control are not plotted." if withheld else ""))


#: Term labels wrap at this many characters, so that a long one cannot squeeze the plot to a strip.
FOREST_LABEL_WIDTH = 34
FOREST_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def forest_plot(results: dict[str, pd.DataFrame], *, is_synthetic: bool):
    """Adjusted odds ratios of both models on a log scale; colour and marker shape distinguish the models."""
    setup_matplotlib()
    import matplotlib.pyplot as plt

    f = _forest_rows(results)
    titles = results["models_summary"].set_index("model").title
    labels = list(dict.fromkeys(f.text))
    shown = [textwrap.fill(t, FOREST_LABEL_WIDTH, break_on_hyphens=False) for t in labels]
    models_ = list(dict.fromkeys(f.model))
    lines = sum(max(1, t.count("\n") + 1) for t in shown)
    fig, ax = plt.subplots(figsize=(6.5, 0.24 * lines + 0.1 * len(labels) + 1.6))
    offset = np.linspace(-0.18, 0.18, len(models_)) if len(models_) > 1 else [0.0]
    for i, model in enumerate(models_):
        g = f[f.model == model]
        ypos = np.array([labels.index(t) for t in g.text]) + offset[i]
        ax.errorbar(g["or"], ypos, xerr=[g["or"] - g.ci_low, g.ci_high - g["or"]], fmt=MARKERS[i % len(MARKERS)],
                    color=PALETTE[i], ecolor=PALETTE[i], capsize=2, markersize=5, label=titles[model])
    ax.axvline(1.0, color="0.3", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter
    low, high = float(f.ci_low.min()), float(f.ci_high.max())
    ax.set_xticks([t for t in FOREST_TICKS if low / 1.5 <= t <= high * 1.5] or [1.0])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_yticks(range(len(labels)), shown)
    ax.invert_yaxis()
    ax.set_xlabel(f"Adjusted odds ratio ({level_text(results)} CI, log scale)")
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=1, frameon=False)
    if is_synthetic:
        ax.set_title("SYNTHETIC data: illustrative only", fontsize=8, loc="left")
    fig.tight_layout(rect=(0, (0.25 * len(models_) + 0.1) / fig.get_figheight(), 1, 1))
    return fig


def n_text(results: dict[str, pd.DataFrame], model: str) -> str:
    """'N dyads, E with the outcome' for one model, for prose."""
    s = _summary(results, model)
    return sourced(f"{fmt_count(s.n)} dyads ({fmt_count(s.events)} with CSC involvement)",
                   ("models_summary", {"model": model}, "n"), ("models_summary", {"model": model}, "events"))


def or_text(results: dict[str, pd.DataFrame], model: str, term: str, level: str = "1") -> str:
    """'OR x (95% CI a to b)' of the adjusted model, for prose (the plan's confidence level)."""
    t = results[f"models_{model}"]
    r = t[(t.type == "Adjusted") & (t.term == term) & (t.level == str(level))].iloc[0]
    key = {"model": model, "type": "Adjusted", "term": term, "level": str(level)}
    return sourced(f"OR {fmt_or(r['or'])} ({_level(results)} CI {fmt_ci(r.ci_low, r.ci_high)})",
                   (f"models_{model}", key, "or"), ("models_summary", {}, "confidence_level"),
                   (f"models_{model}", key, "ci_low"), (f"models_{model}", key, "ci_high"))


def summary_value(results: dict[str, pd.DataFrame], model: str, field: str) -> str:
    """One field of the model summary as text (numbers rounded: EPV to 1 decimal)."""
    v = _summary(results, model)[field]
    return sourced(f"{v:.1f}" if isinstance(v, float) and not hidden(v) else str(v),
                   ("models_summary", {"model": model}, field))


def _plan(results: dict[str, pd.DataFrame], section: str) -> pd.DataFrame:
    t = results["models_plan"]
    return t[t.section == section]


def _fixed_text(fixed_on: str, before: str) -> str:
    """When the plan was fixed, and whether before the data were analysed, exactly as the plan records it."""
    on = f" on {fixed_on}" if fixed_on and str(fixed_on) != "nan" else ""
    if before == "yes":
        return f"The plan was fixed{on}, before the study data were analysed."
    if before == "no":
        return (f"The plan was written{on}, after these data had been analysed for an earlier publication "
                "[@levertaylor2023]; its models are therefore not pre-specified in the sense of being fixed "
                "before the data were seen.")
    return "*[Authors to state in the analysis plan when it was fixed, and whether that was before the data were analysed.]*"


def plan_strength(results: dict[str, pd.DataFrame]) -> str:
    """The abstract's strength on the analysis plan: 'fixed ... before the study data were analysed' only
    when the plan records that it was."""
    before = _plan(results, "setting").set_index("name").value.get("fixed_before_data", "not stated")
    when = " before the study data were analysed" if before == "yes" else ""
    return (f"Covariates, their coding and every statistical method were fixed in an analysis plan{when}, and "
            "every number is computed from the data by code that can be re-run.")


def plan_facts(results: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Settings of the analysis plan as text for the Methods, from the ``models_plan`` table."""
    v = _plan(results, "setting").set_index("name")
    value, label = v.value, v.label

    def lower(section: str) -> str:
        return ", ".join(x[0].lower() + x[1:] for x in _plan(results, section).label)

    return {
        "strategy": value["strategy"],
        "strategy_text": ("those of the published model of this cohort [@levertaylor2023] (the factors it found "
                          "associated with involvement), plus maternal age"
                          if value["strategy"] == "prespecified" else
                          f"those of the candidates that bivariable screening kept at p < {value['screen_p']}, "
                          "in one multivariable model"),
        "screen_p": value["screen_p"], "level": f"{float(value['confidence_level']):.0%}",
        "fixed_text": _fixed_text(value.get("fixed_on", ""), value.get("fixed_before_data", "not stated")),
        "epv_threshold": value["epv_warning_below"], "method_rule": value["method_rule"],
        "m": value["mi_m"], "iterations": value["mi_iterations"], "seed": value["mi_seed"],
        "auxiliary": lower("mi_auxiliary"), "weight_predictors": lower("weight_predictor"),
        "weight_outcome": label["weight_outcome"][0].lower() + label["weight_outcome"][1:],
        "cluster": label["cluster"], "hl_groups": value["hl_groups"], "plan_file": value.get("plan_file", ""),
    }


def large_n_text(results: dict[str, pd.DataFrame]) -> str:
    """The Methods sentence on the plan's large-cohort options, only for the options a model used."""
    v = _plan(results, "setting").set_index("name").value
    summary = results["models_summary"]
    parts = []
    wald, collapse = v.get("wald_ci_min_epv", "never"), v.get("collapse_min_dyads", "never")
    shown = {b: f"{float(b):,.0f}" if b != "never" and float(b).is_integer() else b
             for b in (wald, collapse, v.get("mi_one_step_min_dyads", "never"))}
    if summary.ci_method.astype(str).str.startswith("Wald").any():
        parts.append(f"Where a maximum likelihood model had at least {shown[wald]} events per parameter, confidence "
                     "intervals are Wald intervals rather than profile-likelihood intervals (at that size the two "
                     "agree to within 1% on the odds-ratio scale).")
    if collapse != "never" and pd.to_numeric(summary.n, errors="coerce").ge(float(collapse)).any():
        parts.append(f"Models of at least {shown[collapse]} dyads were fitted to the distinct covariate patterns with "
                     "frequency weights, which maximises the same likelihood and so gives identical estimates.")
    one_step = v.get("mi_one_step_min_dyads", "never")
    sens = results.get("models_sensitivity")
    if one_step != "never" and sens is not None and "inference" in sens and \
            sens.inference.astype(str).str.contains("one Newton step", regex=False).any():
        parts.append(f"Because the cohort has at least {shown[one_step]} dyads, the chained equations fitted each "
                     "imputation model to convergence in the first round only; in later rounds each model took one "
                     "Newton step from its estimates of the round before, which in a cohort of this size moves the "
                     "estimates to where further iterations would (they change by a small fraction of their "
                     "standard error between rounds). Each chain had its own random-number stream and started from "
                     "the estimates of a common pilot round, so the chains ran in parallel with results that do not "
                     "depend on the number of processes.")
    return " ".join(parts)


def plan_markdown(results: dict[str, pd.DataFrame]) -> str:
    """The plan's models (with the covariates used, or screened) and covariate coding as a Markdown list."""
    covs = _plan(results, "covariate")
    lines = []
    for _, m in _plan(results, "model").iterrows():
        mine = covs[covs.model == m.model]
        head = "Covariates" if (mine.value == "covariate").all() else "Candidates screened"
        lines.append(f"- **{m.label}** (outcome: {m.value[0].lower() + m.value[1:]}; population: {m.detail}). "
                     f"{head}: " + "; ".join(mine.label) + ".")
    lines.append("")
    for _, c in _plan(results, "coding").iterrows():
        ref = f" Reference level: {c.detail}." if c.detail else ""
        lines.append(f"- *{c.label}*: {c.value}.{ref}")
    return "\n".join(lines)
