# `make test` and `make demo` bootstrap .venv from nothing, then run.
# Tests run on every core (pytest-xdist, a module per worker so that module fixtures are built once), one
# thread each: tiny models gain nothing from more.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Real data for the demo; without it the demo says so and runs on the built-in synthetic set.
TTL_DATA ?= ../shared/data/chest_xray_pneumonia

.PHONY: setup test demo lint results clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[dev,ray,track,ct]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check truncatedtl tests benchmarks
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n auto --dist loadscope --durations=15

lint: $(STAMP)
	$(BIN)/ruff check truncatedtl tests benchmarks

# Every table and figure of docs/results (and the figures of docs/img) redrawn from the committed records.
results: $(STAMP)
	$(BIN)/python -m benchmarks redraw

demo: $(STAMP)
	TTL_DATA=$(TTL_DATA) PATH=$(abspath $(BIN)):$$PATH bash scripts/demo.sh

clean:
	rm -rf $(VENV) runs
