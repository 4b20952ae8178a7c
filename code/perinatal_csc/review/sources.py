"""Where a rendered paragraph came from: the ``.qmd`` prose units of the manuscript and a matcher.

Each paragraph, heading or list item of prose in the sources becomes a template: literal text (with
the source offset of every character) and generated parts (inline ``{python}`` expressions, ``{{< meta >}}``
values, citations and cross-references). A rendered paragraph matches a unit when the template's
literal text and its generated parts cover it exactly; the match tells which characters the data
computed and where each literal character lives in the source file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..render.project import documents, project_config
from ..render.qmd import expand_includes

GENERATED = re.compile(
    r"`\{python\}[^`]*`"                       # inline expression
    r"|\{\{<\s*meta\s+[^>]*>\}\}"              # metadata value
    r"|\[[^\[\]]*@[\w:.#$%&\-+?<>~/]+[^\[\]]*\]"  # bracketed citation or reference
    r"|(?<![\w@])@[\w][\w:.#$%&\-+?<>~/]*[\w]"  # bare citation or cross-reference
)
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}|`([^`]*)`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)(\s*\{[^}]*\})?\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
SMART = (("---", "\u2014"), ("--", "\u2013"), ("...", "\u2026"))   # pandoc's smart punctuation
TRANSLATE = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\t": " ",
             "\u2003": " ", "\u2009": " ", "\u202f": " "}


def normalise(text: str) -> tuple[str, list[int]]:
    """Text with typographic quotes made plain and whitespace collapsed, and for each character of the
    result the index of the character of ``text`` it came from."""
    out, where = [], []
    for i, ch in enumerate(text):
        ch = TRANSLATE.get(ch, ch)
        if ch.isspace():
            if not out or out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
        where.append(i)
    while out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


@dataclass
class Unit:
    """One prose unit of a source file."""

    path: Path
    line: int                                   # 1-based line of its first character
    source: str                                 # the unit's source text
    offset: int                                 # where ``source`` starts in the file's text
    literal: list[tuple[str, int]] = field(default_factory=list)   # (char, file offset) or ("", -1) for generated
    pattern: re.Pattern | None = None

    @property
    def has_generated(self) -> bool:
        return any(off < 0 for _, off in self.literal)


@dataclass
class Match:
    unit: Unit
    text: str                                   # the normalised rendered text
    generated: list[tuple[int, int]]            # spans of ``text`` computed, not typed
    source_of: list[int]                        # file offset of each character of ``text`` (-1: generated)

    def computed(self, a: int, b: int) -> bool:
        """Whether the range [a, b) of ``text`` (or an insertion at a == b) touches computed text."""
        for g0, g1 in self.generated:
            if (a < g1 and b > g0) or (a == b and g0 < a < g1):
                return True
        return False


def _template(text: str, base: int) -> list[tuple[str, int]]:
    """Characters of the rendered form of one prose unit: (char, file offset), generated parts as ("", -1)."""
    out: list[tuple[str, int]] = []
    i = 0
    n = len(text)
    heading = HEADING.match(text)
    end = n
    if heading:
        i = heading.start(2)
        end = heading.end(2)
    else:
        item = LIST_ITEM.match(text)
        if item:
            i = item.end()
    while i < end:
        m = GENERATED.match(text, i)
        if m:
            out.append(("", -1))
            i = m.end()
            continue
        link = LINK.match(text, i)
        if link:
            group = next(g for g in (1, 2, 3) if link.group(g) is not None)
            inner = link.group(group)
            start = link.start(group)
            out.extend(_template(inner, base + start))
            i = link.end()
            continue
        ch = text[i]
        if ch == "\\" and i + 1 < end and not text[i + 1].isalnum():
            out.append((text[i + 1], base + i + 1))
            i += 2
            continue
        if ch in "*^~" or (ch == "_" and (i == 0 or not text[i - 1].isalnum() or i + 1 >= end or not text[i + 1].isalnum())):
            i += 1
            continue
        typographic = next(((seq, to) for seq, to in SMART if text.startswith(seq, i)), None)
        if typographic:
            out.append((typographic[1], base + i))
            i += len(typographic[0])
            continue
        out.append((ch, base + i))
        i += 1
    return _collapse(out)


def _collapse(chars: list[tuple[str, int]]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for ch, off in chars:
        ch = TRANSLATE.get(ch, ch)
        if ch.isspace():
            if not out or out[-1][0] in (" ",):
                continue
            ch = " "
        out.append((ch, off))
    while out and out[-1][0] == " ":
        out.pop()
    return out


def _pattern(literal: list[tuple[str, int]]) -> re.Pattern:
    parts = []
    for ch, off in literal:
        parts.append("(.+?)" if off < 0 else re.escape(ch))
    return re.compile("".join(parts), re.S)


def prose_units(path: Path, text: str | None = None) -> list[Unit]:
    """The prose units of one source file (paragraphs, headings, list items), skipping code cells,
    front matter, comments, include shortcodes and div fences. ``text`` replaces the file's current
    text (e.g. the file at an earlier commit)."""
    text = path.read_text(encoding="utf-8") if text is None else text
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    units: list[Unit] = []
    block: list[int] = []
    in_code = in_comment = False
    in_front = bool(lines) and lines[0].strip() == "---"

    def flush() -> None:
        if block:
            a, b = starts[block[0]], starts[block[-1]] + len(lines[block[-1]].rstrip("\n"))
            units.append(Unit(path, block[0] + 1, text[a:b], a))
            block.clear()

    for k, line in enumerate(lines):
        s = line.strip()
        if in_front:
            if k > 0 and s == "---":
                in_front = False
            continue
        if in_code:
            if s.startswith("```") and not s.strip("`"):
                in_code = False
            continue
        if in_comment:
            if "-->" in s:
                in_comment = False
            continue
        if s.startswith("```"):
            flush()
            in_code = True
            continue
        if s.startswith("<!--"):
            flush()
            in_comment = "-->" not in s
            continue
        if not s or s.startswith(":::") or s.startswith("{{<"):
            flush()
            continue
        if HEADING.match(s) or LIST_ITEM.match(line):
            flush()
            block.append(k)
            if HEADING.match(s):
                flush()
            continue
        block.append(k)
    flush()
    for unit in units:
        unit.literal = _template(unit.source, unit.offset)
        unit.pattern = _pattern(unit.literal)
    return [u for u in units if any(off >= 0 for _, off in u.literal)]


def source_files(root: Path) -> list[Path]:
    """The manuscript's documents and the files they include, in document order."""
    cfg = project_config(root)
    seen: list[Path] = []
    for doc in documents(cfg):
        main = root / doc
        if not main.exists():
            continue
        for src, _ in expand_includes(main, main.parent, root):
            if src not in seen:
                seen.append(src)
    return seen


