"""Named leases in the graph, so that two processes never run the same job over each other.

A load plans against what the graph holds and then writes in several transactions; two loads
of the same flows at once would both plan "new" and both create. So a load holds the lease
``load`` from planning to its last batch, and a second load waits for it.

A lease is one ``(:CritminLock {name})`` node under a uniqueness constraint: creating it is
atomic (the second creator blocks on the constraint, then fails), deleting it frees it. The
holder renews it every few seconds from a background thread; a lease not renewed for
``stale_after`` seconds belongs to a process that died (killed, machine lost) and is taken
over, so a crash never blocks later jobs for more than that. Times are the server's clock.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neo4j.exceptions import ConstraintError

from critmin.errors import CritminError
from critmin.store.graph import GraphStore

TAKE = """
CREATE (:CritminLock {name: $name, owner: $owner, holder: $holder,
                      taken_at: timestamp(), renewed_at: timestamp()})
"""

HOLDER = """
MATCH (l:CritminLock {name: $name})
RETURN l.owner AS owner, l.holder AS holder, timestamp() - l.renewed_at AS idle_ms
"""

TAKE_OVER = """
MATCH (l:CritminLock {name: $name, owner: $owner})
WHERE timestamp() - l.renewed_at > $stale_ms
DELETE l
"""

RENEW = """
MATCH (l:CritminLock {name: $name, owner: $owner})
SET l.renewed_at = timestamp()
"""

RELEASE = "MATCH (l:CritminLock {name: $name, owner: $owner}) DELETE l"

# Leases whose holders are gone (not renewed for $stale_ms): the next process that takes a
# lease deletes them, so a killed job leaves its lock node behind only until then.
CLEAN_STALE = """
MATCH (l:CritminLock) WHERE timestamp() - l.renewed_at > $stale_ms
DELETE l
"""

LEASES = """
MATCH (l:CritminLock) WHERE l.name IN $names
RETURN l.name AS name, timestamp() - l.renewed_at AS idle_ms
"""

#: A lease not renewed for this long (seconds) is taken over: its holder is gone.
STALE_AFTER = 60.0


class LockTimeout(CritminError, TimeoutError):
    """Another process held the lease for longer than the caller would wait."""


def holder_label(command: str) -> str:
    """Who holds a lease, as a waiting user reads it: command, host and process id."""
    return f"{command} (pid {os.getpid()} on {socket.gethostname()})"


@contextmanager
def exclusive(
    store: GraphStore,
    name: str,
    holder: str,
    *,
    stale_after: float = STALE_AFTER,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    poll: float = 0.25,
) -> Iterator[None]:
    """Hold the lease ``name`` for the ``with`` block; wait while another process holds it.

    Parameters
    ----------
    holder : str
        Who takes it, shown to a process that waits (see :func:`holder_label`).
    stale_after : float
        Seconds without renewal after which another holder is presumed dead.
    timeout : float, optional
        Give up with :class:`LockTimeout` after waiting this long (default: wait).
    on_wait : callable, optional
        Called once with the current holder's label when the lease is busy.

    The schema (its uniqueness constraint) must exist: see
    :func:`~critmin.store.schema.ensure_schema`.
    """
    owner = uuid.uuid4().hex
    _acquire(store, name, owner, holder, stale_after, timeout, on_wait, poll)
    stop = threading.Event()
    keeper = threading.Thread(
        target=_renew,
        args=(store, name, owner, stale_after / 6, stop),
        name=f"critmin-lease-{name}",
        daemon=True,
    )
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()
        try:
            store.execute(RELEASE, name=name, owner=owner)
        except Exception:  # the server went away: the lease goes stale instead
            pass


def live_leases(
    store: GraphStore, names: Sequence[str], stale_after: float = STALE_AFTER
) -> set[str]:
    """Which of the leases ``names`` are held by a live process (renewed within
    ``stale_after`` seconds)."""
    return {
        str(row["name"])
        for row in store.records(LEASES, names=list(names))
        if row["idle_ms"] <= stale_after * 1000
    }


def _acquire(
    store: GraphStore,
    name: str,
    owner: str,
    holder: str,
    stale_after: float,
    timeout: float | None,
    on_wait: Callable[[str], None] | None,
    poll: float,
) -> None:
    started = time.monotonic()
    told = False
    # Another holder may renew on a longer period than ours: never clean sooner than the default.
    store.execute(CLEAN_STALE, stale_ms=max(stale_after, STALE_AFTER) * 1000)
    while True:
        try:
            store.execute(TAKE, name=name, owner=owner, holder=holder)
            return
        except ConstraintError:
            pass
        current = store.records(HOLDER, name=name)
        if not current:
            continue  # released between our attempt and the read: try again at once
        info: dict[str, Any] = current[0]
        if info["idle_ms"] > stale_after * 1000:
            store.execute(TAKE_OVER, name=name, owner=info["owner"], stale_ms=stale_after * 1000)
            continue
        if on_wait is not None and not told:
            on_wait(str(info["holder"]))
            told = True
        if timeout is not None and time.monotonic() - started > timeout:
            raise LockTimeout(
                f"the {name} lease is held by {info['holder']}; gave up after {timeout:g} s"
            )
        time.sleep(poll)


def _renew(store: GraphStore, name: str, owner: str, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            store.execute(RENEW, name=name, owner=owner)
        except Exception:  # a lost server fails the job itself, loudly
            return
