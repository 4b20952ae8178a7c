"""Tables only the supplementary material carries: missing data by variable and timepoint (from the
released characteristics tables, so it passes the same disclosure control), the synthetic cohort's
parameters with their sources, and the analysis plan's version, hash and change log."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pandas as pd
from great_tables import GT

from ..config import Config
from ..data.codebook import Codebook, load_codebook
from ..data.synth import parameter_documentation
from ..files import read_yaml
from .fmt import MARKER, SUPPRESSED_NOTE, any_hidden, fmt_count, series
from .style import style_table

CHARACTERISTICS = ("table1_sociodemographic", "table2_clinical", "table3_needs")
TIMEPOINTS = {"index": "Index episode", "1m": "One month", "1y": "One year", "design": "Index episode"}


def missing_frame(results: dict[str, pd.DataFrame], codebook: Codebook) -> pd.DataFrame:
    """One row per variable of the characteristics tables: timepoint, dyads it applies to (all, or those
    followed up then), dyads with it not known, and that as a percentage; released values only, so a
    suppressed count stays suppressed and its percentage is not shown."""
    rows = []
    seen = set()
    for key in CHARACTERISTICS:
        t = results[key]
        t = t[t.group.astype(str) == "overall"]
        for var, g in t.groupby("variable", sort=False):
            if var in seen:
                continue
            seen.add(var)
            r = g.iloc[0]
            applies = (MARKER if any_hidden(r.group_n, r.n_not_applicable)
                       else int(float(r.group_n)) - int(float(r.n_not_applicable)))
            missing = MARKER if any_hidden(r.n_missing) else int(float(r.n_missing))
            pct = (MARKER if any_hidden(applies, missing) else
                   f"{100 * missing / applies:.1f}" if applies else "—")
            tp = codebook[var].timepoint if var in codebook else ""
            rows.append({"timepoint": TIMEPOINTS.get(tp, tp), "label": str(r.label), "applies": applies,
                         "missing": missing, "percent": pct})
    out = pd.DataFrame(rows)
    order = {v: i for i, v in enumerate(dict.fromkeys(TIMEPOINTS.values()))}
    return out.sort_values("timepoint", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def missing_table(results: dict[str, pd.DataFrame], codebook: Codebook, *, is_synthetic: bool) -> GT:
    """Missing data by variable and timepoint, grouped by timepoint."""
    f = missing_frame(results, codebook)
    f = f.assign(applies=f.applies.map(fmt_count), missing=f.missing.map(fmt_count))
    gt = GT(f, rowname_col="label", groupname_col="timepoint").cols_label(
        applies="Dyads it applies to", missing="Not known, n", percent="Not known, %")
    return style_table(gt, is_synthetic=is_synthetic, footnotes=[
        "Variables recorded after discharge apply to the dyads followed up at that timepoint; dyads not followed up "
        "are not counted as not known. Percentages are of the dyads the variable applies to.", SUPPRESSED_NOTE])


_ACRONYMS = {"csc": "CSC", "mbu": "MBU", "imd": "IMD", "mha": "MHA", "sd": "SD", "icc": "ICC", "smd": "SMD",
             "gp": "GP", "csq8": "CSQ-8", "canm": "CAN-M", "1y": "at one year", "1m": "at one month",
             "n": "number of"}


def _humane(name: str) -> str:
    text = " ".join(_ACRONYMS.get(w, w) for w in name.split("_"))
    return text[:1].upper() + text[1:]


def codebook_words(codebook: Codebook) -> dict[str, str]:
    """The codebook's wording of a name: each variable's label, and each level code that means one thing
    across the codebook, its level's label."""
    levels: dict[str, set[str]] = {}
    for v in codebook.variables:
        for code, label in v.level_labels.items():
            levels.setdefault(str(code), set()).add(label)
    words = {code: next(iter(labels)) for code, labels in levels.items() if len(labels) == 1}
    words.update({v.name: v.label for v in codebook.variables})
    return words


def _in_sentence(text: str) -> str:
    """``text`` as it reads inside a sentence: lower case first, unless an acronym leads or the words are a
    proper name ("Child Protection Plan")."""
    proper = any(w[:1].isupper() and w[1:].islower() for w in text.split()[1:])
    return text if proper or text[1:2].isupper() else text[:1].lower() + text[1:]


