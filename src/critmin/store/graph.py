"""The only code that speaks Cypher to the server: a thin, always-named-database runner."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from typing import Any, Self

import numpy as np
import pandas as pd
from neo4j import Driver, GraphDatabase, ManagedTransaction, Result
from neo4j.exceptions import AuthError, ServiceUnavailable

from critmin.errors import CritminError
from critmin.store.settings import ConnectionSettings

DEFAULT_BATCH = 5_000

#: How long the driver retries a transaction after a transient failure (a leader switch, a
#: restart) before the error reaches the user; its own default is 30 s.
RETRY_SECONDS = 15.0

#: One statement of a transaction: Cypher, parameters, and the relationships it must create
#: (None: not checked).
Statement = tuple[str, dict[str, Any], int | None]


class DatabaseUnavailable(CritminError, RuntimeError):
    """The configured server does not answer or refuses the credentials."""


class IncompleteWrite(CritminError, RuntimeError):
    """A CREATE batch made fewer relationships than it had rows (an endpoint node is missing)."""


def neo4j_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as plain Python values for query parameters, missing values as null.

    Neo4j would store NaN as a number, and the driver does not take numpy scalars.

    >>> neo4j_rows(pd.DataFrame({"iso3": ["COD"], "tonnes": [float("nan")], "year": [2024]}))
    [{'iso3': 'COD', 'tonnes': None, 'year': 2024}]
    """
    clean = frame.astype(object).where(frame.notna(), None)
    rows: list[dict[str, Any]] = clean.to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, np.generic):
                row[key] = value.item()
    return rows


