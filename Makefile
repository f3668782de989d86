# `make demo` and `make test` set themselves up on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= mle-ci-results
TORCH ?= 2.13.0
ACTIONLINT ?= $(BIN)/actionlint
WORKFLOWS := .github/workflows/*.yml examples/gpu-runner.yml examples/job-container.yml examples/no-docker.yml

.PHONY: demo example test lint unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: its CPU wheel; a bare `torch` would pull a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==$(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

## demo: the baseline agent on the default demo competition, every report in mle-ci-results/
demo: $(STAMP)
	$(BIN)/mle-ci run

## example: a user's own training script under the harness (examples/train_kfold.py)
example: $(STAMP)
	$(BIN)/mle-ci run --folds 5 --timeout 5m --heartbeat 10s --output-dir $(OUT)-example -- $(BIN)/python examples/train_kfold.py

## test: linters, type checks, the import contract, then the test suite
test: lint unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile integrations/mlebench/Dockerfile
	$(BIN)/shellcheck integrations/mlebench/start.sh
	$(ACTIONLINT) -shellcheck $(BIN)/shellcheck $(WORKFLOWS) examples/matrix.yml

unit: $(STAMP)
	$(BIN)/pytest -q

## bench: the supervision overhead and timing benchmarks (figures printed, nothing asserted)
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache
