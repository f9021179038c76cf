# One command each, from a fresh clone: `make demo`, `make serve`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
POSTGRES_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: install demo serve test test-sqlite test-postgres lint

$(BIN)/canvas-workspace: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/canvas-workspace

demo: install
	$(BIN)/python -m devkit demo

serve: install
	$(BIN)/canvas-workspace serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The suite runs once per database, in separate processes (Tortoise cannot hold SQLite
# and PostgreSQL contexts in one process); the multi-process production tests run in the
# PostgreSQL pass. Without PostgreSQL or Redis those runs skip with the reason; with
# CI=true they fail instead.
test: lint test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest -q -m "not production"

test-postgres: install
	TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest -q
