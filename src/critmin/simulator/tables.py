"""The study's tables from a sweep's runs: one pure implementation, used everywhere.

``critmin simulate`` prints these tables from the sweep in memory, stores them with the sweep
(``store.scenario_writes``), and ``critmin results``, the report and the Cypher library read
the stored rows, so every place shows the same numbers and the same ranks. Ranks are
competition ranks: ties share a rank and the next rank skips (1, 2, 2, 4), sorted by code
within a rank.

Only single-source runs count (a coalition's failures are not any one member's); the caller
leaves out targeted embargoes, which answer another question.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["StudyTables", "competition_rank", "study_tables"]

SOURCE_COLUMNS = ["fraction", "rank", "source", "total_failed", "failure_rate", "years_active"]
COUNTRY_COLUMNS = [
    "fraction",
    "rank",
    "country",
    "mean_loss_all_runs",
    "mean_loss_when_hit",
    "runs_hit",
    "times_failed",
    "total_loss",
    "runs",
    "hub_rank",
    "scenarios_hit",
    "received",
    "passed_on",
    "absorbed",
    "share_passed_on",
]
IMPACT_COLUMNS = {
    "year": "int64",
    "sources": "object",
    "fraction": "float64",
    "country": "object",
    "demand_loss": "float64",
    "gross_hit": "float64",
    "failed": "bool",
}
EXPOSURE_COLUMNS = [
    "fraction",
    "country",
    "rank",
    "source",
    "runs",
    "times_failed",
    "total_loss",
    "mean_loss",
    "share_of_country_loss",
]


@dataclass(frozen=True)
class StudyTables:
    """The sweep-level answers, per shock size (``fraction``), in the sweep's unit.

    Attributes
    ----------
    sources : DataFrame
        The study's Tables 1-2: ``rank`` by ``total_failed`` (countries failed, summed over the
        years), ``failure_rate = total_failed / (years x panel countries)``, ``years_active``.
    countries : DataFrame
        Per country that lost or passed on anything. Exposure (Figures 4-5): ``total_loss``,
        ``mean_loss_all_runs`` (over every run of the shock size, zeros included),
        ``mean_loss_when_hit`` (over the ``runs_hit`` with a loss > 0), ``times_failed``;
        ``rank`` by ``mean_loss_all_runs``. Transit (the study's hubs): over the runs in which
        it is not the source, ``received`` (gross hits), ``absorbed`` (demand loss, plus any
        stock drawn), ``passed_on = received - absorbed`` and ``share_passed_on``; ``hub_rank`` by
        ``passed_on``.
    exposure : DataFrame
        Per exposed country and source: ``total_loss`` the source's runs caused it, ``mean_loss``
        over the source's ``runs``, ``times_failed``, ``share_of_country_loss``; ``rank`` of the
        source for that country.
    """

    sources: pd.DataFrame
    countries: pd.DataFrame
    exposure: pd.DataFrame


def competition_rank(values: pd.Series, by: pd.Series | list[pd.Series] | None = None) -> pd.Series:
    """Rank, largest first, ties sharing the best rank; within groups of ``by`` when given.

    >>> competition_rank(pd.Series([5, 7, 5, 1])).tolist()
    [2, 1, 2, 4]
    """
    if by is None:
        ranks = values.rank(method="min", ascending=False)
    else:
        ranks = values.groupby(by).rank(method="min", ascending=False)
    return ranks.astype("int64")


def study_tables(
    runs: pd.DataFrame, impacts: pd.DataFrame, n_years: int, n_panel: int
) -> StudyTables:
    """The tables of a sweep's single-source runs.

    Parameters
    ----------
    runs : DataFrame
        ``year, sources, fraction, n_failed``, one row per run (as ``SweepResult.runs``);
        coalition runs (``sources`` with ';') are left out.
    impacts : DataFrame
        ``year, sources, fraction, country, demand_loss, gross_hit, failed`` (as
        ``SweepResult.impacts``).
    n_years, n_panel : int
        The ``Y`` and ``N`` of ``failure_rate = total_failed / (Y * N)``: years swept and
        countries in the sweep's panel.

    Examples
    --------
    >>> runs = pd.DataFrame({"year": [2020, 2020, 2020], "sources": ["A", "B", "C"],
    ...                      "fraction": 1.0, "n_failed": [2, 2, 1]})
    >>> impacts = pd.DataFrame({"year": 2020, "sources": ["A", "A", "B"], "fraction": 1.0,
    ...     "country": ["B", "C", "C"], "demand_loss": [1.0, 3.0, 2.0],
    ...     "gross_hit": [4.0, 3.0, 2.0], "failed": [True, True, True]})
    >>> t = study_tables(runs, impacts, n_years=1, n_panel=3)
    >>> t.sources[["rank", "source", "total_failed"]].to_dict("list")
    {'rank': [1, 1, 3], 'source': ['A', 'B', 'C'], 'total_failed': [2, 2, 1]}
    >>> t.countries[["country", "rank", "passed_on", "hub_rank"]].to_dict("list")
    {'country': ['C', 'B'], 'rank': [1, 2], 'passed_on': [0.0, 3.0], 'hub_rank': [2, 1]}
    """
    if n_years < 1 or n_panel < 1:
        raise ValueError(f"n_years and n_panel must be >= 1, got {n_years} and {n_panel}")
    single = runs[~runs["sources"].astype(str).str.contains(";")]
    if impacts.empty:
        impacts = pd.DataFrame({c: pd.Series(dtype=t) for c, t in IMPACT_COLUMNS.items()})
    keys = ["year", "sources", "fraction"]
    hits = impacts.merge(single[keys].drop_duplicates(), on=keys, how="inner")
    return StudyTables(
        _sources(single, n_years, n_panel), _countries(single, hits), _exposure(single, hits)
    )


def _distinct(years: pd.Series) -> int:
    """Number of distinct years, the ``None`` of a single network included."""
    return int(years.nunique(dropna=False))


def _sources(runs: pd.DataFrame, n_years: int, n_panel: int) -> pd.DataFrame:
    table = (
        runs.groupby(["fraction", "sources"])
        .agg(total_failed=("n_failed", "sum"), years_active=("year", _distinct))
        .reset_index()
        .rename(columns={"sources": "source"})
    )
    table["total_failed"] = table["total_failed"].astype("int64")
    table["failure_rate"] = table["total_failed"] / (n_years * n_panel)
    table["rank"] = competition_rank(table["total_failed"], table["fraction"])
    table = table.sort_values(["fraction", "rank", "source"], ascending=[False, True, True])
    return table[SOURCE_COLUMNS].reset_index(drop=True)


def _countries(runs: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    n_runs = runs.groupby("fraction").size()
    lost = hits[hits["demand_loss"] > 0]
    exposure = lost.groupby(["fraction", "country"]).agg(
        total_loss=("demand_loss", "sum"),
        runs_hit=("demand_loss", "size"),
        times_failed=("failed", "sum"),
    )
    passing = hits[(hits["country"] != hits["sources"]) & (hits["gross_hit"] > 0)]
    # Stock drawn stays with the country like a demand loss: it was not passed on.
    held = passing["demand_loss"]
    if "stock_drawn" in passing.columns:
        held = held + passing["stock_drawn"].fillna(0.0)
    transit = (
        passing.assign(held=held)
        .groupby(["fraction", "country"])
        .agg(
            scenarios_hit=("gross_hit", "size"),
            received=("gross_hit", "sum"),
            absorbed=("held", "sum"),
        )
    )
    table = exposure.join(transit, how="outer").reset_index()
    for column in ("total_loss", "received", "absorbed"):
        table[column] = table[column].fillna(0.0).astype(float)
    for column in ("runs_hit", "times_failed", "scenarios_hit"):
        table[column] = table[column].fillna(0).astype("int64")
    table["runs"] = table["fraction"].map(n_runs).astype("int64")
    table["mean_loss_all_runs"] = table["total_loss"] / table["runs"]
    table["mean_loss_when_hit"] = (table["total_loss"] / table["runs_hit"]).where(
        table["runs_hit"] > 0
    )
    table["passed_on"] = (table["received"] - table["absorbed"]).clip(lower=0.0)
    table["share_passed_on"] = (table["passed_on"] / table["received"]).where(table["received"] > 0)
    table["rank"] = competition_rank(table["mean_loss_all_runs"], table["fraction"])
    table["hub_rank"] = competition_rank(table["passed_on"], table["fraction"])
    table = table.sort_values(["fraction", "rank", "country"], ascending=[False, True, True])
    return table[COUNTRY_COLUMNS].reset_index(drop=True)


def _exposure(runs: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    per_source = runs.groupby(["fraction", "sources"]).size().rename("runs")
    lost = hits[(hits["demand_loss"] > 0) & (hits["country"] != hits["sources"])]
    table = (
        lost.groupby(["fraction", "country", "sources"])
        .agg(total_loss=("demand_loss", "sum"), times_failed=("failed", "sum"))
        .join(per_source, on=["fraction", "sources"])
        .reset_index()
        .rename(columns={"sources": "source"})
    )
    table["times_failed"] = table["times_failed"].astype("int64")
    table["runs"] = table["runs"].astype("int64")
    table["mean_loss"] = table["total_loss"] / table["runs"]
    country_loss = table.groupby(["fraction", "country"])["total_loss"].transform("sum")
    table["share_of_country_loss"] = table["total_loss"] / country_loss
    table["rank"] = competition_rank(table["total_loss"], [table["fraction"], table["country"]])
    table = table.sort_values(
        ["fraction", "country", "rank", "source"], ascending=[False, True, True, True]
    )
    return table[EXPOSURE_COLUMNS].reset_index(drop=True)
