# `make test` and `make demo` bootstrap .venv from nothing, then run.
# Tests run on every core (pytest-xdist, a module per worker so that module fixtures are built once), one
# thread each: tiny models gain nothing from more.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Real data for the demo; without it the demo says so and runs on the built-in synthetic set.
TTL_DATA ?= ../shared/data/chest_xray_pneumonia

.PHONY: setup test test-isa demo lint results clean

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

# The recorded-trial tests again with the math kernels held to other instruction sets: AVX2 always, AVX-512
# where the CPU has it (the default run above uses whatever the CPU offers).
test-isa: $(STAMP)
	for isa in AVX2 $$(grep -q avx512f /proc/cpuinfo && echo AVX512_CORE); do \
	  echo "recorded trials under ONEDNN_MAX_CPU_ISA=$$isa"; \
	  ONEDNN_MAX_CPU_ISA=$$isa OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n auto tests/test_records.py || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check truncatedtl tests benchmarks

# Every table and figure of docs/results (and the figures of docs/img) redrawn from the committed records.
results: $(STAMP)
	$(BIN)/python -m benchmarks redraw

demo: $(STAMP)
	TTL_DATA=$(TTL_DATA) PATH=$(abspath $(BIN)):$$PATH bash scripts/demo.sh

clean:
	rm -rf $(VENV) runs
