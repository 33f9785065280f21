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

import pandas as pd

from critmin.store.graph import GraphStore
from critmin.store.loading import _records
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
        "parameters": {k: parameters[k] for k in sorted(parameters)},
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
    for record, rate in zip(_records(rows), rows["n_failed"] / eligible, strict=True):
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


def _keyed(frame: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    return frame.merge(ids[[*SCENARIO_KEYS, "id"]], on=SCENARIO_KEYS, how="inner").rename(
        columns={"id": "scenario"}
    )


def _units(
    scenarios: pd.DataFrame, impacts: pd.DataFrame, transmitted: pd.DataFrame, unit: str,
    targets: tuple[str, ...],
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Group the statements of ``SCENARIOS_PER_TRANSACTION`` scenarios into one unit each."""
    impacts = _keyed(impacts, scenarios)
    transmitted = _keyed(transmitted, scenarios)
    by_impact = dict(tuple(impacts.groupby("scenario")))
    by_transmit = dict(tuple(transmitted.groupby("scenario")))
    empty_i, empty_t = impacts.iloc[0:0], transmitted.iloc[0:0]
    for start in range(0, len(scenarios), SCENARIOS_PER_TRANSACTION):
        chunk = scenarios.iloc[start : start + SCENARIOS_PER_TRANSACTION]
        ids = list(chunk["id"])
        shocks = [
            {"scenario": sid, "country": code, "fraction": float(f), "targets": list(targets)}
            for sid, srcs, f in zip(chunk["id"], chunk["sources"], chunk["fraction"], strict=True)
            for code in srcs.split(";")
        ]
        imp = pd.concat([by_impact.get(i, empty_i) for i in ids], ignore_index=True)
        trn = pd.concat([by_transmit.get(i, empty_t) for i in ids], ignore_index=True)
        yield [
            (DELETE_OLD, {"ids": ids}),
            (UPSERT_SCENARIOS, {"rows": [{"id": i, "props": p} for i, p in zip(ids, chunk["props"], strict=True)]}),
            (CREATE_SHOCKS, {"rows": shocks}),
            (CREATE_IMPACTS, {"rows": _impact_rows(imp, unit)}),
            (CREATE_TRANSMITS, {"rows": _transmit_rows(trn, unit)}),
        ]


def _impact_rows(impacts: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    if impacts.empty:
        return []
    renamed = impacts.rename(
        columns={"demand_loss": f"demand_loss_{unit}", "gross_hit": f"gross_hit_{unit}"}
    )
    columns = [f"demand_loss_{unit}", "relative_loss", f"gross_hit_{unit}", "failed", "first_round"]
    props = _records(renamed[columns])
    return [
        {"scenario": s, "country": c, "props": {k: v for k, v in p.items() if v is not None}}
        for s, c, p in zip(renamed["scenario"], renamed["country"], props, strict=True)
    ]


def _transmit_rows(transmitted: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    if transmitted.empty:
        return []
    name = "tonnes" if unit == "t" else "value_usd"
    props = _records(transmitted[["scenario", "quantity", "first_round"]].rename(columns={"quantity": name}))
    return [
        {"source": a, "target": b, "props": p}
        for a, b, p in zip(transmitted["source"], transmitted["target"], props, strict=True)
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
    created = datetime.now(UTC).isoformat(timespec="seconds")
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
