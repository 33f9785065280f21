"""docker-compose.yml end to end: up, `critmin load` the bundled sample, `critmin query`, down.

The stack runs the image the container tests run (``CRITMIN_NEO4J_IMAGE``), on free loopback
ports (``CRITMIN_NEO4J_BOLT_PORT``, ``CRITMIN_NEO4J_HTTP_PORT``), as a project of its own; on a
daemon without a bridge network it adds ``docker/compose.host-network.yml``. `down -v` must leave
no container and no volume of the project.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from neo4j import GraphDatabase

import docker
from critmin.loader import read_trades
from critmin.pipeline import DEMO_TRADE_FILES
from critmin.server.managed import _free_port

pytestmark = [pytest.mark.integration, pytest.mark.container]

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
CRITMIN = [str(Path(sys.executable).with_name("critmin"))]
PROJECT_LABEL = "com.docker.compose.project"


def compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) where present, else Debian's `docker-compose` (1.29)."""
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def _run(command: list[str], env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _wait_healthy(client: docker.DockerClient, project: str, timeout: float = 300) -> None:
    """Until the service's own health check (HTTP on the Browser port) passes."""
    deadline = time.monotonic() + timeout
    state = "no container"
    containers: list = []
    while time.monotonic() < deadline:
        containers = client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}={project}"}
        )
        if containers:
            attrs = containers[0].attrs["State"]
            state = attrs.get("Health", {}).get("Status", attrs["Status"])
            if state == "healthy":
                return
            if attrs["Status"] == "exited":
                break
        time.sleep(1)
    logs = containers[0].logs().decode(errors="replace")[-3000:] if containers else ""
    pytest.fail(f"the compose service is {state} after {timeout:.0f} s:\n{logs}")


def _leftovers(client: docker.DockerClient, project: str) -> list[str]:
    label = {"label": f"{PROJECT_LABEL}={project}"}
    containers = [c.name for c in client.containers.list(all=True, filters=label)]
    volumes = [v.name for v in client.volumes.list(filters=label)]
    return containers + volumes


def test_compose_stack_serves_critmin_load_and_query(
    docker_daemon: docker.DockerClient, neo4j_image: str, docker_network: str
) -> None:
    compose = compose_command()
    if compose is None:
        message = "neither `docker compose` nor `docker-compose` is installed"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set: {message}")
        pytest.skip(message)
    bolt, http = _free_port(), _free_port()
    password = "c" + secrets.token_hex(12)
    project = f"critmin-test-{os.getpid()}-{secrets.token_hex(3)}"
    # Host networking excludes published ports: the host-network file replaces the override.
    host = docker_network == "host"
    second = "docker/compose.host-network.yml" if host else "docker-compose.override.yml"
    files = ["-f", str(ROOT / "docker-compose.yml"), "-f", str(ROOT / second)]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")},
        "CRITMIN_NEO4J_IMAGE": neo4j_image,
        "CRITMIN_NEO4J_BOLT_PORT": str(bolt),
        "CRITMIN_NEO4J_HTTP_PORT": str(http),
        "NEO4J_PASSWORD": password,
    }
    stack = [*compose, "--project-name", project, *files]
    try:
        _run([*stack, "up", "-d"], env)
        _wait_healthy(docker_daemon, project)
        volume = f"{project}_critmin-neo4j-data"
        assert docker_daemon.volumes.get(volume).name == volume

        cli_env = {**env, "NEO4J_URI": f"bolt://127.0.0.1:{bolt}", "NEO4J_USER": "neo4j"}
        trade_files = [str(DATA / name) for name in DEMO_TRADE_FILES]
        loaded = _run([*CRITMIN, "load", "trades", *trade_files], cli_env)
        expected = len(read_trades(trade_files).flows)
        assert f"wrote {expected:,} TRADES relationships" in loaded

        with GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("neo4j", password)) as db:
            [stored] = db.execute_query(
                "MATCH ()-[t:TRADES]->() RETURN count(t) AS n", database_="neo4j"
            ).records
            assert stored["n"] == expected
            # docker-compose.yml bounds the transaction logs and lets Browser play local guides
            settings = db.execute_query(
                "SHOW SETTINGS YIELD name, value WHERE name IN $names RETURN name, value",
                names=[
                    "db.tx_log.rotation.retention_policy",
                    "db.tx_log.rotation.size",
                    "browser.remote_content_hostname_whitelist",
                ],
                database_="neo4j",
            ).records
            assert {r["name"]: r["value"] for r in settings} == {
                "db.tx_log.rotation.retention_policy": "512M size",
                "db.tx_log.rotation.size": "64.00MiB",
                "browser.remote_content_hostname_whitelist": "127.0.0.1,localhost",
            }
            # What the query must answer, computed here from the graph's own rows.
            flows = db.execute_query(
                "MATCH (m:Commodity {id: 'cobalt_oxides'}) "
                "MATCH (e:Country)-[t:TRADES {year: 2024}]->(i:Country) "
                "WHERE e <> i AND any(p IN m.hs_codes WHERE t.hs STARTS WITH p) "
                "RETURN i.iso3 AS importer, sum(t.tonnes) AS tonnes ORDER BY tonnes DESC",
                database_="neo4j",
            ).records

        answer = _run(
            [
                *CRITMIN,
                "query",
                "import_dependence",
                "--param",
                "commodity=cobalt_oxides",
                "--param",
                "year=2024",
                "--param",
                "limit=3",
                "--format",
                "json",
            ],
            cli_env,
        )
        rows = json.loads(answer)["rows"]
        assert [r["importer"] for r in rows] == [f["importer"] for f in flows[:3]]
        assert rows[0]["imports"] == pytest.approx(flows[0]["tonnes"], abs=1e-3)
        assert all(0 < r["hhi"] <= 1 and r["n_suppliers"] >= 1 for r in rows)
    finally:
        down = subprocess.run(
            [*stack, "down", "--volumes", "--timeout", "30"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert down.returncode == 0, down.stderr
    assert _leftovers(docker_daemon, project) == []
