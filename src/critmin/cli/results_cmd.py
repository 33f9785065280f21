"""`critmin results sources|losses`: the study's tables from the stored scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.common import Database, Password, Uri, User, friendly, open_store
from critmin.cli.output import show_table, write_frame
from critmin.store.results import loss_table, source_table

app = typer.Typer(help="Tables of stored sweeps: top risk sources, most exposed countries.")

Commodity = Annotated[str, typer.Option(help="Commodity group id.")]
Shock = Annotated[float, typer.Option(help="Shock size of the runs (1.0 or 0.5 in the study).")]
Mode = Annotated[str, typer.Option(help="export or production.")]
Top = Annotated[int, typer.Option(help="Rows to print (the CSV has all).")]
Csv = Annotated[Path | None, typer.Option("--csv", help="Also write the table to this CSV file.")]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Pick the parameter set, e.g. --param alpha=0.5 (repeat); "
        "default: the most recently written set.",
    ),
]


def parse_where(items: list[str] | None) -> dict[str, object]:
    """``["alpha=0.5", "supplier_cap=supply"]`` -> ``{"alpha": 0.5, "supplier_cap": "supply"}``.

    >>> parse_where(["alpha=0.5", "max_rounds=100", "supplier_cap=supply"])
    {'alpha': 0.5, 'max_rounds': 100, 'supplier_cap': 'supply'}
    """
    where: dict[str, object] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--param takes name=value, not {item!r}")
        value: object = text
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
        where[name.strip()] = value
    return where


def _context_line(context: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in context.items())


@app.command()
@friendly
def sources(
    commodity: Commodity,
    shock: Shock = 1.0,
    mode: Mode = "export",
    top: Top = 10,
    csv: Csv = None,
    param: Where = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Rank sources by total failed countries (the study's Table 1 for 100%, Table 2 for 50%)."""
    with open_store(uri, user, password, database) as store:
        table, context = source_table(store, commodity, shock, mode, where=parse_where(param))
    caption = (
        f"failure_rate = total_failed / ({context['years']} years x {context['panel_countries']} "
        f"countries); {_context_line(context)}"
    )
    show_table(table, f"Top risk sources: {commodity}, {shock:.0%} export cut", caption, top)
    if csv:
        write_frame(table, csv, context)


@app.command()
@friendly
def losses(
    commodity: Commodity,
    shock: Shock = 1.0,
    mode: Mode = "export",
    top: Top = 10,
    csv: Csv = None,
    param: Where = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Average demand loss per country: mean over all runs and mean over the runs that hit it."""
    with open_store(uri, user, password, database) as store:
        table, context = loss_table(store, commodity, shock, mode, where=parse_where(param))
    unit = context["unit"]
    table = table.rename(
        columns={
            "mean_loss_all_runs": f"mean_loss_all_runs_{unit}",
            "mean_loss_when_hit": f"mean_loss_when_hit_{unit}",
        }
    )
    caption = (
        f"mean over all {context['runs']} runs (zeros included) and over the runs with a loss > 0; "
        f"{_context_line(context)}"
    )
    show_table(table, f"Most exposed countries: {commodity}, {shock:.0%} export cut", caption, top)
    if csv:
        write_frame(table, csv, context)
