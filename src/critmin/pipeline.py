"""The jobs the CLI runs, as library calls: load files into the graph, run a sweep against it.

Each job reads and validates everything first, then writes; the CLI only parses options,
calls one of these and prints what comes back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.chain_run import ChainOutcome, rerun_chain_scenario
from critmin.loader import ProductionData, TradeData, read_production, read_trades
from critmin.loader.commodities import CommodityGroup, find_group, load_groups
from critmin.simulator import TradeNetwork, coalition_sweep, coalition_table, sweep
from critmin.simulator.stockpiles import parse_stockpiles
from critmin.simulator.sweep import SweepResult
from critmin.simulator.tables import StudyTables
from critmin.store.graph import DEFAULT_BATCH, GraphStore
from critmin.store.loading import PRODUCED, TRADES, Kind, LoadPlan, apply_plan, plan_load
from critmin.store.locks import exclusive, holder_label
from critmin.store.networks import (
    NoTradeData,
    Panel,
    available_years,
    country_names,
    read_panel,
)
from critmin.store.scenario_reads import NoScenarios, run_properties, scenario
from critmin.store.scenario_writes import RunInfo, new_run_id, write_sweep
from critmin.store.schema import ensure_schema
from critmin.study import InvalidParameters as InvalidParameters  # callers catch it here
from critmin.study import RunKind, Study
from critmin.study import cascade_parameters as cascade_parameters
from critmin.units import Unit

Progress = Callable[[int], None]

# The bundled sample, loaded in this order: the 2024 BACI subset (all flows) after the atlas
# series (top flows), so 2024's HS 282200 flows end up complete from BACI itself.
DEMO_TRADE_FILES = (
    "trade/atlas_topflows_2002_2024_cobalt_282200.csv",
    "trade/baci_hs17_v202601_2024_battery_subset.csv",
)
# The demo's sweeps: (commodity, years; None = every year with data).
DEMO_SWEEPS: tuple[tuple[str, list[int] | None], ...] = (
    ("cobalt_oxides", None),
    ("lithium_carbonate", [2024]),
    ("nickel_unwrought", [2024]),
    ("graphite_natural", [2024]),
    ("gallium_germanium", [2024]),
)
# The demo's supply chain (chains.csv: USGS mine production as stage 0, HS 282200 as stage 1),
# its years and the cascade mode: stage 0 has no ore trade, so its sources stop mining.
DEMO_CHAIN: tuple[str, list[int], str] = ("cobalt_demo", [2024], "production")
# The scenario whose network the demo measures before and after (the 2025 DRC cobalt ban's
# question on the 2024 network): commodity, year, source, shock.
DEMO_MEASURED = ("cobalt_oxides", 2024, "COD", 1.0)


def commodity_rows(extra: Path | None = None, also: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``(:Commodity)`` nodes: every group, every production commodity groups point to, and the
    commodities in ``also`` (production data may name one no group uses, such as gallium)."""
    groups = load_groups(extra)
    rows: dict[str, dict[str, Any]] = {}
    for g in groups.values():
        rows[g.id] = {
            "id": g.id,
            "name": g.name,
            "hs_codes": list(g.hs_codes),
            "production_commodity": g.production_commodity or None,
        }
    production = [g.production_commodity for g in groups.values() if g.production_commodity]
    for pc in [*production, *also]:
        if pc not in rows:
            rows[pc] = {
                "id": pc,
                "name": pc.replace("_", " ").capitalize(),
                "hs_codes": [],
                "production_commodity": pc,
            }
    return list(rows.values())


@dataclass
class LoadOutcome:
    data: TradeData | ProductionData
    plan: LoadPlan
    written: int


# What each kind of file becomes: its reader, the relationship it loads, the frame it yields.
LOADERS: dict[str, tuple[Callable[..., Any], Kind, str]] = {
    "trades": (read_trades, TRADES, "flows"),
    "production": (read_production, PRODUCED, "production"),
}


