"""All network measures of one trade network, and several networks side by side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx
import pandas as pd

from critmin.analysis.metrics.centrality import top_countries, trade_betweenness
from critmin.analysis.metrics.clustering import average_clustering
from critmin.analysis.metrics.concentration import hhi, top_share
from critmin.analysis.metrics.digraph import trade_digraph
from critmin.analysis.metrics.paths import average_path_length
from critmin.analysis.metrics.structure import total_weight, weighted_reciprocity
from critmin.units import Unit

__all__ = ["MEASURES", "NetworkMeasures", "network_measures", "side_by_side"]

#: Each measure: what it is, and its unit ("" for counts, shares and indices).
MEASURES: dict[str, tuple[str, str]] = {
    "countries": ("countries with at least one link", ""),
    "links": ("directed links with positive weight", ""),
    "density": ("links / (countries x (countries - 1))", ""),
    "total_weight": ("sum of link weights", "unit"),
    "avg_path_length": ("mean hops over reachable ordered pairs", ""),
    "reachable_share": ("share of ordered pairs with a directed path", ""),
    "avg_clustering": ("mean directed clustering, unweighted (zeros included)", ""),
    "avg_clustering_weighted": ("mean directed clustering, weights / max weight", ""),
    "reciprocity": ("share of links whose reverse link exists", ""),
    "weighted_reciprocity": ("sum min(w_ij, w_ji) / sum w_ij", ""),
    "export_hhi": ("HHI of export shares (0-1)", ""),
    "export_top3_share": ("share of the 3 largest exporters", ""),
    "top5_betweenness": ("highest positive betweenness, distance = 1 / weight", ""),
}


@dataclass(frozen=True)
class NetworkMeasures:
    """The measures of :data:`MEASURES` for one network; ``unit`` is its weights' unit."""

    unit: str
    countries: int
    links: int
    density: float
    total_weight: float
    avg_path_length: float
    reachable_share: float
    avg_clustering: float
    avg_clustering_weighted: float
    reciprocity: float
    weighted_reciprocity: float
    export_hhi: float
    export_top3_share: float
    top5_betweenness: tuple[tuple[str, float], ...]

    def as_properties(self, prefix: str) -> dict[str, Any]:
        """Flat Neo4j properties: ``<prefix>total_weight_t`` (the unit in the name), and the
        top five as two lists, ``<prefix>top5_betweenness`` (ISO3) and ``..._values``."""
        values = asdict(self)
        unit = Unit.of(values.pop("unit")).suffix
        top = values.pop("top5_betweenness")
        values[f"total_weight_{unit}"] = values.pop("total_weight")
        values["top5_betweenness"] = [code for code, _ in top]
        values["top5_betweenness_values"] = [float(score) for _, score in top]
        return {prefix + name: value for name, value in values.items()}


def network_measures(flows: pd.DataFrame, unit: str, min_weight: float = 0.0) -> NetworkMeasures:
    """Measure one trade network.

    Parameters
    ----------
    flows : DataFrame
        Columns ``exporter``, ``importer``, ``quantity`` in ``unit``.
    unit : {"t", "USD"}
        Unit of the quantities.
    min_weight : float, optional
        Links at or below this weight count as absent (see
        :func:`~critmin.analysis.metrics.digraph.trade_digraph`).

    Returns
    -------
    NetworkMeasures

    Examples
    --------
    COD ships 100 t to ZAF, which ships 60 t to CHN and 30 t to JPN; AUS ships 40 t to CHN.

    >>> flows = pd.DataFrame({"exporter": ["COD", "ZAF", "ZAF", "AUS"],
    ...                       "importer": ["ZAF", "CHN", "JPN", "CHN"],
    ...                       "quantity": [100.0, 60.0, 30.0, 40.0]})
    >>> m = network_measures(flows, "t")
    >>> m.countries, m.links, m.density, m.total_weight
    (5, 4, 0.2, 230.0)
    >>> m.avg_path_length, m.reachable_share
    (1.3333333333333333, 0.3)
    >>> m.top5_betweenness[0]
    ('ZAF', 0.16666666666666666)
    """
    G = trade_digraph(flows, min_weight)
    n = G.number_of_nodes()
    path = average_path_length(G)
    exports = pd.Series(dict(G.out_degree(weight="weight")), dtype=float)
    return NetworkMeasures(
        unit=unit,
        countries=n,
        links=G.number_of_edges(),
        density=float(nx.density(G)) if n > 1 else float("nan"),
        total_weight=total_weight(G),
        avg_path_length=path.mean,
        reachable_share=path.reachable_share,
        avg_clustering=average_clustering(G, weighted=False),
        avg_clustering_weighted=average_clustering(G, weighted=True),
        reciprocity=float(nx.overall_reciprocity(G)) if G.number_of_edges() else float("nan"),
        weighted_reciprocity=weighted_reciprocity(G),
        export_hhi=hhi(exports),
        export_top3_share=top_share(exports),
        top5_betweenness=tuple(top_countries(trade_betweenness(G), k=5)),
    )


def side_by_side(columns: Mapping[str, NetworkMeasures]) -> pd.DataFrame:
    """One row per measure, one column per network (e.g. ``before``, ``after 50%``).

    Examples
    --------
    >>> flows = pd.DataFrame({"exporter": ["A"], "importer": ["B"], "quantity": [5.0]})
    >>> table = side_by_side({"before": network_measures(flows, "t")})
    >>> table.loc[table["measure"] == "total_weight", ["unit", "before"]].to_numpy().tolist()
    [['t', 5.0]]
    """
    units = {m.unit for m in columns.values()}
    if len(units) > 1:
        raise ValueError(f"networks in different units cannot sit side by side: {units}")
    unit = units.pop() if units else ""
    table = pd.DataFrame(
        {
            "measure": list(MEASURES),
            "unit": [unit if kind == "unit" else "" for _, kind in MEASURES.values()],
            "description": [text for text, _ in MEASURES.values()],
        }
    )
    for label, measures in columns.items():
        values = asdict(measures)
        values["top5_betweenness"] = ", ".join(
            f"{code} {score:.3f}" for code, score in measures.top5_betweenness
        )
        table[label] = [values[name] for name in MEASURES]
    return table
