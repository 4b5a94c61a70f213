# The verbs a newcomer types. Everything runs from the project's own .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export AWS_DEFAULT_REGION ?= us-east-1
export AWS_EC2_METADATA_DISABLED := true

.PHONY: run test bench storm clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: embedded PostgreSQL (or DATABASE_URL), migrations, demo show, http://127.0.0.1:$(PORT)/
run: $(VENV)/.installed
	PORT=$(PORT) $(PY) -m tools.local.run

## test: the whole suite against a fresh database (DATABASE_URL's server, or embedded)
test: $(VENV)/.installed
	$(PY) -m pytest

## bench: prints figures; never passes or fails on speed
bench: $(VENV)/.installed
	$(PY) -m tools.stress bench

## storm: 300 containers vs max_connections=100, directly and through pgbouncer (needs pgbouncer)
storm: $(VENV)/.installed
	$(PY) -m tools.stress storm

clean:
	rm -rf .data build .pytest_cache

# Deployment on AWS: wheelhouse, package, deploy, outputs, destroy (docs/deploy.md)
include infra/Makefile.fragment
