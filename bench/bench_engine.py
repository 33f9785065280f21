"""Reference vs fast engine, side by side, on a synthetic cobalt-sized panel.

Run ``python bench/bench_engine.py`` (``--help`` for the options). It builds a seeded panel like
the cobalt paper's (155 countries, about 1,500 links a year with heavy-tailed weights, 24 years,
about 20 producers), times the reference engine on a sample of runs and the fast engine on the
same runs and on the full sweep (every exporter, every year, shocks of 1.0 and 0.5), prints the
machine and the figures, and writes them to ``bench/results/engine.json``.

The synthetic trade follows the shape of real customs data (checked against the BACI
battery-metal networks of 2024): nearly every country re-exports a little, most export far less
than they import (exports/imports: median about 0.2, quartiles about 0.02 and 1), and a few
producers ship most of their output.
How much countries re-export drives how long cascades last (loss that arrives where exports are
large is passed on rather than absorbed), so the rounds per run are printed with the timings;
``--exporter-share 0.55`` gives a panel with as few exporters as the real networks.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import string
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from critmin.simulator import Parameters, Shock, TradeNetwork, simulate, sweep
from critmin.simulator.fast import Links, run_batch
from critmin.simulator.scenario import plan

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
ENGINES = ("reference", "fast")


def synthetic_panel(
    seed: int, countries: int, links: int, years: int, producers: int, exporter_share: float
) -> dict[int, TradeNetwork]:
    """Yearly gravity-style networks with heavy-tailed sizes, flows and output."""
    rng = np.random.default_rng(seed)
    letters = itertools.product(string.ascii_uppercase, repeat=3)
    codes = np.array(["".join(c) for c in itertools.islice(letters, countries)])
    size = rng.lognormal(0.0, 1.5, countries)
    producer = rng.choice(countries, producers, replace=False, p=size / size.sum())
    output = rng.lognormal(8.0, 2.0, producers)  # tonnes
    reexport = np.clip(rng.lognormal(np.log(0.2), 1.8, countries), 1e-4, 2.0)
    panel = {}
    for year in range(2000, 2000 + years):
        mass = size * rng.lognormal(0.0, 0.2, countries)
        i, j = trade_pairs(rng, mass, links, producer, exporter_share)
        W = np.zeros((countries, countries))
        W[i, j] = mass[i] ** 0.7 * mass[j] ** 0.7 * rng.lognormal(0.0, 1.5, len(i))
        P = np.zeros(countries)
        P[producer] = output * rng.lognormal(0.0, 0.3, producers)
        for _ in range(5):  # exports: 90% of output, plus a country's share of its imports
            want = 0.9 * P + reexport * W.sum(axis=0)
            exports = W.sum(axis=1)
            W *= np.divide(want, exports, out=np.zeros(countries), where=exports > 0)[:, None]
        i, j = np.nonzero(W)
        flows = pd.DataFrame({"exporter": codes[i], "importer": codes[j], "quantity": W[i, j]})
        production = pd.DataFrame({"country": codes[producer], "quantity": P[producer]})
        panel[year] = TradeNetwork.from_frames(flows, production, countries=codes)
    return panel


def trade_pairs(
    rng: np.random.Generator,
    mass: np.ndarray,
    links: int,
    producer: np.ndarray,
    exporter_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``links`` distinct (exporter, importer) pairs: everyone imports, a share also exports."""
    n = len(mass)
    weight = mass / mass.sum()
    exporters = np.union1d(rng.choice(n, round(exporter_share * n), replace=False), producer)
    big = weight[exporters] / weight[exporters].sum()
    draws = itertools.chain(
        ((rng.choice(exporters), j) for j in range(n)),
        ((i, rng.choice(n, p=weight)) for i in exporters),
        iter(lambda: (rng.choice(exporters, p=big), rng.choice(n, p=weight)), None),
    )
    pairs: set[tuple[int, int]] = set()
    for exporter, importer in draws:
        if len(pairs) == links:
            break
        if exporter != importer:
            pairs.add((int(exporter), int(importer)))
    i, j = np.array(sorted(pairs)).T
    return i, j


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        model = names[0] if names else model
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "load_average_1min_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
    }


