"""Transit hubs over a sweep: what each passed on and what it kept, as horizontal bars."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from critmin.report.figures.canvas import new_figure, parameter_note, unit_name
from critmin.report.figures.palette import MAX_LINES, Palette
from critmin.report.figures.paths import compact

__all__ = ["hub_bars"]


def hub_bars(
    hubs: pd.DataFrame,
    *,
    unit: str,
    title: str,
    names: Mapping[str, str] | None = None,
    palette: Palette | None = None,
    note: str = "",
    max_bars: int = MAX_LINES,
) -> Figure:
    """One bar per hub (``hubs``: ``country, passed_on, absorbed, share_passed_on``, largest
    ``passed_on`` first): the solid part is the loss it passed on, the pale hatched part the
    loss it kept (demand loss), the label the share passed on. The hubs after the first
    ``max_bars`` are summed up in one line under the bars (as one bar they would dwarf the
    rest)."""
    names = names or {}
    palette = palette or Palette.for_countries(hubs["country"])
    shown = hubs.head(max_bars)
    rest = hubs.iloc[max_bars:]
    labels = [
        c if names.get(c, c) == c else f"{names[c]} ({c})" for c in map(str, shown["country"])
    ]
    passed = shown["passed_on"].astype(float).tolist()
    kept = shown["absorbed"].astype(float).tolist()
    colours = [palette.colour(c) for c in shown["country"]]
    figure = new_figure(9, 0.45 * len(labels) + 2.1)
    ax = figure.add_subplot()
    y = np.arange(len(labels))[::-1]
    ax.barh(y, passed, color=colours, edgecolor="white")
    ax.barh(y, kept, left=passed, color=colours, alpha=0.3, hatch="//", edgecolor="white")
    for row, (p, k) in enumerate(zip(passed, kept, strict=True)):
        received = p + k
        share = p / received if received > 0 else 0.0
        ax.annotate(
            f" {share:.0%} passed on",
            (received, y[row]),
            va="center",
            fontsize=8,
        )
    ax.set_yticks(y, labels)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: compact(v, unit) if v else "0"))
    xlabel = f"loss received over the sweep ({unit_name(unit)})"
    if not rest.empty:
        others_received = float(rest["passed_on"].sum() + rest["absorbed"].sum())
        xlabel += (
            f"\nothers ({len(rest)} countries): passed on "
            f"{compact(float(rest['passed_on'].sum()), unit)} of "
            f"{compact(others_received, unit)} received"
        )
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.margins(x=0.18)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Patch(facecolor="#777777", label="passed on to others"),
            Patch(facecolor="#777777", alpha=0.3, hatch="//", label="kept (demand loss)"),
        ],
        loc="lower right",
        fontsize="small",
    )
    parameter_note(figure, note, width=130)
    return figure
