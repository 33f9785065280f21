"""A supply chain's sweep: every source of every stage, each year, from and to the graph.

A chain (``chains.csv``, :mod:`critmin.loader.chains`) is read year by year as its stage
networks in contained metal (:func:`critmin.store.chains.chain_networks`), swept with
:func:`~critmin.simulator.chain_sweep` and written as scenarios: one per year, shock size,
source and the stage it is shocked at, under the chain's id (``Scenario.commodity`` and
``Scenario.chain``), with an Impact per country and stage and STARVES stage links
(``docs/graph-model.md``). A single commodity is the one-stage case of the same writer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from critmin.loader.chains import Chain, find_chain, load_chains
from critmin.loader.commodities import find_group
from critmin.simulator.scenario import Parameters
from critmin.simulator.sweep import ChainSweepResult, chain_sweep
from critmin.store.chains import ChainNetworks, chain_networks
from critmin.store.graph import GraphStore
from critmin.store.networks import NoTradeData, available_years, country_names
from critmin.store.scenario_writes import RunInfo, new_run_id, write_sweep
from critmin.study import InvalidParameters, RunKind, Study
from critmin.units import Measure, Unit

__all__ = [
    "ChainOutcome",
    "chain_data_version",
    "chain_of",
    "chain_study",
    "chain_year_props",
    "chain_years",
    "rerun_chain_scenario",
    "run_chain_sweep",
    "stage_labels",
]


@dataclass
class ChainOutcome:
    """A stored chain sweep: its networks per year, the sweep's tables and what was written."""

    chain: Chain
    networks: dict[int, ChainNetworks]
    result: ChainSweepResult
    parameters: dict[str, Any]
    preset: str
    names: dict[str, str]
    scenario_ids: list[str]
    seconds: float
    write_seconds: float

    @property
    def unit(self) -> Unit:
        return Unit.METAL

    def data_version(self, year: int) -> str:
        """The digest of ``year``'s stage networks, as stored on its scenarios."""
        return chain_data_version(self.networks[year])

    def estimated_stages(self) -> list[int]:
        """Stages whose output ``P^k`` is an estimate in some year swept."""
        return sorted(
            {
                s.stage.stage
                for n in self.networks.values()
                for s in n.stages
                if s.production_estimated
            }
        )

    def stage_losses(
        self, source: str, year: int, fraction: float, source_stage: int = 0
    ) -> pd.DataFrame:
        """What one scenario did at each stage: ``stage, commodity, country, name, demand_loss,
        coupling_cut, unbalanced, failed, estimated``, in t contained metal, largest loss first
        within each stage."""
        imp = self.result.impacts
        chosen = imp[
            (imp["sources"] == source)
            & (imp["year"] == year)
            & (imp["fraction"] == fraction)
            & (imp["source_stage"] == source_stage)
        ]
        labels = stage_labels(self.networks[year])
        table = chosen.assign(
            commodity=chosen["stage"].map(lambda k: labels[int(k)][0]),
            estimated=chosen["stage"].map(lambda k: labels[int(k)][1]),
            name=chosen["country"].map(lambda c: self.names.get(c, c)),
        )
        columns = ["stage", "commodity", "country", "name", "demand_loss", "coupling_cut"]
        columns += ["unbalanced", "failed", "estimated"]
        table = table.sort_values(["stage", "demand_loss"], ascending=[True, False])
        return table[columns].reset_index(drop=True)

    def stage_table(self) -> pd.DataFrame:
        """Per scenario and stage it reached: ``fraction, year, source, source_stage, stage,
        commodity, initial_shock`` (``S0^k``), ``coupling_cut``, ``demand_loss`` (totals over
        the countries), ``n_failed``, ``estimated`` (the stage's ``P^k`` is an estimate), in
        t contained metal."""
        keys = ["year", "sources", "fraction", "source_stage", "stage"]
        imp = self.result.impacts
        totals = imp.groupby(keys)[["demand_loss", "coupling_cut"]].sum().reset_index()
        table = self.result.runs[[*keys, "initial_shock", "n_failed"]].merge(
            totals, on=keys, how="left"
        )
        table[["demand_loss", "coupling_cut"]] = table[["demand_loss", "coupling_cut"]].fillna(0.0)
        labels = {y: stage_labels(n) for y, n in self.networks.items()}
        at = list(zip(table["year"], table["stage"], strict=True))
        table["commodity"] = [labels[y][k][0] for y, k in at]
        table["estimated"] = [labels[y][k][1] for y, k in at]
        table = table.rename(columns={"sources": "source"})
        columns = ["fraction", "year", "source", "source_stage", "stage", "commodity"]
        columns += ["initial_shock", "coupling_cut", "demand_loss", "n_failed", "estimated"]
        return table[columns]

    def caption(self) -> str:
        estimated = self.estimated_stages()
        p = self.parameters
        cap = p.get("demand_cap", "none")
        return (
            f"chain {self.chain.id} ({' -> '.join(s.commodity for s in self.chain.stages)}); "
            f"unit {Unit.METAL.label}; preset {self.preset} (alpha={p['alpha']}, "
            f"mode={p['mode']}, supplier_cap={p['supplier_cap']}, demand_cap={cap})"
            + (
                f"; stage output P^k estimated at stage(s) {', '.join(map(str, estimated))}"
                if estimated
                else ""
            )
        )


