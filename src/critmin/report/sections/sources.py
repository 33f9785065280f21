"""Top risk sources (the study's Tables 1-2) and their yearly failure curves (Figures 2-3)."""

from __future__ import annotations

from typing import Any

from critmin.report.figures import failure_curves
from critmin.report.figures.palette import MAX_LINES
from critmin.report.html import Block, NoteBlock, Section, fixed, table_block
from critmin.report.study import StoredStudy, figure_block, shock_slug

__all__ = ["curves_section", "rate_caption", "sources_section"]

HEADERS = {
    "rank": "rank",
    "source": "source (ISO3)",
    "name": "country",
    "total_failed": "total failed (country-years)",
    "failure_rate": "average failure rate (share)",
    "years_active": "years with exports (years)",
}


def rate_caption(study: StoredStudy, context: dict[str, Any]) -> str:
    """The failure-rate formula with the numbers that went into it, and the parameters."""
    return (
        f"average failure rate = total failed / (Y × N) = total failed / ({context['years']} years "
        f"× {context['panel_countries']} countries); years {context['first_year']}–"
        f"{context['last_year']}; panel of {context['panel_countries']} countries; "
        f"{context['runs']:,} single-source runs; network unit {study.unit_text}; "
        f"{study.failure_rule()}; {study.parameter_text()}"
    )


def sources_section(study: StoredStudy) -> Section:
    blocks: list[Block] = []
    for shock in study.shocks:
        table, context = study.source_tables[shock]
        top = table.head(study.top).copy()
        top["name"] = [study.name(code) for code in top["source"]]  # as loaded
        blocks.append(
            table_block(
                top,
                title=f"Top {len(top)} risk sources, {shock:.0%} export cut",
                caption=rate_caption(study, context),
                headers=HEADERS,
                formats={"failure_rate": fixed(3)},
            )
        )
    if study.coverage.is_partial:
        blocks.append(NoteBlock(paragraphs=[study.coverage.note()]))
    return Section(
        "risk-sources",
        "Risk sources: whose export cut fails the most countries",
        "Each exporter's exports were cut in every year it exported; a source's total counts the "
        "countries that failed over all those years (the study's Tables 1 and 2).",
        blocks,
    )


def curves_section(study: StoredStudy) -> Section:
    blocks: list[Block] = []
    for shock in study.shocks:
        table, context = study.source_tables[shock]
        sources = list(table["source"].head(min(study.top, MAX_LINES)))
        yearly = study.yearly[shock]
        figure = failure_curves(
            yearly,
            sources,
            shock=shock,
            names=study.names,
            palette=study.palette,
            note=study.figure_note(),
            partial_years=study.coverage.partial,
        )
        others = yearly.loc[~yearly["source"].isin(sources), "source"].nunique()
        blocks.append(
            figure_block(
                figure,
                f"failure_curves_{shock_slug(shock)}.png",
                f"Failed countries per year, top {len(sources)} sources, {shock:.0%} export cut",
                f"each line is one source, in its colour throughout the report; its height in a "
                f"year is the number of countries (count) that failed when that source's exports "
                f"were cut by {shock:.0%} in that year. A gap means the source did not export "
                f"that year. The grey dashed line is the highest count among the {others} other "
                f"sources in each year.",
                f"years {context['first_year']}–{context['last_year']}; panel of "
                f"{context['panel_countries']} countries; network unit {study.unit_text}; "
                f"{study.figure_note()}",
            )
        )
    if study.coverage.is_partial:
        blocks.append(NoteBlock(paragraphs=[study.coverage.note()]))
    return Section(
        "failure-curves",
        "Failed countries per year",
        "How the damage a source can do changes over time (the study's Figures 2 and 3).",
        blocks,
    )
