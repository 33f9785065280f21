"""Contained metal and supply chains against a real Neo4j: a BACI-shaped fixture loaded by the
CLI gives the stage networks computed by hand; reloads are idempotent; a factor change updates
``metal_t``; the bundled sample's magnitudes agree with published figures."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.loader.commodities import CommodityGroup, find_group
from critmin.loader.metal import metal_content
from critmin.pipeline import load_demo, load_trades
from critmin.simulator import TradeNetwork
from critmin.simulator.chain import simulate_chain
from critmin.simulator.scenario import Parameters, Shock
from critmin.store.chains import chain_networks
from critmin.store.graph import GraphStore
from critmin.store.loading import PRODUCED, apply_plan, plan_load
from critmin.store.networks import StaleMetal, read_panel

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"

# BACI numeric codes: 180 COD, 894 ZMB, 156 CHN, 246 FIN, 124 CAN, 56 BEL, 842 USA.
# v in thousand USD, q in tonnes.
BACI_ROWS = """t,i,j,k,v,q
2022,180,156,260500,2000.000,1000.000
2022,180,246,260500,400.000,200.000
2022,180,156,810520,30000.000,3000.000
2022,894,156,810520,5000.000,500.000
2022,180,894,810520,4000.000,400.000
2022,246,56,810520,3000.000,100.000
2022,156,842,810520,2400.000,80.000
2022,124,842,810590,1500.000,50.000
"""
COUNTRY_ROWS = """country_code,country_name,country_iso2,country_iso3
56,Belgium,BE,BEL
124,Canada,CA,CAN
156,China,CN,CHN
180,Dem. Rep. of the Congo,CD,COD
246,Finland,FI,FIN
842,USA,US,USA
894,Zambia,ZM,ZMB
"""
# Mine production, tonnes of contained cobalt.
MINE = {"COD": 1500.0, "ZMB": 50.0}

STAGE_FLOWS = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
RETURN e.iso3 AS exporter, i.iso3 AS importer, t.hs AS hs, t.tonnes AS tonnes,
       t.metal_t AS metal_t, t.metal_form AS metal_form, t.metal_version AS metal_version
"""
FEEDS = """
MATCH (a:Commodity)-[f:FEEDS]->(b:Commodity)
RETURN f.chain AS chain, a.id AS upstream, b.id AS downstream, f.from_stage AS from_stage
ORDER BY chain, from_stage
"""

STALE_FEEDS = """
MATCH (a:Commodity {id: 'cobalt'}), (b:Commodity {id: 'cobalt_refined'})
CREATE (a)-[:FEEDS {chain: 'renamed', from_stage: 0, to_stage: 1}]->(b)
"""


def _load_fixture(store: GraphStore, tmp_path: Path) -> Path:
    # A BACI release as CEPII ships it: yearly files and the country dictionary in one zip.
    baci = tmp_path / "BACI_HS17_V202601.zip"
    with zipfile.ZipFile(baci, "w") as archive:
        archive.writestr("BACI_HS17_Y2022_V202601.csv", BACI_ROWS)
        archive.writestr("country_codes_V202601.csv", COUNTRY_ROWS)
    ran = CliRunner().invoke(app, ["load", "trades", str(baci), "--format", "baci"])
    assert ran.exit_code == 0, ran.output
    production = pd.DataFrame(
        {
            "year": [2022, 2022],
            "country": list(MINE),
            "commodity": ["cobalt", "cobalt"],
            "tonnes": list(MINE.values()),
            "source": ["test mine production"] * 2,
        }
    )
    rows = [{"id": "cobalt", "name": "Cobalt", "hs_codes": [], "production_commodity": "cobalt"}]
    apply_plan(store, plan_load(store, PRODUCED, production, {}, rows))
    return baci


def _produced(net: TradeNetwork) -> dict[str, float]:
    """The network's countries with output, and their ``P``."""
    return {c: float(p) for c, p in zip(net.countries, net.P, strict=True) if p > 0}


