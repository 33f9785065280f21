"""What every report figure shares: an Agg-backed figure and unit wording.

Figures are built with :class:`matplotlib.figure.Figure` and an explicit Agg canvas instead of
pyplot, so they never touch a GUI backend or pyplot's global list of open figures (a report
draws many, and pyplot would keep every one alive and warn).
"""

from __future__ import annotations

import textwrap
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from critmin.units import Unit

__all__ = ["DPI", "new_figure", "parameter_note", "png_bytes", "unit_name"]

DPI = 110


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` x ``height`` inches on an Agg canvas."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    """The figure rendered as PNG."""
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def unit_name(unit: str) -> str:
    """How a quantity unit reads in labels.

    >>> unit_name("t"), unit_name("USD")
    ('tonnes', 'USD')
    """
    return Unit.of(unit).label


def parameter_note(figure: Figure, text: str, width: int = 170) -> None:
    """The parameters and failure rule a figure used, in small print under it.

    Drawn as the figure's ``supxlabel`` so the constrained layout makes room for it.
    """
    if text:
        figure.supxlabel(textwrap.fill(text, width), fontsize=7.5, color="#444444")
