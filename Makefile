# GõCửa — the two set-up commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PROVINCE ?= 72
DEMO_EDITION ?= 2023
DEMO_PEOPLE ?= 100000
DEMO_SEED ?= 6
# Synthetic data on 127.0.0.1 only: the demo accounts share one printed password.
DEMO_PASSWORD ?= go-cua-demo-2026
# The PostgreSQL run of the suite; pytest-django creates and drops its own test_ database.
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: install demo test test-sqlite test-postgres test-ha lint chromium pgbackrest pgbouncer pgautofailover

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# A synthetic province (DEMO_PEOPLE residents, 60 days of history ending today). --replace
# regenerates it on every run, so `make demo` run twice works and the history always ends today.
demo: $(STAMP)
	$(BIN)/gocua migrate --no-input
	$(BIN)/gocua units load --province $(DEMO_PROVINCE) --edition $(DEMO_EDITION)
	$(BIN)/gocua generate --province $(DEMO_PROVINCE) --edition $(DEMO_EDITION) --people $(DEMO_PEOPLE) --seed $(DEMO_SEED) --replace
	$(BIN)/gocua demo_users --province $(DEMO_PROVINCE) --edition $(DEMO_EDITION) --password $(DEMO_PASSWORD) \
	  --cards var/demo-login-cards.html --site http://$(HOST):$(PORT)
	$(BIN)/gocua serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's chromium through Playwright; never a browser download.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# PostgreSQL's backups are pgBackRest's (docs/backups.md); the PostgreSQL run restores one to a
# point in time, with Debian's pgbackrest.
pgbackrest:
	@command -v pgbackrest >/dev/null 2>&1 || { \
	  echo "installing Debian's pgbackrest for the point-in-time restore test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null; }

# The PostgreSQL run also goes through Debian's pgbouncer in transaction pooling mode
# (GOCUA_DB_POOLER=transaction, README.md).
pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
	  echo "installing Debian's pgbouncer for the transaction pooling test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; }

# Style, the layers (.importlinter) and the types (mypy, settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check gocua bench drills conftest.py
	$(BIN)/ruff format --check gocua bench drills conftest.py
	GOCUA_SECRET_KEY=lint-only-key $(BIN)/lint-imports
	GOCUA_SECRET_KEY=lint-only-key $(BIN)/mypy

test-sqlite: $(STAMP) chromium
	GOCUA_SECRET_KEY=test-only-key $(BIN)/pytest

test-postgres: $(STAMP) chromium pgbackrest pgbouncer
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not running on 127.0.0.1:5432 (.ci/run starts it)"; exit 1; }
	DATABASE_URL=$(PG_URL) GOCUA_SECRET_KEY=test-only-key $(BIN)/pytest

# The failover drills (drills/, docs/scale.md): their own PostgreSQL primary and synchronous
# standby on spare ports, two app nodes and a worker; phones post while a node is killed and the
# primary crashes, then while pg_auto_failover switches over. Needs Debian's PostgreSQL server
# binaries, not the server on 5432.
test-ha: $(STAMP) pgautofailover
	$(BIN)/python -m drills.failover
	$(BIN)/python -m drills.autofailover

# The orchestrator documented for production (docs/scale.md): Debian's pg_auto_failover.
pgautofailover:
	@command -v pg_autoctl >/dev/null 2>&1 || { \
	  echo "installing Debian's pg_auto_failover for the planned failover drill"; \
	  version=$$(ls /usr/lib/postgresql | sort -V | tail -n1); \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    postgresql-$$version-auto-failover pg-auto-failover-cli >/dev/null; }

test: lint test-sqlite test-postgres test-ha
