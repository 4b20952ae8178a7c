"""Reading the project's own YAML files (configuration, codebook, plan, parameters) with clear errors,
and the JSON stamps a stage leaves to say what its outputs were made from."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError


def read_yaml(path: str | Path, what: str, error: type[UserError] = UserError) -> dict[str, Any]:
    """The top-level mapping of a YAML file; ``error`` names the file and what is wrong when it is
    missing, not UTF-8, not valid YAML or not a mapping (an empty file reads as ``{}``)."""
    path = Path(path)
    if not path.exists():
        raise error(f"{what} not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise error(f"{what} {path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except yaml.YAMLError as e:
        raise error(f"{what} {path}: not valid YAML ({e})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise error(f"{what} {path}: expected a mapping of keys to values at the top level, "
                    f"found {type(raw).__name__}")
    return raw


class _QuotedStrings(yaml.SafeDumper):
    """PyYAML's safe dumper with every string double-quoted."""


_QuotedStrings.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"'))


def yaml_text(data: Any) -> str:
    """YAML for pandoc and Quarto, whose every string is quoted. PyYAML writes YAML 1.1, where an unquoted
    ``9900509e7013`` (a short commit) is a string; pandoc and Quarto read YAML 1.2, where it is a number, so a
    draft's recorded commit came back as 9.900509e7019."""
    return yaml.dump(data, Dumper=_QuotedStrings, sort_keys=False, allow_unicode=True)


def read_stamp(path: Path) -> dict[str, Any] | None:
    """A stage's JSON stamp (what its outputs were made from), or None when it is missing or unreadable,
    which always means "not up to date"."""
    if not path.exists():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None
