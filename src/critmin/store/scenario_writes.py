"""The scenario graph's writer: sweeps, their scenarios and cascades, stock needs, metrics.

Graph model, schema version 2 (``docs/graph-model.md`` has the diagram and the measurements):

* ``(:Run {id, commodity, kind, status, command, unit, years, fractions, <parameters>, ...})``
  one per sweep; ``status`` is ``running`` while it writes (its writer holds the lease
  ``run:<id>``; a running run without a live lease was abandoned), ``complete`` once every
  scenario and its summaries are stored, ``interrupted`` when it stopped early. Only complete
  runs feed the sweep-level answers. A later load that changes data of its commodity and years
  sets ``stale``, ``stale_years`` and ``stale_since`` (:func:`mark_stale_runs`).
* ``(:Run)-[:INCLUDES]->(:Scenario)`` every scenario a run computed, written in one statement
  once they are stored (or, for an interrupted run, those stored whole); a later run of the
  same scenario rewrites the scenario and adds its own INCLUDES.
* ``(:Scenario {id, commodity, year, shock, sources, targets, mode, unit, <parameters>, rounds,
  n_failed, failure_rate, initial_shock_t|usd, run_id, data_version, minor_*, ...})``.
* ``(:Scenario)-[:SHOCKS {fraction, targets}]->(:Country)`` the sources.
* The cascade, a small subgraph of its own per scenario:
  ``(:Scenario)-[:HIT]->(:Impact {iso3, source, demand_loss_t|usd, gross_hit_t|usd,
  relative_loss, failed, first_round, <every other column of the result's impact table>})
  -[:OF]->(:Country)`` for the countries the cascade graph needs: the sources, the countries
  that failed and those at either end of a stored ``(:Impact)-[:TRANSMITS {tonnes|value_usd,
  share, first_round}]->(:Impact)`` (a hop where the loss travelled, above the run's
  ``keep_share`` of the initial shock). The other countries the scenario hit (small losses no
  stored hop reaches) are the Scenario's parallel lists ``minor_iso3`` and ``minor_<property>``
  (NaN for a missing number, -1 for a missing round); policy and stockpiled runs, whose stock
  reads go per country, give every country hit an Impact. A path query walks one scenario's few
  hundred elements, whatever else is stored; ``(:Country)<-[:OF]-(:Impact)<-[:HIT]-(:Scenario)``
  reaches every scenario in whose cascade a country took part.
* Sweep summaries, written beside the scenarios (read once the run is complete), one node per
  row of the study's tables (:func:`critmin.simulator.tables.study_tables`): ``(:SweepSource)``
  (Tables 1-2), ``(:SweepCountry)`` (exposure and transit), ``(:SweepExposure)`` (source x
  exposed country), each with ``run_id`` and ``shock``.
* ``(:CritminGraph {id: 'critmin', schema_version})`` says which model the graph holds
  (:mod:`critmin.store.migration`).

Quantity properties carry their unit in their name (``_t``/``tonnes`` or ``_usd``/``value_usd``);
``unit`` on a Scenario, Run or summary says which. A scenario id is a digest of its definition
(commodity, year, sources, fraction, targets, every parameter, and the stockpiles or per-source
shocks when a run has them) and of the year's data version, so a re-run on the same data
replaces it and a run on reloaded, changed flows is a new scenario. A run with stockpiles
stores them on its Run and Scenarios (``stockpiles``: as given; ``stockpile_countries`` and
``stockpile_t|usd``: in the year's unit) and what each country drew on its Impact
(``stock_drawn_t|usd``); such runs never answer for the study of the same parameters without
stockpiles.

Writers are safe together: each transaction first locks its scenarios (sorted, so two writers
queue rather than deadlock), then deletes their old cascades and writes the new ones, so two
concurrent runs of the same scenarios leave each scenario written once, whole. No transaction
touches the Run node between the first (its properties) and the last (INCLUDES, status), so a
run's write transactions never wait on each other.

What is written here is read in :mod:`critmin.store.scenario_reads`.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from critmin.errors import CritminError
from critmin.loader.commodities import UnknownCommodity, find_group
from critmin.simulator.tables import StudyTables, study_tables
from critmin.store.graph import GraphStore, Statement, neo4j_rows
from critmin.store.locks import exclusive, holder_label
from critmin.store.migration import SCHEMA_VERSION, check_schema, now
from critmin.store.networks import country_names
from critmin.store.scenario_reads import run_lease, run_properties, suffix
from critmin.study import RunKind, redact_command
from critmin.units import Unit

__all__ = [
    "MODEL_VERSION",
    "RunInfo",
    "forget_run",
    "mark_stale_runs",
    "new_run_id",
    "parameter_key",
    "save_metrics",
    "save_stock_needed",
    "scenario_id",
    "transaction_size",
    "write_sweep",
    "write_workers",
]

MODEL_VERSION = "critmin-cascade-1 (reconstruction of Grassia et al. 2022, see docs/model.md)"
#: Graph entities (nodes and relationships) a write transaction aims at, counted before the
#: lean rule drops Impacts (3 per country hit, one per stored hop, 3 per scenario): whole
#: scenarios are packed until the next would pass it. Measured on the demo sweep with nothing
#: else running (bench/bench_writeback.py; about 470 such entities, 296 written, a scenario):
#: 20-50 scenarios a transaction stored it in 7.5-8.4 s, 100 in 9.6 s, 200 in 12-18 s (a big
#: transaction's state costs the server more than its commit saves); 376 scenarios passed a
#: 1 GB heap's transaction memory.
ENTITIES_PER_TRANSACTION = 16_000
SUMMARY_BATCH = 5_000
WRITE_WORKERS = 2


# The first statement of a transaction locks its scenarios (MERGE, in id order), sets their
# properties and, for those stored before (a run written again), deletes their old cascades and
# shocks; a new scenario has none, and is not searched. "Stored before" is decided under the
# lock (the MERGE did not create the node): a writer that waited for another's transaction on
# the same scenario replaces what that one wrote. The Run is not touched here: INCLUDES
# are written once the run's scenarios are stored (INCLUDE_SCENARIOS), so concurrent
# transactions of one run never wait on the Run node's lock.
UPSERT_SCENARIOS = """
UNWIND $rows AS row
MERGE (s:Scenario {id: row.id})
ON CREATE SET s.`_new` = true
WITH s, row, s.`_new` IS NULL AS stored
SET s = row.props
WITH s WHERE stored
CALL (s) {
  OPTIONAL MATCH (s)-[:HIT]->(h:Impact)
  DETACH DELETE h
}
CALL (s) {
  OPTIONAL MATCH (s)-[k:SHOCKS]->()
  DELETE k
}
"""

INCLUDE_SCENARIOS = """
MATCH (r:Run {id: $run_id})
UNWIND $ids AS id
MATCH (s:Scenario {id: id})
MERGE (r)-[:INCLUDES]->(s)
"""

# One statement per transaction writes every cascade and shock, from columns (a study sweep sends
# a few hundred thousand Impacts and hops: flat lists cost the client and the server far less than
# a map per row). The transaction's countries are looked up once ($codes; a missing one is a null
# node, which CREATE refuses) and its scenarios once ($ids). Shock k cuts country
# $shock_country[k] in scenario $shock_scenario[k] (SHOCKS, its fraction and targets). Impact i
# belongs to scenario $node_scenario[i] and country $node_country[i], its properties are the
# columns $p (one list per property, null where a row has none: no property is set). A hop j joins
# the Impacts at positions $edge_a[j] and $edge_b[j], checked against its endpoints' codes; the
# count of relationships created is checked too. The statement's text names the properties (from
# the result's columns and the Unit enum, checked to be plain identifiers; never input), so it is
# made per set of columns (:func:`cascade_statement`).
_CREATE_CASCADES = """
UNWIND $codes AS code
OPTIONAL MATCH (c:Country {iso3: code})
WITH collect([c]) AS countries
UNWIND $ids AS id
OPTIONAL MATCH (s:Scenario {id: id})
WITH countries, collect([s]) AS scenarios
CALL (countries, scenarios) {
  UNWIND range(0, size($shock_scenario) - 1) AS k
  WITH k, scenarios[$shock_scenario[k]][0] AS s, countries[$shock_country[k]][0] AS c
  CREATE (s)-[:SHOCKS {fraction: $shock_fraction[k], targets: $shock_targets[k]}]->(c)
}
CALL (countries, scenarios) {
  UNWIND range(0, size($node_scenario) - 1) AS i
  WITH i, scenarios[$node_scenario[i]][0] AS s, countries[$node_country[i]][0] AS c
  CREATE (s)-[:HIT]->(h:Impact)-[:OF]->(c)
  SET NODE_PROPERTIES
  RETURN collect(h) AS nodes
}
UNWIND range(0, size($edge_a) - 1) AS j
WITH nodes[$edge_a[j]] AS a, nodes[$edge_b[j]] AS b, j
WHERE a.iso3 = $codes[$edge_from[j]] AND b.iso3 = $codes[$edge_to[j]]
CREATE (a)-[t:TRANSMITS]->(b)
SET t.QUANTITY = $edge_q[j], t.share = $edge_share[j], t.first_round = $edge_first[j]
"""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.lru_cache(maxsize=64)
def cascade_statement(unit: Unit, properties: tuple[str, ...]) -> str:
    """The cascade statement for Impacts with these ``properties`` (``$p`` in this order) and
    hops in ``unit``."""
    bad = [name for name in properties if not _IDENTIFIER.fullmatch(name)]
    if bad:
        raise ValueError(f"not a property name: {bad}")
    sets = ", ".join(f"h.`{name}` = $p[{n}][i]" for n, name in enumerate(properties))
    return _CREATE_CASCADES.replace("NODE_PROPERTIES", sets).replace("QUANTITY", unit.flow_property)


# A chain scenario's stage links: the Impact of a country at one stage to its Impact at the
# next, where its loss cut its output (both are Impacts of the scenario: found through HIT).
CREATE_STARVES = """
UNWIND $rows AS row
MATCH (s:Scenario {id: row.scenario})-[:HIT]->(a:Impact {iso3: row.iso3, stage: row.from_stage})
MATCH (s)-[:HIT]->(b:Impact {iso3: row.iso3, stage: row.to_stage})
CREATE (a)-[t:STARVES]->(b)
SET t = row.props
"""

BEGIN_RUN = """
MERGE (r:Run {id: $id})
SET r = $props
"""

INTERRUPT_RUN = """
MATCH (r:Run {id: $id}) WHERE r.status = 'running'
SET r.status = 'interrupted', r.interrupted_at = $now, r.reason = $reason
"""

# Each through its index (run_id first): a run's earlier summary rows, when it is written again.
DELETE_SUMMARIES = (
    "MATCH (x:SweepSource {run_id: $run_id}) WHERE x.shock IS NOT NULL DELETE x",
    "MATCH (x:SweepCountry {run_id: $run_id}) WHERE x.shock IS NOT NULL DELETE x",
    "MATCH (x:SweepExposure {run_id: $run_id}) WHERE x.country IS NOT NULL DELETE x",
)

CREATE_SWEEP_SOURCES = "UNWIND $rows AS row CREATE (x:SweepSource) SET x = row"
CREATE_SWEEP_COUNTRIES = "UNWIND $rows AS row CREATE (x:SweepCountry) SET x = row"
CREATE_SWEEP_EXPOSURE = "UNWIND $rows AS row CREATE (x:SweepExposure) SET x = row"

FINISH_RUN = """
MATCH (r:Run {id: $id})
SET r.status = 'complete', r.finished_at = $now, r.n_scenarios = $n_scenarios
"""


def parameter_key(parameters: Mapping[str, Any]) -> str:
    """The cascade parameters as canonical JSON: scenarios with equal keys are comparable.

    >>> parameter_key({"mode": "export", "alpha": 0.8})
    '{"alpha": 0.8, "mode": "export"}'
    """
    return json.dumps(dict(parameters), sort_keys=True, default=str)


def scenario_id(
    commodity: str,
    year: int,
    sources: str,
    fraction: float,
    parameters: Mapping[str, Any],
    targets: Sequence[str] = (),
    stockpiles: Sequence[str] = (),
    shocks: Sequence[tuple[str, float, Sequence[str]]] = (),
    data_version: str = "",
    chain: str | None = None,
    source_stage: int = 0,
    shock_stages: Sequence[str] = (),
) -> str:
    """Deterministic id: the same scenario definition on the same data always gets the same id.

    ``stockpiles`` (``ISO3=QTY`` or ``ISO3=<n>months``, as given) and ``shocks`` (per source
    ``(source, fraction, targets)``, for shocks that differ in size or targets) enter the
    definition only when given, so scenarios without them keep their ids. ``data_version``
    (:meth:`critmin.store.networks.Panel.data_version` of the year) makes a scenario run on
    reloaded, changed flows a new scenario: the one computed on the old flows keeps its numbers.
    ``chain`` (a supply chain's id) and ``source_stage`` (the stage its sources were shocked
    at) enter the definition of a chain's scenarios only, and ``shock_stages`` (``ISO3@k``, the
    stage of each shock of a policy file's chain run) when given: two files shocking the same
    sources at other stages are other scenarios.

    >>> a = scenario_id("cobalt", 2020, "COD", 1.0, {"alpha": 0.8, "mode": "export"})
    >>> a == scenario_id("cobalt", 2020, "COD", 1.0, {"mode": "export", "alpha": 0.8})
    True
    >>> a == scenario_id("cobalt", 2020, "COD", 0.5, {"alpha": 0.8, "mode": "export"})
    False
    >>> a == scenario_id("cobalt", 2020, "COD", 1.0, {"alpha": 0.8, "mode": "export"}, (),
    ...                  stockpiles=["JPN=3months"])
    False
    >>> a == scenario_id("cobalt", 2020, "COD", 1.0, {"alpha": 0.8, "mode": "export"},
    ...                  data_version="0f3a")
    False
    >>> b = scenario_id("cobalt_demo", 2024, "COD", 1.0, {}, chain="cobalt_demo")
    >>> b == scenario_id("cobalt_demo", 2024, "COD", 1.0, {}, chain="cobalt_demo",
    ...                  shock_stages=["COD@0", "ZMB@1"])
    False
    """
    definition: dict[str, Any] = {
        "commodity": commodity,
        "year": int(year),
        "sources": sorted(sources.split(";")),
        "fraction": round(float(fraction), 12),
        "targets": sorted(targets),
        "parameters": parameter_key(parameters),
    }
    if stockpiles:
        definition["stockpiles"] = sorted(stockpiles)
    if shocks:
        definition["shocks"] = sorted(
            (str(s), round(float(f), 12), sorted(t)) for s, f, t in shocks
        )
    if data_version:
        definition["data_version"] = data_version
    if chain:
        definition["chain"] = chain
        definition["source_stage"] = int(source_stage)
    if shock_stages:
        definition["shock_stages"] = sorted(shock_stages)
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode())
    return "sc_" + digest.hexdigest()[:20]


def new_run_id(commodity: str) -> str:
    """A unique run id: time to the microsecond and a random part (two runs never collide)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"run_{stamp}_{secrets.token_hex(3)}_{commodity}"


