"""Printing tables with their units and parameters, and writing them as CSV/JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from rich.table import Table

from critmin.cli.common import console


def show_table(
    frame: pd.DataFrame, title: str, caption: str = "", limit: int | None = None
) -> None:
    shown = frame.head(limit) if limit else frame
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for column in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in shown.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value == 0 or abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def write_frame(
    frame: pd.DataFrame, path: Path, context: Mapping[str, object] | None = None
) -> None:
    """CSV (with a commented header of the parameters) or JSON, chosen by the file suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        rows = json.loads(frame.to_json(orient="records"))  # pandas turns numpy values into JSON
        payload = {"parameters": dict(context or {}), "rows": rows}
        path.write_text(json.dumps(payload, default=str))
        return
    header = "".join(f"# {k}: {v}\n" for k, v in (context or {}).items())
    path.write_text(header + frame.to_csv(index=False))
    console.print(f"wrote {path}")


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