def read_input(
    what: str,
    files: Sequence[Path],
    format: str | None = None,
    unmapped_tolerance: float = 0.0,
    hs: Sequence[str] | None = None,
) -> TradeData | ProductionData:
    """Read and validate ``files`` (``what``: trades or production); touches no database.

    ``hs`` keeps only the flows of HS codes starting with one of these prefixes (a full BACI
    release holds every product; a commodity group's ``hs_codes`` are what a study needs).
    """
    read = LOADERS[what][0]
    if what != "trades" and (unmapped_tolerance or hs):
        raise InvalidParameters("--unmapped-tolerance and --hs apply to trade flows only")
    try:
        if what == "trades":
            data: TradeData | ProductionData = read(
                list(files), format, unmapped_tolerance=unmapped_tolerance, hs=hs or None
            )
        else:
            data = read(list(files), format)
    except KeyboardInterrupt as exc:
        exc.add_note("while the files were read and checked: nothing was written")
        raise
    return data


def write_input(
    store: GraphStore,
    what: str,
    data: TradeData | ProductionData,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    commodities: Path | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[str], None] | None = None,
    holder: str = "critmin load",
) -> LoadOutcome:
    """Plan validated ``data`` against the graph and write it, unless ``dry_run``.

    A load holds the graph's ``load`` lease from planning to its last write, so two loads run
    at once (two processes, two machines) never both write the same new rows: the second
    waits (``on_wait`` is told who holds the lease), then plans against what the first wrote.
    """
    _read, kind, attribute = LOADERS[what]
    names = dict(zip(data.countries["iso3"], data.countries["name"], strict=True))
    frame = getattr(data, attribute)
    named = set(frame["commodity"]) if "commodity" in frame else set()
    rows = commodity_rows(commodities, also=sorted(named))
    plan: LoadPlan | None = None
    try:
        if dry_run:
            return LoadOutcome(data, plan_load(store, kind, frame, names, rows), 0)
        ensure_schema(store)
        with exclusive(store, "load", holder_label(holder), on_wait=on_wait):
            plan = plan_load(store, kind, frame, names, rows)
            written = apply_plan(store, plan, batch_size, progress)  # notes what it wrote
    except BaseException as exc:
        if plan is None:
            exc.add_note(
                f"the load of {len(frame):,} rows stopped before writing anything (while it "
                "waited for the load lease or compared the rows with the graph): the database "
                "is as it was; re-run the same command"
            )
        raise
    return LoadOutcome(data, plan, written)


def load_files(
    store: GraphStore,
    what: str,
    files: Sequence[Path],
    format: str | None = None,
    *,
    unmapped_tolerance: float = 0.0,
    **options: Any,
) -> LoadOutcome:
    """Read and validate ``files``, then plan and write them (:func:`write_input`)."""
    data = read_input(what, files, format, unmapped_tolerance)
    holder = f"critmin load {what} " + " ".join(Path(f).name for f in files[:3])
    return write_input(store, what, data, holder=holder, **options)


def load_trades(store: GraphStore, files: Sequence[Path], **options: Any) -> LoadOutcome:
    """Trade flows: BACI, UN Comtrade, the BACI extracts, plain CSV (see :func:`load_files`)."""
    return load_files(store, "trades", files, **options)


def load_production(store: GraphStore, files: Sequence[Path], **options: Any) -> LoadOutcome:
    """Mine production: USGS MCS, OWID (see :func:`load_files`)."""
    return load_files(store, "production", files, **options)


def load_demo(store: GraphStore, data: Path) -> tuple[LoadOutcome, LoadOutcome]:
    """Load the bundled real sample (``data/`` of the repository): flows, then production."""
    trades = load_trades(store, [data / name for name in DEMO_TRADE_FILES])
    production = load_production(store, sorted((data / "production").glob("*.csv")))
    return trades, production


