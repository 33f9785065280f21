"""Every query of cypher/ against a real Neo4j holding a small network whose answers
are known.

The network (tonnes; value_usd = 30,000 USD per tonne), years 2020 and 2021:

    COD --100 t (80 t in 2021)--> ZAF --60 t (40 of them as HS 810520)--> CHN <--40 t-- AUS
                                  ZAF --30 t--> JPN          CHN <--5 t-- JPN --...
                                                CHN --10 t--> JPN  (CHN and JPN trade both ways)
    CHN --999 t of HS 7601 (aluminium)--> JPN: not cobalt, must be ignored.
    Production: COD 120 t, AUS 50 t, ZAF 5 t.

South Africa is the transit hub: it imports all its cobalt from Congo and re-exports it to
China and Japan. Answers about trade are checked against sums done by hand; answers about
scenarios against the sweep (and the reference engine) run on the same network, and against
the model's own identities (sum of losses = initial shock).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.analysis.comparison import compare, load_run, save_measures
from critmin.analysis.queries import load_library, run_query
from critmin.loader.commodities import CommodityGroup
from critmin.simulator import Shock, SweepResult, TradeNetwork, simulate, sweep
from critmin.simulator.sweep import ChainSweepResult, chain_sweep
from critmin.store.graph import GraphStore
from critmin.store.loading import PRODUCED, TRADES, apply_plan, plan_load
from critmin.store.networks import read_panel
from critmin.store.scenario_writes import RunInfo, write_sweep

pytestmark = pytest.mark.integration

GROUP = CommodityGroup("cobalt", "Cobalt", ("2605", "8105"), "cobalt")
NAMES = {
    "COD": "Congo (DRC)",
    "ZAF": "South Africa",
    "CHN": "China",
    "JPN": "Japan",
    "AUS": "Australia",
}
COMMODITIES = [
    {
        "id": "cobalt",
        "name": "Cobalt",
        "hs_codes": ["2605", "8105"],
        "production_commodity": "cobalt",
    }
]
USD_PER_TONNE = 30_000.0
RUN, ALT_RUN = "run_main", "run_alpha_half"

F = TypeVar("F", bound=Callable[..., Any])
COVERED: set[str] = set()


def covers(*names: str) -> Callable[[F], F]:
    """Mark a test as checking the answers of these library queries."""
    COVERED.update(names)
    return lambda test: test


def trades(year: int, from_congo: float) -> list[dict[str, Any]]:
    rows = [
        ("COD", "ZAF", "2605", from_congo),
        ("ZAF", "CHN", "810520", 40.0),
        ("ZAF", "CHN", "2605", 20.0),
        ("ZAF", "JPN", "8105", 30.0),
        ("AUS", "CHN", "2605", 40.0),
        ("CHN", "JPN", "8105", 10.0),
        ("JPN", "CHN", "8105", 5.0),
        ("CHN", "JPN", "7601", 999.0),
    ]
    return [
        {
            "year": year,
            "exporter": e,
            "importer": i,
            "hs": hs,
            "tonnes": t,
            "value_usd": t * USD_PER_TONNE,
            "source": "test",
        }
        for e, i, hs, t in rows
    ]


@dataclass
class Graph:
    store: GraphStore
    result: SweepResult
    networks: dict[int, TradeNetwork]
    ids: dict[tuple[int, str, float], str]
    alt_id: str

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        return run_query(self.store, name, params)


@pytest.fixture(scope="module")
def graph(session_store: GraphStore) -> Graph:
    store = session_store
    store.wipe()  # also forgets that the schema marker was written (it goes with the rest)
    flows = pd.DataFrame(trades(2020, 100.0) + trades(2021, 80.0))
    production = pd.DataFrame(
        [
            {"year": y, "country": c, "commodity": "cobalt", "tonnes": t, "source": "test"}
            for y in (2020, 2021)
            for c, t in (("COD", 120.0), ("AUS", 50.0), ("ZAF", 5.0))
        ]
    )
    apply_plan(store, plan_load(store, TRADES, flows, NAMES, COMMODITIES))
    apply_plan(store, plan_load(store, PRODUCED, production, NAMES, COMMODITIES))
    panel = read_panel(store, GROUP, [2020, 2021], "tonnes")
    networks = {
        y: TradeNetwork.from_frames(panel.year_flows(y), panel.year_production(y), unit="t")
        for y in panel.years
    }
    versions = {y: panel.data_version(y) for y in panel.years}
    # keep_share=0 stores every TRANSMITS, so derived flows can be checked exactly.
    result = sweep(networks, fractions=(1.0, 0.5), keep_share=0.0, fail_abs=1e-3)
    params = {"alpha": 0.8, "fail_abs": 1e-3, "mode": "export"}
    n_panel, n_years = len(panel.countries), len(panel.years)
    info = RunInfo(
        RUN, "test", "cobalt", "t", params, n_panel, versions, n_years=n_years, is_study=True
    )
    tables = result.tables(panel.countries)
    ids = write_sweep(store, result.runs, result.impacts, result.transmitted, info, tables)
    keys = zip(result.runs["year"], result.runs["sources"], result.runs["fraction"], strict=True)
    # A second sweep with other parameters: the same definition but alpha 0.5.
    alt = sweep({2020: networks[2020]}, fractions=(1.0,), sources=["COD"], alpha=0.5, fail_abs=1e-3)
    alt_params = {**params, "alpha": 0.5}
    alt_info = RunInfo(ALT_RUN, "test", "cobalt", "t", alt_params, 5, versions, kind="selection")
    alt_tables = alt.tables(panel.countries)
    [alt_id] = write_sweep(store, alt.runs, alt.impacts, alt.transmitted, alt_info, alt_tables)
    return Graph(store, result, networks, dict(zip(keys, ids, strict=True)), alt_id)


def near(expected: Any) -> Any:
    """Equal up to the library's rounding for reading (tonnes and shares to 3 decimals)."""
    if expected is None or isinstance(expected, str | bool):
        return expected
    if isinstance(expected, list | tuple) and not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in expected
    ):
        return expected
    return pytest.approx(expected, rel=1e-3, abs=1e-3)


