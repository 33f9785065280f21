"""A real Neo4j for the integration tests, chosen by ``CRITMIN_TEST_NEO4J_TARGET``:

``managed`` (the default)
    the session starts a managed Neo4j 5.26 from the pinned jars in a temporary home on free
    loopback ports, and deletes it at the end.
``container``
    the session starts Neo4j in a Docker container with testcontainers (``neo4j_container.py``:
    image ``CRITMIN_NEO4J_IMAGE``, else ``critmin/neo4j:<version>`` when ``make neo4j-image``
    built it, else the official ``neo4j:5.26-community``; loopback only) and removes it at the
    end. Tests marked ``container`` run with this target only (``make test-containers``); with it,
    every integration test collected runs against the container and is marked ``container``.
``external``
    ``CRITMIN_TEST_NEO4J_URI`` (+ ``_USER``, ``_PASSWORD``) names a server you run; the default
    target when that variable is set. Every test wipes it: never point it at data you keep.

Where no server can be had (no Java, no Docker daemon, no image), the tests skip, except under
``CI`` (set by CI systems), where that is a failure: a green CI run always means the integration
tests ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from critmin.server import ManagedNeo4j, ServerError
from critmin.server.managed import _free_port
from critmin.store.graph import GraphStore
from critmin.store.settings import ConnectionSettings

if TYPE_CHECKING:
    from neo4j_container import ContainerNeo4j

    import docker

TARGETS = ("managed", "container", "external")


def neo4j_target() -> str:
    explicit = os.environ.get("CRITMIN_TEST_NEO4J_TARGET", "").strip().lower()
    if not explicit:
        return "external" if os.environ.get("CRITMIN_TEST_NEO4J_URI") else "managed"
    if explicit not in TARGETS:
        raise pytest.UsageError(
            f"CRITMIN_TEST_NEO4J_TARGET={explicit!r}: choose one of {', '.join(TARGETS)}"
        )
    if explicit == "external" and not os.environ.get("CRITMIN_TEST_NEO4J_URI"):
        raise pytest.UsageError("CRITMIN_TEST_NEO4J_TARGET=external needs CRITMIN_TEST_NEO4J_URI")
    return explicit


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Container tests run with the container target only; with it, every integration test
    runs against the container (and carries the marker)."""
    if neo4j_target() == "container":
        for item in items:
            if "integration" in item.keywords:
                item.add_marker(pytest.mark.container)
        return
    deselected = [item for item in items if "container" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if "container" not in item.keywords]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and no Neo4j is available for integration tests: {reason}")
    pytest.skip(f"no Neo4j for integration tests: {reason}")


@pytest.fixture(scope="session")
def managed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedNeo4j | None]:
    """The managed server the tests started, or None when they use another target."""
    if neo4j_target() != "managed":
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
def docker_daemon() -> Iterator[docker.DockerClient]:
    """A docker-py client of an answering daemon, after removing what killed runs left."""
    from neo4j_container import DockerUnavailable, docker_client, remove_orphans

    try:
        client = docker_client()
    except DockerUnavailable as exc:
        _unavailable(str(exc))
    remove_orphans(client)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def neo4j_image(docker_daemon: docker.DockerClient) -> str:
    from neo4j_container import DockerUnavailable, chosen_image

    try:
        return chosen_image(docker_daemon)
    except DockerUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def docker_network(docker_daemon: docker.DockerClient) -> str:
    from neo4j_container import DockerUnavailable, network_mode

    try:
        return network_mode(docker_daemon)
    except DockerUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def neo4j_container(
    docker_daemon: docker.DockerClient, neo4j_image: str, docker_network: str
) -> Iterator[ContainerNeo4j]:
    """Neo4j in a container for the whole session; removed at the end (also after Ctrl-C)."""
    from neo4j_container import StartFailed, start_neo4j

    try:
        server = start_neo4j(docker_daemon, neo4j_image, docker_network)
    except StartFailed as exc:
        _unavailable(str(exc))
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def neo4j_settings(
    request: pytest.FixtureRequest, managed_server: ManagedNeo4j | None
) -> ConnectionSettings:
    if neo4j_target() == "container":
        server: ContainerNeo4j = request.getfixturevalue("neo4j_container")
        return server.settings()
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
    database, so no later module sees it). The analysts' examples in ``cypher/`` are
    written for this graph.
    """
    from critmin.chain_run import chain_study, run_chain_sweep
    from critmin.pipeline import (
        DEMO_CHAIN,
        DEMO_SWEEPS,
        load_demo,
        measure_demo_scenario,
        run_sweep,
    )

    session_store.wipe()
    load_demo(session_store, Path(__file__).resolve().parents[2] / "data")
    for commodity, years in DEMO_SWEEPS:
        run_sweep(session_store, commodity, years=years, command=f"demo fixture: {commodity}")
    chain, years, mode = DEMO_CHAIN
    run_chain_sweep(session_store, chain_study(chain, years=years, mode=mode), command="demo chain")
    measure_demo_scenario(session_store)
    return session_store
