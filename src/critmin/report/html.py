"""The report page: blocks (figures, tables, notes) in sections, rendered by one jinja2 template.

The page is self-contained: figures are embedded as base64 PNG ``data:`` URIs, the CSS and the
small image check script are inline, so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real

import jinja2
import pandas as pd

__all__ = [
    "Block",
    "Cell",
    "FigureBlock",
    "NoteBlock",
    "Page",
    "Section",
    "TableBlock",
    "fixed",
    "format_value",
    "render",
    "table_block",
]


@dataclass(frozen=True)
class FigureBlock:
    """A figure with the line that tells an analyst how to read it, and its caption."""

    title: str
    how_to_read: str
    caption: str
    png: bytes
    filename: str
    kind: str = field(default="figure", init=False)

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Cell:
    """A formatted table cell; numbers are right-aligned."""

    text: str
    numeric: bool


@dataclass(frozen=True)
class TableBlock:
    """A table already formatted for display."""

    title: str
    caption: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    kind: str = field(default="table", init=False)


@dataclass(frozen=True)
class NoteBlock:
    """Short paragraphs or a definition list of facts (``items``: label -> text)."""

    title: str = ""
    paragraphs: Sequence[str] = ()
    items: Mapping[str, str] = field(default_factory=dict)
    kind: str = field(default="note", init=False)


Block = FigureBlock | TableBlock | NoteBlock


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    blocks: Sequence[Block]


@dataclass(frozen=True)
class Page:
    title: str
    subtitle: str
    sections: Sequence[Section]


def format_value(value: object) -> str:
    """Numbers as an analyst reads them: thousands separators, no float noise.

    >>> [format_value(v) for v in (2952, 204460.384, 12.3456, 3.0, 0.0515, float("nan"), "COD")]
    ['2,952', '204,460', '12.35', '3', '0.0515', '–', 'COD']
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        return "–" if value is None else str(value)
    if isinstance(value, Integral):
        return f"{int(value):,}"
    number = float(value)
    if math.isnan(number):
        return "–"
    if number.is_integer() or abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:,.2f}" if abs(number) >= 1 else f"{number:.3g}"


def fixed(digits: int) -> Callable[[object], str]:
    """A formatter with a fixed number of decimals (shares, rates).

    >>> fixed(3)(0.78912), fixed(3)(None)
    ('0.789', '–')
    """

    def format_fixed(value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(float(value)):
            return "–"
        return f"{float(value):.{digits}f}"

    return format_fixed


def table_block(
    frame: pd.DataFrame,
    *,
    title: str,
    caption: str,
    headers: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[object], str]] | None = None,
) -> TableBlock:
    """Format ``frame`` for display; ``headers`` renames columns (with their units)."""
    headers, formats = headers or {}, formats or {}
    rows = [
        [
            Cell(formats.get(column, format_value)(value), _is_number(value))
            for column, value in zip(frame.columns, record, strict=True)
        ]
        for record in frame.itertuples(index=False)
    ]
    return TableBlock(title, caption, [headers.get(str(c), str(c)) for c in frame.columns], rows)


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def render(page: Page) -> str:
    """The page as one HTML document."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("critmin.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html.j2").render(page=page)
