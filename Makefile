# Kairos: `make run` serves the app with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000
export PORT

.PHONY: run prod test install chromium haproxy lint format bench lighthouse clean

# `make run STRIPE=local`: card payments against localstripe (a local Stripe stand-in,
# installed with the dev dependencies), so the demo's deposits and prepayments work
# offline. Test cards: 4242 4242 4242 4242 pays, 4000 0025 0000 3155 asks for 3-D Secure,
# 4000 0000 0000 0341 is declined.
PROCFILE := Procfile
ifeq ($(STRIPE),local)
STRIPE_PORT ?= 8420
export STRIPE_PORT
export STRIPE_SECRET_KEY := sk_test_local_demo
export STRIPE_PUBLISHABLE_KEY := pk_test_local_demo
export STRIPE_WEBHOOK_SECRET := whsec_local_demo
export STRIPE_API_BASE := http://127.0.0.1:$(STRIPE_PORT)
export STRIPE_JS_URL := http://127.0.0.1:$(STRIPE_PORT)/js.stripe.com/v3/
PROCFILE := Procfile.stripe
endif

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3 setuptools==80.9.0  # python -m venv brings setuptools 65.5, which has known CVEs
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

VENDOR := static/vendor/htmx.min.js

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR): node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/

install: $(STAMP) $(VENDOR)

## run: set everything up, migrate and seed the database, serve on http://127.0.0.1:$(PORT)
# honcho gives each process a PORT of its own (5000, 5100, ...): the worker's links and
# the Stripe stand-in's webhooks must all point at the web server's.
run: export BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(BIN)/flask --app app db-upgrade
	$(BIN)/flask --app app seed-demo
	@echo
	@echo "  Kairos is starting on http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	@echo
	$(BIN)/honcho start --port $(PORT) --procfile $(PROCFILE)

## chromium: Debian's Chromium for the browser tests (Playwright cannot download one here)
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing chromium from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## haproxy: Debian's HAProxy, the load balancer of `make prod` and of the tests of that shape
haproxy:
	@command -v haproxy >/dev/null || { \
	  echo "installing haproxy from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }

## prod: the production shape on this machine (README, "Deploying"): needs DATABASE_URL
## (PostgreSQL), REDIS_URL and SECRET_KEY; SEED_DEMO=1 loads the demo data
prod: install haproxy
	@$(BIN)/python scripts/check_production.py
	$(BIN)/python -m deploy.stack

## test: unit, integration and e2e; on PostgreSQL too when TEST_DATABASE_URL is set
test: install chromium haproxy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadscope -p no:cacheprovider --durations=15

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: the benchmarks in bench/ (see bench/README.md)
bench: install
	$(BIN)/python -m bench.slots_bench
	$(BIN)/python -m bench.http_bench
	$(BIN)/python -m bench.schedule_bench
	$(BIN)/python -m bench.outbox_bench
	$(BIN)/python -m bench.calendar_bench

## lighthouse: audit a page of a running `make run` (URL=... to pick another page)
URL ?= http://127.0.0.1:$(PORT)/demo/book/2/when?provider=any
lighthouse: chromium
	CHROME_PATH=/usr/bin/chromium npx --yes lighthouse@12 "$(URL)" --quiet --form-factor=mobile \
	  --output=html --output-path=test-results/lighthouse.html \
	  --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
	  --disable-background-networking --disable-component-update --disable-sync"
	@echo "report: test-results/lighthouse.html"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-results
