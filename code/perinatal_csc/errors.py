"""Errors meant for the user: the CLI prints them without a traceback and exits non-zero."""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix (bad input, bad configuration); its message says how."""

    exit_code = 1
