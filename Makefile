# Two commands on a fresh machine: `make run` and `make test` (Python 3.11+, no Docker).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck bench clean kafka-jars

install: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LeadRelay needs Python 3.11+; set PYTHON=python3.11 (or newer)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: install
	$(BIN)/leadrelay up --demo

# Static checks first (seconds), then the suite against the real broker and databases.
test: install lint typecheck
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy shared services


# Apache Kafka's jars from Maven Central (deploy/kafka/pom.xml) into ~/.cache/leadrelay/, once; needs mvn and Java 17+.
kafka-jars: install
	$(BIN)/python -m shared.kafka.jars

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .leadrelay .pytest_cache .mypy_cache .ruff_cache *.egg-info
