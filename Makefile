# The project's commands. `make run` and `make test` are the two that matter; see README.md.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run demo test fuzz lint typecheck migrate bench clean

# uv itself comes from PyPI into .tools/ when the machine does not have it.
.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv>=0.5"

install: $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen

run: install
	$(BIN)/ledgerbridge run

demo: install
	$(BIN)/ledgerbridge demo

test: install
	$(BIN)/pytest

# A longer randomized schemathesis run over every operation (FUZZ_EXAMPLES per operation); prints the
# operations tried, cases run and failures. `make test` runs the same test deterministically.
FUZZ_EXAMPLES ?= 200
fuzz: install
	LEDGERBRIDGE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/api/test_openapi_fuzz.py -p no:cacheprovider -q --timeout=3600

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy src libs/bookkeeping/src libs/common/src libs/sandbox/src services/api/src services/poller/src services/mapper/src services/publisher/src tests bench

migrate: install
	$(BIN)/ledgerbridge migrate

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache .hypothesis