@pytest.mark.usefixtures("neo4j_env")
def test_baci_fixture_gives_the_hand_computed_stage_networks(
    store: GraphStore, tmp_path: Path
) -> None:
    _load_fixture(store, tmp_path)
    stored = store.query(STAGE_FLOWS).set_index(["exporter", "importer", "hs"])
    # 810520: the DRC's and Zambia's intermediates at 0.35, Finland's and China's metal at 0.99.
    assert stored.loc[("COD", "CHN", "810520"), "metal_t"] == pytest.approx(1050.0)
    assert stored.loc[("COD", "CHN", "810520"), "metal_form"] == "intermediate"
    assert stored.loc[("FIN", "BEL", "810520"), "metal_t"] == pytest.approx(99.0)
    assert stored.loc[("COD", "CHN", "260500"), "metal_t"] == pytest.approx(100.0)
    assert set(stored["metal_version"]) == {metal_content().version}
    feeds = store.query(FEEDS)
    cobalt = feeds[feeds["chain"] == "cobalt_chain"]
    assert list(cobalt["upstream"]) == ["cobalt_ore", "cobalt_intermediate"]
    assert list(cobalt["downstream"]) == ["cobalt_intermediate", "cobalt_refined"]

    chain = chain_networks(store, "cobalt_chain", 2022)
    assert chain.countries == ("BEL", "CAN", "CHN", "COD", "FIN", "USA", "ZMB")
    ore, mid, refined = chain.stages
    # Stage 0: ore at 10% Co; P = mine production; D = P + I - E.
    assert ore.network.unit == "t_metal" and not ore.production_estimated
    assert _produced(ore.network) == MINE
    assert dict(ore.network.demand.round(6)) == {
        "BEL": 0, "CAN": 0, "CHN": 100, "COD": 1380, "FIN": 20, "USA": 0, "ZMB": 50
    }  # fmt: skip
    # Stage 1: intermediates only (the DRC's and Zambia's 810520), gross and metal.
    assert mid.gross.W.sum() == pytest.approx(3900.0)
    assert mid.network.W.sum() == pytest.approx(1365.0)
    # P^1 estimated by mass balance: max(A^0, E^1 - I^1, 0).
    assert mid.production_estimated and "mass_balance" in mid.production_basis
    assert _produced(mid.network) == pytest.approx(
        {"CHN": 100.0, "COD": 1380.0, "FIN": 20.0, "ZMB": 50.0}
    )
    assert dict(mid.network.demand[mid.network.demand != 0]) == pytest.approx(
        {"CHN": 1325.0, "COD": 190.0, "FIN": 20.0, "ZMB": 15.0}
    )
    # Stage 2: refined metal (810520 of FIN and CHN at 0.99, 810590 at 0.95).
    assert refined.gross.W.sum() == pytest.approx(230.0)
    assert refined.network.W.sum() == pytest.approx(99.0 + 79.2 + 47.5)
    assert _produced(refined.network) == pytest.approx(
        {"CAN": 47.5, "CHN": 1325.0, "COD": 190.0, "FIN": 99.0, "ZMB": 15.0}
    )
    assert (refined.network.demand >= -1e-9).all()
    assert chain.inconsistencies().empty

    # The DRC stops its ore exports: China and Finland lose 100 and 20 t of ore; each
    # converts all it consumes (P^1 = A^0 by mass balance), so its stage-1 output is cut
    # by as much, and stage 1 settles exactly that.
    result = simulate_chain(
        chain.networks,
        [Shock("COD", 1.0, stage=0)],
        **Parameters.from_preset("physical").as_dict(),
    )
    assert dict(result.demand_loss[0][result.demand_loss[0] > 0]) == pytest.approx(
        {"CHN": 100.0, "FIN": 20.0}
    )
    assert dict(result.coupling_cut[1][result.coupling_cut[1] > 0]) == pytest.approx(
        {"CHN": 100.0, "FIN": 20.0}
    )
    assert result.stages[1].initial_shock == pytest.approx(120.0)
    assert result.demand_loss[1].sum() == pytest.approx(120.0)

    # Where the stage's own production series has data, it replaces the estimate.
    refinery = pd.DataFrame(
        {
            "year": [2022],
            "country": ["FIN"],
            "commodity": ["cobalt_refined"],
            "tonnes": [120.0],
            "source": ["test refinery production"],
        }
    )
    apply_plan(store, plan_load(store, PRODUCED, refinery, {}, []))
    refined = chain_networks(store, "cobalt_chain", 2022).stages[2]
    assert not refined.production_estimated and "refinery" in refined.production_basis
    assert _produced(refined.network) == {"FIN": 120.0}

    # Gross tonnes never meet production; contained metal does.
    group = find_group("cobalt")
    gross = read_panel(store, group, [2022], "tonnes")
    assert gross.production.empty and "production left out" in gross.notes[0]
    metal = read_panel(store, group, [2022], "metal")
    assert metal.unit == "t_metal"
    assert dict(zip(metal.production["country"], metal.production["quantity"], strict=True)) == (
        MINE
    )