def describe(panel: dict[int, TradeNetwork]) -> dict[str, Any]:
    nets = list(panel.values())
    weights = np.concatenate([net.W[net.W > 0] for net in nets])
    ratio = np.concatenate(
        [(net.exports / net.imports)[(net.exports > 0) & (net.imports > 0)] for net in nets]
    )
    return {
        "years": len(nets),
        "countries": len(set().union(*(net.countries for net in nets))),
        "links_per_year": float(np.mean([(net.W > 0).sum() for net in nets])),
        "exporters_per_year": float(np.mean([(net.exports > 0).sum() for net in nets])),
        "producers_per_year": float(np.mean([(net.P > 0).sum() for net in nets])),
        "log10_weight_sd": float(np.log10(weights).std()),
        "exports_over_imports_p10_p25_p50_p75_p90": np.quantile(ratio, [0.1, 0.25, 0.5, 0.75, 0.9])
        .round(3)
        .tolist(),
    }


def sample_runs(
    panel: dict[int, TradeNetwork], fractions: tuple[float, ...], size: int, seed: int
) -> list[tuple[int, str, float]]:
    everything = [
        (year, source, f)
        for year, net in panel.items()
        for source in net.exports[net.exports > 0].index
        for f in fractions
    ]
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(everything), min(size, len(everything)), replace=False)
    return [everything[k] for k in sorted(picked)]


def compare_engines(
    panel: dict[int, TradeNetwork], sample: list[tuple[int, str, float]]
) -> dict[str, Any]:
    """Each sampled run on the reference then the fast engine, one ``simulate`` call each.

    The two calls of a run follow each other, so other work on the machine weighs on both
    alike; CPU time (``time.process_time``) is recorded beside wall time for the same reason.
    """
    spent = {engine: np.zeros(2) for engine in ENGINES}  # wall, CPU seconds
    rounds, gap = 0, 0.0
    for year, source, fraction in sample:
        results = {}
        for engine in ENGINES:
            wall, cpu = time.perf_counter(), time.process_time()
            results[engine] = simulate(panel[year], Shock(source, fraction), engine=engine)
            spent[engine] += (time.perf_counter() - wall, time.process_time() - cpu)
        reference, fast = results["reference"], results["fast"]
        rounds += reference.rounds
        if reference.initial_shock > 0:
            difference = (reference.demand_loss - fast.demand_loss).abs().max()
            gap = max(gap, float(difference) / reference.initial_shock)
    ref_wall, ref_cpu = spent["reference"] / len(sample)
    fast_wall, fast_cpu = spent["fast"] / len(sample)
    return {
        "runs": len(sample),
        "rounds_mean": rounds / len(sample),
        "reference_per_run_s": ref_wall,
        "reference_per_run_cpu_s": ref_cpu,
        "reference_per_round_s": spent["reference"][0] / rounds,
        "fast_per_run_s": fast_wall,
        "fast_per_run_cpu_s": fast_cpu,
        "speedup_per_run": ref_wall / fast_wall,
        "speedup_per_run_cpu": ref_cpu / fast_cpu,
        "max_loss_difference_over_shock": gap,
    }


