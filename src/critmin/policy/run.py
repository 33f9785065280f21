"""Running a policy scenario on the stored networks, storing it, and the stock needed.

A scenario file's :class:`~critmin.study.Study` (kind ``policy``) goes down the sweep's path:
the years and numbers are checked and the networks read by :func:`critmin.pipeline.study_panel`,
the Run is described by :func:`critmin.pipeline.run_info` and written by the store's
``write_sweep``, as any sweep's. What is the policy run's own: every shock of the file at once
in one cascade per year, each with its own size and targets, and the stock each failed country
would have needed. A file on a supply chain runs down the chain's stages instead
(:mod:`critmin.policy.chain`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.errors import CritminError
from critmin.loader.chains import load_chains
from critmin.loader.commodities import CommodityGroup, find_group
from critmin.pipeline import run_info, study_panel, year_network
from critmin.policy.files import PolicyScenario, ScenarioFileError, read_scenario
from critmin.simulator import Shock, TradeNetwork, simulate, stock_needed
from critmin.simulator.result import run_record
from critmin.simulator.scenario import FAILURE_PRESETS, preset_of
from critmin.store.graph import GraphStore
from critmin.store.networks import (
    NoTradeData,
    Panel,
    available_years,
    country_names,
    trade_counts,
)
from critmin.store.scenario_reads import suffix
from critmin.store.scenario_writes import forget_run, save_stock_needed, write_sweep
from critmin.study import InvalidParameters, Study

__all__ = [
    "PolicyOutcome",
    "StockNeededError",
    "consumption_share",
    "failure_rule_text",
    "rank_by_share",
    "run_policy",
    "stock_needed_table",
]


def failure_rule_text(rule: str, parameters: Mapping[str, Any], unit: str) -> str:
    """The failure rule in words, as every policy output states it (the rule's own
    :meth:`~critmin.simulator.scenario.FailureRule.text`).

    >>> failure_rule_text("share-1pct", {"fail_abs": 1.0, "fail_rel": 0.01}, "t_metal")
    'failure rule share-1pct (failed: loss > 1 t contained metal and > 1% of consumption)'
    >>> failure_rule_text("any-loss", {"fail_abs": 0.001, "fail_rel": 0.0}, "t")
    'failure rule any-loss (failed: loss > 0.001 t)'
    """
    return FAILURE_PRESETS[rule].text(parameters, unit)


def consumption_share(loss: pd.Series, demand: pd.Series) -> pd.Series:
    """``loss / demand`` where the country consumes something (``demand > 0``), else NaN."""
    share = loss / demand.where(demand > 0)
    return share.astype(float)


def rank_by_share(countries: pd.DataFrame) -> pd.DataFrame:
    """A policy run's countries as every output ranks them: by ``year``, the ``failed`` first,
    each group by ``share_of_consumption_lost`` (largest first, blanks last: countries that
    consume nothing), then by ``demand_loss``.

    >>> table = pd.DataFrame({"year": [2024] * 3, "country": ["A", "B", "C"],
    ...     "failed": [False, True, False], "share_of_consumption_lost": [float("nan"), 0.2, 0.5],
    ...     "demand_loss": [9.0, 1.0, 2.0]})
    >>> list(rank_by_share(table)["country"])
    ['B', 'C', 'A']
    """
    ranked = countries.sort_values(
        ["year", "failed", "share_of_consumption_lost", "demand_loss"],
        ascending=[True, False, False, False],
        na_position="last",
        kind="stable",
    )
    return ranked.reset_index(drop=True)


@dataclass
class PolicyOutcome:
    """A scenario file run on its years: per year (and chain stage) the countries it reached."""

    scenario: PolicyScenario
    #: What the run used: the commodity group's id, or the supply chain's.
    basis: str
    #: ``commodity (HS ...)``, or the chain with its stages and how each stage's output is known.
    basis_text: str
    unit: str
    parameters: dict[str, Any]
    #: One row per year: ``year, initial_shock, demand_loss, stock_drawn, n_failed, rounds``,
    #: ``scenario_id`` (when stored); on a chain one row per year and stage reached, with
    #: ``stage, commodity, coupling_cut`` too.
    summary: pd.DataFrame
    #: One row per (year, country) with a loss, a draw or a stock need: ``year, country,
    #: name, demand, demand_loss, share_of_consumption_lost, unbalanced, stock_drawn, failed,
    #: stock_needed, months_of_demand`` (quantities in ``unit``): within each year the
    #: failed countries first, each group by the share of its consumption lost. On a chain
    #: one row per (year, stage, country), with ``stage, commodity, coupling_cut`` and no
    #: stock needed (it answers for one network).
    countries: pd.DataFrame
    seconds: float
    stored: bool
    #: Set when the run used the file's fallback: why, and the command loading the real basis.
    fallback_note: str = ""
    #: The commodity group of a one-network run (None on a chain).
    group: CommodityGroup | None = None

    @property
    def preset(self) -> str:
        """The model the run used (``physical``, ``paper`` or ``custom``)."""
        return preset_of(self.parameters)

    @property
    def is_chain(self) -> bool:
        return "stage" in self.summary

    def failure_text(self) -> str:
        """The failure rule as it was applied, in words with its thresholds and unit."""
        return failure_rule_text(self.scenario.failure_rule, self.parameters, self.unit)

    def caption(self) -> str:
        p, sc, unit = self.parameters, self.scenario, self.unit
        stock = (
            "stock_needed: not computed on a chain run (it answers for one network)"
            if self.is_chain
            else "stock_needed: the smallest stockpile with which the country would not have "
            "failed, others' stockpiles kept; months_of_demand: stock_needed / (demand / 12)"
        )
        return (
            f"scenario {sc.name} ({sc.path.name}, digest {sc.digest}); preset {self.preset} "
            f"(supplier_cap={p['supplier_cap']}, demand_cap={p.get('demand_cap', 'none')}); "
            f"{self.basis_text}; measure {sc.measure.value}, unit {unit}; shocks "
            f"{sc.shock_text()}"
            + (f"; stockpiles {', '.join(sc.stockpile_texts())}" if sc.stockpiles else "")
            + (" (held at the chain's last stage)" if sc.stockpiles and self.is_chain else "")
            + f"; {self.failure_text()}; alpha={p['alpha']:g}, absorb={p['absorb']:g}, "
            f"mode={p['mode']}; failed countries first, each group ranked by "
            "share_of_consumption_lost = demand_loss / demand where demand > 0 (blank where "
            "the country consumes nothing); unbalanced: "
            "loss settled beyond the country's consumption with no exports left to cut (data "
            f"inconsistency); {stock}" + (f"; {self.fallback_note}" if self.fallback_note else "")
        )


def _years(store: GraphStore, group: CommodityGroup, sc: PolicyScenario) -> list[int]:
    available = available_years(store, group)
    if not available:
        raise NoTradeData(
            f"{sc.path.name}: no stored {group.id} trade: load it first (`critmin demo` loads "
            "the bundled sample)"
        )
    if sc.years is None:
        return [max(available)]
    absent = [y for y in sc.years if y not in available]
    if absent:
        raise ScenarioFileError(
            sc.path,
            "years",
            list(sc.years),
            f"no stored {group.id} trade in {absent}; stored years: {available[0]}-{available[-1]}",
        )
    return list(sc.years)


def check_countries(
    sc: PolicyScenario,
    network: TradeNetwork,
    year: int,
    stage: int | None = None,
    stockpiles: bool = True,
) -> None:
    """Every source, target and stockpile of the file is a country of the year's network.

    On a chain, ``stage`` is the network's: only the shocks at that stage are checked, and the
    stockpiles only where ``stockpiles`` (the stage they are held at).
    """
    known = set(network.countries)
    exports = dict(zip(network.countries, network.W.sum(axis=1), strict=True))
    where = "network" if stage is None else f"stage {stage} network ({sc.stages[stage]})"
    for spec in sc.shocks:
        if stage is not None and spec.stage != stage:
            continue
        production = spec.shock().mode_in(sc.parameters.mode) == "production"
        held = dict(zip(network.countries, network.P, strict=True)) if production else exports
        if spec.source not in known or held[spec.source] <= 0:
            what = "production" if production else "exports"
            raise ScenarioFileError(
                sc.path, "source", spec.source, f"no {year} {what} of it in the {where}"
            )
        missing = [t for t in spec.targets or () if t not in known]
        if missing:
            raise ScenarioFileError(
                sc.path, f"targets of {spec.source}", missing, f"not in the {year} network"
            )
    for code, stock in sc.stockpiles.items() if stockpiles else ():
        if code not in known:
            raise ScenarioFileError(
                sc.path, f"stockpiles.{code}", str(stock), f"not in the {year} network"
            )


def run_policy(
    store: GraphStore,
    scenario: PolicyScenario | str | Path,
    *,
    write: bool = True,
    command: str = "",
    rtol: float = 1e-6,
) -> PolicyOutcome:
    """Run a scenario file on the stored networks of its years, store it, answer stock needs.

    Each year is one cascade (fast engine) with every shock at once and the file's
    stockpiles; the stock each failed country needed comes from
    :func:`~critmin.simulator.stock_needed` (bisection to ``rtol``). With ``write``, the run is
    stored as ``(:Run {id: "policy_<name>", kind: "policy", scenario, scenario_digest})``
    with one Scenario per year (stockpiles and drawn stock as any stockpiled run, the stock
    needed on the Impacts as ``stock_needed_t|usd`` and ``stock_needed_months``); running the
    file again replaces what its name stored before.
    """
    sc = scenario if isinstance(scenario, PolicyScenario) else read_scenario(scenario)
    sc, fallback_note = _basis(store, sc)
    if sc.is_chain:
        from critmin.policy.chain import run_chain_policy

        return run_chain_policy(store, sc, fallback_note, write=write, command=command)
    study = sc.study.with_years(_years(store, find_group(sc.commodity), sc))
    group, panel = study_panel(store, study)
    params = FAILURE_PRESETS[sc.failure_rule].applied(study.parameters, panel.unit).as_dict()
    started = time.perf_counter()
    shocks = list(study.events)
    years = panel.years
    runs, impacts, edges, per_country, quantities = [], [], [], [], {}
    sources = ";".join(sorted(s.source for s in shocks))
    top = max(s.fraction for s in shocks)
    for year in years:
        network = year_network(panel, year)
        check_countries(sc, network, year)
        result = simulate(network, shocks, stockpiles=dict(sc.stockpiles), engine="fast", **params)
        quantities[int(year)] = dict(result.stockpiles)
        needed = stock_needed(network, shocks, stockpiles=dict(sc.stockpiles), rtol=rtol, **params)
        keys = {"year": year, "sources": sources, "fraction": top}
        runs.append(
            {
                "year": year,
                **run_record(
                    sources,
                    top,
                    panel.unit,
                    result.initial_shock,
                    result.rounds,
                    result.n_failed,
                    len(network.countries),
                    result.parameters,
                ),
            }
        )
        hit = (result.demand_loss > 0) | (result.gross_hit > 0) | (result.stock_drawn > 0)
        frame = pd.DataFrame(
            {
                "country": result.demand_loss.index[hit],
                "demand_loss": result.demand_loss[hit].to_numpy(),
                "stock_drawn": result.stock_drawn[hit].to_numpy(),
                "relative_loss": result.relative_loss[hit].to_numpy(),
                "gross_hit": result.gross_hit[hit].to_numpy(),
                "first_round": result.first_round[hit].array,
                "failed": result.failed[hit].to_numpy(),
            }
        )
        frame["unbalanced"] = result.unbalanced.reindex(frame["country"]).fillna(0.0).to_numpy()
        impacts.append(frame.assign(**keys)[["year", "sources", "fraction", *frame.columns]])
        moved = result.transmitted
        moved = moved[moved["quantity"] > study.keep_share * result.initial_shock]
        edges.append(moved.assign(**keys)[["year", "sources", "fraction", *moved.columns]])
        demand = pd.Series(network.demand_array, index=network.countries)
        table = frame.merge(
            needed[["country", "stock_needed", "months_of_demand"]], on="country", how="outer"
        )
        table["demand"] = demand.reindex(table["country"]).to_numpy()
        table["year"] = year
        per_country.append(table)
    seconds = time.perf_counter() - started

    countries = pd.concat(per_country, ignore_index=True)
    countries["failed"] = countries["failed"].fillna(False).astype(bool)
    countries["stock_needed"] = countries["stock_needed"].fillna(0.0)
    countries = countries[
        (countries["demand_loss"] > 0)
        | (countries["stock_drawn"] > 0)
        | (countries["stock_needed"] > 0)
    ]
    names = country_names(store)
    countries = countries.assign(
        name=[names.get(c, c) for c in countries["country"]],
        share_of_consumption_lost=consumption_share(countries["demand_loss"], countries["demand"]),
        unbalanced=countries["unbalanced"].fillna(0.0),
    )
    countries = rank_by_share(countries)[
        [
            "year",
            "country",
            "name",
            "demand",
            "demand_loss",
            "share_of_consumption_lost",
            "unbalanced",
            "stock_drawn",
            "failed",
            "stock_needed",
            "months_of_demand",
        ]
    ].reset_index(drop=True)
    run_frame = pd.DataFrame(runs)
    impacts_frame = pd.concat(impacts, ignore_index=True)
    summary = pd.DataFrame(
        {
            "year": run_frame["year"],
            "initial_shock": run_frame["initial_shock"],
            "demand_loss": [
                float(impacts_frame.loc[impacts_frame["year"] == y, "demand_loss"].sum())
                for y in run_frame["year"]
            ],
            "stock_drawn": [
                float(impacts_frame.loc[impacts_frame["year"] == y, "stock_drawn"].sum())
                for y in run_frame["year"]
            ],
            "n_failed": run_frame["n_failed"],
            "rounds": run_frame["rounds"],
        }
    )
    if write:
        ids = _store(
            store,
            sc,
            study,
            panel,
            params,
            run_frame,
            impacts_frame,
            edges,
            quantities,
            command,
            fallback_note,
        )
        summary["scenario_id"] = ids
        unit = suffix(panel.unit)
        for year, sid in zip(summary["year"], ids, strict=True):
            rows = countries[(countries["year"] == year) & (countries["stock_needed"] > 0)]
            save_stock_needed(
                store,
                sid,
                [
                    {
                        "iso3": r.country,
                        "props": {
                            f"stock_needed_{unit}": float(r.stock_needed),
                            "stock_needed_months": None
                            if pd.isna(r.months_of_demand)
                            else float(r.months_of_demand),
                        },
                    }
                    for r in rows.itertuples(index=False)
                ],
            )
    return PolicyOutcome(
        sc,
        group.id,
        f"{group.id} (HS {', '.join(group.hs_codes)})",
        panel.unit,
        params,
        summary,
        countries,
        seconds,
        write,
        fallback_note,
        group,
    )


def _basis(store: GraphStore, sc: PolicyScenario) -> tuple[PolicyScenario, str]:
    """The scenario on the basis it can run on: its own commodity when every HS code of it is
    stored, else its fallback (with the note every output carries), else its own (which then
    fails with the usual "load it first").

    On a chain a code counts as stored when another code of its stage under the same heading
    is (810510, the HS 1992 code, is not in an HS 2002 release that holds 810520).
    """
    if sc.fallback is None:
        return sc, ""
    stored = {str(hs) for hs in trade_counts(store).get("hs", [])}

    def held(code: str) -> bool:
        return any(h.startswith(code) for h in stored)

    chain = load_chains().get(sc.commodity)
    if chain is None:
        missing = [c for c in _hs_codes(sc.commodity) if not held(c)]
    else:
        missing = [
            c
            for stage in chain.stages
            for c in stage.prefixes
            if not any(held(o) for o in stage.prefixes if o[:4] == c[:4])
        ]
        missing = list(dict.fromkeys(missing))
    if not missing:
        return sc, ""
    fb = sc.fallback
    note = (
        f"FALLBACK: the file's basis is {_named(sc.commodity)} in "
        f"{sc.measure.value}, but no trade of HS {', '.join(missing)} is stored, so this run "
        f"uses {_named(fb.commodity)} in {fb.measure.value}: {fb.note} "
        f"Load the real basis with: {fb.load}"
    )
    return sc.on_fallback(), note


def _hs_codes(basis: str) -> tuple[str, ...]:
    """The HS codes (prefixes) a commodity group or every stage of a chain reads."""
    chain = load_chains().get(basis)
    if chain is None:
        return tuple(find_group(basis).hs_codes)
    return tuple(dict.fromkeys(p for stage in chain.stages for p in stage.prefixes))


def _named(basis: str) -> str:
    """``cobalt_oxides (HS 282200)`` or ``chain cobalt_chain (HS 260500, 282200, ...)``."""
    what = "chain " if basis in load_chains() else ""
    return f"{what}{basis} (HS {', '.join(_hs_codes(basis))})"


def policy_run_fields(
    sc: PolicyScenario,
    study: Study,
    params: Mapping[str, Any],
    unit: str,
    fallback_note: str,
) -> dict[str, Any]:
    """What a policy run stores on its Run beyond any sweep's (as :class:`RunInfo` fields):
    the file, its digest, rule, preset, citations and basis, and its shocks' own sizes and
    targets when they differ."""
    fractions = {s.fraction for s in sc.shocks}
    targets = {s.targets for s in sc.shocks}
    uniform = len(fractions) == 1 and len(targets) == 1
    return {
        "targets": tuple(sc.shocks[0].targets or ()) if uniform else (),
        "extra": {
            "scenario": sc.name,
            "scenario_title": sc.title,
            "scenario_file": sc.path.name,
            "scenario_digest": sc.digest,
            "failure_rule": sc.failure_rule,
            "failure_text": failure_rule_text(sc.failure_rule, params, unit),
            "preset": preset_of(params),
            "measure": study.measure.value,
            "keep_share": study.keep_share,
            "citations": [str(c) for c in sc.sources],
            "basis": "fallback" if fallback_note else "file",
            "basis_note": fallback_note,
        },
        "shocks": ()
        if uniform
        else tuple((s.source, s.fraction, tuple(s.targets or ())) for s in sc.shocks),
    }


def _store(
    store: GraphStore,
    sc: PolicyScenario,
    study: Study,
    panel: Panel,
    params: Mapping[str, Any],
    runs: pd.DataFrame,
    impacts: pd.DataFrame,
    edges: list[pd.DataFrame],
    quantities: Mapping[int, Mapping[str, float]],
    command: str,
    fallback_note: str,
) -> list[str]:
    info = run_info(
        study,
        panel,
        {k: v for k, v in params.items() if k != "engine"},
        command or f"critmin scenario run {sc.path.name}",
        id=sc.run_id,
        **policy_run_fields(sc, study, params, panel.unit, fallback_note),
        stock_quantities=quantities,
    )
    forget_run(store, info.id)
    transmitted = pd.concat(edges, ignore_index=True)
    return write_sweep(store, runs, impacts, transmitted, info)


# ---------------------------------------------------------------- stock needed


def stock_needed_table(
    store: GraphStore,
    study: Study,
    countries: Sequence[str] | None = None,
    *,
    failure_rule: str = "any-loss",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stock each country would have needed not to fail in one scenario of a stored year.

    ``study`` names one year (or none: the latest with data), one shock size, the sources cut
    together (or its ``events``), targets, stockpiles and parameters; failure is judged by
    ``failure_rule`` (:data:`~critmin.simulator.scenario.FAILURE_PRESETS`) in the year's unit,
    with the study's ``fail_abs`` where it gives one. Returns the table of
    :func:`~critmin.simulator.stock_needed` (with ``name``) and its context (commodity, year,
    unit, shocks, stockpiles, every parameter, ``failure_text``).
    """
    group = find_group(study.commodity)
    available = available_years(store, group)
    if not available:
        raise NoTradeData(f"no stored {group.id} trade: load it first")
    if study.years is not None and len(study.years) != 1:
        raise InvalidParameters(f"stock needed answers for one year, got {list(study.years)}")
    chosen = study.chosen_years(available)[-1:] if study.years else [max(available)]
    group, panel = study_panel(store, study.with_years(chosen))
    year = chosen[0]
    network = year_network(panel, year)
    params = FAILURE_PRESETS[failure_rule].applied(study.parameters, panel.unit).as_dict()
    shocks = list(study.events) or [
        Shock(source, study.shocks[0], study.targets) for source in study.sources or ()
    ]
    try:
        table = stock_needed(
            network, shocks, stockpiles=study.stockpile_map, countries=countries, **params
        )
    except ValueError as exc:
        raise StockNeededError(f"cannot answer: {exc}") from exc
    names = country_names(store)
    table.insert(1, "name", [names.get(c, c) for c in table["country"]])
    context = {
        "commodity": group.id,
        "year": year,
        "unit": panel.unit,
        "shocks": "; ".join(
            f"{s.source} {s.fraction:g}" + (f" -> {','.join(s.targets)}" if s.targets else "")
            for s in shocks
        ),
        "stockpiles": ", ".join(study.stockpile_texts()),
        "failure_text": failure_rule_text(failure_rule, params, panel.unit),
        **params,
    }
    return table, context


class StockNeededError(CritminError, ValueError):
    """A stock-needed question the network cannot answer (a source or country not in it)."""
