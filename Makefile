# The verbs a newcomer types. Everything runs from the project's own .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# No AWS region here: a default would override the AWS profile's. The deploy tool takes
# AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region (docs/deploy.md).
export AWS_EC2_METADATA_DISABLED := true

.PHONY: run test bench storm viewers viewers-onsale clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: embedded PostgreSQL (or DATABASE_URL), migrations, demo show, http://127.0.0.1:$(PORT)/
run: $(VENV)/.installed
	PORT=$(PORT) $(PY) -m tools.local.run

# axe-core (npm), injected by the browser tests for their accessibility audit. Without npm the
# audit is skipped (CI, which has npm, fails instead).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "make: no npm, so the browser tests' accessibility audit will be skipped"; fi

## test: the whole suite against a fresh database (DATABASE_URL's server, or embedded)
test: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest

## bench: prints figures; never passes or fails on speed
bench: $(VENV)/.installed
	$(PY) -m tools.stress bench

## storm: 300 containers vs max_connections=100, directly and through pgbouncer (needs pgbouncer)
storm: $(VENV)/.installed
	$(PY) -m tools.stress storm

## viewers: 100, 1,000 and 5,000 viewers polling a seat map, through nginx's cache and straight (needs nginx)
viewers: $(VENV)/.installed
	$(PY) -m tools.stress viewers --plot docs/viewers.png

## viewers-onsale: 100, 1,000 and 5,000 viewers polling through nginx while 3,000 buyers buy the concert hall (needs nginx)
viewers-onsale: $(VENV)/.installed
	$(PY) -m tools.stress viewers --onsale layouts/concert-hall.json --buyers 3000 --viewers 100 1000 5000 \
		--mode proxy --plot docs/viewers-onsale.png

clean:
	rm -rf .data build .pytest_cache

# Deployment on AWS: wheelhouse, package, deploy, outputs, destroy (docs/deploy.md)
include infra/Makefile.fragment
