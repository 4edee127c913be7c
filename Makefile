# `make demo` and `make test` set everything up on first use.
PYTHON ?= python3
VENV := .venv
LOWEST := .venv-lowest
BIN := $(VENV)/bin

.PHONY: demo test test-fast test-wheel test-lowest lint typecheck format bench clean

demo: $(VENV)/.installed
	$(BIN)/watcher demo --serve

test: $(VENV)/.installed
	$(BIN)/pytest

# The edit loop: everything but the tests marked slow.
test-fast: $(VENV)/.installed
	$(BIN)/pytest -m "not slow"

# The built wheel in a fresh virtual environment, with the CLI run from it.
test-wheel: $(VENV)/.installed
	$(BIN)/python .ci/wheel_smoke.py

# The suite on the lowest versions pyproject allows for watcher's own dependencies
# (theirs at the newest), resolved afresh each time, so a floor that no longer works fails.
test-lowest: $(VENV)/.installed
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(PYTHON) $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[test]'
	$(LOWEST)/bin/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# Measurements, not tests (benchmarks/README.md): options go through BENCH_ARGS,
# e.g. make bench BENCH_ARGS="--only warm,facts".
bench: $(VENV)/.installed
	benchmarks/run $(BENCH_ARGS)

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .ruff_cache .mypy_cache