@dataclass(frozen=True)
class RunInfo:
    """What the sweep was: stored on its ``(:Run)`` node and on each scenario.

    ``kind`` is a :class:`~critmin.study.RunKind` and ``is_study`` whether the run is the
    study (both from the :class:`~critmin.study.Study`); ``n_years`` and ``n_panel`` are the
    ``Y`` and ``N`` of the failure rate (years swept, countries in the sweep's panel).
    """

    id: str
    command: str
    commodity: str
    unit: str
    parameters: Mapping[str, Any]
    n_panel: int
    data_versions: Mapping[int, str]
    targets: tuple[str, ...] = ()
    extra: Mapping[str, Any] | None = None
    kind: RunKind = RunKind.STUDY
    #: The run is the study of its commodity (:attr:`critmin.study.Study.is_study`): every
    #: reader of "the study" selects the latest complete run with this flag.
    is_study: bool = False
    n_years: int = 0  # 0: the number of years in the runs written
    #: The stockpiles every scenario of the run started with, as given (``JPN=30``,
    #: ``USA=3months``; part of the scenario ids), and per year in the network's unit.
    stockpiles: tuple[str, ...] = ()
    stock_quantities: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    #: Per source ``(source, fraction, targets)`` when a run's shocks differ in size or
    #: targets (a policy scenario); each source's own go on its SHOCKS.
    shocks: tuple[tuple[str, float, tuple[str, ...]], ...] = ()
    #: A supply chain's id (``chains.csv``) when the run swept one: its scenarios are keyed
    #: by their source's stage too, and their Impacts span the stages.
    chain: str | None = None
    #: Per year, properties every scenario of that year carries (a chain's stage commodities
    #: and which stages' output ``P^k`` is an estimate).
    year_props: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    #: A chain policy run's shocks with their stages (``ISO3@k``; part of the scenario ids).
    shock_stages: tuple[str, ...] = ()

    @property
    def keys(self) -> list[str]:
        """The columns that tell the run's scenarios apart in the sweep's tables."""
        return [*SCENARIO_KEYS, "source_stage"] if self.chain else list(SCENARIO_KEYS)

    def shock_of(self, source: str, fraction: float) -> tuple[float, list[str]]:
        """The fraction and targets of ``source``'s shock in a scenario of this run."""
        for code, own, targets in self.shocks:
            if code == source:
                return float(own), list(targets)
        return float(fraction), list(self.targets)

    def all_targets(self) -> list[str]:
        """Every importer some shock of the run targets, sorted."""
        if not self.shocks:
            return list(self.targets)
        return sorted({t for _, _, targets in self.shocks for t in targets})