def measure_demo_scenario(store: GraphStore) -> list[str]:
    """Measure the network before and after :data:`DEMO_MEASURED` and store the measures."""
    from critmin.analysis.comparison import compare, find_runs, save_measures

    commodity, year, source, shock = DEMO_MEASURED
    runs = find_runs(store, commodity, year, source, shock)[:1]
    if not runs:
        raise NoTradeData(f"no stored {commodity} {year} scenario of {source} at {shock:g}")
    comparison = compare(store, find_group(commodity), year, runs)
    return save_measures(store, comparison)


@dataclass
class SweepOutcome:
    study: Study
    group: CommodityGroup
    panel: Panel
    result: SweepResult
    tables: StudyTables
    names: dict[str, str]
    parameters: dict[str, Any]
    seconds: float
    scenario_ids: list[str]
    write_seconds: float
    #: With ``coalitions=k``: each coalition against the sum of its members alone.
    coalitions: pd.DataFrame | None = None

    @property
    def stockpiles(self) -> tuple[str, ...]:
        """The stockpiles every run held, as given (``JPN=30``, ``USA=3months``)."""
        return self.study.stockpile_texts()

    def data_version(self, year: int) -> str:
        """The digest of ``year``'s flows, as stored on its scenarios."""
        return self.panel.data_version(year)

    def caption(self) -> str:
        p, panel = self.parameters, self.panel
        return (
            f"failure_rate = total_failed / ({len(panel.years)} years x {len(panel.countries)} "
            f"countries); unit {panel.unit}; alpha={p['alpha']}, fail_abs={p['fail_abs']:g} "
            f"{panel.unit}, fail_rel={p['fail_rel']}, mode={p['mode']}"
            + (f"; stockpiles {', '.join(self.stockpiles)}" if self.stockpiles else "")
        )


def networks(panel: Panel) -> dict[int, TradeNetwork]:
    """The panel's yearly networks, every year over the panel's countries."""
    return {year: year_network(panel, year) for year in panel.years}


def year_network(panel: Panel, year: int) -> TradeNetwork:
    """One year of ``panel`` as a network over all of the panel's countries."""
    return TradeNetwork.from_frames(
        panel.year_flows(year),
        panel.year_production(year),
        countries=panel.countries,
        unit=panel.unit,
    )


def study_panel(store: GraphStore, study: Study) -> tuple[CommodityGroup, Panel]:
    """The commodity's networks for ``study``'s years, read once the years and the numbers are
    known to be possible (years the data holds, quantities within the unit's bounds)."""
    if study.is_chain:
        raise InvalidParameters(
            f"a chain of {len(study.chain)} stages ({' -> '.join(study.chain)}) runs on the "
            "chain engine: critmin.chain_run.run_chain_sweep (critmin simulate --commodity "
            "CHAIN_ID)"
        )
    group = find_group(study.commodity)
    held = available_years(store, group)
    if not held:
        raise NoTradeData(f"no TRADES for {group.id}: load its trade flows first")
    chosen = study.chosen_years(held)
    try:
        panel = read_panel(store, group, chosen, study.measure.value)
    except NoTradeData:
        raise
    except ValueError as exc:  # a measure this store cannot yet give networks in
        raise InvalidParameters(f"--measure {study.measure.value}: {exc}") from None
    study.check_unit(panel.unit)
    return group, panel


