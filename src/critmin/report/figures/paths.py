"""Critical paths of one scenario, drawn: source -> transit hubs -> most hit countries."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from critmin.report.figures.canvas import new_figure, parameter_note, unit_name
from critmin.report.figures.palette import OTHERS, Palette
from critmin.report.paths import CriticalPaths

__all__ = ["compact", "paths_figure"]

MARKERS = {"source": "s", "hub": "D", "hit": "o"}


def compact(value: float, unit: str) -> str:
    """A quantity short enough for a label, with its unit.

    >>> compact(5_067_994_257, "USD"), compact(77_118_851, "USD"), compact(6964.2, "t")
    ('5.07 bn USD', '77.1 M USD', '6,964 tonnes')
    >>> compact(0.42, "t"), compact(1500, "USD")
    ('0.42 tonnes', '1,500 USD')
    """
    name = unit_name(unit)
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.3g} bn {name}"
    if size >= 1e6:
        return f"{value / 1e6:.3g} M {name}"
    if size >= 100:
        return f"{value:,.0f} {name}"
    return f"{value:.3g} {name}"


def _label(code: str, names: Mapping[str, str]) -> str:
    name = names.get(code, code)
    return code if name == code else f"{name} ({code})"


def _columns(found: CriticalPaths) -> dict[str, int]:
    """Column of each country: its hops from the source (the widest paths form a tree, so each
    country has one), so every arrow spans one column and never crosses a country."""
    return {code: hops for path in found.paths.values() for hops, code in enumerate(path)}


def _positions(found: CriticalPaths, impacts: pd.DataFrame) -> dict[str, tuple[float, float]]:
    columns = _columns(found)
    parent = {path[i + 1]: path[i] for path in found.paths.values() for i in range(len(path) - 1)}
    hit = impacts.set_index("country")["gross_hit"].astype(float).to_dict()
    positions: dict[str, tuple[float, float]] = {}
    for column in sorted(set(columns.values())):
        codes = [c for c, k in columns.items() if k == column]
        codes.sort(key=lambda c: (positions.get(parent.get(c, ""), (0.0, 0.0))[1], -hit.get(c, 0)))
        codes.reverse()  # the heaviest at the top within a parent
        count = len(codes)
        for i, code in enumerate(codes):
            positions[code] = (float(column), (count - 1) / 2.0 - i)
    return positions


def paths_figure(
    found: CriticalPaths,
    impacts: pd.DataFrame,
    *,
    unit: str,
    initial_shock: float,
    title: str,
    names: Mapping[str, str] | None = None,
    palette: Palette | None = None,
    note: str = "",
) -> Figure:
    """Columns from left to right by hops from the source: the source, then the hubs the loss
    passed through and the most hit countries it reached at that many hops. An arrow is a
    stored TRANSMITS hop, its width and label the share of the initial shock it carried; a
    country's marker area grows with the loss it received (its gross hit), its label says what
    it lost and, for a hub, the share it passed on."""
    names = names or {}
    palette = palette or Palette.for_countries([found.source, *found.targets])
    positions = _positions(found, impacts)
    hit = impacts.set_index("country")
    hubs = set(found.hubs["country"])
    columns = max((x for x, _ in positions.values()), default=1.0)
    rows = max(sum(1 for p in positions.values() if p[0] == c) for c in range(int(columns) + 1))
    figure = new_figure(11, max(3.8, 0.75 * rows + 1.8))
    ax = figure.add_subplot()
    for a, b, _quantity, share in found.hops[["from", "to", "quantity", "share"]].itertuples(False):
        (x0, y0), (x1, y1) = positions[a], positions[b]
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle="-|>",
                mutation_scale=12,
                linewidth=0.8 + 14.0 * float(share),
                color=palette.colour(a),
                alpha=0.55,
                shrinkA=14,
                shrinkB=14,
                connectionstyle="arc3,rad=0.0",
                zorder=1,
            )
        )
        ax.annotate(
            f"{float(share):.0%}" if share >= 0.01 else f"{float(share):.1%}",
            ((x0 + x1) / 2, (y0 + y1) / 2),
            fontsize=7.5,
            ha="center",
            va="center",
            color="#222222",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            zorder=3,
        )
    top_hit = max(float(hit["gross_hit"].max()) if not hit.empty else 1.0, initial_shock, 1e-12)
    for code, (x, y) in positions.items():
        role = "source" if code == found.source else "hub" if code in hubs else "hit"
        received = initial_shock if role == "source" else float(hit.at[code, "gross_hit"])
        ax.scatter(
            [x],
            [y],
            s=60 + 900 * np.sqrt(received / top_hit),
            marker=MARKERS[role],
            color=palette.colour(code),
            edgecolors="black" if role == "source" else "white",
            linewidths=1.5 if role == "source" else 0.8,
            zorder=4,
        )
        if role == "source":
            detail = f"shock {compact(initial_shock, unit)}"
        else:
            loss = float(hit.at[code, "demand_loss"])
            detail = f"lost {compact(loss, unit)}" + (" (failed)" if hit.at[code, "failed"] else "")
            if role == "hub" and received > 0:
                detail += f"\npassed on {max(received - loss, 0.0) / received:.0%} of what it got"
        ax.annotate(
            f"{_label(code, names)}\n{detail}",
            (x, y),
            xytext=(0, -17),
            textcoords="offset points",
            fontsize=7.5,
            ha="center",
            va="top",
            zorder=5,
        )
    ax.set_xlim(-0.5, columns + 0.5)
    ys = [y for _, y in positions.values()] or [0.0]
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.6)
    ax.set_axis_off()
    ax.set_title(title)
    handles = [
        Line2D([], [], marker=MARKERS[r], color=OTHERS, linestyle="none", label=label)
        for r, label in (
            ("source", "shocked source"),
            ("hub", "transit hub (passes loss on)"),
            ("hit", "most hit country"),
        )
    ]
    handles.append(Line2D([], [], color=OTHERS, linewidth=3, label="hop: share of the shock"))
    ax.legend(handles=handles, loc="upper left", fontsize="small", frameon=False)
    parameter_note(figure, f"loss in {unit_name(unit)}; {note}" if note else "", width=150)
    return figure
