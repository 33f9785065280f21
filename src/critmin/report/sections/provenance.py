"""What the numbers were computed from: the overview at the top and the parameters at the end."""

from __future__ import annotations

from critmin.analysis.comparison import PARAMETER_NAMES
from critmin.report.html import Block, NoteBlock, Section, table_block
from critmin.report.study import StoredStudy

__all__ = ["CREDITS", "overview_section", "parameters_section"]

CREDITS = {
    "trade flows": "CEPII BACI, version V202601 (Gaulier & Zignago 2010, CEPII WP 2010-23), "
    "UN Comtrade data reconciled by CEPII; Etalab Licence Ouverte 2.0",
    "mine production": "U.S. Geological Survey, Mineral Commodity Summaries (US public domain)",
    "production series": "Our World in Data based on USGS (CC BY 4.0)",
    "map outlines": "Natural Earth 1:110m admin-0 countries (public domain)",
    "model": "shock-diffusion cascade after Grassia, Mangioni, Schiavo & Traverso (Sci Rep 2022) "
    "and the cobalt trade study (Sustainability 2025, 17(15), 6711); a reconstruction, "
    "see docs/model.md",
}


def overview_section(study: StoredStudy) -> Section:
    context = study.context()
    group = study.group
    items = {
        "commodity": f"{group.name} ({group.id})",
        "HS codes": ", ".join(group.hs_codes),
        "years": f"{context['first_year']}–{context['last_year']} "
        f"({context['years']} years with runs)",
        "panel": f"{context['panel_countries']} countries trading in those years (N)",
        "unit": f"{study.unit_text} (every flow, loss and threshold in this report)",
        "shock sizes": ", ".join(f"{s:.0%}" for s in study.shocks)
        + f" of exports, mode {study.mode}",
        "parameters": study.parameter_text(),
        "failure rule": study.failure_rule(),
    }
    blocks: list[Block] = [NoteBlock(items=items)]
    if study.coverage.is_partial:
        blocks.append(NoteBlock(title="Data coverage", paragraphs=[study.coverage.note()]))
    others = len(study.parameter_sets) - 1
    if others:
        blocks.append(
            NoteBlock(
                title="Check before using",
                paragraphs=[
                    f"{others} other parameter set(s) are stored for {group.id}; this report "
                    f"shows only the most recently written one (runs "
                    f"{', '.join(study.run_ids)}). The others are listed under Parameters and "
                    f"data sources."
                ],
            )
        )
    return Section(
        "overview", "Overview", "What this report covers and the settings behind it.", blocks
    )


def _run_items(study: StoredStudy) -> dict[str, str]:
    """The sweep runs behind the scenarios: their commands and the choices not in the scenario."""
    items: dict[str, str] = {}
    for run_id in study.run_ids:
        run = study.runs.get(run_id, {})
        extras = ", ".join(
            f"{k}={run[k]}" for k in ("measure", "keep_share", "created_at") if k in run
        )
        items[f"run {run_id}"] = f"{run.get('command', 'command not recorded')} ({extras})"
    return items


def parameters_section(study: StoredStudy) -> Section:
    first = study.chosen
    items = {name: f"{first[name]}" for name in PARAMETER_NAMES}
    items["fail_abs"] += f" {study.unit_text}"
    items["eps_pass"] += " (share of the initial shock)"
    items["tol"] += " (share of the initial shock)"
    items["unit"] = study.unit_text
    items["model version"] = str(first["model_version"])
    blocks: list[Block] = [
        NoteBlock(title="Cascade parameters", items={**items, **_run_items(study)})
    ]
    if len(study.parameter_sets) > 1:
        others = study.parameter_sets.iloc[1:]
        blocks.append(
            table_block(
                others[
                    ["key", "unit", "scenarios", "first_year", "last_year", "created_at"]
                ].assign(
                    shocks=others["shocks"].map(lambda s: ", ".join(f"{x:.0%}" for x in s)),
                    run_ids=others["run_ids"].map(", ".join),
                ),
                title="Other parameter sets stored (not in this report)",
                caption="key = the scenarios' cascade parameters as stored; compare like with like",
                formats={"first_year": str, "last_year": str},
            )
        )
    sources = study.data_sources
    if not sources.empty:
        blocks.append(
            table_block(
                sources.astype({"source": "string"}).fillna({"source": "not recorded"}),
                title="Data loaded in the graph for this commodity",
                caption="TRADES: bilateral flows of the group's HS codes; PRODUCED: mine "
                "production of its production series; rows = relationships in Neo4j",
                formats={"first_year": str, "last_year": str},
                headers={
                    "first_year": "first year",
                    "last_year": "last year",
                    "rows": "rows (relationships)",
                },
            )
        )
    blocks.append(NoteBlock(title="Data credits", items=CREDITS))
    return Section(
        "parameters",
        "Parameters and data sources",
        "Everything needed to reproduce the numbers above.",
        blocks,
    )
