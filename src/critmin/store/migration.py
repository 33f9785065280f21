"""Which model the graph's scenario results are in: the schema marker, its check, and the
migration from the first model.

``(:CritminGraph {id: 'critmin', schema_version})`` says which model the graph holds; every
reader checks it (:func:`check_schema`), every writer marks it. Schema 2 is described in
:mod:`critmin.store.scenario_writes` and ``docs/graph-model.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from critmin.errors import CritminError
from critmin.simulator.scenario import Parameters
from critmin.store.graph import GraphStore
from critmin.store.schema import ensure_schema
from critmin.units import Unit

__all__ = ["SCHEMA_VERSION", "SchemaMismatch", "check_schema", "flag_studies", "migrate", "now"]

SCHEMA_VERSION = 2


class SchemaMismatch(CritminError):
    """The graph's scenario results were written in another model than this critmin reads."""


def now() -> str:
    """The time now (UTC, ISO 8601 to the microsecond), as runs and the marker store it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


SCHEMA_STATE = """
OPTIONAL MATCH (g:CritminGraph {id: 'critmin'})
RETURN g.schema_version AS version,
       EXISTS { MATCH (:Scenario) } AS scenarios,
       EXISTS { MATCH ()-[:IMPACTS]->() } AS impacts
"""

MARK_SCHEMA = """
MERGE (g:CritminGraph {id: 'critmin'})
SET g.schema_version = $version, g.marked_at = $now
"""

# The first model: IMPACTS from Scenario to Country and TRANSMITS between Country nodes.
V1_DELETIONS = (
    "MATCH ()-[r:IMPACTS|SHOCKS]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS",
    "MATCH (:Country)-[r:TRANSMITS]->(:Country) CALL (r) { DELETE r } "
    "IN TRANSACTIONS OF 20000 ROWS",
    "MATCH (n) WHERE n:Scenario OR n:Run CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS",
    "DROP INDEX transmits_scenario IF EXISTS",
)

V1_MESSAGE = (
    "this graph holds scenario results written by an earlier critmin (schema 1: TRANSMITS "
    "between Country nodes), which this version does not read. Your trade and production data "
    "are not affected. Run `critmin migrate` to delete the old results (it lists the commands "
    "that made them), then re-run those sweeps with `critmin simulate`."
)


def check_schema(store: GraphStore, *, writing: bool = False) -> None:
    """Make sure the graph holds schema-2 results (or none); mark it when ``writing``.

    Raises
    ------
    SchemaMismatch
        When the graph holds results of the first model, or of a newer critmin.
    """
    if store.schema_checked:
        return
    state = store.records(SCHEMA_STATE)[0]
    version = state["version"]
    if version is None and (state["scenarios"] or state["impacts"]):
        raise SchemaMismatch(V1_MESSAGE)
    if version is not None and int(version) > SCHEMA_VERSION:
        raise SchemaMismatch(
            f"this graph's scenario results are in schema {version}, written by a newer "
            f"critmin; this one reads schema {SCHEMA_VERSION}: upgrade critmin"
        )
    if version is None and not writing:
        return  # an empty graph: nothing to read yet, nothing to mark
    if writing:  # constraints a newer critmin added (IF NOT EXISTS: cheap when present)
        ensure_schema(store)
    if version is None or int(version) < SCHEMA_VERSION:
        store.execute(MARK_SCHEMA, version=SCHEMA_VERSION, now=now())
    if writing:
        flag_studies(store)
    store.schema_checked = True


# Runs stored before the study was flagged on its Run: flagged by the rule of
# critmin.study.Study.is_study, as far as a stored run shows it (every source alone, no
# targets, no stockpiles, the default parameters of its unit).
FLAG_STUDIES = """
MATCH (r:Run) WHERE r.is_study IS NULL
SET r.is_study = (r.kind = $study AND size(coalesce(r.targets, [])) = 0
                  AND size(coalesce(r.stockpiles, [])) = 0 AND r.parameters IN $defaults)
"""


def flag_studies(store: GraphStore) -> None:
    """Write ``is_study`` on the runs stored before it was written."""
    from critmin.store.scenario_writes import parameter_key  # it imports this module
    from critmin.study import RunKind

    defaults = [parameter_key(Parameters().resolved(u).as_dict()) for u in Unit]
    store.execute(FLAG_STUDIES, study=RunKind.STUDY.value, defaults=defaults)


V1_COMMANDS = """
MATCH (r:Run) WHERE r.command IS NOT NULL AND r.command <> ''
RETURN r.command AS command, r.created_at AS created_at ORDER BY created_at
"""


def migrate(store: GraphStore) -> list[str]:
    """Delete first-model scenario results (trade data stays) and mark the graph schema 2;
    flag the study (``is_study``) on runs stored before the flag was written.

    Returns the commands of the deleted sweeps, to re-run them. Idempotent; a graph already in
    schema 2 is left as it is.
    """
    state = store.records(SCHEMA_STATE)[0]
    if state["version"] is not None and int(state["version"]) >= SCHEMA_VERSION:
        flag_studies(store)
        return []
    commands = [str(c) for c in store.query(V1_COMMANDS).get("command", [])]
    for statement in V1_DELETIONS:
        store.autocommit(statement)
    store.schema_checked = False
    check_schema(store, writing=True)
    return commands