def stage_labels(networks: ChainNetworks) -> list[tuple[str, bool]]:
    """Per stage: its commodity and whether its output is an estimate."""
    return [(s.stage.commodity, s.production_estimated) for s in networks.stages]


def chain_of(study: Study) -> Chain:
    """The chain of ``chains.csv`` whose stages are ``study.chain``'s commodities."""
    for chain in load_chains().values():
        if tuple(s.commodity for s in chain.stages) == study.chain:
            return chain
    raise InvalidParameters(
        f"no chain of chains.csv has the stages {' -> '.join(study.chain)}: choose one of "
        f"{', '.join(sorted(load_chains()))}"
    )


def chain_study(chain: str, **definition: Any) -> Study:
    """A Study of the chain ``chain`` (an id of ``chains.csv``): its stages' commodities, with
    the study's other fields by name (as :meth:`Study.build`)."""
    return Study.build([s.commodity for s in find_chain(chain).stages], **definition)


def chain_years(store: GraphStore, chain: Chain, study: Study) -> list[int]:
    """The study's years among those every stage with HS codes has trade in."""
    held: set[int] | None = None
    for stage in chain.stages:
        if not stage.codes:
            continue
        years = set(available_years(store, find_group(stage.commodity)))
        held = years if held is None else held & years
    if not held:
        raise NoTradeData(
            f"no year holds trade of every stage of chain {chain.id}: load each stage's HS "
            "codes (critmin load trades FILE --hs CODE)"
        )
    return study.chosen_years(sorted(held))


