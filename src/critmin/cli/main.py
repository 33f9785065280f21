"""The `critmin` command: one sub-app per command group, each a thin layer over the library."""

from __future__ import annotations

import typer

from critmin.cli import demo_cmd, load_cmd, neo4j_cmd, results_cmd, simulate_cmd

app = typer.Typer(
    name="critmin",
    help="Supply-risk analytics for critical minerals: trade networks in Neo4j, "
    "shock-diffusion cascades, tables and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(neo4j_cmd.app, name="neo4j")
app.add_typer(load_cmd.app, name="load")
app.command("simulate")(simulate_cmd.simulate)
app.command("demo")(demo_cmd.demo)
app.add_typer(results_cmd.app, name="results")
# further command groups register below (query, metrics, report)
app.command("report")(__import__("critmin.cli.report_cmd", fromlist=["report"]).report)
app.command("query")(__import__("critmin.cli.query_cmd", fromlist=["query"]).query)
app.add_typer(__import__("critmin.cli.metrics_cmd", fromlist=["app"]).app, name="metrics")
