"""`critmin query NAME --param k=v`: run a query of the Cypher library; `--list` shows them all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from critmin.analysis.queries import (
    Query,
    QueryError,
    bind_query,
    load_library,
    parse_assignments,
)
from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.cli.output import Format, FormatOption, OutOption, emit


@friendly
def _show_library(library: dict[str, Query], fmt: Format, out: Path | None) -> None:
    rows = pd.DataFrame(
        {
            "query": list(library),
            "answers": [q.summary for q in library.values()],
            "parameters": [", ".join(p.signature for p in q.parameters) for q in library.values()],
        }
    )
    emit(
        rows,
        fmt,
        title="The Cypher library (cypher/*.cypher)",
        caption="run one: critmin query NAME --param k=v",
        out=out,
    )


def query(
    name: Annotated[str | None, typer.Argument(help="Query name (see --list).")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter as name=value (repeat).")
    ] = None,
    list_queries: Annotated[
        bool, typer.Option("--list", help="List the queries and exit.")
    ] = False,
    fmt: FormatOption = Format.table,
    out: OutOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the Cypher and parameters; run nothing.")
    ] = False,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Run a query of the analysts' Cypher library (cypher/) and print its rows."""
    try:
        library = load_library()
        if list_queries or name is None:
            _show_library(library, fmt, out)
            return
        cypher, params = bind_query(name, parse_assignments(param or []), library)
    except QueryError as exc:
        raise typer.BadParameter(str(exc)) from None
    if dry_run:
        console.print(cypher, highlight=False, markup=False)
        console.print(json.dumps(params), highlight=False, markup=False)
        return
    _run(library[name], cypher, params, fmt, out, (uri, user, password, database))


@friendly
def _run(
    query: Query,
    cypher: str,
    params: dict[str, Any],
    fmt: Format,
    out: Path | None,
    connection: tuple[str | None, str | None, str | None, str | None],
) -> None:
    with open_store(*connection) as store:
        frame = store.query(cypher, **params)
    caption = ", ".join(f"{k}={'null' if v is None else v}" for k, v in params.items())
    emit(
        frame,
        fmt,
        title=f"{query.name}: {len(frame)} row(s)",
        caption=caption,
        context=params,
        meta={"query": query.name},
        out=out,
    )
