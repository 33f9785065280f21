"""Reads of the scenario graph: runs, the sweep tables, single scenarios and their cascades.

The one module that reads what :mod:`critmin.store.scenario_writes` writes (``results``, the
report, ``cascade`` and the comparison read through it). Reads only, parameters only;
quantities come back in the unit of the run or scenario they were stored with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from critmin.errors import CritminError
from critmin.loader.chains import find_chain, load_chains
from critmin.simulator.scenario import Parameters
from critmin.store.graph import GraphStore
from critmin.store.locks import live_leases
from critmin.store.migration import check_schema
from critmin.study import RunKind
from critmin.units import Unit

__all__ = [
    "CASCADE_EDGE_COLUMNS",
    "CASCADE_IMPACT_COLUMNS",
    "PARAMETER_NAMES",
    "POLICY_RUN_COLUMNS",
    "POLICY_STOCK_COLUMNS",
    "TABLE_KINDS",
    "NoScenarios",
    "country_table",
    "find_run",
    "loss_frame",
    "loss_table",
    "matching_scenarios",
    "policy_runs",
    "policy_stock",
    "run_lease",
    "run_properties",
    "runs_of",
    "scenario",
    "scenario_cascade",
    "source_table",
    "stale_note",
    "stockpiled",
    "study_runs",
    "suffix",
    "unfinished_after",
    "yearly_failures",
]

PARAMETER_NAMES = tuple(f.name for f in fields(Parameters))

#: The kinds of run (:class:`~critmin.study.RunKind`) that get the sweep summaries: studies and
#: selections (the tables count single-source runs).
TABLE_KINDS = tuple(kind.value for kind in RunKind if kind.has_tables)

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
    "preset",
    "measure",
    "failure_rule",
]
POLICY_STOCK_COLUMNS = [
    "scenario",
    "year",
    "country",
    "demand_loss",
    "share_of_consumption_lost",
    "unbalanced",
    "stock_drawn",
    "failed",
    "stock_needed",
    "stock_needed_months",
    "unit",
]


class NoScenarios(CritminError, LookupError):
    """No stored scenarios or complete sweeps match the request."""


def suffix(unit: str) -> str:
    """Property-name suffix for a unit: ``t`` or ``usd`` (see :class:`~critmin.units.Unit`)."""
    return Unit.of(unit).suffix


def run_lease(run_id: str) -> str:
    """The name of the lease a sweep's writer holds while its run is ``running``."""
    return f"run:{run_id}"


# ---------------------------------------------------------------- runs and sweep tables

RUNS = """
MATCH (r:Run {commodity: $commodity})
WHERE coalesce(r.mode, 'export') = $mode
RETURN properties(r) AS run
ORDER BY coalesce(r.finished_at, r.created_at) DESC, r.id
"""

RUN_MODES = """
MATCH (r:Run {commodity: $commodity})
RETURN DISTINCT coalesce(r.mode, 'export') AS mode
"""

SWEEP_SOURCES = """
MATCH (x:SweepSource {run_id: $run_id, shock: $shock})
RETURN x.rank AS rank, x.source AS source, x.source_name AS name, x.total_failed AS total_failed,
       x.failure_rate AS failure_rate, x.years_active AS years_active
ORDER BY rank, source
"""

SWEEP_COUNTRIES = """
MATCH (x:SweepCountry {run_id: $run_id, shock: $shock})
RETURN properties(x) AS row
"""

RUN = "MATCH (r:Run {id: $run_id}) RETURN properties(r) AS run"

YEARLY_FAILURES = """
MATCH (:Run {id: $run_id})-[:INCLUDES]->(s:Scenario)
WHERE size(s.sources) = 1 AND s.shock = $shock AND size(coalesce(s.targets, [])) = 0
  AND ($sources IS NULL OR s.sources[0] IN $sources)
RETURN s.year AS year, s.sources[0] AS source, s.n_failed AS n_failed
ORDER BY year, source
"""

POLICY_RUNS = """
MATCH (r:Run {commodity: $commodity, kind: $kind})
WHERE r.status = 'complete'
RETURN r.id AS run_id, coalesce(r.scenario, r.id) AS name,
       coalesce(r.scenario_title, r.scenario, r.id) AS title, r.scenario_file AS file,
       r.command AS command, r.unit AS unit, r.years AS years, r.fractions AS fractions,
       r.n_scenarios AS scenarios, r.finished_at AS finished_at,
       coalesce(r.preset, 'paper') AS preset, r.measure AS measure,
       coalesce(r.failure_text, 'failure rule ' + r.failure_rule) AS failure_rule
ORDER BY r.finished_at DESC, r.id
"""


