"""The trade network before and after a cascade (the study's Figures 6-8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from critmin.report.figures.canvas import new_figure, parameter_note, unit_name
from critmin.report.figures.palette import OTHERS, Palette
from critmin.report.links import link_changes

__all__ = ["STATUS_STYLE", "network_comparison", "trade_layout"]

Positions = Mapping[str, tuple[float, float]]


class Style(NamedTuple):
    colour: str
    line: Literal["solid", "dashed"]
    order: int  # drawing order: the links that matter most on top


#: How each link status is drawn in the "after" panel ("all" is every link of the "before" one).
STATUS_STYLE = {
    "unchanged": Style("#8c8c8c", "solid", 1),
    "increased": Style("#1a9850", "solid", 2),
    "reduced": Style("#f39c12", "solid", 3),
    "cut": Style("#d7301f", "dashed", 4),
}
BEFORE_STYLE = Style("#6b6b6b", "solid", 1)
#: The shocked source keeps its country colour and gets this thick ring.
SOURCE_EDGE = "#000000"


def trade_layout(flows: pd.DataFrame, seed: int) -> dict[str, tuple[float, float]]:
    """Deterministic layout: a seeded spring layout, refined by Kamada-Kawai on hop distances.

    Spring layouts of trade networks pile the hubs into one blot and fling the small traders
    far out; Kamada-Kawai spaces countries by how many links apart they are, so hubs and their
    partners stay readable. Countries not linked at all sit one hop beyond the farthest pair,
    instead of networkx's default of a million hops, which would shrink the rest to a dot.
    """
    graph = nx.Graph()
    graph.add_edges_from(zip(flows["exporter"], flows["importer"], strict=True))
    if graph.number_of_nodes() < 3:
        return {n: (float(x), float(y)) for n, (x, y) in nx.circular_layout(graph).items()}
    hops = dict(nx.all_pairs_shortest_path_length(graph))
    far = 1 + max(d for row in hops.values() for d in row.values())
    distances = {a: {b: hops[a].get(b, far) for b in graph} for a in graph}
    start = nx.spring_layout(graph, seed=seed)
    positions = nx.kamada_kawai_layout(graph, dist=distances, pos=start)
    return {node: (float(x), float(y)) for node, (x, y) in positions.items()}


def _volumes(flows: pd.DataFrame) -> pd.Series:
    exports = flows.groupby("exporter")["quantity"].sum()
    imports = flows.groupby("importer")["quantity"].sum()
    return exports.add(imports, fill_value=0.0)


def _draw(
    ax: Axes, links: pd.DataFrame, column: str, positions: Positions, peak: float, styled: bool
) -> None:
    """Links as straight segments, width ~ sqrt(flow / peak), one collection per status."""
    statuses = sorted(STATUS_STYLE, key=lambda s: STATUS_STYLE[s].order) if styled else ["all"]
    for status in statuses:
        rows = links if status == "all" else links[links["status"] == status]
        # A cut link has nothing left to draw: show it at its former width, dashed.
        width_of = rows["before"] if status == "cut" else rows[column]
        rows, width_of = rows[width_of > 0], width_of[width_of > 0]
        style = STATUS_STYLE.get(status, BEFORE_STYLE)
        segments = [
            [positions[a], positions[b]]
            for a, b in zip(rows["exporter"], rows["importer"], strict=True)
        ]
        widths = 0.2 + 4.0 * np.sqrt(width_of.to_numpy() / peak)
        ax.add_collection(
            LineCollection(
                segments,
                colors=style.colour,
                linewidths=widths,
                linestyles=style.line,
                alpha=0.9 if status == "cut" else 0.6,
                zorder=style.order,
                label=status,
            )
        )


def _panel(
    ax: Axes,
    links: pd.DataFrame,
    column: str,
    positions: Positions,
    sources: Sequence[str],
    labels: Sequence[str],
    styled: bool,
    palette: Palette,
) -> None:
    peak = float(links["before"].max()) or 1.0
    _draw(ax, links, column, positions, peak, styled)
    flows = links[["exporter", "importer"]].assign(quantity=links[column])
    volume = _volumes(flows).reindex(list(positions), fill_value=0.0)
    top_volume = float(_volumes(links.assign(quantity=links["before"])).max()) or 1.0
    xy = np.array([positions[c] for c in volume.index])
    colours = [palette.colour(c) for c in volume.index]
    is_source = [c in sources for c in volume.index]
    sizes_floor = np.where(is_source, 60.0, 0.0)
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        # A source that lost all its trade keeps a visible dot: it is what the panel is about.
        s=np.maximum(8 + 500 * np.sqrt(volume.to_numpy() / top_volume), sizes_floor),
        c=colours,
        edgecolors=[SOURCE_EDGE if source else "white" for source in is_source],
        linewidths=[2.0 if source else 0.5 for source in is_source],
        zorder=10,
    )
    for code in labels:
        x, y = positions[code]
        ax.annotate(
            code,
            (x, y),
            fontsize=7,
            ha="center",
            va="bottom",
            zorder=11,
            xytext=(0, 4),
            textcoords="offset points",
        )
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.autoscale_view()


def network_comparison(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    sources: Sequence[str],
    unit: str,
    title: str,
    seed: int = 7,
    label_top: int = 12,
    palette: Palette | None = None,
    note: str = "",
) -> Figure:
    """Two panels on one seeded layout: the flows before the shock and after the cascade.

    ``before`` and ``after`` have columns ``exporter, importer, quantity``. Node area grows with
    the country's trade volume (exports + imports), link width with the flow, on the same scale
    in both panels; the shocked sources are red. In the right panel cut links are red and
    dashed (at their former width), reduced ones orange, increased ones green. Countries take
    their colour from ``palette`` (the report's, shared by every figure; grey when it has none),
    the shocked sources a thick black ring. ``note`` (parameters, failure rule) goes under it.
    """
    palette = palette or Palette.for_countries(sources)
    links = link_changes(before, after)
    positions = trade_layout(before, seed)
    for code in set(links["exporter"]) | set(links["importer"]):
        positions.setdefault(code, (0.0, 0.0))
    volume = _volumes(before)
    labels = sorted(set(volume.nlargest(label_top).index) | (set(sources) & set(positions)))
    figure = new_figure(13, 6.5)
    ax_before, ax_after = figure.subplots(1, 2)
    _panel(ax_before, links, "before", positions, sources, labels, False, palette)
    _panel(ax_after, links, "after", positions, sources, labels, True, palette)
    counts = links["status"].value_counts()
    unit_text = unit_name(unit)
    ax_before.set_title(
        f"before: {int((links['before'] > 0).sum())} links, "
        f"{links['before'].sum():,.0f} {unit_text}"
    )
    ax_after.set_title(
        f"after the cascade: {int((links['status'] != 'cut').sum())} links, "
        f"{links['after'].sum():,.0f} {unit_text}; {counts.get('cut', 0)} cut"
    )
    handles = [
        Line2D(
            [],
            [],
            color=STATUS_STYLE[s].colour,
            linestyle=STATUS_STYLE[s].line,
            linewidth=2,
            label=f"{s} ({counts.get(s, 0)})",
        )
        for s in ("cut", "reduced", "increased", "unchanged")
    ]
    handles.append(
        Line2D(
            [],
            [],
            color=palette.colour(sources[0]) if sources else OTHERS,
            marker="o",
            markeredgecolor=SOURCE_EDGE,
            markeredgewidth=2.0,
            linestyle="none",
            label="shocked source (ringed)",
        )
    )
    handles.append(
        Line2D(
            [],
            [],
            color=OTHERS,
            marker="o",
            linestyle="none",
            label="country (grey: no own colour)",
        )
    )
    ax_after.legend(handles=handles, loc="lower right", fontsize="small", title="links after")
    figure.suptitle(title)
    parameter_note(figure, note)
    return figure
