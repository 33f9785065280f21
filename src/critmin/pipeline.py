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

from critmin.errors import CritminError
from critmin.loader import ProductionData, TradeData, read_production, read_trades
from critmin.loader.commodities import CommodityGroup, find_group, load_groups
from critmin.policy import PolicyOutcome, read_scenario, run_policy
from critmin.simulator import TradeNetwork, coalition_sweep, coalition_table, sweep
from critmin.simulator.scenario import Parameters
from critmin.simulator.stockpiles import Stockpile, parse_stockpiles
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
from critmin.units import Unit

# TRANSMITS edges kept per run: those carrying at least 1% of its initial shock. At 0.1%, the
# 2020 and 2024 HS 282200 sweeps kept 309 edges a run, at 1% 119: the critical paths are the
# same and the write-back is 2.5 times smaller.
KEEP_SHARE = 0.01


class InvalidParameters(CritminError, ValueError):
    """A cascade parameter is unknown or out of range."""


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
    #: The stockpiles every run held, as given (``JPN=30``, ``USA=3months``).
    stockpiles: tuple[str, ...] = ()

    def caption(self) -> str:
        p, panel = self.parameters, self.panel
        return (
            f"failure_rate = total_failed / ({len(panel.years)} years x {len(panel.countries)} "
            f"countries); unit {panel.unit}; alpha={p['alpha']}, fail_abs={p['fail_abs']:g} "
            f"{panel.unit}, fail_rel={p['fail_rel']}, mode={p['mode']}"
            + (f"; stockpiles {', '.join(self.stockpiles)}" if self.stockpiles else "")
        )


def cascade_parameters(parameters: Parameters | None = None, **overrides: Any) -> Parameters:
    """``parameters`` with ``overrides`` applied, checked: the one place a run's parameters are
    made from user input (bad names or values raise :class:`InvalidParameters`)."""
    try:
        return replace(parameters or Parameters(), **overrides)
    except (TypeError, ValueError) as exc:
        raise InvalidParameters(f"invalid cascade parameters: {exc}") from exc


def networks(panel: Panel) -> dict[int, TradeNetwork]:
    return {
        year: TradeNetwork.from_frames(
            panel.year_flows(year),
            panel.year_production(year),
            countries=panel.countries,
            unit=panel.unit,
        )
        for year in panel.years
    }


def select_years(wanted: Sequence[int] | None, available: Sequence[int]) -> list[int]:
    if not wanted:
        return list(available)
    return sorted(set(wanted) & set(available))


def run_sweep(
    store: GraphStore,
    commodity: str,
    *,
    years: Sequence[int] | None = None,
    fractions: Sequence[float] = (1.0, 0.5),
    sources: Sequence[str] | None = None,
    together: bool = False,
    targets: Sequence[str] | None = None,
    measure: str = "auto",
    keep_share: float = KEEP_SHARE,
    write: bool = True,
    command: str = "",
    progress: Callable[[int, int], None] | None = None,
    write_progress: Progress | None = None,
    parameters: Parameters | None = None,
    coalitions: int | None = None,
    top: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    stockpiles: Mapping[str, Stockpile | float] | None = None,
    cascades: bool = True,
    **overrides: Any,
) -> SweepOutcome:
    """Pull the commodity's yearly networks, sweep them, and write every run as a scenario.

    With ``cascades=False`` (a bulk sweep) every scenario and its per-country outcomes (Impact
    nodes) are stored but not the TRANSMITS between them; :func:`materialise_cascade` adds
    them for any scenario an analyst opens, by re-running it (the simulator is deterministic).

    ``parameters`` (default :class:`Parameters`'s defaults) with ``overrides`` by name
    (``alpha=0.5``) are the cascade's parameters; ``fail_abs`` left unset follows the unit.
    ``coalitions=k`` runs every k-subset of the ``sources`` (or of the ``top`` exporters of each
    year) acting together, and each member alone (:func:`~critmin.simulator.coalition_sweep`).
    ``executor="dask"`` runs the cascades on a Dask cluster (``scheduler``, or a local one).
    ``stockpiles`` (ISO3 to a quantity in the panel's unit or a :class:`Stockpile`) are held in
    every run; they are stored on the run and its scenarios (and in their ids), and what each
    country drew on its Impact (``stock_drawn_t|usd``).
    """
    group = find_group(commodity)
    chosen = select_years(years, available_years(store, group))
    if not chosen:
        raise NoTradeData(f"no TRADES for {commodity} in the requested years {years}")
    panel = read_panel(store, group, chosen, measure)
    resolved = cascade_parameters(parameters, **overrides).resolved(panel.unit)
    params = resolved.as_dict()  # every parameter, defaults included: part of the scenario id
    sources = [code.strip().upper() for code in sources] if sources else None
    targets = [code.strip().upper() for code in targets] if targets else None
    try:
        stocks = {
            code.strip().upper(): v if isinstance(v, Stockpile) else Stockpile(v)
            for code, v in (stockpiles or {}).items()
        }
    except ValueError as exc:
        raise InvalidParameters(f"invalid stockpile: {exc}") from exc
    absent = sorted(set(sources or []) - set(panel.countries))
    if absent:
        raise InvalidParameters(
            f"no {group.id} trade of {', '.join(absent)} in {panel.years[0]}-{panel.years[-1]}: "
            "a source must be the ISO3 code of a country in the network (e.g. COD, CHN)"
        )
    started = time.perf_counter()
    given = list(sources) if sources else None
    common: dict[str, Any] = {
        "fractions": tuple(fractions),
        "targets": list(targets) if targets else None,
        "keep_share": keep_share,
        "progress": progress,
        "executor": executor,
        "scheduler": scheduler,
        "stockpiles": stocks or None,
        "cascade": resolved,
    }
    try:
        if coalitions is not None:
            if together:
                raise ValueError("--together names one coalition; --coalitions k runs them all")
            result = coalition_sweep(
                networks(panel), k=coalitions, members=given, top=top, **common
            )
        else:
            result = sweep(networks(panel), sources=given, together=together, **common)
    except ValueError as exc:  # nothing to sweep, targets absent, a coalition without members
        raise InvalidParameters(f"cannot run this sweep: {exc}") from exc
    except ImportError as exc:  # executor="dask" without the dask extra
        raise InvalidParameters(
            f"--executor {executor} needs the dask extra: pip install 'critmin[dask]' ({exc})"
        ) from exc
    seconds = time.perf_counter() - started
    tables = result.tables(panel.countries)
    ids: list[str] = []
    held = tuple(f"{code}={stocks[code]}" for code in sorted(stocks))
    write_started = time.perf_counter()
    if write:
        info = RunInfo(
            id=new_run_id(group.id),
            command=command,
            commodity=group.id,
            kind=run_kind(sources, together or coalitions is not None, targets),
            unit=panel.unit,
            parameters=params,
            n_panel=len(panel.countries),
            n_years=len(panel.years),
            data_versions={y: panel.data_version(y) for y in panel.years},
            targets=tuple(sorted(targets or ())),
            extra={"measure": measure, "keep_share": keep_share, "cascades": cascades},
            stockpiles=held,
            stock_quantities={y: dict(result.stockpiles.get(y, {})) for y in panel.years},
        )
        edges = result.transmitted if cascades else result.transmitted.iloc[0:0]
        ids = write_sweep(store, result.runs, result.impacts, edges, info, tables, write_progress)
    write_seconds = time.perf_counter() - write_started
    names = country_names(store)
    pairs = coalition_table(result) if coalitions is not None else None
    return SweepOutcome(
        group, panel, result, tables, names, params, seconds, ids, write_seconds, pairs, held
    )


