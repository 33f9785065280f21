"""The CLI's error boundary: what an error means for the user, in one line, or None for a bug.

:class:`~critmin.errors.CritminError` says it already. The Neo4j driver's, the operating
system's and the decoders' errors are explained here when their cause is one a user can act on
(a database that does not exist, a server that went away, a full disk, a read-only folder);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import logging
import sys
import zlib

from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConfigurationError,
    DatabaseError,
    IncompleteCommit,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from critmin.errors import CritminError
from critmin.store.graph import RETRY_SECONDS

GONE = (
    "the connection to Neo4j was lost ({detail}): the server stopped or went away. Every "
    "batch is one transaction, so nothing half-written is kept; start the server again "
    "(`critmin neo4j start`, or yours) and re-run the same command: it completes the work"
)

_OS = {
    errno.ENOSPC: "the disk is full while writing {where}: free some space, then re-run",
    errno.EDQUOT: "the disk quota is exhausted while writing {where}: free some space",
    errno.EROFS: "{where} is on a read-only file system: choose a writable place",
    errno.EACCES: "permission denied on {where}: choose a folder you can write to (or fix "
    "its owner and mode)",
    errno.EPERM: "operation not permitted on {where}",
}

#: What to do once the database has stopped itself (its "panic"): the usual cause is a full disk.
RESTART = (
    "free space on the disk of the server's data folder (for the managed server: `critmin "
    "neo4j status` names it), restart the server (`critmin neo4j stop`, then `critmin neo4j "
    "start`), then re-run the same command: it completes the work"
)

# Neo4j status codes a user causes, and what to do about them.
_CODES = {
    "Neo.DatabaseError.Transaction.TransactionCommitFailed": (
        "Neo4j wrote a transaction to its log but could not apply it, most often because its "
        "disk is full, and the database stopped itself: the restart applies that last "
        "transaction from the log, and everything committed before it is kept. " + RESTART
    ),
    "Neo.ClientError.General.WriteOnReadOnlyAccessDatabase": (
        "the database is read-only ({detail}): Neo4j switches to read-only by itself when its "
        "disk runs low (or an administrator set it so); what was committed is kept. " + RESTART
    ),
    "Neo.DatabaseError.Transaction.TransactionStartFailed": (
        "the database has stopped after a critical error (most often its disk filled up) and "
        "accepts no query until it is restarted; nothing committed is lost. " + RESTART
    ),
    "Neo.ClientError.Database.DatabaseNotFound": (
        "the server has no such database ({detail}); Neo4j Community has one database, "
        "'neo4j': drop --database / NEO4J_DATABASE, or create the database on your server"
    ),
    "Neo.ClientError.Security.AuthenticationRateLimit": (
        "the server refuses logins for a few seconds after repeated wrong passwords: check "
        "NEO4J_PASSWORD (for the managed server, `critmin neo4j password` prints it), then "
        "try again"
    ),
    "Neo.ClientError.Security.Unauthorized": (
        "the server refused the credentials ({detail}): check NEO4J_USER and NEO4J_PASSWORD"
    ),
}


def explain(exc: BaseException) -> str | None:
    """One line that tells the user what happened and what to do, or None (a bug).

    Notes added to the exception on its way up (:meth:`BaseException.add_note`: what a load
    or a sweep had written when it stopped) follow the explanation.

    >>> interrupted = KeyboardInterrupt()
    >>> interrupted.add_note("nothing was written")
    >>> explain(interrupted)
    'interrupted (Ctrl-C); nothing was written'
    """
    line = _cause(exc)
    if line is None:
        return None
    notes = [" ".join(str(n).split()) for n in getattr(exc, "__notes__", ())]
    return "; ".join([line, *notes])


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C, or an error raised while Ctrl-C was being handled (a driver
    cut off in the middle of a reply)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    return False


def _cause(exc: BaseException) -> str | None:
    if interrupted(exc):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, CritminError):
        return str(exc)
    if isinstance(exc, ClientError | DatabaseError | TransientError):
        detail = exc.message or str(exc)
        if exc.code in _CODES:
            return _CODES[exc.code].format(detail=detail)
        if isinstance(exc, AuthError):
            return _CODES["Neo.ClientError.Security.Unauthorized"].format(detail=detail)
        if exc.code and exc.code.startswith("Neo.ClientError.Statement."):
            return f"the server refused the query: {detail}"
        if exc.code and exc.code.startswith("Neo.TransientError.General.Memory"):
            return f"the server ran out of transaction memory: {detail}"
        return None
    if isinstance(exc, IncompleteCommit):
        return (
            "the connection to Neo4j was lost while a transaction was committing: that one "
            "batch may or may not be stored. Re-running the same command completes the work "
            "either way"
        )
    if isinstance(exc, ServiceUnavailable | SessionExpired):
        return GONE.format(detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if isinstance(exc, ConfigurationError):
        return f"the Neo4j connection settings are not usable: {exc}"
    if isinstance(exc, UnicodeError):
        return f"a file is not in the text encoding critmin reads ({exc}); save it as UTF-8"
    if isinstance(exc, EOFError | zlib.error):
        return f"a compressed file ends early or is damaged ({exc}); download it again"
    if isinstance(exc, OSError) and exc.errno in _OS:
        where = exc.filename if exc.filename else "a file (no name given by the system)"
        return _OS[exc.errno].format(where=where)
    return None


class _RetryNotice(logging.Handler):
    """Turns the driver's retry warnings into one line on stderr, once per command."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.told = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.told or "will be retried" not in record.getMessage():
            return
        self.told = True
        print(
            "critmin: the server does not answer; the driver retries for up to "
            f"{RETRY_SECONDS:g} s...",
            file=sys.stderr,
        )


def quiet_driver() -> None:
    """Keep the driver's log lines off the terminal; say once that it is retrying."""
    logger = logging.getLogger("neo4j")
    if not any(isinstance(h, _RetryNotice) for h in logger.handlers):
        logger.addHandler(_RetryNotice())
    logger.propagate = False
