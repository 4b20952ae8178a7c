"""Disclosure-control policies: the presets and how ``disclosure:`` in config/project.yml selects one.

A policy says which counts are protected (``1 <= n < threshold``), whether the other counts are
rounded, the smallest number of dyads behind a published summary statistic, and the smallest
residual degrees of freedom and events per covariate level of a published model.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..errors import UserError

MARKER = "*"


class PolicyError(UserError):
    """A disclosure setting that cannot be used."""


@dataclass(frozen=True)
class Policy:
    """One disclosure-control policy. ``threshold`` 0 means nothing is protected."""

    name: str
    threshold: int               # counts 1..threshold-1 are protected (0: none)
    rounding: int = 0            # other counts rounded to the nearest multiple (0: exact)
    min_summary_n: int = 0       # no mean/SD/median/quartile from fewer dyads
    min_residual_df: int = 0     # models with fewer residual df are withheld
    min_level_events: int = 0    # model terms with fewer events or non-events in a level are withheld
    checked: bool = True         # False: outputs were not checked (preset none)

    def protects(self, n: float) -> bool:
        """True when a count must not be published."""
        return self.threshold > 0 and 1 <= n < self.threshold

    def rule_text(self) -> str:
        """The policy in one sentence for the Methods and the table notes."""
        if not self.checked:
            return ("No disclosure control was applied: the outputs were not checked and "
                    "must not leave the secure environment.")
        parts = [f"counts of 1 to {self.threshold - 1} were suppressed (shown as '{MARKER}'), with further "
                 "cells suppressed where a suppressed count could otherwise be recovered from totals, the "
                 "overall column, the 'Not known' row or the other cells (the same mark); a zero (or a 100%) "
                 "in a category or group below the threshold was treated as such a count, since it would tell "
                 "what all of its members have"]
        if self.rounding:
            parts.append(f"every other count was rounded to the nearest {self.rounding} and percentages "
                         "were computed from the rounded counts")
        if self.min_summary_n:
            parts.append(f"no mean, SD, median, quartile or test was published from fewer than "
                         f"{self.min_summary_n} dyads")
        if self.min_level_events:
            parts.append(f"model terms with fewer than {self.min_level_events} events or non-events in any "
                         "category were withheld")
        parts.append("an unadjusted odds ratio that, with the model's numbers of dyads and events, would give "
                     "away a suppressed count of a table about the same dyads was withheld")
        if self.min_residual_df:
            parts.append(f"models with fewer than {self.min_residual_df} residual degrees of freedom were withheld")
        return "Statistical disclosure control: " + "; ".join(parts) + "."


PRESETS: dict[str, Policy] = {
    "none": Policy("none", threshold=0, checked=False),
    "cohort": Policy("cohort", threshold=5, min_summary_n=5, min_level_events=5),
    "tre": Policy("tre", threshold=10, min_summary_n=10, min_residual_df=10, min_level_events=10),
    "nhs": Policy("nhs", threshold=8, rounding=5, min_summary_n=8, min_level_events=8),
}
DEFAULT_PRESET = "cohort"
OVERRIDES = ("threshold", "rounding", "min_summary_n", "min_residual_df", "min_level_events")


def policy_from_settings(settings: Any, *, source: str, where: str = "disclosure") -> Policy:
    """The policy named by ``disclosure:`` (a preset name, or a mapping with ``preset`` and overrides).

    With real data the preset ``none`` is refused unless ``allow_unchecked_real_outputs: true`` is set.
    """
    if settings is None:
        settings = {}
    if isinstance(settings, str):
        settings = {"preset": settings}
    if not isinstance(settings, dict):
        raise PolicyError(f"{where}: expected a preset name or a mapping, not {settings!r}")
    unknown = set(settings) - {"preset", "allow_unchecked_real_outputs", *OVERRIDES}
    if unknown:
        raise PolicyError(f"{where}: unknown setting(s) {sorted(unknown)}; allowed: preset, "
                          f"allow_unchecked_real_outputs, {', '.join(OVERRIDES)}")
    name = settings.get("preset", DEFAULT_PRESET)
    if name not in PRESETS:
        raise PolicyError(f"{where}.preset: {name!r} is not one of {sorted(PRESETS)}")
    policy = PRESETS[name]
    changes = {}
    for key in OVERRIDES:
        if key in settings:
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PolicyError(f"{where}.{key}: expected a whole number >= 0, not {value!r}")
            changes[key] = value
    if changes:
        if not policy.checked:
            raise PolicyError(f"{where}: preset 'none' takes no overrides ({sorted(changes)})")
        policy = replace(policy, name=f"{name} (with overrides: "
                         + ", ".join(f"{k} {v}" for k, v in changes.items()) + ")", **changes)
    allow = settings.get("allow_unchecked_real_outputs", False)
    if not isinstance(allow, bool):
        raise PolicyError(f"{where}.allow_unchecked_real_outputs: expected true or false, not {allow!r}")
    if source == "real" and not policy.checked and not allow:
        raise PolicyError(f"{where}: the preset 'none' is refused with real data; choose cohort, tre or nhs, or "
                          "set allow_unchecked_real_outputs: true (every page will then say the outputs were "
                          "not checked)")
    return policy


def policy_for(config) -> Policy:
    """The policy of a run's configuration (``Config.disclosure``), checked against its data source."""
    return policy_from_settings(config.disclosure, source=config.source)
