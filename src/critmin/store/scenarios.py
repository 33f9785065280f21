"""Writing sweep results back as scenario-tagged nodes and relationships.

Graph model (architecture.md):

* ``(:Run {id, command, commodity, years, fractions, created_at, ...})`` one per sweep;
* ``(:Scenario {id, commodity, year, shock, sources, mode, unit, <parameters>, rounds, n_failed,
  failure_rate, n_countries, n_panel, model_version, data_version, run_id, created_at})``;
* ``(:Scenario)-[:SHOCKS {fraction, targets}]->(:Country)`` the sources;
* ``(:Scenario)-[:IMPACTS {demand_loss_t, relative_loss, gross_hit_t, failed, first_round}]->``;
* ``(:Country)-[:TRANSMITS {scenario, tonnes, first_round}]->(:Country)``.

Quantity properties carry their unit in their name: ``_t``/``tonnes`` for networks in tonnes,
``_usd``/``value_usd`` for networks in trade value, so no property ever holds a number in a unit
other than the one its name says. ``Scenario.unit`` says which one a scenario uses.

A scenario's id is a digest of what defines it (commodity, year, sources, fraction, targets,
mode, parameters), not of the data, so re-running replaces it; ``data_version`` records which
data it was computed from. Each transaction writes whole scenarios (old relationships deleted,
new ones created), so an interrupted write-back leaves every scenario either old or new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from critmin.store.graph import GraphStore, neo4j_rows
from critmin.store.schema import ensure_schema

MODEL_VERSION = "critmin-cascade-1 (reconstruction of Grassia et al. 2022, see docs/model.md)"
SCENARIOS_PER_TRANSACTION = 50

UPSERT_SCENARIOS = """
UNWIND $rows AS row
MERGE (s:Scenario {id: row.id})
SET s = row.props
"""

DELETE_OLD = """
UNWIND $ids AS id
MATCH (s:Scenario {id: id})
OPTIONAL MATCH (s)-[r:SHOCKS|IMPACTS]->()
DELETE r
WITH DISTINCT id
MATCH ()-[t:TRANSMITS {scenario: id}]->()
DELETE t
"""

CREATE_SHOCKS = """
UNWIND $rows AS row
MATCH (s:Scenario {id: row.scenario})
MATCH (c:Country {iso3: row.country})
CREATE (s)-[:SHOCKS {fraction: row.fraction, targets: row.targets}]->(c)
"""

CREATE_IMPACTS = """
UNWIND $rows AS row
MATCH (s:Scenario {id: row.scenario})
MATCH (c:Country {iso3: row.country})
CREATE (s)-[i:IMPACTS]->(c)
SET i = row.props
"""

CREATE_TRANSMITS = """
UNWIND $rows AS row
MATCH (a:Country {iso3: row.source})
MATCH (b:Country {iso3: row.target})
CREATE (a)-[t:TRANSMITS]->(b)
SET t = row.props
"""

UPSERT_RUN = """
MERGE (r:Run {id: $id})
SET r = $props
"""

SCENARIO_KEYS = ["year", "sources", "fraction"]


def suffix(unit: str) -> str:
    """Property-name suffix for a unit: ``t`` or ``usd``."""
    if unit not in ("t", "USD"):
        raise ValueError(f"unit must be 't' or 'USD', not {unit!r}")
    return "t" if unit == "t" else "usd"


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
) -> str:
    """Deterministic id: the same scenario definition always gets the same id.

    >>> a = scenario_id("cobalt", 2020, "COD", 1.0, {"alpha": 0.8, "mode": "export"})
    >>> a == scenario_id("cobalt", 2020, "COD", 1.0, {"mode": "export", "alpha": 0.8})
    True
    >>> a == scenario_id("cobalt", 2020, "COD", 0.5, {"alpha": 0.8, "mode": "export"})
    False
    """
    definition = {
        "commodity": commodity,
        "year": int(year),
        "sources": sorted(sources.split(";")),
        "fraction": round(float(fraction), 12),
        "targets": sorted(targets),
        "parameters": parameter_key(parameters),
    }
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode())
    return "sc_" + digest.hexdigest()[:20]


@dataclass(frozen=True)
class RunInfo:
    """What the sweep was: stored on its ``(:Run)`` node and on each scenario."""

    id: str
    command: str
    commodity: str
    unit: str
    parameters: Mapping[str, Any]
    n_panel: int
    data_versions: Mapping[int, str]
    targets: tuple[str, ...] = ()
    extra: Mapping[str, Any] | None = None


def _scenario_rows(runs: pd.DataFrame, info: RunInfo, created: str) -> pd.DataFrame:
    unit = suffix(info.unit)
    rows = runs.copy()
    rows["id"] = [
        scenario_id(info.commodity, y, s, f, info.parameters, info.targets)
        for y, s, f in zip(rows["year"], rows["sources"], rows["fraction"], strict=True)
    ]
    n_sources = rows["sources"].str.count(";") + 1
    eligible = (rows["n_countries"] - n_sources).clip(lower=1)
    props = []
    for record, rate in zip(neo4j_rows(rows), rows["n_failed"] / eligible, strict=True):
        prop = {k: v for k, v in record.items() if k not in ("initial_shock", "sources")}
        prop.update(
            {
                "id": record["id"],
                "commodity": info.commodity,
                "shock": record["fraction"],
                "sources": record["sources"].split(";"),
                "targets": list(info.targets),
                f"initial_shock_{unit}": record["initial_shock"],
                "failure_rate": float(rate),
                "parameters": parameter_key(info.parameters),
                "n_panel": info.n_panel,
                "model_version": MODEL_VERSION,
                "data_version": info.data_versions.get(int(record["year"]), ""),
                "run_id": info.id,
                "created_at": created,
            }
        )
        props.append(prop)
    rows["props"] = props
    return rows


def _grouped_rows(
    frame: pd.DataFrame, scenarios: pd.DataFrame, build: Callable[[pd.DataFrame], list[Any]]
) -> tuple[list[Any], npt.NDArray[np.int64]]:
    """Rows of ``frame`` built once, ordered by scenario, with each scenario's start offset."""
    keyed = frame.merge(scenarios[[*SCENARIO_KEYS, "id"]], on=SCENARIO_KEYS, how="inner")
    position = pd.Series(np.arange(len(scenarios)), index=scenarios["id"])
    keyed["position"] = keyed["id"].map(position)
    keyed = keyed.sort_values("position", kind="stable").rename(columns={"id": "scenario"})
    starts = np.searchsorted(keyed["position"].to_numpy(), np.arange(len(scenarios) + 1))
    return build(keyed), starts


