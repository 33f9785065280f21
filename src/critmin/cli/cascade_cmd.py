"""`critmin cascade SCENARIO_ID`: store the cascade of a scenario a bulk sweep left without."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from critmin.chain_run import ChainOutcome
from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.pipeline import materialise_cascade
from critmin.store.scenario_reads import scenario


@friendly
def cascade(
    scenario_id: Annotated[str, typer.Argument(help="A stored scenario id (sc_...).")],
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Re-run a stored scenario and store its cascade (Impact nodes and TRANSMITS), so that
    the path queries of the Cypher library work on it; same id, same numbers. A supply
    chain's scenario is re-run down the chain: every stage, and the STARVES between them.
    When a load has changed the year's flows since, the re-run is stored as a new scenario
    (the id includes the data version) and the stored one keeps its numbers."""
    started = time.perf_counter()
    with open_store(uri, user, password, database) as store:
        outcome = materialise_cascade(store, scenario_id)
        stored_id = outcome.scenario_ids[0]
        if stored_id != scenario_id:
            old, new = scenario(store, scenario_id) or {}, scenario(store, stored_id) or {}
            console.print(
                f"the flows of {old.get('year')} changed since {scenario_id} was stored (data "
                f"version {old.get('data_version') or 'not recorded'}, now "
                f"{new.get('data_version')}): {scenario_id} keeps its numbers "
                f"({old.get('n_failed')} failed); the re-run on the data loaded now is a new "
                f"scenario, {stored_id} ({new.get('n_failed')} failed)",
                highlight=False,
                soft_wrap=True,
            )
    result = outcome.result
    if isinstance(outcome, ChainOutcome):
        starved = int(((result.impacts["stage"] > 0) & (result.impacts["coupling_cut"] > 0)).sum())
        reached = f"{result.impacts['stage'].nunique()} stage(s)"
        hit = f"{len(result.impacts):,} (country, stage) outcomes over {reached}, "
        hit += f"{starved:,} STARVES (a loss cutting the next stage's output), "
    else:
        hit = f"{len(result.impacts):,} countries hit, "
    console.print(
        f"stored the cascade of {stored_id}: {hit}"
        f"{len(result.transmitted):,} TRANSMITS above keep_share, in "
        f"{(time.perf_counter() - started) * 1000:,.0f} ms "
        f"({outcome.caption()})",
        highlight=False,
        soft_wrap=True,
    )
