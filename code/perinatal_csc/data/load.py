"""Load an export (CSV, Parquet, Excel, SPSS .sav, Stata .dta; one file or several through a mapping).

``load_cohort`` returns a ``LoadResult`` whose ``data`` is one validated row per dyad in codebook
dtypes, or raises ``ValidationError`` listing every problem in every file. Headers are checked for
direct identifiers before any value is read; nothing is dropped, coerced or imputed silently.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import Codebook, load_codebook
from ..errors import UserError
from ..files import read_yaml
from ..paths import PROJECT_ROOT
from .mapping import DELIMITER_NAMES, FileSpec, _key, did_you_mean, identity_mapping, read_mapping
from .validate import (Collector, Located, Problem, check_consistency, check_identifier_headers,
                       check_identifier_values, check_ids, parse_column)

# For recorded inputs of derived variables: which cells held an export missing code (e.g. CAN-M 9 =
# not known), as a boolean DataFrame aligned on the cohort's index, in ``LoadResult.data.attrs``.
EXPORT_MISSING_ATTR = "export_missing_codes"

SUPPORTED = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet", ".xlsx": "Excel", ".xlsm": "Excel", ".sav": "SPSS", ".zsav": "SPSS", ".dta": "Stata"}
_MAGIC = {b"\x89PNG": "a PNG image", b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive (perhaps Excel)",
          b"\xd0\xcf\x11\xe0": "an old Office document (.xls/.doc)", b"$FL2": "an SPSS .sav file",
          b"$FL3": "an SPSS .zsav file", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
          b"<stata_dta>": "a Stata .dta file", b"{\\rtf": "an RTF document", b"PAR1": "a Parquet file"}


def analysed(cohort: pd.DataFrame) -> np.ndarray:
    """The dyads of the parent cohort that every analysis counts: those whose CSC status during the
    acute episode is known (the participant flow's first exclusion)."""
    return cohort["csc_status_index"].notna().to_numpy()


@dataclass
class LoadResult:
    """The validated cohort (one row per dyad), the files read and per-variable completeness."""

    data: pd.DataFrame
    files: list[Path]
    completeness: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary_text(self) -> str:
        """A short plain-text summary: rows, warnings, index infants of multiple births, notes, completeness."""
        df = self.data
        n_analysed = int(analysed(df).sum()) if "csc_status_index" in df else len(df)
        lines = [f"validated {len(df)} dyads (one row per mother's index episode"
                 + (f"; {n_analysed} analysed, with CSC status during the episode known" if n_analysed < len(df) else "")
                 + ") from " + ", ".join(p.name for p in self.files)
                 + f"; {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"]
        lines.extend(f"warning: {w}" for w in self.warnings)
        if "multiple_birth" in df:
            multi = df["multiple_birth"] == 1
            n_multi = int(multi.fillna(False).sum())
            text = f"multiple births (twins or more): {n_multi}"
            if n_multi and "index_infant_order" in df:
                order = df.loc[multi.fillna(False), "index_infant_order"].value_counts(dropna=False).sort_index()
                text += ("; the index infant of each is recorded by index_infant_order ("
                         + ", ".join(f"infant {k}: {v}" for k, v in order.items()) + ")")
            lines.append(text)
        lines.extend(self.notes)
        lines.append("completeness (present, missing [of which export missing codes], % complete):")
        c = self.completeness
        width = max(len(n) for n in c["variable"]) if len(c) else 10
        for r in c.itertuples(index=False):
            lines.append(f"  {r.variable:<{width}}  {r.n_present:>7}  {r.n_missing:>7} [{r.n_missing_code}]"
                         f"  {r.pct_complete:6.1f}%" + ("  NO VALUES: the column is empty" if r.no_values else ""))
        return "\n".join(lines)


@dataclass
class _Part:
    spec: FileSpec
    frame: pd.DataFrame
    rows: pd.Series
    columns: dict[str, str]
    missing_code: dict[str, pd.Series]
    no_values: list[str] = field(default_factory=list)
    suggested: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- reading files

def _sniff(path: Path, n: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _what(head: bytes) -> str | None:
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return what
    return None


def _num_text(s: pd.Series) -> pd.Series:
    """Numbers as text: whole numbers without a decimal point, others as Python writes them."""
    out = pd.Series(np.nan, index=s.index, dtype=object)
    x = s.astype("float64")
    ok = x.notna() & np.isfinite(x.fillna(0.0))
    whole = ok & (x == np.floor(x.fillna(0.0))) & (x.abs() < 1e15)
    out[whole] = x[whole].astype("int64").astype(str)
    other = x.notna() & ~whole
    out[other] = x[other].astype(str)
    return out


def by_unique(s: pd.Series, func) -> pd.Series:
    """Apply a Series-to-Series function to the distinct values only, then spread back (fast on exports)."""
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    res = func(pd.Series(uniq, dtype=object)).to_numpy()
    if len(res) == 0:
        return pd.Series(np.nan, index=s.index, dtype=object if res.dtype == object else "float64")
    out = res.take(np.where(codes < 0, 0, codes))
    if (codes < 0).any():
        out = out.astype(object) if out.dtype.kind in "biu" else out
        out[codes < 0] = np.nan
    return pd.Series(out, index=s.index)


def _strip(u: pd.Series) -> pd.Series:
    t = u.astype(str).str.strip()
    return t.mask(t == "", np.nan)


def _text_of_values(u: pd.Series) -> pd.Series:
    """Distinct cell values (object) as trimmed text: NaN for blank, numbers without '.0'."""
    is_float = u.map(lambda v: isinstance(v, (float, np.floating)))
    t = _strip(u)
    if is_float.any():
        t[is_float] = _num_text(u[is_float].astype("float64"))
    return t.astype(object)


def _categorical_text(codes: np.ndarray, texts: pd.Series, index: pd.Index) -> pd.Series:
    """Text per row from each distinct value's text (``codes`` index ``texts``, -1 = missing), held as a
    categorical: one copy of each text, however many rows share it (distinct values with the same text,
    e.g. 1 and 1.0, or ' a' and 'a', become one category)."""
    cat_codes, cats = pd.factorize(pd.Series(texts, dtype=object).to_numpy(dtype=object), use_na_sentinel=True)
    lookup = np.append(cat_codes, -1).astype(np.int64)
    full = lookup[np.where(codes < 0, len(cat_codes), codes)]
    return pd.Series(pd.Categorical.from_codes(full, categories=pd.Index(cats, dtype=object)), index=index)


def _as_text(col: pd.Series) -> pd.Series:
    """Any column as trimmed text (NaN for blank; numbers written without '.0'), as a categorical of its
    distinct texts: every check then runs on the distinct values, and memory stays that of the codes."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = pd.Series(col.cat.categories.to_numpy(dtype=object), dtype=object)
        texts = _strip(cats).astype(object) if pd.api.types.infer_dtype(cats, skipna=True) == "string" \
            else _text_of_values(cats)
        return _categorical_text(col.cat.codes.to_numpy(), texts, col.index)
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    u = pd.Series(np.asarray(uniq, dtype=object) if not isinstance(uniq, np.ndarray) else uniq, dtype=object)
    if pd.api.types.is_bool_dtype(col):
        texts = _num_text(u.astype("float64"))
    elif pd.api.types.is_numeric_dtype(col):
        texts = _num_text(pd.Series(np.asarray(uniq), dtype=col.dtype) if len(uniq) else u.astype("float64"))
    elif pd.api.types.is_datetime64_any_dtype(col):
        texts = _strip(u)
    else:
        texts = _text_of_values(u)
    return _categorical_text(codes, texts, col.index)


def _translate(s: pd.Series, trans: dict[str, str]) -> pd.Series:
    """Team codes replaced by codebook codes (``trans``), other texts kept, on the categories only."""
    cats = pd.Series(s.cat.categories.to_numpy(dtype=object), dtype=object)
    return _categorical_text(s.cat.codes.to_numpy(), cats.map(lambda c: trans.get(c, c)), s.index)


def _header_problem(spec: FileSpec, headers: list[str], out: Collector) -> bool:
    """Identifier and duplicate headers; True if the file's values must not be read."""
    before = len(out.problems)
    check_identifier_headers(headers, spec.name, out)
    blocked = any(p.kind == "direct identifier" for p in out.problems[before:])
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(headers, start=1):
        if h.strip():
            positions.setdefault(h, []).append(i)
    for h, pos in positions.items():
        if len(pos) > 1:
            where = ", ".join(map(str, pos[:-1])) + f" and {pos[-1]}"
            out.add(Problem("duplicate column", spec.name, repr(h), value=f"the header of columns {where}",
                            expected="each column header once: rename or remove all but one "
                            "(no values are read while a header repeats)"))
            blocked = True
    if any(h.strip() == "" for h in headers):
        out.add(Problem("unexpected column", spec.name, "(blank header)",
                        expected="a header for every column"))
    return blocked


def _read_csv(spec: FileSpec, out: Collector) -> tuple[pd.DataFrame, pd.Series, dict] | None:
    path = spec.path
    head = _sniff(path)
    what = _what(head)
    if what or b"\x00" in head:
        out.add(Problem("unreadable file", spec.name, expected="a CSV text file, but this is "
                        + (what or "a binary file (it contains NUL bytes; UTF-16 text is not supported)")))
        return None
    if not head.strip():
        out.add(Problem("unreadable file", spec.name, expected="a CSV file with a header row and data rows, "
                        "but the file is empty"))
        return None
    enc = "utf-8-sig" if spec.encoding == "utf-8" else spec.encoding
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        first_text = first.decode(enc)
    except UnicodeDecodeError as e:
        _encoding_problem(spec, e, 0, out)
        return None
    header = [h.strip() for h in _first_record(first_text, spec.delimiter)]
    wrong_delimiter = _delimiter_hint(spec, first_text, header, out)
    if _header_problem(spec, header, out) or wrong_delimiter:
        return None
    raw = path.read_bytes()
    fast = _csv_columnar(spec, raw, header)
    if fast is not None:
        return fast
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as e:
        _encoding_problem(spec, e, raw.count(b"\n", 0, e.start), out)
        return None
    return _csv_records(spec, text, header, out)


def _csv_columnar(spec: FileSpec, raw: bytes, header: list[str]) -> tuple[pd.DataFrame, pd.Series, dict] | None:
    """The CSV read by Arrow's parser into one categorical column per header (each distinct text stored
    once), or None when anything could make it differ from the record-by-record reader: an encoding other
    than UTF-8 or text that is not valid UTF-8, a row with too many or too few fields, a quoted line break
    or a blank line (then record i would not be file line i + 1). The caller then reads the file record
    by record and reports the problem exactly as before."""
    if spec.encoding.replace("_", "-").lower() not in ("utf-8", "utf8", "utf-8-sig") or len(set(header)) < len(header):
        return None
    import pyarrow as pa
    from pyarrow import csv as pacsv

    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if data.count(b"\r") != data.count(b"\r\n"):
        return None                    # a bare carriage return: the record-by-record reader decides what it is
    if not data.isascii():
        try:
            data.decode("utf-8")       # the record-by-record reader reports where the text stops being UTF-8
        except UnicodeDecodeError:
            return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    names = [f"c{i}" for i in range(len(header))]
    irregular: list[object] = []
    text = pa.dictionary(pa.int32(), pa.string())
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=spec.delimiter, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=True, ignore_empty_lines=True,
                                             invalid_row_handler=lambda row: irregular.append(row) or "skip"),
            convert_options=pacsv.ConvertOptions(column_types={c: text for c in names}, null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    if irregular or table.num_rows != lines - 1:
        return None
    table = table.unify_dictionaries()           # every block of a column shares one dictionary
    columns = {}
    for name, h in zip(names, header):
        chunks = table.column(name).chunks
        if not chunks:
            columns[h] = pd.Categorical([], categories=pd.Index([], dtype=object))
            continue
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks]).astype(np.int32, copy=False)
        columns[h] = pd.Categorical.from_codes(codes, categories=pd.Index(
            chunks[0].dictionary.to_numpy(zero_copy_only=False), dtype=object))
    frame = pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))
    return frame, pd.Series(np.arange(table.num_rows, dtype=np.int64) + 2, index=frame.index), {}


