"""The pipeline never analyses a stale synthetic cohort and writes results only into the source's folder."""
from pathlib import Path

import pandas as pd
import pytest
import yaml

from perinatal_csc.config import load_config
from perinatal_csc.pipeline import ensure_synthetic, write_results


def _config(tmp_path: Path, n: int = 40, seed: int = 3):
    cfg = {"data": {"source": "synthetic", "synthetic": {"path": str(tmp_path / "syn.csv"), "n": n, "seed": seed}},
           "results_dir": str(tmp_path / "_results")}
    p = tmp_path / "project.yml"
    p.write_text(yaml.safe_dump(cfg))
    return load_config(p)


def test_stale_synthetic_file_is_rebuilt(tmp_path):
    cfg = _config(tmp_path)
    path = ensure_synthetic(cfg)
    good = path.read_bytes()
    path.write_text("dyad_id\nstale\n")
    ensure_synthetic(cfg)
    assert path.read_bytes() == good
    assert not list(tmp_path.glob("*.new"))


def test_unchanged_synthetic_file_is_not_rewritten(tmp_path):
    cfg = _config(tmp_path)
    path = ensure_synthetic(cfg)
    mtime = path.stat().st_mtime_ns
    ensure_synthetic(cfg)
    assert path.stat().st_mtime_ns == mtime


def test_configuration_n_and_seed_reach_the_file(tmp_path):
    df = pd.read_csv(ensure_synthetic(_config(tmp_path, n=57)))
    assert len(df) == 57


def test_results_go_to_the_sources_own_folder(tmp_path):
    cfg = _config(tmp_path)
    assert cfg.results_dir == tmp_path / "_results" / "synthetic"
    paths = write_results({"t": pd.DataFrame({"a": [1, 2]})}, cfg.results_dir)
    assert pd.read_csv(paths[0])["a"].tolist() == [1, 2]


def test_tables_of_an_earlier_run_that_this_run_no_longer_makes_are_removed(tmp_path):
    out = tmp_path / "res"
    write_results({"a": pd.DataFrame({"x": [1]}), "old": pd.DataFrame({"x": [2]})}, out)
    (out / "notes.txt").write_text("mine")
    write_results({"a": pd.DataFrame({"x": [3]})}, out)
    assert sorted(p.name for p in out.iterdir()) == ["MANIFEST.txt", "a.csv", "notes.txt"]
    assert pd.read_csv(out / "a.csv")["x"].tolist() == [3]


def test_a_table_that_cannot_be_written_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "res"
    write_results({"a": pd.DataFrame({"x": [1]})}, out)

    class Broken(pd.DataFrame):
        def to_csv(self, *a, **k):
            raise OSError("disk full")

    with pytest.raises(OSError):
        write_results({"a": pd.DataFrame({"x": [9]}), "b": Broken({"x": [1]})}, out)
    assert pd.read_csv(out / "a.csv")["x"].tolist() == [1]
    assert sorted(p.name for p in out.iterdir()) == ["MANIFEST.txt", "a.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["res"]
