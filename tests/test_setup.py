"""Set-up: the supported Python versions agree everywhere, and the lock resolves on each of them.

The lock test asks the package index (as CI does) for a wheel of every pinned version for each
supported Python, without installing anything.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from perinatal_csc.paths import PROJECT_ROOT

MAKEFILE = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = [line.strip() for line in (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")]
SUPPORTED = re.search(r"^SUPPORTED_PYTHON\s*:=\s*(.+)$", MAKEFILE, re.M).group(1).split()


def test_supported_versions_are_the_same_in_makefile_pyproject_and_readme():
    assert SUPPORTED == ["3.11", "3.12", "3.13"]
    spec = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert all(f"{v}.0" in spec for v in SUPPORTED)
    assert "3.10.0" not in spec and "3.14.0" not in spec
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11, 3.12 or 3.13" in readme


def test_make_check_python_accepts_this_interpreter_and_refuses_a_missing_one():
    ok = subprocess.run(["make", "-s", "check-python", f"PYTHON={sys.executable}"], cwd=PROJECT_ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(["make", "-s", "check-python", "PYTHON=/nonexistent/python3.9"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert "one of Python 3.11 3.12 3.13 is needed" in bad.stderr and "not found" in bad.stderr


def test_lock_pins_every_direct_dependency_and_the_build_backend_exactly():
    pinned = {}
    for line in LOCK:
        req = Requirement(line)
        assert len(req.specifier) == 1 and next(iter(req.specifier)).operator == "==", line
        pinned[canonicalize_name(req.name)] = line
    direct = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["test"]]
    missing = [d for d in direct if canonicalize_name(Requirement(d).name) not in pinned]
    assert missing == []
    # `pip install --no-build-isolation -e .` needs setuptools in the venv; Python >= 3.12 venvs have none
    assert "setuptools" in pinned


OTHER_PYTHONS = [v for v in SUPPORTED if v != "3.11"]       # 3.11: the suite's own venv


@pytest.fixture(scope="module")
def lock_resolutions(tmp_path_factory):
    """pip's dry-run resolution of the lock for each other supported Python, all started at once (each
    waits mostly on the package index): version -> (exit code, stderr)."""
    procs = {v: subprocess.Popen(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--python-version", v, "--target", str(tmp_path_factory.mktemp(f"py{v}") / "t"),
         "-r", str(PROJECT_ROOT / "requirements.lock")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for v in OTHER_PYTHONS}
    errors = {v: p.communicate(timeout=600)[1] for v, p in procs.items()}
    return {v: (p.returncode, errors[v]) for v, p in procs.items()}


@pytest.mark.parametrize("version", OTHER_PYTHONS)
def test_lock_resolves_with_wheels_only_on_each_supported_python(version, lock_resolutions):
    code, err = lock_resolutions[version]
    assert code == 0, err[-3000:]
