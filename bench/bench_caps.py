"""What the consumption cap costs: the fast engine's loop under each model variant, side by side.

Run ``python -m bench.bench_caps`` (``--help`` for the options). On the synthetic panel of
:mod:`bench.bench_engine` it runs every exporter of every year at shocks of 1.0 and 0.5, in one
thread, straight through the compiled loop (no tables), for:

- ``baseline``: the loop as it was before ``demand_cap`` existed, compiled from the git
  revision given by ``--baseline`` (default: the parent of the commit that added the cap), so
  the paper's model can be compared with itself before and after the change;
- ``paper``: today's loop with ``demand_cap="none"`` (the default);
- ``consumption``: ``demand_cap="consumption"``;
- ``physical``: the preset, ``supplier_cap="supply"`` and ``demand_cap="consumption"``;
- ``supply``: ``supplier_cap="supply"`` alone, the cost the physical preset starts from.

Variants take turns, ``--repeats`` times, so other work on the machine weighs on all alike;
the best CPU time of each is reported with its ratio to ``paper`` (and ``paper``'s to the
baseline), and the rounds per run, since a cap changes how long cascades last. Figures go to
``bench/results/caps.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_engine import machine, synthetic_panel
from critmin.simulator import Parameters, Shock, TradeNetwork
from critmin.simulator.fast import Batch, Links, kernel_inputs
from critmin.simulator.scenario import plan

RESULTS = Path(__file__).resolve().parent / "results" / "caps.json"
ROOT = Path(__file__).resolve().parent.parent
KERNEL = "src/critmin/simulator/kernel.py"

VARIANTS: dict[str, dict[str, str]] = {
    "paper": {},
    "consumption": {"demand_cap": "consumption"},
    "physical": {"supplier_cap": "supply", "demand_cap": "consumption"},
    "supply": {"supplier_cap": "supply"},
}


def baseline_revision() -> str:
    """The parent of the first commit whose kernel mentions the consumption cap."""
    found = subprocess.run(
        ["git", "log", "--reverse", "--format=%H", "-S", "cap_consumption", "--", KERNEL],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not found:
        raise SystemExit("no commit adds cap_consumption to the kernel; pass --baseline REV")
    return found[0] + "^"


def load_kernel(revision: str, into: Path) -> Callable[..., None]:
    """The compiled loop of ``kernel.py`` at git ``revision``, as a fresh module."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{KERNEL}"], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    path = into / "baseline_kernel.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_kernel", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_kernel"] = module
    spec.loader.exec_module(module)
    cascade: Callable[..., None] = module.cascade
    return cascade


