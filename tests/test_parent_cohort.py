"""The parent cohort and the dyads analysed: every analysis counts the dyads whose CSC status during the
episode is known; the participant flow and the headline count the parent cohort, and disclosure control
keeps the analysed N published (it is every table's N), hiding the parent cohort's size with a small
exclusion."""
from __future__ import annotations

import pytest

from perinatal_csc.config import DEFAULT_CONFIG, load_config
from perinatal_csc.data.codebook import load_codebook
from perinatal_csc.data.derive import derive
from perinatal_csc.data.load import load_cohort
from perinatal_csc.data.synth import generate, write_cohort
from perinatal_csc.disclose.policy import MARKER
from perinatal_csc.pipeline import disclose, run_analysis


@pytest.fixture(scope="module", params=[2, 6])
def analysed(request, tmp_path_factory):
    """A synthetic cohort of 120 dyads with ``k`` more whose CSC status during the episode was blanked, and
    its results and release."""
    k = request.param
    raw = generate(120 + k, 5)
    raw = raw[raw["csc_status_index"].notna()].reset_index(drop=True)
    raw.loc[raw.index[-k:], "csc_status_index"] = None
    path = write_cohort(raw, tmp_path_factory.mktemp("parent") / "cohort.csv")
    cfg = load_config(DEFAULT_CONFIG)
    data = derive(load_cohort(path).data, load_codebook(cfg.codebook_path))
    full = run_analysis(data, cfg)
    return k, len(raw), full, disclose(full, cfg).tables


def _row(t, **key):
    for col, v in key.items():
        t = t[t[col].astype(str) == v]
    assert len(t) == 1, key
    return t.iloc[0]


def test_tables_count_the_analysed_dyads_and_the_flow_the_parent_cohort(analysed):
    k, n_parent, full, _ = analysed
    age = full["table1_sociodemographic"]
    age = age[(age["variable"] == "maternal_age") & (age["group"] == "overall")]
    assert set(age["group_n"].astype(int)) == {n_parent - k}
    flow = full["flow"]
    assert int(_row(flow, stage="cohort", group="overall")["n"]) == n_parent
    first = _row(flow, stage="analysed_episode", group="overall")
    assert (int(first["n"]), int(first["excluded"])) == (n_parent - k, k)
    head = full["headline"].set_index("measure")
    assert (int(head.at["parent", "n"]), int(head.at["dyads", "n"])) == (n_parent, n_parent - k)
    excluded = full["models_exclusions"]
    assert set(excluded.loc[excluded["step"] == 0, "remaining"].astype(int)) == {n_parent - k}


def test_a_small_exclusion_hides_the_parent_cohort_not_the_analysed_n(analysed):
    k, n_parent, _, rel = analysed
    cohort = _row(rel["flow"], stage="cohort", group="overall")
    first = _row(rel["flow"], stage="analysed_episode", group="overall")
    assert str(first["n"]) == str(n_parent - k)
    head = rel["headline"].set_index("measure")
    if k < 5:
        assert cohort["n"] == MARKER and first["excluded"] == MARKER and head.at["parent", "n"] == MARKER
    else:
        assert str(cohort["n"]) == str(n_parent) and str(first["excluded"]) == str(k)
        assert str(head.at["parent", "n"]) == str(n_parent)
