"""The sweep against Neo4j: scenarios written back, replaced on re-run, tables from the graph."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.pipeline import InvalidParameters, load_trades, run_sweep
from critmin.simulator import Shock, TradeNetwork, simulate
from critmin.store.graph import GraphStore
from critmin.store.results import NoScenarios, loss_table, source_table

pytestmark = pytest.mark.integration

# A source (AAA) ships to a hub (HUB) that re-exports to two importers; a second supplier (BBB).
FLOWS = """year,exporter,importer,hs,tonnes,value_usd
2022,COD,ZAF,260500,100,1000
2022,ZAF,CHN,260500,60,700
2022,ZAF,FIN,260500,30,350
2022,AUS,CHN,260500,20,240
2022,CHN,FIN,810520,10,400
2023,COD,ZAF,260500,120,1300
2023,ZAF,CHN,260500,70,800
2023,AUS,FIN,260500,25,300
"""

COUNTS = """
MATCH (s:Scenario {commodity: 'cobalt'})
OPTIONAL MATCH (s)-[i:IMPACTS]->()
WITH count(DISTINCT s) AS scenarios, count(i) AS impacts
MATCH ()-[t:TRANSMITS]->()
RETURN scenarios, impacts, count(t) AS transmits
"""


@pytest.fixture()
def loaded(store: GraphStore, tmp_path: Path) -> GraphStore:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])
    return store


def test_scenarios_match_the_simulator_and_rerun_replaces(loaded: GraphStore) -> None:
    outcome = run_sweep(loaded, "cobalt", command="test")
    runs = outcome.result.runs
    assert len(outcome.scenario_ids) == len(runs) == len(set(outcome.scenario_ids))
    first = loaded.records(COUNTS)

    again = run_sweep(loaded, "cobalt", command="test again")
    assert again.scenario_ids == outcome.scenario_ids  # deterministic ids
    assert loaded.records(COUNTS) == first  # replaced, not duplicated

    # COD's 2022 total ban, stored, equals a direct simulation of the same network.
    network = TradeNetwork.from_frames(
        pd.DataFrame(
            {
                "exporter": ["COD", "ZAF", "ZAF", "AUS", "CHN"],
                "importer": ["ZAF", "CHN", "FIN", "CHN", "FIN"],
                "quantity": [100.0, 60, 30, 20, 10],
            }
        )
    )
    direct = simulate(network, Shock("COD", 1.0))
    stored = loaded.query(
        "MATCH (s:Scenario {commodity: 'cobalt', year: 2022, shock: 1.0})-[i:IMPACTS]->(c) "
        "WHERE s.sources = ['COD'] RETURN c.iso3 AS country, i.demand_loss_t AS loss, "
        "i.failed AS failed, s.n_failed AS n_failed, s.initial_shock_t AS shock, s.unit AS unit"
    ).set_index("country")
    assert stored["unit"].iloc[0] == "t"
    assert stored["shock"].iloc[0] == pytest.approx(100.0)
    for country, loss in direct.demand_loss.items():
        if loss > 0:
            assert stored.loc[country, "loss"] == pytest.approx(loss, rel=1e-9)
    assert stored["n_failed"].iloc[0] == direct.n_failed


def test_graph_tables_equal_the_in_memory_tables(loaded: GraphStore) -> None:
    outcome = run_sweep(loaded, "cobalt")
    memory = outcome.result.source_table(outcome.panel.countries)
    for fraction in (1.0, 0.5):
        graph, context = source_table(loaded, "cobalt", fraction)
        mine = memory[memory["fraction"] == fraction].reset_index(drop=True)
        assert context["panel_countries"] == len(outcome.panel.countries) == 5
        assert list(graph["source"]) == list(mine["source"])
        assert list(graph["total_failed"]) == list(mine["total_failed"])
        assert graph["failure_rate"].tolist() == pytest.approx(mine["failure_rate"].tolist())
    losses, _ = loss_table(loaded, "cobalt", 1.0)
    in_memory = outcome.result.loss_table()
    in_memory = in_memory[in_memory["fraction"] == 1.0].set_index("country")
    for row in losses.itertuples():
        assert row.mean_loss_all_runs == pytest.approx(
            in_memory.loc[row.country, "mean_loss_all_runs"], rel=1e-9
        )


def test_other_parameters_make_other_scenarios_never_mixed(loaded: GraphStore) -> None:
    run_sweep(loaded, "cobalt", alpha=0.8)
    run_sweep(loaded, "cobalt", alpha=0.5)
    latest, context = source_table(loaded, "cobalt", 1.0)
    assert '"alpha": 0.5' in str(context["parameters"])
    chosen, context = source_table(loaded, "cobalt", 1.0, where={"alpha": 0.8})
    assert '"alpha": 0.8' in str(context["parameters"])
    assert chosen["total_failed"].sum() >= 0 and len(chosen) == len(latest)


def test_cli_load_simulate_results(store: GraphStore, neo4j_env: None, tmp_path: Path) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", "trades", str(flows)])
    assert loaded.exit_code == 0, loaded.output
    assert "TRADES: 8 new" in loaded.output
    ran = runner.invoke(app, ["simulate", "--commodity", "cobalt", "--years", "2022-2023"])
    assert ran.exit_code == 0, ran.output
    assert "Top risk sources" in ran.output and "unit t" in ran.output
    out = tmp_path / "t1.csv"
    table = runner.invoke(
        app, ["results", "sources", "--commodity", "cobalt", "--shock", "1.0", "--csv", str(out)]
    )
    assert table.exit_code == 0, table.output
    written = pd.read_csv(out, comment="#")
    assert written.loc[0, "source"] == "COD"
    header = out.read_text()
    assert "# years: 2\n" in header and "# panel_countries: 5\n" in header
    loss_csv = tmp_path / "losses.csv"
    losses = runner.invoke(
        app, ["results", "losses", "--commodity", "cobalt", "--csv", str(loss_csv)]
    )
    assert losses.exit_code == 0, losses.output
    assert "Most exposed countries" in losses.output
    columns = pd.read_csv(loss_csv, comment="#").columns
    assert {"mean_loss_all_runs_t", "mean_loss_when_hit_t", "runs_hit"} <= set(columns)


def test_cli_errors_are_one_line_without_traceback(
    store: GraphStore, neo4j_env: None, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("year,exporter,importer,hs,tonnes,value_usd\n2022,COD,CHN,260500,abc,1\n")
    result = CliRunner().invoke(app, ["load", "trades", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "abc" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["results", "sources", "--commodity", "cobalt"])
    assert missing.exit_code == 2 and "critmin simulate" in missing.output


def test_targeted_embargo_is_stored_apart_from_the_study_tables(loaded: GraphStore) -> None:
    outcome = run_sweep(loaded, "cobalt", years=[2022], sources=["ZAF"], targets=["CHN"])
    assert set(outcome.result.runs["initial_shock"]) == {60.0, 30.0}  # only ZAF -> CHN is cut
    stored = loaded.records(
        "MATCH (s:Scenario)-[k:SHOCKS]->(c:Country) "
        "RETURN s.targets AS targets, k.targets AS shock_targets, c.iso3 AS source"
    )
    assert stored and all(
        r == {"targets": ["CHN"], "shock_targets": ["CHN"], "source": "ZAF"} for r in stored
    )
    with pytest.raises(NoScenarios):  # Table 1 counts untargeted single-source runs only
        source_table(loaded, "cobalt", 1.0)
    with pytest.raises(InvalidParameters, match="targets"):
        run_sweep(loaded, "cobalt", years=[2022], sources=["ZAF"], targets=["XXX"])


def test_interrupted_write_back_leaves_only_whole_scenarios(
    loaded: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from critmin.store import scenarios

    outcome = run_sweep(loaded, "cobalt", write=False)
    result = outcome.result
    info = scenarios.RunInfo(
        id="run_interrupted",
        command="test",
        commodity="cobalt",
        unit="t",
        parameters=outcome.parameters,
        n_panel=len(outcome.panel.countries),
        data_versions={},
    )
    from critmin.store import graph

    monkeypatch.setattr(scenarios, "SCENARIOS_PER_TRANSACTION", 2)
    whole_unit = graph._run_all
    units = 0

    def ctrl_c_in_the_third_unit(tx, unit):  # type: ignore[no-untyped-def]
        # Ctrl-C arrives after the third transaction has deleted, upserted and created SHOCKS.
        nonlocal units
        units += 1
        if units == 3:
            whole_unit(tx, unit[:3])
            raise KeyboardInterrupt
        whole_unit(tx, unit)

    monkeypatch.setattr(graph, "_run_all", ctrl_c_in_the_third_unit)
    with pytest.raises(KeyboardInterrupt):
        scenarios.write_sweep(loaded, result.runs, result.impacts, result.transmitted, info)
    stored = loaded.query(
        "MATCH (s:Scenario) OPTIONAL MATCH (s)-[i:IMPACTS]->() "
        "RETURN s.year AS year, s.sources[0] AS sources, s.shock AS fraction, count(i) AS impacts"
    )
    assert len(stored) == 4 < len(result.runs)  # two whole transactions of two scenarios
    expected = result.impacts.groupby(["year", "sources", "fraction"]).size()
    for row in stored.itertuples():
        assert row.impacts == expected[(row.year, row.sources, row.fraction)]