def runs_of(store: GraphStore, commodity: str, mode: str = "export") -> pd.DataFrame:
    """Every stored run of a commodity and mode, newest first, one row of properties each."""
    check_schema(store)
    rows = [dict(r["run"]) for r in store.records(RUNS, commodity=commodity, mode=mode)]
    return pd.DataFrame(rows)


def refuse_chain(commodity: str) -> None:
    """Raise :class:`NoScenarios` saying what to use instead when ``commodity`` is a supply
    chain: its sweeps write no study tables (``results``, the report, ``sensitivity``)."""
    if commodity not in load_chains():
        return
    stages = ", ".join(stage.commodity for stage in find_chain(commodity).stages)
    raise NoScenarios(
        f"{commodity} is a supply chain: `critmin results`, `report` and `sensitivity` work on "
        "the studies of single networks (a chain's sweep writes no study tables). `critmin "
        f"simulate --commodity {commodity}` prints each stage's tables; its stored scenarios "
        "answer the library's chain_paths and chain_refiners queries (`critmin query "
        "chain_paths`, or in Browser); `critmin cascade ID` re-runs one down the chain. Each "
        f"stage's network ({stages}) can be swept and reported on its own: `critmin simulate "
        "--commodity STAGE`, then `critmin report --commodity STAGE`"
    )


