"""`critmin stock-needed`: the stockpile each country would have needed not to fail."""

from __future__ import annotations

from typing import Annotated

import typer

from critmin.cli.common import (
    Absorb,
    Alpha,
    Database,
    FailAbs,
    MeasureOption,
    Password,
    Preset,
    SupplierCap,
    Uri,
    User,
    friendly,
    given_parameters,
    open_store,
)
from critmin.cli.output import Format, FormatOption, OutOption, emit
from critmin.cli.simulate_cmd import stockpile_option
from critmin.policy import stock_needed_table
from critmin.simulator.scenario import FAILURE_PRESETS
from critmin.store.scenario_reads import suffix
from critmin.study import Study
from critmin.units import Measure


@friendly
def stock_needed(
    commodity: Annotated[str, typer.Option(help="Commodity group id, e.g. cobalt_oxides.")],
    source: Annotated[
        list[str], typer.Option(help="ISO3 source (repeat: the sources cut together).")
    ],
    year: Annotated[
        int | None, typer.Option(help="Year of the network; default the latest with data.")
    ] = None,
    shock: Annotated[
        float, typer.Option(help="Share of each source's exports cut, in (0, 1].")
    ] = 1.0,
    target: Annotated[
        list[str] | None,
        typer.Option(help="Targeted cut: only the exports to this ISO3 importer (repeat)."),
    ] = None,
    stockpile: Annotated[
        list[str] | None,
        typer.Option(
            help="Stockpiles the scenario already has (repeat): ISO3=QTY or ISO3=3months; a "
            "country's own is replaced by the stock it needs."
        ),
    ] = None,
    country: Annotated[
        list[str] | None,
        typer.Option(help="Answer for this ISO3 country (repeat); default every failed one."),
    ] = None,
    failure_rule: Annotated[
        str, typer.Option(help=f"Failure-rule preset: {', '.join(FAILURE_PRESETS)}.")
    ] = "any-loss",
    alpha: Alpha = None,
    absorb: Absorb = None,
    supplier_cap: SupplierCap = None,
    fail_abs: FailAbs = None,
    preset: Preset = None,
    measure: MeasureOption = Measure.AUTO,
    fmt: FormatOption = Format.table,
    out: OutOption = None,
    rows: Annotated[int, typer.Option("--top", min=1, help="Rows of the table to print.")] = 30,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Stock each exposed country would have needed to avoid failure, in the flow unit and in
    months of its demand (bisection on re-runs of the scenario)."""
    if failure_rule not in FAILURE_PRESETS:
        raise typer.BadParameter(
            f"{failure_rule!r}: choose one of {', '.join(FAILURE_PRESETS)}",
            param_hint="--failure-rule",
        )
    study = Study.build(  # the sources cut together, in one year; checked before a server
        commodity,
        years=None if year is None else [year],
        shocks=[shock],
        measure=measure,
        sources=source,
        together=True,
        targets=target,
        stockpiles=stockpile_option(stockpile),
        preset=preset,
        **given_parameters(
            alpha=alpha,
            absorb=absorb,
            supplier_cap=supplier_cap,
            fail_abs=fail_abs,
            fail_rel=FAILURE_PRESETS[failure_rule].fail_rel,
        ),
    )
    with open_store(uri, user, password, database) as store:
        table, context = stock_needed_table(
            store,
            study,
            [c.strip().upper() for c in country] if country else None,
            failure_rule=failure_rule,
        )
    unit = str(context["unit"])
    u = suffix(unit)
    table = table.rename(
        columns={c: f"{c}_{u}" for c in ("stock_needed", "demand", "demand_loss", "threshold")}
    ).drop(columns=["unit"])
    caption = (
        f"{context['commodity']} {context['year']}, unit {unit}; shocks {context['shocks']}"
        + (f"; stockpiles {context['stockpiles']}" if context["stockpiles"] else "")
        + f"; {context['failure_text']}, i.e. a loss above threshold_{u}; "
        f"alpha={context['alpha']:g}, absorb={context['absorb']:g}, "
        f"supplier_cap={context['supplier_cap']}; stock_needed: the smallest stockpile with "
        "which the country does not fail (others keep theirs); months_of_demand = "
        "stock_needed / (demand / 12); inf: no stock is enough"
    )
    emit(
        table,
        fmt,
        title=f"Stock needed to avoid failure: {context['commodity']} {context['year']}",
        caption=caption,
        context={**context, "failure_rule": failure_rule},
        limit=rows,
        out=out,
    )
