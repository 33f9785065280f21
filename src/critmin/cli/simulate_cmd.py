"""`critmin simulate`: pull yearly networks from Neo4j, run the sweep, write scenarios back."""

from __future__ import annotations

import shlex
import sys
import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.cli.output import show_table
from critmin.loader.commodities import load_groups
from critmin.simulator import TradeNetwork, sweep
from critmin.store.networks import Panel, available_years, read_panel
from critmin.store.scenarios import RunInfo, write_sweep

FAIL_ABS_DEFAULT = {"t": 1e-3, "USD": 1_000.0}


def parse_years(text: str | None, available: list[int]) -> list[int]:
    """``2002-2024``, ``2019,2021`` or None (every year with data).

    >>> parse_years("2002-2004", [2002, 2003, 2004, 2005])
    [2002, 2003, 2004]
    >>> parse_years("2003,2005", [2002, 2003, 2004, 2005])
    [2003, 2005]
    """
    if not text:
        return available
    years: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            years.update(range(int(first), int(last or first) + 1))
        except ValueError:
            raise typer.BadParameter(f"years must look like 2002-2024 or 2019,2021: {text!r}") from None
    chosen = sorted(years & set(available))
    if not chosen:
        raise typer.BadParameter(f"no data for {text}; years with data: {available}")
    return chosen


def networks(panel: Panel) -> dict[int, TradeNetwork]:
    return {
        year: TradeNetwork.from_frames(
            panel.year_flows(year), panel.year_production(year), unit=panel.unit
        )
        for year in panel.years
    }


def simulate(
    commodity: Annotated[str, typer.Option(help="Commodity group id (see data file commodities.csv).")],
    years: Annotated[str | None, typer.Option(help="2002-2024, 2019,2021; default every year.")] = None,
    shock: Annotated[list[float] | None, typer.Option(help="Share of exports cut (repeat); default 1.0 and 0.5.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="ISO3 source (repeat); default every exporter.")] = None,
    together: Annotated[bool, typer.Option(help="The given sources cut together (a coalition).")] = False,
    mode: Annotated[str, typer.Option(help="export (cut exports) or production (cut output).")] = "export",
    alpha: Annotated[float, typer.Option(help="Share of a loss passed on by cutting exports.")] = 0.8,
    absorb: Annotated[float, typer.Option(help="Share of a received loss absorbed at home first.")] = 0.0,
    supplier_cap: Annotated[str, typer.Option(help="none, or supply (suppliers give at most their supply).")] = "none",
    fail_abs: Annotated[float | None, typer.Option(help="Failure threshold in the network's unit; default 0.001 t or 1,000 USD.")] = None,
    fail_rel: Annotated[float, typer.Option(help="Failure also needs loss > fail_rel x demand.")] = 0.0,
    measure: Annotated[str, typer.Option(help="auto, tonnes or usd (see README: units).")] = "auto",
    keep_share: Annotated[float, typer.Option(help="Store TRANSMITS edges above this share of the shock.")] = 1e-3,
    store_results: Annotated[bool, typer.Option("--store/--no-store", help="Write scenarios to Neo4j.")] = True,
    top: Annotated[int, typer.Option(help="Rows of the Table 1 view to print.")] = 10,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Run the shock-diffusion sweep on stored networks and write scenario-tagged results."""
    run_sweep(commodity, years, shock or [1.0, 0.5], source, together, mode,
              {"alpha": alpha, "absorb": absorb, "supplier_cap": supplier_cap, "fail_rel": fail_rel},
              fail_abs, measure, keep_share, store_results, top, (uri, user, password, database))


@friendly
def run_sweep(
    commodity: str, years: str | None, shocks: list[float], sources: list[str] | None,
    together: bool, mode: str, parameters: dict[str, object], fail_abs: float | None,
    measure: str, keep_share: float, store_results: bool, top: int,
    connection: tuple[str | None, str | None, str | None, str | None],
) -> None:
    groups = load_groups()
    if commodity not in groups:
        raise typer.BadParameter(f"unknown commodity {commodity!r}; known: {', '.join(sorted(groups))}")
    group = groups[commodity]
    with open_store(*connection) as store:
        chosen = parse_years(years, available_years(store, group))
        panel = read_panel(store, group, chosen, measure)
        params = {**parameters, "mode": mode, "fail_abs": fail_abs if fail_abs is not None else FAIL_ABS_DEFAULT[panel.unit]}
        nets = networks(panel)
        console.print(
            f"{group.id} ({group.name}; HS {', '.join(group.hs_codes)}): {len(chosen)} years "
            f"{chosen[0]}-{chosen[-1]}, {len(panel.countries)} countries, unit {panel.unit}"
        )
        started = time.perf_counter()
        with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task("runs", total=None, rate="")

            def advance(done: int, total: int) -> None:
                elapsed = max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f} runs/s")

            result = sweep(nets, fractions=tuple(shocks), sources=sources, together=together,
                           keep_share=keep_share, progress=advance, **params)
        seconds = time.perf_counter() - started
        console.print(f"{len(result.runs):,} runs in {seconds:.1f} s")
        if store_results:
            info = RunInfo(
                id=f"run_{int(time.time())}",
                command=shlex.join(["critmin", *sys.argv[1:]]),
                commodity=group.id, unit=panel.unit, parameters=params,
                n_panel=len(panel.countries),
                data_versions={y: panel.data_version(y) for y in panel.years},
                extra={"keep_share": keep_share, "measure": measure},
            )
            written = time.perf_counter()
            with Progress(TextColumn("writing scenarios"), BarColumn(), MofNCompleteColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("write", total=len(result.runs))
                ids = write_sweep(store, result.runs, result.impacts, result.transmitted, info,
                                  progress=lambda n: bar.advance(task, n))
            console.print(f"stored {len(ids):,} scenarios (run {info.id}) in "
                          f"{time.perf_counter() - written:.1f} s")
    for fraction in shocks:
        table = result.source_table(panel.countries)
        view = table[table["fraction"] == fraction].drop(columns="fraction") if "fraction" in table else table
        show_table(view, f"Top risk sources, {group.id}, {fraction:.0%} export cut",
                   caption=_caption(panel, params, chosen), limit=top)


def _caption(panel: Panel, params: dict[str, object], years: list[int]) -> str:
    return (f"failure_rate = total_failed / ({len(years)} years x {len(panel.countries)} countries); "
            f"unit {panel.unit}; alpha={params['alpha']}, fail_abs={params['fail_abs']} {panel.unit}, "
            f"fail_rel={params['fail_rel']}, mode={params['mode']}")
