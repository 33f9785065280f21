"""Plan the library's queries ahead, so a server's first answers come at once.

Neo4j caches a query's plan by its text and the types of its parameters; planning the path
queries (six UNION branches in ``critical_paths``) takes seconds on a fresh server, running them
milliseconds. ``EXPLAIN`` plans a statement without running it and leaves the plan in the cache,
so :func:`warm_plans` sends ``EXPLAIN`` of every library query with the parameter types its
users send: Browser (every number a float; the guide's values, and the header's ``:params``
example) and ``critmin query`` (declared types; the example, and the defaults).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from critmin.analysis.queries import Query
from critmin.guide.build import browser_values, slide_params
from critmin.store.graph import GraphStore
from critmin.store.guide_reads import GuideFacts, explain_plan

__all__ = ["WarmReport", "parameter_typings", "warm_plans"]


@dataclass(frozen=True)
class WarmReport:
    """What :func:`warm_plans` planned: queries, statements sent, seconds, and any that failed."""

    queries: int
    statements: int
    seconds: float
    failed: tuple[str, ...] = ()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "list<" + ",".join(sorted({_kind(v) for v in value})) + ">"
    return type(value).__name__


def parameter_typings(query: Query, facts: GuideFacts | None) -> list[dict[str, Any]]:
    """Parameter sets of ``query`` with distinct types, as its users send them.

    >>> from critmin.analysis.queries import parse_query
    >>> q = parse_query("q", "// Q.\\n// @param limit: integer = 5  rows\\n"
    ...                      "// :params {limit: 5}\\nRETURN $limit")
    >>> parameter_typings(q, None)
    [{'limit': 5.0}, {'limit': 5}]
    """
    candidates: list[Mapping[str, Any]] = []
    if facts is not None:
        guide = slide_params(query, facts)
        candidates += [browser_values(guide), query.bind(guide)]
    candidates += [browser_values(query.example), query.bind(query.example)]
    required = {p.name: query.example[p.name] for p in query.parameters if p.required}
    candidates.append(query.bind(required))
    typings: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for params in candidates:
        key = tuple(sorted((name, _kind(value)) for name, value in params.items()))
        if key not in seen:
            seen.add(key)
            typings.append(dict(params))
    return typings


def warm_plans(
    store: GraphStore, library: Mapping[str, Query], facts: GuideFacts | None = None
) -> WarmReport:
    """``EXPLAIN`` every query of ``library`` with each of its parameter typings, both as
    Browser sends it (the body) and as ``critmin query`` sends it (the whole file)."""
    started = time.perf_counter()
    statements = 0
    failed: list[str] = []
    for query in library.values():
        try:
            for params in parameter_typings(query, facts):
                for text in (query.body, query.cypher):
                    explain_plan(store, text, params)
                    statements += 1
        except Exception as exc:  # a query that cannot plan: the others still do
            failed.append(f"{query.name}: {type(exc).__name__}: {exc}")
    return WarmReport(len(library), statements, time.perf_counter() - started, tuple(failed))