def _units(
    scenarios: pd.DataFrame,
    impacts: pd.DataFrame,
    transmitted: pd.DataFrame,
    unit: str,
    targets: tuple[str, ...],
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Group the statements of ``SCENARIOS_PER_TRANSACTION`` scenarios into one unit each."""
    impact_rows, impact_at = _grouped_rows(impacts, scenarios, lambda f: _impact_rows(f, unit))
    transmit_rows, transmit_at = _grouped_rows(
        transmitted, scenarios, lambda f: _transmit_rows(f, unit)
    )
    for start in range(0, len(scenarios), SCENARIOS_PER_TRANSACTION):
        stop = min(start + SCENARIOS_PER_TRANSACTION, len(scenarios))
        chunk = scenarios.iloc[start:stop]
        ids = list(chunk["id"])
        shocks = [
            {"scenario": sid, "country": code, "fraction": float(f), "targets": list(targets)}
            for sid, srcs, f in zip(chunk["id"], chunk["sources"], chunk["fraction"], strict=True)
            for code in srcs.split(";")
        ]
        upserts = [{"id": i, "props": p} for i, p in zip(ids, chunk["props"], strict=True)]
        yield [
            (DELETE_OLD, {"ids": ids}),
            (UPSERT_SCENARIOS, {"rows": upserts}),
            (CREATE_SHOCKS, {"rows": shocks}),
            (CREATE_IMPACTS, {"rows": impact_rows[impact_at[start] : impact_at[stop]]}),
            (CREATE_TRANSMITS, {"rows": transmit_rows[transmit_at[start] : transmit_at[stop]]}),
        ]


def _floats(series: pd.Series) -> list[float | None]:
    """Plain floats with None for missing values (Neo4j would store NaN as a number)."""
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return [None if v != v else float(v) for v in values]


def _impact_rows(impacts: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    first_round = _floats(impacts["first_round"])
    columns = zip(
        impacts["scenario"],
        impacts["country"],
        _floats(impacts["demand_loss"]),
        _floats(impacts["relative_loss"]),
        _floats(impacts["gross_hit"]),
        impacts["failed"].astype(bool),
        first_round,
        strict=True,
    )
    rows = []
    for scenario, country, loss, relative, gross, failed, first in columns:
        props: dict[str, Any] = {
            f"demand_loss_{unit}": loss,
            f"gross_hit_{unit}": gross,
            "failed": bool(failed),
        }
        if relative is not None:
            props["relative_loss"] = relative
        if first is not None:
            props["first_round"] = int(first)
        rows.append({"scenario": scenario, "country": country, "props": props})
    return rows


def _transmit_rows(transmitted: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    name = "tonnes" if unit == "t" else "value_usd"
    columns = zip(
        transmitted["scenario"],
        transmitted["source"],
        transmitted["target"],
        _floats(transmitted["quantity"]),
        _floats(transmitted["first_round"]),
        strict=True,
    )
    return [
        {
            "source": a,
            "target": b,
            "props": {"scenario": s, name: q, "first_round": None if r is None else int(r)},
        }
        for s, a, b, q, r in columns
    ]


def write_sweep(
    store: GraphStore,
    runs: pd.DataFrame,
    impacts: pd.DataFrame,
    transmitted: pd.DataFrame,
    info: RunInfo,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Write (or replace) every run of a sweep as a scenario; return the scenario ids."""
    ensure_schema(store)
    created = datetime.now(UTC).isoformat(timespec="microseconds")
    scenarios = _scenario_rows(runs, info, created)
    unit = suffix(info.unit)
    store.write_units(
        _units(scenarios, impacts, transmitted, unit, info.targets),
        progress=(lambda _unit: progress(SCENARIOS_PER_TRANSACTION)) if progress else None,
    )
    run_props = {
        "id": info.id,
        "command": info.command,
        "commodity": info.commodity,
        "unit": info.unit,
        "years": sorted({int(y) for y in runs["year"]}),
        "fractions": sorted({float(f) for f in runs["fraction"]}),
        "n_scenarios": len(scenarios),
        "parameters": json.dumps(dict(info.parameters), sort_keys=True, default=str),
        "model_version": MODEL_VERSION,
        "created_at": created,
        **dict(info.extra or {}),
    }
    store.execute(UPSERT_RUN, id=info.id, props=run_props)
    return list(scenarios["id"])