def run_scenario_file(store: GraphStore, path: Path | str, **options: Any) -> PolicyOutcome:
    """Run a policy scenario file on the stored networks and store it under its name
    (:func:`critmin.policy.run_policy`; a bad file raises before anything runs)."""
    return run_policy(store, read_scenario(path), **options)


def materialise_cascade(store: GraphStore, scenario_id: str, command: str = "") -> SweepOutcome:
    """Store the cascade (Impact nodes and TRANSMITS) of the stored scenario ``scenario_id``.

    The scenario is re-run from its stored definition (commodity, year, sources, shock size,
    targets, stockpiles and every parameter) on the year's network as the graph holds it now,
    and written under the same id: what a bulk sweep (``cascades=False``) left out is then
    there for Cypher's path queries.

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
    if run_properties(store, str(props.get("run_id", ""))).get("kind") == "policy":
        raise InvalidParameters(
            f"scenario {scenario_id} comes from a policy file: run the file again with "
            "`critmin scenario run FILE` to store its cascade"
        )
    from critmin.analysis.comparison import ScenarioRun

    run = ScenarioRun.from_properties(props)  # the one reader of a stored definition
    stockpiles = parse_stockpiles(props.get("stockpiles") or [])
    outcome = run_sweep(
        store,
        run.commodity,
        years=[run.year],
        fractions=[run.shock],
        sources=list(run.sources),
        together=len(run.sources) > 1,
        targets=list(run.targets) or None,
        measure=Unit.of(str(run.unit)).measure,
        parameters=cascade_parameters(**run.parameters),
        stockpiles=stockpiles or None,
        command=command or f"critmin cascade {scenario_id}",
    )
    if scenario_id not in outcome.scenario_ids:
        raise InvalidParameters(
            f"re-running scenario {scenario_id} gave {', '.join(outcome.scenario_ids)}: its "
            "definition is not all stored; run its sweep's command again instead"
        )
    return outcome


def run_kind(sources: Sequence[str] | None, together: bool, targets: Sequence[str] | None) -> str:
    """What a sweep is, for the graph: ``study``, ``selection``, ``coalition`` or ``embargo``.

    >>> run_kind(None, False, None), run_kind(["COD"], False, None)
    ('study', 'selection')
    >>> run_kind(["COD", "ZMB"], True, None), run_kind(["CHN"], False, ["USA"])
    ('coalition', 'embargo')
    """
    if targets:
        return "embargo"
    if together:
        return "coalition"
    return "selection" if sources else "study"
