"""`critmin report`: the HTML report of a commodity's stored scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.report import ScenarioChoice, build_report


def scenario_choices(
    sources: list[str] | None, years: list[int] | None, shocks: list[float] | None
) -> list[ScenarioChoice] | None:
    """Pair ``--scenario-source`` with ``--scenario-year`` (one year serves every source).

    >>> [c.label() for c in scenario_choices(["COD", "chn"], [2024], [1.0, 0.5])]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['COD 2024, 100% export cut', 'COD 2024, 50% export cut',
     'CHN 2024, 100% export cut', 'CHN 2024, 50% export cut']
    >>> scenario_choices(None, None, None) is None
    True
    """
    if not sources and not years:
        return None
    if not sources or not years:
        raise typer.BadParameter("give --scenario-source and --scenario-year together")
    if len(years) not in (1, len(sources)):
        raise typer.BadParameter(
            f"{len(sources)} --scenario-source but {len(years)} --scenario-year: give one year "
            "for all sources or one per source"
        )
    paired = zip(sources, years * len(sources) if len(years) == 1 else years, strict=True)
    return [
        ScenarioChoice(source.upper(), year, shock)
        for source, year in paired
        for shock in shocks or [1.0]
    ]


@friendly
def report(
    commodity: Annotated[str, typer.Option(help="Commodity group id (e.g. cobalt_oxides).")],
    out: Annotated[Path, typer.Option(help="Folder for the HTML file and its PNG figures.")] = Path(
        "out/report"
    ),
    scenario_source: Annotated[
        list[str] | None,
        typer.Option(
            help="ISO3 source of a scenario to picture before/after (repeat); default: top source."
        ),
    ] = None,
    scenario_year: Annotated[
        list[int] | None,
        typer.Option(help="Year of that scenario (repeat, or one for all sources)."),
    ] = None,
    scenario_shock: Annotated[
        list[float] | None,
        typer.Option(help="Shock size(s) to picture for each scenario (repeat); default 1.0."),
    ] = None,
    top: Annotated[
        int, typer.Option(min=1, help="Rows of the ranking tables and lines per yearly chart.")
    ] = 10,
    mode: Annotated[str, typer.Option(help="export or production runs.")] = "export",
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Write a self-contained HTML report (tables, yearly curves, world maps, networks)."""
    choices = scenario_choices(scenario_source, scenario_year, scenario_shock)
    with open_store(uri, user, password, database) as store:
        path = build_report(store, commodity, out, scenarios=choices, top=top, mode=mode)
    console.print(f"report: {path}", highlight=False, soft_wrap=True)
    console.print(f"figures (PNG): {path.parent}", highlight=False, soft_wrap=True)
