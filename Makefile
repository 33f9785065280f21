# The two commands of the README:
#   make demo   start the managed Neo4j, load the bundled real sample, run the sweep, write the report
#   make test   lint, type-check and run every test, integration tests against a real Neo4j included
#               (the managed server), then the container tests (make test-containers)
# Containers (a Docker daemon; .ci/run installs and starts one where none answers):
#   make neo4j-image      build or reuse critmin/neo4j:<version> without any image registry
#   make test-containers  the loading, sweep and query tests, the image's and the compose test,
#                         against Neo4j in a container (CRITMIN_TEST_NEO4J_TARGET=container)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-containers neo4j-image lint bench clean

CONTAINER_TESTS := tests/integration/test_loading.py tests/integration/test_sweep_store.py \
                   tests/integration/test_cypher_library.py tests/integration/test_container_image.py \
                   tests/integration/test_compose.py

$(BIN)/critmin: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("critmin needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,fast]'
	@touch $@

demo: $(BIN)/critmin
	$(BIN)/critmin demo

lint: $(BIN)/critmin
	$(BIN)/ruff check src tests bench scripts docker
	$(BIN)/ruff format --check src tests bench scripts docker
	$(BIN)/mypy

test: lint
	$(BIN)/pytest
	@$(MAKE) --no-print-directory test-containers

test-containers: $(BIN)/critmin
	CRITMIN_TEST_NEO4J_TARGET=container $(BIN)/pytest $(CONTAINER_TESTS)

neo4j-image: $(BIN)/critmin
	$(BIN)/python docker/neo4j/build.py

bench: $(BIN)/critmin
	$(BIN)/python -m bench.bench_engine
	$(BIN)/python -m bench.bench_load
	$(BIN)/python -m bench.bench_writeback
	$(BIN)/python -m bench.bench_queries
	$(BIN)/python -m bench.bench_coalitions
	$(BIN)/python -m bench.bench_sensitivity

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
