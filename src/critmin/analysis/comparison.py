"""A trade network before and after scenarios: rerun them, measure both, store the measures.

The graph stores what a scenario did to countries (IMPACTS) and the loss each country passed to
another (TRANSMITS), not the flows at the end of the cascade; original weights minus the losses
along each link are not those flows either (a link is also grown by requests for more imports,
and a TRANSMITS mixes both directions of a reciprocal pair). So each scenario is rerun here with
the reference engine, which keeps the final flows, from its stored definition and parameters on
the network rebuilt from the graph, and checked against what was stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import pandas as pd

from critmin.analysis.metrics.summary import NetworkMeasures, network_measures, side_by_side
from critmin.analysis.reads import MEASURE_OF_UNIT, year_network
from critmin.loader.commodities import CommodityGroup
from critmin.simulator import Parameters, Shock, TradeNetwork, simulate
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import NoScenarios, matching_scenarios, scenario
from critmin.store.scenario_writes import save_metrics

__all__ = [
    "LINK_RTOL",
    "Comparison",
    "ScenarioRun",
    "compare",
    "find_runs",
    "load_run",
    "save_measures",
]

#: Links weighing at most this share of the original network's total count as cut: a link
#: the cascade empties can keep a floating-point residue (~1e-16 of its weight).
LINK_RTOL = 1e-9

PARAMETER_NAMES = tuple(f.name for f in dataclasses.fields(Parameters))


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario to rerun: a stored one (``scenario_id`` set) or a fresh definition."""

    commodity: str
    year: int
    sources: tuple[str, ...]
    shock: float
    parameters: Mapping[str, Any]
    targets: tuple[str, ...] = ()
    unit: str | None = None
    scenario_id: str | None = None
    stored: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_properties(cls, props: Mapping[str, Any]) -> Self:
        """The run a stored ``(:Scenario)`` describes (parameters it lacks take defaults)."""
        return cls(
            commodity=str(props["commodity"]),
            year=int(props["year"]),
            sources=tuple(props["sources"]),
            shock=float(props["shock"]),
            parameters={k: props[k] for k in PARAMETER_NAMES if props.get(k) is not None},
            targets=tuple(props.get("targets") or ()),
            unit=props.get("unit"),
            scenario_id=str(props["id"]),
            stored=dict(props),
        )

    @property
    def label(self) -> str:
        """``after 50% CHN``; the id is appended by :func:`compare` when labels collide."""
        return f"after {self.shock:.0%} {'+'.join(self.sources)}"

    def shocks(self) -> list[Shock]:
        return [Shock(s, self.shock, targets=self.targets or None) for s in self.sources]


def load_run(store: GraphStore, scenario_id: str) -> ScenarioRun:
    """The stored scenario ``scenario_id``.

    Raises
    ------
    NoScenarios
        When no scenario has that id.
    """
    props = scenario(store, scenario_id)
    if props is None:
        raise NoScenarios(
            f"no scenario {scenario_id!r}: list stored ones with "
            "`critmin query find_scenarios -p commodity=...`"
        )
    return ScenarioRun.from_properties(props)


def find_runs(
    store: GraphStore, commodity: str, year: int, source: str, shock: float, mode: str = "export"
) -> list[ScenarioRun]:
    """Stored untargeted single-source scenarios of ``source`` at ``shock``, newest first."""
    rows = matching_scenarios(store, commodity, year, source, shock, mode)
    return [ScenarioRun.from_properties(props) for props in rows]


@dataclass
class Comparison:
    """The measures of one network before and after each scenario, with what to know about them."""

    group: CommodityGroup
    year: int
    unit: str
    before: NetworkMeasures
    after: dict[str, NetworkMeasures]
    runs: dict[str, ScenarioRun]
    notes: list[str]

    def table(self) -> pd.DataFrame:
        """Measures as rows; ``before`` and one ``after ...`` column per scenario."""
        return side_by_side({"before": self.before, **self.after})


