# One command each, from a fresh clone: `make demo`, `make serve`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
POSTGRES_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

# Every dependency comes from the lock files, pinned with hashes; the project itself is
# installed without resolving anything. `make lock` updates them from pyproject.toml.
DEV_LOCK := requirements/dev.lock
RUNTIME_LOCK := requirements/runtime.lock
LOCK_FLAGS := --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes --quiet

.PHONY: install lock audit demo serve test test-sqlite test-postgres lint

$(BIN)/canvas-workspace: pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/canvas-workspace

# After changing dependencies in pyproject.toml (or to take newer releases: add --upgrade).
lock: install
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o $(RUNTIME_LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o $(DEV_LOCK)

# Known vulnerabilities in the locked packages (OSV's database; skipped with a notice
# where it cannot be reached).
audit: install
	PIP_AUDIT=$(BIN)/pip-audit .ci/audit $(RUNTIME_LOCK) $(DEV_LOCK)

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
