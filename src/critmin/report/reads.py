"""The few reads the report needs beyond ``store.results`` and the analysts' query library.

Everything here is about single-source runs of one commodity and mode, the population of the
study's tables (coalition and targeted runs answer another question and are left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from critmin.analysis.comparison import PARAMETER_NAMES
from critmin.analysis.queries import run_query
from critmin.loader.commodities import CommodityGroup
from critmin.store.graph import GraphStore
from critmin.store.results import NoScenarios

__all__ = [
    "country_names",
    "data_sources",
    "failed_by_year",
    "panel_countries",
    "parameter_sets",
    "run_properties",
]

PARAMETER_SETS = """
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE size(s.sources) = 1 AND size(s.targets) = 0
RETURN s.parameters AS key, s.unit AS unit, s.model_version AS model_version,
       [name IN $names | s[name]] AS values, collect(DISTINCT s.run_id) AS run_ids,
       collect(DISTINCT s.shock) AS shocks, count(*) AS scenarios,
       min(s.year) AS first_year, max(s.year) AS last_year, max(s.created_at) AS created_at
ORDER BY created_at DESC
"""

NAMES = "MATCH (c:Country) RETURN c.iso3 AS iso3, c.name AS name"

PANEL = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
WHERE $first <= t.year <= $last AND any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
UNWIND [e.iso3, i.iso3] AS country
RETURN DISTINCT country ORDER BY country
"""

RUN = "MATCH (r:Run {id: $run_id}) RETURN properties(r) AS run"

SOURCES = """
MATCH ()-[t:TRADES]->()
WHERE any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
RETURN 'TRADES' AS relationship, t.source AS source, min(t.year) AS first_year,
       max(t.year) AS last_year, count(*) AS rows
UNION ALL
MATCH (:Country)-[p:PRODUCED]->(:Commodity {id: $production})
RETURN 'PRODUCED' AS relationship, p.source AS source, min(p.year) AS first_year,
       max(p.year) AS last_year, count(*) AS rows
"""


def failed_by_year(
    store: GraphStore,
    commodity: str,
    sources: Sequence[str],
    shock: float,
    run_ids: Sequence[str],
    mode: str = "export",
) -> pd.DataFrame:
    """``year, source, n_failed``: the runs of ``sources`` at ``shock`` in the sweeps ``run_ids``.

    Restricting to the sweeps of one parameter set keeps the curves on the tables' runs.
    """
    columns = ["year", "source", "n_failed"]
    frames = [
        run_query(
            store,
            "source_failed_by_year",
            {"commodity": commodity, "source": code, "mode": mode, "run_id": run_id},
        ).assign(source=code)
        for code in sources
        for run_id in run_ids
    ]
    rows = pd.concat(
        [f for f in frames if not f.empty] or [pd.DataFrame(columns=[*columns, "shock"])]
    )
    return rows.loc[rows["shock"] == float(shock), columns].reset_index(drop=True)


def parameter_sets(store: GraphStore, commodity: str, mode: str = "export") -> pd.DataFrame:
    """Each parameter set of the stored runs, the most recently written first.

    Columns: ``key`` (``Scenario.parameters``, the canonical JSON that tells sets apart),
    ``unit``, ``model_version``, one column per cascade parameter, ``run_ids``, ``shocks``
    (largest first), ``scenarios``, ``first_year``, ``last_year``, ``created_at``.

    Raises
    ------
    NoScenarios
        When no single-source scenario of ``commodity`` and ``mode`` is stored.
    """
    frame = store.query(PARAMETER_SETS, commodity=commodity, mode=mode, names=list(PARAMETER_NAMES))
    if frame.empty:
        raise NoScenarios(
            f"no stored {mode} scenarios for {commodity}: run "
            f"`critmin simulate --commodity {commodity}` first"
        )
    values = pd.DataFrame(
        frame["values"].tolist(), columns=list(PARAMETER_NAMES), index=frame.index
    )
    sets = pd.concat([frame.drop(columns="values"), values], axis=1)
    sets["shocks"] = [sorted(map(float, shocks), reverse=True) for shocks in sets["shocks"]]
    sets["run_ids"] = [sorted(ids) for ids in sets["run_ids"]]
    return sets


def run_properties(store: GraphStore, run_id: str) -> dict[str, Any]:
    """The ``(:Run)`` node of a sweep (its command, measure, keep_share...), empty if absent."""
    rows = store.records(RUN, run_id=run_id)
    return dict(rows[0]["run"]) if rows else {}


def data_sources(store: GraphStore, group: CommodityGroup) -> pd.DataFrame:
    """Which loaded data sources fed the group's networks and production, with their years."""
    return store.query(
        SOURCES, prefixes=list(group.hs_codes), production=group.production_commodity or ""
    )


def country_names(store: GraphStore) -> dict[str, str]:
    """Country names by ISO3 code, as loaded."""
    frame = store.query(NAMES)
    return {
        str(code): str(name)
        for code, name in zip(frame.get("iso3", []), frame.get("name", []), strict=True)
        if name is not None
    }


def panel_countries(store: GraphStore, group: CommodityGroup, first: int, last: int) -> list[str]:
    """Every country trading the group's codes in ``first``-``last`` (the study's N countries)."""
    frame = store.query(PANEL, prefixes=list(group.hs_codes), first=int(first), last=int(last))
    return [str(code) for code in frame.get("country", [])]