def _term(name: str, words: dict[str, str]) -> str:
    """A name as a reader says it: the codebook's words, else the name with its underscores as spaces and
    acronyms spelled as such."""
    return _in_sentence(words.get(name) or _humane(name))


def _value(value: Any, words: dict[str, str]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if set(value) == {"count", "of"}:
            return f"{value['count']} of {value['of']}"
        return "; ".join(f"{_term(str(k), words)}: {_value(v, words)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v, words) for v in value)
    if isinstance(value, float):
        return str(value)          # 3.0 as written in the parameter file, never read as a count of 3
    return _term(value, words) if isinstance(value, str) and ("_" in value or value in words) else str(value)


PUBLISHED = "Reproduces a published figure"


def synthetic_parameters_frame(config: Config) -> pd.DataFrame:
    """The synthetic cohort's parameters as a reader sees them: what, value, published or assumed, basis."""
    doc = parameter_documentation(config.synthetic_parameters_path)
    basis = doc.basis.astype(str).map(lambda s: re.sub(r"`([^`]*)`", r"\1", s))
    words = codebook_words(load_codebook(config.codebook_path))
    return pd.DataFrame({"status": doc.status.map({"published": PUBLISHED,
                                                   "assumed": "Assumption (no published figure)"}),
                         "parameter": doc.name.map(_humane), "value": doc.value.map(lambda v: _value(v, words)),
                         "basis": basis})


def synthetic_text(config: Config) -> str:
    """What the synthetic cohort is, or that this rendering used the study data."""
    if not config.is_synthetic:
        return ("This rendering used the study data; the synthetic cohort that the analysis code is developed and "
                "tested on is not used.")
    doc = parameter_documentation(config.synthetic_parameters_path)
    return (f"This rendering used a SYNTHETIC cohort of {config.synthetic_n} dyads. It has the study's structure and "
            "plausible values, but no real person is in it and its results are not findings. "
            f"{(doc.status == 'published').sum()} of its parameters reproduce published figures "
            "[@levertaylor2023; @howard2022esmi]; the other "
            f"{(doc.status == 'assumed').sum()} are assumptions, since no odds ratios, per-group percentages or "
            "sub-group counts were published.")


def synthetic_parameters_table(config: Config) -> GT:
    """The parameters of the SYNTHETIC cohort, grouped by whether they reproduce a published figure (one
    'not applicable' row for real data, so that the supplement's table numbers never depend on the data)."""
    if not config.is_synthetic:
        f = pd.DataFrame({"status": ["Not applicable"], "parameter": ["—"], "value": ["—"],
                          "basis": ["This rendering used the study data, not the synthetic cohort."]})
        gt = GT(f, rowname_col="parameter", groupname_col="status").cols_label(value="Value", basis="Basis and source")
        return style_table(gt, is_synthetic=False)
    f = synthetic_parameters_frame(config)
    assumed = f[f["status"] != PUBLISHED]
    f = f[f["status"] == PUBLISHED].drop(columns="status")
    gt = GT(f, rowname_col="parameter").cols_label(value="Value", basis="Published figure and source")
    return style_table(gt, is_synthetic=True, footnotes=[
        f"Synthetic cohort of {config.synthetic_n} dyads. No odds ratios, per-group percentages or sub-group counts "
        f"were published, so its other {len(assumed)} parameters are assumptions, each documented with the reason its "
        f"value is plausible in the project's data documentation: "
        f"{series([_in_sentence(p) for p in assumed['parameter']])}."])


def plan_changes(config: Config) -> str:
    """The analysis plan's version, SHA-256 and change log, as Markdown."""
    path = Path(config.analysis_plan_path)
    raw = read_yaml(path, "analysis plan")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = [f"The analysis plan used for this rendering is version {raw.get('plan_version', '?')}, with SHA-256 "
             f"checksum {digest}. Its changes since it was first fixed:", ""]
    for c in raw.get("changes") or []:
        lines.append(f"- **{c.get('date', '?')}** (version {c.get('version', '?')}): {str(c.get('change', '')).strip()}")
    if not raw.get("changes"):
        lines.append("- *No change log recorded in the plan [authors to add].*")
    return "\n".join(lines)
