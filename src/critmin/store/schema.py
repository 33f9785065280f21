"""Constraints and indexes of the trade graph (IF NOT EXISTS makes creating them idempotent)."""

from __future__ import annotations

from critmin.store.graph import GraphStore

SCHEMA = (
    "CREATE CONSTRAINT country_iso3 IF NOT EXISTS FOR (c:Country) REQUIRE c.iso3 IS UNIQUE",
    "CREATE CONSTRAINT commodity_id IF NOT EXISTS FOR (m:Commodity) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT scenario_id IF NOT EXISTS FOR (s:Scenario) REQUIRE s.id IS UNIQUE",
    "CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX trades_year IF NOT EXISTS FOR ()-[t:TRADES]-() ON (t.year)",
    "CREATE INDEX trades_hs IF NOT EXISTS FOR ()-[t:TRADES]-() ON (t.hs)",
    "CREATE INDEX produced_year IF NOT EXISTS FOR ()-[p:PRODUCED]-() ON (p.year)",
    "CREATE INDEX feeds_chain IF NOT EXISTS FOR ()-[f:FEEDS]-() ON (f.chain)",
    "CREATE INDEX scenario_lookup IF NOT EXISTS FOR (s:Scenario) ON (s.commodity, s.year, s.shock)",
    "CREATE INDEX scenario_commodity IF NOT EXISTS FOR (s:Scenario) ON (s.commodity)",
    "CREATE CONSTRAINT critmin_graph IF NOT EXISTS FOR (g:CritminGraph) REQUIRE g.id IS UNIQUE",
    "CREATE CONSTRAINT critmin_lock IF NOT EXISTS FOR (l:CritminLock) REQUIRE l.name IS UNIQUE",
    "CREATE INDEX run_commodity IF NOT EXISTS FOR (r:Run) ON (r.commodity)",
    "CREATE INDEX sweep_source IF NOT EXISTS FOR (x:SweepSource) ON (x.run_id, x.shock)",
    "CREATE INDEX sweep_country IF NOT EXISTS FOR (x:SweepCountry) ON (x.run_id, x.shock)",
    "CREATE INDEX sweep_country_iso3 IF NOT EXISTS FOR (x:SweepCountry) ON (x.run_id, x.country)",
    "CREATE INDEX sweep_exposure IF NOT EXISTS FOR (x:SweepExposure) ON (x.run_id, x.country)",
)


def ensure_schema(store: GraphStore) -> None:
    """Create the constraints and indexes the loaders and queries rely on, then wait for them.

    Once per store: a load asks for them before taking its lease and again before writing,
    and a sweep before writing; the statements run the first time only.
    """
    if store.schema_ensured:
        return
    for statement in SCHEMA:
        store.execute(statement)
    store.execute("CALL db.awaitIndexes(300)")
    store.schema_ensured = True