def _scenario_rows(runs: pd.DataFrame, info: RunInfo, created: str) -> pd.DataFrame:
    unit = suffix(info.unit)
    rows = runs.copy()
    stage_of = rows["source_stage"] if info.chain else pd.Series(0, index=rows.index)
    keys = zip(rows["year"], rows["sources"], rows["fraction"], stage_of, strict=True)
    rows["id"] = [
        scenario_id(
            info.commodity,
            y,
            s,
            f,
            info.parameters,
            info.targets,
            info.stockpiles,
            info.shocks,
            info.data_versions.get(int(y), ""),
            info.chain,
            int(k),
            info.shock_stages,
        )
        for y, s, f, k in keys
    ]
    n_sources = rows["sources"].str.count(";") + 1
    eligible = (rows["n_countries"] - n_sources).clip(lower=1)
    props = []
    for record, rate in zip(neo4j_rows(rows), rows["n_failed"] / eligible, strict=True):
        prop = {k: v for k, v in record.items() if k not in _NOT_PROPERTIES}
        if info.stockpiles:
            stock = info.stock_quantities.get(int(record["year"]), {})
            prop.update(
                {
                    "stockpiles": list(info.stockpiles),
                    "stockpile_countries": list(stock),
                    f"stockpile_{unit}": [float(q) for q in stock.values()],
                    f"stock_drawn_{unit}": float(record.get("stock_drawn") or 0.0),
                }
            )
        prop.update(
            {
                "id": record["id"],
                "commodity": info.commodity,
                "shock": record["fraction"],
                "sources": record["sources"].split(";"),
                "targets": info.all_targets(),
                f"initial_shock_{unit}": record["initial_shock"],
                "failure_rate": float(rate),
                "parameters": parameter_key(info.parameters),
                "n_panel": info.n_panel,
                "model_version": MODEL_VERSION,
                "data_version": info.data_versions.get(int(record["year"]), ""),
                "run_id": info.id,
                "created_at": created,
                **info.year_props.get(int(record["year"]), {}),
            }
        )
        if info.chain:
            prop.update(chain=info.chain, **record["stage_props"])
        props.append(prop)
    rows["props"] = props
    return rows