def runs_at(result: SweepResult, fraction: float) -> pd.DataFrame:
    return result.runs[result.runs["fraction"] == fraction]


def impacts_of(result: SweepResult, year: int, source: str, fraction: float) -> pd.DataFrame:
    imp = result.impacts
    chosen = (imp["year"] == year) & (imp["sources"] == source) & (imp["fraction"] == fraction)
    return imp[chosen].set_index("country")


def test_every_query_file_has_a_header_and_a_test() -> None:
    library = load_library()  # raises on a file without a complete header
    assert set(library) == COVERED, f"untested: {set(library) - COVERED}"


@covers("top_risk_sources")
def test_top_risk_sources(graph: Graph) -> None:
    table = graph.query("top_risk_sources", commodity="cobalt", shock=1.0, run_id=RUN)
    expected = runs_at(graph.result, 1.0).groupby("sources")["n_failed"].sum()
    ranks = expected.rank(method="min", ascending=False).astype(int)  # ties share a rank
    assert dict(zip(table["source"], table["rank"], strict=True)) == ranks.to_dict()
    assert dict(zip(table["source"], table["total_failed"], strict=True)) == expected.to_dict()
    assert table["total_failed"].is_monotonic_decreasing
    # The study's definition: total failed / (2 years x 5 countries in the panel).
    assert table["failure_rate"].tolist() == near((table["total_failed"] / 10).tolist())
    assert (
        set(table["years_active"]) == {2} and table.loc[0, "name"] == NAMES[table.loc[0, "source"]]
    )
    top = graph.query("top_risk_sources", commodity="cobalt", shock=1.0, limit=2.0)  # Browser
    assert len(top) == 2 and set(top["years"]) == {2}
    # Without run_id: the latest complete sweep of every source, never pooled with the
    # alpha-0.5 selection (which has its own table under its run_id).
    latest = graph.query("top_risk_sources", commodity="cobalt", shock=1.0)
    assert (
        set(latest["run_id"]) == {RUN}
        and latest["total_failed"].tolist() == table["total_failed"].tolist()
    )
    alt = graph.query("top_risk_sources", commodity="cobalt", shock=1.0, run_id=ALT_RUN)
    alt_failed = graph.store.records(
        "MATCH (s:Scenario {id: $id}) RETURN s.n_failed AS n", id=graph.alt_id
    )[0]["n"]
    assert alt[["source", "total_failed"]].values.tolist() == [["COD", alt_failed]]


