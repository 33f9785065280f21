"""Average shortest path length of a directed trade network that need not be connected."""

from __future__ import annotations

from typing import NamedTuple

import networkx as nx

__all__ = ["PathLength", "average_path_length"]


class PathLength(NamedTuple):
    """Mean hop count over reachable ordered pairs, and the share of pairs that are reachable."""

    mean: float
    reachable_share: float


def average_path_length(G: nx.DiGraph) -> PathLength:
    """Average number of hops from an exporter to the countries it can reach.

    :func:`networkx.average_shortest_path_length` refuses a directed graph that is not strongly
    connected, and trade networks rarely are (a pure importer reaches nobody). Here the mean is
    taken over the ordered pairs ``(u, v)``, ``u != v``, with a directed path from ``u`` to
    ``v``, and ``reachable_share`` says what share of all ``n (n - 1)`` pairs those are, so a
    network that falls apart cannot look "closer". Paths count hops: weights are ignored.

    Parameters
    ----------
    G : networkx.DiGraph

    Returns
    -------
    PathLength
        ``mean`` (NaN when no pair is reachable) and ``reachable_share`` (NaN for fewer than
        two countries).

    Examples
    --------
    A chain A -> B -> C: A reaches B in 1 hop and C in 2, B reaches C in 1; 3 of 6 pairs.

    >>> average_path_length(nx.DiGraph([("A", "B"), ("B", "C")]))
    PathLength(mean=1.3333333333333333, reachable_share=0.5)
    """
    n = G.number_of_nodes()
    hops = [
        d
        for source, lengths in nx.all_pairs_shortest_path_length(G)
        for target, d in lengths.items()
        if target != source
    ]
    mean = sum(hops) / len(hops) if hops else float("nan")
    share = len(hops) / (n * (n - 1)) if n > 1 else float("nan")
    return PathLength(float(mean), float(share))
