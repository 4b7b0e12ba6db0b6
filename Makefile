# Two commands for a newcomer: `make check` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: check test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's metadata changes.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

check: $(STAMP)
	$(BIN)/explorer check

test: $(STAMP)
	$(BIN)/python -m pytest

# Benchmark of every strategy (minutes): reports/bench.{json,md,png}.
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/explorer bench

# Random programs, every strategy against the brute-force census (minutes): reports/soak.{json,md}.
.PHONY: soak
soak: $(STAMP)
	$(BIN)/python -m specs.soak

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
