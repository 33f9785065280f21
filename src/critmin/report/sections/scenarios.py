"""Chosen scenarios before and after their cascade (the study's Figures 6-8 and section 3.3)."""

from __future__ import annotations

from critmin.report.figures import network_comparison
from critmin.report.html import Block, NoteBlock, Section, format_value, table_block
from critmin.report.measures import concentration_table, measures_table
from critmin.report.rerun import AFTER_METHOD, Rerun
from critmin.report.study import StoredStudy, figure_block, shock_slug

__all__ = ["LAYOUT_SEED", "scenarios_section"]

LAYOUT_SEED = 7


def _facts(study: StoredStudy, run: Rerun) -> NoteBlock:
    stored = run.run.stored
    unit = study.unit_text
    checks = run.comparison.notes or [
        f"the re-run fails {run.result.n_failed} countries, as stored, on unchanged data"
    ]
    parameters = ", ".join(f"{k}={v}" for k, v in run.result.parameters.items())
    return NoteBlock(
        items={
            "scenario": f"{run.run.scenario_id} (run {stored.get('run_id', 'not recorded')})",
            "after the cascade": AFTER_METHOD,
            "checks": "; ".join(checks),
            "initial shock": f"{format_value(run.result.initial_shock)} {unit}",
            "total demand loss": f"{format_value(float(run.result.demand_loss.sum()))} {unit}",
            "parameters": f"{parameters} (fail_abs in {unit})",
        }
    )


def _blocks(study: StoredStudy, run: Rerun) -> list[Block]:
    choice = run.choice
    unit = study.unit_text
    name = f"{study.name(choice.source)} ({choice.source})"
    title = f"{name}, {choice.year}: {choice.shock:.0%} export cut"
    figure = network_comparison(
        run.before,
        run.after,
        sources=[choice.source],
        unit=run.comparison.unit,
        title=f"{study.group.name}, {title}",
        seed=LAYOUT_SEED,
        palette=study.palette,
        note=study.figure_note(),
    )
    caption = (
        f"{choice.year} network in {unit}; after = {AFTER_METHOD}; layout: Kamada-Kawai on hop "
        f"distances from a spring layout seeded with {LAYOUT_SEED}, of the network before the "
        f"shock; {study.figure_note()}"
    )
    return [
        figure_block(
            figure,
            f"network_{choice.source}_{choice.year}_{shock_slug(choice.shock)}.png",
            title,
            "left, the trade network before the shock; right, after the cascade, on the same "
            f"layout. Dots are countries (area ~ exports + imports, {unit}), lines are flows "
            "(width ~ flow); red dashed lines are links the cascade cut, orange ones shrank, "
            "green ones grew (extra imports requested). Countries keep their colour of the other "
            "charts (grey: no own colour); the shocked source has a black ring.",
            caption,
        ),
        table_block(
            measures_table(run.comparison),
            title=f"Network measures before and after: {title}",
            caption=f"computed by critmin.analysis on the {choice.year} network; weights in "
            f"{unit}; links emptied by the cascade count as cut; {study.parameter_text()}",
        ),
        table_block(
            concentration_table(run.before, run.after, run.comparison.unit),
            title=f"Concentration of exports and imports: {title}",
            caption=f"HHI = sum of squared shares of each country in total exports (imports), "
            f"0-1; top-3 share = the three largest together; totals in {unit}",
        ),
        _facts(study, run),
    ]


def scenarios_section(study: StoredStudy) -> Section:
    """The scenarios :func:`~critmin.report.study.load_study` re-ran (``study.reruns``)."""
    blocks = [block for run in study.reruns for block in _blocks(study, run)]
    return Section(
        "scenarios",
        "Scenarios: the network before and after the cascade",
        "Stored scenarios re-run with their stored parameters: "
        + "; ".join(run.choice.label() for run in study.reruns)
        + ".",
        blocks,
    )
