"""The Neo4j image the container tests run behaves like the official one.

Whichever image runs (the official ``neo4j:5.26-community`` or critmin's own, built from the
pinned jars by ``make neo4j-image``): NEO4J_AUTH sets the password, once, before the first start;
NEO4J_server_* variables reach neo4j.conf (memory, listen addresses) and the JVM; /data is a
volume that keeps the database; the server runs as a non-root user; APOC and Browser are there;
nothing listens outside loopback.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError
from neo4j_container import LABEL_PID, ContainerNeo4j, StartFailed, run_labels, start_neo4j

import docker

pytestmark = [pytest.mark.integration, pytest.mark.container]


def _query(server: ContainerNeo4j, cypher: str, password: str | None = None) -> list[dict]:
    auth = ("neo4j", password or server.password)
    with GraphDatabase.driver(server.uri, auth=auth) as driver:
        records, _, _ = driver.execute_query(cypher, database_="neo4j")
    return [record.data() for record in records]


def _listening(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` in this network namespace."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A = LISTEN
                continue
            raw = bytes.fromhex(address)
            # /proc prints each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            if len(words) == 4:
                found.add(socket.inet_ntop(socket.AF_INET, words))
            else:
                found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def _bytes(size: str) -> int:
    """'1g', '512m', '600.00MiB', '1.00GiB' in bytes."""
    text = size.strip().lower().removesuffix("ib").removesuffix("b")
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    if text[-1] in units:
        return round(float(text[:-1]) * units[text[-1]])
    return int(float(text))


def test_password_from_neo4j_auth_and_no_other(neo4j_container: ContainerNeo4j) -> None:
    assert _query(neo4j_container, "RETURN 1 AS one") == [{"one": 1}]
    with pytest.raises(AuthError):
        _query(neo4j_container, "RETURN 1", password="neo4j")


def test_memory_and_listen_settings_come_from_the_environment(
    neo4j_container: ContainerNeo4j,
) -> None:
    env = neo4j_container.wrapped.attrs["Config"]["Env"]
    heap = next(e.split("=", 1)[1] for e in env if e.startswith("NEO4J_server_memory_heap_max"))
    rows = _query(
        neo4j_container,
        "CALL dbms.listConfig() YIELD name, value "
        "WHERE name IN ['server.memory.heap.max_size', 'server.memory.pagecache.size', "
        "'server.bolt.listen_address', 'server.bolt.advertised_address'] "
        "RETURN name, value",
    )
    config = {row["name"]: row["value"] for row in rows}
    expected_heap = _bytes(heap)
    assert _bytes(config["server.memory.heap.max_size"]) == expected_heap
    assert config["server.bolt.listen_address"].endswith(f":{neo4j_container.bolt_port}")
    assert config["server.bolt.advertised_address"] == f"127.0.0.1:{neo4j_container.bolt_port}"
    # The JVM really got that heap (the launcher turns the setting into -Xmx).
    [jmx] = _query(
        neo4j_container,
        "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes "
        "RETURN attributes.HeapMemoryUsage.value.properties.max AS max",
    )
    assert 0.9 * expected_heap <= jmx["max"] <= expected_heap


def test_nothing_listens_outside_loopback(neo4j_container: ContainerNeo4j) -> None:
    if neo4j_container.network != "host":
        pytest.skip("bridge network: the container's own namespace; ports published on 127.0.0.1")
    for port in (neo4j_container.bolt_port, neo4j_container.http_port):
        addresses = _listening(port)
        assert addresses, f"nothing listens on port {port}"
        assert addresses <= {"127.0.0.1", "::ffff:127.0.0.1"}, addresses


def test_server_runs_as_a_non_root_user(neo4j_container: ContainerNeo4j) -> None:
    top = neo4j_container.wrapped.top(ps_args="-eo pid,uid,args")
    uid_column = top["Titles"].index("UID")
    java = [p for p in top["Processes"] if "org.neo4j" in p[-1] or "java" in p[-1]]
    assert java, top
    assert all(p[uid_column] != "0" for p in java), java


def test_data_lives_in_the_data_volume(neo4j_container: ContainerNeo4j) -> None:
    mounts = {m["Destination"]: m for m in neo4j_container.wrapped.attrs["Mounts"]}
    assert mounts["/data"]["Type"] == "volume"
    code, out = neo4j_container.wrapped.exec_run(["ls", "/data/databases"])
    assert code == 0 and {"neo4j", "system"} <= set(out.decode().split())


def test_apoc_and_browser_are_served(neo4j_container: ContainerNeo4j) -> None:
    [row] = _query(neo4j_container, "RETURN apoc.version() AS apoc")
    assert row["apoc"].startswith("5.26")
    base = f"http://127.0.0.1:{neo4j_container.http_port}"
    with urllib.request.urlopen(f"{base}/browser/", timeout=30) as page:
        assert page.status == 200 and b"<html" in page.read(4096).lower()
    with urllib.request.urlopen(base + "/", timeout=30) as discovery:
        assert f"127.0.0.1:{neo4j_container.bolt_port}".encode() in discovery.read()


@pytest.fixture()
def data_volume(docker_daemon: docker.DockerClient) -> Iterator[str]:
    volume = docker_daemon.volumes.create(labels=run_labels())
    try:
        yield volume.name
    finally:
        volume.remove(force=True)


def test_a_new_container_on_the_same_volume_keeps_data_and_password(
    docker_daemon: docker.DockerClient, neo4j_image: str, docker_network: str, data_volume: str
) -> None:
    first = start_neo4j(docker_daemon, neo4j_image, docker_network, data_volume=data_volume)
    try:
        _query(first, "CREATE (:Marker {made: 'first container'})")
    finally:
        first.remove()
    # As with the official image, NEO4J_AUTH only sets the password of a new database: a
    # second container on the same /data keeps the first one's password and data.
    second = start_neo4j(
        docker_daemon,
        neo4j_image,
        docker_network,
        password=first.password,
        auth="neo4j/another-password-1",
        data_volume=data_volume,
    )
    try:
        rows = _query(second, "MATCH (m:Marker) RETURN m.made AS made")
        assert rows == [{"made": "first container"}]
        with pytest.raises(AuthError):
            _query(second, "RETURN 1", password="another-password-1")
    finally:
        second.remove()


def test_a_refused_start_is_reported_and_leaves_no_container(
    docker_daemon: docker.DockerClient, neo4j_image: str, docker_network: str
) -> None:
    def ours() -> set[str]:
        mine = {"label": f"{LABEL_PID}={os.getpid()}"}
        return {c.name for c in docker_daemon.containers.list(all=True, filters=mine)}

    before = ours()
    # Both images refuse a password shorter than 8 characters and exit.
    with pytest.raises(StartFailed, match=r"(?i)password"):
        start_neo4j(docker_daemon, neo4j_image, docker_network, auth="neo4j/short")
    assert ours() == before
