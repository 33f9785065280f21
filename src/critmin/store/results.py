"""Reading stored scenarios back as the reference study's tables.

Both tables are computed from the ``(:Scenario)`` nodes of single-source runs of one
commodity, shock size and mode (coalition runs are left out: they answer another question).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from critmin.store.graph import GraphStore

SINGLE_SOURCE_RUNS = """
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years)
RETURN s.id AS scenario, s.year AS year, s.sources[0] AS source, s.n_failed AS n_failed,
       s.n_panel AS n_panel, s.unit AS unit, s.parameters AS parameters,
       s.created_at AS created_at
"""

LOSSES = """
MATCH (s:Scenario)-[i:IMPACTS]->(c:Country)
WHERE s.id IN $ids
RETURN c.iso3 AS country, c.name AS name, s.id AS scenario,
       coalesce(i.demand_loss_t, i.demand_loss_usd) AS demand_loss, i.failed AS failed
"""


class NoScenarios(LookupError):
    """No stored scenarios match the request."""


def _runs(
    store: GraphStore,
    commodity: str,
    shock: float,
    mode: str,
    years: list[int] | None,
    where: Mapping[str, object] | None,
) -> pd.DataFrame:
    """The single-source runs of one parameter set.

    Scenarios made with other parameters (another alpha, fail_abs, ...) answer another question
    and are never mixed in: ``where`` picks the parameter set (e.g. ``{"alpha": 0.5}``); without
    it, the most recently written set is used.
    """
    runs = store.query(
        SINGLE_SOURCE_RUNS, commodity=commodity, shock=float(shock), mode=mode, years=years
    )
    if runs.empty:
        raise NoScenarios(
            f"no stored {mode} scenarios for {commodity} at shock {shock:g}: run "
            f"`critmin simulate --commodity {commodity} --shock {shock:g}` first"
        )
    keys = {key: json.loads(key) for key in runs["parameters"].unique()}
    wanted = [k for k, p in keys.items() if all(p.get(n) == v for n, v in (where or {}).items())]
    if not wanted:
        sets = "; ".join(keys)
        raise NoScenarios(f"no {commodity} scenarios with {dict(where or {})}; stored sets: {sets}")
    latest = runs[runs["parameters"].isin(wanted)].sort_values("created_at").iloc[-1]
    return runs[runs["parameters"] == latest["parameters"]].reset_index(drop=True)


def source_table(
    store: GraphStore,
    commodity: str,
    shock: float,
    mode: str = "export",
    years: list[int] | None = None,
    where: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Table 1/2 of the study: rank, source, total failed, average failure rate, years active.

    Average failure rate = total failed / (Y * N): Y the number of years with scenarios,
    N the number of countries in the panel (``Scenario.n_panel``).
    """
    runs = _runs(store, commodity, shock, mode, years, where)
    n_years = runs["year"].nunique()
    n_panel = int(runs["n_panel"].max())
    table = (
        runs.groupby("source")
        .agg(total_failed=("n_failed", "sum"), years_active=("year", "nunique"))
        .reset_index()
    )
    table["failure_rate"] = table["total_failed"] / (n_years * n_panel)
    table = table.sort_values(["total_failed", "source"], ascending=[False, True])
    table.insert(0, "rank", range(1, len(table) + 1))
    context = {
        "commodity": commodity,
        "shock": shock,
        "mode": mode,
        "years": n_years,
        "first_year": int(runs["year"].min()),
        "last_year": int(runs["year"].max()),
        "panel_countries": n_panel,
        "runs": len(runs),
        "unit": str(runs["unit"].iloc[0]),
        "parameters": runs["parameters"].iloc[0],
    }
    return table[["rank", "source", "total_failed", "failure_rate", "years_active"]], context


def loss_table(
    store: GraphStore,
    commodity: str,
    shock: float,
    mode: str = "export",
    years: list[int] | None = None,
    where: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Average demand loss per country: over all runs, and over the runs that hit it."""
    runs = _runs(store, commodity, shock, mode, years, where)
    impacts = store.query(LOSSES, ids=list(runs["scenario"]))
    hit = impacts[impacts["demand_loss"] > 0]
    table = (
        hit.groupby(["country", "name"])
        .agg(
            total_loss=("demand_loss", "sum"),
            runs_hit=("scenario", "nunique"),
            times_failed=("failed", "sum"),
        )
        .reset_index()
    )
    table["mean_loss_all_runs"] = table["total_loss"] / len(runs)
    table["mean_loss_when_hit"] = table["total_loss"] / table["runs_hit"]
    table = table.sort_values("mean_loss_all_runs", ascending=False)
    table.insert(0, "rank", range(1, len(table) + 1))
    context = {
        "commodity": commodity,
        "shock": shock,
        "mode": mode,
        "runs": len(runs),
        "unit": str(runs["unit"].iloc[0]),
        "first_year": int(runs["year"].min()),
        "last_year": int(runs["year"].max()),
        "parameters": runs["parameters"].iloc[0],
    }
    columns = [
        "rank",
        "country",
        "name",
        "mean_loss_all_runs",
        "mean_loss_when_hit",
        "runs_hit",
        "times_failed",
    ]
    return table[columns], context
