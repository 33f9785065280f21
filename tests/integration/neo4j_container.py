"""Neo4j in a Docker container for the tests: which image, which network, start, clean up.

Used by ``conftest.py`` (the ``container`` target) and by the container tests. testcontainers
starts the containers. Its reaper (Ryuk) is switched off (``TESTCONTAINERS_RYUK_DISABLED``):
Ryuk's image cannot be pulled where no registry is reachable. So the code that starts a
container removes it, with its anonymous volumes: at fixture teardown, when a start fails, on
Ctrl-C (pytest still tears fixtures down), and, for a run that was killed outright, at the next
start (containers and volumes labelled with a test process of this host that is gone).

Image: ``CRITMIN_NEO4J_IMAGE``; else critmin's own ``critmin/neo4j:<version>`` when it was built
(``make neo4j-image``); else the official ``neo4j:5.26-community`` (pulled if missing).
Network: the host's, with Neo4j listening on 127.0.0.1 only, when the daemon has no bridge
network (``dockerd --bridge=none``, as ``.ci/run`` starts it); else a bridge network with the
ports published on 127.0.0.1 only. ``CRITMIN_TEST_DOCKER_NETWORK=host|bridge`` chooses.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import docker.errors
from testcontainers.core.container import DockerContainer

import docker
from critmin.server.jars import neo4j_version, pinned_jars
from critmin.server.managed import _free_port
from critmin.store.settings import ConnectionSettings

OFFICIAL_IMAGE = "neo4j:5.26-community"
LOCAL_REPOSITORY = "critmin/neo4j"
LABEL = "org.critmin.test"
LABEL_PID = "org.critmin.test.pid"
LABEL_HOST = "org.critmin.test.host"
START_TIMEOUT_S = 240.0


class DockerUnavailable(Exception):
    """No daemon, or no usable image: why, and what to do."""


def docker_client() -> docker.DockerClient:
    # docker-py asks the daemon for its API version inside its constructor and, when that
    # fails, leaves the socket it opened for the garbage collector: pytest's unraisable check
    # turns that ResourceWarning into an error at exit, so a machine without Docker failed the
    # run it should skip. The socket is tried first, with a connection closed here.
    reason = _daemon_unreachable()
    if reason:
        raise DockerUnavailable(
            f"no Docker daemon answers ({reason}); start one (.ci/run does) or use another target"
        )
    client = None
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        if client is not None:
            client.close()
        raise DockerUnavailable(
            f"no Docker daemon answers ({exc}); start one (.ci/run does) or use another target"
        ) from exc
    return client


def _daemon_unreachable() -> str:
    """Why the daemon named by ``DOCKER_HOST`` (default: the local socket) cannot be reached,
    or "" when a connection opens."""
    url = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    parsed = urllib.parse.urlsplit(url)
    try:
        if parsed.scheme in ("unix", "http+unix", ""):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(5)
                probe.connect(parsed.path or url)
        elif parsed.scheme in ("tcp", "http", "https"):
            with socket.create_connection((parsed.hostname, parsed.port or 2375), timeout=5):
                pass
    except OSError as exc:
        return f"{url}: {exc.strerror or exc}"
    return ""


def local_image() -> str:
    return f"{LOCAL_REPOSITORY}:{neo4j_version(pinned_jars())}"


def _present(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def chosen_image(client: docker.DockerClient) -> str:
    """The image to run (see the module's docstring); pulled here if it is the official one."""
    explicit = os.environ.get("CRITMIN_NEO4J_IMAGE")
    if explicit:
        if not _present(client, explicit):
            raise DockerUnavailable(
                f"CRITMIN_NEO4J_IMAGE={explicit} is not in the daemon's images; build it with "
                "`make neo4j-image` (or `docker pull` it where a registry is reachable)"
            )
        return explicit
    if _present(client, local_image()):
        return local_image()
    if not _present(client, OFFICIAL_IMAGE):
        try:
            client.images.pull(OFFICIAL_IMAGE)
        except docker.errors.DockerException as exc:
            raise DockerUnavailable(
                f"{OFFICIAL_IMAGE} cannot be pulled ({exc}); without a registry build "
                f"{local_image()} with `make neo4j-image`"
            ) from exc
    return OFFICIAL_IMAGE


def network_mode(client: docker.DockerClient) -> str:
    explicit = os.environ.get("CRITMIN_TEST_DOCKER_NETWORK")
    if explicit in ("host", "bridge"):
        return explicit
    if explicit:
        raise DockerUnavailable(f"CRITMIN_TEST_DOCKER_NETWORK={explicit}: use host or bridge")
    names = {network.name for network in client.networks.list()}
    return "bridge" if "bridge" in names else "host"


def run_labels() -> dict[str, str]:
    return {LABEL: "1", LABEL_PID: str(os.getpid()), LABEL_HOST: socket.gethostname()}


def _gone(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def remove_orphans(client: docker.DockerClient) -> list[str]:
    """Remove test containers and volumes left by killed test runs of this host."""
    removed = []
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels
        if labels.get(LABEL_HOST) == host and _gone(labels.get(LABEL_PID, "")):
            container.remove(force=True, v=True)
            removed.append(container.name)
    for volume in client.volumes.list(filters={"label": LABEL}):
        labels = volume.attrs.get("Labels") or {}
        if labels.get(LABEL_HOST) == host and _gone(labels.get(LABEL_PID, "")):
            volume.remove(force=True)
            removed.append(volume.name)
    return removed


def neo4j_environment(
    network: str, bolt_port: int, http_port: int, auth: str | None
) -> dict[str, str]:
    """The official image's NEO4J_* variables for a test server on loopback ports."""
    env = {
        "NEO4J_PLUGINS": '["apoc"]',
        "NEO4J_dbms_security_procedures_unrestricted": "apoc.*",
        "NEO4J_dbms_usage__report_enabled": "false",
        "NEO4J_server_memory_heap_max__size": os.environ.get("CRITMIN_NEO4J_HEAP", "1g"),
        "NEO4J_server_memory_pagecache_size": os.environ.get("CRITMIN_NEO4J_PAGECACHE", "512m"),
        # The same port numbers inside and outside; Browser and drivers read the advertised ones.
        "NEO4J_server_bolt_listen__address": f":{bolt_port}",
        "NEO4J_server_http_listen__address": f":{http_port}",
        "NEO4J_server_bolt_advertised__address": f"127.0.0.1:{bolt_port}",
        "NEO4J_server_http_advertised__address": f"127.0.0.1:{http_port}",
    }
    if network == "host":  # the host's own interfaces: loopback only
        env["NEO4J_server_default__listen__address"] = "127.0.0.1"
    if auth is not None:
        env["NEO4J_AUTH"] = auth
    return env


@dataclass
class ContainerNeo4j:
    """A Neo4j server running in a container started by the tests."""

    container: DockerContainer
    image: str
    network: str
    bolt_port: int
    http_port: int
    password: str

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def settings(self) -> ConnectionSettings:
        return ConnectionSettings(
            self.uri, "neo4j", self.password, origin=f"container {self.image}"
        )

    @property
    def wrapped(self) -> Any:
        """The docker-py Container (exec_run, top, attrs)."""
        return self.container.get_wrapped_container()

    def logs(self) -> str:
        stdout, stderr = self.container.get_logs()
        return (stdout + stderr).decode(errors="replace")

    def remove(self) -> None:
        """Remove the container and its anonymous volumes (named volumes stay)."""
        try:
            self.container.stop(force=True, delete_volume=True)
        except docker.errors.NotFound:
            pass


def new_password() -> str:
    return "t" + secrets.token_hex(12)


def start_neo4j(
    client: docker.DockerClient,
    image: str,
    network: str,
    *,
    password: str | None = None,
    auth: str | None = None,
    data_volume: str | None = None,
    timeout: float = START_TIMEOUT_S,
) -> ContainerNeo4j:
    """Start Neo4j in a container on free loopback ports; wait until Bolt accepts ``password``.

    ``auth`` is NEO4J_AUTH as given (default ``neo4j/<password>``); ``data_volume`` mounts a
    named volume on /data. A container that fails to start or to answer is removed before the
    error is raised.
    """
    password = password or new_password()
    bolt_port = _free_port()
    http_port = _free_port()
    while http_port == bolt_port:
        http_port = _free_port()
    env = neo4j_environment(network, bolt_port, http_port, auth or f"neo4j/{password}")
    name = f"critmin-test-neo4j-{os.getpid()}-{secrets.token_hex(3)}"
    container = DockerContainer(image, env=env, name=name)
    container.with_kwargs(labels=run_labels(), network_mode=network)
    if network == "bridge":
        # Published on 127.0.0.1 only (docker-py accepts (address, port) as the host side).
        published: dict[str, Any] = {
            f"{bolt_port}/tcp": ("127.0.0.1", bolt_port),
            f"{http_port}/tcp": ("127.0.0.1", http_port),
        }
        container.ports = published
    if data_volume is not None:
        container.with_volume_mapping(data_volume, "/data", "rw")
    server = ContainerNeo4j(container, image, network, bolt_port, http_port, password)
    try:
        container.start()
        wait_for_bolt(server, timeout)
    except BaseException:  # also Ctrl-C while waiting: never leave the container behind
        if container._container is not None:
            server.remove()
        raise
    return server


class StartFailed(Exception):
    pass


def wait_for_bolt(server: ContainerNeo4j, timeout: float = START_TIMEOUT_S) -> None:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, ServiceUnavailable

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wrapped = server.wrapped
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            raise StartFailed(
                f"the Neo4j container ({server.image}) exited with code "
                f"{wrapped.attrs['State']['ExitCode']} while starting:\n{server.logs()[-3000:]}"
            )
        try:
            with GraphDatabase.driver(server.uri, auth=("neo4j", server.password)) as driver:
                driver.verify_connectivity()
            return
        except AuthError as exc:
            raise StartFailed(f"Neo4j in {server.image} refused the password: {exc}") from exc
        except (ServiceUnavailable, OSError):
            time.sleep(0.5)
    raise StartFailed(
        f"Neo4j in {server.image} did not answer on {server.uri} within {timeout:.0f} s:\n"
        f"{server.logs()[-3000:]}"
    )
