# Channel Suite developer commands. `make` alone lists them.

UV ?= uv
PYTHON ?= python3
PYTEST_ARGS ?=
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

# Use the machine's Python; never let uv download one.
export UV_PYTHON_DOWNLOADS := never

# uv as a command: $(UV) when it is on PATH, else the copy pip installs as a module.
UV_CMD = $(if $(shell command -v $(firstword $(UV)) 2>/dev/null),$(UV),$(PYTHON) -m uv)
# --frozen installs exactly what uv.lock says; without a lock file, resolve one.
SYNC_FLAGS = --all-packages $(if $(wildcard uv.lock),--frozen,)
RUN = $(UV_CMD) run --no-sync

.DEFAULT_GOAL := help
.PHONY: help run test lint format contracts clients bench battery soak .uv .tools

help: ## list the targets
	@echo "Channel Suite - make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z_-]*:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: UV=$(UV)  PYTEST_ARGS=$(PYTEST_ARGS)"

# Hidden step: make sure uv exists (pip-installs it when missing).
.uv:
	@command -v $(firstword $(UV)) >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| { echo "uv not found; installing it with pip"; $(PYTHON) -m pip install --quiet uv; } \
		|| { echo "could not install uv; see https://docs.astral.sh/uv/" >&2; exit 1; }

# Hidden step: the non-Python tools the tests call (promtool from Debian's prometheus package,
# wrk for bench/http_reads.py).
.tools:
	@command -v promtool >/dev/null 2>&1 || { echo "promtool not found; installing Debian's prometheus package"; \
		(apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 \
		|| { apt-get update >/dev/null && apt-get install -y --no-install-recommends prometheus >/dev/null; }) \
		|| { echo "could not install promtool (apt-get install prometheus)" >&2; exit 1; }; }
	@command -v wrk >/dev/null 2>&1 || { echo "wrk not found; installing Debian's wrk package"; \
		(apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 \
		|| { apt-get update >/dev/null && apt-get install -y --no-install-recommends wrk >/dev/null; }) \
		|| { echo "could not install wrk (apt-get install wrk)" >&2; exit 1; }; }

# Hidden step: sync the workspace venv whenever the lock or a pyproject changed.
.venv: pyproject.toml $(wildcard uv.lock libs/*/pyproject.toml services/*/pyproject.toml) | .uv
	$(UV_CMD) sync $(SYNC_FLAGS)
	@touch .venv

run: .venv ## run the suite locally (embedded NATS + SQLite; honours NATS_URL / DATABASE_URL)
	$(RUN) python scripts/devrun.py

test: .venv .tools ## run the test suite (extra pytest arguments: PYTEST_ARGS=...)
	$(RUN) pytest -q $(PYTEST_ARGS)

lint: .venv ## ruff check, ruff format --check, mypy --strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/common/src services/*/src tools/*/src scripts

format: .venv ## format the code and apply ruff's safe fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

contracts: .venv ## regenerate / check the API and event contracts
	$(RUN) python scripts/contracts.py

clients: .venv ## regenerate the TypeScript client under clients/typescript from the merged OpenAPI
	$(RUN) python scripts/clients.py

battery: .venv .tools ## the reliability and security battery at CI size
	$(RUN) pytest -q -s battery $(PYTEST_ARGS)

soak: .venv .tools ## the battery at soak size (longer)
	BATTERY_SIZE=soak $(RUN) pytest -q -s battery $(PYTEST_ARGS)

bench: .venv .tools ## run the benchmarks (PostgreSQL: BENCH_DATABASE_URL; request plane on SQLite too)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(RUN) python bench/ingest.py
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(RUN) python bench/rebate_run.py
	$(RUN) python bench/http_reads.py
	$(RUN) python bench/http_reads.py --server-url $(BENCH_DATABASE_URL)
