"""`critmin cascade SCENARIO_ID`: store the cascade of a scenario a bulk sweep left without."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.pipeline import materialise_cascade


@friendly
def cascade(
    scenario_id: Annotated[str, typer.Argument(help="A stored scenario id (sc_...).")],
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Re-run a stored scenario and store its cascade (Impact nodes and TRANSMITS), so that
    the path queries of the Cypher library work on it; same id, same numbers."""
    started = time.perf_counter()
    with open_store(uri, user, password, database) as store:
        outcome = materialise_cascade(store, scenario_id)
    result = outcome.result
    console.print(
        f"stored the cascade of {scenario_id}: {len(result.impacts):,} countries hit, "
        f"{len(result.transmitted):,} TRANSMITS above keep_share, in "
        f"{(time.perf_counter() - started) * 1000:,.0f} ms "
        f"({outcome.caption()})",
        highlight=False,
        soft_wrap=True,
    )
