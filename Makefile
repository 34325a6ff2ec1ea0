# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: install chromium redis run test lint format chaos scale-demo bench bench-push bench-ui bench-ui-pg bench-taxids bench-import clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt ".[dev]"
	touch $@

install: $(STAMP)

chromium:  ## Debian's Chromium for the browser tests: apt-get when root, else the command to run
	scripts/ensure-chromium

redis:  ## a local Redis for the push tests on RQ: started (installed when root) if none answers
	scripts/ensure-redis

run: install  ## sandbox + migrate + pull + demo users + web server + worker
	DEBUG=true $(BIN)/python manage.py run_demo

test: chromium redis install  ## the whole suite (DATABASE_URL picks the database; SQLite by default)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

chaos: install  ## 2,000 concurrent edits against a failing upstream and killed workers; nothing may be lost
	$(BIN)/python -m benchmarks.chaos

scale-demo: install  ## 2 web + 2 RQ worker nodes on PostgreSQL and a Redis of its own; staff edits over HTTP, a node killed, Redis restarted
	$(BIN)/python -m benchmarks.scale_demo

bench-push: install  ## push throughput vs a synchronous PATCH in post_save, save latency, worker memory
	$(BIN)/python -m benchmarks.bench_push

bench-ui: install  ## list pages vs Django admin's changelist on 100k customers / 300k contacts, same run
	$(BIN)/python -m benchmarks.bench_ui $(BENCH_ARGS)

bench-ui-pg: install  ## the same on PostgreSQL with 1M customers / 3M contacts (BENCH_ARGS=--reuse: the data as left)
	$(BIN)/python -m benchmarks.bench_ui --postgresql $(BENCH_ARGS)

bench-taxids: install  ## tax-ID validation throughput and the review page's p95 with 100k tax IDs
	$(BIN)/python -m benchmarks.bench_taxids

bench-import: install  ## bulk import of 10,000 contact and catalog rows (preview, apply) vs the same saves one by one
	$(BIN)/python -m benchmarks.bench_import $(BENCH_ARGS)

bench: bench-push bench-ui bench-taxids bench-import  ## every benchmark, one after the other

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles test-output *.egg-info
