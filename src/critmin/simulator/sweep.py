"""The full-sample design of the cobalt paper: every exporter, every year, every shock size."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from critmin.defaults import DEFAULT_SHOCKS, KEEP_SHARE
from critmin.simulator.chain import align_stages, coupling_cut
from critmin.simulator.executors import Job, Tables, joined, run_jobs
from critmin.simulator.fast import Batch, Links, run_batch
from critmin.simulator.network import FloatArray, TradeNetwork
from critmin.simulator.result import failed_mask, nullable_rounds, relative_loss, run_record
from critmin.simulator.scenario import Parameters, Plan, Shock, plan, real_number, shock_fraction
from critmin.simulator.stockpiles import Stockpiles, resolve_stockpiles
from critmin.simulator.tables import StudyTables, study_tables

__all__ = ["ChainSweepResult", "SweepResult", "chain_sweep", "sweep"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SweepResult:
    """Tidy tables of a sweep, one row per run, per (run, country) and per (run, edge).

    Attributes
    ----------
    runs : DataFrame
        ``year, sources, fraction, mode, preset, unit, initial_shock, rounds, n_failed,
        n_countries`` and one column per cascade parameter (``engine`` included;
        ``demand_cap`` only when not ``"none"``).
    impacts : DataFrame
        ``year, sources, fraction, country, demand_loss, stock_drawn, unbalanced,
        relative_loss, gross_hit, first_round, failed`` for every country with a demand loss or
        a gross hit (``stock_drawn``: what it took from its stockpile, 0 without stockpiles;
        ``unbalanced``: the part of its loss settled beyond its consumption, 0 unless
        ``demand_cap="consumption"``).
    transmitted : DataFrame
        ``year, sources, fraction, source, target, quantity, first_round``: the edges along
        which more than ``keep_share`` of the run's initial shock travelled.
    years : tuple
        The keys of the networks swept (``None`` for a single network).
    panel : tuple of str
        Every country of every network swept, sorted.
    stockpiles : dict
        Per year, the stockpiles every run of that year started with, in the network's unit
        (months converted); empty without stockpiles.

    ``sources`` is the ';'-joined sorted ISO3 codes of a run's shocked countries.
    """

    runs: pd.DataFrame
    impacts: pd.DataFrame
    transmitted: pd.DataFrame
    years: tuple[Hashable, ...]
    panel: tuple[str, ...]
    stockpiles: Mapping[Hashable, Mapping[str, float]] = field(default_factory=dict)

    def tables(self, panel_countries: Iterable[str] | None = None) -> StudyTables:
        """The study's tables of this sweep (:func:`~critmin.simulator.tables.study_tables`).

        ``panel_countries`` is the panel whose size ``N`` divides the failure count (every
        country of every network swept when omitted); ``Y`` is the number of years swept.
        """
        n_panel = len(set(panel_countries)) if panel_countries is not None else len(self.panel)
        if n_panel == 0:
            raise ValueError("panel_countries must name at least one country")
        return study_tables(self.runs, self.impacts, len(self.years), n_panel)

    def source_table(self, panel_countries: Iterable[str] | None = None) -> pd.DataFrame:
        """Rank the sources by the failures they cause (the paper's Tables 1 and 2).

        Per fraction (largest first) and source: ``rank`` (1 = most failures, ties share a
        rank), ``source``, ``total_failed`` (sum over years of the countries failed),
        ``failure_rate = total_failed / (Y * N)`` with ``Y`` the number of years swept, and
        ``years_active`` (years the source was run). See :meth:`tables`.
        """
        return self.tables(panel_countries).sources

    def loss_table(self) -> pd.DataFrame:
        """Average demand loss per country and shock size (the paper's Figures 4 and 5).

        Per fraction (largest first) and country that lost anything: ``runs_hit`` (runs in
        which it lost more than 0), ``mean_loss_all_runs`` (total loss over *every* run of
        that fraction, zeros included) and ``mean_loss_when_hit`` (over ``runs_hit`` only).
        """
        table = self.tables().countries
        table = table[table["runs_hit"] > 0]
        columns = ["fraction", "country", "runs_hit", "mean_loss_all_runs", "mean_loss_when_hit"]
        return table[columns].reset_index(drop=True)


def sweep(
    networks: TradeNetwork | Mapping[Any, TradeNetwork],
    fractions: Sequence[float] = DEFAULT_SHOCKS,
    sources: Iterable[str] | None = None,
    together: bool = False,
    keep_share: float = KEEP_SHARE,
    progress: Progress | None = None,
    targets: Iterable[str] | None = None,
    executor: str = "local",
    scheduler: Any = None,
    stockpiles: Stockpiles | None = None,
    cascade: Parameters | None = None,
    **parameters: Any,
) -> SweepResult:
    """Run every source of every network at every shock size, on the fast engine.

    Parameters
    ----------
    networks : TradeNetwork or mapping of year to TradeNetwork
        One network, or one per year; all in the same unit.
    fractions : sequence of float
        Shock sizes, each in (0, 1].
    sources : iterable of str, optional
        Restrict the sources to these ISO3 codes. By default every country that can be a source
        in a network: with exports (``mode="export"``) or production (``mode="production"``).
        Given sources are run in the networks where they can be one.
    together : bool
        Shock the given ``sources`` at once, as one coalition per network and fraction: every
        member present in the network, in the networks where at least one can be a source.
    keep_share : float
        Keep a transmitted edge when its quantity exceeds this share of the run's initial shock
        (default :data:`critmin.defaults.KEEP_SHARE`, as stored sweeps use).
    progress : callable, optional
        ``progress(n_done, n_total)``, called as runs finish.
    targets : iterable of str, optional
        A targeted embargo: the sources cut only their exports to these importers (those of
        them present in each year's network).
    executor : {"local", "dask"}
        Where the runs go (:mod:`critmin.simulator.executors`): this process's threads, or a
        Dask cluster; both give the same result.
    scheduler : str or distributed.Client, optional
        With ``executor="dask"``, the cluster to use (address or client); by default a
        ``LocalCluster`` on 127.0.0.1, started and closed by the sweep.
    stockpiles : mapping of str to float or Stockpile, optional
        Stockpiles held in every run, as for :func:`~critmin.simulator.simulate`; months of
        demand convert with each year's network. A country absent from a year's network holds
        nothing that year. ``impacts`` has the stock each country drew (``stock_drawn``).
    cascade : Parameters, optional
        The cascade's parameters as one object; keyword parameters override its fields.
    **parameters
        Cascade parameters, as for :func:`~critmin.simulator.simulate` (no ``engine``).

    Returns
    -------
    SweepResult

    Raises
    ------
    TypeError
        On an unknown parameter.
    ValueError
        On a bad value, networks in different units, ``together`` without ``sources``, a
        source in none of the networks, or an unknown executor.

    Examples
    --------
    >>> import pandas as pd
    >>> from critmin.simulator import TradeNetwork
    >>> flows = pd.DataFrame(
    ...     {"exporter": ["A", "B"], "importer": ["B", "C"], "quantity": [100, 50]}
    ... )
    >>> result = sweep({2020: TradeNetwork.from_frames(flows)})
    >>> result.runs[["year", "sources", "fraction", "initial_shock", "rounds", "n_failed"]]
       year sources  fraction  initial_shock  rounds  n_failed
    0  2020       A       1.0          100.0       2         2
    1  2020       B       1.0           50.0       1         1
    2  2020       A       0.5           50.0      25         2
    3  2020       B       0.5           25.0       1         1
    """
    years, fractions, params = checked_inputs(networks, fractions, keep_share, parameters, cascade)
    if sources is not None:
        sources = sorted(set(sources))
    scenarios = {
        year: _scenarios(network, sources, together, params.mode) for year, network in years.items()
    }
    if not fractions:
        raise ValueError("nothing to sweep: no shock fractions")
    if not any(scenarios.values()):
        what = "none of the given sources" if sources is not None else "no country"
        raise ValueError(
            f"nothing to sweep: {what} produces in any of the networks (production mode cuts a "
            "source's production; the networks carry none)"
            if params.mode == "production"
            else f"nothing to sweep: {what} exports in any of the networks"
        )

    return sweep_groups(
        years, scenarios, fractions, params, targets, keep_share, progress, executor, scheduler,
        stockpiles=yearly_stockpiles(years, stockpiles),
    )  # fmt: skip


def yearly_stockpiles(
    years: Mapping[Hashable, TradeNetwork], stockpiles: Stockpiles | None
) -> dict[Hashable, dict[str, float]]:
    """Each year's stockpiles in its network's unit (:func:`resolve_stockpiles`); countries
    absent from a year hold nothing that year, and a country in no network is an error."""
    if not stockpiles:
        return {}
    per_year = {
        year: resolve_stockpiles(network, stockpiles, missing="skip")
        for year, network in years.items()
    }
    found = set().union(*per_year.values())
    unknown = [f"{c}={stockpiles[c]}" for c in stockpiles if c not in found]
    if unknown:
        raise ValueError(f"stockpile(s) of countries in none of the networks: {', '.join(unknown)}")
    return per_year


def checked_inputs(
    networks: TradeNetwork | Mapping[Any, TradeNetwork],
    fractions: Sequence[float],
    keep_share: float,
    parameters: Mapping[str, Any],
    cascade: Parameters | None = None,
) -> tuple[dict[Hashable, TradeNetwork], tuple[float, ...], Parameters]:
    """A sweep's networks by year, its fractions and its resolved parameters, validated.

    ``cascade`` is the parameters object (default: the model's defaults); names in
    ``parameters`` override its fields.
    """
    years = {None: networks} if isinstance(networks, TradeNetwork) else dict(networks)
    units = {network.unit for network in years.values()}
    if len(units) > 1:
        raise ValueError(f"networks mix units {sorted(units)}; sweep one unit at a time")
    base = cascade if cascade is not None else Parameters()
    params = replace(base, **parameters).resolved(units.pop() if units else "t")
    fractions = tuple(shock_fraction(f) for f in fractions)
    if real_number(keep_share, "keep_share") < 0:
        raise ValueError(f"keep_share must be >= 0, got {keep_share!r}")
    return years, fractions, params


def sweep_groups(
    years: Mapping[Hashable, TradeNetwork],
    scenarios: Mapping[Hashable, Sequence[tuple[str, ...]]],
    fractions: Sequence[float],
    params: Parameters,
    targets: Iterable[str] | None,
    keep_share: float,
    progress: Progress | None,
    executor: str = "local",
    scheduler: Any = None,
    stockpiles: Mapping[Hashable, Mapping[str, float]] | None = None,
) -> SweepResult:
    """Run each year's groups of countries (one run per group and fraction) on ``executor``.

    The engine of :func:`sweep` and :func:`~critmin.simulator.coalitions.coalition_sweep`:
    ``scenarios[year]`` lists the groups shocked together in that year's network;
    ``stockpiles[year]`` the stockpiles of its runs (:func:`yearly_stockpiles`).
    """
    jobs = [
        Job(year, network, groups, _targets(network, targets))
        for year, network in years.items()
        if (groups := [(group, f) for f in fractions for group in scenarios.get(year, ())])
    ]
    total = sum(len(job.groups) for job in jobs)
    done = 0

    def advance(finished: int) -> None:
        nonlocal done
        done += finished
        if progress is not None:
            progress(done, total)

    # With stockpiles, the work carries them (a partial pickles for Dask like the function).
    work = partial(job_tables, stockpiles=stockpiles) if stockpiles else job_tables
    tables = run_jobs(jobs, work, params, keep_share, advance, executor, scheduler)
    runs, impacts, transmitted = (
        pd.concat(parts, ignore_index=True) for parts in zip(*tables, strict=True)
    )
    panel = sorted(set().union(*(network.countries for network in years.values())))
    return SweepResult(
        runs, impacts, transmitted, tuple(years), tuple(panel), dict(stockpiles or {})
    )


def job_tables(
    job: Job,
    params: Parameters,
    keep_share: float,
    on_chunk: Callable[[int], None] | None = None,
    max_threads: int | None = None,
    stockpiles: Mapping[Hashable, Mapping[str, float]] | None = None,
) -> Tables:
    """Run one job's groups on its network and tabulate them (the work every executor does).

    ``stockpiles[job.year]``, when given, are the runs' stockpiles in the network's unit.
    """
    network, groups = job.network, job.groups
    links = Links.of(network)
    stock = (stockpiles or {}).get(job.year)
    plans = [
        plan(network, [Shock(s, f, job.targets) for s in group], params.mode, stock)
        for group, f in groups
    ]
    batch = run_batch(network, links, plans, params, on_chunk, max_threads)
    return _tables(job.year, network, links, groups, plans, batch, params, keep_share)


def _targets(network: TradeNetwork, targets: Iterable[str] | None) -> tuple[str, ...] | None:
    """The embargo's target importers present in this year's network (None: no embargo)."""
    if targets is None:
        return None
    present = tuple(sorted(set(targets) & set(network.countries)))
    if not present:
        raise ValueError(f"none of the targets {sorted(set(targets))} is in the network")
    return present


def _scenarios(
    network: TradeNetwork, sources: list[str] | None, together: bool, mode: str
) -> list[tuple[str, ...]]:
    """The groups of countries shocked together in ``network``, one group per run.

    A single source runs where it exports (or produces, in production mode); a coalition runs
    with every member in the network, as long as one of them can be shocked.
    """
    supply = network.P if mode == "production" else network.W.sum(axis=1)
    active = {c for c, amount in zip(network.countries, supply, strict=True) if amount > 0}
    if sources is None:
        if together:
            raise ValueError("together=True needs the sources of the coalition")
        return [(c,) for c in network.countries if c in active]
    present = [c for c in sources if c in network.index]
    if together:
        return [tuple(present)] if active.intersection(present) else []
    return [(c,) for c in present if c in active]


def _tables(
    year: Hashable,
    network: TradeNetwork,
    links: Links,
    groups: Sequence[tuple[tuple[str, ...], float]],
    plans: Sequence[Plan],
    batch: Batch,
    params: Parameters,
    keep_share: float,
    also: npt.NDArray[np.bool_] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three tidy tables of one network's batch; ``impacts`` has a row for every country
    with a demand loss or a gross hit, and where ``also`` (runs x countries) is True."""
    names = np.asarray(network.countries, dtype=object)
    labels = np.array([";".join(group) for group, _ in groups], dtype=object)
    fraction = np.array([f for _, f in groups])
    demand = network.demand_array
    is_source = np.zeros(batch.demand_loss.shape, bool)
    for r, run_plan in enumerate(plans):
        is_source[r, run_plan.sources] = True
    failed = failed_mask(batch.demand_loss, demand, is_source, params)

    parameters = {**params.as_dict(), "engine": "fast"}
    runs = pd.DataFrame(
        [
            {
                "year": year,
                **run_record(
                    labels[r],
                    fraction[r],
                    network.unit,
                    float(batch.initial_shock[r]),
                    int(batch.rounds[r]),
                    int(failed[r].sum()),
                    network.n,
                    parameters,
                ),
            }
            for r in range(len(groups))
        ]
    )

    hit = (batch.demand_loss > 0) | (batch.gross_hit > 0)
    run, country = np.nonzero(hit if also is None else hit | also)
    loss = batch.demand_loss[run, country]
    impacts = pd.DataFrame(
        {
            "year": year,
            "sources": labels[run],
            "fraction": fraction[run],
            "country": names[country],
            "demand_loss": loss,
            "stock_drawn": batch.stock_drawn[run, country],
            "unbalanced": batch.unbalanced[run, country],
            "relative_loss": relative_loss(loss, demand[country]),
            "gross_hit": batch.gross_hit[run, country],
            "first_round": nullable_rounds(batch.first_round[run, country]),
            "failed": failed[run, country],
        }
    )

    quantity, first = batch.transmitted(links)
    run, pair = np.nonzero(quantity > keep_share * batch.initial_shock[:, None])
    transmitted = pd.DataFrame(
        {
            "year": year,
            "sources": labels[run],
            "fraction": fraction[run],
            "source": names[links.pair_source[pair]],
            "target": names[links.pair_target[pair]],
            "quantity": quantity[run, pair],
            "first_round": first[run, pair].astype(np.int64),
        }
    )
    return runs, impacts, transmitted


@dataclass(frozen=True)
class ChainSweepResult:
    """The tables of a chain sweep: every run's outputs at every stage it reaches.

    ``runs``, ``impacts`` and ``transmitted`` have the columns of :class:`SweepResult`'s, plus
    ``source_stage`` (the stage the source was shocked at) and ``stage`` (the stage the row
    describes, ``>= source_stage``). A run has one row per stage from its source's stage down:
    ``initial_shock`` of a downstream stage is that stage's coupling cut, and ``impacts`` gain
    ``coupling_cut`` (the cut of the country's output at that stage, 0 at the source's stage).
    Downstream, the source is not a source (it may fail there). :meth:`stage` gives the slice
    of one (source stage, stage) pair as a :class:`SweepResult`, whose tables are the paper's.
    """

    runs: pd.DataFrame
    impacts: pd.DataFrame
    transmitted: pd.DataFrame
    years: tuple[Hashable, ...]
    panel: tuple[str, ...]
    n_stages: int

    def stage(self, stage: int, source_stage: int | None = None) -> SweepResult:
        """The runs of sources shocked at ``source_stage`` (default: ``stage``), as seen at
        ``stage``: per stage (``source_stage == stage``) or across the chain (miners' shocks
        seen in refined metal: ``stage(2, source_stage=0)``)."""
        origin = stage if source_stage is None else source_stage
        if not 0 <= origin <= stage < self.n_stages:
            raise ValueError(
                f"stage {stage} from source stage {origin}: need 0 <= source_stage <= stage "
                f"< {self.n_stages}"
            )

        def part(table: pd.DataFrame) -> pd.DataFrame:
            keep = (table["stage"] == stage) & (table["source_stage"] == origin)
            return table[keep].drop(columns=["stage", "source_stage"]).reset_index(drop=True)

        return SweepResult(
            part(self.runs), part(self.impacts), part(self.transmitted), self.years, self.panel
        )


def chain_sweep(
    chains: Sequence[TradeNetwork] | Mapping[Any, Sequence[TradeNetwork]],
    fractions: Sequence[float] = DEFAULT_SHOCKS,
    sources: Iterable[str] | None = None,
    source_stages: Iterable[int] | None = None,
    keep_share: float = KEEP_SHARE,
    progress: Progress | None = None,
    cascade: Parameters | None = None,
    executor: str = "local",
    scheduler: Any = None,
    **parameters: Any,
) -> ChainSweepResult:
    """Every source of every stage of a supply chain, every year, every shock size.

    For each year and each stage ``s``, each country that can be a source at stage ``s``
    (exports there, or production in ``mode="production"``) is shocked alone at ``s``, and
    the run follows the cut down the chain (:func:`~critmin.simulator.simulate_chain`) to
    the last stage. The fast engine runs each stage of a year as one batch.

    Parameters
    ----------
    chains : sequence of TradeNetwork, or mapping of year to one
        The stages of the chain, upstream first (aligned on the union of their countries).
    fractions, sources, keep_share, progress, cascade, executor, scheduler, **parameters
        As for :func:`sweep`. With ``executor="dask"`` each (year, source stage) is cut into
        chunks of runs, each followed down the chain on a worker; the tables are the local
        executor's, row for row. ``progress`` counts runs followed to the last stage.
    source_stages : iterable of int, optional
        Only shock sources at these stages (default: every stage).

    Returns
    -------
    ChainSweepResult

    Examples
    --------
    >>> flows = lambda e, i, q: pd.DataFrame({"exporter": e, "importer": i, "quantity": q})
    >>> output = lambda c, q: pd.DataFrame({"country": c, "quantity": q})
    >>> ore = TradeNetwork.from_frames(flows(["M"], ["R"], [100]), output(["M"], [100]))
    >>> metal = TradeNetwork.from_frames(flows(["R"], ["U"], [60]), output(["R"], [90]))
    >>> result = chain_sweep({2024: [ore, metal]}, fractions=[1.0])
    >>> result.runs[["sources", "source_stage", "stage", "initial_shock", "n_failed"]]
      sources  source_stage  stage  initial_shock  n_failed
    0       M             0      0          100.0         1
    1       M             0      1           90.0         2
    2       R             1      1           60.0         1
    >>> result.stage(1, source_stage=0).source_table()[["source", "total_failed"]]
      source  total_failed
    0      M             2
    """
    by_year = {None: chains} if not isinstance(chains, Mapping) else dict(chains)
    aligned = {year: align_stages(stages) for year, stages in by_year.items()}
    n_stages = {len(stages) for stages in aligned.values()}
    if len(n_stages) != 1:
        raise ValueError(f"every year's chain needs the same number of stages, got {n_stages}")
    (k_stages,) = n_stages
    firsts = {year: stages[0] for year, stages in aligned.items()}
    _, fractions, params = checked_inputs(firsts, fractions, keep_share, parameters, cascade)
    units = {n.unit for stages in aligned.values() for n in stages}
    if len(units) > 1:
        raise ValueError(f"the chains mix units {sorted(units)}; sweep one unit at a time")
    wanted = sorted(set(sources)) if sources is not None else None
    origins = sorted(set(range(k_stages) if source_stages is None else source_stages))
    if any(not 0 <= s < k_stages for s in origins):
        raise ValueError(f"source_stages must be in 0 .. {k_stages - 1}, got {origins}")
    # One job per year and source stage: its key says both, its network is the source stage's.
    jobs = [
        Job((year, s), stages[s], groups, None)
        for year, stages in aligned.items()
        for s in origins
        if (
            groups := [
                (g, f) for f in fractions for g in _scenarios(stages[s], wanted, False, params.mode)
            ]
        )
    ]
    if not jobs:
        raise ValueError("nothing to sweep: no fractions, or no country can be a source")
    total = sum(len(job.groups) for job in jobs)
    done = 0

    def advance(finished: int) -> None:
        nonlocal done
        done += finished
        if progress is not None:
            progress(done, total)

    # The downstream stages travel with the work (a partial pickles for Dask like a function).
    downstream = {year: tuple(stages) for year, stages in aligned.items()}
    work = partial(chain_job_tables, chains=downstream)
    parts = run_jobs(jobs, work, params, keep_share, advance, executor, scheduler)
    # Dask returns a job's chunks end to end, each stage after stage; stage-major within the job
    # (a stable sort) puts every run of a stage together in run order, as one local batch does.
    runs, impacts, transmitted = (
        pd.concat([t.sort_values("stage", kind="stable") for t in tables], ignore_index=True)
        for tables in zip(*parts, strict=True)
    )
    panel = sorted(set().union(*(stages[0].countries for stages in aligned.values())))
    return ChainSweepResult(runs, impacts, transmitted, tuple(aligned), tuple(panel), k_stages)


def chain_job_tables(
    job: Job,
    params: Parameters,
    keep_share: float,
    on_chunk: Callable[[int], None] | None = None,
    max_threads: int | None = None,
    *,
    chains: Mapping[Hashable, Sequence[TradeNetwork]],
) -> Tables:
    """Follow one job's runs (sources shocked at stage ``s``, ``job.year == (year, s)``) down
    ``chains[year]`` from stage ``s`` to the last, and tabulate every stage they reach (the
    work of both executors of :func:`chain_sweep`). ``on_chunk(n)`` once the runs are done."""
    key: Any = job.year  # a chain's jobs are keyed (year, source stage)
    year, origin = key[0], int(key[1])
    stages, groups = chains[year], job.groups
    loss = None
    floor: float | FloatArray = 0.0  # the upstream runs' dust thresholds
    parts: list[Tables] = []
    for k in range(origin, len(stages)):
        network = stages[k]
        links = Links.of(network)
        if loss is None:
            cuts = np.zeros((len(groups), network.n))
            plans = [
                plan(network, [Shock(c, f, stage=k) for c in group], params.mode)
                for group, f in groups
            ]
        else:
            cuts = coupling_cut(stages[k - 1], loss, network, floor)
            plans = [plan(network, (), params.mode, coupling_cut=row) for row in cuts]
        batch = run_batch(network, links, plans, params, None, max_threads)
        loss, floor = batch.demand_loss, params.eps_pass * batch.initial_shock
        # A country whose output the coupling cut has a row even if it lost nothing.
        tables = _tables(year, network, links, groups, plans, batch, params, keep_share, cuts > 0)
        runs, impacts, transmitted = (t.assign(source_stage=origin, stage=k) for t in tables)
        at = network.index.get_indexer(impacts["country"])
        keys = pd.MultiIndex.from_tuples([(";".join(g), f) for g, f in groups])
        run_of = keys.get_indexer(pd.MultiIndex.from_frame(impacts[["sources", "fraction"]]))
        impacts["coupling_cut"] = cuts[run_of, at]
        parts.append((runs, impacts, transmitted))
    if on_chunk is not None:
        on_chunk(len(groups))
    return joined(parts)  # empty stages left out: a chunk's column types are a whole job's
