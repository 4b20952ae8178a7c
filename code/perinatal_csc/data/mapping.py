"""The mapping file: which export files to read and how their columns and codes become the codebook's.

Format (YAML; documented with comments in ``config/mapping.example.yml``)::

    files:
      - path: index.sav              # relative to the mapping file
        sheet: Sheet1                # Excel only (name or 0-based number); default the first sheet
        encoding: utf-8              # CSV only; default utf-8 (a leading byte-order mark is allowed)
        delimiter: ";"               # CSV only; default "," (also ";", "|", and "\\t" or tab)
        role: main                   # main (default) or followup
        flag: followed_up_1y         # followup files only: the codebook flag their presence records
        columns: {TeamName: codebook_name, ...}   # omit if the headers are codebook names
        codes: {codebook_name: {team_code: codebook_code, ...}}
        missing_codes: {codebook_name: [codes], "*": [codes for every column]}
        ignore: [TeamColumn, ...]    # columns deliberately not loaded

With no mapping file, one file is read whose columns are codebook names and whose values are
codebook codes (the synthetic cohort's format).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Any

import yaml

from .codebook import Codebook
from .validate import Collector, Problem

ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1")
ROLES = ("main", "followup")
DELIMITERS = {",": ",", ";": ";", "|": "|", "\t": "\t", "tab": "\t"}
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "|": "vertical bar", "\t": "tab"}
_FILE_KEYS = {"path", "sheet", "encoding", "delimiter", "role", "flag", "columns", "codes", "missing_codes", "ignore"}


@dataclass(frozen=True)
class FileSpec:
    """One export file and how to read it. ``columns`` None means the identity mapping."""

    path: Path
    sheet: str | int | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    role: str = "main"
    flag: str | None = None
    columns: dict[str, str] | None = None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    missing_codes: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Mapping:
    files: tuple[FileSpec, ...]
    path: Path | None = None


def identity_mapping(path: Path) -> Mapping:
    """One file whose columns and codes are already the codebook's."""
    return Mapping(files=(FileSpec(path=path),), path=None)


def _key(x: Any) -> str:
    """A code as text, with whole numbers written without a decimal point (1.0 -> '1')."""
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x).strip()


def normalised(name: str) -> str:
    """A column name up to case, spacing and punctuation ('Maternal Age' -> 'maternalage')."""
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def did_you_mean(name: str, candidates) -> str | None:
    """The one candidate equal to ``name`` up to case, spacing and punctuation (not ``name`` itself)."""
    key = normalised(name)
    hits = [c for c in candidates if c != name and key and normalised(c) == key]
    return hits[0] if len(hits) == 1 else None


def read_mapping(path: Path, codebook: Codebook, out: Collector) -> Mapping | None:
    """Parse and check a mapping file; every mistake in it is added to ``out`` (returns None if unusable)."""
    shown = path.name
    if not path.exists():
        out.add(Problem("no such file", shown, expected=f"a mapping file at {path.resolve()}: there is no such file"))
        return None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        out.add(Problem("mapping", shown, expected=f"valid UTF-8 YAML ({str(e).splitlines()[0]})"))
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), list) or not raw["files"]:
        out.add(Problem("mapping", shown, expected="a top-level 'files:' list naming at least one export file"))
        return None
    recorded = {v.name for v in codebook.recorded()}
    specs: list[FileSpec] = []
    for i, f in enumerate(raw["files"], start=1):
        where = f"{shown} (files entry {i})"
        if not isinstance(f, dict) or not f.get("path"):
            out.add(Problem("mapping", where, expected="a 'path:' for every file"))
            continue
        unknown_keys = set(f) - _FILE_KEYS
        if unknown_keys:
            out.add(Problem("mapping", where, value=", ".join(sorted(unknown_keys)),
                            expected="only the keys " + ", ".join(sorted(_FILE_KEYS))))
        fpath = Path(str(f["path"])).expanduser()
        fpath = fpath if fpath.is_absolute() else (path.parent / fpath)
        enc = str(f.get("encoding", "utf-8")).lower()
        if enc not in ENCODINGS:
            out.add(Problem("mapping", where, "encoding", value=repr(enc), expected="one of " + ", ".join(ENCODINGS)))
        delim_raw = f.get("delimiter", ",")
        delim = DELIMITERS.get("tab" if str(delim_raw).lower() == "tab" else str(delim_raw))
        if delim is None:
            out.add(Problem("mapping", where, "delimiter", value=repr(delim_raw),
                            expected='one of ",", ";", "|" or "\\t" (tab)'))
            delim = ","
        elif "delimiter" in f and fpath.suffix.lower() != ".csv":
            out.add(Problem("mapping", where, "delimiter", value=repr(delim_raw),
                            expected="a delimiter only for a .csv file"))
        role = str(f.get("role", "main"))
        if role not in ROLES:
            out.add(Problem("mapping", where, "role", value=repr(role), expected="main or followup"))
        flag = f.get("flag")
        if role == "followup" and (flag not in recorded or codebook[flag].type != "binary"):
            out.add(Problem("mapping", where, "flag", value=repr(flag),
                            expected="the codebook's binary follow-up flag this file records (e.g. followed_up_1y)"))
        cols = f.get("columns")
        if cols is not None and not isinstance(cols, dict):
            out.add(Problem("mapping", where, "columns", expected="a map from the file's column names to codebook names"))
            cols = {}
        for team, name in (cols or {}).items():
            if name not in recorded:
                why = "it is derived by the project" if name in codebook else "not a codebook variable"
                hint = did_you_mean(str(name), recorded)
                why += f"; did you mean {hint!r}?" if hint else ""
                out.add(Problem("mapping", where, f"columns: {team}", value=repr(name),
                                expected=f"a recorded codebook variable name ({why})"))
        codes_raw = f.get("codes") or {}
        codes: dict[str, dict[str, str]] = {}
        for name, cmap in codes_raw.items():
            if name not in recorded or not isinstance(cmap, dict):
                out.add(Problem("mapping", where, f"codes: {name}",
                                expected="a codebook variable name with a map of team code -> codebook code"))
                continue
            allowed = {_key(c) for c in codebook[name].codes} | {_key(c) for c in codebook[name].missing_codes}
            for team_code, cb_code in cmap.items():
                if codebook[name].codes and _key(cb_code) not in allowed:
                    out.add(Problem("mapping", where, f"codes: {name}", value=repr(cb_code),
                                    expected="one of the codebook codes " + ", ".join(sorted(allowed))))
            codes[name] = {_key(k): _key(v) for k, v in cmap.items()}
        miss_raw = f.get("missing_codes") or {}
        if isinstance(miss_raw, list):
            miss_raw = {"*": miss_raw}
        missing: dict[str, tuple[Any, ...]] = {}
        for name, lst in miss_raw.items():
            if name != "*" and name not in recorded:
                out.add(Problem("mapping", where, f"missing_codes: {name}", expected="a codebook variable name or '*'"))
                continue
            missing[name] = tuple(lst if isinstance(lst, list) else [lst])
        ignore = f.get("ignore") or []
        specs.append(FileSpec(path=fpath, sheet=f.get("sheet"), encoding=enc, delimiter=delim, role=role, flag=flag,
                              columns=None if cols is None else {str(k): str(v) for k, v in cols.items()},
                              codes=codes,
                              missing_codes=missing, ignore=tuple(str(x) for x in ignore)))
    if specs and not any(s.role == "main" for s in specs):
        out.add(Problem("mapping", shown, expected="at least one file with role: main"))
    return Mapping(files=tuple(specs), path=path)
