"""A scenario file on a supply chain: its shocks, each at its stage, down the chain's stages.

A file whose ``commodity`` is a chain of ``chains.csv`` (or whose fallback is one) runs here:
each year, the chain's stage networks in contained metal (:func:`critmin.store.chains.
chain_networks`) go through :func:`~critmin.simulator.simulate_chain` with every shock of the
file at once, each at its own ``stage``; a country's loss at one stage cuts its output at the
next (docs/model.md, "Supply chains"). The file's stockpiles are held at the chain's last stage
(refined metal, what reserves hold). The run is stored as chain scenarios (one per year, from
the stage of the file's most upstream shock down, with the STARVES between stages) of the Run
``policy_<name>``, as :func:`critmin.chain_run.run_chain_sweep` stores a chain's sweep.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from critmin.chain_run import chain_data_version, chain_year_props, chain_years
from critmin.loader.chains import find_chain
from critmin.policy.files import PolicyScenario
from critmin.policy.run import (
    PolicyOutcome,
    check_countries,
    consumption_share,
    policy_run_fields,
    rank_by_share,
)
from critmin.simulator import simulate_chain
from critmin.simulator.result import SimulationResult, run_record
from critmin.simulator.scenario import FAILURE_PRESETS
from critmin.store.chains import ChainNetworks, chain_networks
from critmin.store.graph import GraphStore
from critmin.store.networks import country_names
from critmin.store.scenario_reads import scenario
from critmin.store.scenario_writes import RunInfo, forget_run, write_sweep
from critmin.study import RunKind, Study
from critmin.units import Unit

__all__ = ["run_chain_policy"]

COUNTRY_COLUMNS = [
    "year",
    "stage",
    "commodity",
    "country",
    "name",
    "demand",
    "demand_loss",
    "coupling_cut",
    "share_of_consumption_lost",
    "unbalanced",
    "stock_drawn",
    "failed",
]


def run_chain_policy(
    store: GraphStore,
    sc: PolicyScenario,
    fallback_note: str = "",
    *,
    write: bool = True,
    command: str = "",
) -> PolicyOutcome:
    """Run the chain scenario file ``sc`` on its years and store it (module docstring).

    Called by :func:`critmin.policy.run_policy` for a file on a chain (after its basis is
    chosen); the outcome's tables have a row per stage (``stage``, ``commodity``,
    ``coupling_cut``), and no stock needed (it answers for one network).
    """
    spec = find_chain(sc.commodity)
    study = sc.study
    years = chain_years(store, spec, study)
    study = study.with_years(years if sc.years is not None else years[-1:])
    study.check_unit(Unit.METAL)
    rule = FAILURE_PRESETS[sc.failure_rule]  # the rule in the chain's unit, as run_policy does
    params = rule.applied(study.parameters, Unit.METAL.value).as_dict()
    shocks = list(study.events)
    origin = min(s.stage for s in shocks)
    last = len(spec.stages) - 1
    sources = ";".join(sorted(s.source for s in shocks))
    top = max(s.fraction for s in shocks)
    started = time.perf_counter()
    networks: dict[int, ChainNetworks] = {}
    runs: list[dict[str, Any]] = []
    impacts, edges, per_country = [], [], []
    quantities: dict[int, dict[str, float]] = {}
    for year in study.years or ():
        chain = networks[year] = chain_networks(store, spec, year)
        stages = chain.networks
        for k, network in enumerate(stages):
            check_countries(sc, network, year, stage=k, stockpiles=k == last)
        held = {last: dict(sc.stockpiles)} if sc.stockpiles else None
        result = simulate_chain(stages, shocks, stockpiles=held, engine="fast", **params)
        quantities[year] = dict(result.stages[last].stockpiles)
        for k in range(origin, last + 1):
            at, network = result.stages[k], stages[k]
            keys = {
                "year": year,
                "sources": sources,
                "fraction": top,
                "source_stage": origin,
                "stage": k,
            }
            runs.append(
                {
                    **keys,
                    **run_record(
                        sources,
                        top,
                        Unit.METAL.value,
                        at.initial_shock,
                        at.rounds,
                        at.n_failed,
                        network.n,
                        at.parameters,
                    ),
                }
            )
            frame = _stage_frame(at, network.countries)
            impacts.append(frame.assign(**keys))
            moved = at.transmitted
            moved = moved[moved["quantity"] > study.keep_share * at.initial_shock]
            edges.append(moved.assign(**keys))
            demand = pd.Series(network.demand_array, index=network.countries)
            per_country.append(
                frame.assign(
                    year=year,
                    stage=k,
                    commodity=spec.stages[k].commodity,
                    demand=demand.reindex(frame["country"]).to_numpy(),
                )
            )
    seconds = time.perf_counter() - started

    names = country_names(store)
    countries = pd.concat(per_country, ignore_index=True)
    countries = countries[(countries["demand_loss"] > 0) | (countries["stock_drawn"] > 0)]
    countries = countries.assign(
        name=[names.get(c, c) for c in countries["country"]],
        share_of_consumption_lost=consumption_share(countries["demand_loss"], countries["demand"]),
    )
    # The policy ranking within each year and stage (a stable sort keeps it).
    countries = rank_by_share(countries).sort_values(["year", "stage"], kind="stable")
    countries = countries[COUNTRY_COLUMNS].reset_index(drop=True)
    run_frame = pd.DataFrame(runs)
    impact_frame = pd.concat(impacts, ignore_index=True)
    summary = _summary(run_frame, impact_frame, networks)
    if write:
        info = RunInfo(
            id=sc.run_id,
            command=command or f"critmin scenario run {sc.path.name}",
            commodity=spec.id,
            unit=Unit.METAL.value,
            parameters={k: v for k, v in params.items() if k != "engine"},
            n_panel=max(len(n.countries) for n in networks.values()),
            data_versions={y: chain_data_version(n) for y, n in networks.items()},
            kind=RunKind.POLICY,
            chain=spec.id,
            year_props={y: chain_year_props(n) for y, n in networks.items()},
            stockpiles=sc.stockpile_texts(),
            stock_quantities=quantities,
            **_chain_fields(sc, study, params, fallback_note),
        )
        forget_run(store, info.id)
        ids = write_sweep(store, run_frame, impact_frame, pd.concat(edges, ignore_index=True), info)
        year_of = {sid: int((scenario(store, sid) or {})["year"]) for sid in ids}
        by_year = {year: sid for sid, year in year_of.items()}
        summary["scenario_id"] = summary["year"].map(by_year)
    labels = ", ".join(f"{k} {s.commodity}" for k, s in enumerate(spec.stages))
    return PolicyOutcome(
        sc,
        spec.id,
        f"chain {spec.id} (stages {labels}; {_estimates(networks)})",
        Unit.METAL.value,
        params,
        summary,
        countries,
        seconds,
        write,
        fallback_note,
    )


def _stage_frame(at: SimulationResult, countries: tuple[str, ...]) -> pd.DataFrame:
    """One stage's outcome per country it reached (a loss, a gross hit, a draw or a cut)."""

    def column(series: pd.Series, fill: Any = 0.0) -> pd.Series:
        return series.reindex(list(countries)).fillna(fill)

    loss, drawn, cut = column(at.demand_loss), column(at.stock_drawn), column(at.coupling_cut)
    gross = column(at.gross_hit)
    hit = ((loss > 0) | (gross > 0) | (drawn > 0) | (cut > 0)).to_numpy()
    return pd.DataFrame(
        {
            "country": pd.Index(countries)[hit],
            "demand_loss": loss.to_numpy()[hit],
            "stock_drawn": drawn.to_numpy()[hit],
            "unbalanced": column(at.unbalanced).to_numpy()[hit],
            "relative_loss": column(at.relative_loss).to_numpy()[hit],
            "gross_hit": gross.to_numpy()[hit],
            "first_round": at.first_round.reindex(list(countries)).array[hit],
            "failed": column(at.failed, False).astype(bool).to_numpy()[hit],
            "coupling_cut": cut.to_numpy()[hit],
        }
    )


