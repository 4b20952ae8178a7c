"""The register of releases warns when a new release differs from an earlier one by a protected count."""
import pandas as pd

from perinatal_csc.disclose.policy import PRESETS
from perinatal_csc.disclose.register import differencing_warnings, published_counts, record
from perinatal_csc.disclose.release import release


def headline(n_cohort, n_csc):
    return {"headline": pd.DataFrame([
        {"measure": "dyads", "label": "Dyads", "population": "cohort", "n": n_cohort, "denominator": pd.NA, "percent": None},
        {"measure": "csc_index", "label": "CSC", "population": "cohort", "n": n_csc, "denominator": n_cohort,
         "percent": 100 * n_csc / n_cohort}])}


def test_a_new_release_one_dyad_larger_is_flagged_and_a_same_one_is_not(tmp_path):
    path = tmp_path / "register.json"
    policy = PRESETS["cohort"]
    first = release(headline(278, 99), policy)
    assert differencing_warnings(path, first, policy) == []
    record(path, first, "inputs-1")
    assert differencing_warnings(path, release(headline(278, 99), policy), policy) == []
    warnings = differencing_warnings(path, release(headline(279, 100), policy), policy)
    assert len(warnings) == 3 and all("difference (1)" in w for w in warnings)
    assert not differencing_warnings(path, release(headline(300, 120), policy), policy)


def test_the_register_holds_only_published_counts(tmp_path):
    rel = release(headline(278, 3), PRESETS["cohort"])
    counts = published_counts(rel)
    assert not any(v == 3 for v in counts.values())
    record(tmp_path / "r.json", rel, "x")
    assert '"n": 3' not in (tmp_path / "r.json").read_text() and ": 3\n" not in (tmp_path / "r.json").read_text()
