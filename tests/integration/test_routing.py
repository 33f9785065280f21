"""The driver's routing scheme (``neo4j://``) against the single server: what a cluster or Aura
needs of critmin works here too. Writes go to the server the routing table names as writer,
reads to a reader; with one server both are the same, which the routing table shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from critmin.pipeline import load_trades, run_sweep
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import source_table
from critmin.store.settings import ConnectionSettings

pytestmark = pytest.mark.integration

FLOWS = """year,exporter,importer,hs,tonnes,value_usd
2022,COD,ZAF,260500,100,1000
2022,ZAF,CHN,260500,60,700
2022,AUS,CHN,260500,20,240
"""


def test_load_sweep_and_read_through_neo4j_routing(
    store: GraphStore, neo4j_settings: ConnectionSettings, tmp_path: Path
) -> None:
    bolt = neo4j_settings.uri
    assert bolt.startswith("bolt://"), bolt
    routed = ConnectionSettings(
        bolt.replace("bolt://", "neo4j://", 1),
        neo4j_settings.user,
        neo4j_settings.password,
        neo4j_settings.database,
        origin="routing",
    )
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    with GraphStore.connect(routed) as through_routing:
        table = through_routing.records(
            "CALL dbms.routing.getRoutingTable({}, $db) YIELD servers "
            "UNWIND servers AS s RETURN s.role AS role, s.addresses AS addresses",
            db=routed.database,
        )
        roles = {row["role"]: row["addresses"] for row in table}
        assert set(roles) == {"WRITE", "READ", "ROUTE"}, roles
        # The server advertises the address clients reach it on, not a container-internal one.
        assert roles["WRITE"] == [bolt.removeprefix("bolt://")], roles
        assert load_trades(through_routing, [flows]).written == 3
        run_sweep(through_routing, "cobalt")
        routed_table, _ = source_table(through_routing, "cobalt", 1.0)
    direct_table, _ = source_table(store, "cobalt", 1.0)
    assert list(routed_table["source"]) == list(direct_table["source"]) == ["COD", "AUS", "ZAF"]