@covers("source_failed_by_year")
def test_source_failed_by_year(graph: Graph) -> None:
    table = graph.query("source_failed_by_year", commodity="cobalt", source="COD", run_id=RUN)
    assert list(zip(table["year"], table["shock"], table["initial_shock"], strict=True)) == [
        (2020, 1.0, 100.0),
        (2021, 1.0, 80.0),
        (2020, 0.5, 50.0),
        (2021, 0.5, 40.0),
    ]
    runs = graph.result.runs[graph.result.runs["sources"] == "COD"]
    expected = runs.set_index(["year", "fraction"])["n_failed"]
    for year, shock, n_failed in zip(table["year"], table["shock"], table["n_failed"], strict=True):
        assert n_failed == expected[(year, shock)]
    assert table["failure_rate"].tolist() == near((table["n_failed"] / 4).tolist())
    assert set(table["unit"]) == {"t"}


@covers("most_exposed_countries")
def test_most_exposed_countries(graph: Graph) -> None:
    table = graph.query("most_exposed_countries", commodity="cobalt", shock=1.0, run_id=RUN)
    losses = graph.result.loss_table()
    expected = losses[losses["fraction"] == 1.0].set_index("country")
    got = table.set_index("country")
    assert list(got.index) == list(expected.index)  # same order: largest mean loss first
    for column in ("mean_loss_all_runs", "mean_loss_when_hit", "runs_hit"):
        assert got[column].tolist() == near(expected[column].tolist()), column
    assert set(table["n_runs"]) == {10} and set(table["unit"]) == {"t"}


@covers("exposure_by_source")
def test_exposure_by_source(graph: Graph) -> None:
    table = graph.query(
        "exposure_by_source", commodity="cobalt", country="JPN", shock=1.0, run_id=RUN
    ).set_index("source")
    imp = graph.result.impacts
    japan = imp[(imp["country"] == "JPN") & (imp["fraction"] == 1.0) & (imp["sources"] != "JPN")]
    totals = japan.groupby("sources")["demand_loss"].sum()
    totals = totals[totals > 0].sort_values(ascending=False)
    assert list(table.index) == list(totals.index)
    assert table["total_loss"].tolist() == near(totals.tolist())
    assert table["mean_loss"].tolist() == near((totals / 2).tolist())  # 2 years each
    assert table["share_of_country_loss"].sum() == near(1.0)
    assert "JPN" not in table.index


@covers("critical_paths")
def test_critical_paths(graph: Graph) -> None:
    scenario = graph.ids[(2020, "COD", 1.0)]
    table = graph.query("critical_paths", scenario=scenario, target="JPN", max_hops=3, min_share=0)
    trn = graph.result.transmitted
    edges = trn[(trn["year"] == 2020) & (trn["sources"] == "COD") & (trn["fraction"] == 1.0)]
    T = nx.DiGraph()
    T.add_weighted_edges_from(zip(edges["source"], edges["target"], edges["quantity"], strict=True))
    expected = sorted(
        (
            (min(T[u][v]["weight"] for u, v in pairwise(p)), len(p) - 1, p)
            for p in nx.all_simple_paths(T, "COD", "JPN", cutoff=3)
        ),
        key=lambda row: (-row[0], row[1], row[2]),
    )[:10]
    assert [tuple(p) for p in table["path"]] == [tuple(p) for _, _, p in expected]
    assert table["bottleneck"].tolist() == near([b for b, _, _ in expected])
    best = table.iloc[0]
    assert best["path"] == ["COD", "ZAF", "JPN"] and best["hop_losses"][0] == near(100.0)
    assert best["first_rounds"] == [0, 1] and best["bottleneck_share"] == near(
        best["bottleneck"] / 100.0
    )
    direct = graph.query("critical_paths", scenario=scenario, target="JPN", max_hops=1)
    assert direct.empty  # Congo passes no loss to Japan directly
    heavy = graph.query("critical_paths", scenario=scenario, target="ZAF", min_share=0.5)
    assert heavy["path"].tolist() == [["COD", "ZAF"]]