def batches(rows: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


class GraphStore:
    """A driver bound to one database; reads return DataFrames, writes run in managed transactions.

    Managed transactions (``execute_write``) retry transient errors (leader switches,
    deadlocks, a restarting server) with back-off, so each batch is applied exactly once or
    not at all.
    """

    def __init__(self, driver: Driver, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database
        #: Set once the scenario schema version has been checked (store.migration).
        self.schema_checked = False
        #: Set once the constraints and indexes exist (store.schema.ensure_schema).
        self.schema_ensured = False

    @classmethod
    def connect(cls, settings: ConnectionSettings) -> Self:
        driver = GraphDatabase.driver(
            settings.uri,
            auth=(settings.user, settings.password),
            # Our queries name properties that a fresh database has not seen yet; the server's
            # "property key does not exist" notices are noise for them.
            notifications_min_severity="OFF",
            max_transaction_retry_time=RETRY_SECONDS,
        )
        try:
            driver.verify_connectivity()
        except (ServiceUnavailable, OSError) as exc:
            driver.close()
            raise DatabaseUnavailable(
                f"Neo4j at {settings.describe()} does not answer: {' '.join(str(exc).split())}. "
                "Start it with `critmin neo4j start` or check NEO4J_URI."
            ) from exc
        except AuthError as exc:
            driver.close()
            raise DatabaseUnavailable(
                f"Neo4j at {settings.describe()} refused the credentials: {exc.message}"
            ) from exc
        return cls(driver, settings.database)

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, cypher: str, **params: Any) -> pd.DataFrame:
        """Run a read query and return its records as a DataFrame (columns kept when empty)."""
        frame: pd.DataFrame = self.driver.execute_query(
            cypher,
            _quiet(params),
            database_=self.database,
            routing_="r",
            result_transformer_=Result.to_df,
        )
        return frame

    def records(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        records, _summary, _keys = self.driver.execute_query(
            cypher, _quiet(params), database_=self.database, routing_="r"
        )
        return [record.data() for record in records]

    def execute(self, cypher: str, **params: Any) -> None:
        """Run one write statement in its own transaction."""
        self.driver.execute_query(cypher, _quiet(params), database_=self.database)

    def autocommit(self, cypher: str, **params: Any) -> None:
        """Run a statement in an implicit transaction (needed by ``CALL {...} IN TRANSACTIONS``)."""
        with self.driver.session(database=self.database) as session:
            session.run(cypher, _quiet(params)).consume()

    def wipe(self) -> None:
        """Delete every node and relationship (tests and benchmarks only; the schema stays).

        Relationships go first, in batches: detaching a country with many thousand TRANSMITS
        in one transaction can exceed the server's transaction memory.
        """
        self.autocommit("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS")
        self.autocommit("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS")
        self.schema_checked = False  # the schema version marker went with the rest
        self.schema_ensured = False  # the constraints stay, but check again after a wipe

    def write_batches(
        self,
        cypher: str,
        rows: Sequence[dict[str, Any]],
        batch_size: int = DEFAULT_BATCH,
        progress: Callable[[int], None] | None = None,
        creates: bool = False,
        **params: Any,
    ) -> int:
        """``UNWIND $rows`` in batches, one managed (retried) transaction each; return the count.

        With ``creates``, each row must create one relationship: a batch that creates fewer
        (its MATCH found no endpoint) is rolled back and :class:`IncompleteWrite` raised, rather
        than rows vanishing silently.
        """
        work = _run_creating if creates else _run
        written = 0
        with self.driver.session(database=self.database) as session:
            for batch in batches(rows, batch_size):
                session.execute_write(work, cypher, {"rows": batch, **params})
                written += len(batch)
                if progress is not None:
                    progress(len(batch))
        return written

    def write_units(
        self,
        units: Iterable[Sequence[Statement]],
        workers: int = 1,
        progress: Callable[[Sequence[Statement]], None] | None = None,
    ) -> None:
        """Apply each unit atomically (see :meth:`write_unit`), ``workers`` transactions at once.

        Units must not depend on each other. On an error or Ctrl-C no new unit starts, the
        units already running finish (each whole), and the error is raised.
        """
        if workers <= 1:
            for unit in units:
                self.write_unit(unit)
                if progress is not None:
                    progress(unit)
            return
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="critmin-write")
        running: set[Future[None]] = set()
        try:
            for unit in units:
                if len(running) >= workers:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
                running.add(pool.submit(self._write_and_report, unit, progress))
            for future in as_completed(running):
                future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _write_and_report(
        self, unit: Sequence[Statement], progress: Callable[[Sequence[Statement]], None] | None
    ) -> None:
        self.write_unit(unit)
        if progress is not None:
            progress(unit)

    def write_unit(self, statements: Sequence[Statement]) -> None:
        """Apply statements atomically in one managed (retried) transaction: all or none.

        A statement given an expected count of created relationships is checked against the
        server's counter; a shortfall (a MATCH found no endpoint) rolls the whole unit back
        with :class:`IncompleteWrite` rather than losing rows silently.
        """
        with self.driver.session(database=self.database) as session:
            session.execute_write(_run_all, list(statements))


class _QuietList(list[Any]):
    """A parameter list whose ``repr`` is its length.

    The driver (neo4j 6.4) formats every RUN's parameters for its debug log whether or not
    debug logging is on: ``repr`` of a write transaction's few megabytes of rows cost 2.3 s of
    the demo sweep's store. Packed like any list (the Rust packer takes list subclasses).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} items>"


def _quiet(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with its list values as :class:`_QuietList` (same contents)."""
    return {k: _QuietList(v) if isinstance(v, list) else v for k, v in params.items()}


def _run(tx: ManagedTransaction, cypher: str, params: dict[str, Any]) -> None:
    tx.run(cypher, _quiet(params)).consume()


def _run_creating(tx: ManagedTransaction, cypher: str, params: dict[str, Any]) -> None:
    created = tx.run(cypher, _quiet(params)).consume().counters.relationships_created
    if created != len(params["rows"]):
        raise IncompleteWrite(
            f"a batch of {len(params['rows'])} rows created {created} relationships: some "
            "rows name a node that does not exist; the batch was rolled back"
        )


def _run_all(tx: ManagedTransaction, unit: list[Statement]) -> None:
    for cypher, params, expected in unit:
        created = tx.run(cypher, _quiet(params)).consume().counters.relationships_created
        if expected is not None and created != expected:
            raise IncompleteWrite(
                f"a write expected to create {expected} relationships created {created}: some "
                "rows name a node that does not exist; the transaction was rolled back"
            )
