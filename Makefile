# Thin wrappers over the perinatal-csc CLI. See README.md for the commands without make.
# Supported Python versions (also pyproject.toml's requires-python; tests/test_setup.py checks they agree).
SUPPORTED_PYTHON := 3.11 3.12 3.13
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3.12 2>/dev/null || command -v python3.13 2>/dev/null || command -v python3 2>/dev/null || echo python3)
SHELL  := /bin/bash
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test test-quarto analyse render synth validate wheelhouse clean setup check-python

# REVIEW=1: line numbers and double spacing (submission layout); BLIND=1: no authors (peer review)
MODE := $(if $(filter 1 yes true,$(REVIEW)),--review) $(if $(filter 1 yes true,$(BLIND)),--blind)

report: $(STAMP)
	$(BIN)/perinatal-csc report $(MODE)

# The suite in JOBS processes (pytest-xdist), each test file whole in one of them; JOBS=1 runs it in this one.
JOBS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest $(if $(filter 1,$(JOBS)),,-n $(JOBS) --dist loadfile)

# The rendering tests under a real Quarto (make test-quarto QUARTO=/path/to/bin/quarto, else the one on
# PATH; they fail without one): ../shared/tools/quarto/build.sh builds Quarto 1.7.34 or 1.10.18 offline.
test-quarto: $(STAMP)
	QUARTO="$(QUARTO)" $(BIN)/python -m pytest -m quarto tests/render/test_quarto_real.py

setup: $(STAMP)

# Exits 0 when $(PYTHON) is one of SUPPORTED_PYTHON, else says which versions are and how to choose one.
check-python:
	@$(PYTHON) -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] not in "$(SUPPORTED_PYTHON)".split())' 2>/dev/null \
	  || { echo "error: one of Python $(SUPPORTED_PYTHON) is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo 'not found'). Run e.g. 'make PYTHON=/path/to/python3.12'" >&2; exit 1; }

# Set-up says what it does and roughly how long it takes; pip shows each package as it is fetched.
$(STAMP): requirements.lock pyproject.toml
	@$(MAKE) --no-print-directory check-python PYTHON="$(PYTHON)"
	@start=$$(date +%s); \
	echo "==> set-up 1/3: creating $(VENV) with $$($(PYTHON) --version 2>&1) ($(PYTHON))"; \
	$(PYTHON) -m venv $(VENV) || exit 1; \
	echo "==> set-up 2/3: installing the $$(grep -c '==' requirements.lock) pinned packages of requirements.lock"; \
	echo "    (about 1-3 minutes on a first run with a fast package index; each package is listed as it arrives)"; \
	PYTHONUNBUFFERED=1 $(BIN)/python -m pip install --disable-pip-version-check --progress-bar off $(PIP_ARGS) -r requirements.lock \
	  | awk -v total="$$(grep -c '==' requirements.lock)" \
	      '/^(Collecting|Processing) / { n++; name = $$2; if (name ~ /\.whl$$/) { sub(/.*\//, "", name); split(name, w, "-"); name = w[1] "==" w[2] }; printf "    [%d/%d] %s\n", n, total, name } \
	       /^Installing collected/ { print "    unpacking and installing them all (the slowest step: about half a minute)" } \
	       /^Successfully installed/ { print "    installed" } { fflush() }'; \
	status=$${PIPESTATUS[0]}; [ "$$status" -eq 0 ] || { echo "error: pip could not install requirements.lock (see above)" >&2; exit 1; }; \
	echo "==> set-up 3/3: installing the perinatal-csc package itself (editable)"; \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(PIP_ARGS) --no-deps --no-build-isolation -e . || exit 1; \
	touch $(STAMP); \
	echo "==> set-up done in $$(( $$(date +%s) - start )) s; it runs again only when requirements.lock or pyproject.toml change"

synth: $(STAMP)
	$(BIN)/perinatal-csc synth

validate: $(STAMP)
	$(BIN)/perinatal-csc validate

analyse: $(STAMP)
	$(BIN)/perinatal-csc analyse

render: $(STAMP)
	$(BIN)/perinatal-csc render $(MODE)

# Every pinned wheel (the build backend, setuptools, is pinned in the lock too) in one folder, for
# machines with no package index:   make setup PIP_ARGS="--no-index --find-links wheelhouse"
wheelhouse:
	$(PYTHON) -m pip download --only-binary=:all: --dest wheelhouse -r requirements.lock

clean:
	rm -rf _output _results .cache