@covers("critical_paths_graph")
def test_critical_paths_graph_draws_only_the_paths(graph: Graph) -> None:
    scenario = graph.ids[(2020, "COD", 1.0)]
    params = {"scenario": scenario, "target": "JPN", "max_hops": 3.0, "min_share": 0.0}
    table = graph.query("critical_paths", **params)
    with graph.store.driver.session(database=graph.store.database) as session:
        cypher = load_library()["critical_paths_graph"].cypher
        paths = [r["p"] for r in session.run(cypher, {**params, "limit": 10.0})]
    codes = [[n["iso3"] for n in p.nodes] for p in paths]
    assert codes == table["path"].tolist()  # the same paths, heaviest first
    for path in paths:  # only this scenario's Impact nodes and TRANSMITS
        assert all(set(n.labels) == {"Impact"} for n in path.nodes)
        assert all(r.type == "TRANSMITS" for r in path.relationships)
    owners = graph.store.records(
        "UNWIND $ids AS id MATCH (s:Scenario)-[:HIT]->(h) WHERE elementId(h) = id "
        "RETURN DISTINCT s.id AS scenario",
        ids=[n.element_id for p in paths for n in p.nodes],
    )
    assert owners == [{"scenario": scenario}]


@covers("country_hits")
def test_country_hits_starts_from_the_country(graph: Graph) -> None:
    table = graph.query("country_hits", country="JPN", commodity="cobalt", shock=1.0)
    imp = graph.result.impacts
    hit = imp[(imp["country"] == "JPN") & (imp["fraction"] == 1.0) & (imp["sources"] != "JPN")]
    # Every scenario of both complete sweeps that hit Japan (the alpha-0.5 COD 2020 one too).
    assert len(table) == len(hit) + 1
    assert set(table["scenario"]) >= {
        graph.ids[(y, src, 1.0)] for y, src in zip(hit["year"], hit["sources"], strict=True)
    }
    assert table["demand_loss"].is_monotonic_decreasing
    only = graph.query("country_hits", country="JPN", commodity="cobalt", shock=1.0, run_id=RUN)
    assert len(only) == len(hit) and graph.alt_id not in set(only["scenario"])
    mine = hit.set_index(["year", "sources"])["demand_loss"]
    for row in only.itertuples():
        assert row.demand_loss == near(mine[(row.year, row.sources[0])])


@covers("transit_hubs")
def test_transit_hubs(graph: Graph) -> None:
    table = graph.query("transit_hubs", commodity="cobalt", shock=1.0, run_id=RUN)
    assert table.loc[0, "country"] == "ZAF"
    imp = graph.result.impacts
    imp = imp[(imp["fraction"] == 1.0) & (imp["country"] != imp["sources"])]
    trn = graph.result.transmitted
    trn = trn[(trn["fraction"] == 1.0) & (trn["source"] != trn["sources"])]
    got = table.set_index("country")
    received = imp.groupby("country")["gross_hit"].sum()
    passed = trn.groupby("source")["quantity"].sum()  # what each country passed onwards
    assert got["total_received"].to_dict() == near(received[got.index].to_dict())
    assert got["total_passed_on"].to_dict() == near(passed[got.index].to_dict())
    assert got["share_passed_on"].tolist() == near(
        (got["total_passed_on"] / got["total_received"]).tolist()
    )
    assert got["total_passed_on"].is_monotonic_decreasing


@covers("reexport_share")
def test_reexport_share(graph: Graph) -> None:
    table = graph.query("reexport_share", commodity="cobalt", year=2020)
    assert table["country"].tolist() == ["ZAF", "CHN", "JPN", "COD", "AUS"]
    zaf, chn = table.iloc[0], table.iloc[1]
    assert (zaf["imports"], zaf["exports"], zaf["production"], zaf["throughput"]) == (
        100,
        90,
        5,
        90,
    )
    assert zaf["pass_through"] == near(0.9) and zaf["reexport_share_max"] == 1.0
    assert zaf["reexport_share_min"] == near(85 / 90)
    assert (chn["imports"], chn["exports"]) == (105, 10)  # the 999 t of aluminium left out
    assert pd.isna(chn["production"]) and pd.isna(chn["reexport_share_min"])
    cod = table.iloc[3]
    assert (cod["pass_through"], cod["reexport_share_max"], cod["reexport_share_min"]) == (0, 0, 0)
    usd = graph.query("reexport_share", commodity="cobalt", year=2020, measure="value_usd")
    assert usd.loc[0, "exports"] == 90 * USD_PER_TONNE and set(usd["unit"]) == {"USD"}
    assert usd["reexport_share_min"].isna().all()


