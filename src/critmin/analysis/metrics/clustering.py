"""Average clustering of a directed trade network, with or without weights."""

from __future__ import annotations

import networkx as nx

__all__ = ["average_clustering"]


def average_clustering(G: nx.DiGraph, weighted: bool = True) -> float:
    """Mean directed clustering coefficient over all countries (Fagiolo 2007).

    Every directed triangle through a country counts, whatever the directions of its links
    (networkx's directed clustering). With ``weighted=True`` each triangle counts by the
    geometric mean of its three link weights divided by the network's largest weight, so a
    triangle of small flows adds little; unweighted, a triangle counts 1 whatever it carries.
    Countries with fewer than two partners count as 0 (they are in the mean).

    Parameters
    ----------
    G : networkx.DiGraph
        Links weighted by ``weight``.
    weighted : bool, optional
        Use the normalised weights (default) or only the links' presence.

    Returns
    -------
    float
        NaN for a network without countries.

    Examples
    --------
    A cycle A -> B -> C -> A: each country sits on 2 of the 4 directed triangles its two
    partners allow, so 0.5 unweighted; with weights 8, 1 and 1 each triangle weighs
    (1 * 1/8 * 1/8) ** (1/3) = 0.25 of a full one.

    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([("A", "B", 8.0), ("B", "C", 1.0), ("C", "A", 1.0)])
    >>> average_clustering(G, weighted=False)
    0.5
    >>> round(average_clustering(G), 12)
    0.125
    """
    if G.number_of_nodes() == 0:
        return float("nan")
    return float(nx.average_clustering(G, weight="weight" if weighted else None))
