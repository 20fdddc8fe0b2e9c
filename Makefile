# Two commands: `make run` (set up, align the sample) and `make test` (set up, run the tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SAMPLE := samples/sputnik-2023-12-06
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install model run test test-fast browser bench clean

install: $(STAMP) model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build. The development install
# adds the optional `ray` extra (Ray Data, for `align corpus --engine ray`) so that `make test` runs
# tests/test_ray_engine.py instead of skipping it; `pip install align` alone stays without Ray.
$(STAMP): setup.cfg pyproject.toml Makefile | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,ray]'
	touch $@

model: $(STAMP)
	$(BIN)/align models build

run: install
	@mkdir -p out
	$(BIN)/align pair $(SAMPLE)/ru.txt $(SAMPLE)/az.txt -o out/sample.tsv
	@echo "wrote out/sample.tsv"

# Debian's Chromium for the review page's browser test (no browser download); skipped when not root.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; \
	else echo "note: /usr/bin/chromium missing and not root; the browser test will be skipped"; fi

test: install browser
	$(BIN)/python -m pytest -q -rs

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache
