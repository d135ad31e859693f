# Two commands on a fresh machine: `make dev` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
PORT ?=
PYTEST_WORKERS ?= 2

.PHONY: setup dev test unit integration e2e lint format openapi clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

## Run the whole system locally (moto, API, pollers, worker, sandbox network). PORT=8000 by default.
dev: $(STAMP)
	$(BIN)/bzapper dev $(if $(PORT),--port $(PORT))

## Lint, then every test: unit, integration (moto), contract, e2e (the booted local stack).
test: $(STAMP) lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration tests/contract

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Regenerate openapi.yaml from the function apps (a test fails when it drifts).
openapi: $(STAMP)
	$(BIN)/bzapper openapi --output openapi.yaml

clean:
	rm -rf $(VENV) .bzapper .pytest_cache .ruff_cache
