"""The `critmin` command: one sub-app per command group, each a thin layer over the library."""

from __future__ import annotations

import typer

from critmin.cli import load_cmd, neo4j_cmd

app = typer.Typer(
    name="critmin",
    help="Supply-risk analytics for critical minerals: trade networks in Neo4j, "
    "shock-diffusion cascades, tables and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(neo4j_cmd.app, name="neo4j")
app.add_typer(load_cmd.app, name="load")
