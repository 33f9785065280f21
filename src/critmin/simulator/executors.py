"""Where a sweep's runs go: this process (``"local"``) or a Dask cluster (``"dask"``).

A sweep is a list of :class:`Job` s, one per network (year): the groups of countries shocked
together, each at one fraction, and the embargo's targets. A work function (``job_tables`` of
:mod:`critmin.simulator.sweep`) turns a job into the sweep's three tables. Both executors call
that same function, so they give the same tables:

* ``local`` runs each job whole in this process, the fast engine's threads side by side (the
  default, and the path every sweep took before executors existed);
* ``dask`` sends each network to the workers once (``scatter``, to every worker, so losing one
  worker loses no network), cuts each job into chunks of runs, keeps a few chunks per worker
  in flight and collects the chunks' tables as they finish. A chunk is a pure function of its
  inputs: when a worker dies, the scheduler runs its chunks again elsewhere, and each chunk's
  tables are kept once, by chunk number, so no run is lost or counted twice.

Without a scheduler address, ``dask`` starts a ``LocalCluster`` on this machine, one
single-threaded worker process per core, every server bound to 127.0.0.1 and the dashboard off
(:func:`loopback_cluster`).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from critmin.errors import CritminError
from critmin.simulator.network import TradeNetwork
from critmin.simulator.scenario import Parameters

__all__ = [
    "DASK_CHUNK_RUNS",
    "EXECUTORS",
    "Job",
    "Tables",
    "dask_chunk_runs",
    "joined",
    "loopback_cluster",
    "run_jobs",
]

EXECUTORS = ("local", "dask")

#: Most runs in one Dask task: large enough that a task's fixed cost (scheduling, sending its
#: tables back) stays small next to its runs, small enough for memory and for balance.
DASK_CHUNK_RUNS = 256
#: Chunks in flight per worker thread: enough that a worker never waits for the next one.
IN_FLIGHT_PER_THREAD = 4

Tables = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
Group = tuple[tuple[str, ...], float]
Advance = Callable[[int], None]


@dataclass(frozen=True)
class Job:
    """One network's share of a sweep.

    Attributes
    ----------
    year : hashable
        The network's key in the sweep (``None`` for a single network).
    network : TradeNetwork
        The network every run starts from.
    groups : sequence of (tuple of str, float)
        One run per entry: the countries shocked together and the shock fraction.
    targets : tuple of str or None
        The importers the sources cut (a targeted embargo), present in ``network``; None for
        every importer.
    """

    year: Hashable
    network: TradeNetwork
    groups: Sequence[Group]
    targets: tuple[str, ...] | None


class Work(Protocol):
    """Run a job's groups and return its three tables (``runs, impacts, transmitted``)."""

    def __call__(
        self,
        job: Job,
        params: Parameters,
        keep_share: float,
        on_chunk: Advance | None = None,
        max_threads: int | None = None,
    ) -> Tables: ...


def run_jobs(
    jobs: Sequence[Job],
    work: Work,
    params: Parameters,
    keep_share: float,
    advance: Advance,
    executor: str = "local",
    scheduler: Any = None,
) -> list[Tables]:
    """Each job's tables, in job order, computed by ``executor``.

    Parameters
    ----------
    jobs : sequence of Job
        The sweep's work, one job per network.
    work : callable
        ``work(job, params, keep_share, on_chunk, max_threads)``: a module-level function (Dask
        sends it to the workers by reference).
    params, keep_share
        Passed to ``work``.
    advance : callable
        ``advance(n_runs)``, called in this thread as runs finish.
    executor : {"local", "dask"}
        See the module's documentation.
    scheduler : str or distributed.Client, optional
        ``dask`` only: a scheduler address (``tcp://host:8786``) or a connected client; by
        default a :func:`loopback_cluster` for this call.

    Raises
    ------
    ValueError
        On an unknown executor, or a scheduler given to the local executor.
    ImportError
        ``dask`` without the ``distributed`` package (the ``dask`` extra).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if executor == "local":
        if scheduler is not None:
            raise ValueError("a scheduler applies to executor='dask' only")
        return [work(job, params, keep_share, advance) for job in jobs]
    with dask_client(scheduler) as client:
        return _run_dask(client, jobs, work, params, keep_share, advance)


def dask_chunk_runs(runs: int, threads: int) -> int:
    """Runs per Dask task: at most :data:`DASK_CHUNK_RUNS`, and small sweeps still give every
    worker thread a few tasks.

    >>> dask_chunk_runs(11_342, 2), dask_chunk_runs(200, 2), dask_chunk_runs(3, 8)
    (256, 25, 1)
    """
    return max(1, min(DASK_CHUNK_RUNS, math.ceil(runs / (IN_FLIGHT_PER_THREAD * max(threads, 1)))))


def loopback_cluster(workers: int | None = None, threads_per_worker: int = 1) -> Any:
    """A Dask ``LocalCluster`` reachable from this machine only.

    ``workers`` processes (default: one per core this process may use) of
    ``threads_per_worker`` threads; the scheduler, the nannies and the workers listen on
    127.0.0.1, and no dashboard is served. Close it (or use it as a context manager).
    """
    from distributed import LocalCluster

    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
        worker_dashboard_address=None,
        # The scheduler serves health and metrics over HTTP even without a dashboard: on
        # 127.0.0.1 too, on a free port rather than 8787 (taken by any other cluster).
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )


#: How long a scheduler address may take to answer the handshake (Dask's default is 30 s).
SCHEDULER_CONNECT_SECONDS = 5.0


class SchedulerUnreachable(CritminError, ConnectionError):
    """The Dask scheduler address does not answer, or what answers is not a Dask scheduler."""


def _connect(client_type: Any, address: str) -> Any:
    """A client of the scheduler at ``address``, or :class:`SchedulerUnreachable` quickly."""
    try:
        return client_type(address, timeout=SCHEDULER_CONNECT_SECONDS)
    # Whatever the handshake meets fails here: a closed port times out (OSError), another
    # protocol's bytes read as a Dask frame give anything from ValueError to MemoryError.
    except Exception as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {address} within {SCHEDULER_CONNECT_SECONDS:g} s "
            f"({type(exc).__name__}: {reason}): start one (`dask scheduler`) and pass its "
            "tcp://host:8786 address, or leave --scheduler out to run a local cluster"
        ) from exc


@contextmanager
def dask_client(scheduler: Any = None) -> Iterator[Any]:
    """A client for ``scheduler``: an address, a client (left open) or None (a loopback cluster
    started here and closed on exit)."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the dask extra is part of dev
        raise ImportError(
            "executor='dask' needs Dask distributed: pip install 'critmin[dask]'"
        ) from exc
    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler  # a connected client: the caller owns it
        return
    if scheduler is not None:
        with _connect(Client, scheduler) as client:
            yield client
        return
    with loopback_cluster() as cluster, Client(cluster) as client:
        yield client


