# `make demo` and `make test` set themselves up on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= mle-ci-results
TORCH ?= 2.13.0
ACTIONLINT ?= $(BIN)/actionlint
WORKFLOWS := .github/workflows/*.yml examples/gpu-runner.yml examples/job-container.yml examples/no-docker.yml
# The image's lock files: its Python (the Dockerfile's base), torch's CPU wheels (not on PyPI), uv that compiles.
IMAGE_PYTHON ?= 3.11
TORCH_CPU_WHEELS ?= https://download.pytorch.org/whl/cpu/torch/
UV_VERSION ?= 0.13.9
UV ?= $(BIN)/uv
IMAGE_LOCK = $(UV) pip compile --quiet pyproject.toml - --extra agents --extra claude --generate-hashes \
	--python-version $(IMAGE_PYTHON) --python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock'

.PHONY: demo example test lint unit bench lock clean

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

## lock: the image's Python packages pinned with their hashes, torch at $(TORCH) (CUDA from PyPI, and the CPU wheel)
lock: $(UV)
	printf 'torch==%s\nsetuptools\n' '$(TORCH)' | $(IMAGE_LOCK) --output-file requirements/image-cuda.txt
	printf 'torch==%s+cpu\nsetuptools\n' '$(TORCH)' | $(IMAGE_LOCK) --find-links $(TORCH_CPU_WHEELS) \
		--output-file requirements/image-cpu.txt

$(BIN)/uv: $(STAMP)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache
