"""Query latency and write-back throughput of the scenario graph: the old model against the new.

Run: ``.venv/bin/python -m bench.bench_queries [--scenarios 50000] [--small 5000] [--repeats 20]``
(``--quick``: a smoke run of a few hundred scenarios in a couple of minutes).

Two throwaway Neo4j servers run side by side, each in its own temporary home on free ports, each
holding one model of the same scenarios:

* v1, "shared" (commit 150d4f2): ``(:Scenario)-[:IMPACTS]->(:Country)`` and every scenario's
  ``TRANSMITS`` between the shared Country nodes, told apart by a ``scenario`` property (with
  the relationship index ``transmits_scenario``); written by a copy of the old writer kept in
  this file (50 scenarios per transaction); queried with the 150d4f2 library queries, embedded
  below.
* v2, schema 2 (:mod:`critmin.store.scenario_writes`): each cascade its own subgraph of
  ``(:Impact)`` nodes, plus per-sweep summary nodes; written by
  :func:`critmin.store.scenario_writes.write_sweep` as :func:`critmin.pipeline.run_sweep` does;
  queried with the project's ``cypher/`` library.

Both servers load the bundled real sample (:func:`critmin.pipeline.load_demo`). The demo's
sweeps (:data:`critmin.pipeline.DEMO_SWEEPS`: HS 282200 every year, four battery materials in
2024, 100% and 50% cuts) are simulated once per parameter set (alpha 0.5-0.95, ``fail_abs`` at
its default and at ten times it; the demo's own set is left out so that the end-to-end sweep
below writes new scenarios), and each sweep is written into v1, then into v2 (one writer at a
time). Once both stores hold ``--small`` scenarios the queries are timed, then the stores grow
to ``--scenarios`` and the queries are timed again.

Queries, warm (``--warmup`` runs of each on other scenarios first), over ``--repeats`` seeded
random scenarios, each with a target drawn from the countries that scenario hit; v1 and v2
alternate within each repetition (and which goes first alternates too): critical paths at 4
and 6 hops, transit hubs, top risk sources and exposure by source (the sweep-level ones with
``run_id`` = the sweep of the sampled scenario, so v1 does not pool parameter sets). Latency is
client wall time (driver round trip with all records fetched); the server's own
``available + consumed`` time is recorded too.

Write-back: graph entities (nodes + relationships, from the count store before and after) per
second of each model's write call, with the time per statement, in commit, and with no write
transaction in flight (the client preparing parameters). The
demo sweep end to end (``run_sweep`` of cobalt_oxides, every year, default parameters: simulate
+ store) is timed on the small store (new scenarios) and again on the large one (a re-run, which
replaces them).

Results: a table on stdout and ``bench/results/queries.json`` (``--output``). The targets in
the table are reported, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from neo4j import ManagedTransaction, Query, Session
from neo4j.exceptions import Neo4jError

from bench.throwaway import machine
from critmin.analysis.queries import load_library
from critmin.chain_run import chain_study, run_chain_sweep
from critmin.defaults import KEEP_SHARE
from critmin.loader.commodities import load_groups
from critmin.pipeline import DEMO_CHAIN, DEMO_SWEEPS, SweepOutcome, load_demo, run_sweep
from critmin.server import ManagedNeo4j
from critmin.server.java import find_java
from critmin.server.managed import _free_port
from critmin.simulator.scenario import DEFAULT_FAIL_ABS
from critmin.store import scenario_writes as v2
from critmin.store.graph import GraphStore, IncompleteWrite, Statement, neo4j_rows
from critmin.store.networks import available_years, read_panel
from critmin.store.scenario_reads import suffix
from critmin.store.scenario_writes import RunInfo, new_run_id, parameter_key, scenario_id
from critmin.store.settings import ConnectionSettings
from critmin.study import RunKind

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "queries.json"
QUICK_RESULTS = Path(__file__).parent / "results" / "queries_quick.json"
DEMO_COMMODITY = "cobalt_oxides"

TARGETS = {
    "critical_paths_p95_ms": 100,
    "sweep_queries_p95_ms": 200,
    "growth_p95_ratio_max": 2.0,
    "writeback_entities_per_s": 100_000,
    "demo_store_s": 15,
}

# ------------------------------------------------------------------ v1: the model of 150d4f2
# git show 150d4f2:src/critmin/store/schema.py (SCHEMA) and :src/critmin/store/scenarios.py.

V1_SCHEMA = (
    "CREATE CONSTRAINT country_iso3 IF NOT EXISTS FOR (c:Country) REQUIRE c.iso3 IS UNIQUE",
    "CREATE CONSTRAINT commodity_id IF NOT EXISTS FOR (m:Commodity) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT scenario_id IF NOT EXISTS FOR (s:Scenario) REQUIRE s.id IS UNIQUE",
    "CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX trades_year IF NOT EXISTS FOR ()-[t:TRADES]-() ON (t.year)",
    "CREATE INDEX trades_hs IF NOT EXISTS FOR ()-[t:TRADES]-() ON (t.hs)",
    "CREATE INDEX produced_year IF NOT EXISTS FOR ()-[p:PRODUCED]-() ON (p.year)",
    "CREATE INDEX transmits_scenario IF NOT EXISTS FOR ()-[t:TRANSMITS]-() ON (t.scenario)",
    "CREATE INDEX scenario_lookup IF NOT EXISTS FOR (s:Scenario) ON (s.commodity, s.year, s.shock)",
)

V1_SCENARIOS_PER_TRANSACTION = 50

V1_UPSERT_SCENARIOS = """
UNWIND $rows AS row
MERGE (s:Scenario {id: row.id})
SET s = row.props
"""

V1_DELETE_OLD = """
UNWIND $ids AS id
MATCH (s:Scenario {id: id})
OPTIONAL MATCH (s)-[r:SHOCKS|IMPACTS]->()
DELETE r
WITH DISTINCT id
MATCH ()-[t:TRANSMITS {scenario: id}]->()
DELETE t
"""

V1_CREATE_SHOCKS = """
UNWIND $rows AS row
MATCH (s:Scenario {id: row.scenario})
MATCH (c:Country {iso3: row.country})
CREATE (s)-[:SHOCKS {fraction: row.fraction, targets: row.targets}]->(c)
"""

V1_CREATE_IMPACTS = """
UNWIND $rows AS row
MATCH (s:Scenario {id: row.scenario})
MATCH (c:Country {iso3: row.country})
CREATE (s)-[i:IMPACTS]->(c)
SET i = row.props
"""

V1_CREATE_TRANSMITS = """
UNWIND $rows AS row
MATCH (a:Country {iso3: row.source})
MATCH (b:Country {iso3: row.target})
CREATE (a)-[t:TRANSMITS]->(b)
SET t = row.props
"""

V1_UPSERT_RUN = """
MERGE (r:Run {id: $id})
SET r = $props
"""

V1_SCENARIO_KEYS = ["year", "sources", "fraction"]


def v1_scenario_rows(runs: pd.DataFrame, info: RunInfo, created: str) -> pd.DataFrame:
    """150d4f2 ``_scenario_rows``: one property map per scenario."""
    unit = suffix(info.unit)
    rows = runs.copy()
    rows["id"] = [
        scenario_id(info.commodity, y, s, f, info.parameters, info.targets)
        for y, s, f in zip(rows["year"], rows["sources"], rows["fraction"], strict=True)
    ]
    n_sources = rows["sources"].str.count(";") + 1
    eligible = (rows["n_countries"] - n_sources).clip(lower=1)
    props = []
    for record, rate in zip(neo4j_rows(rows), rows["n_failed"] / eligible, strict=True):
        prop = {k: v for k, v in record.items() if k not in ("initial_shock", "sources")}
        prop.update(
            {
                "id": record["id"],
                "commodity": info.commodity,
                "shock": record["fraction"],
                "sources": record["sources"].split(";"),
                "targets": list(info.targets),
                f"initial_shock_{unit}": record["initial_shock"],
                "failure_rate": float(rate),
                "parameters": parameter_key(info.parameters),
                "n_panel": info.n_panel,
                "model_version": v2.MODEL_VERSION,
                "data_version": info.data_versions.get(int(record["year"]), ""),
                "run_id": info.id,
                "created_at": created,
            }
        )
        props.append(prop)
    rows["props"] = props
    return rows


def _v1_grouped_rows(
    frame: pd.DataFrame, scenarios: pd.DataFrame, build: Callable[[pd.DataFrame], list[Any]]
) -> tuple[list[Any], npt.NDArray[np.int64]]:
    """150d4f2 ``_grouped_rows``: rows ordered by scenario, with each scenario's offset."""
    keyed = frame.merge(scenarios[[*V1_SCENARIO_KEYS, "id"]], on=V1_SCENARIO_KEYS, how="inner")
    position = pd.Series(np.arange(len(scenarios)), index=scenarios["id"])
    keyed["position"] = keyed["id"].map(position)
    keyed = keyed.sort_values("position", kind="stable").rename(columns={"id": "scenario"})
    starts = np.searchsorted(keyed["position"].to_numpy(), np.arange(len(scenarios) + 1))
    return build(keyed), starts


def _v1_floats(series: pd.Series) -> list[float | None]:
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return [None if v != v else float(v) for v in values]


def _v1_impact_rows(impacts: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    columns = zip(
        impacts["scenario"],
        impacts["country"],
        _v1_floats(impacts["demand_loss"]),
        _v1_floats(impacts["relative_loss"]),
        _v1_floats(impacts["gross_hit"]),
        impacts["failed"].astype(bool),
        _v1_floats(impacts["first_round"]),
        strict=True,
    )
    rows = []
    for scenario, country, loss, relative, gross, failed, first in columns:
        props: dict[str, Any] = {
            f"demand_loss_{unit}": loss,
            f"gross_hit_{unit}": gross,
            "failed": bool(failed),
        }
        if relative is not None:
            props["relative_loss"] = relative
        if first is not None:
            props["first_round"] = int(first)
        rows.append({"scenario": scenario, "country": country, "props": props})
    return rows


def _v1_transmit_rows(transmitted: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    name = "tonnes" if unit == "t" else "value_usd"
    columns = zip(
        transmitted["scenario"],
        transmitted["source"],
        transmitted["target"],
        _v1_floats(transmitted["quantity"]),
        _v1_floats(transmitted["first_round"]),
        strict=True,
    )
    return [
        {
            "source": a,
            "target": b,
            "props": {"scenario": s, name: q, "first_round": None if r is None else int(r)},
        }
        for s, a, b, q, r in columns
    ]


Named = tuple[str, str, dict[str, Any]]  # statement name, Cypher, parameters


def v1_units(
    scenarios: pd.DataFrame,
    impacts: pd.DataFrame,
    transmitted: pd.DataFrame,
    unit: str,
    targets: tuple[str, ...],
) -> Iterator[list[Named]]:
    """150d4f2 ``_units``: the statements of 50 whole scenarios, one transaction each."""
    impact_rows, impact_at = _v1_grouped_rows(
        impacts, scenarios, lambda f: _v1_impact_rows(f, unit)
    )
    transmit_rows, transmit_at = _v1_grouped_rows(
        transmitted, scenarios, lambda f: _v1_transmit_rows(f, unit)
    )
    for start in range(0, len(scenarios), V1_SCENARIOS_PER_TRANSACTION):
        stop = min(start + V1_SCENARIOS_PER_TRANSACTION, len(scenarios))
        chunk = scenarios.iloc[start:stop]
        ids = list(chunk["id"])
        shocks = [
            {"scenario": sid, "country": code, "fraction": float(f), "targets": list(targets)}
            for sid, srcs, f in zip(chunk["id"], chunk["sources"], chunk["fraction"], strict=True)
            for code in srcs.split(";")
        ]
        upserts = [{"id": i, "props": p} for i, p in zip(ids, chunk["props"], strict=True)]
        impacts_here = impact_rows[impact_at[start] : impact_at[stop]]
        transmits_here = transmit_rows[transmit_at[start] : transmit_at[stop]]
        yield [
            ("DELETE_OLD", V1_DELETE_OLD, {"ids": ids}),
            ("UPSERT_SCENARIOS", V1_UPSERT_SCENARIOS, {"rows": upserts}),
            ("CREATE_SHOCKS", V1_CREATE_SHOCKS, {"rows": shocks}),
            ("CREATE_IMPACTS", V1_CREATE_IMPACTS, {"rows": impacts_here}),
            ("CREATE_TRANSMITS", V1_CREATE_TRANSMITS, {"rows": transmits_here}),
        ]


# ------------------------------------------------------------------ v1 queries (150d4f2 cypher/)


def _v1_path_branch(hops: int) -> str:
    return f"""  WITH * WHERE $max_hops >= {hops}
  MATCH p = (source)
    (()-[t:TRANSMITS WHERE t.scenario = $scenario
                      AND coalesce(t.tonnes, t.value_usd) >= floor]->()){{{hops}}}
    (:Country {{iso3: $target}})
  RETURN p
"""


# git show 150d4f2:cypher/critical_paths.cypher (its six UNION ALL branches are identical but
# for the literal hop count, so they are generated; the text sent is the file's, header aside).
V1_CRITICAL_PATHS = (
    """MATCH (s:Scenario {id: $scenario})-[:SHOCKS]->(source:Country)
WITH s, source, coalesce(s.initial_shock_t, s.initial_shock_usd) AS shock
WITH s, source, shock, $min_share * shock AS floor
CALL (source, floor) {
"""
    + "  UNION ALL\n".join(_v1_path_branch(h) for h in range(1, 7))
    + """}
WITH s, shock, p
WHERE size(nodes(p)) = size(reduce(seen = [], n IN nodes(p) |
                             CASE WHEN n IN seen THEN seen ELSE seen + n END))
WITH s, shock, p, [r IN relationships(p) | coalesce(r.tonnes, r.value_usd)] AS hops
WITH s, shock, p, hops,
     reduce(low = hops[0], q IN hops | CASE WHEN q < low THEN q ELSE low END) AS bottleneck
RETURN [n IN nodes(p) | n.iso3] AS path, length(p) AS n_hops, hops,
       [r IN relationships(p) | r.first_round] AS first_rounds, bottleneck,
       bottleneck / shock AS bottleneck_share, s.unit AS unit
ORDER BY bottleneck DESC, n_hops, path
LIMIT $limit
"""
)

# git show 150d4f2:cypher/transit_hubs.cypher
V1_TRANSIT_HUBS = """
MATCH (s:Scenario {commodity: $commodity, mode: $mode})-[i:IMPACTS]->(c:Country)
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years) AND ($run_id IS NULL OR s.run_id = $run_id)
  AND NOT c.iso3 IN s.sources
WITH s.unit AS unit, c, coalesce(i.gross_hit_t, i.gross_hit_usd) AS received,
     coalesce(i.demand_loss_t, i.demand_loss_usd) AS absorbed
WHERE received > 0
WITH unit, c, count(*) AS scenarios_hit, sum(received) AS received, sum(absorbed) AS absorbed
RETURN c.iso3 AS country, c.name AS name, scenarios_hit, received AS total_received,
       received - absorbed AS total_passed_on, absorbed AS total_absorbed,
       (received - absorbed) / received AS share_passed_on, unit
ORDER BY total_passed_on DESC, country
LIMIT $limit
"""

# git show 150d4f2:cypher/top_risk_sources.cypher
V1_TOP_RISK_SOURCES = """
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years) AND ($run_id IS NULL OR s.run_id = $run_id)
WITH collect(s) AS runs, count(DISTINCT s.year) AS years, max(s.n_panel) AS n_panel
UNWIND runs AS s
WITH years, n_panel, s.sources[0] AS source, sum(s.n_failed) AS total_failed,
     count(DISTINCT s.year) AS years_active
ORDER BY total_failed DESC, source
// collect keeps the order, so a row's position in the list is its rank
WITH years, n_panel, collect({source: source, failed: total_failed, active: years_active}) AS ranked
UNWIND range(1, size(ranked)) AS rank
WITH rank, ranked[rank - 1] AS row, years, n_panel
OPTIONAL MATCH (c:Country {iso3: row.source})
RETURN rank, row.source AS source, c.name AS name, row.failed AS total_failed,
       toFloat(row.failed) / (years * n_panel) AS failure_rate, row.active AS years_active,
       years, n_panel
ORDER BY rank
LIMIT $limit
"""

# git show 150d4f2:cypher/exposure_by_source.cypher
V1_EXPOSURE_BY_SOURCE = """
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years) AND ($run_id IS NULL OR s.run_id = $run_id)
  AND s.sources[0] <> $country
OPTIONAL MATCH (s)-[i:IMPACTS]->(:Country {iso3: $country})
WITH s.unit AS unit, s.sources[0] AS source, count(s) AS runs,
     sum(coalesce(i.demand_loss_t, i.demand_loss_usd, 0.0)) AS total_loss,
     sum(CASE WHEN i.failed THEN 1 ELSE 0 END) AS times_failed
WHERE total_loss > 0
WITH unit, collect({source: source, runs: runs, loss: total_loss, failed: times_failed}) AS rows,
     sum(total_loss) AS country_loss
UNWIND rows AS row
OPTIONAL MATCH (c:Country {iso3: row.source})
RETURN row.source AS source, c.name AS name, row.runs AS runs, row.failed AS times_failed,
       row.loss AS total_loss, row.loss / row.runs AS mean_loss,
       row.loss / country_loss AS share_of_country_loss, unit
ORDER BY total_loss DESC, source
LIMIT $limit
"""

# ------------------------------------------------------------------ servers


@dataclass
class Server:
    name: str
    neo4j: ManagedNeo4j
    store: GraphStore


@contextmanager
def managed_server(name: str, root: Path, heap: str, pagecache: str) -> Iterator[Server]:
    """A managed Neo4j in ``root/name`` on free ports; stopped and deleted on the way out."""
    os.environ["CRITMIN_NEO4J_HEAP"] = heap
    os.environ["CRITMIN_NEO4J_PAGECACHE"] = pagecache
    server = ManagedNeo4j(home=root / name)
    try:
        status = server.start(bolt_port=_free_port(), http_port=_free_port())
        creds = status.credentials
        assert creds is not None
        log(f"{name}: Neo4j pid {status.pid} on {creds.uri} (heap {heap}, page cache {pagecache})")
        settings = ConnectionSettings(creds.uri, creds.user, creds.password)
        with GraphStore.connect(settings) as store:
            yield Server(name, server, store)
    finally:
        server.destroy()
        log(f"{name}: server stopped, {root / name} deleted")


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", flush=True)


def store_size(server: Server) -> dict[str, Any]:
    """Scenarios, nodes and relationships (count store) and the database's size on disk.

    Store files grow when the page cache is flushed (at checkpoints, every 15 minutes or so by
    default, and ``db.checkpoint()`` is not in Community Edition), so ``store_mb`` can lag.
    """
    one = server.store.records
    sizes = {
        "scenarios": one("MATCH (s:Scenario) RETURN count(s) AS n")[0]["n"],
        "nodes": one("MATCH (n) RETURN count(n) AS n")[0]["n"],
        "relationships": one("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"],
    }
    data = server.neo4j.home / "data"

    def mb(folder: Path) -> int:
        return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20)

    sizes["disk_mb"] = mb(data)  # everything: store files, schema indexes, transaction logs
    sizes["store_mb"] = mb(data / "databases" / "neo4j")  # what the page cache would hold
    sizes["tx_logs_mb"] = mb(data / "transactions" / "neo4j")
    return sizes


def entities(store: GraphStore) -> int:
    nodes = store.records("MATCH (n) RETURN count(n) AS n")[0]["n"]
    rels = store.records("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return int(nodes) + int(rels)


# ------------------------------------------------------------------ writing


#: name, Cypher, parameters, relationships it must create (None: not checked)
TimedStatement = tuple[str, str, dict[str, Any], int | None]


@dataclass
class WriteStats:
    """One model's write of one sweep (or the sum of several).

    The v2 writer may run several transactions at once (``CRITMIN_WRITE_WORKERS``), so the
    statement and commit times are summed over the transactions (they can add up to more than
    the wall time), and ``in_flight`` is the wall time during which at least one ran.
    """

    seconds: float = 0.0
    scenarios: int = 0
    entities: int = 0
    transactions: int = 0
    transaction_seconds: float = 0.0  # whole managed transactions: statements + commit
    in_flight: float = 0.0
    statements: dict[str, float] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=lambda: {"nodes": 0, "relationships": 0})
    intervals: list[tuple[float, float]] = field(default_factory=list, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def unit(self, session: Session, statements: Sequence[TimedStatement]) -> None:
        """Run statements in one managed transaction, timing each and the whole."""
        started = time.perf_counter()
        rows = session.execute_write(_timed_statements, statements)
        stopped = time.perf_counter()
        with self.lock:
            self.intervals.append((started, stopped))
            self.transaction_seconds += stopped - started
            self.transactions += 1
            for name, seconds, nodes, rels in rows:
                self.statements[name] = self.statements.get(name, 0.0) + seconds
                self.created["nodes"] += nodes
                self.created["relationships"] += rels

    def close(self) -> None:
        """Turn the transactions' intervals into ``in_flight`` (their union's length)."""
        end = float("-inf")
        for a, b in sorted(self.intervals):
            if b > end:
                self.in_flight += b - max(a, end)
                end = b
        self.intervals = []

    def add(self, other: WriteStats) -> None:
        self.seconds += other.seconds
        self.scenarios += other.scenarios
        self.entities += other.entities
        self.transactions += other.transactions
        self.transaction_seconds += other.transaction_seconds
        self.in_flight += other.in_flight
        for name, seconds in other.statements.items():
            self.statements[name] = self.statements.get(name, 0.0) + seconds
        for key, value in other.created.items():
            self.created[key] += value

    def report(self) -> dict[str, Any]:
        in_statements = sum(self.statements.values())
        return {
            "scenarios": self.scenarios,
            "entities": self.entities,
            "seconds": round(self.seconds, 2),
            "entities_per_s": round(self.entities / self.seconds) if self.seconds else None,
            "scenarios_per_s": round(self.scenarios / self.seconds, 1) if self.seconds else None,
            "transactions": self.transactions,
            "created_by_statements": dict(self.created),
            "statement_seconds": {k: round(v, 2) for k, v in self.statements.items()},
            # statements: until each statement's last record (the server builds the change);
            # commit: the rest of the managed transactions (the server applies the change to
            # the store, its indexes and the log); both summed over the transactions.
            "in_statements_s": round(in_statements, 2),
            "commit_s": round(self.transaction_seconds - in_statements, 2),
            # wall time with at least one write transaction running, and with none (the
            # client building parameters in Python, small statements, schema checks)
            "in_flight_s": round(self.in_flight, 2),
            "client_s": round(self.seconds - self.in_flight, 2),
        }


def _timed_statements(
    tx: ManagedTransaction, unit: Sequence[TimedStatement]
) -> list[tuple[str, float, int, int]]:
    rows = []
    for name, cypher, params, expected in unit:
        started = time.perf_counter()
        counters = tx.run(cypher, params).consume().counters
        rows.append(
            (
                name,
                time.perf_counter() - started,
                counters.nodes_created,
                counters.relationships_created,
            )
        )
        if expected is not None and counters.relationships_created != expected:
            raise IncompleteWrite(
                f"{name} expected to create {expected} relationships, created "
                f"{counters.relationships_created}; the transaction was rolled back"
            )
    return rows


def write_v1(
    store: GraphStore,
    runs: pd.DataFrame,
    impacts: pd.DataFrame,
    transmitted: pd.DataFrame,
    info: RunInfo,
) -> WriteStats:
    """150d4f2 ``write_sweep`` (ensure_schema, 50-scenario units, the Run node), timed."""
    stats = WriteStats(scenarios=len(runs))
    before = entities(store)
    started = time.perf_counter()
    for statement in V1_SCHEMA:  # the old write_sweep began with ensure_schema
        store.execute(statement)
    store.execute("CALL db.awaitIndexes(300)")
    created = datetime.now(UTC).isoformat(timespec="microseconds")
    scenarios = v1_scenario_rows(runs, info, created)
    unit = suffix(info.unit)
    with store.driver.session(database=store.database) as session:
        for statements in v1_units(scenarios, impacts, transmitted, unit, info.targets):
            named = [(name, cypher, params, None) for name, cypher, params in statements]
            stats.unit(session, named)
    run_props = {
        "id": info.id,
        "command": info.command,
        "commodity": info.commodity,
        "unit": info.unit,
        "years": sorted({int(y) for y in runs["year"]}),
        "fractions": sorted({float(f) for f in runs["fraction"]}),
        "n_scenarios": len(scenarios),
        "parameters": json.dumps(dict(info.parameters), sort_keys=True, default=str),
        "model_version": v2.MODEL_VERSION,
        "created_at": created,
        **dict(info.extra or {}),
    }
    store.execute(V1_UPSERT_RUN, id=info.id, props=run_props)
    stats.seconds = time.perf_counter() - started
    stats.close()
    stats.entities = entities(store) - before
    return stats


def _statement_names() -> dict[str, str]:
    """The writer's Cypher constants by text (a tuple of statements: ``NAME[i]``)."""
    names: dict[str, str] = {}
    for name, value in vars(v2).items():
        if not name.isupper():
            continue
        if isinstance(value, str):
            names[value] = name
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            names.update({v: f"{name}[{i}]" for i, v in enumerate(value)})
    return names


V2_NAMES = _statement_names()


@contextmanager
def timed_units(store: GraphStore, stats: WriteStats) -> Iterator[None]:
    """Time each statement of ``store.write_unit`` (same Cypher, same transactions, same check
    of created relationships as :meth:`GraphStore.write_unit`)."""

    def write_unit(statements: Sequence[Statement]) -> None:
        named = [(V2_NAMES.get(c, "other"), c, p, e) for c, p, e in statements]
        with store.driver.session(database=store.database) as session:
            stats.unit(session, named)

    store.write_unit = write_unit  # type: ignore[method-assign]
    try:
        yield
    finally:
        del store.write_unit


def write_v2(store: GraphStore, outcome: SweepOutcome, info: RunInfo) -> WriteStats:
    """:func:`critmin.store.scenario_writes.write_sweep` as ``run_sweep`` calls it, timed."""
    result = outcome.result
    stats = WriteStats(scenarios=len(result.runs))
    before = entities(store)
    with timed_units(store, stats):
        started = time.perf_counter()
        v2.write_sweep(store, result.runs, result.impacts, result.transmitted, info, outcome.tables)
        stats.seconds = time.perf_counter() - started
    stats.close()
    stats.entities = entities(store) - before
    return stats


def run_info(outcome: SweepOutcome, command: str) -> RunInfo:
    """The RunInfo ``run_sweep`` builds for a study (every source)."""
    panel = outcome.panel
    return RunInfo(
        id=new_run_id(outcome.group.id),
        command=command,
        commodity=outcome.group.id,
        kind=RunKind.STUDY,
        is_study=True,
        unit=panel.unit,
        parameters=outcome.parameters,
        n_panel=len(panel.countries),
        n_years=len(panel.years),
        data_versions={y: panel.data_version(y) for y in panel.years},
        targets=(),
        extra={"measure": "auto", "keep_share": KEEP_SHARE},
    )


# ------------------------------------------------------------------ sweeps


@dataclass(frozen=True)
class ParameterSet:
    alpha: float
    fail_abs_factor: float

    @property
    def label(self) -> str:
        return f"alpha={self.alpha:.2f},fail_abs=x{self.fail_abs_factor:g}"


def parameter_sets() -> list[ParameterSet]:
    """alpha 0.50-0.95 at the default fail_abs, then at 10x it; the demo's own set left out."""
    alphas = [round(0.5 + 0.05 * i, 2) for i in range(10)]
    return [ParameterSet(a, f) for f in (1.0, 10.0) for a in alphas if not (a == 0.8 and f == 1.0)]


def sweeps_of(quick: bool) -> list[tuple[str, list[int] | None]]:
    return [(c, [2024] if quick else years) for c, years in DEMO_SWEEPS]


def unit_of(store: GraphStore, commodity: str, years: list[int] | None) -> str:
    group = load_groups()[commodity]
    chosen = years or available_years(store, group)
    return read_panel(store, group, chosen, "auto").unit


def simulate(
    store: GraphStore,
    pset: ParameterSet,
    sweeps: list[tuple[str, list[int] | None]],
    units: dict[str, str],
) -> list[SweepOutcome]:
    outcomes = []
    for commodity, years in sweeps:
        extra: dict[str, Any] = {"alpha": pset.alpha}
        if pset.fail_abs_factor != 1.0:
            extra["fail_abs"] = DEFAULT_FAIL_ABS[units[commodity]] * pset.fail_abs_factor
        outcomes.append(run_sweep(store, commodity, years=years, write=False, **extra))
    return outcomes


# ------------------------------------------------------------------ queries


@dataclass(frozen=True)
class Sample:
    scenario: str
    target: str
    run_id: str
    commodity: str
    shock: float
    mode: str
    year: int
    source: str


SAMPLE_SCENARIOS = """
MATCH (s:Scenario)
RETURN s.id AS id, s.run_id AS run_id, s.commodity AS commodity, s.shock AS shock,
       s.mode AS mode, s.year AS year, s.sources[0] AS source
ORDER BY id
"""
HIT_COUNTRIES = """
MATCH (:Scenario {id: $id})-[:HIT]->(h:Impact) WHERE NOT h.source
RETURN h.iso3 AS iso3 ORDER BY iso3
"""


def draw_samples(store: GraphStore, rng: np.random.Generator, n: int) -> list[Sample]:
    """``n`` distinct scenarios at random, each with a country it hit (read from v2)."""
    rows = store.records(SAMPLE_SCENARIOS)
    samples: list[Sample] = []
    for index in rng.permutation(len(rows)):
        row = rows[int(index)]
        hits = [r["iso3"] for r in store.records(HIT_COUNTRIES, id=row["id"])]
        if not hits:
            continue
        target = hits[int(rng.integers(len(hits)))]
        samples.append(
            Sample(
                row["id"],
                target,
                row["run_id"],
                row["commodity"],
                float(row["shock"]),
                row["mode"],
                int(row["year"]),
                row["source"],
            )
        )
        if len(samples) == n:
            break
    return samples


@dataclass(frozen=True)
class Bench:
    name: str
    v1: str
    v2: str
    v1_params: Callable[[Sample], dict[str, Any]]
    v2_params: Callable[[Sample], dict[str, Any]]
    key: Callable[[dict[str, Any]], Any]  # what must agree between v1 and v2, per row


def benches() -> list[Bench]:
    library = load_library()

    def paths(hops: int) -> Bench:
        def params(s: Sample) -> dict[str, Any]:
            return {
                "scenario": s.scenario,
                "target": s.target,
                "max_hops": hops,
                "min_share": 0.01,
                "limit": 10,
            }

        return Bench(
            f"critical_paths_{hops}",
            V1_CRITICAL_PATHS,
            library["critical_paths"].cypher,
            params,
            lambda s: library["critical_paths"].bind(params(s)),
            lambda row: tuple(row["path"]),
        )

    def sweep_level(name: str, v1: str, key: str, country: bool = False) -> Bench:
        def params(s: Sample) -> dict[str, Any]:
            values: dict[str, Any] = {
                "commodity": s.commodity,
                "shock": s.shock,
                "mode": s.mode,
                "run_id": s.run_id,
                "limit": 10,
            }
            if country:
                values["country"] = s.target
            return values

        return Bench(
            name,
            v1,
            library[name].cypher,
            lambda s: {**params(s), "years": None},
            lambda s: library[name].bind(params(s)),
            lambda row: row[key],
        )

    return [
        paths(4),
        paths(6),
        sweep_level("transit_hubs", V1_TRANSIT_HUBS, "country"),
        sweep_level("top_risk_sources", V1_TOP_RISK_SOURCES, "source"),
        sweep_level("exposure_by_source", V1_EXPOSURE_BY_SOURCE, "source", country=True),
    ]


@dataclass
class Timing:
    wall_ms: float
    server_ms: float
    rows: int
    keys: list[Any]
    timed_out: bool = False
    error: str | None = None


def run_timed(
    store: GraphStore, cypher: str, params: dict[str, Any], key: Any, timeout: float
) -> Timing:
    started = time.perf_counter()
    try:
        records, summary, _ = store.driver.execute_query(
            Query(cypher, timeout=timeout),  # type: ignore[arg-type]
            params,
            database_=store.database,
            routing_="r",
        )
    except Neo4jError as exc:
        # Timed out, or stopped by the server's memory guard: counted as a timeout (a lower
        # bound on the latency), the reason kept.
        log(f"    query stopped after {time.perf_counter() - started:.1f} s: {exc.code}")
        return Timing(timeout * 1000, timeout * 1000, 0, [], timed_out=True, error=str(exc.code))
    wall = (time.perf_counter() - started) * 1000
    server = float((summary.result_available_after or 0) + (summary.result_consumed_after or 0))
    return Timing(wall, server, len(records), [key(r.data()) for r in records])


def percentiles(values: Sequence[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float)
    return {
        "p50": round(float(np.percentile(array, 50)), 2),
        "p95": round(float(np.percentile(array, 95)), 2),
        "mean": round(float(array.mean()), 2),
        "max": round(float(array.max()), 2),
    }


@dataclass
class Runner:
    """Runs one library query on both models; gives a model up after ``give_up`` timeouts in
    a row (its later samples are recorded as timeouts, ``skipped``: a lower bound)."""

    bench: Bench
    stores: dict[str, GraphStore]
    timeout: float
    give_up: int
    streak: dict[str, int] = field(default_factory=lambda: {"v1": 0, "v2": 0})
    skipped: dict[str, int] = field(default_factory=lambda: {"v1": 0, "v2": 0})

    def __call__(self, model: str, sample: Sample) -> Timing:
        if self.streak[model] >= self.give_up:
            self.skipped[model] += 1
            return Timing(self.timeout * 1000, self.timeout * 1000, 0, [], timed_out=True)
        text, params = bench_query(self.bench, model, sample)
        timing = run_timed(self.stores[model], text, params, self.bench.key, self.timeout)
        self.streak[model] = self.streak[model] + 1 if timing.timed_out else 0
        return timing


def measure_queries(
    stores: dict[str, GraphStore],
    samples: list[Sample],
    warm: list[Sample],
    timeout: float,
    give_up: int,
) -> dict[str, Any]:
    """Warm every query on ``warm``, then time it on ``samples``, v1 and v2 alternating."""
    out: dict[str, Any] = {}
    for bench in benches():
        run = Runner(bench, stores, timeout, give_up)
        for sample in warm:
            for model in ("v1", "v2"):
                run(model, sample)
        run.skipped = {"v1": 0, "v2": 0}
        times: dict[str, list[Timing]] = {"v1": [], "v2": []}
        for rep, sample in enumerate(samples):
            order = ("v1", "v2") if rep % 2 == 0 else ("v2", "v1")
            for model in order:
                times[model].append(run(model, sample))
        same = sum(
            a.keys == b.keys or sorted(map(str, a.keys)) == sorted(map(str, b.keys))
            for a, b in zip(times["v1"], times["v2"], strict=True)
        )
        entry: dict[str, Any] = {
            "v1_v2_same_rows": f"{same}/{len(samples)}",
            # the library text timed (other engineers edit cypher/ while this runs)
            "v2_cypher_sha256_16": hashlib.sha256(bench.v2.encode()).hexdigest()[:16],
        }
        entry["differences"] = [
            {"sample": i, "v1": a.keys, "v2": b.keys, "v1_timed_out": a.timed_out}
            for i, (a, b) in enumerate(zip(times["v1"], times["v2"], strict=True))
            if not (a.keys == b.keys or sorted(map(str, a.keys)) == sorted(map(str, b.keys)))
        ]
        for model in ("v1", "v2"):
            entry[model] = {
                "wall_ms": percentiles([t.wall_ms for t in times[model]]),
                "server_ms": percentiles([t.server_ms for t in times[model]]),
                "rows_mean": round(float(np.mean([t.rows for t in times[model]])), 1),
                "samples_with_rows": sum(t.rows > 0 for t in times[model]),
                "timeouts": sum(t.timed_out for t in times[model]),
                "skipped_after_timeouts": run.skipped[model],
                "errors": sorted({t.error for t in times[model] if t.error}),
                "wall_ms_each": [round(t.wall_ms, 2) for t in times[model]],
            }
        v1_p95, v2_p95 = entry["v1"]["wall_ms"]["p95"], entry["v2"]["wall_ms"]["p95"]
        v1_p50, v2_p50 = entry["v1"]["wall_ms"]["p50"], entry["v2"]["wall_ms"]["p50"]
        entry["ratio_v1_v2_p50"] = round(v1_p50 / v2_p50, 1) if v2_p50 else None
        entry["ratio_v1_v2_p95"] = round(v1_p95 / v2_p95, 1) if v2_p95 else None
        out[bench.name] = entry
        log(
            f"  {bench.name:20s} v1 p50 {v1_p50:9.1f} p95 {v1_p95:9.1f} ms | "
            f"v2 p50 {v2_p50:7.1f} p95 {v2_p95:7.1f} ms | same rows {same}/{len(samples)}"
        )
    return out


def bench_query(bench: Bench, model: str, sample: Sample) -> tuple[str, dict[str, Any]]:
    if model == "v1":
        return bench.v1, bench.v1_params(sample)
    return bench.v2, bench.v2_params(sample)


# ------------------------------------------------------------------ facts


def java_version() -> str:
    try:
        java, _major = find_java()
        done = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
        return done.stderr.splitlines()[0] if done.stderr else "unknown"
    except Exception as exc:  # a fact for the record, never a failure
        return f"unknown ({exc})"


def neo4j_version(store: GraphStore) -> str:
    rows = store.records("CALL dbms.components() YIELD name, versions, edition RETURN *")
    return ", ".join(f"{r['name']} {r['versions'][0]} {r['edition']}" for r in rows)


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def cypher_digests() -> dict[str, str]:
    library = load_library()
    names = ("critical_paths", "transit_hubs", "top_risk_sources", "exposure_by_source")
    return {n: hashlib.sha256(library[n].cypher.encode()).hexdigest()[:16] for n in names}


def _writer_setting(function: str, constant: str) -> Any:
    """A setting of the v2 writer (its function if this version has one, else its constant)."""
    if callable(getattr(v2, function, None)):
        return getattr(v2, function)()
    return getattr(v2, constant, None)


def git_changes() -> list[str]:
    """Uncommitted changes to what the benchmark runs (others edit src/ and cypher/)."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "bench"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.splitlines()


def git_head() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


# ------------------------------------------------------------------ the run


@dataclass
class Growth:
    """What has been written so far, per model."""

    scenarios: int = 0
    sets: list[str] = field(default_factory=list)
    simulate_s: float = 0.0
    writes: dict[str, WriteStats] = field(
        default_factory=lambda: {"v1": WriteStats(), "v2": WriteStats()}
    )
    first_sweep: dict[str, Any] = field(default_factory=dict)
    per_set: list[dict[str, Any]] = field(default_factory=list)


def grow(
    servers: dict[str, Server],
    growth: Growth,
    pending: list[ParameterSet],
    until: int,
    sweeps: list[tuple[str, list[int] | None]],
    units: dict[str, str],
) -> None:
    """Simulate parameter sets and write them into v1, then v2, until ``until`` scenarios."""
    while growth.scenarios < until:
        if not pending:
            raise SystemExit(f"out of parameter sets at {growth.scenarios} scenarios")
        pset = pending.pop(0)
        started = time.perf_counter()
        outcomes = simulate(servers["v2"].store, pset, sweeps, units)
        simulated = time.perf_counter() - started
        growth.simulate_s += simulated
        n = sum(len(o.result.runs) for o in outcomes)
        set_writes = {"v1": WriteStats(), "v2": WriteStats()}
        for outcome in outcomes:
            info = run_info(outcome, f"bench_queries {pset.label}")
            result = outcome.result
            one = {
                "v1": write_v1(
                    servers["v1"].store, result.runs, result.impacts, result.transmitted, info
                ),
                "v2": write_v2(servers["v2"].store, outcome, info),
            }
            if not growth.first_sweep:
                growth.first_sweep = {
                    "sweep": f"{outcome.group.id} {pset.label}",
                    "scenarios": len(result.runs),
                    "impact_rows": len(result.impacts),
                    "transmits_rows": len(result.transmitted),
                    **{m: s.report() for m, s in one.items()},
                }
            for model, stats in one.items():
                set_writes[model].add(stats)
                growth.writes[model].add(stats)
        growth.scenarios += n
        growth.sets.append(pset.label)
        row = {
            "set": pset.label,
            "scenarios": n,
            "simulate_s": round(simulated, 1),
            **{m: s.report() for m, s in set_writes.items()},
        }
        growth.per_set.append(row)
        log(
            f"{pset.label}: {n} scenarios (total {growth.scenarios}), simulate {simulated:.1f} s, "
            f"v1 write {set_writes['v1'].seconds:.1f} s "
            f"({row['v1']['entities_per_s']} entities/s), v2 write "
            f"{set_writes['v2'].seconds:.1f} s ({row['v2']['entities_per_s']} entities/s)"
        )


RUN_OF = "MATCH (s:Scenario {id: $id}) RETURN s.run_id AS run_id"

# The chain queries (v2 only: the first model had no stages) over the demo chain's miners whose
# stop crosses a stage (a STARVES link), so that both queries have rows to return.
CHAIN_ALPHAS = (0.8, 0.5)
CHAIN_SOURCES = """
MATCH (s:Scenario {commodity: $chain})
WHERE s.source_stage = 0 AND EXISTS { (s)-[:HIT]->(:Impact)-[:STARVES]->(:Impact) }
RETURN DISTINCT s.sources[0] AS source, s.year AS year, s.shock AS shock
ORDER BY source, year, shock
"""


def store_demo_chain(store: GraphStore) -> int:
    """The demo chain's sweep (every source of every stage), once per alpha of
    :data:`CHAIN_ALPHAS`, as ``critmin demo`` runs it; returns the scenarios written."""
    chain, years, mode = DEMO_CHAIN
    written = 0
    for alpha in CHAIN_ALPHAS:
        study = chain_study(chain, years=years, mode=mode, alpha=alpha)
        outcome = run_chain_sweep(store, study, command=f"bench_queries chain alpha={alpha}")
        written += len(outcome.scenario_ids)
    return written


def measure_chain_queries(
    store: GraphStore, rng: np.random.Generator, repeats: int, warmup: int, timeout: float
) -> dict[str, Any]:
    """Warm latency of ``chain_paths`` and ``chain_refiners`` over random miners' stops."""
    library = load_library()
    chain = DEMO_CHAIN[0]
    rows = store.records(CHAIN_SOURCES, chain=chain)
    picks = [rows[int(i)] for i in rng.integers(len(rows), size=repeats + warmup)]
    out: dict[str, Any] = {}
    for name in ("chain_paths", "chain_refiners"):
        query = library[name]
        times = []
        for n, row in enumerate(picks):
            params = query.bind({"chain": chain, **row})
            timing = run_timed(store, query.cypher, params, lambda r: None, timeout)
            if n >= warmup:
                times.append(timing)
        out[name] = {
            "wall_ms": percentiles([t.wall_ms for t in times]),
            "server_ms": percentiles([t.server_ms for t in times]),
            "rows_mean": round(float(np.mean([t.rows for t in times])), 1),
            "timeouts": sum(t.timed_out for t in times),
        }
        log(
            f"  {name:20s} v2 p50 {out[name]['wall_ms']['p50']:7.1f} "
            f"p95 {out[name]['wall_ms']['p95']:7.1f} ms (rows {out[name]['rows_mean']})"
        )
    return out


def demo_end_to_end(servers: dict[str, Server], years: list[int] | None) -> dict[str, Any]:
    """``run_sweep`` of the demo commodity at default parameters: v2 as the CLI stores it; v1
    the same simulation written by the old writer."""
    out: dict[str, Any] = {}
    store = servers["v2"].store
    started = time.perf_counter()
    outcome = run_sweep(store, DEMO_COMMODITY, years=years, command="bench_queries demo")
    out["v2"] = {
        "scenarios": len(outcome.scenario_ids),
        "simulate_s": round(outcome.seconds, 2),
        "store_s": round(outcome.write_seconds, 2),
        "end_to_end_s": round(time.perf_counter() - started, 2),
    }
    first = outcome.scenario_ids[0]
    run_id = store.records(RUN_OF, id=first)[0]["run_id"]
    store = servers["v1"].store
    started = time.perf_counter()
    outcome = run_sweep(store, DEMO_COMMODITY, years=years, write=False)
    info = replace(run_info(outcome, "bench_queries demo"), id=run_id)  # as in v2
    result = outcome.result
    stats = write_v1(store, result.runs, result.impacts, result.transmitted, info)
    out["v1"] = {
        "scenarios": len(result.runs),
        "simulate_s": round(outcome.seconds, 2),
        "store_s": round(stats.seconds, 2),
        "end_to_end_s": round(time.perf_counter() - started, 2),
    }
    for model in ("v1", "v2"):
        log(
            f"demo sweep {model}: {out[model]['scenarios']} scenarios, simulate "
            f"{out[model]['simulate_s']} s, store {out[model]['store_s']} s"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=50_000, help="large store size")
    parser.add_argument("--small", type=int, default=5_000, help="small store size")
    parser.add_argument("--repeats", type=int, default=20, help="timed samples per query")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--timeout", type=float, default=60.0, help="per query, seconds")
    parser.add_argument(
        "--give-up", type=int, default=3, help="stop running a query after N timeouts in a row"
    )
    parser.add_argument("--heap", default="2g", help="CRITMIN_NEO4J_HEAP of each server")
    parser.add_argument("--pagecache", default="3g", help="CRITMIN_NEO4J_PAGECACHE of each")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2024 sweeps only, 200 then 1,200 scenarios, 5 repeats",
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.scenarios, args.small = min(args.scenarios, 1200), min(args.small, 200)
        args.repeats, args.warmup = min(args.repeats, 5), min(args.warmup, 1)
        args.heap, args.pagecache = "1g", "512m"
    output = args.output or (QUICK_RESULTS if args.quick else RESULTS)
    signal.signal(signal.SIGTERM, _terminate)
    load_before = os.getloadavg()
    wall_started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    sweeps = sweeps_of(args.quick)
    demo_years = [2024] if args.quick else None
    figures: dict[str, Any] = {
        "parameters": {
            "scenarios": args.scenarios,
            "small": args.small,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "seed": args.seed,
            "timeout_s": args.timeout,
            "give_up_after_timeouts": args.give_up,
            "quick": args.quick,
            "sweeps": [[c, y] for c, y in sweeps],
            "keep_share": KEEP_SHARE,
            "min_share": 0.01,
            "limit": 10,
            "v1_scenarios_per_transaction": V1_SCENARIOS_PER_TRANSACTION,
            "v2_entities_per_transaction": _writer_setting(
                "transaction_size", "ENTITIES_PER_TRANSACTION"
            ),
            "v2_write_workers": _writer_setting("write_workers", "WRITE_WORKERS"),
        },
        "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory(prefix="critmin-bench-queries-") as tmp, ExitStack() as stack:
        servers: dict[str, Server] = {}
        for name in ("v1", "v2"):
            servers[name] = stack.enter_context(
                managed_server(name, Path(tmp), args.heap, args.pagecache)
            )
        stores = {name: s.store for name, s in servers.items()}
        for name, server in servers.items():
            started = time.perf_counter()
            load_demo(server.store, ROOT / "data")
            log(f"{name}: demo data loaded in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        chain_scenarios = store_demo_chain(stores["v2"])
        figures["chain_scenarios"] = chain_scenarios
        log(f"v2: {chain_scenarios} demo chain scenarios in {time.perf_counter() - started:.1f} s")
        for statement in V1_SCHEMA:  # the loader made today's schema; v1 adds its own index
            stores["v1"].execute(statement)
        stores["v1"].execute("CALL db.awaitIndexes(300)")
        figures["machine"] = {
            "summary": machine(),
            "cores": os.cpu_count(),
            "memory_gib": memory_gib(),
            "python": platform.python_version(),
            "java": java_version(),
            "neo4j": neo4j_version(stores["v2"]),
            "heap": args.heap,
            "pagecache": args.pagecache,
            "servers": 2,
            "load_average_before": [round(x, 2) for x in load_before],
            "git_head": git_head(),
            "git_uncommitted": git_changes(),
            "cypher_sha256_16": cypher_digests(),
        }
        units = {c: unit_of(stores["v2"], c, y) for c, y in sweeps}
        pending = parameter_sets()
        growth = Growth()
        sizes: dict[str, Any] = {}
        for label, until in (("small", args.small), ("large", args.scenarios)):
            grow(servers, growth, pending, until, sweeps, units)
            sizes[label] = {
                "parameter_sets": list(growth.sets),
                "write": {m: s.report() for m, s in growth.writes.items()},
                "simulate_s": round(growth.simulate_s, 1),
            }
            if label == "small":
                figures["first_sweep_write"] = growth.first_sweep
            sizes[label]["stores"] = {m: store_size(s) for m, s in servers.items()}
            log(f"{label}: {json.dumps(sizes[label]['stores'])}")
            samples = draw_samples(stores["v2"], rng, args.repeats + args.warmup)
            measured, warm = samples[: args.repeats], samples[args.repeats :]
            sizes[label]["samples"] = [vars(s) for s in measured]
            log(f"{label}: timing queries over {len(measured)} scenarios")
            sizes[label]["queries"] = measure_queries(
                stores, measured, warm, args.timeout, args.give_up
            )
            sizes[label]["chain_queries"] = measure_chain_queries(
                stores["v2"], rng, args.repeats, args.warmup, args.timeout
            )
            e2e = demo_end_to_end(servers, demo_years)
            sizes[label]["demo_sweep"] = {
                "kind": "new scenarios" if label == "small" else "re-run (replaces)",
                **e2e,
            }
            if label == "small":
                growth.scenarios += e2e["v2"]["scenarios"]
        figures["sizes"] = sizes
        figures["write_per_parameter_set"] = growth.per_set
        figures["write_total"] = {m: s.report() for m, s in growth.writes.items()}
    figures["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    figures["machine"]["git_head_after"] = git_head()
    figures["wall_s"] = round(time.perf_counter() - wall_started, 1)
    figures["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n")
    print_tables(figures)
    log(f"wrote {output}")


# ------------------------------------------------------------------ the table


def print_tables(figures: dict[str, Any]) -> None:
    sizes = figures["sizes"]
    print()
    print(f"Machine: {figures['machine']['summary']}; {figures['machine']['neo4j']}")
    print(f"Wall time {figures['wall_s'] / 60:.1f} min")
    print()
    print(
        f"{'store':8s} {'model':5s} {'scenarios':>10s} {'nodes':>11s} {'rels':>11s} "
        f"{'store MB':>9s} {'tx log MB':>9s}"
    )
    for label, size in sizes.items():
        for model, s in size["stores"].items():
            print(
                f"{label:8s} {model:5s} {s['scenarios']:>10,} {s['nodes']:>11,} "
                f"{s['relationships']:>11,} {s.get('store_mb', s['disk_mb']):>9,} "
                f"{s.get('tx_logs_mb', 0):>9,}"
            )
    print()
    header = f"{'query (warm, ms)':22s} {'store':6s} {'v1 p50':>9s} {'v1 p95':>9s}"
    print(header + f" {'v2 p50':>8s} {'v2 p95':>8s} {'v1/v2 p95':>9s} {'same':>6s}")
    names = list(next(iter(sizes.values()))["queries"])
    for name in names:
        for label, size in sizes.items():
            q = size["queries"][name]
            print(
                f"{name:22s} {label:6s} {q['v1']['wall_ms']['p50']:9.1f} "
                f"{q['v1']['wall_ms']['p95']:9.1f} {q['v2']['wall_ms']['p50']:8.1f} "
                f"{q['v2']['wall_ms']['p95']:8.1f} {q['ratio_v1_v2_p95'] or 0:9.1f} "
                f"{q['v1_v2_same_rows']:>6s}"
            )
    print()
    print(f"{'write-back':24s} {'scenarios':>9s} {'entities':>11s} {'s':>8s} {'entities/s':>11s}")
    first = figures["first_sweep_write"]
    for model in ("v1", "v2"):
        for what, w in (
            (f"first sweep {model}", first[model]),
            (f"all sets {model}", figures["write_total"][model]),
        ):
            print(
                f"{what:24s} {w['scenarios']:>9,} {w['entities']:>11,} {w['seconds']:>8.1f} "
                f"{w['entities_per_s'] or 0:>11,}"
            )
    for model in ("v1", "v2"):
        w = figures["write_total"][model]
        top = sorted(w["statement_seconds"].items(), key=lambda kv: -kv[1])[:2]
        print(
            f"  {model} write time: statements {w['in_statements_s']} s ("
            + ", ".join(f"{k} {v} s" for k, v in top)
            + f"), commit {w['commit_s']} s (both summed over transactions); "
            f"transactions in flight {w['in_flight_s']} s, none {w['client_s']} s"
        )
    print()
    for label, size in sizes.items():
        demo = size["demo_sweep"]
        for model in ("v1", "v2"):
            d = demo[model]
            print(
                f"demo sweep {label} store ({demo['kind']}) {model}: {d['scenarios']:,} "
                f"scenarios, simulate {d['simulate_s']} s, store {d['store_s']} s"
            )
    print()
    print("Targets (reported, not asserted):")
    for line in target_lines(figures):
        print("  " + line)


def target_lines(figures: dict[str, Any]) -> list[str]:
    sizes = figures["sizes"]
    large = sizes.get("large", {}).get("queries", {})
    small = sizes.get("small", {}).get("queries", {})
    lines = []
    for name in large:
        p95 = large[name]["v2"]["wall_ms"]["p95"]
        limit = (
            TARGETS["critical_paths_p95_ms"]
            if name.startswith("critical")
            else TARGETS["sweep_queries_p95_ms"]
        )
        growth = p95 / small[name]["v2"]["wall_ms"]["p95"] if name in small else float("nan")
        lines.append(
            f"v2 {name}: p95 {p95:.1f} ms at the large size (<= {limit}: "
            f"{'met' if p95 <= limit else 'NOT met'}); large/small p95 {growth:.2f} "
            f"(<= {TARGETS['growth_p95_ratio_max']}: "
            f"{'met' if growth <= TARGETS['growth_p95_ratio_max'] else 'NOT met'})"
        )
    rate = figures["write_total"]["v2"]["entities_per_s"] or 0
    lines.append(
        f"v2 write-back {rate:,} entities/s (>= {TARGETS['writeback_entities_per_s']:,}: "
        f"{'met' if rate >= TARGETS['writeback_entities_per_s'] else 'NOT met'})"
    )
    for label, size in sizes.items():
        d = size["demo_sweep"]["v2"]
        lines.append(
            f"demo sweep stored in {d['store_s']} s on the {label} store "
            f"({d['scenarios']:,} scenarios; <= {TARGETS['demo_store_s']} s: "
            f"{'met' if d['store_s'] <= TARGETS['demo_store_s'] else 'NOT met'})"
        )
    return lines


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: servers stopped and deleted", file=sys.stderr)
        sys.exit(130)