def run_chain_sweep(
    store: GraphStore,
    study: Study,
    *,
    command: str = "",
    write: bool = True,
    progress: Callable[[int, int], None] | None = None,
    source_stages: Iterable[int] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> ChainOutcome:
    """Read the chain's stage networks for each of the study's years, sweep every source of
    every stage at the study's shock sizes, and store the scenarios (module docstring).

    A chain study runs every source alone (of ``study.sources`` when given), in contained
    metal, shocked at every stage (of ``source_stages`` when given); targets, coalitions,
    stockpiles and scenario-file events are refused. ``executor="dask"`` follows the runs down
    the chain on a Dask cluster (``scheduler``, or a local one), with the same tables.
    """
    if not study.is_chain:
        raise InvalidParameters(f"{study.commodity} is one commodity: run it with run_sweep")
    refused = {
        "--target": study.targets,
        "--together": study.together,
        "--coalitions": study.coalitions,
        "--stockpile": study.stockpiles,
        "events": study.events,
    }
    used = [name for name, value in refused.items() if value]
    if study.measure not in (Measure.AUTO, Measure.METAL):
        used.append(f"--measure {study.measure.value}")
    if used:
        raise InvalidParameters(
            f"{', '.join(used)} apply to one commodity's sweep, not to a supply chain's (every "
            "source of every stage alone, in contained metal)"
        )
    spec = chain_of(study)
    chosen = chain_years(store, spec, study)
    networks = {year: chain_networks(store, spec, year) for year in chosen}
    study.check_unit(Unit.METAL)
    params = study.parameters.resolved(Unit.METAL.value)
    started = time.perf_counter()
    try:
        result = chain_sweep(
            {year: n.networks for year, n in networks.items()},
            fractions=study.shocks,
            sources=study.sources,
            source_stages=source_stages,
            keep_share=study.keep_share,
            progress=progress,
            cascade=params,
            executor=executor,
            scheduler=scheduler,
        )
    except ValueError as exc:
        raise InvalidParameters(f"cannot sweep chain {spec.id}: {exc}") from exc
    except ImportError as exc:  # executor="dask" without the dask extra
        raise InvalidParameters(
            f"--executor {executor} needs the dask extra: pip install 'critmin[dask]' ({exc})"
        ) from exc
    seconds = time.perf_counter() - started
    ids: list[str] = []
    write_started = time.perf_counter()
    if write:
        info = RunInfo(
            id=new_run_id(spec.id),
            command=command,
            commodity=spec.id,
            unit=Unit.METAL.value,
            parameters=params.as_dict(),
            n_panel=len(result.panel),
            data_versions={y: chain_data_version(n) for y, n in networks.items()},
            kind=study.kind or RunKind.STUDY,
            is_study=study.is_study,
            chain=spec.id,
            year_props={y: chain_year_props(n) for y, n in networks.items()},
            extra={
                "measure": Measure.METAL.value,
                "keep_share": study.keep_share,
                "chain": spec.id,
                "stage_commodities": list(study.chain),
            },
        )
        edges = result.transmitted if study.cascades else result.transmitted.iloc[0:0]
        ids = write_sweep(store, result.runs, result.impacts, edges, info)
    return ChainOutcome(
        spec,
        networks,
        result,
        params.as_dict(),
        params.preset,
        country_names(store),
        ids,
        seconds,
        time.perf_counter() - write_started,
    )


def rerun_chain_scenario(
    store: GraphStore,
    chain: str,
    year: int,
    sources: Sequence[str],
    shock: float,
    source_stage: int,
    parameters: Parameters,
    command: str = "",
) -> ChainOutcome:
    """Run one chain scenario again from its stored definition and store it with its cascade
    (every stage's Impacts and TRANSMITS, and the STARVES between stages).

    On the data it was computed from it gets the same id and the same numbers
    (:func:`critmin.pipeline.materialise_cascade`, which reads the definition).
    """
    study = chain_study(
        chain, years=[year], shocks=[shock], sources=list(sources), parameters=parameters
    )
    return run_chain_sweep(store, study, command=command, source_stages=[source_stage])


def chain_year_props(networks: ChainNetworks) -> dict[str, Any]:
    """What every scenario of the year says about its stages."""
    return {
        "stage_commodities": [s.stage.commodity for s in networks.stages],
        "estimated_stages": [s.stage.stage for s in networks.stages if s.production_estimated],
        "production_basis": [s.production_basis for s in networks.stages],
    }


def chain_data_version(networks: ChainNetworks) -> str:
    """A digest of the year's stage networks (flows and output, in contained metal)."""
    import hashlib

    digest = hashlib.sha256(networks.chain.id.encode())
    for net in networks.networks:
        digest.update(net.W.tobytes())
        digest.update(net.P.tobytes())
        digest.update(",".join(net.countries).encode())
    return digest.hexdigest()[:16]
