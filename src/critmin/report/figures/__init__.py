"""The report's figures: each takes DataFrames and returns a matplotlib Figure (no database)."""

from critmin.report.figures.canvas import png_bytes
from critmin.report.figures.choropleth import loss_map
from critmin.report.figures.curves import failure_curves
from critmin.report.figures.network import network_comparison

__all__ = ["failure_curves", "loss_map", "network_comparison", "png_bytes"]
