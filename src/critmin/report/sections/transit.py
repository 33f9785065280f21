"""Transit hubs over the sweep, and the critical paths of the top source's and the DRC's latest
scenarios (source -> hubs -> most hit countries), read from their stored TRANSMITS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from critmin.report.figures import hub_bars, paths_figure
from critmin.report.figures.palette import MAX_LINES
from critmin.report.html import Block, NoteBlock, Section, fixed, table_block
from critmin.report.paths import CriticalPaths, critical_paths
from critmin.report.study import StoredStudy, figure_block, shock_slug
from critmin.units import Unit

__all__ = ["PathScenario", "hub_frame", "path_scenarios", "transit_section"]

#: Most hit countries a critical-paths figure ends at.
PATH_TARGETS = 6


@dataclass(frozen=True)
class PathScenario:
    """A stored scenario with its cascade and the critical paths to its most hit countries."""

    source: str
    year: int
    shock: float
    scenario: dict[str, Any]
    impacts: pd.DataFrame
    found: CriticalPaths

    @property
    def initial_shock(self) -> float:
        unit = Unit.of(str(self.scenario["unit"]))
        return float(self.scenario.get(f"initial_shock_{unit.suffix}") or 0.0)

    @property
    def slug(self) -> str:
        return f"{self.source}_{self.year}_{shock_slug(self.shock)}"


def path_scenarios(study: StoredStudy) -> list[PathScenario]:
    """The top source's and the DRC's latest stored scenario at the largest shock (one when the
    DRC is the top source or has no scenario), with their critical paths."""
    out = []
    for (source, year, shock), stored in study.cascades.items():
        found = critical_paths(stored.impacts, stored.edges, source, PATH_TARGETS)
        out.append(PathScenario(source, year, shock, stored.scenario, stored.impacts, found))
    return out


def hub_frame(countries: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The hub columns of a stored country table, unit suffix dropped, largest volume first."""
    suffix = Unit.of(unit).suffix
    hubs = countries[countries["scenarios_hit"] > 0].rename(
        columns={f"{k}_{suffix}": k for k in ("received", "passed_on", "absorbed")}
    )
    columns = [
        "hub_rank",
        "country",
        "name",
        "scenarios_hit",
        "received",
        "passed_on",
        "absorbed",
        "share_passed_on",
    ]
    return hubs.sort_values(["hub_rank", "country"])[columns].reset_index(drop=True)


def _hub_blocks(study: StoredStudy) -> list[Block]:
    shock = study.shocks[0]
    countries, context = study.country_tables[shock]
    hubs = hub_frame(countries, study.unit)
    unit = study.unit_text
    years = study.years_text(context)
    title = f"Transit hubs: loss received and passed on, {shock:.0%} export cut, {years}"
    figure = hub_bars(
        hubs,
        unit=study.unit,
        title=title,
        names=study.names,
        palette=study.palette,
        note=study.figure_note(),
    )
    blocks: list[Block] = [
        figure_block(
            figure,
            f"transit_hubs_{shock_slug(shock)}.png",
            title,
            f"one bar per country, summed over the runs in which it was not the source: the "
            f"solid part is the loss it passed on to others (by exporting less or importing "
            f"more), the pale hatched part what it kept (its demand loss), both in {unit}; the "
            f"label is the share passed on. The top {MAX_LINES} by volume passed on, the rest as "
            f"'others'.",
            f"{context['runs']:,} single-source runs at a {shock:.0%} cut, years {years}; "
            f"{study.figure_note()}",
        ),
        table_block(
            hubs.head(study.top),
            title=f"Top {min(study.top, len(hubs))} transit hubs, {shock:.0%} export cut",
            caption=f"over the runs in which the country is not the source; passed on = received "
            f"- absorbed; ranked by the volume passed on; quantities in {unit}; years {years}; "
            f"{study.parameter_text()}",
            headers={
                "hub_rank": "hub rank",
                "country": "country (ISO3)",
                "scenarios_hit": "runs that reached it (runs)",
                "received": f"received ({unit})",
                "passed_on": f"passed on ({unit})",
                "absorbed": f"kept ({unit})",
                "share_passed_on": "share passed on (share)",
            },
            formats={"share_passed_on": fixed(3)},
        ),
    ]
    if study.coverage.is_partial:
        blocks.append(NoteBlock(paragraphs=[study.coverage.note()]))
    return blocks


def _path_blocks(study: StoredStudy, chosen: PathScenario) -> list[Block]:
    unit = study.unit_text
    label = f"{study.label(chosen.source)}, {chosen.year}, {chosen.shock:.0%} export cut"
    title = f"Critical paths: {label}"
    keep = study.run_keep_share()
    figure = paths_figure(
        chosen.found,
        chosen.impacts,
        unit=study.unit,
        initial_shock=chosen.initial_shock,
        title=title,
        names=study.names,
        palette=study.palette,
        note=study.figure_note(),
    )
    blocks: list[Block] = [
        figure_block(
            figure,
            f"critical_paths_{chosen.slug}.png",
            title,
            f"left, the shocked source (square); then, one column per hop, the countries the "
            f"loss reached: diamonds are transit hubs that passed it on, circles the "
            f"{len(chosen.found.targets)} countries with the largest demand loss in this "
            f"scenario. Each arrow is a hop of the widest stored path (the path whose weakest hop "
            f"carries the most loss), labelled and sized by its share of the initial shock; loss "
            f"travels with trade (exports cut) and against it (imports asked for).",
            f"scenario {chosen.scenario['id']} of run {study.run_ids[0]}; initial shock "
            f"{chosen.initial_shock:,.0f} {unit}; hops from the stored TRANSMITS (only those "
            f"above {keep} of the initial shock were stored); {study.figure_note()}",
        )
    ]
    table = chosen.found.table(chosen.impacts, chosen.initial_shock)
    if not table.empty:
        table.insert(1, "name", [study.name(c) for c in table["country"]])
        blocks.append(
            table_block(
                table,
                title=f"Paths to the most hit countries: {label}",
                caption=f"the widest stored path to each country (largest smallest hop); loss "
                f"on each hop and demand loss in {unit}; bottleneck = smallest hop / initial "
                f"shock; {study.failure_rule()}",
                headers={
                    "country": "country (ISO3)",
                    "demand_loss": f"demand loss ({unit})",
                    "failed": "failed",
                    "path": "path",
                    "hop_losses": f"loss on each hop ({unit})",
                    "bottleneck_share": "bottleneck (share of the shock)",
                },
                formats={"bottleneck_share": fixed(3)},
            )
        )
    if chosen.found.unreached:
        blocks.append(
            NoteBlock(
                paragraphs=[
                    "No stored path reaches "
                    + ", ".join(study.label(c) for c in chosen.found.unreached)
                    + f": their loss came over hops below the stored {keep} of the shock."
                ]
            )
        )
    return blocks


def transit_section(study: StoredStudy, scenarios: list[PathScenario]) -> Section:
    blocks = _hub_blocks(study)
    for chosen in scenarios:
        blocks += _path_blocks(study, chosen)
    return Section(
        "transit",
        "Transit hubs and critical paths",
        "Who passes the shock on, over the whole sweep, and along which chains the top source's "
        "and the DRC's latest export cut reach the countries they hurt most (the scenarios' "
        "stored TRANSMITS).",
        blocks,
    )