@covers("import_dependence")
def test_import_dependence(graph: Graph) -> None:
    table = graph.query("import_dependence", commodity="cobalt", year=2020).set_index("importer")
    assert list(table.index) == ["CHN", "ZAF", "JPN"]
    assert table.loc["CHN", "imports"] == 105 and table.loc["CHN", "n_suppliers"] == 3
    assert table.loc["CHN", "hhi"] == near((60**2 + 40**2 + 5**2) / 105**2)
    assert table.loc["CHN", "top_supplier"] == "ZAF"
    assert table.loc["CHN", "top_share"] == near(60 / 105)
    assert table.loc["ZAF", "hhi"] == 1.0 and table.loc["ZAF", "top_supplier"] == "COD"
    assert table.loc["JPN", "hhi"] == near(0.75**2 + 0.25**2)
    assert table["top3_share"].tolist() == near([1.0, 1.0, 1.0])


@covers("single_supplier_bottlenecks")
def test_single_supplier_bottlenecks(graph: Graph) -> None:
    strict = graph.query("single_supplier_bottlenecks", commodity="cobalt", year=2020)
    assert strict[["importer", "supplier", "share", "supplier_imports"]].values.tolist() == [
        ["ZAF", "COD", 1.0, 0.0]
    ]
    loose = graph.query("single_supplier_bottlenecks", commodity="cobalt", year=2020, threshold=0.7)
    assert loose[["importer", "supplier"]].values.tolist() == [["ZAF", "COD"], ["JPN", "ZAF"]]
    japan = loose.iloc[1]
    assert japan["share"] == 0.75 and japan["n_suppliers"] == 2
    assert japan["supplier_imports"] == 100.0  # Japan's main supplier only passes Congo's on


def final_flows(graph: Graph, source: str, fraction: float) -> pd.Series:
    """The exact flows after the 2020 scenario, from the reference engine."""
    result = simulate(
        graph.networks[2020], Shock(source, fraction), engine="reference", fail_abs=1e-3
    )
    assert result.final_flows is not None
    return result.final_flows.set_index(["exporter", "importer"])["quantity"]


@covers("scenario_changes")
@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_scenario_changes_match_the_final_flows(graph: Graph, fraction: float) -> None:
    table = graph.query("scenario_changes", scenario=graph.ids[(2020, "COD", fraction)])
    final = final_flows(graph, "COD", fraction)
    assert len(table) == 6 and table["weight_before"].sum() == 245.0
    for row in table.itertuples():
        exact = final.get((row.exporter, row.importer), 0.0)
        if {row.exporter, row.importer} == {"CHN", "JPN"}:  # they trade both ways
            assert row.status == "ambiguous" and pd.isna(row.weight_after)
            assert row.weight_after_min - 1e-9 <= exact <= row.weight_after_max + 1e-9
        else:
            assert row.weight_after == near(exact)
    congo = table[table["exporter"] == "COD"].iloc[0]
    expected_status = "cut" if fraction == 1.0 else "thinned"
    assert congo["status"] == expected_status
    assert congo["weight_after"] == near(100.0 * (1 - fraction))
    assert congo["loss_along"] == near(100.0 * fraction)


@covers("scenario_network_change")
def test_scenario_network_change_sums_the_links(graph: Graph) -> None:
    scenario = graph.ids[(2020, "COD", 1.0)]
    [summary] = graph.query("scenario_network_change", scenario=scenario).to_dict("records")
    links = graph.query("scenario_changes", scenario=scenario)
    counts = links["status"].value_counts()
    assert summary["links_before"] == 6 and summary["weight_before"] == 245.0
    for status in ("cut", "thinned", "grown", "unchanged", "ambiguous"):
        assert summary[f"links_{status}"] == counts.get(status, 0), status
    assert summary["weight_after_min"] == near(links["weight_after_min"].sum())
    assert summary["weight_after_max"] == near(links["weight_after_max"].sum())
    exact_total = final_flows(graph, "COD", 1.0).sum()
    assert summary["weight_after_min"] - 1e-9 <= exact_total <= summary["weight_after_max"] + 1e-9
    assert summary["sources"] == ["COD"] and summary["unit"] == "t"