def run_all(
    cascade: Callable[..., None],
    work: list[tuple[TradeNetwork, Links, tuple[Any, ...], int]],
    params: Parameters,
    baseline: bool,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Every run of ``work`` through ``cascade`` in this thread: CPU seconds, rounds, losses."""
    rounds, losses = [], []
    spent = 0.0
    for network, links, inputs, runs in work:
        out = Batch.empty(runs, network.n, len(links.weight))
        caps = (params.supplier_cap == "supply",)
        if not baseline:
            caps += (params.demand_cap == "consumption",)
        outputs = [out.demand_loss, out.stock_drawn]
        if not baseline:
            outputs.append(out.unbalanced)
        outputs += [
            out.gross_hit, out.first_round, out.forward, out.backward, out.forward_first,
            out.backward_first, out.rounds, out.initial_shock,
        ]  # fmt: skip
        started = time.process_time()
        cascade(
            np.arange(runs), *inputs, params.alpha, params.absorb, *caps, params.eps_pass,
            params.tol, params.max_rounds, *outputs,
        )  # fmt: skip
        spent += time.process_time() - started
        rounds.append(out.rounds.copy())
        losses.append(out.demand_loss.copy())
    return spent, np.concatenate(rounds), np.concatenate(losses)


def compare_variants(
    panel: dict[int, TradeNetwork], repeats: int, revision: str | None = None
) -> dict[str, Any]:
    """Every exporter of ``panel`` at 1.0 and 0.5 through each variant's loop, in turns.

    Returns ``runs``, ``paper_identical_to_baseline`` and per variant its best CPU seconds,
    ms per run, ratio to ``paper``, rounds and microseconds per round.
    """
    from critmin.simulator.kernel import cascade

    revision = revision or baseline_revision()
    base = Parameters().resolved("t")
    work = []
    for network in panel.values():
        links = Links.of(network)
        sources = network.exports[network.exports > 0].index
        plans = [plan(network, [Shock(s, f)], base.mode) for f in (1.0, 0.5) for s in sources]
        work.append((network, links, kernel_inputs(network, links, plans), len(plans)))
    runs = sum(w[3] for w in work)

    with tempfile.TemporaryDirectory() as scratch:
        old = load_kernel(revision, Path(scratch))
        contenders: dict[str, tuple[Callable[..., None], Parameters, bool]] = {
            "baseline": (old, base, True),
            **{n: (cascade, Parameters(**v).resolved("t"), False) for n, v in VARIANTS.items()},
        }
        for kernel, params, is_old in contenders.values():  # compile (or load the cache)
            run_all(kernel, work[:1], params, is_old)
        best = dict.fromkeys(contenders, float("inf"))
        seen: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for _ in range(repeats):
            for name, (kernel, params, is_old) in contenders.items():
                spent, rounds, losses = run_all(kernel, work, params, is_old)
                best[name] = min(best[name], spent)
                seen[name] = (rounds, losses)
    return {
        "baseline_revision": short(revision),
        "runs": runs,
        "paper_identical_to_baseline": bool(np.array_equal(seen["baseline"][1], seen["paper"][1])),
        "variants": {
            name: {
                "cpu_s": best[name],
                "ms_per_run": best[name] / runs * 1e3,
                "ratio_to_paper": best[name] / best["paper"],
                "rounds_mean": float(seen[name][0].mean()),
                "rounds_total": int(seen[name][0].sum()),
                "us_per_round": best[name] / max(int(seen[name][0].sum()), 1) * 1e6,
            }
            for name in contenders
        },
    }


def short(revision: str) -> str:
    """``revision`` as a short commit id."""
    return subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip


def print_variants(figures: dict[str, Any], repeats: int) -> None:
    print(
        f"{figures['runs']} runs (shocks 1.0 and 0.5), one thread, best of {repeats}, loop "
        f"before the cap = {figures['baseline_revision']}; paper's losses identical to it: "
        f"{figures['paper_identical_to_baseline']}"
    )
    for name, v in figures["variants"].items():
        print(
            f"  {name:12s} {v['cpu_s']:7.2f} s CPU  {v['ms_per_run']:6.3f} ms/run  "
            f"x{v['ratio_to_paper']:.3f} of paper  {v['rounds_mean']:7.1f} rounds/run  "
            f"{v['us_per_round']:6.2f} us/round"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--countries", type=int, default=155)
    parser.add_argument("--links", type=int, default=1500)
    parser.add_argument("--years", type=int, default=6, help="years of the panel swept")
    parser.add_argument("--producers", type=int, default=20)
    parser.add_argument("--exporter-share", type=float, default=0.94)
    parser.add_argument("--repeats", type=int, default=3, help="turns each variant takes")
    parser.add_argument("--baseline", default=None, help="git revision of the earlier loop")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the figures")
    args = parser.parse_args()
    revision = args.baseline or baseline_revision()
    figures: dict[str, Any] = {
        "machine": machine(),
        "parameters": {k: v for k, v in vars(args).items() if k not in ("out", "baseline")},
    }
    print("machine:", json.dumps(figures["machine"]))
    print("parameters:", json.dumps(figures["parameters"]))
    panel = synthetic_panel(
        args.seed, args.countries, args.links, args.years, args.producers, args.exporter_share
    )
    figures.update(compare_variants(panel, args.repeats, revision))
    figures["machine"]["load_average_1min_at_end"] = os.getloadavg()[0]
    print_variants(figures, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {args.out.name}")


if __name__ == "__main__":
    main()
