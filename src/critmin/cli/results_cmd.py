"""`critmin results sources|losses`: the study's tables from the stored scenarios."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import pandas as pd
import typer

from critmin.cli.common import (
    Database,
    Password,
    Uri,
    User,
    console,
    err_console,
    friendly,
    open_store,
)
from critmin.cli.output import Format, FormatOption, OutOption, emit
from critmin.store.scenario_reads import (
    country_table,
    loss_table,
    source_table,
    suffix,
    unfinished_after,
)

app = typer.Typer(help="Tables of stored sweeps: top risk sources, most exposed countries.")

Commodity = Annotated[str, typer.Option(help="Commodity group id.")]
Shock = Annotated[float, typer.Option(help="Shock size of the runs (1.0 or 0.5 in the study).")]
Mode = Annotated[str, typer.Option(help="export or production.")]
Top = Annotated[
    int, typer.Option(min=1, help="Rows of the table view (csv, json and --out have all).")
]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Pick the latest complete sweep with these parameters, e.g. --param alpha=0.5 "
        "(repeat).",
    ),
]
RunId = Annotated[
    str | None,
    typer.Option(
        "--run",
        help="Read this sweep (a run id from `critmin query sweeps`); default: the latest "
        "complete sweep of every source.",
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


def _sources_view(table: pd.DataFrame, context: dict[str, object]) -> tuple[pd.DataFrame, str]:
    caption = (
        f"failure_rate = total_failed / ({context['years']} years x {context['panel_countries']} "
        "countries)"
    )
    return table, caption


def _losses_view(table: pd.DataFrame, context: dict[str, object]) -> tuple[pd.DataFrame, str]:
    unit = suffix(str(context["unit"]))
    table = table.rename(
        columns={
            "mean_loss_all_runs": f"mean_loss_all_runs_{unit}",
            "mean_loss_when_hit": f"mean_loss_when_hit_{unit}",
        }
    )
    return (
        table,
        f"mean over all {context['runs']} runs (zeros included) and over the runs with a loss > 0",
    )


def _hubs_view(table: pd.DataFrame, context: dict[str, object]) -> tuple[pd.DataFrame, str]:
    unit = suffix(str(context["unit"]))
    columns = [
        "hub_rank",
        "country",
        "name",
        "scenarios_hit",
        f"received_{unit}",
        f"passed_on_{unit}",
        f"absorbed_{unit}",
        "share_passed_on",
    ]
    table = table.sort_values(["hub_rank", "country"]).reset_index(drop=True)
    return (
        table[columns],
        "summed over the runs in which the country is not the source: received = gross hits, "
        "passed on = received - absorbed (demand loss)",
    )


TableReader = Callable[..., tuple[pd.DataFrame, dict[str, object]]]
View = Callable[[pd.DataFrame, dict[str, object]], tuple[pd.DataFrame, str]]


def _command(read: TableReader, view: View, title: str) -> Callable[..., None]:
    """A `critmin results` command: read one stored table, print it with its context, save it."""

    def command(
        commodity: Commodity,
        shock: Shock = 1.0,
        mode: Mode = "export",
        top: Top = 10,
        fmt: FormatOption = Format.table,
        out: OutOption = None,
        param: Where = None,
        run: RunId = None,
        uri: Uri = None,
        user: User = None,
        password: Password = None,
        database: Database = None,
    ) -> None:
        with open_store(uri, user, password, database) as store:
            table, context = read(
                store, commodity, shock, mode, run_id=run, where=parse_where(param)
            )
            unfinished = unfinished_after(store, context)
        table, caption = view(table, context)
        heading = f"{title}: {commodity}, {shock:.0%} export cut"
        emit(
            table,
            fmt,
            title=heading,
            caption=f"{caption}; {_context_line(context)}",
            context=context,
            limit=top,
            out=out,
        )
        if unfinished:
            # On stderr when stdout carries CSV or JSON for the next step.
            (console if fmt is Format.table else err_console).print(
                f"note: later sweeps of {commodity} did not finish and are not in this table: "
                f"{', '.join(unfinished)}",
                soft_wrap=True,
                highlight=False,
            )

    return friendly(command)


app.command(
    "sources",
    help="Rank sources by total failed countries (the study's Table 1 for 100%, Table 2 for 50%).",
)(_command(source_table, _sources_view, "Top risk sources"))
app.command(
    "losses",
    help="Average demand loss per country: mean over all runs and mean over the runs that hit it.",
)(_command(loss_table, _losses_view, "Most exposed countries"))
app.command(
    "hubs",
    help="Transit hubs: who passes on the loss it receives (the study's South Africa, Malaysia).",
)(_command(country_table, _hubs_view, "Transit hubs"))
