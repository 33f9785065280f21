"""World map of average demand loss per country (the study's Figures 4 and 5)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from critmin.report.figures.canvas import new_figure, parameter_note, unit_name
from critmin.report.world import CountryShape, World, load_world

__all__ = ["NO_DATA_COLOUR", "loss_map", "shared_scale"]

NO_DATA_COLOUR = "#d9d9d9"
ZERO_COLOUR = "#fff7ec"
CMAP = "OrRd"
# A log scale only when losses span this many decades: one giant importer (China in the study)
# would otherwise leave every other country the lightest colour.
LOG_SPAN = 100.0


def _patch(shape: CountryShape) -> PathPatch:
    # One compound path per country: holes (Lesotho inside South Africa) stay holes because
    # Natural Earth's outer rings and holes wind in opposite directions.
    rings = [Path(np.asarray(ring)) for polygon in shape.polygons for ring in polygon]
    return PathPatch(Path.make_compound_path(*rings))


def shared_scale(*frames: pd.DataFrame) -> tuple[float, float] | None:
    """The smallest and largest positive ``demand_loss`` over maps drawn to be compared.

    >>> a = pd.DataFrame({"demand_loss": [0.0, 2.0, 50.0]})
    >>> shared_scale(a, pd.DataFrame({"demand_loss": [1.0, 10.0]}))
    (1.0, 50.0)
    >>> shared_scale(pd.DataFrame({"demand_loss": [0.0]})) is None
    True
    """
    values = pd.concat([frame["demand_loss"].astype(float) for frame in frames])
    positive = values[values > 0]
    if positive.empty:
        return None
    return float(positive.min()), float(positive.max())


def _norm(values: pd.Series, scale: tuple[float, float] | None = None) -> Normalize:
    if scale is None:
        scale = shared_scale(pd.DataFrame({"demand_loss": values}))
    if scale is None:
        return Normalize(0.0, 1.0)
    low, high = scale
    if high / low >= LOG_SPAN:
        return LogNorm(low, high)
    return Normalize(0.0, high)


def loss_map(
    losses: pd.DataFrame,
    *,
    unit: str,
    title: str,
    world: World | None = None,
    scale: tuple[float, float] | None = None,
    note: str = "",
) -> Figure:
    """Choropleth of ``losses`` (columns ``country``, ``demand_loss``) by ISO3 code.

    Countries in ``losses`` with a loss of 0 are drawn pale, countries absent from ``losses``
    grey (not in the panel); codes with no outline at 1:110m (Singapore, Hong Kong, ...) are
    named under the map so no loss silently disappears. Maps that are compared share one
    colour scale: give each the same ``scale`` (smallest and largest positive loss of them
    all, :func:`shared_scale`). ``note`` (parameters, failure rule) is printed under the map.
    """
    world = world or load_world()
    values = losses.set_index("country")["demand_loss"].astype(float)
    figure = new_figure(11, 5.6)
    ax = figure.add_subplot()
    coloured: list[tuple[PathPatch, float]] = []
    zero: list[tuple[PathPatch, float]] = []
    no_data: list[tuple[PathPatch, float]] = []
    for code, shape in sorted(world.shapes.items()):
        value = values.get(code)
        target = no_data if value is None or np.isnan(value) else zero if value <= 0 else coloured
        target.append((_patch(shape), value))
    ax.add_collection(
        PatchCollection(
            [p for p, _ in no_data],
            facecolor=NO_DATA_COLOUR,
            edgecolor="white",
            linewidth=0.3,
            label="not in the panel",
        )
    )
    ax.add_collection(
        PatchCollection(
            [p for p, _ in zero],
            facecolor=ZERO_COLOUR,
            edgecolor="#bbbbbb",
            linewidth=0.3,
            label="no loss",
        )
    )
    shaded = PatchCollection(
        [p for p, _ in coloured],
        cmap=CMAP,
        norm=_norm(values, scale),
        edgecolor="#555555",
        linewidth=0.3,
        label="demand loss",
    )
    shaded.set_array(np.array([v for _, v in coloured], dtype=float))
    ax.add_collection(shaded)
    colourbar = figure.colorbar(shaded, ax=ax, shrink=0.7, pad=0.01)
    colourbar.set_label(f"mean demand loss ({unit_name(unit)})")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-58, 84)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title)
    missing = world.missing(values[values > 0].index)
    if missing:
        # Wrapped by hand and kept out of the layout: a long note would otherwise make the
        # constrained layout shrink the map to fit the note's width.
        unmapped = textwrap.fill("loss but no outline at this scale: " + ", ".join(missing), 150)
        ax.text(
            0.0,
            0.0,
            unmapped,
            transform=ax.transAxes,
            fontsize="small",
            va="top",
            in_layout=False,
        )
    parameter_note(figure, note, width=150)
    return figure