def _first_record(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def _delimiter_hint(spec: FileSpec, line: str, header: list[str], out: Collector) -> bool:
    """True (and a problem naming the likely delimiter) when the header is one field that another
    delimiter would split into several: the file is never re-read with a guessed delimiter."""
    if len(header) != 1:
        return False
    fields = {d: len(_first_record(line, d)) for d in DELIMITER_NAMES if d != spec.delimiter}
    best = max(fields, key=lambda d: fields[d])
    if fields[best] < 2:
        return False
    shown = "\\t" if best == "\t" else best
    out.add(Problem("unreadable file", spec.name, row=1, value=_short(header[0]),
                    expected=f"columns separated by {DELIMITER_NAMES[spec.delimiter]}s, but the header looks "
                    f"separated by {DELIMITER_NAMES[best]}s ({fields[best]} fields): re-export the file "
                    f'with commas, or declare delimiter: "{shown}" for it in a mapping file (docs/DATA.md)'))
    return True


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def _csv_records(spec: FileSpec, text: str, header: list[str], out: Collector
                 ) -> tuple[pd.DataFrame, pd.Series, dict] | None:
    """The CSV's records as text, with the file line each starts on; a record with more or fewer
    fields than the header is a problem (a short row is never padded with blanks)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
    try:
        next(reader)
        records, starts, last = [], [], reader.line_num
        for rec in reader:
            if rec:
                records.append(rec)
                starts.append(last + 1)
            last = reader.line_num
    except csv.Error as e:
        out.add(Problem("unreadable file", spec.name, row=reader.line_num,
                        expected=f"well-formed CSV ({e})"))
        return None
    lines = pd.Series(starts, dtype="int64")
    n_fields = pd.Series([len(r) for r in records], dtype="int64")
    ragged = n_fields != len(header)
    if ragged.any():
        out.add_rows("unreadable file", spec.name, "", ragged, lines, None, None,
                     f"{len(header)} fields per row as in the header (rows are never padded or cut), found "
                     + n_fields.astype(str))
        return None
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return frame, lines.set_axis(frame.index), {}


def _encoding_problem(spec: FileSpec, e: UnicodeDecodeError, line0: int, out: Collector) -> None:
    bad = e.object[e.start:e.start + 1].hex().upper()
    out.add(Problem("unreadable file", spec.name, row=line0 + 1, value=f"byte 0x{bad}",
                    expected=f"text encoded as {spec.encoding}; re-export as UTF-8, or declare the file's "
                    "encoding (e.g. encoding: cp1252) in the mapping file"))


def _is_format(spec: FileSpec, magic: bytes, wanted: str, kind: str, out: Collector) -> bool:
    """Whether the file starts with its format's signature; if not, a problem saying what the file is instead."""
    head = _sniff(spec.path, 16)
    if head.startswith(magic):
        return True
    out.add(Problem("unreadable file", spec.name, expected=f"{wanted}, but this is "
                    + (_what(head) or ("an empty file" if not head else f"not {kind}"))))
    return False


def _read_excel(spec: FileSpec, out: Collector):
    if not _is_format(spec, b"PK\x03\x04", "an Excel .xlsx workbook", "a workbook", out):
        return None
    sheet = 0 if spec.sheet is None else spec.sheet
    try:
        hdr = pd.read_excel(spec.path, sheet_name=sheet, nrows=0, engine="openpyxl")
    except (ValueError, KeyError) as e:
        out.add(Problem("unreadable file", spec.name, "sheet", value=repr(sheet),
                        expected=f"a sheet that exists in the workbook ({e})"))
        return None
    except Exception as e:  # noqa: BLE001 - any reader failure is reported as a problem with this file
        out.add(Problem("unreadable file", spec.name, expected=f"a readable Excel workbook ({type(e).__name__}: {e})"))
        return None
    cells = _excel_header_cells(spec.path, sheet)
    if _header_problem(spec, cells, out):
        return None
    header = cells if len(cells) == hdr.shape[1] else [str(h).strip() for h in hdr.columns]
    df = pd.read_excel(spec.path, sheet_name=sheet, dtype=object, engine="openpyxl")
    df.columns = header
    return df, pd.Series(np.arange(len(df)) + 2, index=df.index), {}


def _excel_header_cells(path: Path, sheet: str | int) -> list[str]:
    """The first row of the sheet as written (pandas would rename a repeated header 'x' to 'x.1')."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[sheet] if isinstance(sheet, int) else wb[sheet]
        row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    finally:
        wb.close()
    cells = ["" if v is None else str(v).strip() for v in row]
    while cells and not cells[-1]:          # formatted but empty cells after the last header
        cells.pop()
    return cells


def _arrow_column(col) -> pd.Series:
    """One Arrow column for the loader: text (plain or dictionary-encoded) as a categorical of its distinct
    values, anything else as pandas converts it (numbers, booleans, dates)."""
    import pyarrow as pa

    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        col = col.dictionary_encode()
    if pa.types.is_dictionary(col.type) and (pa.types.is_string(col.type.value_type)
                                             or pa.types.is_large_string(col.type.value_type)):
        chunks = pa.table({"c": col}).unify_dictionaries().column(0).chunks    # one dictionary for every chunk
        if not chunks:
            return pd.Series(pd.Categorical([], categories=pd.Index([], dtype=object)))
        codes = np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in chunks])
        return pd.Series(pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(
            chunks[0].dictionary.to_numpy(zero_copy_only=False), dtype=object)))
    return pd.Series(col.to_pandas())


def _read_parquet(spec: FileSpec, out: Collector):
    if not _is_format(spec, b"PAR1", "a Parquet file", "a Parquet file", out):
        return None
    import pyarrow.parquet as pq

    try:
        names = [str(n) for n in pq.read_schema(spec.path).names]
    except Exception as e:  # noqa: BLE001 - any reader failure is reported as a problem with this file
        out.add(Problem("unreadable file", spec.name, expected=f"a readable Parquet file ({type(e).__name__}: {e})"))
        return None
    if _header_problem(spec, names, out):
        return None
    try:
        table = pq.read_table(spec.path)
    except Exception as e:  # noqa: BLE001
        out.add(Problem("unreadable file", spec.name, expected=f"a readable Parquet file ({type(e).__name__}: {e})"))
        return None
    frame = pd.DataFrame({name: _arrow_column(table.column(i)) for i, name in enumerate(names)})
    frame.index = pd.RangeIndex(table.num_rows)
    return frame, pd.Series(np.arange(table.num_rows, dtype=np.int64) + 1, index=frame.index), {}


def _read_stat(spec: FileSpec, out: Collector, kind: str):
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "SPSS" else pyreadstat.read_dta
    try:
        _, meta = reader(str(spec.path), metadataonly=True)
    except Exception as e:  # noqa: BLE001 - pyreadstat raises its own types; all mean "cannot read this file"
        what = _what(_sniff(spec.path, 16))
        out.add(Problem("unreadable file", spec.name,
                        expected=f"a {kind} file" + (f", but this is {what}" if what else f" ({type(e).__name__}: {e})")))
        return None
    header = [str(h) for h in meta.column_names]
    if _header_problem(spec, header, out):
        return None
    kwargs = {"user_missing": False} if kind == "SPSS" else {}
    df, meta = reader(str(spec.path), apply_value_formats=False, **kwargs)
    labels = {col: {_key(k): str(v) for k, v in lab.items()} for col, lab in meta.variable_value_labels.items()}
    return df, pd.Series(np.arange(len(df)) + 1, index=df.index), labels


def _read(spec: FileSpec, out: Collector):
    """The file's raw frame, its row numbers and its value labels; problems go to ``out``."""
    path = spec.path
    if not path.exists():
        out.add(Problem("no such file", spec.name, expected=f"a file at {path.resolve()}: there is no such file "
                        "(check the spelling; paths in a mapping file are relative to the mapping file)"))
        return None
    if path.is_dir():
        out.add(Problem("unreadable file", spec.name, expected="a data file, not a folder"))
        return None
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        out.add(Problem("unreadable file", spec.name, value=repr(path.suffix or "(no extension)"),
                        expected="a CSV (.csv), Parquet (.parquet), Excel (.xlsx), SPSS (.sav) or Stata (.dta) file"))
        return None
    if kind == "CSV":
        return _read_csv(spec, out)
    if kind == "Excel":
        return _read_excel(spec, out)
    if kind == "Parquet":
        return _read_parquet(spec, out)
    return _read_stat(spec, out, kind)


# ----------------------------------------------------------------------------- mapping one file

def _translation(var, spec: FileSpec, labels: dict[str, str] | None) -> dict[str, str]:
    """Team code -> codebook code: explicit codes from the mapping, else value labels naming a level."""
    if var.name in spec.codes:
        return spec.codes[var.name]
    if not labels or var.type not in ("categorical", "binary"):
        return {}
    by_text = {}
    for lv in var.levels:
        by_text[str(lv.label).strip().casefold()] = _key(lv.code)
        by_text[_key(lv.code).casefold()] = _key(lv.code)
    return {k: by_text[lab.strip().casefold()] for k, lab in labels.items() if lab.strip().casefold() in by_text}


def _load_file(spec: FileSpec, codebook: Codebook, out: Collector) -> _Part | None:
    read = _read(spec, out)
    if read is None:
        return None
    raw, rows, labels = read
    if raw.shape[1] == 0 or len(raw) == 0:
        out.add(Problem("unreadable file", spec.name, expected="at least one data row below the header "
                        "(the file has only a header)" if raw.shape[1] else "a header row and data rows"))
        return None
    recorded = {v.name for v in codebook.recorded()}
    if spec.columns is None:
        colmap = {c: c for c in raw.columns if c in recorded}
    else:
        colmap = {c: spec.columns[c] for c in raw.columns if c in spec.columns}
        for team in spec.columns:
            if team not in raw.columns:
                hint = did_you_mean(team, [str(c) for c in raw.columns])
                out.add(Problem("missing column", spec.name, repr(team),
                                expected=f"the column the mapping names for {spec.columns[team]}"
                                + (f"; did you mean the file's {hint!r}?" if hint else "")))
    ignored = set(spec.ignore)
    suggested: dict[str, str] = {}
    for c in raw.columns:
        if c in colmap or c in ignored or not str(c).strip():
            continue
        if spec.columns is not None:
            why = "only columns the mapping maps to a codebook variable or lists under ignore"
            hint = did_you_mean(str(c), spec.columns)
            why += f"; did you mean the mapping's {hint!r}?" if hint else ""
        elif c in codebook:
            why = "no derived variables in the export: the project derives them"
        else:
            why = "only codebook variable names as headers (use a mapping file to map or ignore others)"
            hint = did_you_mean(str(c), recorded)
            if hint:
                suggested[hint] = str(c)
                why = (f"a codebook name: did you mean {hint!r}? Headers must match codebook names exactly "
                       "(this one differs in case, spacing or punctuation); rename it, or map it in a mapping file")
        out.add(Problem("unexpected column", spec.name, repr(c), expected=why + "; nothing is dropped silently"))
    targets: dict[str, list[str]] = {}
    for team, name in colmap.items():
        targets.setdefault(name, []).append(team)
    for name, teams in targets.items():
        if len(teams) > 1:
            out.add(Problem("mapping", spec.name, name, value=", ".join(map(repr, teams)),
                            expected="one column per codebook variable"))
    text = {team: _as_text(raw[team]) for team in colmap}
    n_ident = sum(n for k, n in out.counts.items() if k[0] == "direct identifier")
    for team, s in text.items():
        check_identifier_values(s, spec.name, _shown(team, colmap[team]), rows, out)
    if sum(n for k, n in out.counts.items() if k[0] == "direct identifier") > n_ident:
        return None
    frame: dict[str, pd.Series] = {}
    n_mc: dict[str, pd.Series] = {}
    no_values: list[str] = []
    id_text = text.get(next((t for t, n in colmap.items() if n == "dyad_id"), ""), None)
    for team, name in colmap.items():
        var = codebook[name]
        s = text[team]
        trans = _translation(var, spec, labels.get(team))
        if trans:
            s = _translate(s, trans)
        extra = [*spec.missing_codes.get("*", ()), *spec.missing_codes.get(name, ())]
        parsed = parse_column(var, s, file=spec.name, column=_shown(team, name), rows=rows, ids=id_text,
                              extra_missing=extra, out=out)
        frame[name] = parsed.values
        n_mc[name] = parsed.missing_code
        if not (s.notna() & ~parsed.missing_code).any():
            no_values.append(name)
    df = pd.DataFrame(frame, index=raw.index)
    shown = {name: _shown(team, name) for team, name in colmap.items()}
    if "dyad_id" not in df:
        hint = f"; the file has a column {suggested['dyad_id']!r}: did you mean it?" if "dyad_id" in suggested else ""
        out.add(Problem("missing column", spec.name, "dyad_id",
                        expected="a dyad ID column in every file (files are joined on it)" + hint))
        return None
    check_ids(df, file=spec.name, rows=rows, out=out,
              id_columns={n: shown[n] for n in ("dyad_id", "mother_id") if n in df})
    return _Part(spec, df, rows, shown, n_mc, no_values, suggested)


def _shown(team: str, name: str) -> str:
    return name if team == name else f"{team} (-> {name})"


# ----------------------------------------------------------------------------- joining files

def _keyed(part: _Part) -> tuple[pd.DataFrame, pd.Series]:
    ids = part.frame["dyad_id"]
    ok = ids.notna() & ~ids.duplicated(keep="first")
    f = part.frame[ok].set_index(pd.Index(ids[ok].astype(str).to_numpy(dtype=object), dtype=object))
    return f.drop(columns="dyad_id"), part.rows[ok].set_axis(f.index)


def _aligner(f_index: pd.Index, index: pd.Index):
    """Reindex a file's columns onto the joined dyad order (no-op when the order is already the same)."""
    if len(f_index) == len(index) and (f_index.get_indexer(index) == np.arange(len(index))).all():
        return lambda s: s.set_axis(index)
    return lambda s: s.reindex(index)


def _join(parts: list[_Part], codebook: Codebook, out: Collector) -> tuple[pd.DataFrame, dict[str, Located], list[str]]:
    notes: list[str] = []
    mains = [p for p in parts if p.spec.role == "main"]
    keyed = {id(p): _keyed(p) for p in parts}
    order: list[str] = []
    seen: set[str] = set()
    for p in mains:
        new = [i for i in keyed[id(p)][0].index if i not in seen]
        order.extend(new)
        seen.update(new)
    index = pd.Index(order, dtype=object)
    for p in mains:
        idx = keyed[id(p)][0].index
        absent = index.difference(idx, sort=False)
        for d in absent:
            others = [q.spec.name for q in mains if d in keyed[id(q)][0].index]
            out.add(Problem("ID not in every file", p.spec.name, p.columns.get("dyad_id"), None, str(d), None,
                            "the same dyads in every main file; this dyad is in " + ", ".join(others)))
    columns: dict[str, pd.Series] = {"dyad_id": pd.Series(index, index=index, dtype="string")}
    where: dict[str, Located] = {}
    owner: dict[str, str] = {}
    for p in parts:
        f, rows = keyed[id(p)]
        if p.spec.role == "followup":
            orphans = f.index.difference(index, sort=False)
            for d in orphans:
                out.add(Problem("ID not in every file", p.spec.name, p.columns.get("dyad_id"),
                                int(rows[d]), str(d), None, "a dyad that is in the main file(s)"))
        align = _aligner(f.index, index)
        rows_full = align(rows)
        where.setdefault("dyad_id", Located(p.spec.name, p.columns["dyad_id"], rows_full))
        for name in f.columns:
            if name in owner:
                out.add(Problem("mapping", p.spec.name, p.columns[name],
                                expected=f"each codebook variable from one file only ({name} also comes from {owner[name]})"))
                continue
            owner[name] = p.spec.name
            columns[name] = align(f[name])
            where[name] = Located(p.spec.name, p.columns[name], rows_full)
    for p in parts:
        if p.spec.role != "followup":
            continue
        f, _ = keyed[id(p)]
        present = index.isin(f.index)
        n_abs = int((~present).sum())
        flag = p.spec.flag
        fdt = codebook[flag].dtype()
        if owner.get(flag) == p.spec.name or flag not in owner:
            base = columns.get(flag, pd.Series(1, index=index, dtype=fdt))
            columns[flag] = base.where(present, 0).astype(fdt)
            if flag not in where:
                where[flag] = Located(p.spec.name, f"(presence in {p.spec.name} -> {flag})", pd.Series(np.nan, index=index))
                owner[flag] = p.spec.name
            notes.append(f"{p.spec.name}: {len(index) - n_abs} of {len(index)} dyads present; the {n_abs} absent "
                         f"dyads are recorded as {flag} = 0 and their {p.spec.name} variables are missing")
        else:
            claimed = (columns[flag] == 1).fillna(False).to_numpy() & ~present
            loc = where[flag]
            for d in index[claimed]:
                out.add(Problem("inconsistent", loc.file, loc.column, _int(loc.rows[d]), str(d), "1",
                                f"{flag} = 0 for a dyad absent from {p.spec.name}"))
            notes.append(f"{p.spec.name}: {len(index) - n_abs} of {len(index)} dyads present; the {n_abs} absent "
                         f"dyads have {flag} = 0 in {owner[flag]} and their {p.spec.name} variables are missing")
    df = pd.DataFrame(columns, index=index)
    return df, where, notes


def _int(x) -> int | None:
    return None if pd.isna(x) else int(x)


# ----------------------------------------------------------------------------- the public entry point

DEFAULT_PLAN = PROJECT_ROOT / "config" / "analysis_plan.yml"


def planned_variables(plan_path: Path | str, codebook: Codebook) -> dict[str, str]:
    """Recorded variables the analysis plan's models need, each with the role that needs it: the
    outcomes and covariates of every model (and the screening candidates when the strategy is
    ``screen``), derived ones traced back to the recorded variables they are derived from."""
    plan = read_yaml(plan_path, "analysis plan")
    roles: list[tuple[str, str]] = []
    for key, model in (plan.get("models") or {}).items():
        if isinstance(model, dict):
            roles.append((str(model.get("outcome")), f"the outcome of the {key!r} model"))
            roles.extend((str(c), f"a covariate of the {key!r} model") for c in model.get("covariates") or [])
    if plan.get("strategy") == "screen":
        roles.extend((str(c), "a screening candidate") for c in (plan.get("screen") or {}).get("candidates") or [])
    needs: dict[str, str] = {}
    for name, role in roles:
        for rec in _recorded_inputs(name, codebook, set()):
            needs.setdefault(rec, role if rec == name else f"{role} (through {name}, derived from it)")
    return needs


def _recorded_inputs(name: str, codebook: Codebook, seen: set[str]) -> list[str]:
    if name not in codebook or name in seen:
        return []
    seen.add(name)
    v = codebook[name]
    if not v.is_derived:
        return [name]
    return [r for i in v.inputs for r in _recorded_inputs(i, codebook, seen)]


def _no_values(parts: list[_Part], codebook: Codebook, plan_path: Path, out: Collector) -> list[str]:
    """Columns with no values at all: a problem when the analysis plan needs them, else a warning."""
    needs = planned_variables(plan_path, codebook) if any(p.no_values for p in parts) else {}
    warnings = []
    for p in parts:
        for name in p.no_values:
            n = len(p.frame)
            if name in needs:
                out.add(Problem("empty column", p.spec.name, p.columns[name], value=f"no values in its {n} rows",
                                expected=f"values: {name} is {needs[name]} in {Path(plan_path).name}, and every "
                                "cell is blank or a missing code"))
            else:
                warnings.append(f"{p.spec.name}, column {p.columns[name]}: no values (all {n} cells are blank "
                                f"or a missing code), so {name} is missing for every dyad")
    return warnings


def load_cohort(path: Path | str | None, mapping_path: Path | str | None = None, *,
                codebook_path: Path | str | None = None,
                analysis_plan_path: Path | str | None = None) -> LoadResult:
    """Read, map and validate an export; the validated cohort, or ValidationError listing every problem.

    With no mapping, ``path`` is one file in the codebook's own names and codes. With a mapping, the
    mapping names its files (``path`` is ignored). A column with no values is a problem when the
    analysis plan (default ``config/analysis_plan.yml``) needs it, and a warning otherwise.
    """
    codebook = load_codebook(codebook_path)
    plan_path = Path(analysis_plan_path) if analysis_plan_path is not None else DEFAULT_PLAN
    out = Collector()
    if mapping_path is not None:
        mapping = read_mapping(Path(mapping_path), codebook, out)
        out.raise_if_any()
    elif path is None:
        raise UserError("no data file given: pass a PATH or a --mapping file (or set data in config/project.yml)")
    else:
        mapping = identity_mapping(Path(path))
    assert mapping is not None
    parts = [p for p in (_load_file(spec, codebook, out) for spec in mapping.files) if p is not None]
    if len(parts) < len(mapping.files):
        out.raise_if_any()
    supplied = {n for p in parts for n in p.frame.columns}
    followup_flags = {p.spec.flag for p in parts if p.spec.role == "followup"}
    first = mapping.files[0].name if mapping.path is None else mapping.path.name
    suggested = {name: (p.spec.name, team) for p in parts for name, team in p.suggested.items()}
    for v in codebook.recorded():
        if v.required and v.name not in supplied and v.name not in followup_flags:
            hint = (f"; {suggested[v.name][0]} has a column {suggested[v.name][1]!r}: did you mean it?"
                    if v.name in suggested else "")
            out.add(Problem("missing column", first, v.name,
                            expected=f"a column for {v.name} ({v.label}): it is required"
                            + (" (map a team column to it in the mapping file)" if mapping.path else "") + hint))
    warnings = _no_values(parts, codebook, plan_path, out)
    df, where, notes = _join(parts, codebook, out)
    check_consistency(df, codebook, where, out)
    out.raise_if_any()
    names = [v.name for v in codebook.recorded() if v.name in df]
    data = df[names].reset_index(drop=True)
    for v in codebook.recorded():
        if v.name in data:
            data[v.name] = data[v.name].astype(v.dtype())
    n_mc: dict[str, int] = {}
    derive_inputs = {i for v in codebook.derived() for i in v.inputs}
    flags: dict[str, pd.Series] = {}
    for p in parts:
        ids = p.frame["dyad_id"].astype(str)
        first = ~ids.duplicated().to_numpy()
        # each cohort row's row in this file (-1: not in it), found once for all its columns
        at = pd.Index(ids[first].to_numpy(dtype=object), dtype=object).get_indexer(df.index)
        for name, mask in p.missing_code.items():
            n_mc[name] = int(mask.sum())
            if name in derive_inputs and n_mc[name]:
                m = np.append(mask.to_numpy(dtype=bool)[first], False)
                flags[name] = pd.Series(m[at], index=data.index)
    data.attrs[EXPORT_MISSING_ATTR] = pd.DataFrame(flags, index=data.index)
    no_values = {name for p in parts for name in p.no_values}
    return LoadResult(data=data, files=[s.path for s in mapping.files],
                      completeness=_completeness(data, codebook, n_mc, no_values), notes=notes, warnings=warnings)


def _completeness(data: pd.DataFrame, codebook: Codebook, n_mc: dict[str, int],
                  no_values: set[str] = frozenset()) -> pd.DataFrame:
    """Per variable: present, missing (and how many of those were export missing codes), % complete,
    and whether its column had no values at all."""
    present = data.notna().sum()
    n = len(data)
    return pd.DataFrame({
        "variable": data.columns,
        "label": [codebook[c].label for c in data.columns],
        "n_present": present.to_numpy().astype(int),
        "n_missing": (n - present).to_numpy().astype(int),
        "n_missing_code": [int(n_mc.get(c, 0)) for c in data.columns],
        "pct_complete": (100.0 * present / n).to_numpy() if n else np.zeros(len(data.columns)),
        "no_values": [c in no_values for c in data.columns],
    })
