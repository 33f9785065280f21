"""Pair-coalition sweeps, local against a Dask LocalCluster on the same cores, side by side.

Run: ``.venv/bin/python -m bench.bench_coalitions [--repeats 3] [--no-synthetic]``

Two workloads, each every pair of exporters acting together plus every member alone, at shocks
of 1.0 and 0.5 (:func:`critmin.simulator.coalitions.coalition_sweep`):

* ``cobalt_2024``: the HS 282200 (cobalt oxides and hydroxides, the demo's ``cobalt_oxides``)
  network of 2024 from the bundled sample, built without Neo4j by the same code that reads it
  from the graph (:func:`critmin.store.networks.read_panel` on a store that answers its two
  queries from ``data/``): 114 countries, 603 links, 59 exporters, so 1,711 pairs;
* ``issue_size``: the issue's 107 exporters (5,671 pairs, 11,342 pair runs), which the bundled
  sample does not have: a synthetic network of ``bench_engine`` (155 countries, 1,500 links,
  seeded) whose 107 largest exporters are paired (``top=107``). Its cascades are longer than the
  real network's (see ``rounds`` in the output).

Each workload runs locally once and on a freshly started 2-worker ``LocalCluster`` once (both
warm-ups: numba's cache, the workers' imports; the cluster's start-up and first sweep are timed
on their own), then ``--repeats`` times local and Dask back to back, the order alternating, so
that other work on the machine weighs on both alike. Every Dask result is checked equal to the
local one. Wall time, this process's CPU time and the Dask workers' CPU time are recorded with the
1-minute load average; the figures go to ``bench/results/coalitions.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from bench.bench_engine import machine, synthetic_panel
from critmin.loader import read_production, read_trades
from critmin.loader.commodities import load_groups
from critmin.pipeline import DEMO_TRADE_FILES, networks
from critmin.simulator import SweepResult, TradeNetwork
from critmin.simulator.coalitions import coalition_sweep, coalition_table
from critmin.simulator.executors import dask_chunk_runs, loopback_cluster
from critmin.store import networks as graph_networks

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "coalitions.json"
FRACTIONS = (1.0, 0.5)


class DataStore:
    """Answers the two queries of :func:`read_panel` from the bundled files, as Neo4j would
    after ``critmin demo`` loaded them (:func:`critmin.pipeline.load_demo`)."""

    def __init__(self, data: Path) -> None:
        self.flows = read_trades([data / name for name in DEMO_TRADE_FILES]).flows
        files = sorted((data / "production").glob("*.csv"))
        self.production = read_production(files).production

    def query(self, cypher: str, **parameters: Any) -> pd.DataFrame:
        if cypher == graph_networks.GROUP_FLOWS:
            flows = self.flows
            hs = flows["hs"].map(lambda code: code.startswith(tuple(parameters["prefixes"])))
            keep = flows["year"].isin(parameters["years"]) & hs
            columns = ["year", "exporter", "importer", "hs", "tonnes", "value_usd"]
            return flows.loc[keep, columns].reset_index(drop=True)
        if cypher == graph_networks.GROUP_PRODUCTION:
            rows = self.production
            keep = (
                (rows["commodity"] == parameters["commodity"])
                & rows["year"].isin(parameters["years"])
                & rows["tonnes"].notna()
            )
            frame = rows.loc[keep, ["year", "country", "tonnes"]]
            return frame.rename(columns={"tonnes": "quantity"}).reset_index(drop=True)
        raise NotImplementedError(cypher)


def cobalt_network(year: int = 2024, group: str = "cobalt_oxides") -> tuple[TradeNetwork, str]:
    panel = graph_networks.read_panel(DataStore(ROOT / "data"), load_groups()[group], [year])
    return networks(panel)[year], panel.unit


def describe(network: TradeNetwork, top: int | None) -> dict[str, Any]:
    exporters = int((network.W.sum(axis=1) > 0).sum())
    members = min(exporters, top) if top else exporters
    return {
        "countries": network.n,
        "links": int((network.W > 0).sum()),
        "exporters": exporters,
        "members": members,
        "pairs": members * (members - 1) // 2,
    }


def timed(call: Callable[[], SweepResult], workers: list[Any]) -> tuple[SweepResult, dict]:
    """``call()`` with its wall time, this process's CPU time and the workers' CPU time."""
    load = os.getloadavg()[0]
    before = sum(sum(w.cpu_times()[:2]) for w in workers)
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    figures = {
        "wall_s": time.perf_counter() - wall,
        "client_cpu_s": time.process_time() - cpu,
        "load_1min_before": load,
    }
    if workers:
        figures["workers_cpu_s"] = sum(sum(w.cpu_times()[:2]) for w in workers) - before
    return result, figures


def assert_same(local: SweepResult, other: SweepResult) -> None:
    for name in ("runs", "impacts", "transmitted"):
        pd.testing.assert_frame_equal(getattr(local, name), getattr(other, name), check_exact=True)


def workload(name: str, network: TradeNetwork, top: int | None, repeats: int) -> dict[str, Any]:
    import psutil
    from distributed import Client

    nets = {2024: network}
    print(f"\n{name}: {json.dumps(describe(network, top))}")
    local_sweep = lambda: coalition_sweep(nets, k=2, top=top, fractions=FRACTIONS)  # noqa: E731
    local, warm_local = timed(local_sweep, [])
    runs = len(local.runs)
    pair_runs = int(local.runs["sources"].str.contains(";").sum())
    rounds = local.runs["rounds"]
    started = time.perf_counter()
    table = coalition_table(local)
    table_s = time.perf_counter() - started
    figures: dict[str, Any] = {
        "network": describe(network, top),
        "runs": runs,
        "pair_runs": pair_runs,
        "single_runs": runs - pair_runs,
        "rounds": {
            "mean": float(rounds.mean()),
            "median": float(rounds.median()),
            "max": int(rounds.max()),
        },
        "table_rows": {"impacts": len(local.impacts), "transmitted": len(local.transmitted)},
        "coalition_table_s": table_s,
        "newly_failed_pairs": int((table["newly_failed"] > 0).sum()),
        "local_warmup": warm_local,
    }
    print(f"  {runs} runs ({pair_runs} pairs x shocks), mean {rounds.mean():.0f} rounds")
    started = time.perf_counter()
    with loopback_cluster(workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        figures["dask_cluster_start_s"] = time.perf_counter() - started
        address = cluster.scheduler_address
        workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
        dask_sweep = lambda: coalition_sweep(  # noqa: E731
            nets, k=2, top=top, fractions=FRACTIONS, executor="dask", scheduler=address
        )
        first, figures["dask_first_sweep"] = timed(dask_sweep, workers)
        assert_same(local, first)
        figures["dask_chunk_runs"] = dask_chunk_runs(runs, 2)
        pairs = []
        for repeat in range(repeats):
            order = ["local", "dask"] if repeat % 2 == 0 else ["dask", "local"]
            measured = {}
            for which in order:
                call, watched = (local_sweep, []) if which == "local" else (dask_sweep, workers)
                result, measured[which] = timed(call, watched)
                assert_same(local, result)
            measured["order"] = order
            measured["dask_over_local"] = measured["dask"]["wall_s"] / measured["local"]["wall_s"]
            pairs.append(measured)
            local_s, dask_s = measured["local"]["wall_s"], measured["dask"]["wall_s"]
            print(
                f"  repeat {repeat + 1} ({' then '.join(order)}): local {local_s:.2f} s, "
                f"dask {dask_s:.2f} s (x{dask_s / local_s:.2f}); load {os.getloadavg()[0]:.2f}"
            )
    figures["repeats"] = pairs
    local_walls = [p["local"]["wall_s"] for p in pairs]
    dask_walls = [p["dask"]["wall_s"] for p in pairs]
    ratios = [p["dask_over_local"] for p in pairs]
    best_local, best_dask = min(local_walls), min(dask_walls)
    figures["summary"] = {
        "local_wall_s_median": statistics.median(local_walls),
        "local_wall_s_best": best_local,
        "dask_wall_s_median": statistics.median(dask_walls),
        "dask_wall_s_best": best_dask,
        "dask_overhead_median": statistics.median(ratios) - 1,
        "dask_overhead_best_vs_best": best_dask / best_local - 1,
        "local_runs_per_s": runs / best_local,
        "local_runs_per_s_per_core": runs / best_local / 2,
        "dask_runs_per_s_per_core": runs / best_dask / 2,
        "local_s_per_11342_runs": 11_342 / (runs / best_local),
        "dask_cold_s": figures["dask_cluster_start_s"] + figures["dask_first_sweep"]["wall_s"],
    }
    print("  " + json.dumps({k: round(v, 3) for k, v in figures["summary"].items()}))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="local/Dask pairs per workload")
    parser.add_argument("--no-synthetic", action="store_true", help="skip the issue-size one")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    cobalt, unit = cobalt_network()
    figures: dict[str, Any] = {
        "machine": machine(),
        "parameters": {
            "fractions": FRACTIONS,
            "k": 2,
            "repeats": args.repeats,
            "cascade": "defaults (alpha=0.8, fail_abs=1e-3 t, fail_rel=0, mode=export)",
            "keep_share": 1e-3,
            "dask": "LocalCluster, 2 worker processes x 1 thread, 127.0.0.1, no dashboard",
            "cobalt_2024": f"cobalt_oxides (HS 282200) 2024 from data/, unit {unit}",
            "issue_size": "bench_engine.synthetic_panel(seed=2025, countries=155, links=1500, "
            "years=1, producers=20, exporter_share=0.69), top=107",
        },
    }
    print("machine:", json.dumps(figures["machine"]))
    figures["cobalt_2024"] = workload("cobalt_2024", cobalt, None, args.repeats)
    if not args.no_synthetic:
        synthetic = synthetic_panel(2025, 155, 1500, 1, 20, 0.69)[2000]
        figures["issue_size"] = workload("issue_size", synthetic, 107, args.repeats)
    figures["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {args.out.name}")


if __name__ == "__main__":
    main()
