"""What the HTML report reads beyond the study tables: yearly failures of every source, one
scenario's stored cascade (its Impacts and TRANSMITS), the trade data's coverage per year and the
policy runs.

Reads only, parameters only; quantities come back in the unit of the run or scenario they were
stored with (column ``unit``), under unit-free column names.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from critmin.loader.commodities import CommodityGroup
from critmin.store.graph import GraphStore
from critmin.store.scenarios import check_schema

__all__ = [
    "CASCADE_EDGE_COLUMNS",
    "CASCADE_IMPACT_COLUMNS",
    "PARTIAL_SOURCE_MARK",
    "POLICY_RUN_COLUMNS",
    "POLICY_STOCK_COLUMNS",
    "policy_runs",
    "policy_stock",
    "run_scenario",
    "scenario_cascade",
    "trade_coverage",
    "yearly_failures",
]

#: What the loader appends to a flow's ``source`` when the file held each country's largest
#: partners only (``critmin.loader.baci_derived``: the atlas extract).
PARTIAL_SOURCE_MARK = "top flows"

CASCADE_IMPACT_COLUMNS = [
    "country",
    "source",
    "demand_loss",
    "gross_hit",
    "relative_loss",
    "failed",
    "first_round",
]
CASCADE_EDGE_COLUMNS = ["from", "to", "quantity", "share", "first_round"]
POLICY_RUN_COLUMNS = [
    "run_id",
    "name",
    "title",
    "file",
    "command",
    "unit",
    "years",
    "fractions",
    "scenarios",
    "finished_at",
]
POLICY_STOCK_COLUMNS = [
    "scenario",
    "year",
    "country",
    "demand_loss",
    "stock_drawn",
    "failed",
    "stock_needed",
    "stock_needed_months",
    "unit",
]

YEARLY_FAILURES = """
MATCH (:Run {id: $run_id})-[:INCLUDES]->(s:Scenario)
WHERE size(s.sources) = 1 AND s.shock = $shock AND size(coalesce(s.targets, [])) = 0
RETURN s.year AS year, s.sources[0] AS source, s.n_failed AS n_failed
ORDER BY year, source
"""

RUN_SCENARIO = """
MATCH (:Run {id: $run_id})-[:INCLUDES]->(s:Scenario {year: $year})
WHERE s.sources = [$source] AND s.shock = $shock AND size(coalesce(s.targets, [])) = 0
RETURN properties(s) AS props
ORDER BY s.created_at DESC, s.id
LIMIT 1
"""

CASCADE_IMPACTS = """
MATCH (s:Scenario {id: $scenario})-[:HIT]->(h:Impact)
RETURN h.iso3 AS country, coalesce(h.source, false) AS source,
       coalesce(h.demand_loss_t, h.demand_loss_usd, 0.0) AS demand_loss,
       coalesce(h.gross_hit_t, h.gross_hit_usd, 0.0) AS gross_hit,
       h.relative_loss AS relative_loss, coalesce(h.failed, false) AS failed,
       h.first_round AS first_round
ORDER BY demand_loss DESC, country
"""

CASCADE_EDGES = """
MATCH (s:Scenario {id: $scenario})-[:HIT]->(a:Impact)-[t:TRANSMITS]->(b:Impact)
RETURN a.iso3 AS from, b.iso3 AS to, coalesce(t.tonnes, t.value_usd) AS quantity,
       t.share AS share, t.first_round AS first_round
ORDER BY quantity DESC, from, to
"""

TRADE_COVERAGE = """
MATCH (:Country)-[t:TRADES]->(:Country)
WHERE $first <= t.year <= $last AND any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
RETURN t.year AS year, coalesce(t.source, 'not recorded') AS source, count(*) AS flows,
       count(t.tonnes) AS with_tonnes, sum(coalesce(t.value_usd, 0.0)) AS value_usd
ORDER BY year, source
"""

POLICY_RUNS = """
MATCH (r:Run {commodity: $commodity, kind: 'policy'})
WHERE r.status = 'complete'
RETURN r.id AS run_id, coalesce(r.scenario, r.id) AS name,
       coalesce(r.scenario_title, r.scenario, r.id) AS title, r.scenario_file AS file,
       r.command AS command, r.unit AS unit, r.years AS years, r.fractions AS fractions,
       r.n_scenarios AS scenarios, r.finished_at AS finished_at
