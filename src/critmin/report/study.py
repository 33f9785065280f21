"""What the report's sections show, read once: the commodity, its stored runs, their tables and
parameters, the cascades and re-runs the sections picture, the policy runs.

:func:`load_study` does every read of the report (through :mod:`critmin.store.scenario_reads`
and :mod:`critmin.store.networks`); the sections render the :class:`StoredStudy` they are given
and never query. (A StoredStudy is what the store holds; the definition of a study to run is
:class:`critmin.study.Study`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from critmin.loader.commodities import CommodityGroup, find_group
from critmin.report.coverage import Coverage, coverage_of
from critmin.report.figures import png_bytes
from critmin.report.figures.canvas import unit_name
from critmin.report.figures.palette import MAX_LINES, Palette
from critmin.report.html import FigureBlock, format_value
from critmin.report.rerun import Rerun, ScenarioChoice, rerun
from critmin.store.graph import GraphStore
from critmin.store.networks import country_names, data_sources, panel_countries, trade_coverage
from critmin.store.scenario_reads import (
    country_table,
    loss_frame,
    matching_scenarios,
    policy_runs,
    policy_stock,
    refuse_chain,
    run_properties,
    scenario_cascade,
    source_table,
    study_runs,
    yearly_failures,
)

__all__ = [
    "DRC",
    "PolicyRun",
    "StoredCascade",
    "StoredStudy",
    "figure_block",
    "load_study",
    "shock_slug",
]

#: The Democratic Republic of the Congo, the report's second critical-paths scenario.
DRC = "COD"


@dataclass(frozen=True)
class StoredCascade:
    """A stored scenario (its properties) with its cascade: Impacts and TRANSMITS, as
    :func:`critmin.store.scenario_reads.scenario_cascade` returns them."""

    scenario: dict[str, Any]
    impacts: pd.DataFrame
    edges: pd.DataFrame


@dataclass(frozen=True)
class PolicyRun:
    """A stored policy run (a row of ``policy_runs``) and its stock per exposed country."""

    run: dict[str, Any]
    stock: pd.DataFrame


@dataclass(frozen=True)
class StoredStudy:
    """The stored results of one commodity and mode, shared by the sections.

    ``parameter_sets`` lists every complete study sweep stored (the latest first, one parameter
    set each); the report shows the first, as ``critmin results`` does, and never pools sweeps.
    Sweeps that did not finish are never shown.
    """

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
    #: The properties of the report's runs (command, keep_share, measure...), by run id.
    runs: dict[str, dict[str, Any]]
    #: Per shock, the loss table (:func:`~critmin.store.scenario_reads.loss_frame`) and context.
    loss_tables: dict[float, tuple[pd.DataFrame, dict[str, Any]]]
    #: Every country trading the group's codes in the report's years (the study's N).
    panel: list[str]
    #: The loaded data sources of the group's flows and production.
    data_sources: pd.DataFrame
    #: The stored cascades the critical paths start from, by (source, year, shock).
    cascades: dict[tuple[str, int, float], StoredCascade] = field(default_factory=dict)
    #: The stored scenarios pictured before and after their cascade, re-run.
    reruns: list[Rerun] = field(default_factory=list)
    #: The complete policy runs of the commodity, newest first.
    policy: list[PolicyRun] = field(default_factory=list)

    @property
    def run(self) -> dict[str, Any]:
        """The properties of the report's run (the first of :attr:`run_ids`)."""
        return self.runs.get(self.run_ids[0], {})

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

    def latest_year(self, source: str, shock: float) -> int | None:
        """The last year with a stored single-source scenario of ``source`` at ``shock``."""
        yearly = self.yearly[shock]
        years = yearly.loc[yearly["source"] == source, "year"]
        return int(years.max()) if not years.empty else None

    def path_sources(self) -> list[tuple[str, int, float]]:
        """The scenarios whose critical paths the report draws: the top source's and the
        DRC's latest at the largest shock (one when the DRC is the top source)."""
        shock = self.shocks[0]
        table, _context = self.source_tables[shock]
        wanted = list(dict.fromkeys([str(table["source"].iloc[0]), DRC]))
        out = []
        for source in wanted:
            year = self.latest_year(source, shock)
            if year is not None:
                out.append((source, year, shock))
        return out

    def default_choices(self) -> list[ScenarioChoice]:
        """The top source's latest year at the largest stored shock (100% in the study)."""
        shock = self.shocks[0]
        table, _context = self.source_tables[shock]
        source = str(table["source"].iloc[0])
        year = self.latest_year(source, shock)
        return [ScenarioChoice(source, int(year if year is not None else 0), shock)]


def load_study(
    store: GraphStore,
    commodity: str,
    mode: str = "export",
    top: int = 10,
    choices: Sequence[ScenarioChoice] | None = None,
) -> StoredStudy:
    """Read everything the sections show; raises when the commodity or its scenarios (or the
    chosen ``choices``, by default the top source's latest year) are unknown."""
    refuse_chain(commodity)
    group = find_group(commodity)
    sets = study_runs(store, commodity, mode)
    run_id = str(sets["id"].iloc[0])
    shocks = list(sets["shocks"].iloc[0])
    sources = {s: source_table(store, commodity, s, mode, run_id=run_id) for s in shocks}
    countries = {s: country_table(store, commodity, s, mode, run_id=run_id) for s in shocks}
    first, last = int(sets["first_year"].iloc[0]), int(sets["last_year"].iloc[0])
    study = StoredStudy(
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
        runs={str(i): run_properties(store, str(i)) for i in sets["run_ids"].iloc[0]},
        loss_tables={s: loss_frame(*countries[s]) for s in shocks},
        panel=panel_countries(store, group, first, last),
        data_sources=data_sources(store, group),
        policy=[
            PolicyRun(run, policy_stock(store, str(run["run_id"])))
            for run in policy_runs(store, commodity).to_dict("records")
        ],
    )
    cascades = {}
    for source, year, shock in study.path_sources():
        stored = matching_scenarios(
            store, commodity, year, source, shock, mode, run_id=study.run_ids[0]
        )
        if stored:
            impacts, edges = scenario_cascade(store, str(stored[0]["id"]))
            cascades[(source, year, shock)] = StoredCascade(stored[0], impacts, edges)
    chosen = list(choices) if choices else study.default_choices()
    reruns = [rerun(store, group, choice, study.parameter_key, mode) for choice in chosen]
    return replace(study, cascades=cascades, reruns=reruns)


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
