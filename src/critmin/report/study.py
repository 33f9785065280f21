"""What every section of the report reads: the commodity, its stored runs and their parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from critmin.loader.commodities import CommodityGroup, find_group
from critmin.report.coverage import Coverage, coverage_of
from critmin.report.figures import png_bytes
from critmin.report.figures.canvas import unit_name
from critmin.report.figures.palette import MAX_LINES, Palette
from critmin.report.html import FigureBlock, format_value
from critmin.store.graph import GraphStore
from critmin.store.networks import country_names, trade_coverage
from critmin.store.scenario_reads import (
    country_table,
    run_properties,
    source_table,
    study_runs,
    yearly_failures,
)

__all__ = ["DRC", "Study", "figure_block", "load_study", "shock_slug"]

#: The Democratic Republic of the Congo, the report's second critical-paths scenario.
DRC = "COD"


@dataclass(frozen=True)
class Study:
    """The stored results of one commodity and mode, shared by the sections.

    ``parameter_sets`` lists every complete study sweep stored (the latest first, one parameter
    set each); the report shows the first, as ``critmin results`` does, and never pools sweeps.
    Sweeps that did not finish are never shown.
    """

    store: GraphStore
    group: CommodityGroup
    mode: str
    top: int
    names: dict[str, str]
    parameter_sets: pd.DataFrame
    source_tables: dict[float, tuple[pd.DataFrame, dict[str, Any]]]
    country_tables: dict[float, tuple[pd.DataFrame, dict[str, Any]]]
    #: ``year, source, n_failed`` of every single-source scenario of the run, per shock.
    yearly: dict[float, pd.DataFrame]
    coverage: Coverage
    #: One colour per country, shared by every figure of the report.
    palette: Palette
    #: The properties of the report's run (command, keep_share, measure...).
    run: dict[str, Any]

    @property
    def chosen(self) -> pd.Series:
        """The parameter set of this report (a row of ``parameter_sets``)."""
        return self.parameter_sets.iloc[0]

    @property
    def parameter_key(self) -> str:
        return str(self.chosen["key"])

    @property
    def shocks(self) -> list[float]:
        return list(self.chosen["shocks"])

    @property
    def run_ids(self) -> list[str]:
        return list(self.chosen["run_ids"])

    @property
    def unit(self) -> str:
        return str(self.chosen["unit"])

    @property
    def unit_text(self) -> str:
        return unit_name(self.unit)

    def context(self, shock: float | None = None) -> dict[str, Any]:
        """Years, panel size and run count of ``shock`` (default: the largest stored)."""
        return self.source_tables[self.shocks[0] if shock is None else shock][1]

    def parameter_text(self) -> str:
        """The cascade parameters in one line, units attached."""
        first = self.chosen
        return (
            f"alpha={first['alpha']:g}, fail_abs={first['fail_abs']:g} {self.unit}, "
            f"fail_rel={first['fail_rel']:g}, absorb={first['absorb']:g}, "
            f"supplier_cap={first['supplier_cap']}, mode={first['mode']}"
        )

    def run_keep_share(self) -> str:
        """The share of the initial shock below which the run did not store a TRANSMITS."""
        keep = self.run.get("keep_share")
        return f"{float(keep):.2%}".replace(".00%", "%") if keep is not None else "a share"

    def failure_rule(self) -> str:
        """When a country counts as failed, with this report's thresholds."""
        first = self.chosen
        rule = (
            f"a country fails when its demand loss exceeds fail_abs = "
            f"{format_value(float(first['fail_abs']))} {self.unit_text}"
        )
        if float(first["fail_rel"]) > 0:
            rule += f" and {first['fail_rel']:g} × its internal demand"
        return rule + " (a shocked source never counts)"

    def figure_note(self) -> str:
        """The parameters and failure rule, for the small print under a figure."""
        return f"Parameters: {self.parameter_text()}. Failure rule: {self.failure_rule()}."

    def short_parameters(self) -> str:
        """The two parameters a finding depends on most, for the end of a sentence."""
        first = self.chosen
        return (
            f"alpha {first['alpha']:g}, failure above "
            f"{format_value(float(first['fail_abs']))} {self.unit_text} lost"
        )

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def label(self, code: str) -> str:
        """``Belgium (BEL)``; just the code when the name is the code (``USA``)."""
        name = self.name(code)
        return code if name == code else f"{name} ({code})"

    def years_text(self, context: dict[str, Any] | None = None) -> str:
        context = context or self.context()
        return f"{context['first_year']}–{context['last_year']}"


def load_study(store: GraphStore, commodity: str, mode: str = "export", top: int = 10) -> Study:
    """Read what the sections share; raises when the commodity or its scenarios are unknown."""
    group = find_group(commodity)
    sets = study_runs(store, commodity, mode)
    run_id = str(sets["id"].iloc[0])
    shocks = list(sets["shocks"].iloc[0])
    sources = {s: source_table(store, commodity, s, mode, run_id=run_id) for s in shocks}
    countries = {s: country_table(store, commodity, s, mode, run_id=run_id) for s in shocks}
    first, last = int(sets["first_year"].iloc[0]), int(sets["last_year"].iloc[0])
    return Study(
        store=store,
        group=group,
        mode=mode,
        top=top,
        names=country_names(store),
        parameter_sets=sets,
        source_tables=sources,
        country_tables=countries,
        yearly={s: yearly_failures(store, run_id, s) for s in shocks},
        coverage=coverage_of(trade_coverage(store, group, first, last), str(sets["unit"].iloc[0])),
        palette=report_palette(sources, countries),
        run=run_properties(store, run_id),
    )


def report_palette(
    sources: dict[float, tuple[pd.DataFrame, dict[str, Any]]],
    countries: dict[float, tuple[pd.DataFrame, dict[str, Any]]],
) -> Palette:
    """Colours for the countries the report's figures name, most important first: the top
    sources of each shock size (rank by rank), the DRC, the most exposed countries, the hubs."""
    order: list[str] = []
    tables = [table for table, _ in sources.values()]
    for rank in range(MAX_LINES):
        order += [str(t["source"].iloc[rank]) for t in tables if rank < len(t)]
    order.append(DRC)
    for table, _ in countries.values():
        exposed = table[table["runs_hit"] > 0].sort_values(["rank", "country"])
        order += [str(c) for c in exposed["country"].head(MAX_LINES)]
        hubs = table[table["scenarios_hit"] > 0].sort_values(["hub_rank", "country"])
        order += [str(c) for c in hubs["country"].head(MAX_LINES)]
    return Palette.for_countries(order)


def shock_slug(shock: float) -> str:
    """A file-name-safe shock size.

    >>> shock_slug(1.0), shock_slug(0.5), shock_slug(1 / 3)
    ('100pct', '50pct', '33.3pct')
    """
    return f"{shock * 100:.3g}pct"


def figure_block(
    figure: Figure, filename: str, title: str, how_to_read: str, caption: str
) -> FigureBlock:
    return FigureBlock(title, how_to_read, caption, png_bytes(figure), filename)
