"""Failed countries per year for the top risk sources (the study's Figures 2 and 3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from critmin.report.figures.canvas import new_figure

__all__ = ["failure_curves"]


def failure_curves(
    yearly: pd.DataFrame,
    sources: Sequence[str],
    *,
    shock: float,
    names: Mapping[str, str] | None = None,
) -> Figure:
    """One line per source: the number of countries that failed in each year's run.

    Parameters
    ----------
    yearly : DataFrame
        Columns ``year, source, n_failed`` (one row per stored run).
    sources : sequence of str
        ISO3 codes to draw, in legend order (rank order).
    shock : float
        Share of exports cut in these runs, for the title.
    names : mapping, optional
        Country names by ISO3 for the legend.

    Years in which a source has no run (it did not export) are gaps, not zeros: the study
    counts failures only for years in which the source traded. Several runs of one source and
    year (sweeps with different parameters) are added up, as the ranking tables pool them.
    """
    figure = new_figure(9, 4.8)
    ax = figure.add_subplot()
    years = sorted(int(y) for y in yearly["year"].unique())
    for source in sources:
        rows = yearly[yearly["source"] == source].groupby("year")["n_failed"].sum()
        series = rows.reindex(years)
        label = f"{names.get(source, source)} ({source})" if names else source
        ax.plot(years, series.to_numpy(dtype=float), marker="o", markersize=3, label=label)
    ax.set_title(f"Failed countries per year, {shock:.0%} export cut by each source")
    ax.set_xlabel("year")
    ax.set_ylabel("failed countries (count)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if sources:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title="source")
    return figure
