"""Two `critmin simulate` processes at once never duplicate or mix a scenario.

The race is made certain, not left to timing: the test opens a transaction that creates the
sweep's scenario ids (so it holds their uniqueness locks), starts both processes, waits until
both are blocked inside their first write transaction (the server lists them as blocked), then
rolls back. Both then write the same new scenarios at the same moment, as two analysts pressing
Enter together would. (Written the first model's way, delete-then-create, this race doubled
SHOCKS and Impacts.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from critmin.pipeline import SweepOutcome, load_trades, run_sweep
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import source_table
from critmin.store.scenario_writes import scenario_id
from critmin.store.settings import ConnectionSettings

pytestmark = pytest.mark.integration

CLI = "from critmin.cli.main import app; app()"

FLOWS = """year,exporter,importer,hs,tonnes,value_usd
2022,COD,ZAF,260500,100,1000
2022,ZAF,CHN,260500,60,700
2022,ZAF,FIN,260500,30,350
2022,AUS,CHN,260500,20,240
2022,CHN,FIN,810520,10,400
2022,FIN,KOR,810520,8,300
2023,COD,ZAF,260500,120,1300
2023,ZAF,CHN,260500,70,800
2023,AUS,FIN,260500,25,300
2023,CHN,KOR,810520,12,500
"""

PER_SCENARIO = """
MATCH (s:Scenario)
RETURN s.id AS id,
       COUNT { (s)-[:SHOCKS]->() } AS shocks,
       COUNT { (s)-[:HIT]->(:Impact) } + size(coalesce(s.minor_iso3, [])) AS impacts,
       COUNT { (s)-[:HIT]->(:Impact)-[:TRANSMITS]->() } AS transmits,
       COUNT { (:Run)-[:INCLUDES]->(s) } AS runs
ORDER BY id
"""

BLOCKED = """
SHOW TRANSACTIONS YIELD status, currentQuery
WHERE status STARTS WITH 'Blocked'
RETURN count(*) AS blocked
"""


def _simulate(settings: ConnectionSettings) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NEO4J_URI": settings.uri,
        "NEO4J_USER": settings.user,
        "NEO4J_PASSWORD": settings.password,
        "NEO4J_DATABASE": settings.database,
    }
    command = [sys.executable, "-c", CLI, "simulate", "--commodity", "cobalt"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _expected(outcome: SweepOutcome) -> dict[str, tuple[int, int]]:
    """Per scenario id: countries with an outcome (an Impact node or a minor_* entry: every
    country hit, and the source) and TRANSMITS."""
    keys = ["year", "sources", "fraction"]
    hit = outcome.result.impacts.groupby(keys)["country"].apply(set)
    edges = outcome.result.transmitted.groupby(keys).size()
    expected = {}
    for key in outcome.result.runs[keys].itertuples(index=False, name=None):
        year, sources, fraction = key
        version = outcome.panel.data_version(year)
        sid = scenario_id(
            outcome.group.id, year, sources, fraction, outcome.parameters, data_version=version
        )
        countries = hit.get(key, set()) | set(sources.split(";"))
        expected[sid] = (len(countries), int(edges.get(key, 0)))
    return expected


def test_two_simulate_processes_at_once(
    store: GraphStore, neo4j_settings: ConnectionSettings, tmp_path: Path
) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])
    alone = run_sweep(store, "cobalt", write=False)  # what one writer would store
    processes: list[subprocess.Popen[str]] = []
    with store.driver.session(database=store.database) as session:
        gate = session.begin_transaction()
        try:
            ids = sorted(_expected(alone))
            gate.run("UNWIND $ids AS id MERGE (:Scenario {id: id})", ids=ids).consume()
            processes = [_simulate(neo4j_settings), _simulate(neo4j_settings)]
            deadline = time.monotonic() + 300
            while store.records(BLOCKED)[0]["blocked"] < 2:
                finished = [p for p in processes if p.poll() is not None]
                assert not finished, [p.communicate()[0] for p in finished]
                assert time.monotonic() < deadline, "the writers never reached the database"
                time.sleep(0.2)
        finally:
            gate.rollback()  # both writers go at once
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs

    stored = store.query(PER_SCENARIO)
    assert len(stored) == len(alone.result.runs) == stored["id"].nunique()
    assert (stored["shocks"] == 1).all(), stored  # one SHOCKS each: nothing doubled
    expected = _expected(alone)
    for row in stored.itertuples():
        assert (row.impacts, row.transmits) == expected[row.id], row.id
    assert (stored["runs"] == 2).all()  # both complete sweeps include every scenario
    statuses = store.records("MATCH (r:Run) RETURN r.status AS status")
    assert [r["status"] for r in statuses] == ["complete", "complete"]
    # The table equals one writer's table.
    graph, _ = source_table(store, "cobalt", 1.0)
    memory = alone.tables.sources[alone.tables.sources["fraction"] == 1.0]
    assert list(graph["source"]) == list(memory["source"])
    assert list(graph["total_failed"]) == list(memory["total_failed"])