def manuscript_units(root: Path) -> list[Unit]:
    """Every prose unit of the manuscript's sources, in document order."""
    return [u for src in source_files(root) for u in prose_units(src)]


def units_at_commit(root: Path, commit: str) -> list[Unit]:
    """The prose units of today's source files as they were at ``commit`` (files it lacks are skipped)."""
    import subprocess

    units = []
    for src in source_files(root):
        rel = src.relative_to(root).as_posix()
        done = subprocess.run(["git", "-C", str(root), "show", f"{commit}:{rel}"], capture_output=True, text=True)
        if done.returncode == 0:
            units += prose_units(src, done.stdout)
    return units


class Matcher:
    """Finds the prose unit a rendered paragraph came from, trying the units after the previous match
    first, so that units with the same template (e.g. every "Text description of @fig-...") are taken
    in document order."""

    def __init__(self, units: list[Unit]) -> None:
        self.units = units
        self.literal_text = ["".join(ch for ch, _ in u.literal) for u in units]
        self.cursor = 0

    def match(self, rendered: str) -> Match | None:
        text, _ = normalise(rendered)
        if not text:
            return None
        n = len(self.units)
        for k in range(n):
            i = (self.cursor + k) % n
            unit = self.units[i]
            if not unit.has_generated:
                if self.literal_text[i] != text:
                    continue
                found = Match(unit, text, [], [off for _, off in unit.literal])
            else:
                m = unit.pattern.fullmatch(text)
                if not m:
                    continue
                found = _located(unit, text, m)
            self.cursor = i + 1
            return found
        return None


def _located(unit: Unit, text: str, m: re.Match) -> Match:
    generated, source_of = [], []
    group = 0
    pos = 0
    for ch, off in unit.literal:
        if off < 0:
            group += 1
            g0, g1 = m.span(group)
            generated.append((g0, g1))
            source_of.extend([-1] * (g1 - g0))
            pos = g1
        else:
            source_of.append(off)
            pos += 1
    return Match(unit, text, generated, source_of)


@dataclass
class Float:
    """A table or figure cell: its label, caption option and the line of its label option."""

    label: str
    caption: str
    path: Path
    line: int


def floats(root: Path) -> list[Float]:
    """Every labelled table and figure cell of the manuscript's sources, with its caption option."""
    import yaml

    out = []
    for src in source_files(root):
        lines = src.read_text(encoding="utf-8").splitlines()
        k = 0
        while k < len(lines):
            if lines[k].strip().startswith("```{python}"):
                start, opts = k + 1, []
                k += 1
                while k < len(lines) and lines[k].startswith("#|"):
                    opts.append(lines[k][2:].strip())
                    if opts[-1].startswith("label:"):
                        start = k + 1
                    k += 1
                try:
                    parsed = yaml.safe_load("\n".join(opts)) or {}
                except yaml.YAMLError:
                    parsed = {}
                label = str(parsed.get("label", ""))
                cap = parsed.get("tbl-cap") or parsed.get("fig-cap")
                if label.startswith(("tbl-", "fig-")) and cap:
                    out.append(Float(label, " ".join(str(cap).split()), src, start))
            k += 1
    return out


def float_for_caption(found: list[Float], caption: str) -> Float | None:
    """The cell whose caption option a rendered "Table N: ..." / "Figure N: ..." caption shows."""
    text, _ = normalise(re.sub(r"^(Table|Figure)\s+\d+:\s*", "", caption))
    for f in found:
        if normalise(f.caption)[0] == text:
            return f
    return None
