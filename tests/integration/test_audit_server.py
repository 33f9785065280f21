"""The audit's faults and injections against a real server, as a user at the terminal meets them.

Faults: Ctrl-C (a real SIGINT) while a load plans and while it writes, and a full disk under a
sweep (a server of its own on a small tmpfs). Injections: Cypher in query parameters, country
codes and commodity names, which must be refused or inert. Each case says what the user sees
(one line, what was kept, what to do) and checks the database against it.

Bad inputs that need no server are in ``tests/unit/test_audit.py``; add new findings to
whichever of the two fits.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from critmin.pipeline import load_demo, load_trades
from critmin.server import ManagedNeo4j, ServerError
from critmin.server.managed import _free_port
from critmin.store.graph import GraphStore
from critmin.store.settings import ConnectionSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLI = "from critmin.cli.main import app; app()"
BATTERY = ROOT / "data" / "trade" / "baci_hs17_v202601_2024_battery_subset.csv"
COUNTRIES = ROOT / "src" / "critmin" / "loader" / "data" / "countries.csv"
BATCH = 1_000


def env_of(settings: ConnectionSettings) -> dict[str, str]:
    return {
        **os.environ,
        "NEO4J_URI": settings.uri,
        "NEO4J_USER": settings.user,
        "NEO4J_PASSWORD": settings.password,
        "COLUMNS": "250",
    }


def critmin(settings: ConnectionSettings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=env_of(settings),
        capture_output=True,
        text=True,
        timeout=900,
    )


def error_line(stderr: str) -> str:
    """The one line a failed command printed (and nothing like a traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def synthetic_flows(path: Path, rows: int, factor: float = 1.0) -> None:
    """A plain-CSV release of ``rows`` flows between real countries (``factor`` scales values,
    so a second file is the same flows corrected)."""
    codes = pd.read_csv(COUNTRIES, dtype=str)["country_iso3"].dropna()
    iso3 = sorted(set(codes) - {"WLD"})[:150]
    rng = np.random.default_rng(11)
    pairs = [(a, b) for a in range(len(iso3)) for b in range(len(iso3)) if a != b]
    chosen = rng.choice(len(pairs) * 4, rows, replace=False)
    tonnes = np.round(rng.pareto(1.2, rows) * 100 + 1, 3)
    frame = pd.DataFrame(
        {
            "year": 2020 + chosen % 4,
            "exporter": [iso3[pairs[c // 4][0]] for c in chosen],
            "importer": [iso3[pairs[c // 4][1]] for c in chosen],
            "hs": "282200",
            "tonnes": tonnes * factor,
            "value_usd": np.round(tonnes * 3000 * factor, 2),
        }
    )
    frame.to_csv(path, index=False)


def trades(store: GraphStore) -> tuple[int, float]:
    row = store.records("MATCH ()-[t:TRADES]->() RETURN count(t) AS n, sum(t.tonnes) AS tonnes")
    return int(row[0]["n"]), float(row[0]["tonnes"] or 0.0)


def interrupt_when(
    settings: ConnectionSettings, args: list[str], ready: Callable[[], bool]
) -> subprocess.CompletedProcess[str]:
    """Run critmin, send it SIGINT (what Ctrl-C sends) once ``ready()``, return what it said."""
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        env=env_of(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 600
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the command ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


# ---------------------------------------------------------------- Ctrl-C


def test_ctrl_c_while_a_load_writes_says_what_was_written(
    store: GraphStore, neo4j_settings: ConnectionSettings, tmp_path: Path
) -> None:
    flows = tmp_path / "flows.csv"
    synthetic_flows(flows, 60_000)
    args = ["load", "trades", str(flows), "--batch-size", str(BATCH)]
    stopped = interrupt_when(neo4j_settings, args, lambda: trades(store)[0] > 0)
    assert stopped.returncode == 130, stopped.stderr
    line = error_line(stopped.stderr)
    found = re.search(r"the load wrote ([\d,]+) of ([\d,]+) TRADES rows", line)
    assert line.startswith("error: interrupted (Ctrl-C); ") and found, line
    assert "re-running the same command writes the rest" in line
    written, planned = (int(g.replace(",", "")) for g in found.groups())
    assert planned == 60_000 and 0 < written < planned
    # What the line says is what the graph holds (a batch cut off mid-commit is whole or absent).
    assert written <= trades(store)[0] <= written + BATCH
    again = critmin(neo4j_settings, *args)
    assert again.returncode == 0, again.stderr
    assert trades(store)[0] == planned


def test_ctrl_c_while_a_load_plans_leaves_the_graph_as_it_was(
    store: GraphStore, neo4j_settings: ConnectionSettings, tmp_path: Path
) -> None:
    first, corrected = tmp_path / "flows.csv", tmp_path / "corrected.csv"
    synthetic_flows(first, 40_000)
    synthetic_flows(corrected, 40_000, factor=1.5)
    load_trades(store, [first])
    before = trades(store)

    def planning() -> bool:
        return bool(store.records("MATCH (l:CritminLock {name: 'load'}) RETURN l.name AS name"))

    stopped = interrupt_when(neo4j_settings, ["load", "trades", str(corrected)], planning)
    assert stopped.returncode == 130, stopped.stderr
    line = error_line(stopped.stderr)
    assert line.startswith("error: interrupted (Ctrl-C); "), line
    if "before writing anything" in line:
        assert trades(store) == before
    else:  # the plan was quick this time: the line must then say what was written
        assert re.search(r"the load wrote [\d,]+ of 40,000 TRADES rows", line), line
    again = critmin(neo4j_settings, "load", "trades", str(corrected))
    assert again.returncode == 0, again.stderr
    assert trades(store)[1] == pytest.approx(before[1] * 1.5, rel=1e-6)


# ---------------------------------------------------------------- quietly wrong output


def test_load_dry_run_prints_the_cypher_it_would_run(
    store: GraphStore, neo4j_settings: ConnectionSettings
) -> None:
    shown = critmin(neo4j_settings, "load", "trades", "--dry-run", str(BATTERY))
    assert shown.returncode == 0, shown.stderr
    assert "MATCH ()-[t]->() WHERE elementId(t) = row.element_id" in shown.stdout
    assert "MATCH ()-[t:TRADES]->() WHERE elementId(t) = row.element_id" in shown.stdout
    assert trades(store)[0] == 0


def test_a_corrected_release_sets_the_changed_rows(
    store: GraphStore, neo4j_settings: ConnectionSettings, tmp_path: Path
) -> None:
    first, corrected = tmp_path / "flows.csv", tmp_path / "corrected.csv"
    synthetic_flows(first, 5_000)
    synthetic_flows(corrected, 5_000, factor=2.0)
    load_trades(store, [first])
    n, tonnes = trades(store)
    again = load_trades(store, [corrected])
    assert (len(again.plan.new), len(again.plan.changed), again.written) == (0, 5_000, 5_000)
    assert trades(store) == (n, pytest.approx(tonnes * 2.0, rel=1e-9))


# ---------------------------------------------------------------- injections


def graph_size(store: GraphStore) -> tuple[int, int]:
    nodes = store.records("MATCH (n) RETURN count(n) AS n")[0]["n"]
    relationships = store.records("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return int(nodes), int(relationships)


INJECTIONS = [
    "x' OR 1=1 //",
    "cobalt'}) MATCH (n) DETACH DELETE n //",
    'COD"}) DETACH DELETE n RETURN 1 //',
    "CHN` DETACH DELETE n //",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_cypher_in_query_parameters_is_a_value(
    store: GraphStore, neo4j_settings: ConnectionSettings, text: str
) -> None:
    load_trades(store, [BATTERY])
    before = graph_size(store)
    for args in (
        ["query", "find_scenarios", "-p", f"commodity={text}"],
        ["query", "import_dependence", "-p", f"commodity={text}", "-p", "year=2024"],
        ["query", "country_hits", "-p", f"country={text}", "-p", "commodity=cobalt_oxides"],
        ["query", "critical_paths", "-p", f"scenario={text}", "-p", f"target={text}"],
    ):
        result = critmin(neo4j_settings, *args, "--format", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["rows"] == []
    assert graph_size(store) == before


@pytest.mark.parametrize("text", INJECTIONS)
def test_cypher_in_commodity_names_and_country_codes_is_refused(
    store: GraphStore, neo4j_settings: ConnectionSettings, text: str
) -> None:
    load_trades(store, [BATTERY])
    before = graph_size(store)
    for args in (
        ["results", "sources", "--commodity", text],
        ["simulate", "--commodity", text, "--years", "2024"],
        ["simulate", "--commodity", "cobalt_oxides", "--years", "2024", "--source", text],
        ["simulate", "--commodity", "cobalt_oxides", "--years", "2024", "--target", text],
    ):
        result = critmin(neo4j_settings, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    assert graph_size(store) == before


# ---------------------------------------------------------------- a full disk under a sweep


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 MiB tmpfs: mounting needs root (CI runs as root); elsewhere the test skips."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400M", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        reason = f"cannot mount a small tmpfs to fill ({done.stderr.strip() or 'not root'})"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set: {reason}")
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave_mib: int) -> Path:
    """Take all but ``leave_mib`` MiB of the disk's free space."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler = disk / "filler"
    with filler.open("wb") as f:
        os.posix_fallocate(f.fileno(), 0, max(free - leave_mib * 2**20, 0))
    return filler


def test_a_full_disk_under_a_sweep_is_one_line_and_honest(small_disk: Path) -> None:
    server = ManagedNeo4j(home=small_disk / "neo4j")
    try:
        server.start(bolt_port=_free_port(), http_port=_free_port())
    except ServerError as exc:
        pytest.skip(f"no managed server on the small disk: {exc}")
    try:
        creds = server.credentials()
        assert creds is not None
        settings = ConnectionSettings(creds.uri, creds.user, creds.password)
        with GraphStore.connect(settings) as store:
            load_demo(store, ROOT / "data")
        filler = fill(small_disk, leave_mib=8)

        sweep = critmin(settings, "simulate", "--commodity", "cobalt_oxides")
        assert sweep.returncode == 2, sweep.stderr
        line = error_line(sweep.stderr)
        assert "disk" in line and "critmin neo4j stop" in line, line
        told = re.search(r"run (run_\S+?)[: ]", line)
        assert told, line
        # Reads may still work (a database switched to read-only answers them); a write is
        # refused in one line that says to free space and restart.
        read = critmin(settings, "results", "sources", "--commodity", "cobalt_oxides")
        assert "Traceback" not in read.stderr
        if read.returncode != 0:
            error_line(read.stderr)
        production = ROOT / "data" / "production" / "mcs2024-cobal_world.csv"
        write = critmin(settings, "load", "production", str(production))
        assert write.returncode == 2, write.stderr
        assert "restart" in error_line(write.stderr)

        filler.unlink()
        server.stop()
        server.start()
        creds = server.credentials()
        assert creds is not None
        settings = ConnectionSettings(creds.uri, creds.user, creds.password)
        with GraphStore.connect(settings) as store:
            run = store.records(
                "MATCH (r:Run {id: $id}) RETURN r.status AS status", id=told.group(1)
            )
        status = run[0]["status"] if run else None
        # The run is complete only if the client said so (or said it could not know).
        if status == "complete":
            assert "is nevertheless complete" in line or "is unknown" in line, line
        else:
            assert "did not complete" in line or "is unknown" in line, line
        again = critmin(settings, "results", "sources", "--commodity", "cobalt_oxides")
        assert "Traceback" not in again.stderr
    finally:
        server.destroy()
