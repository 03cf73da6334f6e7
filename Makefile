# Frontdesk: `make run` to try it, `make test` to check it. Everything lives in .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/setup.cfg)))
DISTS := core webui $(PLUGINS)
HOST ?= 127.0.0.1
PORT ?= 5000
PG_DIR ?= $(or $(TMPDIR),/tmp)/frontdesk-postgres-$(PG_PORT)
PG_PORT ?= 54329

.PHONY: install run test test-sqlite test-postgresql test-wheels lint bench postgres chromium clean

install: $(VENV)/.installed

$(VENV)/.installed: $(foreach d,$(DISTS),$(d)/setup.cfg) requirements-test.txt webui/frontdesk_webui/static/vendor.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PYTHON) scripts/vendor-assets
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet $(foreach d,$(DISTS),-e ./$(d)) 'psycopg[binary]==3.3.*'
	touch $@

run: install
	$(BIN)/frontdesk init
	$(BIN)/frontdesk serve --host $(HOST) --port $(PORT)

$(VENV)/.test-deps: $(VENV)/.installed requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

# The SQLite and PostgreSQL suites run side by side (each prints when it is done).
test: $(VENV)/.test-deps lint postgres chromium
	$(MAKE) -j3 --output-sync=target test-wheels test-sqlite test-postgresql

test-sqlite:
	$(BIN)/pytest -q -p no:cacheprovider

test-postgresql:
	FRONTDESK_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$(PG_PORT)/postgres \
		$(BIN)/pytest -q -p no:cacheprovider -m "not sqlite_only and not e2e"

test-wheels:
	scripts/check-wheels $(DISTS)

postgres:
	scripts/postgres-server $(PG_DIR) $(PG_PORT)

chromium:
	scripts/ensure-chromium

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .tmp build dist */*.egg-info plugins/*/*.egg-info
