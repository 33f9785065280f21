"""What every command shares: connection options, the error boundary, console output."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from critmin.cli.explain import explain, interrupted, quiet_driver
from critmin.store.graph import GraphStore
from critmin.store.settings import resolve_settings
from critmin.units import Unit

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

Uri = Annotated[
    str | None, typer.Option("--uri", envvar="NEO4J_URI", help="Bolt URI of a Neo4j you run.")
]
User = Annotated[str | None, typer.Option("--user", envvar="NEO4J_USER", help="Neo4j user.")]
Password = Annotated[
    str | None,
    typer.Option("--password", envvar="NEO4J_PASSWORD", help="Neo4j password.", show_default=False),
]
Database = Annotated[
    str | None, typer.Option("--database", envvar="NEO4J_DATABASE", help="Database name.")
]


# The cascade's parameters, as every command that runs a cascade takes them (defaults are the
# model's, in critmin.simulator.scenario.Parameters; fail_abs left unset follows the unit).
Alpha = Annotated[float, typer.Option(help="Share of a loss passed on by cutting exports.")]
Absorb = Annotated[float, typer.Option(help="Share of a received loss absorbed at home first.")]
SupplierCap = Annotated[
    str, typer.Option(help="none, or supply (suppliers give at most their supply).")
]
FailAbs = Annotated[
    float | None,
    typer.Option(
        help="Failure threshold in the network's unit; default "
        f"{Unit.TONNES.default_fail_abs:g} t or {Unit.USD.default_fail_abs:,.0f} USD."
    ),
]
FailRel = Annotated[float, typer.Option(help="Failure also needs loss > fail_rel x demand.")]
MeasureOption = Annotated[str, typer.Option(help="auto, tonnes or usd (README: units).")]


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn errors a user can act on into one red line and exit code 2 (no traceback), and
    Ctrl-C into one line saying what was kept, exit code 130.

    What counts as such an error, and its line, is :func:`~critmin.cli.explain.explain`'s
    call; any other exception is a bug and keeps its traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        quiet_driver()
        try:
            return command(*args, **kwargs)
        except (Exception, KeyboardInterrupt) as exc:
            line = explain(exc)
            if line is None:
                raise
            # The line quotes values (Cypher, file contents): never read as console markup.
            err_console.print(
                f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(130 if interrupted(exc) else 2) from None

    return wrapper


@contextmanager
def open_store(
    uri: str | None, user: str | None, password: str | None, database: str | None
) -> Iterator[GraphStore]:
    settings = resolve_settings(uri, user, password, database)
    with GraphStore.connect(settings) as store:
        yield store