def _run_chunk(
    work: Work,
    year: Hashable,
    network: TradeNetwork,
    groups: Sequence[Group],
    targets: tuple[str, ...] | None,
    params: Parameters,
    keep_share: float,
) -> Tables:
    """One Dask task: a chunk of a job's runs, on one thread (the worker's threads are the
    parallelism)."""
    return work(Job(year, network, groups, targets), params, keep_share, None, 1)


def _run_dask(
    client: Any,
    jobs: Sequence[Job],
    work: Work,
    params: Parameters,
    keep_share: float,
    advance: Advance,
) -> list[Tables]:
    from distributed import as_completed

    threads = max(1, sum(client.nthreads().values()))
    size = dask_chunk_runs(sum(len(job.groups) for job in jobs), threads)
    expected = [math.ceil(len(job.groups) / size) for job in jobs]

    def chunks() -> Iterator[tuple[int, int, Any, Sequence[Group]]]:
        for j, job in enumerate(jobs):
            # Once per network, to every worker: a chunk can run anywhere, even after a worker
            # holding a copy died.
            network = client.scatter(job.network, broadcast=True, hash=False)
            for c in range(expected[j]):
                yield j, c, network, job.groups[c * size : (c + 1) * size]

    where: dict[str, tuple[int, int, int]] = {}

    def submit(chunk: tuple[int, int, Any, Sequence[Group]]) -> Any:
        j, c, network, groups = chunk
        job = jobs[j]
        future = client.submit(
            _run_chunk, work, job.year, network, groups, job.targets, params, keep_share,
            pure=False,
        )  # fmt: skip
        where[future.key] = (j, c, len(groups))
        return future

    pending = chunks()
    window = IN_FLIGHT_PER_THREAD * threads
    flow = as_completed(
        [submit(chunk) for chunk in itertools.islice(pending, window)], with_results=True
    )
    parts: list[dict[int, Tables]] = [{} for _ in jobs]
    for future, tables in flow:
        j, c, n = where[future.key]
        if c not in parts[j]:  # a chunk's tables are kept once, whatever the scheduler did
            parts[j][c] = tables
            advance(n)
        following = next(pending, None)
        if following is not None:
            flow.add(submit(following))
    missing = [(j, c) for j, n in enumerate(expected) for c in range(n) if c not in parts[j]]
    if missing:  # as_completed yields every future; this would be a bug, not bad luck
        raise RuntimeError(f"Dask sweep lost chunks {missing}")
    return [joined([parts[j][c] for c in range(n)]) for j, n in enumerate(expected)]


def joined(chunks: Sequence[Tables]) -> Tables:
    """The chunks' tables end to end, as one job's would be.

    Empty chunk tables are left out: pandas types an empty column of names as ``object``, a
    filled one as ``str``, and a concatenation with an empty part would turn ``str`` into
    ``object``.
    """
    joined = []
    for parts in zip(*chunks, strict=True):
        filled = [part for part in parts if len(part)] or [parts[0]]
        joined.append(filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True))
    runs, impacts, transmitted = joined
    return runs, impacts, transmitted
