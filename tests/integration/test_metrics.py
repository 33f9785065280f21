"""`critmin metrics` against a real Neo4j: docs/model.md's worked example, stored and measured.

2020: Congo ships 100 t to South Africa (60 t as HS 2605, 40 t as HS 8105), South Africa ships
50 t to China; Congo produces 100 t, Australia 30 t. 2021 adds 25 t from Australia to China.
After Congo's exports stop completely nothing flows (South Africa cuts its only export); after
half of them stop, South Africa still imports 50 t and China ends with 50 - 38.095 t (the
model's worked example), so the network keeps 2 links weighing 61.905 t.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.loader.commodities import CommodityGroup
from critmin.simulator import TradeNetwork, sweep
from critmin.store.graph import GraphStore
from critmin.store.loading import PRODUCED, TRADES, apply_plan, plan_load
from critmin.store.networks import read_panel
from critmin.store.scenario_writes import RunInfo, write_sweep

pytestmark = pytest.mark.integration

GROUP = CommodityGroup("cobalt", "Cobalt", ("2605", "8105"), "cobalt")
NAMES = {"COD": "Congo (DRC)", "ZAF": "South Africa", "CHN": "China", "AUS": "Australia"}
COMMODITIES = [
    {
        "id": "cobalt",
        "name": "Cobalt",
        "hs_codes": ["2605", "8105"],
        "production_commodity": "cobalt",
    }
]
FLOWS = [
    (2020, "COD", "ZAF", "2605", 60.0),
    (2020, "COD", "ZAF", "8105", 40.0),
    (2020, "ZAF", "CHN", "8105", 50.0),
    (2021, "COD", "ZAF", "2605", 100.0),
    (2021, "ZAF", "CHN", "8105", 50.0),
    (2021, "AUS", "CHN", "2605", 25.0),
]


@pytest.fixture(scope="module")
def scenario_ids(session_store: GraphStore) -> dict[tuple[str, float], str]:
    """Congo at 100% and 50% in 2020 (alpha 0.8); the ids by (run, shock)."""
    store = session_store
    store.wipe()  # also forgets that the schema marker was written (it goes with the rest)
    trades = pd.DataFrame(
        [
            {
                "year": y,
                "exporter": e,
                "importer": i,
                "hs": hs,
                "tonnes": t,
                "value_usd": t * 30_000.0,
                "source": "test",
            }
            for y, e, i, hs, t in FLOWS
        ]
    )
    production = pd.DataFrame(
        [
            {"year": y, "country": c, "commodity": "cobalt", "tonnes": t, "source": "test"}
            for y in (2020, 2021)
            for c, t in (("COD", 100.0), ("AUS", 30.0))
        ]
    )
    apply_plan(store, plan_load(store, TRADES, trades, NAMES, COMMODITIES))
    apply_plan(store, plan_load(store, PRODUCED, production, NAMES, COMMODITIES))
    panel = read_panel(store, GROUP, [2020], "tonnes")
    net = TradeNetwork.from_frames(panel.year_flows(2020), panel.year_production(2020))
    ids: dict[tuple[str, float], str] = {}
    for run, alpha, fractions in (("main", 0.8, (1.0, 0.5)), ("alt", 0.5, (1.0,))):
        result = sweep({2020: net}, fractions=fractions, sources=["COD"], alpha=alpha)
        info = RunInfo(
            run, "test", "cobalt", "t", {"alpha": alpha}, 4, {2020: panel.data_version(2020)}
        )
        written = write_sweep(store, result.runs, result.impacts, result.transmitted, info)
        ids.update({(run, f): i for f, i in zip(result.runs["fraction"], written, strict=True)})
    return ids


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


def scenario(store: GraphStore, scenario_id: str) -> dict[str, Any]:
    rows = store.records("MATCH (s:Scenario {id: $id}) RETURN properties(s) AS p", id=scenario_id)
    return dict(rows[0]["p"])


@pytest.mark.usefixtures("neo4j_env")
def test_before_and_after_stored_scenarios(
    scenario_ids: dict[tuple[str, float], str], session_store: GraphStore, tmp_path: Path
) -> None:
    full, half = scenario_ids[("main", 1.0)], scenario_ids[("main", 0.5)]
    out = tmp_path / "compare.csv"
    shown = invoke("metrics", "--scenario", half, "--scenario", full, "--csv", str(out))
    assert shown.exit_code == 0, shown.output
    assert "cobalt 2020: network before and after" in shown.output
    assert f"stored the measures on 2 scenario(s): {half}, {full}" in shown.output
    table = pd.read_csv(out, comment="#").set_index("measure")
    assert list(table.columns) == [
        "unit",
        "description",
        "before",
        "after 50% COD",
        "after 100% COD",
    ]
    assert table.loc["total_weight", "unit"] == "t"
    assert float(table.loc["total_weight", "before"]) == 150.0  # the two HS codes summed
    assert float(table.loc["links", "after 100% COD"]) == 0
    assert float(table.loc["total_weight", "after 50% COD"]) == pytest.approx(61.905, abs=1e-3)
    stored_full, stored_half = scenario(session_store, full), scenario(session_store, half)
    assert stored_full["metrics_before_links"] == 2 and stored_full["metrics_after_links"] == 0
    assert stored_full["metrics_after_top5_betweenness"] == []
    assert stored_half["metrics_after_total_weight_t"] == pytest.approx(61.905, abs=1e-3)
    assert stored_half["metrics_before_top5_betweenness"] == ["ZAF"]  # on the only 2-hop path
    assert stored_half["metrics_engine"] == "reference"


@pytest.mark.usefixtures("neo4j_env")
def test_by_source_finds_stored_runs_or_runs_fresh_ones(
    scenario_ids: dict[tuple[str, float], str], session_store: GraphStore
) -> None:
    both = invoke("metrics", "--commodity", "cobalt", "--year", "2020", "--source", "COD")
    assert both.exit_code == 2 and "differ in their parameters" in both.output  # alpha 0.8 and 0.5
    fresh = invoke(
        "metrics",
        "--commodity",
        "cobalt",
        "--year",
        "2020",
        "--source",
        "COD",
        "--shock",
        "0.5",
        "--shock",
        "0.25",
        "--no-save",
    )
    assert fresh.exit_code == 0, fresh.output
    assert "after 25% COD: no stored scenario" in fresh.output
    assert scenario_ids[("main", 0.5)] in fresh.output
    assert "metrics_computed_at" not in scenario(session_store, scenario_ids[("alt", 1.0)])


@pytest.mark.usefixtures("neo4j_env", "scenario_ids")
def test_network_alone_in_usd(tmp_path: Path) -> None:
    out = tmp_path / "usd.csv"
    shown = invoke(
        "metrics", "--commodity", "cobalt", "--year", "2021", "--measure", "usd", "--csv", str(out)
    )
    assert shown.exit_code == 0, shown.output
    table = pd.read_csv(out, comment="#").set_index("measure")
    assert table.loc["total_weight", "unit"] == "USD"
    assert float(table.loc["total_weight", "before"]) == 175 * 30_000.0
    assert float(table.loc["export_hhi", "before"]) == pytest.approx(
        (100**2 + 50**2 + 25**2) / 175**2
    )


@pytest.mark.usefixtures("neo4j_env", "scenario_ids")
def test_yearly_concentration(tmp_path: Path) -> None:
    out = tmp_path / "concentration.csv"
    shown = invoke("metrics", "concentration", "--commodity", "cobalt", "--csv", str(out))
    assert shown.exit_code == 0, shown.output
    table = pd.read_csv(out, comment="#").set_index("year")
    assert table.loc[2020, "exporter_hhi"] == pytest.approx(5 / 9)  # 100 t and 50 t
    assert table.loc[2020, "top_exporter"] == "COD 67%, ZAF 33%"
    assert table.loc[2021, "exporter_hhi"] == pytest.approx((100**2 + 50**2 + 25**2) / 175**2)
    assert table.loc[2020, "producer_hhi"] == pytest.approx((100**2 + 30**2) / 130**2)
    assert table.loc[2021, "total_exports_t"] == 175.0
    only = invoke("metrics", "concentration", "--commodity", "cobalt", "--years", "2021")
    assert only.exit_code == 0 and "2021" in only.output and "2020" not in only.output


@pytest.mark.usefixtures("neo4j_env", "scenario_ids")
def test_unknown_scenario_is_one_line() -> None:
    missing = invoke("metrics", "--scenario", "sc_nothing")
    assert missing.exit_code == 2 and "no scenario 'sc_nothing'" in missing.output
