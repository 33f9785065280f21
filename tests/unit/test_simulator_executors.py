"""Executors: the Dask path gives the local result exactly, and survives a worker's death."""

from __future__ import annotations

import ipaddress
import itertools
import os
import signal
import string
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from critmin.simulator import SweepResult, TradeNetwork, sweep
from critmin.simulator.coalitions import coalition_sweep, coalition_table
from critmin.simulator.executors import Job, dask_chunk_runs, joined, loopback_cluster
from critmin.simulator.scenario import Parameters
from critmin.simulator.sweep import chain_sweep, job_tables

distributed = pytest.importorskip("distributed")


def random_panel(seed: int, countries: int, links: int, years: int) -> dict[int, TradeNetwork]:
    """Seeded networks with heavy-tailed flows, every country trading, a few producing."""
    rng = np.random.default_rng(seed)
    letters = itertools.product(string.ascii_uppercase, repeat=3)
    codes = ["".join(c) for c in itertools.islice(letters, countries)]
    panel = {}
    for year in range(2020, 2020 + years):
        pairs = rng.choice(countries * countries, links, replace=False)
        i, j = np.divmod(pairs, countries)
        keep = i != j
        flows = pd.DataFrame(
            {
                "exporter": np.array(codes)[i[keep]],
                "importer": np.array(codes)[j[keep]],
                "quantity": rng.lognormal(3.0, 1.5, int(keep.sum())),
            }
        )
        producers = rng.choice(countries, 4, replace=False)
        production = pd.DataFrame(
            {"country": np.array(codes)[producers], "quantity": rng.lognormal(5.0, 1.0, 4)}
        )
        panel[year] = TradeNetwork.from_frames(flows, production, countries=codes)
    return panel


def assert_same(local: SweepResult, other: SweepResult) -> None:
    for name in ("runs", "impacts", "transmitted"):
        pd.testing.assert_frame_equal(
            getattr(local, name), getattr(other, name), check_exact=True, obj=name
        )
    assert (local.years, local.panel) == (other.years, other.panel)


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """Two single-threaded worker processes on 127.0.0.1, no dashboard."""
    with loopback_cluster(workers=2) as started:
        yield started


@pytest.fixture(scope="module")
def panel() -> dict[int, TradeNetwork]:
    return random_panel(seed=11, countries=30, links=160, years=2)


def test_executor_choice_is_checked(panel: dict[int, TradeNetwork]) -> None:
    with pytest.raises(ValueError, match="executor must be one of"):
        sweep(panel, executor="spark")
    with pytest.raises(ValueError, match="scheduler applies to executor='dask'"):
        sweep(panel, scheduler="tcp://127.0.0.1:8786")


def test_chunks_of_a_job_join_to_the_whole_job(panel: dict[int, TradeNetwork]) -> None:
    """What the Dask path relies on: a job cut in chunks gives the whole job's tables, even
    where some chunks keep no edge (pandas types an empty name column differently)."""
    network = panel[2020]
    sources = [c for c, e in zip(network.countries, network.W.sum(axis=1), strict=True) if e > 0]
    groups = [((s,), f) for f in (1.0, 0.5) for s in sources]
    params = Parameters().resolved("t")
    # keep_share = 1: only edges that carried more than the whole shock (loss that came back).
    whole = job_tables(Job(2020, network, groups, None), params, 1.0)
    assert 0 < whole[2]["sources"].nunique() < len(groups)
    pieces = [
        job_tables(Job(2020, network, groups[k : k + 1], None), params, 1.0, None, 1)
        for k in range(len(groups))
    ]
    assert any(len(p[2]) == 0 for p in pieces) and any(len(p[2]) > 0 for p in pieces)
    for part, expected in zip(joined(pieces), whole, strict=True):
        pd.testing.assert_frame_equal(part, expected, check_exact=True)