def find_run(
    store: GraphStore,
    commodity: str,
    mode: str = "export",
    *,
    shock: float | None = None,
    run_id: str | None = None,
    where: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The run whose tables answer: ``run_id``, or the latest complete study matching.

    A study is a sweep of every source; ``where`` picks a parameter set (``{"alpha": 0.5}``);
    ``shock`` requires the run to have swept that shock size. Runs that did not finish never
    answer, and the error says when one is the reason nothing matched.
    """
    refuse_chain(commodity)
    runs = runs_of(store, commodity, mode)
    if runs.empty:
        modes = sorted({str(r["mode"]) for r in store.records(RUN_MODES, commodity=commodity)})
        stored = (
            f" ({' and '.join(modes)} sweeps of it are stored: add --mode {modes[0]})"
            if modes
            else ""
        )
        raise NoScenarios(
            f"no stored {mode} sweeps for {commodity}{stored}: run "
            f"`critmin simulate --commodity {commodity}"
            + ("" if mode == "export" else f" --mode {mode}")
            + "` first"
        )
    if run_id is not None:
        chosen = runs[runs["id"] == run_id]
        if chosen.empty:
            raise NoScenarios(
                f"no run {run_id!r} of {commodity} ({mode}); see `critmin query sweeps`"
            )
        run = chosen.iloc[0].to_dict()
        if run.get("status") != "complete":
            raise NoScenarios(
                f"run {run_id} did not finish (status {run.get('status')}): its tables were "
                "never written; re-run its command to complete it"
            )
        if run.get("kind") not in TABLE_KINDS:
            raise NoScenarios(f"run {run_id} is a {run.get('kind')} run: it has no study tables")
        return run
    # The study is the run flagged so when stored; a parameter set picks among the sweeps of
    # every source without stockpiles.
    every_source = (runs["kind"] == RunKind.STUDY) & ~stockpiled(runs)
    studies = runs[every_source] if where else runs[flagged(runs)]
    if shock is not None:
        swept = [float(shock) in map(float, f) for f in studies["fractions"]]
        studies = studies.loc[pd.Series(swept, index=studies.index, dtype=bool)]
    for name, value in (where or {}).items():
        if name not in studies:
            raise NoScenarios(f"no parameter {name!r}; parameters are {_parameter_names(runs)}")
        studies = studies[studies[name] == value]
    complete = studies[studies["status"] == "complete"]
    if complete.empty:
        wanted = f"{commodity} ({mode})" + (f" at shock {shock:g}" if shock is not None else "")
        if where:
            wanted += f" with {dict(where)}"
        unfinished = len(studies) - len(complete)
        others = int(((runs["kind"] == RunKind.STUDY) & (runs["status"] == "complete")).sum())
        hint = (
            f"; {unfinished} matching sweep(s) did not finish: re-run them"
            if unfinished
            else f"; {others} sweep(s) of other parameters or with stockpiles are stored: pick "
            "one with --run ID or --param NAME=VALUE (see `critmin query sweeps`)"
            if others and not where
            else f": run `critmin simulate --commodity {commodity}`"
        )
        raise NoScenarios(f"no complete sweep of every source of {wanted}{hint}")
    return complete.iloc[0].to_dict()


def study_runs(store: GraphStore, commodity: str, mode: str = "export") -> pd.DataFrame:
    """The complete studies (sweeps of every source) of a commodity, the latest first.

    Columns: ``key`` (the parameters as canonical JSON), ``unit``, ``model_version``, one
    column per cascade parameter, ``run_ids`` (the run, as a one-item list), ``shocks`` (largest
    first), ``scenarios``, ``first_year``, ``last_year``, ``created_at``.

    Raises
    ------
    NoScenarios
        When there is none (the message says when unfinished ones exist).
    """
    find_run(store, commodity, mode)  # raises, with the reason, when there is none
    runs = runs_of(store, commodity, mode)
    sweeps = (runs["kind"] == RunKind.STUDY) & ~stockpiled(runs) & (runs["status"] == "complete")
    # The study (flagged) first, then the other parameter sets, the latest first.
    done = runs[sweeps].assign(_study=flagged(runs)[sweeps])
    done = done.sort_values("_study", ascending=False, kind="stable").drop(columns="_study")
    for name in PARAMETER_NAMES:  # a run stores the parameters it was given
        if name not in done:
            done[name] = None
    done["key"] = done["parameters"]
    done["run_ids"] = [[str(i)] for i in done["id"]]
    done["shocks"] = [sorted(map(float, f), reverse=True) for f in done["fractions"]]
    done["scenarios"] = done["n_scenarios"]
    done["first_year"] = [min(map(int, y)) for y in done["years"]]
    done["last_year"] = [max(map(int, y)) for y in done["years"]]
    return done.reset_index(drop=True)


def flagged(runs: pd.DataFrame) -> pd.Series:
    """Which runs are the study of their commodity (``is_study``, decided when stored)."""
    if "is_study" not in runs:
        return pd.Series(False, index=runs.index, dtype=bool)
    return pd.Series([v is True for v in runs["is_study"]], index=runs.index, dtype=bool)


def stockpiled(runs: pd.DataFrame) -> pd.Series:
    """Which runs had stockpiles: they answer only when asked for by id, never for the study
    of their parameters (its tables count runs without stockpiles)."""
    if "stockpiles" not in runs:
        return pd.Series(False, index=runs.index, dtype=bool)
    held = [isinstance(v, list | tuple | np.ndarray) and len(v) > 0 for v in runs["stockpiles"]]
    return pd.Series(held, index=runs.index, dtype=bool)


def _parameter_names(runs: pd.DataFrame) -> str:
    first = json.loads(str(runs["parameters"].iloc[0]))
    return ", ".join(sorted(first))


def unfinished_after(store: GraphStore, context: Mapping[str, Any]) -> list[str]:
    """Runs of the table's commodity and mode started after its run that did not complete."""
    runs = runs_of(store, str(context["commodity"]), str(context.get("mode", "export")))
    mine = runs[runs["id"] == context["run_id"]]
    if mine.empty:
        return []
    started = mine["created_at"].iloc[0]
    later = runs[(runs["created_at"] > started) & (runs["status"] != "complete")]
    running = [str(i) for i in later.loc[later["status"] == "running", "id"]]
    alive = live_leases(store, [run_lease(i) for i in running])
    out = []
    for _, r in later.iterrows():
        status = str(r["status"])
        if status == "running" and run_lease(str(r["id"])) not in alive:
            status = "abandoned: its writer stopped without finishing; re-run its command"
        out.append(f"{r['id']} ({status})")
    return out


def stale_note(run: Mapping[str, Any]) -> str | None:
    """Why a run's numbers are out of date (a later load changed data of its years), or None.

    >>> stale_note({"stale": True, "stale_years": [2023], "command": "critmin simulate ..."})
    'a later load changed the data of 2023: re-run `critmin simulate ...`'
    """
    flag = run.get("stale")  # NaN in a frame of runs where only some are stale
    if not (isinstance(flag, bool | np.bool_) and flag):
        return None
    listed = run.get("stale_years")
    listed = listed if isinstance(listed, list | tuple | np.ndarray) else []
    years = ", ".join(str(int(y)) for y in listed) or "its years"
    command = run.get("command") or "its sweep"
    return f"a later load changed the data of {years}: re-run `{command}`"


def _context(run: Mapping[str, Any], shock: float, rows: int) -> dict[str, object]:
    years = [int(y) for y in run["years"]]
    stale = stale_note(run)
    return {
        "commodity": run["commodity"],
        "shock": shock,
        "mode": run.get("mode", "export"),
        "run_id": run["id"],
        "years": int(run["n_years"]),
        "first_year": min(years),
        "last_year": max(years),
        "panel_countries": int(run["n_panel"]),
        "runs": rows,
        "unit": str(run["unit"]),
        "parameters": str(run["parameters"]),
        **({"stale": stale} if stale else {}),
    }


def source_table(
    store: GraphStore,
    commodity: str,
    shock: float,
    mode: str = "export",
    *,
    run_id: str | None = None,
    where: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Table 1/2 of the study, as the sweep stored it: rank (ties share one), source, name,
    total failed, average failure rate = total_failed / (years x panel countries), years active.
    """
    run = find_run(store, commodity, mode, shock=shock, run_id=run_id, where=where)
    table = store.query(SWEEP_SOURCES, run_id=run["id"], shock=float(shock))
    if table.empty:
        raise NoScenarios(f"run {run['id']} swept no single source at shock {shock:g}")
    per_shock = int(run["n_scenarios"]) // max(len(run["fractions"]), 1)
    return table, _context(run, shock, per_shock)


def country_table(
    store: GraphStore,
    commodity: str,
    shock: float,
    mode: str = "export",
    *,
    run_id: str | None = None,
    where: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Per country: exposure (mean demand loss over all runs and over runs that hit it, times
    failed) and transit (received, passed on, absorbed, share passed on), as the sweep stored
    them; columns carry the unit (``mean_loss_all_runs_usd``...). Most exposed first."""
    run = find_run(store, commodity, mode, shock=shock, run_id=run_id, where=where)
    rows = store.records(SWEEP_COUNTRIES, run_id=run["id"], shock=float(shock))
    table = pd.DataFrame([dict(r["row"]) for r in rows])
    if table.empty:
        raise NoScenarios(f"run {run['id']} stored no country at shock {shock:g}")
    table = table.rename(columns={"country_name": "name"}).sort_values(["rank", "country"])
    first = table.iloc[0]
    return table.reset_index(drop=True), _context(run, shock, int(first["runs"]))


def loss_table(
    store: GraphStore,
    commodity: str,
    shock: float,
    mode: str = "export",
    *,
    run_id: str | None = None,
    where: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Average demand loss per country (the study's Figures 4-5), most exposed first."""
    return loss_frame(*country_table(store, commodity, shock, mode, run_id=run_id, where=where))


def loss_frame(
    table: pd.DataFrame, context: dict[str, object]
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The loss columns of a country table (:func:`country_table`), unit suffix dropped, of the
    countries some run hit."""
    unit = suffix(str(context["unit"]))
    table = table[table["runs_hit"] > 0]
    table = table.rename(
        columns={
            f"mean_loss_all_runs_{unit}": "mean_loss_all_runs",
            f"mean_loss_when_hit_{unit}": "mean_loss_when_hit",
        }
    )
    columns = [
        "rank",
        "country",
        "name",
        "mean_loss_all_runs",
        "mean_loss_when_hit",
        "runs_hit",
        "times_failed",
    ]
    return table[columns].reset_index(drop=True), context


def yearly_failures(
    store: GraphStore, run_id: str, shock: float, sources: Sequence[str] | None = None
) -> pd.DataFrame:
    """``year, source, n_failed`` of the untargeted single-source scenarios of one run (of
    ``sources`` only, when given), by year then source."""
    check_schema(store)
    chosen = None if sources is None else list(sources)
    frame = store.query(YEARLY_FAILURES, run_id=run_id, shock=float(shock), sources=chosen)
    if frame.empty:
        return pd.DataFrame({"year": [], "source": [], "n_failed": []})
    return frame


def policy_runs(store: GraphStore, commodity: str) -> pd.DataFrame:
    """The complete runs of kind ``policy`` of a commodity (scenario files run by
    ``critmin scenario run``), newest first; an empty frame (columns
    :data:`POLICY_RUN_COLUMNS`) when there is none."""
    check_schema(store)
    frame = store.query(POLICY_RUNS, commodity=commodity, kind=RunKind.POLICY.value)
    if frame.empty:
        return pd.DataFrame(columns=POLICY_RUN_COLUMNS)
    return frame


def run_properties(store: GraphStore, run_id: str) -> dict[str, Any]:
    """The ``(:Run)`` node of a sweep (its command, status, measure, keep_share...), or {}."""
    rows = store.records(RUN, run_id=run_id)
    return dict(rows[0]["run"]) if rows else {}


# ---------------------------------------------------------------- single scenarios

SCENARIO = "MATCH (s:Scenario {id: $id}) RETURN properties(s) AS props"

# The untargeted single-source scenarios without stockpiles of a definition (any parameters),
# or of one run when $run_id is given.
MATCHING = """
MATCH (s:Scenario {commodity: $commodity, year: $year, mode: $mode})
WHERE s.sources = [$source] AND s.shock = $shock AND size(coalesce(s.targets, [])) = 0
  AND size(coalesce(s.stockpiles, [])) = 0
  AND ($run_id IS NULL OR EXISTS { MATCH (:Run {id: $run_id})-[:INCLUDES]->(s) })
RETURN properties(s) AS props
ORDER BY s.created_at DESC, s.id
"""


def scenario(store: GraphStore, scenario_id: str) -> dict[str, Any] | None:
    """A stored scenario's properties, or None."""
    check_schema(store)
    rows = store.records(SCENARIO, id=scenario_id)
    return dict(rows[0]["props"]) if rows else None


def matching_scenarios(
    store: GraphStore,
    commodity: str,
    year: int,
    source: str,
    shock: float,
    mode: str,
    *,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """The untargeted single-source scenarios of a definition (any parameters; only those of
    ``run_id`` when given), newest first."""
    check_schema(store)
    rows = store.records(
        MATCHING,
        commodity=commodity,
        year=int(year),
        source=source,
        shock=float(shock),
        mode=mode,
        run_id=run_id,
    )
    return [dict(r["props"]) for r in rows]


# A scenario's Impacts, and the countries it hit off its stored cascade, which have no Impact
# node: their outcomes are the Scenario's minor_* lists (see critmin.store.scenario_writes).
CASCADE_IMPACTS = """
MATCH (s:Scenario {id: $scenario})
CALL (s) {
  MATCH (s)-[:HIT]->(h:Impact)
  RETURN h.iso3 AS country, coalesce(h.source, false) AS source,
         coalesce(h.demand_loss_t, h.demand_loss_t_metal, h.demand_loss_usd, 0.0) AS demand_loss,
         coalesce(h.gross_hit_t, h.gross_hit_t_metal, h.gross_hit_usd, 0.0) AS gross_hit,
         h.relative_loss AS relative_loss, coalesce(h.failed, false) AS failed,
         h.first_round AS first_round
  UNION ALL
  WITH s, coalesce(s.minor_iso3, []) AS codes
  UNWIND range(0, size(codes) - 1) AS i
  WITH s, codes[i] AS country, i, s.minor_relative_loss[i] AS relative,
       s.minor_first_round[i] AS first
  RETURN country, false AS source,
         coalesce(s.minor_demand_loss_t, s.minor_demand_loss_t_metal,
                  s.minor_demand_loss_usd)[i] AS demand_loss,
         coalesce(s.minor_gross_hit_t, s.minor_gross_hit_t_metal,
                  s.minor_gross_hit_usd)[i] AS gross_hit,
         CASE WHEN relative = relative THEN relative END AS relative_loss,
         coalesce(s.minor_failed[i], false) AS failed,
         CASE WHEN first >= 0 THEN first END AS first_round
}
RETURN country, source, demand_loss, gross_hit, relative_loss, failed, first_round
ORDER BY demand_loss DESC, country
"""

CASCADE_EDGES = """
MATCH (s:Scenario {id: $scenario})-[:HIT]->(a:Impact)-[t:TRANSMITS]->(b:Impact)
RETURN a.iso3 AS from, b.iso3 AS to, coalesce(t.tonnes, t.metal_t, t.value_usd) AS quantity,
       t.share AS share, t.first_round AS first_round
ORDER BY quantity DESC, from, to
"""

POLICY_STOCK = """
MATCH (:Run {id: $run_id})-[:INCLUDES]->(s:Scenario)-[:HIT]->(h:Impact)
WHERE coalesce(h.source, false) = false
WITH s, h, coalesce(h.demand_loss_t, h.demand_loss_t_metal, h.demand_loss_usd, 0.0) AS loss,
     coalesce(h.stock_drawn_t, h.stock_drawn_t_metal, h.stock_drawn_usd, 0.0) AS drawn,
     coalesce(h.stock_needed_t, h.stock_needed_t_metal, h.stock_needed_usd, 0.0) AS needed
WHERE loss > 0 OR drawn > 0 OR needed > 0
RETURN s.id AS scenario, s.year AS year, h.iso3 AS country, loss AS demand_loss,
       h.relative_loss AS share_of_consumption_lost,
       coalesce(h.unbalanced_t, h.unbalanced_t_metal, h.unbalanced_usd, 0.0) AS unbalanced,
       drawn AS stock_drawn, coalesce(h.failed, false) AS failed, needed AS stock_needed,
       h.stock_needed_months AS stock_needed_months, s.unit AS unit
ORDER BY year, failed DESC, coalesce(share_of_consumption_lost, -1.0) DESC, demand_loss DESC,
         country
"""


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


def policy_stock(store: GraphStore, run_id: str) -> pd.DataFrame:
    """Per scenario (year) of a policy run, every country it hurt or that drew on a stock:
    demand loss, the share of its consumption lost (``relative_loss``, null where it consumes
    nothing), ``unbalanced``, stock drawn, failed, the stock it needed not to fail (0 when it
    did not fail) in the scenario's ``unit`` and in months of its demand. Columns
    :data:`POLICY_STOCK_COLUMNS`; within a year the failed countries first, each group by the
    share of its consumption lost (as :func:`critmin.policy.run.rank_by_share`); empty when
    none."""
    check_schema(store)
    frame = store.query(POLICY_STOCK, run_id=run_id)
    if frame.empty:
        return pd.DataFrame(columns=POLICY_STOCK_COLUMNS)
    return frame


# ---------------------------------------------------------------- supply chains

# The latest complete chain scenario of one source shocked at stage 0: its latest year, largest
# shock, last written.
CHAIN_SCENARIO = """
MATCH (s:Scenario {commodity: $chain})
WHERE s.chain = $chain AND s.source_stage = 0 AND $source IN s.sources
  AND EXISTS {
    MATCH (r:Run)-[:INCLUDES]->(s)
    WHERE r.status = 'complete' AND coalesce(r.kind, '') <> 'policy'
  }
RETURN s {.*} AS props
ORDER BY s.year DESC, s.shock DESC, s.created_at DESC
LIMIT 1
"""

CHAIN_IMPACTS = """
MATCH (:Scenario {id: $id})-[:HIT]->(h:Impact)
RETURN h.iso3 AS country, h.stage AS stage, h.source AS source, h.failed AS failed,
       coalesce(h.demand_loss_t_metal, 0.0) AS demand_loss,
       coalesce(h.gross_hit_t_metal, 0.0) AS gross_hit,
       coalesce(h.coupling_cut_t_metal, 0.0) AS coupling_cut,
       coalesce(h.unbalanced_t_metal, 0.0) AS unbalanced
"""

# Every hop of the scenario, within a stage (TRANSMITS) and across (STARVES).
CHAIN_HOPS = """
MATCH (:Scenario {id: $id})-[:HIT]->(a:Impact)-[r:TRANSMITS|STARVES]->(b:Impact)
RETURN a.iso3 AS from_country, a.stage AS from_stage, b.iso3 AS to_country,
       b.stage AS to_stage, type(r) AS kind, coalesce(r.metal_t, r.cut_t_metal) AS quantity,
       r.share AS share
"""


def chain_scenario(
    store: GraphStore, chain: str, source: str
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame] | None:
    """The latest complete scenario of ``source`` shocked at stage 0 of ``chain`` by a sweep
    (not a scenario file's run; its latest year, largest shock): its properties, its Impacts
    (``country, stage, source, failed, demand_loss, gross_hit, coupling_cut, unbalanced``,
    t contained metal) and its hops
    (``from_country, from_stage, to_country, to_stage, kind, quantity, share``); None when
    none is stored."""
    rows = store.records(CHAIN_SCENARIO, chain=chain, source=source)
    if not rows:
        return None
    props = dict(rows[0]["props"])
    impacts = store.query(CHAIN_IMPACTS, id=props["id"])
    hops = store.query(CHAIN_HOPS, id=props["id"])
    return props, impacts, hops
