# CreditLink. The two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# exact versions and hashes of the runtime and dev dependencies; `make lock` rewrites it
LOCK := requirements.lock
UV_VERSION := 0.13.10
# extra `uv pip compile` flags, e.g. `make lock LOCK_FLAGS='--upgrade-package starlette'`
LOCK_FLAGS ?=
RUNTIME := target/creditlink-neo4j-runtime.jar
# the regulator's console (console/ → api/static/console/, served at /console) and GraphiQL
# (console/graphiql.html → api/static/graphiql/, served at GET /graphql to browsers)
CONSOLE_BUNDLE := api/static/console/index.html
GRAPHIQL_BUNDLE := api/static/graphiql/graphiql.html
CONSOLE_DEPS := console/node_modules/.package-lock.json
CONSOLE_SOURCES := console/package.json console/package-lock.json console/index.html \
	console/graphiql.html console/vite.config.ts console/vite.graphiql.config.ts \
	console/vite.shared.ts console/tsconfig.json $(shell find console/src -type f 2>/dev/null)

.PHONY: run test install lock runtime console browser neo4j-start neo4j-stop lint format schema settings-doc bench clean

run: install runtime console
	$(BIN)/creditlink serve

test: install runtime console browser
	$(BIN)/creditlink export-schema --check
	$(BIN)/ruff check api domain graph_model rules seeds testkit tests bench
	$(BIN)/ruff format --check api domain graph_model rules seeds testkit tests bench
	$(BIN)/mypy
	$(BIN)/pytest

install: $(STAMP)

# installs exactly the lock (hash-checked), then the project itself without resolving anything
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolves pyproject.toml into the lock for every Python it allows (3.11-3.13, all
# platforms). Versions already in the lock are kept unless pyproject.toml rules them out or
# LOCK_FLAGS asks for an upgrade. uv lives in a throwaway venv, never in the project's.
lock:
	@tool=$$(mktemp -d) && trap 'rm -rf "$$tool"' EXIT && \
	$(PYTHON) -m venv "$$tool" && \
	"$$tool/bin/pip" install --quiet "uv==$(UV_VERSION)" && \
	"$$tool/bin/uv" pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command 'make lock' --quiet $(LOCK_FLAGS) -o $(LOCK)

runtime: $(RUNTIME)

$(RUNTIME): pom.xml $(shell find graph_model/runtime/launcher -name '*.java')
	mvn -q -B package
	touch $(RUNTIME)

console: $(CONSOLE_BUNDLE) $(GRAPHIQL_BUNDLE)

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	@command -v npm >/dev/null || { echo "console: npm (Node.js 20.19+) is needed to build it" >&2; exit 1; }
	cd console && npm ci --no-audit --no-fund
	touch $(CONSOLE_DEPS)

# one `npm run build` makes both bundles
$(CONSOLE_BUNDLE) $(GRAPHIQL_BUNDLE) &: $(CONSOLE_DEPS) $(CONSOLE_SOURCES)
	cd console && npm run build
	touch $(CONSOLE_BUNDLE) $(GRAPHIQL_BUNDLE)

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
	$(BIN)/ruff check api domain graph_model rules seeds testkit tests bench
	$(BIN)/ruff format --check api domain graph_model rules seeds testkit tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix api domain graph_model rules seeds testkit tests bench
	$(BIN)/ruff format api domain graph_model rules seeds testkit tests bench

# the scale-and-speed benchmark (bench/README.md): `make bench SCALE=1000000` for 1M
SCALE ?= 100000
bench: install runtime
	$(BIN)/python -m bench --scale $(SCALE)

schema: install
	$(BIN)/creditlink export-schema

# the README's configuration table, from api/settings.py (tests/unit/test_settings_doc.py checks it)
settings-doc: install
	$(BIN)/creditlink settings --markdown --write README.md

clean:
	rm -rf $(VENV) target .pytest_cache .mypy_cache
