"""The analysis plan for the logistic models (``config/analysis_plan.yml``), checked against the codebook."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from ..data.codebook import Codebook
from ..errors import UserError
from ..files import read_yaml

STRATEGIES = ("prespecified", "screen")
METHOD_RULES = ("auto", "firth", "ml")


class PlanError(UserError):
    """The analysis plan is inconsistent with itself or with the codebook."""


@dataclass(frozen=True)
class ModelSpec:
    """One outcome's model: outcome, population, candidate covariates and the published factors."""

    key: str
    title: str
    outcome: str
    population: str
    covariates: tuple[str, ...]
    requires: str | None = None
    published_factors: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class LargeN:
    """Options for very large cohorts (e.g. national linked data); each applies only above its bound.

    ``wald_ci_min_epv``: Wald instead of profile-likelihood CIs for maximum likelihood models whose
    events per parameter reach this bound (None: never). ``collapse_min_dyads``: fit every model of the
    primary analysis on its distinct covariate patterns with frequency weights (the same likelihood, so
    the same estimates) when the sample has at least this many dyads (None: never).
    ``mi_one_step_min_dyads``: in a cohort of at least this many dyads the chained-equation imputation
    reuses one index of the categorical predictors' patterns and, after each chain's first round, takes
    one Newton step per imputation model from the previous round's estimates (None: never).
    """

    wald_ci_min_epv: float | None = None
    collapse_min_dyads: int | None = None
    mi_one_step_min_dyads: int | None = None


@dataclass(frozen=True)
class Plan:
    """The whole plan, with every covariate's reference level and coding."""

    strategy: str
    models: tuple[ModelSpec, ...]
    covariates: dict[str, dict]
    method_rule: str
    confidence_level: float
    epv_warning_below: float
    screen_p: float
    screen_candidates: tuple[str, ...]
    mi: dict
    weights: dict
    cluster: str
    hl_groups: int
    large_n: LargeN = field(default_factory=LargeN)
    linearity_knots: int = 4
    fixed_on: str = ""                    # when the team fixed the plan
    fixed_before_data: bool | None = None   # whether that was before the study data were analysed (None: not stated)
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    def reference(self, name: str) -> Any:
        return self.covariates.get(name, {}).get("reference")

    def per(self, name: str) -> float:
        return float(self.covariates.get(name, {}).get("per", 1))


def load_plan(path: str | Path, codebook: Codebook) -> Plan:
    """Read the plan and check every name, reference level and rule; raise :class:`PlanError` listing problems."""
    path = Path(path)
    raw = read_yaml(path, "analysis plan", PlanError)
    problems: list[str] = []
    covs = raw.get("covariates", {}) or {}
    strategy = raw.get("strategy", "prespecified")
    if strategy not in STRATEGIES:
        problems.append(f"strategy {strategy!r} is not one of {STRATEGIES}")
    models = []
    for key, m in (raw.get("models") or {}).items():
        for name in [m.get("outcome"), *(m.get("covariates") or []), *([m["requires"]] if m.get("requires") else [])]:
            if name not in codebook:
                problems.append(f"model {key}: {name!r} is not a codebook variable")
        models.append(ModelSpec(
            key=key, title=m.get("title", key), outcome=m.get("outcome"), population=m.get("population", ""),
            covariates=tuple(m.get("covariates") or ()), requires=m.get("requires"),
            published_factors=tuple((f["term"], f.get("level")) for f in m.get("published_factors") or ())))
    screen = raw.get("screen", {}) or {}
    weights = (raw.get("sensitivity", {}) or {}).get("follow_up_weights", {}) or {}
    names = ({c for m in models for c in m.covariates} | set(screen.get("candidates") or ())
             | set(weights.get("predictors") or ()))
    for name in sorted(names):
        if name not in codebook:
            problems.append(f"covariate {name!r} is not a codebook variable")
            continue
        var = codebook[name]
        if var.type in ("categorical", "binary"):
            ref = (covs.get(name) or {}).get("reference")
            if ref is None:
                problems.append(f"covariate {name!r}: the plan must state its reference level")
            elif ref not in var.codes:
                problems.append(f"covariate {name!r}: reference {ref!r} is not one of its codes {var.codes}")
    method = raw.get("method", {}) or {}
    if method.get("rule", "auto") not in METHOD_RULES:
        problems.append(f"method.rule {method.get('rule')!r} is not one of {METHOD_RULES}")
    large = raw.get("large_n", {}) or {}
    options = ("wald_ci_min_epv", "collapse_min_dyads", "mi_one_step_min_dyads")
    for key in sorted(set(large) - set(options)):
        problems.append(f"large_n.{key} is not a known option ({', '.join(options)})")
    for key in options:
        v = large.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
            problems.append(f"large_n.{key} must be a positive number or null, not {v!r}")
    knots = (raw.get("diagnostics") or {}).get("linearity_knots", 4)
    if isinstance(knots, bool) or not isinstance(knots, int) or not 3 <= knots <= 7:
        problems.append(f"diagnostics.linearity_knots must be a whole number from 3 to 7, not {knots!r}")
    before = raw.get("fixed_before_data")
    if before is not None and not isinstance(before, bool):
        problems.append(f"fixed_before_data must be true, false or left empty (not stated), not {before!r}")
    if problems:
        raise PlanError(f"analysis plan {path}:\n  " + "\n  ".join(problems))
    sens = raw.get("sensitivity", {}) or {}
    return Plan(
        strategy=strategy, models=tuple(models), covariates=covs, method_rule=method.get("rule", "auto"),
        confidence_level=float(method.get("confidence_level", 0.95)),
        epv_warning_below=float(method.get("epv_warning_below", 10)),
        screen_p=float(screen.get("p_threshold", 0.2)), screen_candidates=tuple(screen.get("candidates") or ()),
        mi=sens.get("multiple_imputation", {}) or {}, weights=sens.get("follow_up_weights", {}) or {},
        cluster=sens.get("cluster", "site"), hl_groups=int((raw.get("diagnostics") or {}).get("hosmer_lemeshow_groups", 10)),
        large_n=LargeN(
            wald_ci_min_epv=None if large.get("wald_ci_min_epv") is None else float(large["wald_ci_min_epv"]),
            collapse_min_dyads=None if large.get("collapse_min_dyads") is None else int(large["collapse_min_dyads"]),
            mi_one_step_min_dyads=(None if large.get("mi_one_step_min_dyads") is None
                                   else int(large["mi_one_step_min_dyads"]))),
        linearity_knots=knots, fixed_on=str(raw.get("fixed_on") or ""), fixed_before_data=before, raw=raw)