def test_dask_sweep_equals_local_sweep(cluster: object, panel: dict[int, TradeNetwork]) -> None:
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    assert address.startswith("tcp://127.0.0.1:")
    seen: list[tuple[int, int]] = []
    local = sweep(panel)
    remote = sweep(
        panel, executor="dask", scheduler=address, progress=lambda d, t: seen.append((d, t))
    )
    assert_same(local, remote)
    assert seen[-1] == (len(local.runs), len(local.runs))
    assert len(seen) > 2  # streamed chunk by chunk
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    # A coalition sweep with an embargo and other parameters, through a connected client.
    with distributed.Client(address) as client:
        options = {"k": 2, "top": 6, "targets": ["AAA", "AAB"], "alpha": 0.6}
        local = coalition_sweep(panel, **options)
        remote = coalition_sweep(panel, executor="dask", scheduler=client, **options)
        assert client.status == "running"  # a client given is left open
    assert_same(local, remote)
    pd.testing.assert_frame_equal(coalition_table(local), coalition_table(remote))


def test_dask_chain_sweep_equals_local_chain_sweep(cluster: object) -> None:
    """A three-stage chain of random networks (each stage producing), in chunks on Dask: the
    local tables row for row, every stage of every source stage."""
    stages = [random_panel(seed, countries=30, links=160, years=2) for seed in (3, 5, 7)]
    chains = {year: [stage[year] for stage in stages] for year in stages[0]}
    seen: list[tuple[int, int]] = []
    local = chain_sweep(chains, fractions=(1.0, 0.5), alpha=0.7)
    remote = chain_sweep(
        chains,
        fractions=(1.0, 0.5),
        alpha=0.7,
        executor="dask",
        scheduler=cluster.scheduler_address,  # type: ignore[attr-defined]
        progress=lambda d, t: seen.append((d, t)),
    )
    for name in ("runs", "impacts", "transmitted"):
        pd.testing.assert_frame_equal(
            getattr(local, name), getattr(remote, name), check_exact=True, obj=name
        )
    assert set(local.runs["stage"]) == {0, 1, 2} and (local.impacts["coupling_cut"] > 0).any()
    runs_at_source = (local.runs["stage"] == local.runs["source_stage"]).sum()
    assert len(seen) > 2 and seen[-1] == (runs_at_source, runs_at_source)  # chunk by chunk


def test_the_local_cluster_listens_on_loopback_only(cluster: object) -> None:
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    listening = [
        connection.laddr
        for process in [me, *me.children(recursive=True)]
        for connection in process.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    ]
    assert len(listening) >= 5  # scheduler, its HTTP endpoint, two nannies, two workers
    # Every listener of this process tree (the session's Neo4j is a child too, listening on
    # 127.0.0.1 through a dual-stack socket: '::ffff:127.0.0.1') is on the loopback.
    for address in listening:
        ip = ipaddress.ip_address(address.ip)
        ip = getattr(ip, "ipv4_mapped", None) or ip
        assert ip.is_loopback, address
    assert 8787 not in {address.port for address in listening}


def test_dask_errors_reach_the_caller(cluster: object) -> None:
    with pytest.raises(ValueError, match="none of the targets"):
        sweep(
            random_panel(seed=3, countries=8, links=20, years=1),
            targets=["ZZZ"],
            executor="dask",
            scheduler=cluster.scheduler_address,  # type: ignore[attr-defined]
        )


def test_a_worker_killed_mid_sweep_loses_and_duplicates_no_run(
    panel: dict[int, TradeNetwork],
) -> None:
    local = coalition_sweep(panel, k=2, top=12)
    runs = len(local.runs)
    assert dask_chunk_runs(runs, 2) * 4 < runs  # many chunks: some are left when one dies
    victims: list[tuple[int, list[str]]] = []
    with loopback_cluster(workers=2) as own, distributed.Client(own) as client:
        pids = client.run(os.getpid)

        def kill_one(done: int, total: int) -> None:
            if victims or done == total:
                return
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if not busy:
                return
            worker, keys = next(iter(busy.items()))
            victims.append((pids[worker], list(keys)))
            os.kill(pids[worker], signal.SIGKILL)

        remote = coalition_sweep(
            panel, k=2, top=12, executor="dask", scheduler=own.scheduler_address, progress=kill_one
        )
        assert victims, "no worker was busy when the first chunk came back"
        pid, lost = victims[0]
        assert lost  # the killed worker was running chunks, which ran again elsewhere
        with pytest.raises(ProcessLookupError):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the process may take a moment to be reaped
                os.kill(pid, 0)
                time.sleep(0.05)
    assert len(remote.runs) == runs
    assert not remote.runs.duplicated(["year", "sources", "fraction"]).any()
    assert_same(local, remote)
