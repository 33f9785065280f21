# The two commands of the README:
#   make demo   start the managed Neo4j, load the bundled real sample, run the sweep, write the report
#   make test   lint, type-check and run every test, integration tests against a real Neo4j included
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/critmin: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("critmin needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,fast]'
	@touch $@

demo: $(BIN)/critmin
	$(BIN)/critmin demo

lint: $(BIN)/critmin
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(BIN)/critmin
	$(BIN)/python -m bench.bench_engine
	$(BIN)/python -m bench.bench_load
	$(BIN)/python -m bench.bench_writeback
	$(BIN)/python -m bench.bench_queries

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
