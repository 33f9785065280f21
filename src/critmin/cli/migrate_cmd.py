"""`critmin migrate`: bring a graph written by an earlier critmin to the current scenario model."""

from __future__ import annotations

from typing import Annotated

import typer

from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.store.migration import SCHEMA_VERSION
from critmin.store.migration import migrate as migrate_graph


@friendly
def migrate(
    yes: Annotated[bool, typer.Option("--yes", help="Do it without asking (scripts, CI).")] = False,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Delete scenario results of the first graph model (trade and production data stay) and
    mark the graph as schema 2; then re-run your sweeps (the commands are listed)."""
    if not yes:
        typer.confirm(
            "Delete the stored scenarios, sweeps and their results (trade and production data "
            "are kept)?",
            abort=True,
        )
    with open_store(uri, user, password, database) as store:
        commands = migrate_graph(store)
    console.print(f"the graph is at scenario schema {SCHEMA_VERSION}", highlight=False)
    if commands:
        console.print("re-run the sweeps that made the deleted results:", highlight=False)
        for command in commands:
            console.print(f"  {command}", highlight=False, soft_wrap=True)
