# OCOP Mart — developer entry points.
#   make run    install, compile translations, migrate, seed the demo shop once, serve on 127.0.0.1:5000
#   make test   install, compile translations, run pytest on every core (PYTEST_ARGS, default -n auto --dist loadgroup;
#               PostgreSQL tests need TEST_DATABASE_URL)
#   make lint   ruff check and ruff format --check on the whole repo
#   make coverage  the suite with line and branch coverage: prints the total and the ten least-covered modules
#   make stack  the full stack (scripts/stack.sh); make stack-stop stops what it started
#   make bench  time the product list API over 20,000 generated products (SQLite, and PostgreSQL if set),
#               stock under concurrency (PostgreSQL), search on each backend (SQLite FTS5; PostgreSQL and
#               OpenSearch if set), contested checkouts (PostgreSQL), processing one 12-megapixel photo, and
#               traceability stamps: generated per second and the bytes and time of a 100-stamp sheet (SQLite),
#               the national export, the programme dashboard over 100,000 generated orders (PostgreSQL), and the
#               public pages under 50 concurrent clients, served by gunicorn with gunicorn.conf.py (needs wrk)

PY     ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 5000
SEED_ARGS   ?= --demo --if-empty
PYTEST_ARGS ?= -n auto --dist loadgroup
BENCH_ARGS  ?=

BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app storefront
# Re-installs only when pyproject.toml is newer than this stamp (or the venv is gone).
STAMP  := $(VENV)/.installed-stamp

.PHONY: help venv install translations translations-extract migrate seed run test lint coverage bench stack stack-stop \
	stack-status clean

help:
	@echo "make run | test | lint | coverage | bench | stack | stack-stop | install | translations | migrate | seed | clean"

venv install: $(STAMP)

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

# Compiles translations/*/LC_MESSAGES/messages.po to .mo (the .mo files are not in git).
translations: $(STAMP)
	$(BIN)/pybabel compile -d translations

# After changing user-visible text: refresh the catalogue, then translate what `pybabel update` marks new/fuzzy.
translations-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --project="OCOP Mart" --version=1.0 \
		--copyright-holder="OCOP Mart" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l en

migrate: $(STAMP)
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed $(SEED_ARGS)

run: $(STAMP) translations migrate seed
	HOST=$(HOST) PORT=$(PORT) $(FLASK) run --host $(HOST) --port $(PORT)

test: $(STAMP) translations
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A figure, not a gate ([tool.coverage] in pyproject.toml says what is measured).
coverage: $(STAMP) translations
	$(BIN)/pytest $(PYTEST_ARGS) --cov --cov-report=
	@echo "Total coverage (lines and branches): $$($(BIN)/coverage report --format=total)%"
	@echo "The ten least-covered modules:"
	@$(BIN)/coverage report --sort=cover | sed -n '1,2p;3,12p'

# The product list API (BENCH_ARGS), then stock under 8 concurrent clients beside pgbench (STOCK_BENCH_ARGS;
# PostgreSQL only: it says it skipped without BENCH_DATABASE_URL or TEST_DATABASE_URL), then search: index build
# and query latency at 1 and 8 clients on the built-in backend (SQLite FTS5, and PostgreSQL with
# BENCH_DATABASE_URL or TEST_DATABASE_URL) and on OpenSearch (BENCH_SEARCH_URL or TEST_SEARCH_URL) (SEARCH_BENCH_ARGS),
# then one 12-megapixel photo processed into its six files, with the bytes of each (PHOTO_BENCH_ARGS), then
# 1,000 traceability stamps ordered and the PDF sheet of 100 rendered, with its bytes (STAMP_BENCH_ARGS), then the
# trace page's latency at 8 clients on PostgreSQL (TRACE_BENCH_ARGS), then the national export of 20,000
# certificates as JSON, CSV and XLSX (EXPORT_BENCH_ARGS), then the programme dashboard's queries and page over
# 20,000 generated products and 100,000 orders on PostgreSQL (PROGRAMME_BENCH_ARGS), then the national import of a
# 50,000-row list, previewed and applied on PostgreSQL (IMPORT_BENCH_ARGS), then the public pages (home, catalogue,
# product page, product list API, a search, a stamp's trace page) under 50 keep-alive clients (wrk, 8 s per URL),
# served by `gunicorn -c gunicorn.conf.py -w 4` over the demo seed and 20,000 generated products, warm and right
# after catalogue changes, on PostgreSQL (page cache in Redis: BENCH_REDIS_URL or TEST_REDIS_URL) and SQLite, beside a
# bare Flask endpoint under the same settings (PAGES_BENCH_ARGS; `--sweep` compares gunicorn settings instead).
bench: $(STAMP)
	$(BIN)/python bench/api_list.py $(BENCH_ARGS)
	$(BIN)/python bench/stock.py $(STOCK_BENCH_ARGS)
	$(BIN)/python bench/search.py $(SEARCH_BENCH_ARGS)
	$(BIN)/python bench/photo.py $(PHOTO_BENCH_ARGS)
	$(BIN)/python bench/checkout.py $(CHECKOUT_BENCH_ARGS)
	$(BIN)/python bench/stamps.py $(STAMP_BENCH_ARGS)
	$(BIN)/python bench/trace.py $(TRACE_BENCH_ARGS)
	$(BIN)/python bench/national_export.py $(EXPORT_BENCH_ARGS)
	$(BIN)/python bench/programme.py $(PROGRAMME_BENCH_ARGS)
	$(BIN)/python bench/national_import.py --apply --backend postgresql $(IMPORT_BENCH_ARGS)
	$(BIN)/python bench/pages.py $(PAGES_BENCH_ARGS)

# The full stack on this machine: PostgreSQL, Redis, OpenSearch, stripe-mock, Celery worker + beat, gunicorn.
stack: $(STAMP) translations
	scripts/stack.sh start

stack-stop:
	scripts/stack.sh stop

stack-status:
	scripts/stack.sh status

# Leaves instance/ (the local database, secret key and mail outbox) alone.
clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
	find . -path ./instance -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find translations -name '*.mo' -delete 2>/dev/null || true
