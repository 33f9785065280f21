"""Failed countries per year for the top risk sources (the study's Figures 2 and 3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from critmin.report.figures.canvas import new_figure, parameter_note
from critmin.report.figures.palette import MAX_LINES, OTHERS, Palette

__all__ = ["failure_curves"]


def failure_curves(
    yearly: pd.DataFrame,
    sources: Sequence[str],
    *,
    shock: float,
    names: Mapping[str, str] | None = None,
    palette: Palette | None = None,
    note: str = "",
    max_lines: int = MAX_LINES,
    partial_years: Sequence[int] = (),
) -> Figure:
    """One line per source: the number of countries that failed in each year's run.

    Parameters
    ----------
    yearly : DataFrame
        Columns ``year, source, n_failed`` (one row per stored run), for the ``sources`` and,
        when given, every other source: those are summed up in one grey "others" line (the
        highest count among them each year), so a chart never has more than ``max_lines``
        country lines.
    sources : sequence of str
        ISO3 codes to draw, in legend order (rank order); the first ``max_lines`` get a line.
    shock : float
        Share of exports cut in these runs, for the title.
    names : mapping, optional
        Country names by ISO3 for the legend.
    palette : Palette, optional
        The report's colours by country (default: a palette of ``sources`` in order).
    note : str
        Parameters and failure rule, printed under the chart.
    partial_years : sequence of int
        Years whose trade data is partial (each country's top partners only), shaded.

    Years in which a source has no run (it did not export) are gaps, not zeros: the study
    counts failures only for years in which the source traded. Several runs of one source and
    year (sweeps with different parameters) are added up, as the ranking tables pool them.
    """
    palette = palette or Palette.for_countries(sources)
    drawn = list(sources)[:max_lines]
    figure = new_figure(9, 5.0)
    ax = figure.add_subplot()
    years = sorted(int(y) for y in yearly["year"].unique())
    for source in drawn:
        rows = yearly[yearly["source"] == source].groupby("year")["n_failed"].sum()
        series = rows.reindex(years)
        name = (names or {}).get(source, source)
        label = source if name == source else f"{name} ({source})"
        ax.plot(
            years,
            series.to_numpy(dtype=float),
            marker="o",
            markersize=3,
            label=label,
            color=palette.colour(source),
        )
    rest = yearly[~yearly["source"].isin(drawn)]
    if drawn and not rest.empty:
        count = rest["source"].nunique()
        highest = rest.groupby(["year", "source"])["n_failed"].sum().groupby("year").max()
        ax.plot(
            years,
            highest.reindex(years).to_numpy(dtype=float),
            color=OTHERS,
            linestyle="--",
            linewidth=1.2,
            label=f"others: highest of {count} more sources",
        )
    if partial_years:
        ax.axvspan(
            min(partial_years) - 0.5,
            max(partial_years) + 0.5,
            color="#000000",
            alpha=0.05,
            linewidth=0,
            label="partial data (top partners only)",
        )
    ax.set_title(f"Failed countries per year, {shock:.0%} export cut by each source")
    ax.set_xlabel("year")
    ax.set_ylabel("failed countries (count)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title="source")
    parameter_note(figure, note, width=130)
    return figure
