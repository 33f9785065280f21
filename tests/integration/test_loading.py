"""Loading into a real Neo4j: counts equal the input, reloads change nothing, bad files nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from critmin.loader import InputError, read_trades
from critmin.pipeline import load_production, load_trades
from critmin.store.graph import GraphStore

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"
BATTERY = DATA / "trade" / "baci_hs17_v202601_2024_battery_subset.csv"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

GRAPH_TRADES = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
RETURN t.year AS year, e.iso3 AS exporter, i.iso3 AS importer, t.hs AS hs,
       t.tonnes AS tonnes, t.value_usd AS value_usd, t.source AS source
"""

SNAPSHOT = """
MATCH (n) OPTIONAL MATCH (n)-[r]->()
RETURN count(DISTINCT n) AS nodes, count(r) AS relationships
"""


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["year", "exporter", "importer", "hs"]
    return frame.sort_values(keys).reset_index(drop=True)


def test_graph_holds_exactly_the_input_flows(store: GraphStore) -> None:
    outcome = load_trades(store, [BATTERY])
    expected = read_trades([BATTERY]).flows
    assert outcome.written == len(expected) == 3490
    stored = store.query(GRAPH_TRADES).astype({"year": "int64"})
    columns = list(expected.columns)
    pd.testing.assert_frame_equal(
        _sorted(stored[columns]), _sorted(expected[columns]), check_dtype=False
    )
    cod_nam = stored.query("exporter == 'COD' and importer == 'NAM' and hs == '282200'")
    assert cod_nam["tonnes"].item() == pytest.approx(14455.5)
    assert cod_nam["value_usd"].item() == pytest.approx(142_296_512)


def test_reload_changes_nothing(store: GraphStore) -> None:
    load_trades(store, [BATTERY])
    before = store.records(SNAPSHOT)
    again = load_trades(store, [BATTERY])
    assert (len(again.plan.new), len(again.plan.changed), again.plan.unchanged) == (0, 0, 3490)
    assert again.written == 0
    assert store.records(SNAPSHOT) == before


def test_changed_value_is_updated_in_place(store: GraphStore, tmp_path: Path) -> None:
    plain = tmp_path / "flows.csv"
    plain.write_text(
        "year,exporter,importer,hs,tonnes,value_usd\n2022,COD,CHN,260500,100,5000\n"
        "2022,ZMB,ZAF,260500,20,900\n"
    )
    load_trades(store, [plain])
    plain.write_text(
        "year,exporter,importer,hs,tonnes,value_usd\n2022,COD,CHN,260500,150,5000\n"
        "2022,ZMB,ZAF,260500,20,900\n"
    )
    outcome = load_trades(store, [plain])
    assert (len(outcome.plan.new), len(outcome.plan.changed), outcome.plan.unchanged) == (0, 1, 1)
    rows = store.records("MATCH (:Country {iso3: 'COD'})-[t:TRADES]->() RETURN t.tonnes AS t")
    assert rows == [{"t": 150.0}]


def test_bad_file_leaves_database_unchanged(store: GraphStore, tmp_path: Path) -> None:
    load_trades(store, [BATTERY])
    before = store.records(SNAPSHOT)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "year,exporter,importer,hs,tonnes,value_usd\n2022,COD,CHN,260500,100,5000\n"
        "2022,ZMB,ZAF,260500,-3,900\n"
    )
    with pytest.raises(InputError) as error:
        load_trades(store, [bad])
    message = str(error.value)
    assert "bad.csv" in message and "row 3" in message and "-3" in message
    assert store.records(SNAPSHOT) == before


def test_dry_run_writes_nothing(store: GraphStore) -> None:
    outcome = load_trades(store, [BATTERY], dry_run=True)
    assert len(outcome.plan.new) == 3490 and outcome.written == 0
    assert store.records(SNAPSHOT) == [{"nodes": 0, "relationships": 0}]


def test_comtrade_mirror_flows_are_reconciled_before_loading(store: GraphStore) -> None:
    files = [FIXTURES / "comtrade_synthetic_2022.csv"]
    expected = read_trades(files).flows
    load_trades(store, files)
    stored = store.query(GRAPH_TRADES)
    assert len(stored) == len(expected)
    chn = stored.query("exporter == 'COD' and importer == 'CHN'")
    assert chn["source"].item().startswith("UN Comtrade (importer")  # importer's report wins


def test_production_is_linked_to_its_commodity(store: GraphStore) -> None:
    load_production(store, [DATA / "production" / "mcs2024-cobal_world.csv"])
    rows = store.records(
        "MATCH (c:Country {iso3: 'COD'})-[p:PRODUCED {year: 2023}]->(m:Commodity {id: 'cobalt'}) "
        "RETURN p.tonnes AS tonnes, p.source AS source"
    )
    assert rows == [{"tonnes": 170_000.0, "source": "USGS MCS2024"}]
    again = load_production(store, [DATA / "production" / "mcs2024-cobal_world.csv"])
    assert again.written == 0


def test_a_load_cut_short_is_completed_by_running_it_again(
    store: GraphStore, tmp_path: Path
) -> None:
    # What an interrupted load leaves: some batches committed, the rest not. Here the first
    # 1,000 rows of the file stand for the committed batches.
    lines = BATTERY.read_text().splitlines(keepends=True)
    part = tmp_path / "baci_hs17_v202601_first_batches.csv"  # same release, same source
    part.write_text("".join(lines[:1001]))
    load_trades(store, [part])
    again = load_trades(store, [BATTERY])
    assert (len(again.plan.new), again.plan.unchanged) == (2490, 1000)
    stored = store.query(GRAPH_TRADES)
    assert len(stored) == 3490


def test_every_production_value_is_stored_and_a_reload_writes_nothing(store: GraphStore) -> None:
    files = sorted((DATA / "production").glob("*.csv"))
    first = load_production(store, files)
    expected = len(first.data.production)  # type: ignore[union-attr]
    assert first.written == expected == len(first.plan.new)
    stored = store.records("MATCH ()-[p:PRODUCED]->() RETURN count(p) AS n")
    assert stored == [{"n": expected}]
    gallium = store.records(
        "MATCH (:Country {iso3: 'CHN'})-[p:PRODUCED]->(:Commodity {id: 'gallium'}) "
        "RETURN count(p) AS n"
    )
    assert gallium[0]["n"] > 0  # no commodity group uses gallium; its node is still made
    again = load_production(store, files)
    assert (len(again.plan.new), len(again.plan.changed), again.written) == (0, 0, 0)


def test_a_row_whose_node_is_missing_rolls_its_batch_back(store: GraphStore) -> None:
    from critmin.store.graph import IncompleteWrite
    from critmin.store.loading import PRODUCED, apply_plan, plan_load

    frame = pd.DataFrame(
        {
            "year": [2023],
            "country": ["COD"],
            "commodity": ["unobtainium"],
            "tonnes": [1.0],
            "source": ["test"],
        }
    )
    plan = plan_load(store, PRODUCED, frame, {"COD": "Congo"}, commodities=[])
    with pytest.raises(IncompleteWrite, match="rolled back"):
        apply_plan(store, plan)
    assert store.records("MATCH ()-[p:PRODUCED]->() RETURN count(p) AS n") == [{"n": 0}]
