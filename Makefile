# Thin wrappers over the perinatal-csc CLI. See README.md for the commands without make.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3.11)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test analyse render synth validate wheelhouse clean setup

# REVIEW=1: line numbers and double spacing (submission layout); BLIND=1: no authors (peer review)
MODE := $(if $(filter 1 yes true,$(REVIEW)),--review) $(if $(filter 1 yes true,$(BLIND)),--blind)

report: $(STAMP)
	$(BIN)/perinatal-csc report $(MODE)

test: $(STAMP)
	$(BIN)/python -m pytest

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { echo "error: Python 3.11 is needed ($(PYTHON) is not it); run 'make PYTHON=/path/to/python3.11'" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIP_ARGS) -r requirements.lock
	$(BIN)/python -m pip install --quiet $(PIP_ARGS) --no-deps --no-build-isolation -e .
	touch $(STAMP)

synth: $(STAMP)
	$(BIN)/perinatal-csc synth

validate: $(STAMP)
	$(BIN)/perinatal-csc validate

analyse: $(STAMP)
	$(BIN)/perinatal-csc analyse

render: $(STAMP)
	$(BIN)/perinatal-csc render $(MODE)

# Every pinned wheel (plus the build backend) in one folder, for machines with no package index:
#   make setup PIP_ARGS="--no-index --find-links wheelhouse"
wheelhouse:
	$(PYTHON) -m pip download --only-binary=:all: --dest wheelhouse -r requirements.lock "setuptools==65.5.0"

clean:
	rm -rf _output _results .cache
