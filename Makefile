# Two commands on a fresh machine that has only python3 and make: `make run` and `make test`.
# Each installs what it needs first (uv through pip when missing, then the locked venv).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
PORT ?= 3000
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
# The domain package is the shared Lambda layer: importable by functions, infra and tests alike.
export PYTHONPATH := $(CURDIR)/layers/shared/python:$(CURDIR)
export UV
# Template checks run in their own environment: aws-sam-translator pins an older pydantic than the runtime's.
# After the first download they run from uv's cache, offline.
CHECKS_ENV := --no-project --isolated --quiet --compile-bytecode --with-requirements infra/checks/requirements.txt

.PHONY: help bootstrap run test lint format typecheck check-template unit integration e2e bench requirements load-catalogue

help:
	@echo "make run    - the local stack on http://127.0.0.1:$(PORT) (embedded AWS, API gateway, jobs, outbox)"
	@echo "make test   - lint, types, template checks, unit + integration + e2e tests"
	@echo "make bench  - cold starts of every function, CSV export of 10 000 bookings"
	@echo "make load-catalogue FILE=books.csv - load a book catalogue into the running local stack"

bootstrap:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	@$(UV) sync --frozen --quiet

run: bootstrap
	$(UV) run --frozen python -m infra.local --port $(PORT)

test: bootstrap lint typecheck check-template
	$(UV) run --frozen pytest -q

lint: bootstrap
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: bootstrap
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

typecheck: bootstrap
	$(UV) run --frozen mypy functions layers/shared/python infra tests

check-template: bootstrap
	@$(UV) run --offline $(CHECKS_ENV) python -c "" 2>/dev/null || $(UV) run $(CHECKS_ENV) python -c ""
	$(UV) run --offline $(CHECKS_ENV) python infra/checks/check_template.py template.yaml

unit: bootstrap
	$(UV) run --frozen pytest -q tests/unit

integration: bootstrap
	$(UV) run --frozen pytest -q tests/integration

e2e: bootstrap
	$(UV) run --frozen pytest -q tests/e2e

# Loads a book catalogue CSV into the running local stack (make run in another terminal): make load-catalogue FILE=…
load-catalogue: bootstrap
	@test -n "$(FILE)" || (echo "usage: make load-catalogue FILE=books.csv [PORT=3000]" && exit 2)
	$(UV) run --frozen python -m infra.local.load_catalogue "$(FILE)" --url http://127.0.0.1:$(PORT)

bench: bootstrap
	$(UV) run --frozen python -m infra.bench.cold_start
	$(UV) run --frozen python -m infra.bench.export

# The dependencies layer is built by `sam build` from this file: keep it in step with uv.lock.
requirements: bootstrap
	$(UV) export --frozen --no-dev --no-hashes --no-header --no-emit-project -o layers/dependencies/requirements.txt