@pytest.mark.usefixtures("neo4j_env")
def test_reload_is_idempotent_and_a_factor_change_updates_metal(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baci = _load_fixture(store, tmp_path)
    store.execute(STALE_FEEDS)
    again = load_trades(store, [baci], format="baci")
    assert (len(again.plan.new), len(again.plan.changed), again.written) == (0, 0, 0)
    # Two FEEDS of cobalt_chain, one of cobalt_demo; the chain file no longer has "renamed".
    assert sorted(store.query(FEEDS)["chain"]) == ["cobalt_chain", "cobalt_chain", "cobalt_demo"]

    # A new factor table (DRC hydroxide at 0.30): reading refuses the stale metal ...
    table = metal_content()
    rules = tuple(
        replace(r, factor=0.30) if (r.hs, r.form) == ("810520", "intermediate") else r
        for r in table.rules
    )
    changed = replace(table, rules=rules, version="test-table")
    for module in ("critmin.store.loading", "critmin.store.networks"):
        monkeypatch.setattr(f"{module}.metal_content", lambda: changed)
    with pytest.raises(StaleMetal, match="load the same trade files again"):
        read_panel(store, CommodityGroup("c", "C", ("810520",), "cobalt"), [2022], "metal")
    # ... and reloading the same file updates every flow's metal_t and version.
    reloaded = load_trades(store, [baci], format="baci")
    assert len(reloaded.plan.changed) == 8
    stored = store.query(STAGE_FLOWS).set_index(["exporter", "importer", "hs"])
    assert stored.loc[("COD", "CHN", "810520"), "metal_t"] == pytest.approx(900.0)
    assert set(stored["metal_version"]) == {"test-table"}


def test_bundled_sample_magnitudes_match_published_figures(store: GraphStore) -> None:
    load_demo(store, DATA)
    # USGS MCS 2025: cobalt mine production 2024, DRC 220,000 t (MCS 2026, the newer release
    # the graph keeps, revised it to 226,000 t), world about 290,000 t.
    mine = read_panel(store, find_group("cobalt_oxides"), [2024], "metal").production
    by_country = dict(zip(mine["country"], mine["quantity"], strict=True))
    assert by_country["COD"] == pytest.approx(220_000, rel=0.05)
    assert sum(by_country.values()) == pytest.approx(290_000, rel=0.08), by_country
    # The demo chain (mine production, then HS 282200) in contained metal.
    demo = chain_networks(store, "cobalt_demo", 2024)
    mined, oxides = demo.stages
    assert mined.network.W.sum() == 0
    assert mined.network.P.sum() == pytest.approx(sum(by_country.values()))
    assert oxides.production_estimated
    # Zambia re-exports DRC hydroxide: in metal its consumption is no longer negative, or it is
    # listed with the flows that make it so.
    zambia = oxides.network.demand["ZMB"]
    listed = oxides.inconsistencies
    assert zambia >= -1e-9 or "ZMB" in set(listed["country"])
    panel = read_panel(store, find_group("cobalt_oxides"), [2024], "metal")
    table = panel.inconsistencies()
    for row in table.itertuples():
        assert row.D < 0 and row.largest_exports


@pytest.mark.usefixtures("neo4j_env")
def test_check_totals_compares_a_loaded_release_with_published_totals(
    store: GraphStore, tmp_path: Path
) -> None:
    reference = tmp_path / "totals.csv"
    header = "year,hs6,world_value_usd,world_qty_tonnes,n_flows\n"
    # The fixture's 2022 totals, as BACI's yearly aggregates give them (USD, tonnes).
    reference.write_text(header + "2022,260500,2400000,1200,2\n2022,810520,44400000,4080,5\n")
    runner = CliRunner()
    empty = runner.invoke(app, ["load", "check-totals", "--reference", str(reference)])
    assert empty.exit_code == 2
    assert "no stored flows of HS 260500, 810520 in 2022-2022" in empty.output
    _load_fixture(store, tmp_path)
    ran = runner.invoke(
        app, ["load", "check-totals", "--reference", str(reference), "--format", "csv"]
    )
    assert ran.exit_code == 0, ran.output
    rows = pd.read_csv(io.StringIO(ran.stdout), comment="#")
    assert list(rows["ok"]) == [True, True] and list(rows["flows"]) == [2, 5]
    assert "all 2 years and codes within 2%" in ran.stderr
    # A release that lost a flow (Zambia's 810520 to China: 5 of 44.4 million USD) differs.
    reference.write_text(header + "2022,260500,2400000,1200,2\n2022,810520,49400000,4580,6\n")
    off = runner.invoke(app, ["load", "check-totals", "--reference", str(reference)])
    assert off.exit_code == 2
    assert "1 of 2 years and codes differ from totals.csv by more than 2%: 2022 810520" in (
        " ".join(off.output.split())
    )
