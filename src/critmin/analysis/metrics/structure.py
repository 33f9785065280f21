"""Size and reciprocity of a trade network: how many links, how heavy, how mutual."""

from __future__ import annotations

import networkx as nx

__all__ = ["total_weight", "weighted_reciprocity"]


def total_weight(G: nx.DiGraph) -> float:
    """Sum of the link weights: the network's total trade, in its unit.

    Examples
    --------
    >>> G = nx.DiGraph([("A", "B", {"weight": 4.0}), ("B", "A", {"weight": 1.0})])
    >>> total_weight(G)
    5.0
    """
    return float(sum(w for _, _, w in G.edges(data="weight", default=0.0)))


def weighted_reciprocity(G: nx.DiGraph) -> float:
    """Share of the trade weight that flows back: ``sum min(w_ij, w_ji) / sum w_ij``.

    The weighted counterpart of :func:`networkx.overall_reciprocity` (Squartini et al. 2013,
    Phys. Rev. E 88, 062806): 1 when every link is matched by an equal one back, 0 when no
    link has a reverse. NaN for a network without links.

    Examples
    --------
    A ships 4 to B and B ships 1 back: 1 of 4 is returned each way, so 2 of 5 is reciprocated.

    >>> G = nx.DiGraph([("A", "B", {"weight": 4.0}), ("B", "A", {"weight": 1.0}),
    ...                 ("B", "C", {"weight": 5.0})])
    >>> weighted_reciprocity(G)
    0.2
    """
    total = total_weight(G)
    if total == 0:
        return float("nan")
    mutual = sum(
        min(w, G[v][u]["weight"]) for u, v, w in G.edges(data="weight") if G.has_edge(v, u)
    )
    return float(mutual / total)
