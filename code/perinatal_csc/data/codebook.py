"""The codebook: the single source of truth for every analysis variable.

Everything that needs a label, a level, a range or a type asks this module, which reads
``data/codebook.yml``. Nothing else in the package hard-codes variable metadata.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
from ..errors import UserError
from ..files import read_yaml
from ..paths import PROJECT_ROOT

DEFAULT_CODEBOOK = PROJECT_ROOT / "data" / "codebook.yml"

TYPES = ("id", "categorical", "binary", "integer", "continuous")
TIMEPOINTS = ("design", "index", "1m", "1y")
SUMMARIES = ("mean_sd", "median_iqr", "n_pct")


@dataclass(frozen=True)
class Level:
    code: Any
    label: str


#: The code a ``combine`` entry uses for values not known (missing among dyads for whom the variable applies).
NOT_KNOWN_CODE = "not_known"


@dataclass(frozen=True)
class Combine:
    """A pre-specified recode: categories (codes, or ``NOT_KNOWN_CODE``) counted as one, under ``label``,
    when one of them would otherwise be a small count. The merged category takes the first code."""

    levels: tuple[Any, ...]
    label: str


@dataclass(frozen=True)
class Variable:
    """One codebook entry."""

    name: str
    label: str
    type: str
    timepoint: str
    source: str
    required: bool = False
    levels: tuple[Level, ...] = ()
    reference: Any = None
    unit: str | None = None
    range: tuple[float, float] | None = None
    summary: str | None = None
    missing_codes: tuple[Any, ...] = ()
    group: str | None = None
    instrument: str | None = None
    items: tuple[str, ...] = ()
    requires: str | None = None
    pattern: str | None = None
    derived: str | None = None
    inputs: tuple[str, ...] = ()
    note: str | None = None
    short_label: str | None = None
    definition: str | None = None
    combine: tuple[Combine, ...] = ()
    sum_of: tuple[str, tuple[Any, ...]] | None = None
    any_of: Any = None

    @property
    def table_label(self) -> str:
        """The label a table row shows: the short label when the codebook gives one (its definition then goes
        in the table's notes), else the label."""
        return self.short_label or self.label

    @property
    def is_derived(self) -> bool:
        return self.derived is not None

    @property
    def codes(self) -> list[Any]:
        return [lv.code for lv in self.levels]

    def level_label(self, code: Any) -> str:
        for lv in self.levels:
            if lv.code == code:
                return lv.label
        raise KeyError(f"{self.name}: no level with code {code!r}")

    @property
    def level_labels(self) -> dict[Any, str]:
        return {lv.code: lv.label for lv in self.levels}

    def dtype(self) -> Any:
        """The pandas dtype a validated column of this variable has."""
        if self.type == "id":
            return "string"
        if self.type == "categorical":
            return pd.CategoricalDtype(self.codes, ordered=False)
        if self.type in ("binary", "integer"):
            return "Int64"
        return "float64"


@dataclass(frozen=True)
class Codebook:
    """All variables, in codebook order, with lookup by name."""

    variables: tuple[Variable, ...]
    version: str
    conventions: dict = field(default_factory=dict, hash=False, compare=False)
    path: Path | None = None

    def __post_init__(self) -> None:
        names = [v.name for v in self.variables]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"codebook {self.path}: duplicate variable names {dupes}")

    def __getitem__(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"variable {name!r} is not in the codebook ({self.path})")

    def __contains__(self, name: object) -> bool:
        return any(v.name == name for v in self.variables)

    def __iter__(self):
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def recorded(self) -> list[Variable]:
        """Variables that come from the data (not derived)."""
        return [v for v in self.variables if not v.is_derived]

    def derived(self) -> list[Variable]:
        return [v for v in self.variables if v.is_derived]

    def select(self, *, group: str | Iterable[str] | None = None, timepoint: str | None = None,
               instrument: str | None = None) -> list[Variable]:
        groups = {group} if isinstance(group, str) else set(group) if group is not None else None
        return [v for v in self.variables
                if (groups is None or v.group in groups)
                and (timepoint is None or v.timepoint == timepoint)
                and (instrument is None or v.instrument == instrument)]

    def label(self, name: str) -> str:
        return self[name].label

    def to_frame(self) -> pd.DataFrame:
        """One row per variable: the codebook appendix and a machine-readable export."""
        rows = []
        for v in self.variables:
            rows.append({
                "name": v.name, "label": v.label, "type": v.type,
                "timepoint": self.conventions.get("timepoint", {}).get(v.timepoint, v.timepoint),
                "source": self.conventions.get("source", {}).get(v.source, v.source),
                "levels": "; ".join(f"{lv.code} = {lv.label}" for lv in v.levels),
                "reference": "" if v.reference is None else str(v.reference),
                "unit": v.unit or "",
                "range": "" if v.range is None else f"{_fmt(v.range[0])}–{_fmt(v.range[1])}",
                "summary": self.conventions.get("summary", {}).get(v.summary, v.summary or ""),
                "missing_codes": ", ".join(str(c) for c in v.missing_codes),
                "required": v.required, "derived": v.derived or "",
            })
        return pd.DataFrame(rows)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _variable(d: dict, path: Path) -> Variable:
    where = f"codebook {path}, variable {d.get('name', '?')!r}"
    missing = [k for k in ("name", "label", "type", "timepoint", "source") if k not in d]
    if missing:
        raise ValueError(f"{where}: missing keys {missing}")
    if d["type"] not in TYPES:
        raise ValueError(f"{where}: type {d['type']!r} is not one of {TYPES}")
    if d["timepoint"] not in TIMEPOINTS:
        raise ValueError(f"{where}: timepoint {d['timepoint']!r} is not one of {TIMEPOINTS}")
    if d.get("summary") is not None and d["summary"] not in SUMMARIES:
        raise ValueError(f"{where}: summary {d['summary']!r} is not one of {SUMMARIES}")
    levels = tuple(Level(lv["code"], str(lv["label"])) for lv in d.get("levels", []))
    if d["type"] in ("categorical", "binary") and not levels:
        raise ValueError(f"{where}: a {d['type']} variable needs levels")
    if levels and d.get("reference") not in [lv.code for lv in levels]:
        raise ValueError(f"{where}: reference {d.get('reference')!r} is not one of its level codes")
    if d["type"] in ("integer", "continuous") and d.get("summary") not in ("mean_sd", "median_iqr"):
        raise ValueError(f"{where}: a numeric variable needs summary mean_sd or median_iqr")
    rng = d.get("range")
    combine = _combine(d.get("combine") or [], levels, where, d["type"])
    return Variable(
        name=d["name"], label=d["label"], type=d["type"], timepoint=d["timepoint"], source=d["source"],
        required=bool(d.get("required", False)), levels=levels, reference=d.get("reference"),
        unit=d.get("unit"), range=None if rng is None else (float(rng[0]), float(rng[1])),
        summary=d.get("summary"), missing_codes=tuple(d.get("missing_codes", ())), group=d.get("group"),
        instrument=d.get("instrument"), items=tuple(d.get("items", ())), requires=d.get("requires"),
        pattern=d.get("pattern"), derived=d.get("derived"), inputs=tuple(d.get("inputs", ())), note=d.get("note"),
        short_label=d.get("short_label"), definition=d.get("definition"), combine=combine,
        sum_of=_sum_of(d.get("sum_of"), where, d["type"]),
        any_of=_any_of(d, where),
    )


