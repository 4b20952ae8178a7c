"""Where each number in the prose comes from: one released result cell per number.

Every prose helper (abstract, Results, figure descriptions) passes the text it returns through
:func:`sourced` with the cells its numbers show, in the order they appear. A document ends with
:func:`sources_comment`, an HTML comment listing the records of its kernel, so a test can check
each number of the rendered prose against its own cell of the released tables, and that no number
in the prose comes from nowhere. The records hold table names, row keys and column names, never a
value the text does not already show.
"""
from __future__ import annotations

import json
from typing import Any

_RECORDS: list[dict[str, Any]] = []
Cell = tuple[str, dict[str, Any], str]      # (result table, row key {column: value}, column)
MARK = "perinatal-csc prose sources"


def sourced(text: str, *cells: Cell) -> str:
    """``text``, recorded as showing ``cells`` (one per number in it, in order), as Markdown: the
    disclosure marker escaped, so that two suppressed values in one paragraph never become emphasis."""
    _RECORDS.append({"text": text, "cells": [{"table": t, "key": {k: _key(v) for k, v in key.items()}, "column": c}
                                             for t, key, c in cells]})
    return text.replace("*", "\\*")


def _key(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)


def records() -> list[dict[str, Any]]:
    return list(_RECORDS)


def clear() -> None:
    _RECORDS.clear()


def sources_comment() -> str:
    """The records so far as one HTML comment (raw HTML: only the HTML output keeps it)."""
    body = json.dumps(_RECORDS, ensure_ascii=True).replace("--", "\\u002d\\u002d")
    return f"\n```{{=html}}\n<!-- {MARK}: {body} -->\n```\n"
