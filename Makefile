# Two commands on a fresh machine that has only python3 and make: `make run` and `make test`.
# Each installs what it needs first (uv through pip when missing, then the locked venv).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
PORT ?= 3000
# uv: the one on PATH, else $(PYTHON)'s uv module, else a private copy that `bootstrap` installs under .local/ (never
# into the system's Python: PEP 668 systems refuse that, and it is not ours to change).
UV_HOME := $(CURDIR)/.local/bootstrap
UV := $(shell if uv --version >/dev/null 2>&1; then command -v uv; \
	elif $(PYTHON) -m uv --version >/dev/null 2>&1; then echo "$(PYTHON) -m uv"; else echo "$(UV_HOME)/bin/uv"; fi)
# The domain package is the shared Lambda layer: importable by functions, infra and tests alike.
export PYTHONPATH := $(CURDIR)/layers/shared/python:$(CURDIR)
export UV
# Template checks run in their own environment: aws-sam-translator pins an older pydantic than the runtime's.
# After the first download they run from uv's cache, offline.
CHECKS_ENV := --no-project --isolated --quiet --compile-bytecode --with-requirements infra/checks/requirements.txt

.PHONY: help bootstrap run test lint format typecheck check-template roles unit integration e2e e2e-browser chromium deploy-portal bench requirements load-catalogue fuzz load

help:
	@echo "make run    - the local stack on http://127.0.0.1:$(PORT) (embedded AWS, API gateway, jobs, outbox)"
	@echo "make test   - lint, types, template checks, unit + integration + e2e tests (the portal's in Chromium too)"
	@echo "make e2e-browser - the pro portal's tests in headless Chromium (installs Chromium when missing)"
	@echo "make bench  - cold starts, first answers, handler overhead, throughput, export, search, stock import, daily jobs, payouts, peak"
	@echo "make load-catalogue FILE=books.csv - load a book catalogue into the running local stack"
	@echo "make load   - load test through the local gateway (USERS=200 DURATION=60 s), invariants, docs/benchmarks.md"

