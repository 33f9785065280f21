"""The `critmin` command: one sub-app per command group, each a thin layer over the library."""

from __future__ import annotations

from typing import Annotated

import typer

from critmin import __version__
from critmin.cli import (
    cascade_cmd,
    demo_cmd,
    guide_cmd,
    load_cmd,
    metrics_cmd,
    migrate_cmd,
    neo4j_cmd,
    query_cmd,
    report_cmd,
    results_cmd,
    scenario_cmd,
    sensitivity_cmd,
    simulate_cmd,
    stock_cmd,
)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"critmin {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="critmin",
    help="Supply-risk analytics for critical minerals: trade networks in Neo4j, "
    "shock-diffusion cascades, tables and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo_cmd.demo)
app.add_typer(neo4j_cmd.app, name="neo4j")
app.add_typer(guide_cmd.app, name="guide")
app.add_typer(load_cmd.app, name="load")
app.command("simulate")(simulate_cmd.simulate)
app.command("sensitivity")(sensitivity_cmd.sensitivity_command)
app.add_typer(scenario_cmd.app, name="scenario")
app.command("stock-needed")(stock_cmd.stock_needed)
app.command("cascade")(cascade_cmd.cascade)
app.add_typer(results_cmd.app, name="results")
app.command("query")(query_cmd.query)
app.add_typer(metrics_cmd.app, name="metrics")
app.command("report")(report_cmd.report)
app.command("migrate")(migrate_cmd.migrate)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print critmin's version and exit."
        ),
    ] = False,
) -> None:
    """Supply-risk analytics for critical minerals: trade networks in Neo4j, shock-diffusion
    cascades, tables and reports."""
