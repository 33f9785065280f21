"""Network measures on small networks computed by hand (no database)."""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd
import pytest

from critmin.analysis.metrics import (
    average_clustering,
    average_path_length,
    concentration_table,
    hhi,
    network_measures,
    side_by_side,
    top_countries,
    top_share,
    trade_betweenness,
    trade_digraph,
    weighted_reciprocity,
)


def frame(*links: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(links, columns=["exporter", "importer", "quantity"])


# A <-> B (2 each way), B -> C (4), C -> D (1): a chain with one mutual pair and no triangle.
CHAIN = frame(("A", "B", 2.0), ("B", "A", 2.0), ("B", "C", 4.0), ("C", "D", 1.0))


def test_measures_of_a_chain_by_hand() -> None:
    m = network_measures(CHAIN, "t")
    assert (m.countries, m.links, m.total_weight) == (4, 4, 9.0)
    assert m.density == pytest.approx(4 / 12)
    # Reachable: A->B 1, A->C 2, A->D 3, B->A 1, B->C 1, B->D 2, C->D 1 (D reaches nobody).
    assert m.avg_path_length == pytest.approx(11 / 7)
    assert m.reachable_share == pytest.approx(7 / 12)
    assert m.avg_clustering == 0.0 and m.avg_clustering_weighted == 0.0
    assert m.reciprocity == 0.5
    assert m.weighted_reciprocity == pytest.approx(4 / 9)
    # Exports A 2, B 6, C 1 of 9.
    assert m.export_hhi == pytest.approx((4 + 36 + 1) / 81)
    assert m.export_top3_share == pytest.approx(1.0)
    # B carries A->C and A->D, C carries A->D and B->D: 2 of the (4-1)(4-2) = 6 pairs each.
    assert m.top5_betweenness == (("B", pytest.approx(1 / 3)), ("C", pytest.approx(1 / 3)))


def test_digraph_sums_codes_drops_self_loops_and_residues() -> None:
    G = trade_digraph(
        frame(("A", "B", 1.0), ("A", "B", 2.5), ("A", "A", 9.0), ("B", "C", 1e-14)), 1e-9
    )
    assert list(G.edges(data="weight")) == [("A", "B", 3.5)]


def test_path_length_of_degenerate_networks() -> None:
    empty = average_path_length(nx.DiGraph())
    assert math.isnan(empty.mean) and math.isnan(empty.reachable_share)
    apart = nx.DiGraph()
    apart.add_nodes_from(["A", "B"])
    lonely = average_path_length(apart)
    assert math.isnan(lonely.mean) and lonely.reachable_share == 0.0
    cycle = average_path_length(nx.DiGraph([("A", "B"), ("B", "C"), ("C", "A")]))
    assert cycle == (1.5, 1.0)  # each country reaches one partner in 1 hop and one in 2


def test_clustering_of_triangles() -> None:
    mutual = nx.DiGraph()
    mutual.add_weighted_edges_from((u, v, 3.0) for u in "ABC" for v in "ABC" if u != v)
    assert average_clustering(mutual, weighted=False) == pytest.approx(1.0)
    assert average_clustering(mutual) == pytest.approx(1.0)  # equal weights: no discount
    cycle = nx.DiGraph()
    cycle.add_weighted_edges_from([("A", "B", 8.0), ("B", "C", 1.0), ("C", "A", 1.0)])
    # 2 directed triangles of 4 possible per country; weighted by (1 * 1/8 * 1/8) ** (1/3).
    assert average_clustering(cycle, weighted=False) == pytest.approx(0.5)
    assert average_clustering(cycle) == pytest.approx(0.125)
    cycle.add_node("D")  # an isolated country counts as 0 in the mean
    assert average_clustering(cycle, weighted=False) == pytest.approx(0.375)
    assert math.isnan(average_clustering(nx.DiGraph()))


def test_betweenness_uses_inverse_volumes_and_ignores_the_unit() -> None:
    hub = frame(("A", "H", 10.0), ("H", "C", 10.0), ("A", "C", 1.0))
    G = trade_digraph(hub)
    assert trade_betweenness(G) == {"A": 0.0, "H": 0.5, "C": 0.0}
    kilograms = trade_digraph(hub.assign(quantity=hub["quantity"] * 1000))
    assert trade_betweenness(kilograms) == trade_betweenness(G)
    light = trade_digraph(frame(("A", "H", 1.0), ("H", "C", 1.0), ("A", "C", 10.0)))
    assert trade_betweenness(light)["H"] == 0.0  # the heavy direct link is the short one
    assert sorted(G.edges(data="weight")) == [("A", "C", 1.0), ("A", "H", 10.0), ("H", "C", 10.0)]


def test_top_countries_keep_positive_scores_in_order() -> None:
    assert top_countries({"B": 0.2, "A": 0.2, "C": 0.0, "D": 0.5}, k=5) == [
        ("D", 0.5),
        ("A", 0.2),
        ("B", 0.2),
    ]


def test_weighted_reciprocity() -> None:
    G = trade_digraph(frame(("A", "B", 3.0), ("B", "A", 1.0)))
    assert weighted_reciprocity(G) == pytest.approx(2 / 4)
    assert math.isnan(weighted_reciprocity(nx.DiGraph()))


def test_concentration_indices() -> None:
    assert hhi(pd.Series([50.0, 50.0, 0.0])) == pytest.approx(0.5)
    assert hhi(pd.Series([7.0])) == 1.0
    assert math.isnan(hhi(pd.Series([0.0]))) and math.isnan(top_share(pd.Series([], dtype=float)))
    assert top_share(pd.Series([5.0, 3.0, 1.0, 1.0]), k=2) == pytest.approx(0.8)


def test_concentration_table_by_year() -> None:
    flows = pd.DataFrame(
        {
            "year": [2020, 2020, 2021],
            "exporter": ["COD", "ZAF", "COD"],
            "importer": ["CHN", "CHN", "CHN"],
            "quantity": [75.0, 25.0, 10.0],
        }
    )
    production = pd.DataFrame(
        {"year": [2020, 2020], "country": ["COD", "AUS"], "quantity": [90.0, 10.0]}
    )
    table = concentration_table(flows, production, "USD").set_index("year")
    assert table.loc[2020, "exporters"] == 2
    assert table.loc[2020, "exporter_hhi"] == pytest.approx(0.75**2 + 0.25**2)
    assert table.loc[2020, "top_exporter"] == "COD 75%, ZAF 25%"
    assert table.loc[2020, "total_exports_usd"] == 100.0
    assert table.loc[2020, "producer_hhi"] == pytest.approx(0.82)
    assert table.loc[2021, "exporter_hhi"] == 1.0
    assert table.loc[2021, "producers"] == 0 and math.isnan(table.loc[2021, "producer_hhi"])
    assert math.isnan(table.loc[2021, "total_production_t"])


def test_properties_carry_the_unit_and_flatten_the_top_five() -> None:
    props = network_measures(CHAIN, "USD").as_properties("metrics_after_")
    assert props["metrics_after_total_weight_usd"] == 9.0
    assert "metrics_after_total_weight" not in props and "metrics_after_unit" not in props
    assert props["metrics_after_top5_betweenness"] == ["B", "C"]
    assert props["metrics_after_top5_betweenness_values"] == pytest.approx([1 / 3, 1 / 3])
    assert all(isinstance(v, int | float | str | list) for v in props.values())


def test_side_by_side_keeps_one_unit() -> None:
    before = network_measures(CHAIN, "t")
    after = network_measures(CHAIN.iloc[:2], "t")
    table = side_by_side({"before": before, "after": after}).set_index("measure")
    assert table.loc["links", "before"] == 4 and table.loc["links", "after"] == 2
    assert table.loc["total_weight", "unit"] == "t" and table.loc["density", "unit"] == ""
    assert table.loc["top5_betweenness", "before"] == "B 0.333, C 0.333"
    with pytest.raises(ValueError, match="different units"):
        side_by_side({"before": before, "after": network_measures(CHAIN, "USD")})


def test_an_emptied_network_measures_as_empty() -> None:
    m = network_measures(frame(("A", "B", 0.0)), "t")
    assert (m.countries, m.links, m.total_weight, m.top5_betweenness) == (0, 0, 0.0, ())
    assert all(math.isnan(x) for x in (m.density, m.avg_path_length, m.reciprocity, m.export_hhi))
