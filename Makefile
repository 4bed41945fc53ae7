# Concord: `make run` serves on the embedded default, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck bench clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Concord needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP) ## Serve the API on http://127.0.0.1:8000 (embedded SQLite under ./var)
	$(BIN)/concord serve

test: $(STAMP) ## Run the whole test suite, on SQLite and PostgreSQL
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP) ## ruff, and the import contracts (the domain stays pure)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP) ## mypy --strict on the domain
	$(BIN)/mypy

bench: $(STAMP) ## Benchmarks against local PostgreSQL and Redis: one table (also var/bench/latest.md)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
	  else echo "make bench needs wrk: sudo apt-get install wrk"; exit 1; fi; }
	@test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet py-spy
	$(BIN)/python -m bench.run

clean: ## Remove the virtual environment and the embedded data
	rm -rf $(VENV) var
