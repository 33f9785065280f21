"""Critical paths of one stored scenario: along which chains its loss reached the countries it hit
hardest, and which transit hubs it passed through on the way.

The chains follow the scenario's stored TRANSMITS (loss that moved from one country to another,
both with the trade and against it when an importer asked its suppliers for more). For each of the
most hit countries the path kept is the *widest* one from the source: the path whose weakest hop
carries the most loss (ties: fewer hops, then codes). The widest paths from one source form a tree
(each country has one best parent), so the picture has no crossing duplicates.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

import pandas as pd

__all__ = ["CriticalPaths", "critical_paths", "widest_tree"]


@dataclass(frozen=True)
class Node:
    parent: str | None
    bottleneck: float
    hops: int


def widest_tree(edges: pd.DataFrame, source: str) -> dict[str, Node]:
    """Every country reachable from ``source`` over ``edges`` (``from, to, quantity``), with its
    parent on the widest path, that path's bottleneck (smallest hop) and its hops.

    Examples
    --------
    >>> edges = pd.DataFrame({"from": ["S", "S", "A", "B"], "to": ["A", "B", "C", "C"],
    ...                       "quantity": [10.0, 4.0, 6.0, 4.0]})
    >>> tree = widest_tree(edges, "S")
    >>> {k: (v.parent, v.bottleneck, v.hops) for k, v in sorted(tree.items())}
    ... # doctest: +NORMALIZE_WHITESPACE
    {'A': ('S', 10.0, 1), 'B': ('S', 4.0, 1), 'C': ('A', 6.0, 2),
     'S': (None, inf, 0)}
    """
    out: dict[str, list[tuple[str, float]]] = {}
    for a, b, q in zip(edges["from"], edges["to"], edges["quantity"], strict=True):
        if a != b and q is not None and float(q) > 0:
            out.setdefault(str(a), []).append((str(b), float(q)))
    best: dict[str, Node] = {}
    heap: list[tuple[float, int, str, str | None]] = [(-float("inf"), 0, source, None)]
    while heap:
        width, hops, code, parent = heapq.heappop(heap)
        if code in best:
            continue
        best[code] = Node(parent, -width, hops)
        for target, quantity in out.get(code, []):
            if target not in best:
                heapq.heappush(heap, (-min(-width, quantity), hops + 1, target, code))
    return best


@dataclass(frozen=True)
class CriticalPaths:
    """The widest paths of one scenario to its most hit countries.

    ``paths`` maps each target (most hit first) to its path, source first; ``hops`` lists the
    hops drawn (``from, to, quantity, share``); ``hubs`` the countries a path passes through
    (neither its source nor its end), with what they received and passed on in this scenario;
    ``unreached`` the most hit countries no stored path reaches (loss that came over hops below
    the run's ``keep_share``).
    """

    source: str
    targets: list[str]
    paths: dict[str, list[str]]
    hops: pd.DataFrame
    hubs: pd.DataFrame
    unreached: list[str]

    def table(self, impacts: pd.DataFrame, initial_shock: float) -> pd.DataFrame:
        """One row per target: its loss, whether it failed, the path and its bottleneck."""
        hit = impacts.set_index("country")
        quantity = {
            (a, b): q for a, b, q in self.hops[["from", "to", "quantity"]].itertuples(False)
        }
        rows = []
        for target in self.targets:
            path = self.paths[target]
            steps = [quantity[(a, b)] for a, b in itertools.pairwise(path)]
            rows.append(
                {
                    "country": target,
                    "demand_loss": float(hit.at[target, "demand_loss"]),
                    "failed": "yes" if bool(hit.at[target, "failed"]) else "no",
                    "path": " → ".join(path),
                    "hop_losses": "; ".join(f"{q:,.0f}" if q >= 100 else f"{q:.3g}" for q in steps),
                    "bottleneck_share": min(steps) / initial_shock if initial_shock > 0 else None,
                }
            )
        return pd.DataFrame(rows)


def critical_paths(
    impacts: pd.DataFrame, edges: pd.DataFrame, source: str, n_targets: int = 6
) -> CriticalPaths:
    """The widest paths from ``source`` to the ``n_targets`` countries with the largest demand
    loss in a scenario (``impacts``: ``country, demand_loss, gross_hit, failed``; ``edges``:
    ``from, to, quantity, share``, as :func:`critmin.store.scenario_reads.scenario_cascade`).

    Examples
    --------
    >>> impacts = pd.DataFrame({"country": ["S", "A", "B", "C"],
    ...     "demand_loss": [0.0, 2.0, 4.0, 10.0], "gross_hit": [0.0, 10.0, 4.0, 10.0],
    ...     "failed": [False, True, True, True]})
    >>> edges = pd.DataFrame({"from": ["S", "S", "A", "B"], "to": ["A", "B", "C", "C"],
    ...     "quantity": [10.0, 4.0, 6.0, 4.0], "share": [0.71, 0.29, 0.43, 0.29]})
    >>> found = critical_paths(impacts, edges, "S", n_targets=2)
    >>> found.paths, found.hubs["country"].tolist(), found.hubs["share_passed_on"].tolist()
    ({'C': ['S', 'A', 'C'], 'B': ['S', 'B']}, ['A'], [0.8])
    """
    tree = widest_tree(edges, source)
    hit = impacts[(impacts["country"] != source) & (impacts["demand_loss"].astype(float) > 0)]
    ranked = hit.sort_values(["demand_loss", "country"], ascending=[False, True])
    chosen = [str(c) for c in ranked["country"].head(n_targets)]
    targets = [c for c in chosen if c in tree]
    paths: dict[str, list[str]] = {}
    for target in targets:
        path = [target]
        while (parent := tree[path[-1]].parent) is not None:
            path.append(parent)
        paths[target] = path[::-1]
    pairs = {(a, b) for path in paths.values() for a, b in itertools.pairwise(path)}
    keyed = edges.assign(pair=list(zip(edges["from"], edges["to"], strict=True)))
    hops = (
        keyed[keyed["pair"].isin(pairs)]
        .drop(columns="pair")
        .groupby(["from", "to"], as_index=False)[["quantity", "share"]]
        .sum()
    )
    through = sorted({c for path in paths.values() for c in path[1:-1]})
    hubs = impacts[impacts["country"].isin(through)][["country", "gross_hit", "demand_loss"]].copy()
    hubs["passed_on"] = (hubs["gross_hit"] - hubs["demand_loss"]).clip(lower=0.0)
    received = hubs["gross_hit"].where(hubs["gross_hit"] > 0)
    hubs["share_passed_on"] = (hubs["passed_on"] / received).round(6)
    hubs = hubs.sort_values(["passed_on", "country"], ascending=[False, True])
    return CriticalPaths(
        source=source,
        targets=targets,
        paths=paths,
        hops=hops,
        hubs=hubs.reset_index(drop=True),
        unreached=[c for c in chosen if c not in tree],
    )
