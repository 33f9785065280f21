"""Printing tables with their units and parameters, and writing them as CSV/JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from critmin.cli.common import console
from critmin.errors import CritminError


class Format(StrEnum):
    """How a command prints its rows on stdout."""

    table = "table"
    csv = "csv"
    json = "json"


#: The options every table-printing command takes (query, results, metrics).
FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="table (for reading), csv or json (every row, full precision, for the next step).",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "--csv",
        help="Also write every row to this file: .json as JSON, anything else as CSV (with its "
        "parameters in # comment lines).",
    ),
]


def emit(
    frame: pd.DataFrame,
    fmt: Format,
    *,
    title: str,
    caption: str = "",
    context: Mapping[str, Any] | None = None,
    limit: int | None = None,
    out: Path | None = None,
    table_columns: Sequence[str] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Print ``frame`` as ``fmt`` and, with ``out``, write it to a file too.

    ``table_columns`` orders (and picks) the columns of the table view only; ``meta`` are
    top-level fields of the JSON (``{"query": name}``), also written in a file's header.

    The table view is for people (``limit`` rows, rounded numbers, the caption carrying units
    and parameters); CSV and JSON carry every row at full precision, lists as ``"; "``-joined
    cells in CSV, and JSON gives ``title``, ``parameters`` (``context``) and ``rows``.
    """
    if out is not None:
        check_out(out)  # before printing: a bad path is the one line, not after the table
    if fmt is Format.csv:
        sys.stdout.write(flat(frame).to_csv(index=False))
    elif fmt is Format.json:
        rows = json.loads(frame.to_json(orient="records", double_precision=15))
        payload = {"title": title, **(meta or {}), "parameters": dict(context or {}), "rows": rows}
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
    else:
        shown = frame[list(table_columns)] if table_columns is not None else frame
        show_table(flat(shown), title, caption, limit)
    if out is not None:
        header = {**(meta or {}), **(context or {})}
        write_frame(frame if out.suffix == ".json" else flat(frame), out, header)


def _joined(value: Any) -> Any:
    """A list (a path, its hop quantities) as one cell, full precision."""
    if isinstance(value, list | tuple):
        return "; ".join(repr(v) if isinstance(v, float) else str(v) for v in value)
    return value


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with list cells joined by ``"; "``."""
    return frame.apply(lambda column: column.map(_joined)) if not frame.empty else frame


def show_table(
    frame: pd.DataFrame, title: str, caption: str = "", limit: int | None = None
) -> None:
    """A rich table: on a terminal it fits the window; into a pipe or a file nothing is cut."""
    shown = frame.head(limit) if limit else frame
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for column in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in shown.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    if console.is_terminal:
        console.print(table)
    else:
        # Rendered as wide as its content: ids and values are never folded or cut.
        Console(width=100_000, highlight=False).print(table)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value == 0 or abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


class OutputError(CritminError, OSError):
    """A file the user asked for (``--out``) cannot be written there."""


def check_out(path: Path) -> None:
    """Refuse an ``--out`` that names a folder, or lies under a file, before any work is shown.

    Raises
    ------
    OutputError
        With the path and what to name instead.
    """
    if path.is_dir():
        raise OutputError(f"--out {path} is a folder: name a file in it, e.g. {path / 'rows.csv'}")
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise OutputError(
                    f"cannot write --out {path}: {folder} is a file, not a folder; name a file "
                    "in a folder you can write to"
                )
            break


def write_frame(
    frame: pd.DataFrame, path: Path, context: Mapping[str, object] | None = None
) -> None:
    """CSV (with a commented header of the parameters) or JSON, chosen by the file suffix.

    Raises
    ------
    OutputError
        ``path`` is a folder, or its folder cannot be made or written (the reason is named).
    """
    if path.suffix == ".json":
        # pandas turns numpy values into JSON
        rows = json.loads(frame.to_json(orient="records", double_precision=15))
        text = json.dumps({"parameters": dict(context or {}), "rows": rows}, default=str)
    else:
        header = "".join(f"# {k}: {v}\n" for k, v in (context or {}).items())
        text = header + frame.to_csv(index=False)
    check_out(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        raise OutputError(
            f"cannot write --out {path}: {exc.strerror or exc}: "
            "name a file in a folder you can write to"
        ) from exc
    if path.suffix != ".json":
        console.print(f"wrote {path}", highlight=False, markup=False)


SOURCE_COLUMNS = ["rank", "source", "name", "total_failed", "failure_rate", "years_active"]


def show_sources_table(
    table: pd.DataFrame, commodity: str, shock: float, caption: str, limit: int | None
) -> None:
    """The study's Table 1/2 as both `simulate` and `results sources` print it."""
    show_table(
        table[SOURCE_COLUMNS],
        f"Top risk sources: {commodity}, {shock:.0%} export cut",
        caption=caption,
        limit=limit,
    )
