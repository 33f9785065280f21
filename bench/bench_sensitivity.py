"""The sensitivity grid of the demo commodity, one process against a pool on the same cores.

Run: ``.venv/bin/python -m bench.bench_sensitivity [--repeats 3] [--workers 2]``

The workload is what ``critmin sensitivity --commodity cobalt_oxides`` runs on the bundled
sample (:func:`critmin.analysis.sensitivity.sensitivity` with its default grid): HS 282200,
every exporter of every year 2002-2024 as the single source, shocks of 1.0 and 0.5, at each of
2 model presets (paper, physical) x 5 alpha values (0.5-0.9) x 2 absorb values (0, 0.2) x 3
failure rules (any-loss, buffer-1pct, share-1pct) x 3 fail_abs scales (x0.1, x1, x10) x 3 data
variants (value; tonnes with the missing imputed;
tonnes with them dropped: the sample has tonnes for 2024 only, so the tonnes variants read
2002-2023 in USD). The networks are built without Neo4j by the code that reads them from the
graph (:func:`critmin.analysis.sensitivity.read_variants` on ``bench_coalitions.DataStore``,
which answers its queries from ``data/``), once.

After a small warm-up (imports, numba's cache), the grid runs ``--repeats`` times serially (one
process, one engine thread) and on a pool of ``--workers`` processes, back to back, the order
alternating so that other work on the machine weighs on both alike. A pool run includes starting
its workers and sending them the networks. Every pool result is checked equal to the serial one.
Wall time, this process's and the workers' CPU time and the 1-minute load average are recorded;
the figures go to ``bench/results/sensitivity.json``. A plain sweep of the default point (with
its tables, as ``critmin simulate --no-store`` runs it) is timed once for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bench.bench_coalitions import DataStore
from bench.bench_engine import machine
from critmin.analysis.sensitivity import (
    Grid,
    SensitivityResult,
    network_key,
    read_variants,
    sensitivity,
)
from critmin.loader.commodities import find_group
from critmin.simulator import sweep

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "sensitivity.json"
COMMODITY = "cobalt_oxides"
YEARS = list(range(2002, 2025))
FRACTIONS = (1.0, 0.5)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(variants: Any, grid: Grid, workers: int) -> tuple[SensitivityResult, dict[str, Any]]:
    load = os.getloadavg()[0]
    wall, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
    result = sensitivity(variants, grid, FRACTIONS, workers=workers)
    figures = {
        "workers": workers,
        "wall_s": time.perf_counter() - wall,
        "client_cpu_s": time.process_time() - cpu,
        "workers_cpu_s": children_cpu() - child,
        "load_1min_before": load,
        "load_1min_after": os.getloadavg()[0],
    }
    return result, figures


def summary(result: SensitivityResult, top: int = 10) -> dict[str, Any]:
    """What the README reports: the default's top sources with their bands, and tau."""
    bands = result.bands(top)
    agreement = result.agreement(top)
    others = agreement[~agreement["is_default"]]
    effects = result.effects(top)
    out: dict[str, Any] = {}
    for fraction in result.fractions:
        rows = bands[bands["fraction"] == fraction]
        taus = others[others["fraction"] == fraction]
        worst = taus.iloc[0]
        out[f"{fraction:g}"] = {
            "bands": rows.drop(columns="fraction").to_dict("records"),
            "kendall_tau_b": {
                "median": float(taus["kendall_tau_b"].median()),
                "min": float(worst["kendall_tau_b"]),
                "min_at": str(worst["label"]),
                "top_overlap_at_min": int(worst["top_overlap"]),
                "share_of_points_at_or_above_0.9": float((taus["kendall_tau_b"] >= 0.9).mean()),
            },
            "effects": effects[effects["fraction"] == fraction].drop(columns="fraction")
            .to_dict("records"),
        }  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    report: dict[str, Any] = {"machine": machine()}
    started = time.perf_counter()
    variants, notes = read_variants(DataStore(ROOT / "data"), find_group(COMMODITY), YEARS)
    read_s = time.perf_counter() - started
    grid = Grid()
    networks = [n for v in variants for n in v.networks.values()]
    report["parameters"] = {
        "commodity": f"{COMMODITY} (HS 282200) {YEARS[0]}-{YEARS[-1]} from data/",
        "grid": grid.describe(),
        "data": {v.name: v.unit_label() for v in variants},
        "data_notes": notes,
        "shocks": list(FRACTIONS),
        "other_parameters": "model defaults (eps_pass 1e-9, tol 1e-12, max_rounds 10,000, "
        "export mode); supplier_cap and demand_cap set by each point's preset",
        "serial": "workers=1: this process, one engine thread",
        "pool": f"workers={args.workers}: spawned processes, one engine thread each",
        "repeats": args.repeats,
    }
    report["read_variants_s"] = read_s
    report["networks"] = {
        "years": len(YEARS),
        "per_variant": len(variants[0].networks),
        "distinct": len({network_key(n) for n in networks}),
        "panel_countries": {v.name: len(v.panel) for v in variants},
    }

    print("warm-up", flush=True)  # imports and numba's cache, on one year
    sensitivity({2024: variants[0].networks[2024]}, Grid(alphas=(0.8,), absorbs=(0.0,)), FRACTIONS,
                workers=1)  # fmt: skip

    plain_started = time.perf_counter()
    default = variants[0]
    plain = sweep(default.networks, FRACTIONS).tables(default.panel).sources
    report["plain_sweep_of_one_point_s"] = time.perf_counter() - plain_started

    serial_runs, pool_runs = [], []
    reference: SensitivityResult | None = None
    for repeat in range(args.repeats):
        order = [1, args.workers] if repeat % 2 == 0 else [args.workers, 1]
        for workers in order:
            result, figures = timed(variants, grid, workers)
            print(json.dumps(figures), flush=True)
            (serial_runs if workers == 1 else pool_runs).append(figures)
            if reference is None:
                reference = result
                pd.testing.assert_frame_equal(result.table(), plain)
            else:
                pd.testing.assert_frame_equal(result.sources, reference.sources)
    assert reference is not None

    def median(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    ratios = [s["wall_s"] / p["wall_s"] for s, p in zip(serial_runs, pool_runs, strict=True)]
    report["grid"] = {
        "points": len(reference.points),
        "runs_if_each_point_swept": reference.runs,
        "cascades_run": reference.cascades,
        "serial": serial_runs,
        "pool": pool_runs,
        "serial_wall_s_median": median(serial_runs, "wall_s"),
        "pool_wall_s_median": median(pool_runs, "wall_s"),
        "speedup_per_pair": ratios,
        "speedup_median": statistics.median(ratios),
        "pool_equals_serial": True,
        "default_point_equals_plain_sweep": True,
    }
    report["findings"] = summary(reference)
    report["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, default=float) + "\n")
    grid_figures = {k: v for k, v in report["grid"].items() if k not in ("serial", "pool")}
    print(json.dumps(grid_figures, indent=2))


if __name__ == "__main__":
    main()