def _summary(
    runs: pd.DataFrame, impacts: pd.DataFrame, networks: dict[int, ChainNetworks]
) -> pd.DataFrame:
    """One row per year and stage reached: ``year, stage, commodity, initial_shock,
    coupling_cut, demand_loss, stock_drawn, n_failed, rounds, estimated``."""
    keys = ["year", "stage"]
    totals = impacts.groupby(keys)[["coupling_cut", "demand_loss", "stock_drawn"]].sum()
    table = runs[[*keys, "initial_shock", "n_failed", "rounds"]].merge(
        totals.reset_index(), on=keys, how="left"
    )
    table[["coupling_cut", "demand_loss", "stock_drawn"]] = table[
        ["coupling_cut", "demand_loss", "stock_drawn"]
    ].fillna(0.0)
    stage_of = {(y, s.stage.stage): s for y, n in networks.items() for s in n.stages}
    at = list(zip(table["year"], table["stage"], strict=True))
    table["commodity"] = [stage_of[k].stage.commodity for k in at]
    table["estimated"] = [stage_of[k].production_estimated for k in at]
    columns = ["year", "stage", "commodity", "initial_shock", "coupling_cut", "demand_loss"]
    return table[[*columns, "stock_drawn", "n_failed", "rounds", "estimated"]]


def _estimates(networks: dict[int, ChainNetworks]) -> str:
    """Which stages' output ``P^k`` the project estimated, in words."""
    estimated = sorted(
        {s.stage.stage for n in networks.values() for s in n.stages if s.production_estimated}
    )
    if not estimated:
        return "every stage's output from production data"
    return f"stage output P^k estimated at stage(s) {', '.join(map(str, estimated))}"


def _chain_fields(
    sc: PolicyScenario, study: Study, params: dict[str, Any], fallback_note: str
) -> dict[str, Any]:
    """The policy run's fields, its chain and each shock's stage named in ``extra``."""
    fields = policy_run_fields(sc, study, params, Unit.METAL.value, fallback_note)
    fields["extra"] = {
        **fields["extra"],
        "chain": sc.commodity,
        "stage_commodities": list(sc.stages),
        "shock_stages": [f"{s.source}@{s.stage}" for s in sc.shocks],
        "stockpile_stage": len(sc.stages) - 1,
    }
    fields["shock_stages"] = tuple(fields["extra"]["shock_stages"])  # in the scenario ids
    return fields
