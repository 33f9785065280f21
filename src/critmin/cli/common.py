"""What every command shares: connection options, the error boundary, console output."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from critmin.cli.explain import explain, quiet_driver
from critmin.store.graph import GraphStore
from critmin.store.settings import resolve_settings

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


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn errors a user can act on into one red line and exit code 2 (no traceback).

    What counts as such an error, and its line, is :func:`~critmin.cli.explain.explain`'s
    call; any other exception is a bug and keeps its traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        quiet_driver()
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            line = explain(exc)
            if line is None:
                raise
            err_console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


@contextmanager
def open_store(
    uri: str | None, user: str | None, password: str | None, database: str | None
) -> Iterator[GraphStore]:
    settings = resolve_settings(uri, user, password, database)
    with GraphStore.connect(settings) as store:
        yield store