# Installs uv when missing, quietly: with pip into .local/bootstrap (`pip --target`), else in a private venv there
# (`python3 -m venv`, which brings its own pip); if neither works, one message saying what to install, and exit 1.
bootstrap:
	@if ! $(UV) --version >/dev/null 2>&1; then \
		if ! command -v $(PYTHON) >/dev/null 2>&1; then \
			echo "make: $(PYTHON) not found: install Python 3.11 or later (Debian/Ubuntu: sudo apt-get install python3)." >&2; \
			exit 1; \
		fi; \
		log="$(UV_HOME).log"; mkdir -p "$(dir $(UV_HOME))"; : >"$$log"; \
		echo "make: uv is missing; installing it into $(UV_HOME) (once)" >&2; \
		if $(PYTHON) -m pip --version >>"$$log" 2>&1; then \
			$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
				--target "$(UV_HOME)" uv >>"$$log" 2>&1; \
		fi; \
		if ! "$(UV_HOME)/bin/uv" --version >/dev/null 2>&1 && $(PYTHON) -c "import ensurepip, venv" >>"$$log" 2>&1; then \
			rm -rf "$(UV_HOME)"; \
			$(PYTHON) -m venv "$(UV_HOME)" >>"$$log" 2>&1 \
				&& "$(UV_HOME)/bin/python" -m pip install --quiet --disable-pip-version-check uv >>"$$log" 2>&1; \
		fi; \
		if ! "$(UV_HOME)/bin/uv" --version >/dev/null 2>&1; then \
			rm -rf "$(UV_HOME)"; \
			if $(PYTHON) -m pip --version >/dev/null 2>&1 || $(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1; then \
				echo "make: could not install uv (no network? a proxy?); the end of $$log:" >&2; \
				tail -n 5 "$$log" >&2; \
			else \
				echo "make: uv is missing and $(PYTHON) has neither pip nor venv to install it. Install one, then run make again:" >&2; \
				echo "  Debian/Ubuntu: sudo apt-get install python3-pip   (or python3-venv)" >&2; \
				echo "  Fedora/RHEL:   sudo dnf install python3-pip" >&2; \
				echo "  or install uv itself: https://docs.astral.sh/uv/getting-started/installation/" >&2; \
				rm -f "$$log"; \
			fi; \
			exit 1; \
		fi; \
		rm -f "$$log"; \
	fi
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

# checkov reads the translated template (CloudFormation); its own environment, pinned like the checks'.
CHECKOV_ENV := --no-project --isolated --quiet --compile-bytecode --with checkov==3.3.30

check-template: bootstrap
	@$(UV) run --offline $(CHECKS_ENV) python -c "" 2>/dev/null || $(UV) run $(CHECKS_ENV) python -c ""
	@$(UV) run --offline $(CHECKOV_ENV) python -c "" 2>/dev/null || $(UV) run $(CHECKOV_ENV) python -c ""
	@mkdir -p .local
	$(UV) run --offline $(CHECKS_ENV) python infra/checks/check_template.py --translated-out=.local/translated.json template.yaml
	$(UV) run --offline $(CHECKOV_ENV) python infra/checks/checkov_gate.py .local/translated.json

# infra/local/roles.json: each function's role after the SAM translation, which the local stack enforces.
roles: bootstrap
	$(UV) run --offline $(CHECKS_ENV) python infra/checks/check_template.py --write-roles template.yaml

unit: bootstrap
	$(UV) run --frozen pytest -q tests/unit

integration: bootstrap
	$(UV) run --frozen pytest -q tests/integration

e2e: bootstrap
	$(UV) run --frozen pytest -q tests/e2e

# The pro portal's end-to-end tests in headless Chromium (Debian's, driven by Playwright through its path);
# screenshots of every page, desktop and phone, in .local/screenshots/ (not committed).
e2e-browser: bootstrap chromium
	$(UV) run --frozen pytest -q tests/browser

# Debian's Chromium for the browser tests: apt as root (CI), else with sudo when it asks for no password, else one
# message saying what to run.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if ! command -v $(CHROMIUM) >/dev/null 2>&1; then \
		echo "make: installing Debian's chromium for the browser tests (once)" >&2; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
			echo "make: $(CHROMIUM) is missing: run 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chromium)" >&2; \
			exit 1; fi; \
		$$SUDO apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
	@$(CHROMIUM) --version 2>/dev/null  # Debian's wrapper script complains about large memory sizes on stderr

# Schemathesis against the merged OpenAPI document, as every kind of caller, through a local stack of its own (or a
# running one: URL=http://127.0.0.1:3000). Fails on any 5xx, undocumented status or answer off its schema.
# `make test` runs a short version (tests/e2e/test_fuzz.py). EXAMPLES=25 cases per operation and caller.
fuzz: bootstrap
	$(UV) run --frozen python -m infra.fuzz --max-examples $(or $(EXAMPLES),25) $(if $(URL),--url $(URL))

# Loads a book catalogue CSV into the running local stack (make run in another terminal): make load-catalogue FILE=…
load-catalogue: bootstrap
	@test -n "$(FILE)" || (echo "usage: make load-catalogue FILE=books.csv [PORT=3000]" && exit 2)
	$(UV) run --frozen python -m infra.local.load_catalogue "$(FILE)" --url http://127.0.0.1:$(PORT)

# A load test on loopback through the local gateway (locust, headless), then the invariants from the table (infra/load).
load: bootstrap
	$(UV) run --frozen python -m infra.load --users $(or $(USERS),200) --duration $(or $(DURATION),60)

# Every benchmark (infra/bench/), each in a fresh process; writes docs/benchmarks.md. BENCH="handlers throughput" for
# some of them (`python -m infra.bench --list`); the full sizes of the stock import, daily jobs and payouts take hours.
bench: bootstrap
	$(UV) run --frozen python -m infra.bench $(BENCH)

# The pro portal to its bucket after `sam deploy`: portal/ and a config.json from the stack's outputs, then a
# CloudFront invalidation. STACK=pass-culture (the name given to sam deploy).
deploy-portal: bootstrap
	$(UV) run --frozen python -m infra.ops.deploy_portal --stack $(or $(STACK),pass-culture)

# The dependencies layer is built by `sam build` from this file: keep it in step with uv.lock.
requirements: bootstrap
	$(UV) export --frozen --no-dev --no-hashes --no-header --no-emit-project -o layers/dependencies/requirements.txt