ORDER BY r.finished_at DESC, r.id
"""

POLICY_STOCK = """
MATCH (:Run {id: $run_id})-[:INCLUDES]->(s:Scenario)-[:HIT]->(h:Impact)
WHERE coalesce(h.source, false) = false
WITH s, h, coalesce(h.demand_loss_t, h.demand_loss_usd, 0.0) AS loss,
     coalesce(h.stock_drawn_t, h.stock_drawn_usd, 0.0) AS drawn,
     coalesce(h.stock_needed_t, h.stock_needed_usd, 0.0) AS needed
WHERE loss > 0 OR drawn > 0 OR needed > 0
RETURN s.id AS scenario, s.year AS year, h.iso3 AS country, loss AS demand_loss,
       drawn AS stock_drawn, coalesce(h.failed, false) AS failed, needed AS stock_needed,
       h.stock_needed_months AS stock_needed_months, s.unit AS unit
ORDER BY year, needed DESC, loss DESC, country
"""


def yearly_failures(store: GraphStore, run_id: str, shock: float) -> pd.DataFrame:
    """``year, source, n_failed`` of every untargeted single-source scenario of one run."""
    check_schema(store)
    frame = store.query(YEARLY_FAILURES, run_id=run_id, shock=float(shock))
    if frame.empty:
        return pd.DataFrame({"year": [], "source": [], "n_failed": []})
    return frame


def run_scenario(
    store: GraphStore, run_id: str, source: str, year: int, shock: float
) -> dict[str, Any] | None:
    """The properties of the untargeted single-source scenario of ``run_id``, or None."""
    check_schema(store)
    rows = store.records(
        RUN_SCENARIO, run_id=run_id, source=source, year=int(year), shock=float(shock)
    )
    return dict(rows[0]["props"]) if rows else None


def scenario_cascade(store: GraphStore, scenario_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One stored scenario's cascade: its Impacts and its TRANSMITS.

    Returns ``impacts`` (columns :data:`CASCADE_IMPACT_COLUMNS`, largest demand loss first) and
    ``edges`` (:data:`CASCADE_EDGE_COLUMNS`: ``from`` passed ``quantity`` of loss to ``to``,
    ``share`` of the initial shock), both in the scenario's unit. Only the TRANSMITS above the
    run's ``keep_share`` were stored.
    """
    check_schema(store)
    impacts = store.query(CASCADE_IMPACTS, scenario=scenario_id)
    edges = store.query(CASCADE_EDGES, scenario=scenario_id)
    if impacts.empty:
        impacts = pd.DataFrame(columns=CASCADE_IMPACT_COLUMNS)
    if edges.empty:
        edges = pd.DataFrame(columns=CASCADE_EDGE_COLUMNS)
    return impacts, edges


def trade_coverage(store: GraphStore, group: CommodityGroup, first: int, last: int) -> pd.DataFrame:
    """Per year and data source of the group's flows: ``flows``, ``with_tonnes`` (flows that
    carry tonnes) and ``value_usd``; ``source`` as the loader recorded it."""
    frame = store.query(
        TRADE_COVERAGE, prefixes=list(group.hs_codes), first=int(first), last=int(last)
    )
    if frame.empty:
        return pd.DataFrame(columns=["year", "source", "flows", "with_tonnes", "value_usd"])
    return frame


def policy_runs(store: GraphStore, commodity: str) -> pd.DataFrame:
    """The complete runs of kind ``policy`` of a commodity (scenario files run by
    ``critmin scenario run``), newest first; an empty frame (columns
    :data:`POLICY_RUN_COLUMNS`) when there is none."""
    check_schema(store)
    frame = store.query(POLICY_RUNS, commodity=commodity)
    if frame.empty:
        return pd.DataFrame(columns=POLICY_RUN_COLUMNS)
    return frame


def policy_stock(store: GraphStore, run_id: str) -> pd.DataFrame:
    """Per scenario (year) of a policy run, every country it hurt or that drew on a stock:
    demand loss, stock drawn, failed, the stock it needed not to fail (0 when it did not fail)
    in the scenario's ``unit`` and in months of its demand. Columns
    :data:`POLICY_STOCK_COLUMNS`; the largest need first within a year; empty when none."""
    check_schema(store)
    frame = store.query(POLICY_STOCK, run_id=run_id)
    if frame.empty:
        return pd.DataFrame(columns=POLICY_STOCK_COLUMNS)
    return frame
