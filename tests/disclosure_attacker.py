"""An attacker, written apart from the package: an integer program over everything published.

Cells are integer unknowns >= 0; published cells are fixed (or, when rounded to a multiple of
``rounding``, lie in the interval the rounding allows); every known additive relation holds. The
attacker's bounds on a suppressed cell are its minimum and maximum.
"""
from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


def bounds(values, published, relations, cell, *, rounding=0, threshold=0):
    """(min, max) of ``cell``. ``published[i]`` is the number shown (None when suppressed);
    ``relations`` is a list of (members, total) index lists (sum of members == total) and of
    ("<=", smaller, larger) (sum of smaller <= sum of larger)."""
    found = bounds_or_none(values, published, relations, cell, rounding=rounding, threshold=threshold)
    assert found is not None, "no table fits the published cells"
    return found


def safe(lo, hi, threshold, rounding=0):
    """The issue's pass rule for one protected cell."""
    if rounding:
        return len(set(range(lo, hi + 1)) & set(range(1, threshold))) >= 3
    return hi - lo >= 2 and lo < threshold <= hi


MARK = "*"


def _shown(v):
    """A released value as the attacker reads it: None when suppressed or missing."""
    if isinstance(v, str):
        return None if v.strip() in (MARK, "") else float(v)
    return None if v is None or v != v else float(v)


def flow_published(flow_released):
    """(follow-up stage, group) -> the number not followed up as the released participant flow shows it."""
    out = {}
    for _, r in flow_released.iterrows():
        shown = _shown(r["excluded"])
        if shown is not None:
            out[str(r["stage"]), str(r["group"])] = shown
    return out


def characteristics_systems(full, released, flow=None):
    """For each population (comparison) and variable of a describe-style table: the true counts, what the
    release shows of each, and the additive relations an attacker knows (levels + implied complement =
    denominator; denominator + "Not known" = dyads eligible = N - not followed up; overall = sum of the
    groups, plus an unknown remainder when they differ). ``flow``: what ``flow_published`` reads from the
    released participant flow, which gives the number not followed up of a table that hides it. Yields
    (name, values, published, relations, labels)."""
    flow = flow or {}
    full = full.reset_index(drop=True).copy()
    released = released.reset_index(drop=True)
    full["group"] = full["group"].astype(str)
    part_col = "comparison" if "comparison" in full else None
    keys = [part_col, "variable"] if part_col else "variable"
    for key, idx in full.groupby(keys, sort=False).groups.items():
        rows = list(idx)
        values, published, labels, relations = [], [], [], []
        cells = {}

        def cell(name, value, shown):
            cells[name] = len(values)
            values.append(int(value))
            published.append(None if shown is None else int(round(shown)))
            labels.append(name)
            return cells[name]

        kinds = list(dict.fromkeys((full.at[i, "row_type"], str(full.at[i, "level"])) for i in rows))
        main = [k for k in kinds if k[0] != "not_known"]
        single = len(main) == 1 and main[0][0] == "level"
        groups = list(dict.fromkeys(full.loc[rows, "group"]))
        for g in groups:
            gr = [i for i in rows if full.at[i, "group"] == g]
            first, rfirst = full.loc[gr[0]], released.loc[gr[0]]
            n_na, n_na_shown = first["n_not_applicable"], _shown(rfirst["n_not_applicable"])
            if n_na_shown is None and part_col is None:
                n_na_shown = flow.get((str(first["requires"]), g))
            gn_shown = _shown(rfirst["group_n"])
            # dyads eligible = N - not followed up: two published numbers, each rounded on its own
            elig = cell((g, "eligible"), first["group_n"] - n_na, None)
            relations.append(([elig, cell((g, "not followed up"), n_na, n_na_shown)],
                              cell((g, "N"), first["group_n"], gn_shown)))
            members = []
            for kind in kinds:
                hit = [i for i in gr if (full.at[i, "row_type"], str(full.at[i, "level"])) == kind]
                if hit:
                    members.append((kind[0], cell((g, kind), full.at[hit[0], "n"], _shown(released.at[hit[0], "n"]))))
            levels = [c for k, c in members if k == "level"]
            nk = [c for k, c in members if k == "not_known"]
            if levels:
                lv_rows = [i for i in gr if full.at[i, "row_type"] == "level"]
                den_value = int(full.at[lv_rows[0], "denominator"])
                den = cell((g, "denominator"), den_value, _shown(released.at[lv_rows[0], "denominator"]))
                if single:
                    levels.append(cell((g, "complement"), den_value - values[levels[0]], None))
                relations.append((levels, den))
                relations.append(([den, *nk], elig))
            else:
                relations.append(([c for k, c in members], elig))
        if "overall" in groups:
            others = [g for g in groups if g != "overall"]
            for name in list(cells):
                g, kind = name
                if g != "overall" or not all((o, kind) in cells for o in others):
                    continue
                members = [cells[(o, kind)] for o in others]
                rest = values[cells[name]] - sum(values[m] for m in members)
                if rest:
                    members.append(cell(("outside the groups", kind), rest, None))
                relations.append((members, cells[name]))
        yield key, values, published, relations, labels


