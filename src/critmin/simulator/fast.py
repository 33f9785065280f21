"""The fast engine: many runs on one network, compiled with numba, on the network's links.

A cascade never creates a link (an export cut shrinks one, an import increase grows one that
exists), so each run works on the flat list of the network's ``m`` links instead of an
``n x n`` matrix, and a round costs O(n + m). Runs are independent: chunks of them go to
worker threads that run with the GIL released. The rounds are those of
:mod:`critmin.simulator.reference`, whose comments carry the specification's step numbers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from critmin.simulator.network import FloatArray, TradeNetwork
from critmin.simulator.result import RunArrays
from critmin.simulator.scenario import Parameters, Plan

__all__ = ["Batch", "Links", "kernel_inputs", "run_batch"]

IndexArray = npt.NDArray[np.intp]
RoundArray = npt.NDArray[np.int32]

#: Runs per task of a worker thread: a task costs a few small allocations, and smaller tasks
#: balance the workers better when cascade lengths differ.
CHUNK_RUNS = 4


@dataclass(frozen=True)
class Links:
    """A network's positive flows as a link list, and the pairs transmitted loss can use.

    Loss travels forward along a link when its exporter cuts it and backward when its importer
    asks the exporter for more, so ``T`` lives on the ``K`` distinct (passer, receiver) pairs:
    ``forward_pair[e]`` is the pair of link ``e``, ``backward_pair[e]`` its reverse.
    """

    n: int
    exporter: IndexArray
    importer: IndexArray
    weight: FloatArray
    out_ptr: IndexArray
    forward_pair: IndexArray
    backward_pair: IndexArray
    pair_source: IndexArray
    pair_target: IndexArray

    @classmethod
    def of(cls, network: TradeNetwork) -> Links:
        """The links of ``network``, sorted by exporter (row-major order of ``W``)."""
        n = network.n
        exporter, importer = (np.ascontiguousarray(a) for a in np.nonzero(network.W))
        m = len(exporter)
        codes = np.concatenate([exporter * n + importer, importer * n + exporter])
        pairs, pair_of = np.unique(codes, return_inverse=True)
        return cls(
            n=n,
            exporter=exporter,
            importer=importer,
            weight=network.W[exporter, importer],
            out_ptr=_pointer(np.bincount(exporter, minlength=n)),
            forward_pair=pair_of[:m],
            backward_pair=pair_of[m:],
            pair_source=pairs // n,
            pair_target=pairs % n,
        )

    def numbers(self, exporter: IndexArray, importer: IndexArray) -> IndexArray:
        """Link numbers of ``exporter -> importer`` pairs; -1 where no flow exists."""
        codes = self.exporter * self.n + self.importer  # sorted: links are in row-major order
        wanted = exporter * self.n + importer
        if not len(codes):
            return np.full(len(wanted), -1, np.intp)
        at = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
        return np.where(codes[at] == wanted, at, -1)


@dataclass(frozen=True)
class Batch:
    """The outputs of a batch of runs, one row per run.

    ``forward[r, e]`` is the loss passed along link ``e`` (its exporter's cuts, and the shock),
    ``backward[r, e]`` the loss passed against it (its importer's requests for more exports);
    ``*_first`` hold the round each first was positive, -1 for never (likewise ``first_round``).
    ``stock_drawn[r, i]`` is what country ``i`` took from its stockpile in run ``r``, and
    ``unbalanced[r, i]`` what it settled beyond its consumption (``demand_cap="consumption"``).
    """

    demand_loss: FloatArray
    stock_drawn: FloatArray
    unbalanced: FloatArray
    gross_hit: FloatArray
    first_round: RoundArray
    forward: FloatArray
    backward: FloatArray
    forward_first: RoundArray
    backward_first: RoundArray
    rounds: RoundArray
    initial_shock: FloatArray

    @classmethod
    def empty(cls, runs: int, n: int, m: int) -> Batch:
        """Outputs for ``runs`` runs on ``n`` countries and ``m`` links, to be filled in."""
        return cls(
            demand_loss=np.empty((runs, n)),
            stock_drawn=np.empty((runs, n)),
            unbalanced=np.empty((runs, n)),
            gross_hit=np.empty((runs, n)),
            first_round=np.empty((runs, n), np.int32),
            forward=np.empty((runs, m)),
            backward=np.empty((runs, m)),
            forward_first=np.empty((runs, m), np.int32),
            backward_first=np.empty((runs, m), np.int32),
            rounds=np.empty(runs, np.int32),
            initial_shock=np.empty(runs),
        )

    def transmitted(self, links: Links, rows: slice = slice(None)) -> tuple[FloatArray, RoundArray]:
        """``T`` of runs ``rows`` on the pairs of ``links``: quantities and first rounds."""
        forward, backward = self.forward[rows], self.backward[rows]
        quantity = np.zeros((len(forward), len(links.pair_source)))
        # A link has one forward and one backward pair and no two links share either, so
        # fancy-indexed writes do not collide within a term.
        quantity[:, links.forward_pair] = forward
        quantity[:, links.backward_pair] += backward
        never = np.iinfo(np.int32).max
        first = np.full(quantity.shape, never, np.int32)
        forward_first, backward_first = self.forward_first[rows], self.backward_first[rows]
        first[:, links.forward_pair] = np.where(forward_first < 0, never, forward_first)
        first[:, links.backward_pair] = np.minimum(
            first[:, links.backward_pair], np.where(backward_first < 0, never, backward_first)
        )
        return quantity, np.where(first == never, -1, first).astype(np.int32)

    def run(self, r: int, links: Links) -> RunArrays:
        """Run ``r`` in the shape the reference engine returns (without final flows)."""
        quantity, first = self.transmitted(links, slice(r, r + 1))
        (pairs,) = np.nonzero(quantity[0])
        return RunArrays(
            demand_loss=self.demand_loss[r],
            stock_drawn=self.stock_drawn[r],
            unbalanced=self.unbalanced[r],
            gross_hit=self.gross_hit[r],
            first_round=self.first_round[r].astype(np.int64),
            rounds=int(self.rounds[r]),
            initial_shock=float(self.initial_shock[r]),
            edge_source=links.pair_source[pairs],
            edge_target=links.pair_target[pairs],
            edge_quantity=quantity[0, pairs],
            edge_first_round=first[0, pairs].astype(np.int64),
        )


def run_batch(
    network: TradeNetwork,
    links: Links,
    plans: Sequence[Plan],
    params: Parameters,
    on_chunk: Callable[[int], None] | None = None,
    max_threads: int | None = None,
) -> Batch:
    """Run every plan on ``network``, worker threads side by side.

    Parameters
    ----------
    network : TradeNetwork
        The network all runs start from.
    links : Links
        ``Links.of(network)``, passed in so callers build it once per network.
    plans : sequence of Plan
        One per run.
    params : Parameters
        Cascade parameters shared by the runs.
    on_chunk : callable, optional
        Called in the calling thread with the number of runs of each chunk as it finishes.
    max_threads : int, optional
        At most this many worker threads (default: one per core this process may use); a
        Dask task passes 1, its worker's own threads being the parallelism.

    Returns
    -------
    Batch
    """
    # Imported here: numba takes about a second to import, and TradeNetwork users need none.
    from critmin.simulator.kernel import cascade

    out = Batch.empty(len(plans), links.n, len(links.weight))
    inputs = kernel_inputs(network, links, plans)

    def chunk(runs: IndexArray) -> int:
        arguments = (
            runs,
            *inputs,
            params.alpha,
            params.absorb,
            params.supplier_cap == "supply",
            params.demand_cap == "consumption",
            params.eps_pass,
            params.tol,
            params.max_rounds,
            out.demand_loss,
            out.stock_drawn,
            out.unbalanced,
            out.gross_hit,
            out.first_round,
            out.forward,
            out.backward,
            out.forward_first,
            out.backward_first,
            out.rounds,
            out.initial_shock,
        )
        cascade(*arguments)
        return len(runs)

    report = on_chunk or (lambda finished: None)
    chunks = _chunks(len(plans))
    workers = min(max_threads or _workers(), len(chunks))
    if workers <= 1:  # one chunk or one core: no thread to start
        for runs in chunks:
            report(chunk(runs))
        return out
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for task in as_completed([pool.submit(chunk, runs) for runs in chunks]):
            report(task.result())  # result() re-raises a worker's exception
    return out


def kernel_inputs(network: TradeNetwork, links: Links, plans: Sequence[Plan]) -> tuple[Any, ...]:
    """The network's and the plans' arrays, in the order the compiled loop takes them (after
    ``runs``, before the parameters): the flat links, production and demand, then per run the
    sources, cut links and fractions, production seeds and stockpiles as ragged arrays."""
    sources = _ragged([p.sources for p in plans])
    cut_ptr, cut_exporter = _ragged([p.cut_exporter for p in plans])
    cut_link = links.numbers(cut_exporter, _joined([p.cut_importer for p in plans], np.intp))
    exists = cut_link >= 0  # a targeted importer need not buy from the source
    run_of_cut = np.repeat(np.arange(len(plans)), np.diff(cut_ptr))
    cuts = _pointer(np.bincount(run_of_cut[exists], minlength=len(plans))), cut_link[exists]
    cut_fraction = _joined([p.cut_fraction for p in plans])[exists]
    seeds = _ragged([p.seed_country for p in plans])
    seed_fraction = _joined([p.seed_fraction for p in plans])
    stocks = _ragged([p.stock_country for p in plans])
    stock_quantity = _joined([p.stock_quantity for p in plans])
    return (
        links.out_ptr,
        links.importer,
        links.weight,
        network.P,
        network.demand_array,
        *sources,
        *cuts,
        cut_fraction,
        *seeds,
        seed_fraction,
        *stocks,
        stock_quantity,
    )


def _pointer(counts: npt.ArrayLike) -> IndexArray:
    """Offsets of consecutive segments of ``counts`` items: segment ``i`` is ``ptr[i]:ptr[i+1]``."""
    pointer = np.zeros(len(np.asarray(counts)) + 1, np.intp)
    np.cumsum(counts, out=pointer[1:])
    return pointer


def _ragged(parts: Sequence[IndexArray]) -> tuple[IndexArray, IndexArray]:
    """Per-run index arrays as ``(pointer, values)``: run ``r`` owns ``values[ptr[r]:ptr[r+1]]``."""
    return _pointer([len(p) for p in parts]), _joined(parts, np.intp)


def _joined(parts: Sequence[npt.NDArray[Any]], dtype: type[Any] = np.float64) -> npt.NDArray[Any]:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)


def _chunks(runs: int) -> list[IndexArray]:
    """Small chunks of runs: idle workers take the next, so long cascades do not hold the rest."""
    return [np.arange(start, min(start + CHUNK_RUNS, runs)) for start in range(0, runs, CHUNK_RUNS)]


def _workers() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
