"""The chain queries and the critical-path query on a store of today's model, small and large.

Run: ``.venv/bin/python -m bench.bench_chain_queries [--scenarios 50000] [--small 5000]``
(``--quick``: a few hundred scenarios).

One throwaway Neo4j (heap 2 GB, page cache 3 GB) loads the bundled sample and stores the demo
chain's sweep (:func:`bench.bench_queries.store_demo_chain`: USGS mine production -> HS 282200,
every source of every stage, two alphas). The single-stage demo sweeps of
:mod:`bench.bench_queries` (every parameter set of it, written as ``critmin simulate`` writes
them) then grow the store, and at ``--small`` and at ``--scenarios`` stored scenarios the
library's ``chain_paths`` and ``chain_refiners`` (over random miners whose stop crosses a
stage) and ``critical_paths`` at 4 and 6 hops (over random scenarios and targets) are timed
warm, as :mod:`bench.bench_queries` times them (client wall time, every record fetched).

:mod:`bench.bench_queries` compares today's model with the first one side by side (two
servers, about 35 minutes); this one measures only today's model (about a quarter of that), to
show that the chain queries answer as fast at 50,000 stored scenarios as on a small store.
Results: ``bench/results/chain_queries.json``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_queries import (
    ROOT,
    Growth,
    ParameterSet,
    Runner,
    Server,
    WriteStats,
    benches,
    draw_samples,
    log,
    managed_server,
    measure_chain_queries,
    parameter_sets,
    percentiles,
    run_info,
    simulate,
    store_demo_chain,
    sweeps_of,
    unit_of,
    write_v2,
)
from bench.throwaway import machine
from critmin.pipeline import load_demo
from critmin.store.graph import GraphStore

RESULTS = Path(__file__).parent / "results" / "chain_queries.json"


def grow_v2(
    server: Server,
    growth: Growth,
    until: int,
    sweeps: list[tuple[str, list[int] | None]],
    units: dict[str, str],
    pending: list[ParameterSet],
) -> None:
    """Write parameter sets of the demo sweeps until the store holds ``until`` scenarios."""
    while growth.scenarios < until:
        if not pending:
            raise SystemExit(f"out of parameter sets at {growth.scenarios} scenarios")
        pset = pending.pop(0)
        stats = WriteStats()
        for outcome in simulate(server.store, pset, sweeps, units):
            stats.add(write_v2(server.store, outcome, run_info(outcome, f"bench {pset.label}")))
            growth.scenarios += len(outcome.result.runs)
        growth.writes["v2"].add(stats)
        log(f"{pset.label}: total {growth.scenarios} scenarios, write {stats.seconds:.1f} s")


def critical_paths(
    store: GraphStore, rng: np.random.Generator, repeats: int, warmup: int
) -> dict[str, Any]:
    """Warm latency of the library's critical_paths at 4 and 6 hops over random scenarios."""
    out: dict[str, Any] = {}
    samples = draw_samples(store, rng, repeats + warmup)
    for bench in benches():
        if not bench.name.startswith("critical_paths"):
            continue
        run = Runner(bench, {"v2": store}, 60.0, 3)
        times = [run("v2", s) for s in samples]
        timed = times[warmup:]
        out[bench.name] = {
            "wall_ms": percentiles([t.wall_ms for t in timed]),
            "rows_mean": round(float(np.mean([t.rows for t in timed])), 1),
            "timeouts": sum(t.timed_out for t in timed),
        }
        log(f"  {bench.name:20s} p50 {out[bench.name]['wall_ms']['p50']:7.1f} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=50_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--quick", action="store_true", help="2024 sweeps, 200 then 1,200")
    args = parser.parse_args()
    if args.quick:
        args.scenarios, args.small, args.repeats = 1_200, 200, 5
    rng = np.random.default_rng(args.seed)
    sweeps = sweeps_of(args.quick)
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "parameters": vars(args) | {"heap": "2g", "pagecache": "3g"},
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="critmin-bench-chain-") as tmp:
        with managed_server("v2", Path(tmp), "2g", "3g") as server:
            load_demo(server.store, ROOT / "data")
            figures["chain_scenarios"] = store_demo_chain(server.store)
            units = {c: unit_of(server.store, c, y) for c, y in sweeps}
            growth, pending = Growth(), parameter_sets()
            growth.scenarios = figures["chain_scenarios"]
            for label, until in (("small", args.small), ("large", args.scenarios)):
                grow_v2(server, growth, until, sweeps, units, pending)
                log(f"{label}: {growth.scenarios} scenarios stored; timing")
                figures["sizes"][label] = {
                    "scenarios": growth.scenarios,
                    "chain_queries": measure_chain_queries(
                        server.store, rng, args.repeats, args.warmup, 60.0
                    ),
                    "critical_paths": critical_paths(server.store, rng, args.repeats, args.warmup),
                }
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    figures["wall_s"] = round(time.perf_counter() - started, 1)
    output = RESULTS.with_name("chain_queries_quick.json") if args.quick else RESULTS
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n")
    log(f"wrote {output}")


if __name__ == "__main__":
    main()
