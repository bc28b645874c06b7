# CreditLink. The two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := target/creditlink-neo4j-runtime.jar
# the regulator's console (console/ → api/static/console/, served at /console)
CONSOLE_BUNDLE := api/static/console/index.html
CONSOLE_DEPS := console/node_modules/.package-lock.json
CONSOLE_SOURCES := console/package.json console/package-lock.json console/index.html \
	console/vite.config.ts console/tsconfig.json $(shell find console/src -type f 2>/dev/null)

.PHONY: run test install runtime console browser neo4j-start neo4j-stop lint format schema bench clean

run: install runtime console
	$(BIN)/creditlink serve

test: install runtime console browser
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

console: $(CONSOLE_BUNDLE)

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	@command -v npm >/dev/null || { echo "console: npm (Node.js 20.19+) is needed to build it" >&2; exit 1; }
	cd console && npm ci --no-audit --no-fund
	touch $(CONSOLE_DEPS)

$(CONSOLE_BUNDLE): $(CONSOLE_DEPS) $(CONSOLE_SOURCES)
	cd console && npm run build
	touch $(CONSOLE_BUNDLE)

# Debian's Chromium (and a CJK font for readable screenshots) for the console's e2e test.
browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei; \
	else \
		echo "browser: chromium (or a CJK font) is missing and this is not root; the console's" \
			"end-to-end test will be skipped. Install: sudo apt-get install chromium fonts-wqy-microhei"; \
	fi

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

# the scale-and-speed benchmark (bench/README.md): `make bench SCALE=1000000` for 1M
SCALE ?= 100000
bench: install runtime
	$(BIN)/creditlink bench --scale $(SCALE)

schema: install
	$(BIN)/creditlink export-schema

clean:
	rm -rf $(VENV) target .pytest_cache .mypy_cache
