"""Supplementary tables of metadata: the codebook, straight from ``Codebook.to_frame()``, and the disclosure-control
audit (the output request as a table)."""
from __future__ import annotations

from great_tables import GT

from ..data.codebook import Codebook
from .style import style_table

CODEBOOK_COLUMNS = {
    "name": "Variable", "label": "Label", "type": "Type", "timepoint": "Timepoint",
    "levels": "Levels (code = label)", "range": "Range", "missing_codes": "Missing codes",
}


def codebook_frame(codebook: Codebook):
    """The columns of the codebook export the appendix shows, in order."""
    return codebook.to_frame()[list(CODEBOOK_COLUMNS)]


def codebook_table(codebook: Codebook) -> GT:
    """Every variable with its label, type, timepoint, levels, range and missing codes (metadata, not data)."""
    gt = GT(codebook_frame(codebook)).cols_label(**CODEBOOK_COLUMNS)
    return style_table(gt, is_synthetic=False, footnotes=[
        f"Codebook version {codebook.version}; derived variables are computed in the analysis from recorded ones."])


DISCLOSURE_COLUMNS = {"output": "Released output", "suppressed": "Suppressed", "summary": "Summary", "test": "Test",
                      "model_estimate": "Model", "model_link": "Linked", "q_adjusted": "q adjusted",
                      "coarsened": "Quartiles", "rounded": "Rounded"}


#: What each released output holds, for readers (the output request names the files).
OUTPUT_NAMES = {
    "table1_sociodemographic": "Sociodemographic characteristics", "table2_clinical": "Clinical characteristics",
    "table3_needs": "Needs, satisfaction and service use", "table4_transitions": "CSC status at the two timepoints",
    "table4_paired_tests": "Tests of change between the timepoints", "table4_needs_change": "Change in CAN-M needs",
    "table5_subgroups": "Sub-group comparisons", "flow": "Participant flow", "headline": "Counts quoted in the text",
    "recodes": "Categories combined", "models_plan": "Analysis plan of the models",
    "models_episode": "Model of CSC involvement during the episode",
    "models_one_year": "Model of CSC involvement at one year", "models_summary": "Model fit",
    "models_exclusions": "Dyads left out of the models", "models_diagnostics": "Model diagnostics",
    "models_linearity": "Linearity of maternal age", "models_sensitivity": "Sensitivity analyses of the models",
    "models_level_counts": "Events by category in the models",
}


def output_name(output: str) -> str:
    """A released output as readers know it ('table3_needs.csv' -> 'Needs, satisfaction and service use')."""
    key = str(output).rsplit(".", 1)[0]
    return OUTPUT_NAMES.get(key, key.replace("_", " ").capitalize())


def disclosure_table(results, *, is_synthetic: bool) -> GT:
    """The output request as a table: per released output, how many values each disclosure rule
    changed (never the values), from the release's ``disclosure_summary`` table. Its column of the rules'
    wording is left out: the notes define each count's rule once, instead of once per row."""
    t = results["disclosure_summary"]
    frame = t[list(DISCLOSURE_COLUMNS)].astype({k: str for k in DISCLOSURE_COLUMNS})
    frame["output"] = frame["output"].map(output_name)
    gt = GT(frame).cols_label(**DISCLOSURE_COLUMNS)
    return style_table(gt, is_synthetic=is_synthetic, footnotes=[
        "Values changed per output: Suppressed, counts below the threshold and the values that would reveal them "
        "(totals, other cells, the overall column, 'Not known' rows), with one mark and one count for both; Summary, "
        "means, SDs, medians and quartiles from too few dyads; Test, tests, SMDs and q-values of a variable with a "
        "suppressed category count; Model, odds ratios withheld; Linked, unadjusted odds ratios that would give a "
        "suppressed count away; q adjusted, q-values recomputed with withheld p-values counted as one; Quartiles, medians and quartiles "
        "given to whole numbers beside a suppressed number of dyads; Rounded, outputs "
        "whose counts were rounded. The audit released beside the tables gives the same counts; the decision on "
        "each value stays in the secure environment."])