def union_systems(systems, unions, union_code="1", member_code="2"):
    """Each row counting dyads with any of several variables' level (``unions``: variable -> member
    variables) merged with its members' systems into one, with what an attacker knows besides: in each
    group, every member's count <= the union's count <= the sum of the members' counts. ``systems``:
    name -> (values, published, relations, labels) from ``characteristics_systems``. Yields (name,
    values, published, relations, labels) for each union."""
    for union, members in unions.items():
        if union not in systems:
            continue
        values, published, relations, labels = [], [], [], []
        cell_of = {}
        for name in (union, *[m for m in members if m in systems]):
            v, p, r, lab = systems[name]
            off = len(values)
            values += v
            published += p
            labels += [(name, x) for x in lab]
            relations += [([m + off for m in mem], tot + off) for mem, tot in r]
            cell_of.update({(name, x): i + off for i, x in enumerate(lab)})
        for (name, lab), i in list(cell_of.items()):
            g, kind = lab
            if name != union or kind != ("level", union_code):
                continue
            cells = [cell_of.get((m, (g, ("level", member_code)))) for m in members]
            cells = [c for c in cells if c is not None]
            relations += [("<=", [c], [i]) for c in cells]
            if len(cells) == len(members):
                relations.append(("<=", [i], cells))
        yield union, values, published, relations, labels


