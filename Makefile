# CreditLink. The two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := target/creditlink-neo4j-runtime.jar

.PHONY: run test install runtime neo4j-start neo4j-stop lint format schema bench clean

run: install runtime
	$(BIN)/creditlink serve

test: install runtime
	$(BIN)/creditlink export-schema --check
	$(BIN)/ruff check api graph_model rules seeds tests bench
	$(BIN)/ruff format --check api graph_model rules seeds tests bench
	$(BIN)/mypy
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

runtime: $(RUNTIME)

$(RUNTIME): pom.xml $(shell find graph_model/runtime/launcher -name '*.java')
	mvn -q -B package
	touch $(RUNTIME)

neo4j-start: install runtime
	$(BIN)/creditlink neo4j-start

neo4j-stop: install
	$(BIN)/creditlink neo4j-stop

lint: install
	$(BIN)/ruff check api graph_model rules seeds tests bench
	$(BIN)/ruff format --check api graph_model rules seeds tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix api graph_model rules seeds tests bench
	$(BIN)/ruff format api graph_model rules seeds tests bench

schema: install
	$(BIN)/creditlink export-schema

clean:
	rm -rf $(VENV) target .pytest_cache .mypy_cache