@covers("shock_100_vs_50")
def test_shock_100_vs_50(graph: Graph) -> None:
    table = graph.query("shock_100_vs_50", commodity="cobalt", source="COD", year=2020)
    full = impacts_of(graph.result, 2020, "COD", 1.0)
    half = impacts_of(graph.result, 2020, "COD", 0.5)
    got = table.set_index("country")
    assert got.index.is_unique  # the alpha-0.5 complete cut has no half partner: not paired
    assert set(got.index) == set(full.index) | set(half.index)
    for country in got.index:
        assert got.loc[country, "loss_100"] == near(full["demand_loss"].get(country, 0.0))
        assert got.loc[country, "loss_50"] == near(half["demand_loss"].get(country, 0.0))
        assert got.loc[country, "failed_100"] == bool(full["failed"].get(country, False))
    assert set(table["initial_shock_100"]) == {100.0} and set(table["initial_shock_50"]) == {50.0}
    assert set(table["n_failed_100"]) == {int(full["failed"].sum())}


@covers("scenario_impacts")
def test_scenario_impacts(graph: Graph) -> None:
    table = graph.query("scenario_impacts", scenario=graph.ids[(2021, "ZAF", 0.5)])
    expected = impacts_of(graph.result, 2021, "ZAF", 0.5).sort_values(
        "demand_loss", ascending=False
    )
    assert table["country"].tolist() == list(expected.index)
    assert table["demand_loss"].tolist() == near(expected["demand_loss"].tolist())
    assert table["failed"].tolist() == expected["failed"].tolist()
    # The initial shock is half of South Africa's 60 + 30 t of exports, and (the model's
    # identity) every tonne of it ends as someone's demand loss.
    assert table["share_of_shock"].tolist() == near((table["demand_loss"] / 45).tolist())
    assert table["demand_loss"].sum() == near(45.0)


@covers("find_scenarios")
def test_find_scenarios(graph: Graph) -> None:
    found = graph.query("find_scenarios", commodity="cobalt", year=2020, source="COD")
    assert set(found["scenario"]) == {
        graph.ids[(2020, "COD", 1.0)],
        graph.ids[(2020, "COD", 0.5)],
        graph.alt_id,
    }
    half = graph.query("find_scenarios", commodity="cobalt", source="COD", shock=0.5)
    assert half["year"].tolist() == [2020, 2021] and set(half["alpha"]) == {0.8}
    assert len(graph.query("find_scenarios", commodity="cobalt")) == 21
    assert graph.query("find_scenarios", commodity="nickel").empty


@covers("sweeps")
def test_sweeps(graph: Graph) -> None:
    table = graph.query("sweeps", commodity=None).set_index("run_id")
    assert table.loc[RUN, "scenarios_stored"] == 20 and table.loc[ALT_RUN, "scenarios_stored"] == 1
    assert table.loc[RUN, "scenarios_planned"] == 20
    assert table.loc[RUN, "years"] == [2020, 2021] and table.loc[RUN, "shocks"] == [1.0, 0.5]
    assert (table.loc[RUN, "kind"], table.loc[ALT_RUN, "kind"]) == ("study", "selection")
    assert set(table["status"]) == {"complete"}
    assert json.loads(table.loc[ALT_RUN, "parameters"])["alpha"] == 0.5
    assert graph.query("sweeps", commodity="nickel").empty


@covers("network_metrics")
def test_network_metrics_reads_what_metrics_stored(graph: Graph) -> None:
    runs = [load_run(graph.store, graph.ids[(2020, "COD", f)]) for f in (1.0, 0.5)]
    comparison = compare(graph.store, GROUP, 2020, runs)
    save_measures(graph.store, comparison)
    table = graph.query("network_metrics", commodity="cobalt", source="COD")
    got = table.set_index(["shock", "measure"])
    for label, run in comparison.runs.items():
        after = comparison.after[label].as_properties("")
        before = comparison.before.as_properties("")
        for measure, value in after.items():
            assert got.loc[(run.shock, measure), "after"] == near(value), measure
            assert got.loc[(run.shock, measure), "before"] == near(before[measure])
    assert (
        got.loc[(1.0, "links"), "before"] == 6 and got.loc[(1.0, "total_weight_t"), "before"] == 245
    )
    assert graph.query("network_metrics", commodity="cobalt", year=2021).empty


# The CLI: `critmin query`.


def invoke(*args: str) -> Any:
    from critmin.cli.main import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})  # rich wraps at 80