def _program(values, published, relations, *, rounding=0, threshold=0, exact=()):
    """The attacker's integer program: (constraints, bounds) over one unknown per cell."""
    n = len(values)
    lo, hi = np.zeros(n), np.full(n, float(sum(abs(v) for v in values) + 1))
    for i, shown in enumerate(published):
        if shown is None:
            continue
        if rounding and i not in exact:
            lo[i] = 0 if shown == 0 else max(shown - rounding // 2, threshold)
            hi[i] = 0 if shown == 0 else shown + rounding // 2
        else:
            lo[i] = hi[i] = shown
    equal = [r for r in relations if len(r) == 2]
    below = [r[1:] for r in relations if len(r) == 3]
    cons = []
    if equal:
        a = np.zeros((len(equal), n))
        for k, (members, total) in enumerate(equal):
            a[k, list(members)] += 1
            a[k, total] -= 1
        cons.append(LinearConstraint(a, 0, 0))
    if below:
        b = np.zeros((len(below), n))
        for k, (smaller, larger) in enumerate(below):
            b[k, list(smaller)] += 1
            b[k, list(larger)] -= 1
        cons.append(LinearConstraint(b, -np.inf, 0))
    return cons, Bounds(lo, hi)


def _table(program, objective):
    """A table that fits everything published and is extreme in ``objective``; None when none fits."""
    cons, box = program
    r = milp(objective, constraints=cons, integrality=np.ones(len(objective)), bounds=box)
    return np.round(r.x).astype(int) if r.success else None


def _extremes(program, n, cell):
    """(min, max) of ``cell`` over the program, with the two tables that reach them."""
    tables = []
    for sign in (1, -1):
        c = np.zeros(n)
        c[cell] = sign
        table = _table(program, c)
        if table is None:
            return None
        tables.append(table)
    return (int(tables[0][cell]), int(tables[1][cell])), tables


def bounds_or_none(values, published, relations, cell, *, rounding=0, threshold=0, exact=()):
    """``bounds`` with cells in ``exact`` known exactly even under rounding; None when nothing fits."""
    program = _program(values, published, relations, rounding=rounding, threshold=threshold, exact=exact)
    found = _extremes(program, len(values), cell)
    return None if found is None else found[0]


def ranges_passing(values, published, relations, cells, passes, *, rounding=0, threshold=0):
    """For each cell of ``cells``: (lo, hi, exact). A range the attacker's tables already show passes
    ``passes`` is returned as shown (exact False): the true range holds it, and ``passes`` must be a rule
    that any wider range also passes. Any other cell's range is the exact minimum and maximum, so a failing
    cell is always reported with its true range. Tables found on the way (first the ones that make all of
    ``cells`` as small and as large as they can be together) are the witnesses; this spares most of the
    two integer programs per cell that ``bounds`` solves."""
    n = len(values)
    program = _program(values, published, relations, rounding=rounding, threshold=threshold)
    seen = []
    for sign in (1, -1):
        c = np.zeros(n)
        c[list(cells)] = sign
        table = _table(program, c)
        assert table is not None, "no table fits the published cells"
        seen.append(table)
    out = {}
    for cell in cells:
        lo, hi = min(int(t[cell]) for t in seen), max(int(t[cell]) for t in seen)
        if passes(lo, hi):
            out[cell] = (lo, hi, False)
            continue
        (lo, hi), tables = _extremes(program, n, cell)
        seen += tables
        out[cell] = (lo, hi, True)
    return out


def wald_or(a, b, c, d, z=1.959963984540054):
    """Odds ratio of x=1 (a events, b non-events) against the reference (c, d) and its Wald interval:
    the maximum-likelihood estimate of a logistic regression on one categorical covariate."""
    if min(a, b, c, d) <= 0:
        return None
    log_or = np.log(a * d / (b * c))
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return float(np.exp(log_or)), float(np.exp(log_or - z * se)), float(np.exp(log_or + z * se))


def tables_fitting(events, non_events, published, digits=2):
    """Every table of a categorical covariate by outcome among a model's complete cases that reproduces
    the published unadjusted odds ratios and Wald intervals at the published precision. ``published``
    maps each non-reference level to (OR, CI low, CI high); returns a list of dicts level -> (events,
    non-events), with the reference under None. Tries every reference cell (c, d), then for each level
    every (a, b) with a + ... fitting, then keeps the combinations whose columns add up."""
    levels = list(published)
    fits = []
    if len(levels) == 1:                       # one level: the reference fixes it (columns add up)
        want = tuple(round(x, digits) for x in published[levels[0]])
        for c in range(1, events):
            for d in range(1, non_events):
                got = wald_or(events - c, non_events - d, c, d)
                if got and tuple(round(x, digits) for x in got) == want:
                    fits.append({None: (c, d), levels[0]: (events - c, non_events - d)})
        return fits
    for c in range(1, events + 1):
        for d in range(1, non_events + 1):
            per = []
            for lv in levels:
                want = tuple(round(x, digits) for x in published[lv])
                cand = []
                for a in range(1, events - c + 1):
                    # OR = a d / (b c) -> b close to a d / (OR c): try the integers around it
                    approx = a * d / (published[lv][0] * c)
                    for b in {int(np.floor(approx)) - 1, int(np.floor(approx)), int(np.ceil(approx)), int(np.ceil(approx)) + 1}:
                        if 1 <= b <= non_events - d:
                            got = wald_or(a, b, c, d)
                            if got and tuple(round(x, digits) for x in got) == want:
                                cand.append((a, b))
                per.append(cand)
                if not cand:
                    break
            if any(not cand for cand in per):
                continue
            for combo in itertools.product(*per):
                if c + sum(a for a, _ in combo) == events and d + sum(b for _, b in combo) == non_events:
                    fits.append({None: (c, d), **dict(zip(levels, combo))})
    return fits


def linked_range(values, published, relations, labels, cell, fits, *, rounding=0, threshold=0):
    """The feasible range of ``cell`` of a characteristics system once the model's table is one of
    ``fits``: each model count is part of its published cell (cell = model count + dyads left out of
    the model, unknown and at least 0). Group "1" holds the events, "0" the non-events; the reference
    level is the one-level row's complement, or its own level. (lo, hi) over every fitting table."""
    index = {lab: i for i, lab in enumerate(labels)}
    low, high = None, None
    for fit in fits:
        v, pub, rel, exact = list(values), list(published), list(relations), set()
        for level, (ev, nev) in fit.items():
            for g, count in (("1", ev), ("0", nev)):
                key = (g, "complement") if level is None and (g, "complement") in index else (g, ("level", str(level)))
                if key not in index:
                    raise KeyError(key)
                v.append(count)
                pub.append(count)
                exact.add(len(v) - 1)
                v.append(max(values[index[key]] - count, 0))
                pub.append(None)
                rel.append(([len(v) - 2, len(v) - 1], index[key]))
        r = bounds_or_none(v, pub, rel, cell, rounding=rounding, threshold=threshold, exact=exact)
        if r is None:
            continue
        low = r[0] if low is None else min(low, r[0])
        high = r[1] if high is None else max(high, r[1])
    return low, high


def class_zeros(values, labels):
    """(index, overall count of its level, its group's known denominator) of every zero level cell (or
    implied complement) of a characteristics system: the caller protects those whose level or group is
    small under its policy (class disclosure)."""
    index = {lab: i for i, lab in enumerate(labels)}
    out = []
    for i, lab in enumerate(labels):
        if not isinstance(lab, tuple) or values[i] != 0:
            continue
        g, kind = lab
        if not (kind == "complement" or (isinstance(kind, tuple) and kind[0] == "level")):
            continue
        row = values[index[("overall", kind)]] if ("overall", kind) in index else None
        den = values[index[(g, "denominator")]] if (g, "denominator") in index else None
        out.append((i, row, den))
    return out