SCENARIO_KEYS = ["year", "sources", "fraction"]
# Columns of a sweep's runs that are not Scenario properties as they are.
_NOT_PROPERTIES = ("initial_shock", "sources", "stock_drawn", "stage", "stage_props", "stage_shock")


def chain_scenarios(runs: pd.DataFrame, impacts: pd.DataFrame, unit: str) -> pd.DataFrame:
    """A chain sweep's runs (one row per scenario and stage it reached) as one row per
    scenario: the source stage's row, with the per-stage summaries as lists.

    ``stage_props`` (Scenario properties): ``stages`` (the stages the run reached, from its
    source's down), ``stage_initial_shock_<unit>`` (``S0^k``: the shock at the source's stage,
    the coupling cut below it), ``stage_demand_loss_<unit>``, ``stage_coupling_cut_<unit>``,
    ``stage_unbalanced_<unit>``, ``stage_n_failed`` and ``stage_rounds``, in stage order.
    ``stage_shock``: ``{stage: S0^k}`` (the TRANSMITS shares' denominators).
    """
    keys = [*SCENARIO_KEYS, "source_stage"]
    sums = {c: "sum" for c in ("demand_loss", "coupling_cut", "unbalanced") if c in impacts}
    totals = impacts.groupby([*keys, "stage"], sort=False).agg(sums).reset_index()
    merged = runs.merge(totals, on=[*keys, "stage"], how="left").sort_values("stage")
    u = suffix(unit)
    rows = []
    for _, group in merged.groupby(keys, sort=False):
        first = group.iloc[0]
        lists = {
            "stages": group["stage"],
            f"stage_initial_shock_{u}": group["initial_shock"],
            **{f"stage_{c}_{u}": group[c].fillna(0.0) for c in sums},
            "stage_n_failed": group["n_failed"],
            "stage_rounds": group["rounds"],
        }
        row = first.to_dict()
        row["stage_props"] = {
            k: [v.item() for v in values.to_numpy()] for k, values in lists.items()
        }
        row["stage_shock"] = dict(
            zip(group["stage"].astype(int), group["initial_shock"].astype(float), strict=True)
        )
        rows.append(row)
    columns = [c for c in runs.columns if c not in sums]
    return pd.DataFrame(rows, columns=[*columns, "stage_props", "stage_shock"])


def _floats(values: pd.Series | np.ndarray) -> list[float | None]:
    """Plain floats with None for missing values (Neo4j would store NaN as a number)."""
    array = (
        values.to_numpy(dtype=float, na_value=np.nan) if isinstance(values, pd.Series) else values
    )
    return [None if v != v else v for v in array.astype(float).tolist()]


#: Impact columns that are quantities: stored with the unit's suffix (``demand_loss_t``). Every
#: other column of the result's impact table is stored under its own name.
QUANTITY_COLUMNS = frozenset(
    {"demand_loss", "gross_hit", "stock_drawn", "unbalanced", "coupling_cut"}
)
#: The columns of the impact table that say which scenario and country a row is.
IMPACT_KEYS = frozenset({*SCENARIO_KEYS, "source_stage", "country", "id", "chunk"})
#: Prefix of a Scenario's list properties for the countries it hit that have no Impact node.
MINOR = "minor_"


def _property_names(columns: Sequence[str], unit: str, drawn: bool) -> dict[str, str]:
    """Impact property name per column of the impact table (``stock_drawn`` only when the run
    had stockpiles)."""
    names = {}
    for column in columns:
        if column in IMPACT_KEYS or (column == "stock_drawn" and not drawn):
            continue
        names[column] = f"{column}_{unit}" if column in QUANTITY_COLUMNS else column
    return names


def _values(column: pd.Series) -> list[Any]:
    """Plain Python values, None where missing (Neo4j drops a null property)."""
    if pd.api.types.is_bool_dtype(column):
        return [bool(v) for v in column.fillna(False)]
    if pd.api.types.is_float_dtype(column):
        return _floats(column)
    missing = column.isna().to_numpy()
    if pd.api.types.is_integer_dtype(column):  # Int64 too: <NA> for "never"
        whole = column.fillna(-1).to_numpy(dtype=np.int64).tolist()
        return [None if m else v for v, m in zip(whole, missing, strict=True)]
    plain = column.to_numpy(dtype=object).tolist()
    return [None if m else v for v, m in zip(plain, missing, strict=True)]


def _listed(values: list[Any], numbers: bool) -> list[Any]:
    """Values for a list property (Neo4j lists hold no nulls): NaN for a missing number
    (``numbers``), -1 for a missing round."""
    missing: Any = float("nan") if numbers else -1
    return [missing if v is None else v for v in values]


def _stages(frame: pd.DataFrame) -> list[int]:
    """Each row's stage (0 for a single-stage sweep, whose tables have no ``stage``)."""
    if "stage" not in frame:
        return [0] * len(frame)
    return [int(k) for k in frame["stage"].tolist()]


