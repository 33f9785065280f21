"""Mistakes and faults only a running server reveals, as a user at the terminal sees them.

The server-killed case starts a server of its own (the session's shared one must live on),
kills it with SIGKILL in the middle of a load, and checks the user is told what happened in one
line, then that re-running the same command after a restart completes the load exactly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from critmin.loader import read_trades
from critmin.server import ManagedNeo4j
from critmin.server.managed import _free_port
from critmin.store.graph import GraphStore
from critmin.store.settings import ConnectionSettings

pytestmark = pytest.mark.integration

CLI = "from critmin.cli.main import app; app()"
BATTERY = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "trade"
    / ("baci_hs17_v202601_2024_battery_subset.csv")
)


def critmin(settings: ConnectionSettings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _env(settings: ConnectionSettings) -> dict[str, str]:
    return {
        **os.environ,
        "NEO4J_URI": settings.uri,
        "NEO4J_USER": settings.user,
        "NEO4J_PASSWORD": settings.password,
        "COLUMNS": "250",
    }


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_database_that_does_not_exist(neo4j_settings: ConnectionSettings) -> None:
    line = one_line(critmin(neo4j_settings, "results", "sources", "--commodity", "cobalt",
                            "--database", "nosuchdb"))  # fmt: skip
    assert "no such database" in line and "nosuchdb" in line


def test_a_negative_limit_is_the_servers_one_line(
    store: GraphStore,
    neo4j_settings: ConnectionSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The library declares its limits' bounds (refused before the server is asked); a query
    # of the analyst's own without them meets the server's refusal, as one line too.
    (tmp_path / "mine.cypher").write_text(
        "// Mine.\n// @param n: integer  rows\n// :param {n: 1}\nRETURN 1 LIMIT toInteger($n)\n"
    )
    monkeypatch.setenv("CRITMIN_CYPHER_DIR", str(tmp_path))
    line = one_line(critmin(neo4j_settings, "query", "mine", "-p", "n=-1"))
    assert "the server refused the query" in line and "-1" in line


def test_server_killed_mid_load_then_rerun_completes(tmp_path: Path) -> None:
    server = ManagedNeo4j(home=tmp_path / "neo4j")
    try:
        server.start(bolt_port=_free_port(), http_port=_free_port())
        creds = server.credentials()
        assert creds is not None
        settings = ConnectionSettings(creds.uri, creds.user, creds.password, origin="test")
        loading = subprocess.Popen(
            [sys.executable, "-c", CLI, "load", "trades", str(BATTERY), "--batch-size", "20"],
            env=_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with GraphStore.connect(settings) as store:
            deadline = time.monotonic() + 120
            while store.records("MATCH ()-[t:TRADES]->() RETURN count(t) AS n")[0]["n"] == 0:
                assert loading.poll() is None, loading.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.05)
        pid = server.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        out, err = loading.communicate(timeout=180)
        told_after = time.monotonic() - killed_at
        line = one_line(subprocess.CompletedProcess(loading.args, loading.returncode, out, err))
        # Lost between transactions or while one committed: either way the user is told to
        # re-run the command.
        assert "connection to Neo4j was lost" in line and "e-run" in line, line
        # The driver's retries are bounded (15 s of retrying plus connection timeouts; generous
        # for a loaded CI machine): the user is not left waiting minutes.
        assert told_after < 150, told_after
        assert "neo4j" not in err.replace(line, "").lower(), err  # no driver log lines

        server.start(bolt_port=creds.bolt_port, http_port=creds.http_port)
        again = critmin(settings, "load", "trades", str(BATTERY))
        assert again.returncode == 0, again
        with GraphStore.connect(settings) as store:
            per_key = store.query(
                "MATCH (e)-[t:TRADES]->(i) RETURN t.year AS y, e.iso3 AS e, i.iso3 AS i, "
                "t.hs AS hs, count(*) AS copies"
            )
        assert len(per_key) == len(read_trades([BATTERY]).flows) == 3490
        assert (per_key["copies"] == 1).all()
    finally:
        server.destroy()