def _unit(runs: Sequence[ScenarioRun]) -> str | None:
    units = {r.unit for r in runs if r.unit}
    if len(units) > 1:
        raise ValueError(f"the scenarios use different units ({', '.join(sorted(units))})")
    return units.pop() if units else None


def _check(run: ScenarioRun, n_failed: int, data_version: str) -> list[str]:
    """Where a rerun may differ from what was stored, say so."""
    notes = []
    stored_version = run.stored.get("data_version")
    if stored_version and stored_version != data_version:
        notes.append(
            f"{run.scenario_id} was computed from other data (data_version {stored_version}, "
            f"now {data_version}): its rerun uses the data in the graph now"
        )
    if "n_failed" in run.stored and int(run.stored["n_failed"]) != n_failed:
        notes.append(
            f"{run.scenario_id}: the rerun fails {n_failed} countries, the stored run "
            f"{run.stored['n_failed']}"
        )
    return notes


def _rerun(
    network: TradeNetwork, run: ScenarioRun, min_weight: float
) -> tuple[NetworkMeasures, int]:
    result = simulate(network, run.shocks(), engine="reference", **dict(run.parameters))
    assert result.final_flows is not None, "the reference engine keeps the final flows"
    return network_measures(result.final_flows, network.unit, min_weight), result.n_failed


def compare(
    store: GraphStore,
    group: CommodityGroup,
    year: int,
    runs: Sequence[ScenarioRun] = (),
    measure: str = "auto",
) -> Comparison:
    """Measure the group's ``year`` network before and after each of ``runs``.

    The network is read in the scenarios' unit (``measure`` applies only when none is stored).

    Raises
    ------
    ValueError
        When a run belongs to another commodity or year, or the runs mix units.
    """
    for run in runs:
        if (run.commodity, run.year) != (group.id, year):
            raise ValueError(
                f"scenario {run.scenario_id} is {run.commodity} {run.year}, not {group.id} {year}"
            )
    unit = _unit(runs)
    network, panel = year_network(store, group, year, MEASURE_OF_UNIT[unit] if unit else measure)
    min_weight = LINK_RTOL * float(network.W.sum())
    comparison = Comparison(
        group,
        year,
        panel.unit,
        network_measures(network.flows(), panel.unit, min_weight),
        {},
        {},
        [],
    )
    for run in runs:
        label = run.label if run.label not in comparison.after else f"{run.label} {run.scenario_id}"
        comparison.after[label], n_failed = _rerun(network, run, min_weight)
        comparison.runs[label] = run
        if run.scenario_id is None:
            comparison.notes.append(
                f"{label}: no stored scenario; run with default parameters and not stored "
                f"(store one with `critmin simulate --commodity {group.id} --years {year} "
                f"--source {run.sources[0]} --shock {run.shock:g}`)"
            )
        else:
            comparison.notes.extend(_check(run, n_failed, panel.data_version(year)))
    return comparison


def save_measures(store: GraphStore, comparison: Comparison) -> list[str]:
    """Store before/after measures on each stored scenario's node; return the ids written.

    Properties are flat so Cypher can read them (``metrics_before_density``,
    ``metrics_after_total_weight_t``, ...); metrics properties from an earlier computation that
    the new set lacks are removed (set to null), so a node never mixes two computations.
    """
    written = []
    computed_at = datetime.now(UTC).isoformat(timespec="seconds")
    before = comparison.before.as_properties("metrics_before_")
    for label, run in comparison.runs.items():
        if run.scenario_id is None:
            continue
        props: dict[str, Any] = {
            **before,
            **comparison.after[label].as_properties("metrics_after_"),
            "metrics_engine": "reference",
            "metrics_link_rtol": LINK_RTOL,
            "metrics_computed_at": computed_at,
        }
        save_metrics(store, run.scenario_id, props)
        written.append(run.scenario_id)
    return written