def time_sweep(panel: dict[int, TradeNetwork], fractions: tuple[float, ...]) -> dict[str, Any]:
    """The fast engine on every run of the panel: simulation alone, then ``sweep()``."""
    params = Parameters().resolved("t")
    wall, cpu = time.perf_counter(), time.process_time()
    rounds = []
    for net in panel.values():
        sources = net.exports[net.exports > 0].index
        plans = [plan(net, [Shock(s, f)], params.mode) for f in fractions for s in sources]
        rounds.append(run_batch(net, Links.of(net), plans, params).rounds)
    simulation_s, simulation_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    wall = time.perf_counter()
    result = sweep(panel, fractions=fractions)
    every = np.concatenate(rounds)
    return {
        "runs": len(result.runs),
        "fast_simulation_s": simulation_s,
        "fast_simulation_cpu_s": simulation_cpu_s,
        "fast_sweep_with_tables_s": time.perf_counter() - wall,
        "rounds": {
            "total": int(every.sum()),
            "mean": float(every.mean()),
            "median": float(np.median(every)),
            "p90": float(np.percentile(every, 90)),
            "max": int(every.max()),
            "at_max_rounds": int((every >= params.max_rounds).sum()),
        },
        "table_rows": {"impacts": len(result.impacts), "transmitted": len(result.transmitted)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--countries", type=int, default=155)
    parser.add_argument("--links", type=int, default=1500)
    parser.add_argument("--years", type=int, default=24)
    parser.add_argument("--producers", type=int, default=20)
    parser.add_argument(
        "--exporter-share",
        type=float,
        default=0.94,
        help="countries exporting each year: 0.94 gives the ~7,000 runs of 155 countries x 24 "
        "years x 2 shocks; real BACI networks have about 0.55, and much shorter cascades",
    )
    parser.add_argument("--sample", type=int, default=48, help="runs timed on both engines")
    parser.add_argument(
        "--caps-years",
        type=int,
        default=4,
        help="years of the panel run through the loop under each preset and cap, beside the "
        "loop before the consumption cap (bench/bench_caps.py); 0 skips it",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the figures")
    args = parser.parse_args()
    fractions = (1.0, 0.5)
    defaults = Parameters().resolved("t").as_dict()
    figures: dict[str, Any] = {
        "machine": machine(),
        # Not the output path: the figures carry no path of this machine.
        "parameters": {
            **{k: v for k, v in vars(args).items() if k != "out"},
            "fractions": fractions,
            **defaults,
        },
    }
    print("machine:", json.dumps(figures["machine"]))
    print("parameters:", json.dumps(figures["parameters"]))

    panel = synthetic_panel(
        args.seed, args.countries, args.links, args.years, args.producers, args.exporter_share
    )
    figures["panel"] = describe(panel)
    print("panel:", json.dumps(figures["panel"]))
    first = next(iter(panel.values()))
    started = time.perf_counter()
    simulate(first, Shock(first.exports.idxmax(), 1.0))
    figures["fast_first_call_s"] = time.perf_counter() - started
    print(
        "fast engine, first call (compiles, or loads numba's cache): "
        f"{figures['fast_first_call_s']:.2f} s"
    )

    sample = figures["sample"] = compare_engines(
        panel, sample_runs(panel, fractions, args.sample, args.seed)
    )
    print(
        f"{sample['runs']} sampled runs on both engines, one simulate() call per run "
        f"({sample['rounds_mean']:.0f} rounds on average):"
    )
    print(
        f"  reference {sample['reference_per_run_s'] * 1e3:7.1f} ms/run "
        f"({sample['reference_per_run_cpu_s'] * 1e3:.1f} ms CPU), "
        f"fast {sample['fast_per_run_s'] * 1e3:5.1f} ms/run "
        f"({sample['fast_per_run_cpu_s'] * 1e3:.1f} ms CPU): "
        f"{sample['speedup_per_run']:.1f}x wall, {sample['speedup_per_run_cpu']:.1f}x CPU; "
        f"largest |L_ref - L_fast| / S0 = {sample['max_loss_difference_over_shock']:.1e}"
    )

    full = figures["sweep"] = time_sweep(panel, fractions)
    # The full reference sweep would take the better part of an hour: its time is the
    # reference engine's measured seconds per round times the sweep's rounds.
    reference_s = sample["reference_per_round_s"] * full["rounds"]["total"]
    full["reference_extrapolated_s"] = reference_s
    full["speedup_sweep"] = reference_s / full["fast_simulation_s"]
    if args.caps_years > 0:
        from bench.bench_caps import compare_variants, print_variants

        years = dict(itertools.islice(panel.items(), args.caps_years))
        figures["caps"] = compare_variants(years, repeats=3)
        print("the loop under each model variant (demand_cap, supplier_cap), side by side:")
        print_variants(figures["caps"], repeats=3)
    figures["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    runs = full["runs"]
    print(f"full sweep, {runs} runs; rounds per run: {json.dumps(full['rounds'])}")
    print(
        f"  fast engine: {full['fast_simulation_s']:.1f} s of simulation "
        f"({full['fast_simulation_s'] / runs * 1e3:.2f} ms/run; "
        f"{full['fast_simulation_cpu_s']:.1f} s of CPU), "
        f"{full['fast_sweep_with_tables_s']:.1f} s for sweep() with its tables"
    )
    print(
        f"  reference engine, extrapolated (not run): {reference_s:.0f} s; "
        f"speed-up {full['speedup_sweep']:.1f}x"
    )
    print(
        f"load average (1 min): {figures['machine']['load_average_1min_at_start']:.2f} at start, "
        f"{figures['machine']['load_average_1min_at_end']:.2f} at end (other work slows both)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {args.out.name}")


if __name__ == "__main__":
    main()
