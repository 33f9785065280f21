"""Betweenness of countries in a trade network, with trade volumes turned into distances."""

from __future__ import annotations

import networkx as nx

__all__ = ["top_countries", "trade_betweenness"]


def trade_betweenness(G: nx.DiGraph) -> dict[str, float]:
    """Normalised directed betweenness with distance ``1 / weight`` on each link.

    Trap: networkx reads an edge weight in shortest paths as a *distance*, so passing trade
    volumes directly makes the heaviest trade routes the longest and sends shortest paths
    around them. Here each link's distance is ``1 / weight``: a heavy flow is a short hop.
    (Scaling every weight, e.g. tonnes to kilograms, scales every distance alike, so the
    ranking does not depend on the unit.)

    Parameters
    ----------
    G : networkx.DiGraph
        Links weighted by ``weight`` > 0; ``G`` is not modified.

    Returns
    -------
    dict
        Country -> share of the other ordered pairs' shortest paths through it
        (networkx's normalisation ``1 / ((n - 1) (n - 2))``).

    Examples
    --------
    A ships 10 through hub H to C and 1 directly. With distances 1/w the route through H
    (0.1 + 0.1) is shorter than the direct link (1), so H carries the pair A -> C; with raw
    volumes as distances it would not.

    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([("A", "H", 10.0), ("H", "C", 10.0), ("A", "C", 1.0)])
    >>> trade_betweenness(G)
    {'A': 0.0, 'H': 0.5, 'C': 0.0}
    >>> nx.betweenness_centrality(G, weight="weight")["H"]
    0.0
    """
    distances = nx.DiGraph()
    distances.add_nodes_from(G)
    distances.add_weighted_edges_from(
        ((u, v, 1.0 / w) for u, v, w in G.edges(data="weight")), weight="distance"
    )
    scores: dict[str, float] = nx.betweenness_centrality(distances, weight="distance")
    return scores


def top_countries(scores: dict[str, float], k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` highest positive scores, ties broken by country code.

    Zeros are left out: a country no shortest path crosses is not "in the top five".

    >>> top_countries({"A": 0.1, "B": 0.5, "C": 0.1, "D": 0.0}, k=2)
    [('B', 0.5), ('A', 0.1)]
    >>> top_countries({"A": 0.0})
    []
    """
    positive = [(code, score) for code, score in scores.items() if score > 0]
    return sorted(positive, key=lambda item: (-item[1], item[0]))[:k]
