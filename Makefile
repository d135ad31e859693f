# Two commands on a fresh machine: `make dev` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cksum < pyproject.toml | cut -d' ' -f1)
STAMP := $(VENV)/.installed-test-$(HASH)
# `make dev` needs only the runtime and the local stack (no CDK, no test tools): a faster first run.
DEV_STAMP := $(VENV)/.installed-local-$(HASH)
PORT ?=
PYTEST_WORKERS ?= 2

.PHONY: setup dev test unit integration e2e lint format openapi clean synth bench bench-crash console

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP) $(DEV_STAMP)

$(DEV_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[local]'
	rm -f $(VENV)/.installed-local-* && touch $(DEV_STAMP)

setup: $(STAMP)

# The AWS CDK CLI, pinned by package-lock.json (the CDK app itself is Python: infra/).
CDK := node_modules/.bin/cdk
NPM_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 18,20,21,22,23
$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $(NPM_STAMP)

# The web console (console/): its own pinned toolchain (Vite, TypeScript), built into console/dist, which the
# local stack serves at /console/. npm ci only when its lockfile changed.
CONSOLE_NPM_STAMP := console/node_modules/.installed-$(shell cksum < console/package-lock.json | cut -d' ' -f1)
$(CONSOLE_NPM_STAMP): console/package-lock.json
	npm --prefix console ci --no-audit --no-fund --loglevel=error
	rm -f console/node_modules/.installed-* && touch $(CONSOLE_NPM_STAMP)

## Build the web console into console/dist (type-check, text catalogs check, production build).
console: $(CONSOLE_NPM_STAMP)
	npm --prefix console run --silent build

## Run the whole system locally (moto, API, pollers, worker, sandbox network). PORT=8000 by default.
dev: $(DEV_STAMP) console
	$(BIN)/bzapper dev $(if $(PORT),--port $(PORT))

## Lint, then every test: unit, integration (moto), contract, e2e (the booted local stack), infra (CDK).
test: $(STAMP) $(NPM_STAMP) console lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration tests/contract

e2e: $(STAMP) console
	$(BIN)/pytest tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The TypeScript SDK's own toolchain (openapi-typescript, tsc), pinned by its package-lock.json.
SDK := sdk/typescript
SDK_NPM_STAMP := $(SDK)/node_modules/.installed-$(shell cksum < $(SDK)/package-lock.json | cut -d' ' -f1)
$(SDK_NPM_STAMP): $(SDK)/package-lock.json
	npm --prefix $(SDK) ci --no-audit --no-fund --loglevel=error
	rm -f $(SDK)/node_modules/.installed-* && touch $(SDK_NPM_STAMP)

## Regenerate openapi.yaml from the function apps, and what is built from it: the reference served at
## /docs (Redocly, offline) and the TypeScript SDK's types. Tests fail when any of them drifts.
openapi: $(STAMP) $(NPM_STAMP) $(SDK_NPM_STAMP)
	$(BIN)/bzapper openapi --output openapi.yaml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly build-docs openapi.yaml \
	  --inlineBundle --title "bzapper API reference" --output layers/core/bzapper/api/static/reference.html
	npm --prefix $(SDK) run --silent generate

## Benchmarks (send path vs floor, AWS requests per message, end to end, cold starts, density, cost):
## a table on stdout and bench/results.json; about 6-10 minutes on 2 cores. See docs/performance.md.
bench: $(STAMP)
	$(BIN)/python -m bench

## What a kill -9 of the session worker costs one number's backlog (60 sends; calm vs crash on one booted
## stack, outbox re-sends counted): about 4 minutes on 2 cores, so not part of `make bench`. `make bench-crash CRASH_ARGS="--repeats 2"`.
bench-crash: $(STAMP)
	$(BIN)/python -m bench.crash $(CRASH_ARGS)

## CloudFormation for a stage into cdk.out/ (offline, no Docker; cdk-nag at synth, then cfn-lint). STAGE=dev.
synth: $(STAMP) $(NPM_STAMP) console
	AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true $(CDK) synth --quiet --no-notices $(if $(STAGE),-c stage=$(STAGE))
	$(BIN)/cfn-lint cdk.out/*.template.json --ignore-checks W3005

clean:
	rm -rf $(VENV) .bzapper .pytest_cache .ruff_cache
