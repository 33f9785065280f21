"""A stored scenario's network before and after its cascade, with its measures.

The measures and the checks against the stored result come from
:func:`critmin.analysis.comparison.compare`, which re-runs the scenario with the reference
engine; it keeps the final flows to itself, so the picture needs one more (cheap) re-run of the
same stored definition on the same network.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from critmin.analysis.comparison import Comparison, ScenarioRun, compare, find_runs
from critmin.analysis.reads import MEASURE_OF_UNIT, year_network
from critmin.loader.commodities import CommodityGroup
from critmin.simulator import SimulationResult, simulate
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import NoScenarios

__all__ = ["AFTER_METHOD", "Rerun", "ScenarioChoice", "rerun"]

#: How the "after" network is obtained. Original flows minus the transmitted losses would not
#: do: a link also grows when its importer asks for more, and a TRANSMITS edge mixes both.
AFTER_METHOD = "the simulator's final flows (reference engine), re-running the stored scenario"


@dataclass(frozen=True)
class ScenarioChoice:
    """A stored single-source scenario to picture: source, year and shock size."""

    source: str
    year: int
    shock: float = 1.0

    def label(self) -> str:
        return f"{self.source} {self.year}, {self.shock:.0%} export cut"


@dataclass(frozen=True)
class Rerun:
    """A stored scenario re-run: the flows before and after, the measures and the checks."""

    choice: ScenarioChoice
    run: ScenarioRun
    comparison: Comparison
    before: pd.DataFrame
    after: pd.DataFrame
    result: SimulationResult


def rerun(
    store: GraphStore,
    group: CommodityGroup,
    choice: ScenarioChoice,
    parameter_key: str,
    mode: str = "export",
) -> Rerun:
    """Find the stored scenario matching ``choice`` in the parameter set ``parameter_key``
    (``Scenario.parameters``) and re-run it.

    Raises
    ------
    NoScenarios
        When no such scenario is stored.
    """
    found = find_runs(store, group.id, choice.year, choice.source, choice.shock, mode)
    runs = [run for run in found if run.stored.get("parameters") == parameter_key]
    if not runs:
        raise NoScenarios(
            f"no stored {choice.shock:.0%} {mode} scenario for {group.id}, source {choice.source}, "
            f"year {choice.year} with the report's parameters {parameter_key}: run `critmin "
            f"simulate --commodity {group.id} --source {choice.source} --years {choice.year} "
            f"--shock {choice.shock:g}` with them first"
        )
    run = runs[0]
    comparison = compare(store, group, choice.year, [run])
    network, _panel = year_network(store, group, choice.year, MEASURE_OF_UNIT[comparison.unit])
    result = simulate(network, run.shocks(), engine="reference", **dict(run.parameters))
    assert result.final_flows is not None, "the reference engine keeps the final flows"
    return Rerun(choice, run, comparison, network.flows(), result.final_flows, result)