def _sum_of(d: Any, where: str, vtype: str) -> tuple[str, tuple[Any, ...]] | None:
    """``sum_of: {variable: V, levels: [...]}``: a binary variable whose 1 is the sum of V's levels (a
    link between tables that disclosure control must know)."""
    if d is None:
        return None
    if vtype != "binary" or not isinstance(d, dict) or set(d) != {"variable", "levels"} or not d["levels"]:
        raise ValueError(f"{where}: sum_of needs a binary variable and a mapping with 'variable' and 'levels'")
    return str(d["variable"]), tuple(d["levels"])


def _any_of(d: dict, where: str) -> Any:
    """``any_of: {level: L}``: a derived binary variable that is 1 where any of its ``inputs`` has level L
    (a row that counts several sparse categories together; disclosure control must know its members)."""
    spec = d.get("any_of")
    if spec is None:
        return None
    if (d["type"] != "binary" or not d.get("derived") or len(d.get("inputs") or ()) < 2
            or not isinstance(spec, dict) or set(spec) != {"level"}):
        raise ValueError(f"{where}: any_of needs a derived binary variable with two or more inputs and "
                         "a mapping with 'level'")
    return spec["level"]


def _combine(entries: list, levels: tuple[Level, ...], where: str, vtype: str) -> tuple[Combine, ...]:
    """The ``combine:`` list: each entry's levels are codes of the variable (or of an earlier entry's
    merged category) or ``not_known``, at least two, with a label; binary variables combine only
    "not known" with one of their levels (they stay binary)."""
    out, codes = [], [lv.code for lv in levels]
    for k, e in enumerate(entries):
        here = f"{where}, combine[{k}]"
        if not isinstance(e, dict) or set(e) != {"levels", "label"}:
            raise ValueError(f"{here}: expected a mapping with 'levels' and 'label'")
        members = tuple(e["levels"])
        real = [c for c in members if c != NOT_KNOWN_CODE]
        unknown = [c for c in real if c not in codes]
        if len(members) < 2 or not real or unknown:
            raise ValueError(f"{here}: levels {list(members)} must be two or more of {codes + [NOT_KNOWN_CODE]}"
                             + (f" (unknown: {unknown})" if unknown else ""))
        if vtype == "binary" and (len(real) != 1 or NOT_KNOWN_CODE not in members):
            raise ValueError(f"{here}: a binary variable combines '{NOT_KNOWN_CODE}' with one level only")
        codes = [c for c in codes if c not in real[1:]]
        out.append(Combine(members, str(e["label"])))
    return tuple(out)


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime: float) -> Codebook:
    raw = read_yaml(path, "codebook")
    if not isinstance(raw.get("variables"), list):
        raise UserError(f"codebook {path}: no 'variables' list")
    variables = tuple(_variable(d, path) for d in raw["variables"])
    cb = Codebook(variables=variables, version=str(raw.get("codebook_version", "")),
                  conventions=raw.get("conventions", {}), path=path)
    for v in cb:
        for ref in (*v.items, *v.inputs, *([v.requires] if v.requires else []), *([v.sum_of[0]] if v.sum_of else [])):
            if ref not in cb:
                raise ValueError(f"codebook {path}, variable {v.name!r}: refers to unknown variable {ref!r}")
    return cb


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and check the codebook (cached until the file changes)."""
    p = Path(path) if path is not None else DEFAULT_CODEBOOK
    p = p.resolve()
    return _load_cached(p, p.stat().st_mtime)
