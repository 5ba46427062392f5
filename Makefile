# Two commands do everything on a fresh machine: `make run` (the embedded default, end to end) and
# `make test` (every test but the gpu ones). Both create .venv first when it is missing or stale.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# dvc.yaml commands say `python -m stages.<name>`: the project's interpreter must come first on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Offline by construction: no hub, no telemetry (see ../shared/docs/env.md section 8).
# One variable per `export` line: make reads `export A=1 B=2` as A="1 B=2".
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export HF_DATASETS_DISABLE_PROGRESS_BARS := 1
export TRANSFORMERS_VERBOSITY := error
export DO_NOT_TRACK := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
export GX_ANALYTICS_ENABLED := false
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export PREFECT_HOME := $(CURDIR)/.cache/prefect
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export HF_HOME := $(CURDIR)/.cache/huggingface

.PHONY: run test test-fast env bench pipeline clean-venv

env: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 \
	  | { grep -v "^WARNING: Location 'file:" || true; }
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt 2>&1 \
	  | { grep -v "^WARNING: Location 'file:" || true; }
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 \
	  | { grep -v "^WARNING: Location 'file:" || true; }
	touch $@

run: $(STAMP)
	$(BIN)/dvc repro
	$(BIN)/safealign gate
	@echo
	@echo "Reports:      $(CURDIR)/reports/ ($$(ls reports/*.html 2>/dev/null | tr '\n' ' '))"
	@echo "Metrics:      $(CURDIR)/metrics/  (dvc metrics show)"
	@echo "MLflow store: $(CURDIR)/mlflow.db  ($(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db)"

test: $(STAMP)
	$(BIN)/python -m pytest -m "not gpu" -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not gpu and not slow" -q

pipeline: $(STAMP)
	$(BIN)/python -m flows.pipeline

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean-venv:
	rm -rf $(VENV)
