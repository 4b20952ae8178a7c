"""Cell suppression for one population: counts linked by additive equations (cells, margins, totals).

A ``Grid`` holds every count published about one population (table cells, the overall column, the
"Not known" row, column N, implied complements) and the equations an attacker knows
(``sum(members) == total``, and inequalities such as a row counting dyads with any of several
categories). ``protect`` marks the protected counts (primary suppression), then
hides further counts until an integer program over everything still published cannot narrow any
protected count to a range that reveals it (secondary suppression).

Secondary suppression minimises information lost, as tau-ARGUS and sdcTable do with a cost per cell
(Fischetti and Salazar's model): each cell has a cost (by default its value, the dyads it describes;
the caller makes "Not known" cells and zeros cheap and cells that carry many printed values dear).
Complements are chosen cheapest first, and the pattern found is then pruned: every secondary cell,
dearest first, is published again whenever the integer program shows that every protected count stays
protected without it. The result is a pattern no cell of which can be dropped (a local optimum of the
cost), each one verified by the attacker's integer program.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from .policy import Policy


@dataclass
class Grid:
    """Counts (``values``) with labels, cells that must stay published (``fixed``, e.g. N shown in
    every header) unless protected themselves, and equations ``(members, total)``. ``sensitive``: a
    cell protected whatever its value (a zero that tells what everyone in a small group has);
    ``exact``: a cell an attacker knows exactly even under a rounding policy (a count an odds ratio
    gives away)."""

    values: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    fixed: list[bool] = field(default_factory=list)
    secret: list[bool] = field(default_factory=list)
    equations: list[tuple[list[int], int]] = field(default_factory=list)
    sensitive: list[bool] = field(default_factory=list)
    exact: list[bool] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    derived: list[bool] = field(default_factory=list)
    inequalities: list[tuple[list[int], list[int]]] = field(default_factory=list)

    def add(self, value: float, label: str, *, fixed: bool = False, secret: bool = False,
            exact: bool = False, cost: float | None = None, derived: bool = False) -> int:
        """A count; ``secret``: never published (e.g. dyads outside every group), ``fixed``: always
        published unless protected; ``derived``: not printed, known only through the equations (the
        implied "No" of a Yes row, the dyads eligible), so never a complement and protected like any
        count; ``cost``: what hiding it loses (default: 1 + its value)."""
        self.derived.append(derived)
        self.cost.append(1.0 + int(value) if cost is None else float(cost))
        self.values.append(int(value))
        self.labels.append(label)
        self.fixed.append(fixed and not secret)
        self.secret.append(secret)
        self.sensitive.append(False)
        self.exact.append(exact)
        return len(self.values) - 1

    def equation(self, members: list[int], total: int) -> None:
        self.equations.append((list(members), total))

    def at_most(self, smaller: list[int], larger: list[int]) -> None:
        """An inequality an attacker knows: ``sum(smaller) <= sum(larger)`` (e.g. dyads with a need in
        one domain <= dyads with a need in any domain of its group <= the sum over its domains)."""
        self.inequalities.append((list(smaller), list(larger)))


@dataclass(frozen=True)
class Outcome:
    """Which cells are hidden, why, and whether the protection held (``withheld``: it did not, so the
    caller must withhold everything about the population)."""

    hidden: np.ndarray
    primary: np.ndarray
    withheld: bool


def published_bounds(value: int, policy: Policy) -> tuple[int, int]:
    """What an attacker knows of a published count: exact, or the interval a rounded value allows."""
    if not policy.rounding:
        return value, value
    r = rounded(value, policy)
    half = policy.rounding // 2
    if r == 0:
        return 0, 0 if policy.threshold > 1 else half
    return max(r - half, policy.threshold), r + half


def rounded(value: int, policy: Policy) -> int:
    """A count rounded to the nearest multiple of ``policy.rounding`` (halves upwards)."""
    if not policy.rounding:
        return value
    return int(np.floor(value / policy.rounding + 0.5) * policy.rounding)


def _program(grid: Grid, hidden: np.ndarray, policy: Policy):
    n = len(grid.values)
    lo = np.zeros(n)
    hi = np.zeros(n)
    upper = float(sum(grid.values)) + 1
    for i, v in enumerate(grid.values):
        if hidden[i]:
            lo[i], hi[i] = 0, upper
        elif grid.exact[i]:
            lo[i], hi[i] = v, v
        else:
            lo[i], hi[i] = published_bounds(v, policy)
    cons = []
    if grid.equations:
        a = np.zeros((len(grid.equations), n))
        for k, (members, total) in enumerate(grid.equations):
            for m in members:
                a[k, m] += 1
            a[k, total] -= 1
        cons = [LinearConstraint(a, 0, 0)]
    if grid.inequalities:
        b = np.zeros((len(grid.inequalities), n))
        for k, (smaller, larger) in enumerate(grid.inequalities):
            for m in smaller:
                b[k, m] += 1
            for m in larger:
                b[k, m] -= 1
        cons.append(LinearConstraint(b, -np.inf, 0))
    return cons, Bounds(lo, hi)


def _solve(grid: Grid, program, cell: int, sign: int) -> np.ndarray:
    """An integer solution minimising (sign 1) or maximising (sign -1) ``cell``."""
    cons, bounds = program
    c = np.zeros(len(grid.values))
    c[cell] = sign
    res = milp(c, constraints=cons, integrality=np.ones(len(c)), bounds=bounds)
    if not res.success:
        raise RuntimeError(f"disclosure check: no integer solution for {grid.labels[cell]} ({res.message})")
    return np.round(res.x).astype(np.int64)


def _extreme(grid: Grid, program, cell: int, sign: int) -> int:
    return int(_solve(grid, program, cell, sign)[cell])


def feasible_range(grid: Grid, hidden: np.ndarray, policy: Policy, cell: int) -> tuple[int, int]:
    """Smallest and largest value of ``cell`` consistent with everything published (integer program)."""
    program = _program(grid, hidden, policy)
    return _extreme(grid, program, cell, 1), _extreme(grid, program, cell, -1)


def _fits(program, x: np.ndarray) -> bool:
    """Whether the table ``x`` satisfies every bound and relation of ``program``."""
    cons, bounds = program
    ok = bool(np.all(bounds.lb <= x) and np.all(x <= bounds.ub))
    return ok and all(np.all(c.lb <= c.A @ x) and np.all(c.A @ x <= c.ub) for c in cons)


def unprotected(grid: Grid, hidden: np.ndarray, policy: Policy, cells, *, first: bool = False,
                witnesses: list[np.ndarray] | None = None) -> list[int]:
    """The cells of ``cells`` that fail ``range_protects`` (``first``: stop at the first).

    Any table that fits what is published is a witness for every cell: the true table when it fits, the
    tables earlier programs found (``witnesses``, shared over the calls for one grid, and added to) when
    they fit this program too, and each table this call finds. A cell whose range over the witnesses
    already passes is safe without a program of its own, since the pass rule holds for any wider range; a
    cell is reported only after its exact minimum and maximum are solved. So the result is the same as
    solving every cell, with far fewer programs."""
    program = _program(grid, hidden, policy)
    pool = witnesses if witnesses is not None else []
    truth = np.asarray(grid.values, dtype=np.int64)
    seen = np.array([x for x in (truth, *pool) if _fits(program, x)], dtype=np.int64).reshape(-1, len(truth))
    failing = []
    for cell in cells:
        for sign in (-1, 1):
            if len(seen) and range_protects(int(seen[:, cell].min()), int(seen[:, cell].max()), policy):
                break
            found = _solve(grid, program, cell, sign)
            pool.append(found)
            seen = np.vstack([seen, found])
        else:
            if not range_protects(int(seen[:, cell].min()), int(seen[:, cell].max()), policy):
                failing.append(cell)
                if first:
                    break
    return failing


def _neighbours(grid: Grid, cell: int) -> set[int]:
    """Cells that share an equation with ``cell``."""
    return {i for members, total in grid.equations if cell in (*members, total) for i in (*members, total)}


def range_protects(lo: int, hi: int, policy: Policy) -> bool:
    """The pass rule: at least three whole numbers, one protected and one not (rounding policies:
    three of the protected values)."""
    if policy.rounding:
        return len(set(range(lo, hi + 1)) & set(range(1, policy.threshold))) >= 3
    return hi - lo >= 2 and lo < policy.threshold <= hi


def _pinned(grid: Grid, hidden: np.ndarray) -> list[tuple[int, int]]:
    """(cell, equation) for each hidden cell that is the only hidden cell of an equation (so it is
    recoverable by differencing)."""
    out = []
    for k, (members, total) in enumerate(grid.equations):
        h = [i for i in (*members, total) if hidden[i]]
        if len(h) == 1:
            out.append((h[0], k))
    return out


def _complement(grid: Grid, hidden: np.ndarray, cell: int, need: int, equation: int | None = None) -> int | None:
    """The cheapest published, non-fixed cell sharing an equation (``equation``, or any) with ``cell``
    that is at least ``need`` (else the largest); members before totals at equal cost."""
    pool: dict[int, int] = {}
    for k, (eq_members, total) in enumerate(grid.equations):
        cells = [*eq_members, total]
        if cell not in cells or (equation is not None and k != equation):
            continue
        for i in eq_members:
            if i != cell and not hidden[i] and not grid.fixed[i]:
                pool[i] = 0
        if total != cell and not hidden[total] and not grid.fixed[total]:
            pool.setdefault(total, 1)
    if not pool:
        return None
    big = [i for i in pool if grid.values[i] >= need]
    if big:
        return min(big, key=lambda i: (grid.cost[i], pool[i], grid.values[i], i))
    return max(pool, key=lambda i: (grid.values[i], -grid.cost[i], -pool[i], -i))


def _prune(grid: Grid, hidden: np.ndarray, primary: np.ndarray, policy: Policy,
           witnesses: list[np.ndarray]) -> np.ndarray:
    """``hidden`` with every secondary cell that is not needed published again, dearest first."""
    protected = [int(p) for p in np.flatnonzero(primary)]
    kept = np.asarray(grid.secret, dtype=bool) | np.asarray(grid.derived, dtype=bool)
    candidates = [int(c) for c in np.flatnonzero(hidden & ~primary & ~kept)]
    if not candidates:
        return hidden
    bare = hidden.copy()
    bare[candidates] = False
    if not unprotected(grid, bare, policy, protected, first=True, witnesses=witnesses):
        return bare                         # none is needed (often so when counts are rounded)
    for c in sorted(candidates, key=lambda i: (-grid.cost[i], -grid.values[i], i)):
        trial = hidden.copy()
        trial[c] = False
        near = _neighbours(grid, c)          # the protected cells most likely to fail are checked first
        order = sorted(protected, key=lambda p: (p not in near, p))
        if not unprotected(grid, trial, policy, order, first=True, witnesses=witnesses):
            hidden = trial
    return hidden


def protect(grid: Grid, policy: Policy, *, fallbacks: tuple[np.ndarray, ...] = ()) -> Outcome:
    """Primary suppression of protected counts, then secondary suppression until every protected
    count passes ``range_protects`` under an integer program over what stays published.

    Cells are hidden one at a time next to a protected count that is not yet safe; when that does not
    suffice, each mask in ``fallbacks`` (cells to hide as well) is tried in turn, then every cell that
    is not fixed. ``withheld`` is set when even that fails."""
    values = np.asarray(grid.values, dtype=np.int64)
    secret = np.asarray(grid.secret, dtype=bool)
    primary = (np.array([policy.protects(v) for v in values], dtype=bool) | np.asarray(grid.sensitive, dtype=bool)) & ~secret
    hidden = primary | secret | np.asarray(grid.derived, dtype=bool)
    if not primary.any():
        return Outcome(hidden, primary, False)
    if policy.rounding and not grid.equations and not grid.inequalities:
        return Outcome(hidden, primary, False)
    t = policy.threshold
    for _ in range(4 * len(values) + 4):
        changed = False
        for cell, k in _pinned(grid, hidden):
            members, total = grid.equations[k]
            if sum(hidden[i] for i in (*members, total)) != 1:
                continue                      # already resolved in this round
            extra = _complement(grid, hidden, cell, max(t - int(values[cell]), 1), k)
            if extra is not None:
                hidden[extra] = True
                changed = True
        if not changed:
            break
    failing = list(np.flatnonzero(primary))
    witnesses: list[np.ndarray] = []
    for _ in range(len(values) + 1):
        # hiding more cells only widens every range, so a cell found safe stays safe
        failing = unprotected(grid, hidden, policy, failing, witnesses=witnesses)
        if not failing:
            return Outcome(_prune(grid, hidden, primary, policy, witnesses), primary, False)
        cell = failing[0]
        extra = _complement(grid, hidden, cell, max(t - int(values[cell]), 1))
        if extra is None:
            break
        hidden[extra] = True
        for c, k in _pinned(grid, hidden):
            members, total = grid.equations[k]
            if sum(hidden[i] for i in (*members, total)) != 1:
                continue
            more = _complement(grid, hidden, c, 1, k)
            if more is not None:
                hidden[more] = True
    everything = np.array([not f for f in grid.fixed]) | hidden
    for extra in (*fallbacks, everything):
        trial = hidden | extra
        if not unprotected(grid, trial, policy, failing, witnesses=witnesses):
            return Outcome(_prune(grid, trial, primary, policy, witnesses), primary, False)
    return Outcome(everything, primary, True)
