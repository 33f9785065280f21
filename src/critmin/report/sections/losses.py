"""Average demand loss per country: world maps (the study's Figures 4-5) and the top table."""

from __future__ import annotations

import pandas as pd

from critmin.report.figures import loss_map, shared_scale
from critmin.report.html import Block, NoteBlock, Section, format_value, table_block
from critmin.report.study import StoredStudy, figure_block, shock_slug
from critmin.report.world import load_world

__all__ = ["losses_section", "map_frame"]


def map_frame(losses: pd.DataFrame, panel: list[str]) -> pd.DataFrame:
    """``country, demand_loss`` for every panel country, 0 where no run ever hit it.

    >>> losses = pd.DataFrame({"country": ["CHN"], "mean_loss_all_runs": [5.0]})
    >>> map_frame(losses, ["CHN", "FIN"]).to_dict("records")
    [{'country': 'CHN', 'demand_loss': 5.0}, {'country': 'FIN', 'demand_loss': 0.0}]
    """
    values = losses.set_index("country")["mean_loss_all_runs"].astype(float)
    codes = sorted(set(panel) | set(values.index))
    return pd.DataFrame(
        {"country": codes, "demand_loss": values.reindex(codes, fill_value=0.0).to_numpy()}
    )


def _shock_blocks(
    study: StoredStudy,
    shock: float,
    loaded: tuple[pd.DataFrame, dict[str, object]],
    frame: pd.DataFrame,
    scale: tuple[float, float] | None,
) -> list[Block]:
    table, context = loaded
    unit = study.unit_text
    title = f"Mean demand loss per country, {shock:.0%} export cut of each source"
    figure = loss_map(frame, unit=study.unit, title=title, scale=scale, note=study.figure_note())
    missing = load_world().missing(frame.loc[frame["demand_loss"] > 0, "country"])
    losses = frame.set_index("country")["demand_loss"]
    missing_text = "; ".join(
        f"{study.name(c)} ({c}) {format_value(losses[c])} {unit}" for c in missing
    )
    blocks: list[Block] = [
        figure_block(
            figure,
            f"loss_map_{shock_slug(shock)}.png",
            title,
            f"darker means a larger demand loss ({unit}) averaged over all {context['runs']:,} "
            f"runs at this shock size, runs that did not hit the country counted as 0. Pale: in "
            f"the trade panel but never lost demand; grey: not in the panel. The maps of every "
            f"shock size share one colour scale, so their colours compare.",
            f"mean over {context['runs']:,} single-source runs, years {context['first_year']}–"
            f"{context['last_year']}; {study.figure_note()} Countries with a loss but no "
            f"outline at 1:110m: {missing_text or 'none'}.",
        )
    ]
    top = table.head(study.top)
    blocks.append(
        table_block(
            top,
            title=f"Top {len(top)} countries by mean demand loss, {shock:.0%} export cut",
            caption=(
                f"mean over all {context['runs']:,} runs (zeros included) and over the runs in "
                f"which the country lost demand; quantities in {unit}; {study.parameter_text()}"
            ),
            headers={
                "country": "country (ISO3)",
                "name": "name",
                "mean_loss_all_runs": f"mean loss, all runs ({unit})",
                "mean_loss_when_hit": f"mean loss, runs that hit it ({unit})",
                "runs_hit": "runs with a loss (runs)",
                "times_failed": "runs in which it failed (runs)",
            },
        )
    )
    return blocks


def losses_section(study: StoredStudy) -> Section:
    loaded = study.loss_tables
    frames = {shock: map_frame(loaded[shock][0], study.panel) for shock in study.shocks}
    scale = shared_scale(*frames.values())
    blocks = [
        block
        for shock in study.shocks
        for block in _shock_blocks(study, shock, loaded[shock], frames[shock], scale)
    ]
    if study.coverage.is_partial:
        blocks.append(NoteBlock(paragraphs=[study.coverage.note()]))
    blocks.append(
        NoteBlock(
            paragraphs=[
                "Country outlines: Natural Earth 1:110m (public domain); small states and "
                "territories (Singapore, Hong Kong, Malta, ...) have no outline at this scale and "
                "are named in the caption instead, with their loss."
            ]
        )
    )
    return Section(
        "demand-loss",
        "Demand loss: who gets hurt",
        "The average demand loss each country suffers when any source's exports are cut (the "
        "study's Figures 4 and 5).",
        blocks,
    )
