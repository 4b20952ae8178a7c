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
