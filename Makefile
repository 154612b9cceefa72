# Guardline — two commands: `make demo` (run the platform) and `make test` (run the whole suite).
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export PATH := $(HOME)/.local/bin:$(PATH)
PY := uv run --frozen
DEMO_COUNTY ?= 520526
DEMO_HOUSEHOLDS ?= 20000
DEMO_DIR ?= var/demo
# The demo county's 24 simulated months end this month, so that screening "as of today" sees recent events.
DEMO_START ?= $(shell python3 -c "import datetime as d; t=d.date.today(); m=t.month+1; print(d.date(t.year-2+(m>12), (m-1)%12+1, 1))")

.PHONY: install install-python install-assets install-system demo test lint typecheck pytest pytest-pg messages

install: install-python install-assets

install-python:
	@command -v uv >/dev/null || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	uv sync --frozen --python python3.11

install-assets:
	@[ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null \
	  || npm ci --no-audit --no-fund --loglevel=error

# Debian packages the tests need: chromium and CJK fonts (browser tests, screenshots, PDF reports), PostgreSQL (the
# suite runs against a real server too), gettext (msgfmt for `make messages`), pango (WeasyPrint renders PDF reports),
# Java 17 (pyspark: the Spark screening backend).
SYSTEM_PACKAGES := chromium fonts-noto-cjk postgresql gettext libpango-1.0-0 libpangoft2-1.0-0 openjdk-17-jre-headless
install-system:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk" \
	    || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v msgfmt >/dev/null \
	    || ! /sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || ! command -v java >/dev/null; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

demo: install
	$(PY) guardline migrate --no-input
	$(PY) guardline import_divisions --county $(DEMO_COUNTY)
	$(PY) guardline simulate --county $(DEMO_COUNTY) --households $(DEMO_HOUSEHOLDS) --seed 1 --out $(DEMO_DIR) --start $(DEMO_START)
	$(PY) guardline import_registry $(DEMO_DIR)/registry.csv
	for f in $(DEMO_DIR)/income_*.csv; do $(PY) guardline import_income $$f; done
	for f in $(DEMO_DIR)/feeds/*.csv; do $(PY) guardline import_feed $$(basename $$f .csv) $$f; done
	$(PY) guardline screen
	$(PY) guardline seed_demo --county $(DEMO_COUNTY)
	$(PY) guardline collectstatic --no-input -v 0
	@echo "Starting the background worker and the server on http://127.0.0.1:8000 (Ctrl-C stops both)"
	@trap 'kill 0' EXIT; $(PY) guardline db_worker >var/worker.log 2>&1 & $(PY) guardline runserver 127.0.0.1:8000

lint:
	$(PY) ruff check .
	$(PY) ruff format --check .

typecheck:
	$(PY) mypy engine simulate guardline/*/services.py guardline/*/*_services.py guardline/*/selectors.py guardline/screening/mirror.py guardline/screening/mirror_tables.py guardline/screening/mirror_log.py guardline/core/locks.py

pytest:
	$(PY) pytest -n 2 -p no:cacheprovider; rc=$$?; if [ $$rc = 5 ]; then echo "no tests collected: failing on purpose"; exit 1; fi; exit $$rc

# The same suite (less the browser and subprocess crash tests) against a throw-away PostgreSQL server on loopback.
pytest-pg:
	scripts/with_postgres.sh $(PY) pytest -n 2 -p no:cacheprovider -m "not slow and not browser"

test: install install-system lint typecheck pytest pytest-pg

# Refresh the English catalogue after changing UI text (msgfmt comes with Debian's gettext package).
messages:
	$(PY) python scripts/i18n_extract.py
	msgfmt -o guardline/locale/en/LC_MESSAGES/django.mo guardline/locale/en/LC_MESSAGES/django.po