def run_sweep(
    store: GraphStore,
    study: Study | str,
    *,
    write: bool = True,
    command: str = "",
    progress: Callable[[int, int], None] | None = None,
    write_progress: Progress | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    **definition: Any,
) -> SweepOutcome:
    """Pull the study's yearly networks, sweep them, and write every run as a scenario.

    ``study`` is a :class:`~critmin.study.Study`, or a commodity id with the study's fields
    and cascade parameters by name (``years=[2024]``, ``sources=["COD"]``, ``alpha=0.5``),
    from which one is built (:meth:`Study.build`). The run is refused before anything is
    simulated when its years are not in the data, its numbers are beyond the unit's bounds or
    it plans more scenarios than ``study.max_scenarios``.

    With ``study.cascades`` False (a bulk sweep) every scenario and its per-country outcomes
    (Impact nodes) are stored but not the TRANSMITS between them; :func:`materialise_cascade`
    adds them for any scenario an analyst opens, by re-running it (the simulator is
    deterministic). ``executor="dask"`` runs the cascades on a Dask cluster (``scheduler``, or
    a local one). Stockpiles are stored on the run and its scenarios (and in their ids), and
    what each country drew on its Impact (``stock_drawn_t|usd``).
    """
    if isinstance(study, str):
        study = Study.build(study, **definition)
    elif definition:
        raise TypeError(
            f"run_sweep takes a Study or a commodity with options, not both: {definition}"
        )
    group, panel = study_panel(store, study)
    resolved = study.parameters.resolved(panel.unit)
    params = resolved.as_dict()  # every parameter, defaults included: part of the scenario id
    if resolved.mode == "production" and not (panel.production["quantity"] > 0).any():
        first, last = panel.years[0], panel.years[-1]
        raise InvalidParameters(
            f"--mode production cuts each source's production, and the {group.id} networks "
            f"({Unit.of(panel.unit).label}, {first if first == last else f'{first}-{last}'}) "
            "carry none"
            + (f" ({'; '.join(panel.notes)})" if panel.notes else "")
            + (
                f": measure in tonnes or metal (--measure) with the production of "
                f"{group.production_commodity} loaded (`critmin load production`, README: "
                "Loading data), or run --mode export"
                if group.production_commodity
                else ": its group names no production commodity (the groups file), so run "
                "--mode export"
            )
        )
    absent = sorted(set(study.sources or ()) - set(panel.countries))
    if absent:
        raise InvalidParameters(
            f"no {group.id} trade of {', '.join(absent)} in {panel.years[0]}-{panel.years[-1]}: "
            "a source must be the ISO3 code of a country in the network (e.g. COD, CHN)"
        )
    study.check_size(len(panel.years), int(panel.flows["exporter"].nunique()))
    started = time.perf_counter()
    given = list(study.sources) if study.sources else None
    common: dict[str, Any] = {
        "fractions": study.shocks,
        "targets": list(study.targets) if study.targets else None,
        "keep_share": study.keep_share,
        "progress": progress,
        "executor": executor,
        "scheduler": scheduler,
        "stockpiles": study.stockpile_map or None,
        "cascade": resolved,
    }
    try:
        if study.coalitions is not None:
            result = coalition_sweep(
                networks(panel), k=study.coalitions, members=given, top=study.top, **common
            )
        else:
            result = sweep(networks(panel), sources=given, together=study.together, **common)
    except ValueError as exc:  # nothing to sweep, targets absent, a coalition without members
        raise InvalidParameters(f"cannot run this sweep: {exc}") from exc
    except ImportError as exc:  # executor="dask" without the dask extra
        raise InvalidParameters(
            f"--executor {executor} needs the dask extra: pip install 'critmin[dask]' ({exc})"
        ) from exc
    seconds = time.perf_counter() - started
    tables = result.tables(panel.countries)
    ids: list[str] = []
    write_started = time.perf_counter()
    if write:
        info = run_info(study, panel, params, command)
        info = replace(
            info, stock_quantities={y: dict(result.stockpiles.get(y, {})) for y in panel.years}
        )
        edges = result.transmitted if study.cascades else result.transmitted.iloc[0:0]
        ids = write_sweep(store, result.runs, result.impacts, edges, info, tables, write_progress)
    write_seconds = time.perf_counter() - write_started
    names = country_names(store)
    pairs = coalition_table(result) if study.coalitions is not None else None
    return SweepOutcome(
        study, group, panel, result, tables, names, params, seconds, ids, write_seconds, pairs
    )


