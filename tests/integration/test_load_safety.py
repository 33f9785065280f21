"""Loads that run at once, a graph left with copies, an older release loaded after a newer one.

Two `critmin load` processes of the same new flows used to both plan "new" and both create,
doubling every TRADES row (and every later load of those flows then crashed). Loads now hold
the graph's ``load`` lease from planning to their last write.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from critmin.pipeline import load_production, load_trades
from critmin.store.graph import GraphStore
from critmin.store.locks import exclusive
from critmin.store.schema import ensure_schema
from critmin.store.settings import ConnectionSettings

pytestmark = pytest.mark.integration

CLI = "from critmin.cli.main import app; app()"

FLOWS = "year,exporter,importer,hs,tonnes,value_usd\n" + "".join(
    f"2022,{e},{i},260500,{n},{10 * n}\n"
    for n, (e, i) in enumerate(
        [("COD", "ZAF"), ("ZAF", "CHN"), ("ZAF", "FIN"), ("AUS", "CHN"), ("COD", "CHN")], start=1
    )
)

PER_KEY = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
RETURN t.year AS year, e.iso3 AS exporter, i.iso3 AS importer, t.hs AS hs, count(*) AS copies
"""

USGS_HEADER = "Source,Country,Type,Prod_t_2022,Prod_t_est_2023\n"


def _load(settings: ConnectionSettings, path: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NEO4J_URI": settings.uri,
        "NEO4J_USER": settings.user,
        "NEO4J_PASSWORD": settings.password,
        "NEO4J_DATABASE": settings.database,
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "load", "trades", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _lines(process: subprocess.Popen[str], out: queue.Queue[str]) -> None:
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            out.put(line)


def test_two_load_processes_at_once_write_each_flow_once(
    store: GraphStore, neo4j_settings: ConnectionSettings, tmp_path: Path
) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    ensure_schema(store)  # the lease's constraint exists before the gate takes the lease
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    # Hold the lease while both processes start, so that both wait, then both go at once.
    with exclusive(store, "load", "the test's gate"):
        processes = [_load(neo4j_settings, flows), _load(neo4j_settings, flows)]
        readers = [
            threading.Thread(target=_lines, args=(process, lines), daemon=True)
            for process in processes
        ]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + 120
        while sum("waiting" in line for line in seen) < 2:
            assert time.monotonic() < deadline, seen
            assert all(p.poll() is None for p in processes), seen
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                pass
        assert all("the test's gate" in line for line in seen if "waiting" in line)
    codes = [p.wait(timeout=120) for p in processes]
    for reader in readers:
        reader.join(timeout=10)
    while not lines.empty():
        seen.append(lines.get())
    assert codes == [0, 0], seen
    copies = store.query(PER_KEY)
    assert len(copies) == 5 and (copies["copies"] == 1).all(), copies
    wrote = sorted(line.strip() for line in seen if line.startswith("wrote"))
    assert wrote == ["wrote 0 TRADES relationships", "wrote 5 TRADES relationships"], seen


def test_copies_left_by_an_earlier_race_are_removed(store: GraphStore, tmp_path: Path) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])
    # What two unguarded loads left behind: every row twice.
    store.execute("MATCH (e)-[t:TRADES]->(i) CREATE (e)-[c:TRADES]->(i) SET c = properties(t)")
    assert store.query(PER_KEY)["copies"].tolist() == [2] * 5
    again = load_trades(store, [flows])
    assert len(again.plan.copies) == 5 and "5 duplicate copies removed" in again.plan.summary()
    assert store.query(PER_KEY)["copies"].tolist() == [1] * 5
    assert load_trades(store, [flows]).plan.unchanged == 5


def test_a_stale_lease_of_a_dead_process_is_taken_over(store: GraphStore, tmp_path: Path) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])  # makes the schema, then frees the lease
    store.execute(
        "CREATE (:CritminLock {name: 'load', owner: 'gone', holder: 'a killed load', "
        "taken_at: timestamp() - 600000, renewed_at: timestamp() - 600000})"
    )
    started = time.monotonic()
    assert load_trades(store, [flows]).plan.unchanged == 5
    assert time.monotonic() - started < 30
    assert store.records("MATCH (l:CritminLock) RETURN count(l) AS n") == [{"n": 0}]


def test_an_older_release_loaded_later_does_not_overwrite_a_newer_one(
    store: GraphStore, tmp_path: Path
) -> None:
    new = tmp_path / "new"
    old = tmp_path / "old"
    new.mkdir(), old.mkdir()
    newer = new / "mcs2025-cobal_world.csv"
    newer.write_text(
        "Source,Country,Type,Prod_t_2023,Prod_t_est_2024\n"
        'MCS2025,Cuba,"Mine production, cobalt",3500,3600\n'
    )
    older = old / "mcs2024-cobal_world.csv"
    older.write_text(USGS_HEADER + 'MCS2024,Cuba,"Mine production, cobalt",3800,3200\n')
    load_production(store, [newer])
    outcome = load_production(store, [older])
    assert outcome.plan.kept_newer == 1 and len(outcome.plan.new) == 1  # 2023 kept, 2022 new
    assert "kept (the stored value is from a newer release)" in outcome.plan.summary()
    stored = store.records(
        "MATCH (:Country {iso3: 'CUB'})-[p:PRODUCED]->() "
        "RETURN p.year AS year, p.tonnes AS tonnes, p.source AS source ORDER BY year"
    )
    assert stored == [
        {"year": 2022, "tonnes": 3800.0, "source": "USGS MCS2024"},
        {"year": 2023, "tonnes": 3500.0, "source": "USGS MCS2025"},
        {"year": 2024, "tonnes": 3600.0, "source": "USGS MCS2025"},
    ]
    # And a newer release loaded after an older one still replaces it.
    assert len(load_production(store, [newer]).plan.changed) == 0
