"""A real Neo4j for the integration tests.

``CRITMIN_TEST_NEO4J_URI`` (+ ``_USER``, ``_PASSWORD``) points the tests at a server you run;
every test wipes it, so never point it at data you keep. Otherwise the session starts a managed
Neo4j 5.26 from the pinned jars in a temporary home on free ports, and deletes it at the end.
Where no server can be had, the tests skip, except under ``CI`` (set by CI systems), where that
is a failure: a green CI run always means the integration tests ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from critmin.server import ManagedNeo4j, ServerError
from critmin.server.managed import _free_port
from critmin.store.graph import GraphStore
from critmin.store.settings import ConnectionSettings


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and no Neo4j is available for integration tests: {reason}")
    pytest.skip(f"no Neo4j for integration tests: {reason}")


@pytest.fixture(scope="session")
def managed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedNeo4j | None]:
    """The managed server the tests started, or None when they use CRITMIN_TEST_NEO4J_URI."""
    if os.environ.get("CRITMIN_TEST_NEO4J_URI"):
        yield None
        return
    server = ManagedNeo4j(home=Path(tmp_path_factory.mktemp("managed")) / "neo4j")
    try:
        server.start(bolt_port=_free_port(), http_port=_free_port())
    except ServerError as exc:
        _unavailable(str(exc))
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def neo4j_settings(managed_server: ManagedNeo4j | None) -> ConnectionSettings:
    if managed_server is None:
        return ConnectionSettings(
            uri=os.environ["CRITMIN_TEST_NEO4J_URI"],
            user=os.environ.get("CRITMIN_TEST_NEO4J_USER", "neo4j"),
            password=os.environ.get("CRITMIN_TEST_NEO4J_PASSWORD", ""),
            origin="CRITMIN_TEST_NEO4J_URI",
        )
    creds = managed_server.credentials()
    assert creds is not None
    return ConnectionSettings(creds.uri, creds.user, creds.password, origin="test server")


@pytest.fixture(scope="session")
def session_store(neo4j_settings: ConnectionSettings) -> Iterator[GraphStore]:
    with GraphStore.connect(neo4j_settings) as store:
        yield store


@pytest.fixture()
def store(session_store: GraphStore) -> GraphStore:
    """The shared store, emptied before the test (data and scenarios; schema stays)."""
    session_store.wipe()
    return session_store


@pytest.fixture()
def neo4j_env(neo4j_settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI (through NEO4J_* variables) at the test server."""
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_settings.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password)
    monkeypatch.setenv("NEO4J_DATABASE", neo4j_settings.database)


@pytest.fixture(scope="module")
def demo_store(session_store: GraphStore) -> GraphStore:
    """The database as `critmin demo` leaves it: the bundled sample loaded and swept.

    Module-scoped: a module that uses it gets the demo graph once (every other test wipes the
    database, so no later module sees it). The analysts' examples in ``cypher/`` are written for
    this graph.
    """
    from critmin.pipeline import DEMO_SWEEPS, load_demo, measure_demo_scenario, run_sweep

    session_store.wipe()
    load_demo(session_store, Path(__file__).resolve().parents[2] / "data")
    for commodity, years in DEMO_SWEEPS:
        run_sweep(session_store, commodity, years=years, command=f"demo fixture: {commodity}")
    measure_demo_scenario(session_store)
    return session_store
