"""Every table, figure text, alt text and inline value the chapters make from a set of result
tables, as text: used to show that the manuscript is the same whether the kernel computes the
release or reads it back from the CSVs that ``perinatal-csc analyse`` wrote."""
from __future__ import annotations

import re

from perinatal_csc.present import appendix as pa
from perinatal_csc.present import descriptive as pdx
from perinatal_csc.present import figures as pfig
from perinatal_csc.present import headline as ph
from perinatal_csc.present import models as pm
from perinatal_csc.present import plain as pplain


def _html(gt) -> str:
    return re.sub(r'id="[^"]*"|#[a-z]{10}\b', "", gt.as_raw_html())


def _figure(fig) -> str:
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]
    bars = [f"{p.get_width():.6g}x{p.get_height():.6g}" for ax in fig.axes for p in ax.patches]
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    return " | ".join(texts + bars + labels)


def every_output(r, policy) -> dict[str, str]:
    h = ph.headline(r)
    out = {
        "headline": repr(h),
        "factors": ph.as_list_text(ph.associated_factors(r["models_episode"], "higher")),
        "flow_n": " ".join([pdx.flow_n(r, "cohort"), pdx.flow_n(r, "analysed_episode", "1", percent=True),
                            pdx.flow_n(r, "followed_up_1y", percent=True), pdx.flow_n(r, "analysed_1y")]),
        "prose": " ".join([pdx.how_often(r, "table1_sociodemographic", "deprived"),
                           pdx.group_summary(r, "table1_sociodemographic", "deprived", "1"),
                           pdx.p_value(r, "table1_sociodemographic", "deprived"),
                           pdx.group_summary(r, "table3_needs", "canm_1y_unmet", "1"),
                           pdx.p_value(r, "table3_needs", "csq8_total"),
                           pdx.group_summary(r, "table3_needs", "canm_1y_not_known", "overall"),
                           pdx.needs_pairs_text(r)]),
        "flow_alt": pfig.flow_alt(r), "flow_figure": _figure(pfig.flow_figure(r, is_synthetic=True)),
        "unmet_alt": pfig.unmet_need_alt(r), "unmet_figure": _figure(pfig.unmet_need_figure(r, is_synthetic=True)),
        "status_alt": pfig.csc_status_alt(r), "status_figure": _figure(pfig.csc_status_figure(r, is_synthetic=True)),
        "models_prose": " ".join([pm.n_text(r, "episode"), pm.summary_value(r, "episode", "epv"),
                                  ph.findings_text(r, "episode"), ph.findings_text(r, "one_year"),
                                  str(pm.plan_facts(r)), pm.plan_markdown(r), pm.level_text(r),
                                  pm.linearity_text(r)]),
        "forest_alt": pm.forest_alt_text(r), "forest": _figure(pm.forest_plot(r, is_synthetic=True)),
        "disclosure": _html(pa.disclosure_table(r, is_synthetic=True)),
        "plain_summary": pplain.plain_summary(r, is_synthetic=True, checked=policy.checked),
        "plain_numbers": pplain.summary_numbers(r).to_csv(index=False),
    }
    for name, f in (("flow", pdx.table6_flow), ("table1", pdx.table1), ("table2", pdx.table2), ("table3", pdx.table3),
                    ("table3_compact", pdx.table3_compact), ("linearity", pm.linearity_table),
                    ("table4a", pdx.table4_transitions), ("table4b", pdx.table4_needs), ("table5", pdx.table5),
                    ("summary", pm.summary_table), ("exclusions", pm.exclusions_table), ("diagnostics", pm.diagnostics_table)):
        out[name] = _html(f(r, is_synthetic=True))
    for m in ("episode", "one_year"):
        out[f"or_{m}"] = _html(pm.odds_ratio_table(r, m, is_synthetic=True))
        out[f"sens_{m}"] = _html(pm.sensitivity_table(r, m, is_synthetic=True))
    return out
