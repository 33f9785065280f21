"""Trade flows as a networkx directed graph: the input of every network measure."""

from __future__ import annotations

import networkx as nx
import pandas as pd

__all__ = ["trade_digraph"]


def trade_digraph(flows: pd.DataFrame, min_weight: float = 0.0) -> nx.DiGraph:
    """A directed graph with one link per exporter and importer, weighted by the quantity.

    Parameters
    ----------
    flows : DataFrame
        Columns ``exporter``, ``importer``, ``quantity`` (one unit throughout). Duplicate pairs
        are summed; self-loops are dropped.
    min_weight : float, optional
        Links weighing this or less are left out. A cascade that cuts a link to zero can leave
        a floating-point residue of ~1e-16 of its weight; a threshold relative to the network's
        total weight keeps such a link counted as cut.

    Returns
    -------
    networkx.DiGraph
        Countries (with at least one link) as nodes; ``weight`` on each link.

    Examples
    --------
    >>> flows = pd.DataFrame({"exporter": ["A", "A", "B", "C"], "importer": ["B", "B", "C", "C"],
    ...                       "quantity": [1.0, 2.0, 1e-15, 5.0]})
    >>> G = trade_digraph(flows, min_weight=1e-9)
    >>> sorted(G.edges(data="weight"))
    [('A', 'B', 3.0)]
    """
    summed = (
        flows.loc[flows["exporter"] != flows["importer"]]
        .groupby(["exporter", "importer"], as_index=False)["quantity"]
        .sum()
    )
    kept = summed.loc[summed["quantity"] > min_weight]
    G = nx.DiGraph()
    G.add_weighted_edges_from(
        zip(kept["exporter"], kept["importer"], kept["quantity"].astype(float), strict=True)
    )
    return G
