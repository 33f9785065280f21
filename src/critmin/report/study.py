"""What every section of the report reads: the commodity, its stored runs and their parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from critmin.loader.commodities import CommodityGroup, load_groups
from critmin.report.figures import png_bytes
from critmin.report.figures.canvas import unit_name
from critmin.report.html import FigureBlock
from critmin.store.graph import GraphStore
from critmin.store.networks import country_names
from critmin.store.scenarios import NoScenarios, source_table, study_runs

__all__ = ["Study", "UnknownCommodity", "figure_block", "load_study", "shock_slug"]


class UnknownCommodity(NoScenarios):
    """The commodity group id is not defined (a user error: no scenarios can exist for it)."""


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

    def name(self, code: str) -> str:
        return self.names.get(code, code)


def load_study(store: GraphStore, commodity: str, mode: str = "export", top: int = 10) -> Study:
    """Read what the sections share; raises when the commodity or its scenarios are unknown."""
    groups = load_groups()
    if commodity not in groups:
        raise UnknownCommodity(
            f"unknown commodity group {commodity!r}; known: {', '.join(sorted(groups))}"
        )
    sets = study_runs(store, commodity, mode)
    run_id = str(sets["id"].iloc[0])
    return Study(
        store=store,
        group=groups[commodity],
        mode=mode,
        top=top,
        names=country_names(store),
        parameter_sets=sets,
        source_tables={
            shock: source_table(store, commodity, shock, mode, run_id=run_id)
            for shock in sets["shocks"].iloc[0]
        },
    )


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
