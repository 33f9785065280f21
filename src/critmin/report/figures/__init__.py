"""The report's figures: each takes DataFrames and returns a matplotlib Figure (no database).

Every figure takes its country colours from one :class:`~critmin.report.figures.palette.Palette`
per report, so a country keeps its colour from chart to chart.
"""

from critmin.report.figures.canvas import png_bytes
from critmin.report.figures.choropleth import loss_map, shared_scale
from critmin.report.figures.curves import failure_curves
from critmin.report.figures.hubs import hub_bars
from critmin.report.figures.network import network_comparison
from critmin.report.figures.palette import Palette
from critmin.report.figures.paths import paths_figure

__all__ = [
    "Palette",
    "failure_curves",
    "hub_bars",
    "loss_map",
    "network_comparison",
    "paths_figure",
    "png_bytes",
    "shared_scale",
]
