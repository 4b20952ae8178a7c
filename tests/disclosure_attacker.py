"""An attacker, written apart from the package: an integer program over everything published.

Cells are integer unknowns >= 0; published cells are fixed (or, when rounded to a multiple of
``rounding``, lie in the interval the rounding allows); every known additive relation holds. The
attacker's bounds on a suppressed cell are its minimum and maximum.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


def bounds(values, published, relations, cell, *, rounding=0, threshold=0):
    """(min, max) of ``cell``. ``published[i]`` is the number shown (None when suppressed);
    ``relations`` is a list of (members, total) index lists."""
    n = len(values)
    lo, hi = np.zeros(n), np.full(n, float(sum(values) + 1))
    for i, shown in enumerate(published):
        if shown is None:
            continue
        if rounding:
            lo[i] = 0 if shown == 0 else max(shown - rounding // 2, threshold)
            hi[i] = 0 if shown == 0 else shown + rounding // 2
        else:
            lo[i] = hi[i] = shown
    a = np.zeros((len(relations), n))
    for k, (members, total) in enumerate(relations):
        a[k, list(members)] += 1
        a[k, total] -= 1
    out = []
    for sign in (1, -1):
        c = np.zeros(n)
        c[cell] = sign
        r = milp(c, constraints=[LinearConstraint(a, 0, 0)] if relations else [], integrality=np.ones(n),
                 bounds=Bounds(lo, hi))
        assert r.success, r.message
        out.append(round(sign * r.fun))
    return out[0], out[1]


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


def characteristics_systems(full, released):
    """For each population (comparison) and variable of a describe-style table: the true counts, what the
    release shows of each, and the additive relations an attacker knows (levels + implied complement =
    denominator; denominator + "Not known" = dyads eligible = N - not followed up; overall = sum of the
    groups, plus an unknown remainder when they differ). Yields (name, values, published, relations,
    labels)."""
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
            gn_shown = _shown(rfirst["group_n"])
            elig = cell((g, "eligible"), first["group_n"] - n_na,
                        None if gn_shown is None or n_na_shown is None else gn_shown - n_na_shown)
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
