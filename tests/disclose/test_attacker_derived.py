"""The attacker with every released file in hand, beyond the additive equations: the audit and output
request, means, SDs, medians and quartiles beside a suppressed number of dyads, q-values beside
withheld p-values, and rank statistics beside a suppressed number of zero differences. Cohorts of
278, 200 and 120 dyads, under the presets that suppress (``cohort``, ``tre``)."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from statsmodels.stats.multitest import multipletests

from perinatal_csc.config import load_config
from perinatal_csc.disclose.policy import MARKER, PRESETS
from perinatal_csc.pipeline import SUMMARY_TABLE, cohort, disclose, run_analysis, write_release

from disclosure_attacker import _shown, bounds, characteristics_systems, safe

COHORTS = ((278, 2023), (200, 2023), (120, 2023))
PRESET_NAMES = ("cohort", "tre")
CHARACTERISTICS = ("table1_sociodemographic", "table2_clinical", "table3_needs", "table5_subgroups")


@pytest.fixture(scope="module", params=COHORTS, ids=[f"n{n}" for n, _ in COHORTS])
def analysed(request, tmp_path_factory):
    """The internal results of one cohort and, per preset, the release folder written as ``analyse`` does."""
    n, seed = request.param
    tmp = tmp_path_factory.mktemp(f"n{n}")
    out = {}
    for preset in PRESET_NAMES:
        cfg_path = tmp / f"{preset}.yml"
        cfg_path.write_text(yaml.safe_dump({"disclosure": preset, "data": {"source": "synthetic", "synthetic": {
            "path": str(tmp / "cohort.csv"), "n": n, "seed": seed}}}))
        cfg = load_config(cfg_path)
        if "full" not in out:
            out["full"] = run_analysis(cohort(cfg), cfg)
        folder = tmp / preset / "release"
        folder.mkdir(parents=True)
        write_release(disclose(out["full"], cfg), folder)
        out[preset] = folder
    return out


def read(folder, key):
    return pd.read_csv(folder / f"{key}.csv", dtype=str, keep_default_na=False)


def num(v):
    return _shown(v) if v not in ("", None) else None


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_audit_and_output_request_never_tell_a_small_count_from_its_complements(analysed, preset):
    folder = analysed[preset]
    text = (folder / "disclosure_audit.json").read_text() + (folder / "output_request.csv").read_text()
    for word in ("primary", "secondary", "complementary suppression:"):
        assert word not in text.lower() or word == "complementary suppression:" and "same mark" in text, word
    audit = json.loads((folder / "disclosure_audit.json").read_text())
    assert "decisions" not in audit
    for counts in audit["outputs"].values():
        assert set(counts) <= {"suppressed", "summary", "test", "model_estimate", "model_link", "rounded",
                               "q_adjusted", "coarsened"}
    internal = json.loads((folder.parent / "disclosure_decisions_internal.json").read_text())
    assert {d["kind"] for d in internal["decisions"]} & {"primary", "secondary"}


def _whole_number_quantile_fits(value, n, p):
    """Could a type-7 quantile of ``n`` whole numbers print as ``value`` (1 decimal place)? It is
    x_k + f (x_{k+1} - x_k) with f the fractional part of (n - 1) p and whole x: try gaps 0 to 20."""
    f = ((n - 1) * p) % 1
    for gap in range(21):
        frac = (f * gap) % 1
        for base in (math.floor(value) - 1, math.floor(value), math.floor(value) + 1):
            if abs(round(base + frac, 1) - value) < 1e-9:
                return True
    return False


def _mean_sd_fit(mean, sd, n):
    """Is there a sum S and sum of squares Q of ``n`` whole numbers with that mean and SD (1 decimal
    place)? S in the mean's rounding interval; Q = (n - 1) SD^2 + S^2 / n in the SD's, with Q = S mod 2."""
    if n < 2:
        return False
    for s in range(math.ceil(n * (mean - 0.05) - 1e-9), math.floor(n * (mean + 0.05) + 1e-9) + 1):
        lo = (n - 1) * max(sd - 0.05, 0) ** 2 + s * s / n
        hi = (n - 1) * (sd + 0.05) ** 2 + s * s / n
        for q in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1):
            if (q - s) % 2 == 0:
                return True
    return False


def _candidates(row, lo, hi):
    """Numbers of dyads with a value in [lo, hi] that the released mean, SD, median and quartiles allow
    (whole-number data: the worst case for the publisher)."""
    out = []
    for n in range(max(lo, 0), hi + 1):
        ok = True
        if num(row["mean"]) is not None and num(row["sd"]) is not None:
            ok = _mean_sd_fit(num(row["mean"]), num(row["sd"]), n)
        for col, p in (("median", 0.5), ("q1", 0.25), ("q3", 0.75)):
            v = num(row[col])
            if ok and v is not None:
                ok = _whole_number_quantile_fits(v, n, p)
        if ok:
            out.append(n)
    return out


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_no_mean_sd_median_or_quartile_pins_a_suppressed_number_of_dyads(analysed, preset):
    """For each summary whose number of dyads with a value is suppressed: the integer program's range
    for it, narrowed by every released summary statistic, still leaves its "Not known" complement
    protected (at least three values, one below the threshold and one at or above it)."""
    policy = PRESETS[preset]
    full, folder = analysed["full"], analysed[preset]
    checked, problems = 0, []
    for key in CHARACTERISTICS:
        rel = read(folder, key)
        released = rel.replace("", np.nan)
        for name, values, published, relations, labels in characteristics_systems(full[key], released):
            for i, lab in enumerate(labels):
                if not (isinstance(lab, tuple) and isinstance(lab[1], tuple) and lab[1][0] == "summary"):
                    continue
                if published[i] is not None:
                    continue
                g = lab[0]
                nk = labels.index((g, ("not_known", "not_known"))) if (g, ("not_known", "not_known")) in labels else None
                if nk is None or not policy.protects(values[nk]):
                    continue
                parts = name if isinstance(name, tuple) else (name,)
                match = (full[key]["variable"] == parts[-1]) & (full[key]["group"].astype(str) == g) \
                    & (full[key]["row_type"] == "summary")
                if len(parts) == 2:
                    match &= full[key]["comparison"] == parts[0]
                row = rel.loc[match.to_numpy()].iloc[0]
                lo, hi = bounds(values, published, relations, i)
                elig = labels.index((g, "eligible"))
                elo, ehi = bounds(values, published, relations, elig)
                ns = _candidates(row, lo, hi)
                assert values[i] in ns, (key, name, g, "the true number fails the attacker's own test")
                nks = sorted({e - n for n in ns for e in range(elo, ehi + 1) if 0 <= e - n})
                checked += 1
                if not (len(nks) >= 3 and min(nks) < policy.threshold <= max(nks)):
                    problems.append(f"{key}: {name} {g}: Not known could be only {nks}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_released_q_values_are_a_function_of_released_p_values_only(analysed, preset):
    """Benjamini-Hochberg (statsmodels) is monotone in each p: with every withheld p set to 1 and each
    released p at either end of its rounding interval, the released q-values lie between the two
    results. They are then a function of released p-values alone and tell nothing of a withheld one
    (a q computed with the withheld p-values would be lower where they are small)."""
    folder = analysed[preset]
    checked = 0
    for key in ("table1_sociodemographic", "table2_clinical", "table3_needs", "table5_subgroups"):
        rel = read(folder, key)
        fams = rel.groupby("comparison", sort=False) if "comparison" in rel else [("all", rel)]
        for _, fam in fams:
            tests = fam.drop_duplicates("variable")
            tests = tests[tests["p"] != ""]
            hidden = (tests["p"] == MARKER).to_numpy()
            if not hidden.any() or hidden.all():
                continue
            shown = [i for i, (h, q) in enumerate(zip(hidden, tests["q"])) if not h and q not in ("", MARKER)]
            if not shown:
                continue
            p = np.array([1.0 if h else float(v) for v, h in zip(tests["p"], hidden)])
            low = multipletests(np.where(hidden, 1.0, np.maximum(p - 0.0005, 0)), method="fdr_bh")[1][shown]
            high = multipletests(np.where(hidden, 1.0, np.minimum(p + 0.0005, 1)), method="fdr_bh")[1][shown]
            q = np.array([float(v) for v in tests["q"].to_numpy()[shown]])
            assert (q >= np.round(low, 3) - 1e-9).all() and (q <= np.round(high, 3) + 1e-9).all(), key
            checked += 1
    if preset == "cohort":
        assert checked, "no family with a withheld p-value: the check did not run"


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_no_rank_statistic_sits_beside_a_suppressed_number_of_zero_differences_or_dyads(analysed, preset):
    """A signed-rank or rank-sum statistic with its p and the group sizes gives the number of pairs
    (or dyads) it was computed on: where that number or a note count is suppressed, so is the statistic."""
    folder = analysed[preset]
    for key in ("table4_paired_tests", "table4_needs_change"):
        rel = read(folder, key)
        for _, r in rel.iterrows():
            note_hidden = MARKER in r.get("note", "")
            count_hidden = MARKER in (r.get("n_pairs", ""), r.get("n", ""))
            if note_hidden or count_hidden:
                assert r["statistic"] in (MARKER, ""), (key, r["label"], r["group_label"])
    for key in CHARACTERISTICS:
        rel = read(folder, key)
        for _, g in rel.groupby(["comparison", "variable"] if "comparison" in rel else "variable"):
            if (g["n"] == MARKER).any():
                assert (g["statistic"].isin([MARKER, ""])).all()


def _stuart_maxwell(tables: np.ndarray) -> np.ndarray:
    """The Stuart-Maxwell statistic of each k x k table in ``tables`` (textbook form: d' V^-1 d with d the
    row-minus-column margins and V their covariance, the last category left out; categories empty at
    both timepoints dropped is not needed here, every table has the same margins)."""
    rows, cols = tables.sum(axis=2), tables.sum(axis=1)
    d = (rows - cols)[:, :-1]
    v = -(tables + np.transpose(tables, (0, 2, 1))).astype(float)
    idx = np.arange(tables.shape[1])
    v[:, idx, idx] = rows + cols - 2 * tables[:, idx, idx]
    v = v[:, :-1, :-1]
    return np.einsum("ti,tij,tj->t", d, np.linalg.pinv(v), d)


def _witness(shown: np.ndarray, row_totals: list, col_totals: list, pairs: int, cell: tuple[int, int], value: int,
             statistic: float | None, seed: int, budget: int = 200_000) -> bool:
    """Is there a table of whole numbers >= 0 with the shown cells (NaN where suppressed), the row totals,
    the column totals that are shown (None where suppressed), ``pairs`` in all, ``cell`` = ``value`` and a Stuart-Maxwell
    statistic that prints as ``statistic`` (2 decimal places)? A depth-first search in a seeded random
    order, stopped at the first such table or after ``budget`` steps (then: not found)."""
    rng = np.random.default_rng(seed)
    k = shown.shape[0]
    base = np.nan_to_num(shown).astype(int)
    hidden = [(i, j) for i in range(k) for j in range(k) if np.isnan(shown[i, j]) and (i, j) != cell]
    base[cell] = value
    rl = [None if r is None else r - base[i].sum() for i, r in enumerate(row_totals)]
    cl = [None if c is None else c - base[:, j].sum() for j, c in enumerate(col_totals)]
    if any(x is not None and x < 0 for x in (*rl, *cl)):
        return False
    cap = int(pairs - base.sum())
    steps = [0]

    def fill(pos: int, table: np.ndarray) -> bool:
        steps[0] += 1
        if steps[0] > budget:
            return False
        if pos == len(hidden):
            if any(x not in (None, 0) for x in (*rl, *cl)) or table.sum() != pairs:
                return False
            return statistic is None or abs(_stuart_maxwell(table[None])[0] - statistic) <= 0.005 + 1e-9
        i, j = hidden[pos]
        last_in_row = all(h[0] != i for h in hidden[pos + 1:])
        last_in_column = all(h[1] != j for h in hidden[pos + 1:])
        top = min(x for x in (rl[i], cl[j], cap - int(table.sum() - base.sum())) if x is not None)
        options = ([rl[i]] if last_in_row and rl[i] is not None
                   else [cl[j]] if last_in_column and cl[j] is not None
                   else rng.permutation(max(top, -1) + 1).tolist())
        for v in options:
            if v < 0 or v > top:
                continue
            table[i, j] = v
            if rl[i] is not None:
                rl[i] -= v
            if cl[j] is not None:
                cl[j] -= v
            found = fill(pos + 1, table)
            if rl[i] is not None:
                rl[i] += v
            if cl[j] is not None:
                cl[j] += v
            if found:
                return True
        table[i, j] = 0
        return False

    return fill(0, base.copy())


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_the_stuart_maxwell_statistic_narrows_no_suppressed_transition(analysed, preset):
    """For each protected cell of the released transition table, a search over the completions of the
    table (hidden cells whole numbers; rows, shown column totals and pairs adding up; the Stuart-Maxwell
    statistic as released, when it is) finds at least three values, one below the threshold and one at
    or above it. The statistic is released only when no cell is suppressed: it is a non-linear function
    of the mirrored cell sums that the integer program cannot bound."""
    from statsmodels.stats.contingency_tables import SquareTable

    policy = PRESETS[preset]
    full = analysed["full"]["table4_transitions"]
    rel = read(analysed[preset], "table4_transitions")
    tests = read(analysed[preset], "table4_paired_tests")
    sm = tests[tests["test"].str.startswith("Stuart")].iloc[0]
    cells = full[full["row_type"] == "level"]
    levels, groups = list(dict.fromkeys(cells["level"])), list(dict.fromkeys(cells["group"]))
    true = cells.pivot(index="level", columns="group", values="n").reindex(index=levels, columns=groups).to_numpy(int)
    if true.sum(axis=0).min() > 0 and true.sum(axis=1).min() > 0:     # our formula against statsmodels
        assert _stuart_maxwell(true[None])[0] == pytest.approx(SquareTable(true, shift_zeros=False).homogeneity().statistic, rel=1e-9)
    rcells = rel[rel["row_type"] == "level"]
    shown = np.full(true.shape, np.nan)
    for _, r in rcells.iterrows():
        if r["n"] != MARKER:
            shown[levels.index(r["level"]), groups.index(r["group"])] = float(r["n"])
    if not np.isnan(shown).any():
        return
    assert sm["statistic"] in ("", MARKER) and sm["p"] in ("", MARKER)
    dens = [rcells[rcells["level"] == lv]["denominator"].iloc[0] for lv in levels]
    row_totals = [None if d == MARKER else int(d) for d in dens]
    pairs = int(rcells["n_pairs"].iloc[0])
    totals = rel[rel["row_type"] == "total"].set_index("group")["n"]
    col_totals = [None if totals[g] == MARKER else int(totals[g]) for g in groups]
    statistic = None if sm["statistic"] in ("", MARKER) else float(sm["statistic"])
    problems = []
    for i, j in zip(*np.nonzero(np.isnan(shown))):
        v0 = int(true[i, j])
        if not policy.protects(v0):
            continue
        top = pairs if row_totals[i] is None else row_totals[i]
        found = {v0}
        above = [v for v in range(policy.threshold, top + 1)]
        for v in above:                        # a witness at or above the threshold
            if _witness(shown, row_totals, col_totals, pairs, (i, j), v, statistic, seed=v):
                found.add(v)
                break
        for v in sorted(set(range(0, top + 1)) - found, key=lambda v: abs(v - v0)):   # and one more value
            if _witness(shown, row_totals, col_totals, pairs, (i, j), v, statistic, seed=v):
                found.add(v)
                break
        if not (len(found) >= 3 and min(found) < policy.threshold <= max(found)):
            problems.append(f"{levels[i]} -> {groups[j]}: only {sorted(found)} found")
    assert not problems, problems