def _cascades(
    scenarios: pd.DataFrame,
    hits: pd.DataFrame,
    edges: pd.DataFrame,
    unit: str,
    drawn: bool = False,
    lean: bool = True,
) -> Cascades:
    """These scenarios' Impacts and hops as columns (:class:`Cascades`), the
    ``minor_*`` lists of the countries it hit that get no Impact node, and STARVES rows (a
    country's loss at one stage cutting its own output at the next, in a chain's scenario).

    ``hits`` and ``edges`` are the result's impact and transmitted rows of these scenarios,
    with their scenario ``id``. Every column of ``hits`` but the keys becomes a property
    (:func:`_property_names`); every Impact has its ``stage`` (0 in a single-stage sweep) and,
    where not 0, ``coupling_cut_<unit>``. A scenario's Impacts are keyed by stage and country;
    TRANSMITS join Impacts of one stage, with ``share`` of that stage's initial shock ``S0^k``
    (``stage_shock`` of a chain's scenarios).
    ``lean``: an Impact node only for the countries the stored cascade needs: its sources, the
    countries that failed, those at either end of a stored TRANSMITS or STARVES; the others'
    outcomes go in the Scenario's ``minor_iso3`` and ``minor_<property>`` lists (same order).
    Without it (policy and stockpiled runs, whose stock needs and draws are set per Impact)
    every country hit is an Impact. ``drawn``: the run had stockpiles, and every Impact gets
    ``stock_drawn_<unit>``.
    """
    hits = hits.assign(stage=_stages(hits))
    # Plain lists for the loops below: iterating a pandas string array element by element
    # cost more than the whole sweep (1.5 us an element, 3 million elements).
    sids, scenario_sources = scenarios["id"].tolist(), scenarios["sources"].tolist()
    hit_ids = hits["id"].tolist()
    edge_ids, edge_from, edge_to = (edges[c].tolist() for c in ("id", "source", "target"))
    if "coupling_cut" in hits:  # stored where a stage link cut the country's output
        hits["coupling_cut"] = hits["coupling_cut"].where(hits["coupling_cut"] > 0)
    names = _property_names(list(hits.columns), unit, drawn)
    columns = {"iso3": hits["country"].tolist()}
    columns.update({name: _values(hits[column]) for column, name in names.items()})
    numbers = {n for c, n in names.items() if pd.api.types.is_float_dtype(hits[c])}
    origins = (
        [int(k) for k in scenarios["source_stage"]]
        if "source_stage" in scenarios
        else [0] * len(scenarios)
    )
    edge_stages = _stages(edges)
    starving = (
        hits[hits["coupling_cut"].notna() & (hits["stage"] > 0)]
        if "coupling_cut" in hits
        else hits.iloc[0:0].assign(coupling_cut=0.0)
    )
    if lean:
        needed = set(zip(edge_ids, edge_stages, edge_from, strict=True))
        needed |= set(zip(edge_ids, edge_stages, edge_to, strict=True))
        for sid, sources, origin in zip(sids, scenario_sources, origins, strict=True):
            needed |= {(sid, origin, code) for code in str(sources).split(";")}
        for sid, k, code in zip(
            starving["id"].tolist(), starving["stage"], starving["country"].tolist(), strict=True
        ):
            needed |= {(sid, int(k) - 1, code), (sid, int(k), code)}
        failed = hits["failed"].astype(bool).tolist() if "failed" in hits else []
        keep = [
            bool(f) or (sid, k, code) in needed
            for sid, k, code, f in zip(
                hit_ids, hits["stage"].tolist(), columns["iso3"], failed, strict=True
            )
        ]
    else:
        keep = [True] * len(hits)
    minors: dict[str, dict[str, list[Any]]] = {sid: {} for sid in sids}
    # The Impacts as columns: the kept rows first (column by column: this runs for every
    # country every scenario hit, a few hundred thousand rows in a study sweep), then the
    # countries the cascade graph needs that have no row (added by ``position``).
    kept_at = [i for i, k in enumerate(keep) if k]
    nodes: dict[str, list[Any]] = {
        name: [column[i] for i in kept_at] for name, column in columns.items()
    }
    nodes["source"] = [False] * len(kept_at)
    node_sid = [hit_ids[i] for i in kept_at]
    positions: dict[tuple[str, int, str], int] = {
        key: n for n, key in enumerate(zip(node_sid, nodes["stage"], nodes["iso3"], strict=True))
    }
    minor_at: dict[str, list[int]] = {}
    for i, kept in enumerate(keep):
        if not kept:
            minor_at.setdefault(hit_ids[i], []).append(i)
    for sid, at in minor_at.items():
        minors[sid] = {MINOR + name: [column[i] for i in at] for name, column in columns.items()}
    zero = {f"demand_loss_{unit}": 0.0, f"gross_hit_{unit}": 0.0, "failed": False}
    if drawn:
        zero[f"stock_drawn_{unit}"] = 0.0
    for name in zero:
        nodes.setdefault(name, [None] * len(node_sid))
    props = list(nodes)

    def position(sid: str, code: str, stage: int = 0) -> int:
        """The Impact of ``code`` at ``stage`` in ``sid``, made (with zero loss) when the
        cascade passed loss through a country without leaving any there, or for a source."""
        key = (sid, stage, code)
        if key not in positions:
            positions[key] = len(node_sid)
            node_sid.append(sid)
            row = {"iso3": code, "stage": stage, "source": False, **zero}
            for name in props:
                nodes[name].append(row.get(name))
        return positions[key]

    for sid, sources, origin in zip(sids, scenario_sources, origins, strict=True):
        for code in str(sources).split(";"):
            nodes["source"][position(sid, code, origin)] = True

    if "stage_shock" in scenarios:
        initial = dict(zip(sids, scenarios["stage_shock"], strict=True))
    else:
        shocks = zip(sids, scenarios["initial_shock"], strict=True)
        initial = {sid: {0: float(q)} for sid, q in shocks}
    # Each hop's share of its stage's initial shock, and its first round, as whole columns.
    shock = np.array([initial[sid][k] for sid, k in zip(edge_ids, edge_stages, strict=True)])
    quantity = edges["quantity"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(shock > 0, quantity / np.where(shock > 0, shock, 1.0), np.nan)
    rounds = edges["first_round"].to_numpy(dtype=float, na_value=np.nan)
    hops = {
        "a": [
            position(sid, a, k) for sid, k, a in zip(edge_ids, edge_stages, edge_from, strict=True)
        ],
        "b": [
            position(sid, b, k) for sid, k, b in zip(edge_ids, edge_stages, edge_to, strict=True)
        ],
        "from": edge_from,
        "to": edge_to,
        "q": _floats(quantity),
        "share": _floats(share),
        "first": [None if r != r else int(r) for r in rounds.tolist()],
    }
    starves: list[dict[str, Any]] = []
    cuts = zip(
        starving["id"].tolist(),
        _stages(starving),
        starving["country"].tolist(),
        _floats(starving["coupling_cut"]),
        strict=True,
    )
    for sid, k, code, q in cuts:
        position(sid, code, k - 1)
        position(sid, code, k)
        stage_shock = float(initial[sid][k])
        starves.append(
            {
                "scenario": sid,
                "iso3": code,
                "from_stage": k - 1,
                "to_stage": k,
                "props": {
                    f"cut_{unit}": q,
                    "share": q / stage_shock if q and stage_shock > 0 else None,
                },
            }
        )
    empty: dict[str, list[Any]] = {MINOR + k: [] for k in columns} if lean else {}
    minor = {
        sid: {
            **empty,
            **{k: _listed(v, k.removeprefix(MINOR) in numbers) for k, v in minors[sid].items()},
        }
        for sid in sids
    }
    return Cascades(sids, node_sid, nodes, hops, starves, minor)


@dataclass(frozen=True)
class Cascades:
    """One transaction's cascades as columns (:func:`_cascades`): ``nodes`` (a list per Impact
    property), each Impact's scenario, the hops between Impacts by position (``a``, ``b``) with
    their codes, quantity, share and first round, the STARVES rows, and per scenario the
    ``minor_*`` lists of the countries hit without an Impact."""

    ids: list[str]
    node_scenario: list[str]
    nodes: dict[str, list[Any]]
    hops: dict[str, list[Any]]
    starves: list[dict[str, Any]]
    minor: dict[str, dict[str, list[Any]]]

    @property
    def relationships(self) -> int:
        """What the cascade statement must create for the cascades: HIT and OF per Impact,
        TRANSMITS per hop (and a SHOCKS per shock, see :meth:`statement`)."""
        return 2 * len(self.node_scenario) + len(self.hops["a"])

    def statement(self, unit: Unit, shocks: Sequence[Shocked]) -> Statement:
        """The cascade statement and its parameters (countries and scenarios by position),
        with the scenarios' ``shocks``."""
        codes = sorted(set(self.nodes["iso3"]) | {s.country for s in shocks})
        code_at = {code: n for n, code in enumerate(codes)}
        scenario_at = {sid: n for n, sid in enumerate(self.ids)}
        properties = tuple(self.nodes)
        params = {
            "codes": codes,
            "ids": self.ids,
            "shock_scenario": [scenario_at[s.scenario] for s in shocks],
            "shock_country": [code_at[s.country] for s in shocks],
            "shock_fraction": [s.fraction for s in shocks],
            "shock_targets": [s.targets for s in shocks],
            "node_scenario": [scenario_at[sid] for sid in self.node_scenario],
            "node_country": [code_at[code] for code in self.nodes["iso3"]],
            "p": [self.nodes[name] for name in properties],
            "edge_a": self.hops["a"],
            "edge_b": self.hops["b"],
            "edge_from": [code_at[code] for code in self.hops["from"]],
            "edge_to": [code_at[code] for code in self.hops["to"]],
            "edge_q": self.hops["q"],
            "edge_share": self.hops["share"],
            "edge_first": self.hops["first"],
        }
        return (cascade_statement(unit, properties), params, self.relationships + len(shocks))


class Shocked(NamedTuple):
    """One source's shock in a scenario: a SHOCKS relationship."""

    scenario: str
    country: str
    fraction: float
    targets: list[str]


def transaction_size() -> int:
    """Graph entities a write transaction aims at: ``CRITMIN_ENTITIES_PER_TRANSACTION`` or
    :data:`ENTITIES_PER_TRANSACTION` (a scenario bigger than that has a transaction alone).

    Bigger transactions commit less often and hold more memory on the server; the default suits
    a 1 GB heap and measured fastest.
    """
    text = os.environ.get("CRITMIN_ENTITIES_PER_TRANSACTION", "")
    if not text:
        return ENTITIES_PER_TRANSACTION
    if not text.isdigit() or int(text) < 1:
        raise CritminError(
            f"CRITMIN_ENTITIES_PER_TRANSACTION must be a whole number >= 1, not {text!r}"
        )
    return int(text)


def write_workers() -> int:
    """Write transactions run at once: ``CRITMIN_WRITE_WORKERS`` or 2 (the server commits
    one while the next is planned and sent; more rarely helps on a small machine)."""
    text = os.environ.get("CRITMIN_WRITE_WORKERS", "")
    if not text:
        return WRITE_WORKERS
    if not text.isdigit() or int(text) < 1:
        raise CritminError(f"CRITMIN_WRITE_WORKERS must be a whole number >= 1, not {text!r}")
    return int(text)


def _units(
    scenarios: pd.DataFrame,
    impacts: pd.DataFrame,
    transmitted: pd.DataFrame,
    info: RunInfo,
    drawn: bool,
    lean: bool,
) -> Iterator[list[Statement]]:
    """The statements of whole scenarios, one transaction each, packed up to
    :func:`transaction_size` entities.

    Each transaction's rows are made when it is next (a generator): while the server writes
    one, the next is prepared. Every CREATE is checked against the relationships it must make:
    HIT and OF per Impact, one TRANSMITS per edge, one SHOCKS per source.
    """
    unit = suffix(info.unit)
    keys = info.keys
    ids = scenarios[[*keys, "id"]]
    hits = impacts.merge(ids, on=keys, how="inner")
    edges = transmitted.merge(ids, on=keys, how="inner")
    # Each scenario's entities before the lean rule (an Impact with HIT and OF per country hit,
    # a TRANSMITS per hop, the Scenario, SHOCKS and INCLUDES), then consecutive scenarios
    # packed: a transaction starts where the running total passes a multiple of the budget.
    entities = (
        3 * hits["id"].value_counts().reindex(ids["id"], fill_value=0).to_numpy()
        + edges["id"].value_counts().reindex(ids["id"], fill_value=0).to_numpy()
        + 3
    )
    before = np.cumsum(entities) - entities
    chunks = before // transaction_size()
    starts = np.flatnonzero(np.diff(chunks, prepend=-1))
    number_of = dict(zip(ids["id"].tolist(), chunks.tolist(), strict=True))
    hits["chunk"] = hits["id"].map(number_of)
    edges["chunk"] = edges["id"].map(number_of)
    hit_parts = dict(tuple(hits.groupby("chunk", sort=False)))
    edge_parts = dict(tuple(edges.groupby("chunk", sort=False)))
    for start, stop in zip(starts.tolist(), [*starts[1:].tolist(), len(scenarios)], strict=True):
        number = int(chunks[start])
        chunk = scenarios.iloc[start:stop]
        cascades = _cascades(
            chunk,
            hit_parts.get(number, hits.iloc[0:0]),
            edge_parts.get(number, edges.iloc[0:0]),
            unit,
            drawn,
            lean,
        )
        ids = list(chunk["id"])
        shocks = [
            Shocked(sid, code, own, targets)
            for sid, srcs, f in zip(chunk["id"], chunk["sources"], chunk["fraction"], strict=True)
            for code in srcs.split(";")
            for own, targets in [info.shock_of(code, float(f))]
        ]
        upserts = [
            {"id": i, "props": {**p, **cascades.minor[i]}}
            for i, p in zip(ids, chunk["props"], strict=True)
        ]
        starves = cascades.starves
        yield [
            (UPSERT_SCENARIOS, {"rows": upserts}, None),
            cascades.statement(Unit.of(info.unit), shocks),
            *([(CREATE_STARVES, {"rows": starves}, len(starves))] if starves else []),
        ]


def _run_props(info: RunInfo, runs: pd.DataFrame, created: str) -> dict[str, Any]:
    parameters = {
        k: v for k, v in info.parameters.items() if isinstance(v, str | int | float | bool)
    }
    return {
        **parameters,
        "id": info.id,
        "command": redact_command(info.command),
        "commodity": info.commodity,
        "kind": RunKind(info.kind).value,
        "is_study": info.is_study,
        "status": "running",
        "unit": info.unit,
        "years": sorted({int(y) for y in runs["year"]}),
        "fractions": sorted({float(f) for f in runs["fraction"]}, reverse=True),
        "targets": info.all_targets(),
        "stockpiles": list(info.stockpiles),
        "n_years": info.n_years,
        "n_panel": info.n_panel,
        "n_scenarios_planned": len(runs),
        "parameters": parameter_key(info.parameters),
        "model_version": MODEL_VERSION,
        "schema_version": SCHEMA_VERSION,
        "pid": os.getpid(),
        "created_at": created,
        **dict(info.extra or {}),
    }


def _summary_rows(
    tables: StudyTables, info: RunInfo, names: Mapping[str, str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The study tables as summary nodes' properties, tagged with the run and its unit."""
    unit = suffix(info.unit)
    common = {"run_id": info.id, "commodity": info.commodity, "unit": info.unit}

    def rows(frame: pd.DataFrame, rename: Mapping[str, str]) -> list[dict[str, Any]]:
        out = []
        for record in neo4j_rows(frame.rename(columns=dict(rename))):
            record = {k: v for k, v in record.items() if v is not None}
            record["shock"] = float(record.pop("fraction"))
            for key in ("source", "country"):
                if key in record:
                    record[f"{key}_name"] = names.get(record[key], record[key])
            out.append({**common, **record})
        return out

    money = {
        c: f"{c}_{unit}"
        for c in (
            "mean_loss_all_runs",
            "mean_loss_when_hit",
            "total_loss",
            "received",
            "passed_on",
            "absorbed",
            "mean_loss",
        )
    }
    return [
        (CREATE_SWEEP_SOURCES, rows(tables.sources, {})),
        (CREATE_SWEEP_COUNTRIES, rows(tables.countries, money)),
        (CREATE_SWEEP_EXPOSURE, rows(tables.exposure, money)),
    ]


def write_sweep(
    store: GraphStore,
    runs: pd.DataFrame,
    impacts: pd.DataFrame,
    transmitted: pd.DataFrame,
    info: RunInfo,
    tables: StudyTables | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Write (or replace) every run of a sweep as a scenario, then its summaries; return the
    scenario ids in the order of ``runs``.

    The ``(:Run)`` is ``running`` until the last scenario and the summaries are stored, then
    ``complete``; an exception on the way (Ctrl-C included) marks it ``interrupted`` and
    re-raises. Scenarios written before stay whole. The summaries are ``tables`` (of study and
    selection runs), computed from ``runs`` and ``impacts`` when not given.
    """
    check_schema(store, writing=True)
    if not info.n_years:
        info = replace(info, n_years=int(runs["year"].nunique()))
    if tables is None and RunKind(info.kind).has_tables and not info.chain:
        tables = study_tables(runs, impacts, info.n_years, info.n_panel)
    created = now()
    drawn = bool(info.stockpiles) and "stock_drawn" in impacts
    if drawn:  # each scenario's total draw, beside its initial shock
        totals = impacts.groupby(SCENARIO_KEYS, sort=False)["stock_drawn"].sum()
        runs = runs.drop(columns=["stock_drawn"], errors="ignore")
        runs = runs.merge(totals.reset_index(), on=SCENARIO_KEYS, how="left")
        runs["stock_drawn"] = runs["stock_drawn"].fillna(0.0)
    if info.chain:  # one scenario per source and source stage, its stages as lists
        runs = chain_scenarios(runs, impacts, info.unit)
        tables = None  # the study's tables are of single-stage sweeps
    in_order = _scenario_rows(runs, info, created)
    # Written in id order: two writers of the same scenarios then lock them in the same order.
    scenarios = in_order.sort_values("id", kind="stable").reset_index(drop=True)
    lean = info.kind != "policy" and not drawn  # their stock reads need every country
    # The run's lease lives as long as this writer and is taken before the run is marked
    # ``running``: a running run without a live lease was abandoned (its process was killed),
    # which :func:`~critmin.store.scenario_reads.unfinished_after` and the library's ``sweeps``
    # query say.
    holder = holder_label(info.command or "critmin simulate")
    written: list[str] = []  # scenarios whose transaction committed (from the writer threads)
    counting = threading.Lock()

    def committed(unit: Sequence[Statement]) -> None:
        if unit[0][0] is not UPSERT_SCENARIOS:
            return  # a unit of summary rows
        ids = [row["id"] for row in unit[0][1]["rows"]]  # the unit's scenarios
        with counting:
            written.extend(ids)
        if progress is not None:
            progress(len(ids))

    finishing = False
    try:
        with exclusive(store, run_lease(info.id), holder):
            store.write_unit(
                [
                    (BEGIN_RUN, {"id": info.id, "props": _run_props(info, runs, created)}, None),
                    *((c, {"run_id": info.id}, None) for c in DELETE_SUMMARIES),
                ]
            )
            # The summary rows go with the scenarios, transactions of their own in the same
            # pool: only a complete run is read, so they need not commit with its status.
            summaries: list[list[Statement]] = []
            if tables is not None and RunKind(info.kind).has_tables:
                summaries = [
                    [(cypher, {"rows": rows[i : i + SUMMARY_BATCH]}, None)]
                    for cypher, rows in _summary_rows(tables, info, country_names(store))
                    for i in range(0, len(rows), SUMMARY_BATCH)
                ]
            store.write_units(
                itertools.chain(
                    _units(scenarios, impacts, transmitted, info, drawn, lean), summaries
                ),
                workers=write_workers(),
                progress=committed,
            )
            finish: list[Statement] = [
                (INCLUDE_SCENARIOS, {"run_id": info.id, "ids": list(scenarios["id"])}, None),
                (FINISH_RUN, {"id": info.id, "now": now(), "n_scenarios": len(scenarios)}, None),
            ]
            finishing = True
            store.write_unit(finish)
    except BaseException as exc:
        _mark_interrupted(store, info.id, exc, written)
        status = _status_after(store, info.id) if finishing else "running"
        exc.add_note(_kept(info.id, len(written), len(scenarios), status))
        raise
    return list(in_order["id"])


def _status_after(store: GraphStore, run_id: str) -> str | None:
    """A run's status read back after its last write failed, or None when it cannot be read."""
    try:
        status = run_properties(store, run_id).get("status")
    except Exception:  # the server that failed the write may not answer either
        return None
    return None if status is None else str(status)


def _kept(run_id: str, stored: int, planned: int, status: str | None) -> str:
    """What a sweep that stopped left in the graph, and what to do, for the user's one line.

    ``status`` is the run's as read back after its last write (the tables and the 'complete'
    mark) failed; ``running`` when it failed before that write.
    """
    if status == "complete":
        return (
            f"run {run_id} is nevertheless complete: its last write committed before the error, "
            f"and all {planned:,} scenarios and its tables are stored"
        )
    if status is None:
        return (
            f"run {run_id}: all {planned:,} scenarios were stored, each whole, but whether its "
            "last write (its tables and the 'complete' mark) was applied is unknown until the "
            "server answers again: then `critmin query sweeps` shows the run's status; unless "
            "it is complete, re-run the same command"
        )
    return (
        f"run {run_id} did not complete: {stored:,} of {planned:,} scenarios were stored, each "
        "whole, and its tables were not; re-running the same command completes it"
    )


# A run written again under the same id (a policy scenario re-run from its file) first lets go
# of what it included: its INCLUDES, then the scenarios no other run includes, with their
# cascades.
RELEASE_RUN = """
MATCH (:Run {id: $id})-[i:INCLUDES]->(:Scenario)
DELETE i
"""

DELETE_ORPHANS = """
UNWIND $ids AS id
MATCH (s:Scenario {id: id}) WHERE NOT EXISTS { (:Run)-[:INCLUDES]->(s) }
OPTIONAL MATCH (s)-[:HIT]->(h:Impact)
DETACH DELETE h
WITH DISTINCT s
DETACH DELETE s
"""

INCLUDED = "MATCH (:Run {id: $id})-[:INCLUDES]->(s:Scenario) RETURN s.id AS id"
COUNT_SCENARIOS = "UNWIND $ids AS id MATCH (s:Scenario {id: id}) RETURN count(s) AS n"


def forget_run(store: GraphStore, run_id: str) -> int:
    """Detach a run from its scenarios and delete those no other run includes.

    What a run stored under a fixed id (a policy scenario's) leaves behind before it is
    written again, so a re-run of a changed file keeps no scenario of the old one. The
    ``(:Run)`` node itself stays (the next write replaces its properties). Returns the number
    of scenarios deleted.
    """
    check_schema(store, writing=True)
    ids = [str(r["id"]) for r in store.records(INCLUDED, id=run_id)]
    if not ids:
        return 0
    store.write_unit([(RELEASE_RUN, {"id": run_id}, None)])
    before = len(ids)
    store.write_unit([(DELETE_ORPHANS, {"ids": ids}, None)])
    left = store.records(COUNT_SCENARIOS, ids=ids)
    return before - int(left[0]["n"])


SET_STOCK_NEEDED = """
UNWIND $rows AS row
MATCH (:Scenario {id: row.scenario})-[:HIT]->(h:Impact {iso3: row.iso3})
SET h += row.props
"""


def save_stock_needed(store: GraphStore, scenario: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store on a scenario's Impacts the stock each country needed not to fail.

    ``rows``: ``iso3`` and ``props`` (``stock_needed_t|usd``, ``stock_needed_months``).
    """
    payload = [{"scenario": scenario, "iso3": r["iso3"], "props": dict(r["props"])} for r in rows]
    if payload:
        store.write_unit([(SET_STOCK_NEEDED, {"rows": payload}, None)])


def _mark_interrupted(
    store: GraphStore, run_id: str, exc: BaseException, written: Sequence[str]
) -> None:
    """Best effort (the server may be the reason the run stopped): the run says it was
    interrupted and includes the scenarios it stored whole."""
    try:
        store.write_unit(
            [
                (INCLUDE_SCENARIOS, {"run_id": run_id, "ids": list(written)}, None),
                (INTERRUPT_RUN, {"id": run_id, "now": now(), "reason": type(exc).__name__}, None),
            ]
        )
    except Exception:
        pass


# ---------------------------------------------------------------- stale runs

RUN_COMMODITIES = "MATCH (r:Run) RETURN DISTINCT r.commodity AS commodity"

# Runs created before a load that changed flows (or production) of one of their years: their
# numbers were computed on other data. ``stale_years`` gathers every such year.
MARK_STALE = """
UNWIND $marks AS m
MATCH (r:Run {commodity: m.commodity})
WHERE r.created_at < $now AND any(y IN r.years WHERE y IN m.years)
WITH r, coalesce(r.stale_years, []) + [y IN r.years WHERE y IN m.years] AS years
SET r.stale = true, r.stale_since = coalesce(r.stale_since, $now),
    r.stale_years = reduce(out = [], y IN years | CASE WHEN y IN out THEN out ELSE out + y END)
"""


def mark_stale_runs(store: GraphStore, kind: str, touched: pd.DataFrame) -> int:
    """Mark stale the stored runs whose commodity and years a load just changed.

    ``kind`` is ``TRADES`` (``touched`` has ``hs`` and ``year``: the new and changed flows) or
    ``PRODUCED`` (``commodity`` and ``year``). A run's commodity group maps codes to runs
    (its HS prefixes, its production series); groups this critmin does not know are left
    alone. Returns the number of commodities whose runs were looked at.
    """
    if touched.empty:
        return 0
    column = "hs" if kind == "TRADES" else "commodity"
    pairs = touched[[column, "year"]].drop_duplicates()
    marks = []
    for commodity in store.query(RUN_COMMODITIES).get("commodity", []):
        try:
            group = find_group(str(commodity))
        except UnknownCommodity:
            continue
        if kind == "TRADES":
            hit = pairs[[group.matches(str(code)) for code in pairs[column]]]
        else:
            hit = pairs[pairs[column] == group.production_commodity]
        years = sorted({int(y) for y in hit["year"]})
        if years:
            marks.append({"commodity": str(commodity), "years": years})
    if marks:
        store.execute(MARK_STALE, marks=marks, now=now())
    return len(marks)


# ---------------------------------------------------------------- network measures

METRIC_KEYS = """
MATCH (s:Scenario {id: $id})
RETURN [k IN keys(s) WHERE k STARTS WITH 'metrics_'] AS keys
"""

SAVE_METRICS = "MATCH (s:Scenario {id: $id}) SET s += $props"


def save_metrics(store: GraphStore, scenario_id: str, props: Mapping[str, Any]) -> None:
    """Replace a scenario's stored network measures (``metrics_*`` properties) by ``props``."""
    rows = store.records(METRIC_KEYS, id=scenario_id)
    stale = {key: None for key in (rows[0]["keys"] if rows else []) if key not in props}
    store.execute(SAVE_METRICS, id=scenario_id, props={**stale, **dict(props)})
