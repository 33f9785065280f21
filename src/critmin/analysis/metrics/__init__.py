"""Network measures of trade networks (networkx-based): one module per family of measures.

Every function takes a :class:`networkx.DiGraph` whose links carry a ``weight`` (build one from
flows with :func:`trade_digraph`) or plain quantities, and states how it treats directions,
weights and disconnected networks.
"""

from critmin.analysis.metrics.centrality import top_countries, trade_betweenness
from critmin.analysis.metrics.clustering import average_clustering
from critmin.analysis.metrics.concentration import concentration_table, hhi, top_share
from critmin.analysis.metrics.digraph import trade_digraph
from critmin.analysis.metrics.paths import PathLength, average_path_length
from critmin.analysis.metrics.structure import total_weight, weighted_reciprocity
from critmin.analysis.metrics.summary import (
    MEASURES,
    NetworkMeasures,
    network_measures,
    side_by_side,
)

__all__ = [
    "MEASURES",
    "NetworkMeasures",
    "PathLength",
    "average_clustering",
    "average_path_length",
    "concentration_table",
    "hhi",
    "network_measures",
    "side_by_side",
    "top_countries",
    "top_share",
    "total_weight",
    "trade_betweenness",
    "trade_digraph",
    "weighted_reciprocity",
]
