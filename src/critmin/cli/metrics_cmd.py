"""`critmin metrics`: network measures before/after scenarios; `metrics concentration` per year."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from critmin.analysis.comparison import (
    LINK_RTOL,
    Comparison,
    ScenarioRun,
    compare,
    find_runs,
    load_run,
    save_measures,
)
from critmin.analysis.queries import Parameter, QueryError
from critmin.analysis.reads import yearly_concentration
from critmin.cli.common import (
    Database,
    MeasureOption,
    Password,
    Uri,
    User,
    console,
    err_console,
    friendly,
    open_store,
)
from critmin.cli.output import Format, FormatOption, OutOption, emit
from critmin.defaults import DEFAULT_SHOCKS
from critmin.loader.commodities import CommodityGroup, find_group
from critmin.store.graph import GraphStore
from critmin.units import Measure

app = typer.Typer(help="Network measures of trade networks: before/after scenarios, concentration.")

Commodity = Annotated[str | None, typer.Option(help="Commodity group id (e.g. cobalt).")]
Connection = tuple[str | None, str | None, str | None, str | None]
YEARS = Parameter("years", "list<integer>", default=None)  # same syntax as `--param years=`


def _group(commodity: str) -> CommodityGroup:
    return find_group(commodity)


@app.callback(invoke_without_command=True)
def metrics(
    ctx: typer.Context,
    commodity: Commodity = None,
    year: Annotated[
        int | None, typer.Option(help="Network year (taken from --scenario if omitted).")
    ] = None,
    scenario: Annotated[list[str] | None, typer.Option(help="Stored scenario id (repeat).")] = None,
    source: Annotated[
        str | None, typer.Option(help="ISO3 source: its stored scenarios at --shock.")
    ] = None,
    shock: Annotated[
        list[float] | None,
        typer.Option(
            help="Shock size with --source (repeat); default "
            + " and ".join(f"{s:g}" for s in DEFAULT_SHOCKS)
            + "."
        ),
    ] = None,
    mode: Annotated[str, typer.Option(help="export or production (with --source).")] = "export",
    measure: MeasureOption = Measure.AUTO,
    save: Annotated[
        bool, typer.Option("--save/--no-save", help="Store the measures on the Scenario nodes.")
    ] = True,
    fmt: FormatOption = Format.table,
    out: OutOption = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Measure a commodity's network in a year, before and after scenarios (each rerun exactly)."""
    if ctx.invoked_subcommand is not None:
        return
    if not scenario and commodity is None:
        raise typer.BadParameter("give --commodity and --year (and --source or --scenario)")
    compare_command(
        commodity,
        year,
        scenario or [],
        source,
        shock or list(DEFAULT_SHOCKS),
        mode,
        measure,
        save,
        (fmt, out),
        (uri, user, password, database),
    )


def _stored_or_fresh(
    store: GraphStore, commodity: str, year: int, source: str, shock: float, mode: str
) -> ScenarioRun:
    """The one stored scenario of ``source`` at ``shock``, else a fresh (unstored) definition."""
    found = find_runs(store, commodity, year, source, shock, mode)
    if len(found) > 1:
        ids = ", ".join(str(r.scenario_id) for r in found)
        raise typer.BadParameter(
            f"{len(found)} stored scenarios of {source} at {shock:g} in {year} differ in their "
            f"parameters ({ids}): choose with --scenario"
        )
    return found[0] if found else ScenarioRun(commodity, year, (source,), shock, {"mode": mode})


def _runs(
    store: GraphStore,
    commodity: str | None,
    year: int | None,
    scenarios: list[str],
    source: str | None,
    shocks: list[float],
    mode: str,
) -> tuple[str, int, list[ScenarioRun]]:
    runs = [load_run(store, scenario_id) for scenario_id in scenarios]
    commodity = commodity or runs[0].commodity
    if year is None:
        if not runs:
            raise typer.BadParameter("give --year (or --scenario, which has one)")
        year = runs[0].year
    if source:
        runs += [_stored_or_fresh(store, commodity, year, source, s, mode) for s in shocks]
    return commodity, year, runs


@friendly
def compare_command(
    commodity: str | None,
    year: int | None,
    scenarios: list[str],
    source: str | None,
    shocks: list[float],
    mode: str,
    measure: str,
    save: bool,
    output: tuple[Format, Path | None],
    connection: Connection,
) -> None:
    with open_store(*connection) as store:
        commodity, year, runs = _runs(store, commodity, year, scenarios, source, shocks, mode)
        try:
            comparison = compare(store, _group(commodity), year, runs, measure)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        written = save_measures(store, comparison) if save else []
    _show(comparison, *output)
    if written:
        (console if output[0] is Format.table else err_console).print(
            f"stored the measures on {len(written)} scenario(s): {', '.join(written)}"
        )


def _context(comparison: Comparison) -> dict[str, object]:
    context: dict[str, object] = {
        "commodity": comparison.group.id,
        "year": comparison.year,
        "unit": comparison.unit,
    }
    for label, run in comparison.runs.items():
        context[label] = run.scenario_id or "not stored"
    return context


def _show(comparison: Comparison, fmt: Format, out: Path | None) -> None:
    table = comparison.table()
    columns = ["measure", "unit", *table.columns[3:], "description"]
    caption = (
        f"unit {comparison.unit}; 'after' = final flows of the scenario rerun with the reference "
        f"engine; links at or below {LINK_RTOL:g} x total weight count as cut; paths over "
        "reachable pairs only"
    )
    for label, run in comparison.runs.items():
        caption += f"\n{label}: {run.scenario_id or 'not stored'}"
    for note in comparison.notes:
        caption += f"\nnote: {note}"
    title = f"{comparison.group.id} {comparison.year}: network before and after"
    emit(
        table,
        fmt,
        title=title,
        caption=caption,
        context=_context(comparison),
        out=out,
        table_columns=columns,
    )


@app.command()
@friendly
def concentration(
    commodity: Annotated[str, typer.Option(help="Commodity group id (e.g. cobalt).")],
    years: Annotated[
        str | None, typer.Option(help="2002-2024, 2019,2021; default every year.")
    ] = None,
    measure: MeasureOption = Measure.AUTO,
    fmt: FormatOption = Format.table,
    out: OutOption = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Yearly concentration of a commodity's exports and production: HHI and top-3 share."""
    group = _group(commodity)
    try:
        chosen = YEARS.coerce(years) if years else None
    except QueryError as exc:
        raise typer.BadParameter(str(exc)) from None
    with open_store(uri, user, password, database) as store:
        table, unit = yearly_concentration(store, group, chosen, measure.value)
    caption = (
        f"HHI on a 0-1 scale (1 = one country); exports in {unit} summed over HS "
        f"{', '.join(group.hs_codes)}; production in t ({group.production_commodity or 'none'})"
    )
    emit(
        table,
        fmt,
        title=f"Concentration of {group.id} exports and production",
        caption=caption,
        context={"commodity": group.id, "unit": unit, "measure": measure.value},
        out=out,
    )
