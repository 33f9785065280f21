"""`critmin query NAME --param k=v`: run a query of the Cypher library; `--list` shows them all."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
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
from critmin.cli.output import show_table, write_frame


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _cell(value: Any) -> Any:
    """Lists (paths, hops) as one readable cell for tables and CSV."""
    if isinstance(value, list):
        return "; ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in value)
    return value


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with list cells joined by ``"; "``."""
    return frame.apply(lambda column: column.map(_cell)) if not frame.empty else frame


def _show_library(library: dict[str, Query]) -> None:
    rows = pd.DataFrame(
        {
            "query": list(library),
            "answers": [q.summary for q in library.values()],
            "parameters": [", ".join(p.signature for p in q.parameters) for q in library.values()],
        }
    )
    show_table(
        rows, "The Cypher library (cypher/*.cypher)", "run one: critmin query NAME --param k=v"
    )


def _emit(frame: pd.DataFrame, query: Query, params: dict[str, Any], fmt: Format) -> None:
    if fmt is Format.csv:
        sys.stdout.write(flat(frame).to_csv(index=False))
    elif fmt is Format.json:
        rows = json.loads(frame.to_json(orient="records"))
        sys.stdout.write(
            json.dumps({"query": query.name, "parameters": params, "rows": rows}) + "\n"
        )
    else:
        caption = ", ".join(f"{k}={'null' if v is None else v}" for k, v in params.items())
        show_table(flat(frame), f"{query.name}: {len(frame)} row(s)", caption)


def query(
    name: Annotated[str | None, typer.Argument(help="Query name (see --list).")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter as name=value (repeat).")
    ] = None,
    list_queries: Annotated[
        bool, typer.Option("--list", help="List the queries and exit.")
    ] = False,
    fmt: Annotated[
        Format, typer.Option("--format", help="table, csv or json on stdout.")
    ] = Format.table,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the rows to this .csv or .json file.")
    ] = None,
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
            _show_library(library)
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
    _emit(frame, query, params, fmt)
    if out is not None:
        write_frame(
            frame if out.suffix == ".json" else flat(frame), out, {"query": query.name, **params}
        )