def run_info(
    study: Study, panel: Panel, params: Mapping[str, Any], command: str, **fields: Any
) -> RunInfo:
    """What the store writes on the ``(:Run)`` of ``study`` run on ``panel``: its kind, whether
    it is the study, its unit, parameters and data versions (``fields`` override)."""
    values: dict[str, Any] = {
        "id": new_run_id(study.commodity),
        "command": command,
        "commodity": study.commodity,
        "kind": study.kind,
        "is_study": study.is_study,
        "unit": panel.unit,
        "parameters": params,
        "n_panel": len(panel.countries),
        "n_years": len(panel.years),
        "data_versions": {y: panel.data_version(y) for y in panel.years},
        "targets": tuple(study.targets or ()),
        "extra": {
            "measure": study.measure.value,
            "keep_share": study.keep_share,
            "cascades": study.cascades,
        },
        "stockpiles": study.stockpile_texts(),
    }
    values.update(fields)
    return RunInfo(**values)


def materialise_cascade(
    store: GraphStore, scenario_id: str, command: str = ""
) -> SweepOutcome | ChainOutcome:
    """Store the cascade (Impact nodes and TRANSMITS) of the stored scenario ``scenario_id``.

    The scenario is re-run from its stored definition (commodity, year, sources, shock size,
    targets, stockpiles and every parameter) on the year's network as the graph holds it now.
    A supply chain's scenario (``chain`` and ``source_stage`` stored) is re-run down the
    chain's stage networks, and its every stage is stored: Impacts, TRANSMITS and the STARVES
    between stages (:func:`critmin.chain_run.rerun_chain_scenario`).
    On the data it was computed from (same data version) it is written under the same id, with
    the same numbers: what a bulk sweep (``cascades=False``) left out is then there for
    Cypher's path queries. When a load changed the year's flows since, the id (which includes
    the data version) differs: the re-run is stored as a new scenario, the stored one keeps its
    numbers, and ``outcome.scenario_ids`` says which id it got (see :func:`data_changed`).

    Raises
    ------
    NoScenarios
        No scenario has that id.
    InvalidParameters
        The scenario cannot be re-run as stored (per-source shock sizes of a policy file: run
        the file again), or re-running it gives another id (its data or parameters changed).
    """
    props = scenario(store, scenario_id)
    if props is None:
        raise NoScenarios(
            f"no scenario {scenario_id!r}: list stored ones with "
            "`critmin query find_scenarios -p commodity=...`"
        )
    if run_properties(store, str(props.get("run_id", ""))).get("kind") == RunKind.POLICY:
        raise InvalidParameters(
            f"scenario {scenario_id} comes from a policy file: run the file again with "
            "`critmin scenario run FILE` to store its cascade"
        )
    from critmin.analysis.comparison import ScenarioRun

    run = ScenarioRun.from_properties(props)  # the one reader of a stored definition
    command = command or f"critmin cascade {scenario_id}"
    outcome: SweepOutcome | ChainOutcome
    if props.get("chain"):
        outcome = rerun_chain_scenario(
            store,
            str(props["chain"]),
            run.year,
            run.sources,
            run.shock,
            int(props.get("source_stage") or 0),
            cascade_parameters(**run.parameters),
            command,
        )
    else:
        stockpiles = parse_stockpiles(props.get("stockpiles") or [])
        outcome = run_sweep(  # the Python edge: a Study built from the stored definition
            store,
            run.commodity,
            years=[run.year],
            shocks=[run.shock],
            sources=list(run.sources),
            together=len(run.sources) > 1,
            targets=list(run.targets) or None,
            measure=Unit.of(str(run.unit)).measure,
            parameters=cascade_parameters(**run.parameters),
            stockpiles=stockpiles or None,
            command=command,
        )
    if scenario_id not in outcome.scenario_ids and not data_changed(props, outcome):
        raise InvalidParameters(
            f"re-running scenario {scenario_id} gave {', '.join(outcome.scenario_ids)}: its "
            "definition is not all stored; run its sweep's command again instead"
        )
    return outcome


def data_changed(stored: Mapping[str, Any], outcome: SweepOutcome | ChainOutcome) -> bool:
    """Whether the year of a stored scenario (its properties) now has other flows than it was
    computed from: its data version differs from the network(s) ``outcome`` ran on."""
    year = int(stored["year"])
    return str(stored.get("data_version") or "") != outcome.data_version(year)