@pytest.mark.usefixtures("neo4j_env")
def test_cli_prints_csv_and_json_of_a_query(graph: Graph, tmp_path: Path) -> None:
    args = ["query", "import_dependence", "--param", "commodity=cobalt", "-p", "year=2020"]
    csv = invoke(*args, "--format", "csv")
    assert csv.exit_code == 0, csv.output
    lines = csv.output.splitlines()
    assert lines[0].startswith("importer,name,imports,n_suppliers,hhi") and lines[1].startswith(
        "CHN,"
    )
    out = tmp_path / "deps.json"
    js = invoke(*args, "--format", "json", "--out", str(out))
    assert js.exit_code == 0, js.output
    payload = json.loads(js.output)
    assert payload["parameters"] == {
        "commodity": "cobalt",
        "year": 2020,
        "measure": "tonnes",
        "limit": 20,
    }
    assert [r["importer"] for r in payload["rows"]] == ["CHN", "ZAF", "JPN"]
    assert json.loads(out.read_text())["rows"][0]["n_suppliers"] == 3


@pytest.mark.usefixtures("neo4j_env")
def test_cli_table_joins_paths(graph: Graph) -> None:
    scenario = graph.ids[(2020, "COD", 1.0)]
    shown = invoke("query", "critical_paths", "-p", f"scenario={scenario}", "-p", "target=JPN")
    assert shown.exit_code == 0, shown.output
    assert "COD; ZAF; JPN" in shown.output and "critical_paths: " in shown.output


# The worked example of docs/model.md ("Supply chains"), with Congo as the miner M, China as the
# refiner R and Japan as the user U: M mines 100 and ships it to R; R refines 90 and ships 60
# to U. M stopping (stage 0, alpha 0.8) gives L^0 = {R: 100}, cut^1 = {R: 90} and
# L^1 = {R: 30, U: 60}.
CHAIN, CHAIN_RUN = "test_chain", "run_test_chain"


@pytest.fixture(scope="module")
def chain_graph(graph: Graph) -> ChainSweepResult:
    def flows(e: list[str], i: list[str], q: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"exporter": e, "importer": i, "quantity": q})

    def output(c: list[str], q: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"country": c, "quantity": q})

    ore = TradeNetwork.from_frames(
        flows(["COD"], ["CHN"], [100.0]), output(["COD"], [100.0]), unit="t_metal"
    )
    metal = TradeNetwork.from_frames(
        flows(["CHN"], ["JPN"], [60.0]), output(["CHN"], [90.0]), unit="t_metal"
    )
    result = chain_sweep({2020: [ore, metal]}, fractions=(1.0, 0.5), keep_share=0.0)
    params = {"alpha": 0.8, "mode": "export"}
    info = RunInfo(
        CHAIN_RUN, "test", CHAIN, "t_metal", params, 3, {2020: "test"}, chain=CHAIN,
        year_props={2020: {"stage_commodities": ["ore", "metal"], "estimated_stages": [1]}},
    )  # fmt: skip
    write_sweep(graph.store, result.runs, result.impacts, result.transmitted, info)
    return result


@covers("chain_paths")
def test_chain_paths_cross_the_stage_link(graph: Graph, chain_graph: ChainSweepResult) -> None:
    ask = {"chain": CHAIN, "year": 2020, "source": "COD", "min_share": 0.0}
    table = graph.query("chain_paths", **ask)
    assert table["path"].tolist() == [
        ["COD:0", "CHN:0", "CHN:1"],  # China's own refined metal: its output cut of 90
        ["COD:0", "CHN:0", "CHN:1", "JPN:1"],  # Japan's: the 60 China no longer ships
    ]
    assert table["hop_losses"].tolist() == [near([100.0, 90.0]), near([100.0, 90.0, 60.0])]
    assert table["bottleneck"].tolist() == near([90.0, 60.0])
    assert table["loser_loss"].tolist() == near([30.0, 60.0])
    assert table["refiners"].tolist() == [["CHN"], ["CHN"]]
    assert set(table["unit"]) == {"t_metal"} and set(table["preset"]) == {"paper"}
    assert table["estimated_stages"].tolist() == [[1], [1]]
    japan = graph.query("chain_paths", **ask, loser="JPN", max_hops=2.0)  # as Browser sends it
    assert japan.empty  # Japan is three hops from the mine
    half = graph.query("chain_paths", **{**ask, "shock": 0.5}, loser="JPN")
    imp = chain_graph.impacts
    stage1 = imp[(imp["fraction"] == 0.5) & (imp["source_stage"] == 0) & (imp["stage"] == 1)]
    stage1 = stage1.set_index("country")
    assert half["loser_loss"].iloc[0] == near(stage1.loc["JPN", "demand_loss"])
    assert stage1.loc["JPN", "demand_loss"] == pytest.approx(34.2857, abs=1e-4)
    assert half["hop_losses"].iloc[0][:2] == near([50.0, 45.0])


