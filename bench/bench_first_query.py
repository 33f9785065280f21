"""The first answer after a server start, with and without the library's plans warmed.

Run: ``.venv/bin/python -m bench.bench_first_query [--home DIR] [--rounds 2]``

A managed server (``--home``: an existing managed home holding the demo's data; without it a
throwaway home on free ports, loaded with the bundled sample and its HS 282200 sweep) is
restarted ``2 x --rounds`` times, alternating two variants:

* ``cold``: the server as a plain start leaves it (what a server critmin did not start gives);
* ``warmed``: after the start, :func:`critmin.guide.warm.warm_plans` (what ``critmin neo4j
  start`` runs in the background through the guide's server) has planned every library query.

After each start, ``critical_paths`` runs as the guide's block sends it (its body, the store's
scenario and country, every number a float, as Browser sends them), then as ``critmin query``
sends it (the whole file, declared types), then the guide's form again (a planned, warm run, for
reference); each latency is client wall time with every record fetched. Results: a table on
stdout and ``bench/results/first_query.json`` (``--output``); ratios are reported, never
asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from critmin.analysis.queries import load_library, run_query
from critmin.guide.build import browser_values, slide_params
from critmin.guide.process import stop_guide
from critmin.guide.warm import warm_plans
from critmin.server import ManagedNeo4j
from critmin.server.managed import _free_port
from critmin.store.graph import GraphStore
from critmin.store.guide_reads import guide_facts
from critmin.store.settings import ConnectionSettings

ROOT = Path(__file__).resolve().parents[1]
QUERY = "critical_paths"


def _store(server: ManagedNeo4j) -> GraphStore:
    creds = server.credentials()
    assert creds is not None
    return GraphStore.connect(ConnectionSettings(creds.uri, creds.user, creds.password))


def _demo(server: ManagedNeo4j) -> None:
    from critmin.pipeline import load_demo, run_sweep

    with _store(server) as store:
        load_demo(store, ROOT / "data")
        run_sweep(store, "cobalt_oxides", command="bench_first_query")


def _timed(action: Any) -> tuple[float, int]:
    started = time.perf_counter()
    rows = action()
    return time.perf_counter() - started, len(rows)


def one_round(server: ManagedNeo4j, variant: str) -> dict[str, Any]:
    server.stop()
    server.start()
    library = load_library()
    query = library[QUERY]
    with _store(server) as store:
        facts = guide_facts(store)
        assert facts is not None, "the store holds no study: run the demo into it first"
        warmed = None
        if variant == "warmed":
            report = warm_plans(store, library, facts)
            warmed = {"seconds": report.seconds, "statements": report.statements}
        guide = browser_values(slide_params(query, facts))
        cli = query.bind(slide_params(query, facts))
        first, rows = _timed(lambda: store.records(query.body, **guide))
        cli_first, cli_rows = _timed(lambda: run_query(store, QUERY, cli, library))
        again, _ = _timed(lambda: store.records(query.body, **guide))
    assert rows == cli_rows > 0, (rows, cli_rows)
    return {
        "variant": variant,
        "warm": warmed,
        "first_browser_s": first,
        "first_cli_s": cli_first,
        "planned_browser_s": again,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--home", type=Path, help="an existing managed home with the demo data")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/first_query.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="critmin-bench-") as scratch:
        if args.home:
            server = ManagedNeo4j(args.home)
            stop_guide(server.home)
        else:
            server = ManagedNeo4j(Path(scratch) / "neo4j")
            server.start(bolt_port=_free_port(), http_port=_free_port())
            _demo(server)
        try:
            rounds = [
                one_round(server, variant)
                for _ in range(args.rounds)
                for variant in ("cold", "warmed")
            ]
        finally:
            if not args.home:
                server.destroy()
    summary: dict[str, dict[str, float]] = {}
    for variant in ("cold", "warmed"):
        mine = [r for r in rounds if r["variant"] == variant]
        summary[variant] = {
            key: statistics.median(r[key] for r in mine)
            for key in ("first_browser_s", "first_cli_s", "planned_browser_s")
        }
    ratio = summary["warmed"]["first_browser_s"] / summary["cold"]["first_browser_s"]
    print(f"{QUERY}, first run after a start (median of {args.rounds} starts each)")
    print(f"{'variant':8} {'guide/Browser':>14} {'critmin query':>14} {'planned run':>12}")
    for variant, row in summary.items():
        print(
            f"{variant:8} {row['first_browser_s']:13.3f}s {row['first_cli_s']:13.3f}s "
            f"{row['planned_browser_s']:11.3f}s"
        )
    warm_s = statistics.median(r["warm"]["seconds"] for r in rounds if r["warm"])
    print(f"warmed / cold, first guide answer: {ratio:.3f}; planning the library: {warm_s:.1f} s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "query": QUERY,
                "machine": platform.platform(),
                "rounds": rounds,
                "median": summary,
                "warmed_over_cold_first_browser": ratio,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