@covers("chain_refiners")
def test_chain_refiners_carry_the_cut(graph: Graph, chain_graph: ChainSweepResult) -> None:
    table = graph.query("chain_refiners", chain=CHAIN, year=2020, source="COD")
    assert table[["refiner", "from_stage", "to_stage", "stage_commodity"]].values.tolist() == [
        ["CHN", 0, 1, "metal"]
    ]
    row = table.iloc[0]
    assert [row["input_lost"], row["output_cut"], row["passed_on"], row["kept_loss"]] == near(
        [100.0, 90.0, 60.0, 30.0]
    )
    assert bool(row["estimated"]) and row["unit"] == "t_metal"
    half = graph.query("chain_refiners", chain=CHAIN, year=2020, source="COD", shock=0.5)
    assert [half.iloc[0]["input_lost"], half.iloc[0]["output_cut"]] == near([50.0, 45.0])
    # Stage 1 keeps the model's identity: what the refiner kept and passed on is its cut.
    assert half.iloc[0]["kept_loss"] == near(10.7143)


def test_chain_scenarios_store_each_stage(graph: Graph, chain_graph: ChainSweepResult) -> None:
    """One Scenario per source and source stage; Impacts by stage; TRANSMITS within a stage."""
    rows = graph.store.records(
        "MATCH (s:Scenario {commodity: $chain, shock: 1.0}) "
        "RETURN s.sources AS sources, s.source_stage AS origin, s.stages AS stages, "
        "s.stage_initial_shock_t_metal AS s0, s.stage_coupling_cut_t_metal AS cut "
        "ORDER BY origin",
        chain=CHAIN,
    )
    assert [(r["sources"], r["origin"], r["stages"]) for r in rows] == [
        (["COD"], 0, [0, 1]),
        (["CHN"], 1, [1]),
    ]
    assert rows[0]["s0"] == near([100.0, 90.0]) and rows[0]["cut"] == near([0.0, 90.0])
    crossing = graph.store.records(
        "MATCH (s:Scenario {commodity: $chain})-[:HIT]->(a:Impact)-[t:TRANSMITS]->(b:Impact) "
        "WHERE a.stage <> b.stage RETURN count(t) AS n",
        chain=CHAIN,
    )
    assert crossing[0]["n"] == 0
    single = graph.store.records(
        "MATCH (s:Scenario {commodity: 'cobalt'})-[:HIT]->(h:Impact) "
        "RETURN collect(DISTINCT h.stage) AS stages"
    )
    assert single[0]["stages"] == [0]  # single-stage runs are stage 0: one code path


def test_library_reads_contained_metal(graph: Graph, chain_graph: ChainSweepResult) -> None:
    """Scenarios in tonnes of contained metal (chains, policy files, --measure metal) answer the
    scenario-level queries with their numbers, not nulls: each query reads the metal property
    beside the tonnes and USD ones."""
    (row,) = graph.store.records(
        "MATCH (s:Scenario {commodity: $chain, shock: 1.0, source_stage: 0}) RETURN s.id AS id",
        chain=CHAIN,
    )
    impacts = graph.query("scenario_impacts", scenario=row["id"])
    assert impacts["demand_loss"].notna().all() and set(impacts["unit"]) == {"t_metal"}
    # Stage 0: China loses the 100 t of ore; stage 1: it keeps 30 t and Japan loses 60 t.
    assert impacts["demand_loss"].sum() == near(190.0)
    found = graph.query("find_scenarios", commodity=CHAIN, source="COD", shock=1.0)
    assert found["initial_shock"].tolist() == near([100.0])
    hits = graph.query("country_hits", country="JPN", commodity=CHAIN)
    assert hits["demand_loss"].notna().all()
    assert any(loss == pytest.approx(60.0) for loss in hits["demand_loss"])
