"""Write-back throughput and end-to-end wall time of a full sweep against Neo4j.

Run: ``.venv/bin/python -m bench.bench_writeback`` (the demo sweep, the issue-16 goals), or
``.venv/bin/python -m bench.bench_writeback --synthetic [--years 24] [--naive-sample 20]``.

The default measures, on one throwaway server in one run, the demo's HS 282200 sweep
(``cobalt_oxides``, 2002-2024, every source at 100% and 50%) three ways side by side:

* the sweep without storing (read the networks, simulate, tables): ``sweep_s``;
* the same sweep stored (``run_sweep``'s write-back alone): ``store_s`` and the graph entities
  (nodes and relationships) it added, counted from the store;
* a raw baseline: the same numbers of nodes and relationships created by plain
  ``UNWIND ... CREATE`` (nodes with as many properties as an Impact, relationships between nodes
  of the same transaction; no lookup, no lock, no index) by one writer in transactions of
  10,000 entities.

The server's JIT compiles a write path on its first use: the first store after a start ran at
about half the rate of the third. So the first store of a sweep (other shock sizes) is timed and
reported on its own (``cold_first_store``, beside the raw baseline of as many entities as the
first write after the demo load on a second fresh server), one more store and a raw baseline
warm both paths, and then ``--rounds`` rounds (3) time the three side by side, store and raw in
alternate order, each write after a clear of what the last one wrote and a pause
(:func:`settle`). It reports the medians and the two ratios the write path is held to:
``store_s / sweep_s`` (goal <= 2) and the store's entities per second over the raw baseline's
(goal >= 0.7), per round and their median.

``--synthetic``:

On a throwaway Neo4j it loads the synthetic cobalt-sized panel of ``bench_engine`` (155
countries, about 1,500 links a year, 24 years) as TRADES, then times ``critmin.pipeline.run_sweep``
end to end: pull every year's network from Neo4j, run every exporter at 100% and 50%, and write
every run back as a scenario (schema 2: Impact nodes with HIT and OF, TRANSMITS above 1% of the
shock, SHOCKS, INCLUDES, the sweep's tables). Side by side, a naive write-back of the first
model (one transaction per scenario, one statement per relationship) writes a sample of the same
scenarios; compare graph entities (nodes and relationships) per second.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from bench.bench_engine import synthetic_panel
from bench.throwaway import machine, throwaway_store
from critmin.pipeline import run_sweep
from critmin.store.graph import GraphStore
from critmin.store.loading import TRADES, apply_plan, plan_load
from critmin.store.scenario_writes import scenario_id, transaction_size, write_workers

RESULTS = Path(__file__).parent / "results" / "writeback.json"
DEMO_RESULTS = Path(__file__).parent / "results" / "writeback_demo.json"
DATA = Path(__file__).resolve().parents[1] / "data"
DEMO_COMMODITY = "cobalt_oxides"
RAW_PER_TRANSACTION = 10_000

# One transaction of the raw baseline: its nodes, then relationships between them by position.
RAW_CREATE = """
CALL () {
  UNWIND $nodes AS props
  CREATE (n:RawBench) SET n = props
  RETURN collect(n) AS nodes
}
UNWIND $rels AS r
WITH nodes[r[0]] AS a, nodes[r[1]] AS b, r
CREATE (a)-[x:RAW_BENCH]->(b) SET x.q = r[2], x.share = r[3]
"""
HS = "260500"  # the panel is stored as HS 2605 so the "cobalt" group (2605 + 8105) reads it


def load_panel(store: GraphStore, years: int, exporter_share: float) -> int:
    panel = synthetic_panel(
        seed=2025,
        countries=155,
        links=1500,
        years=years,
        producers=20,
        exporter_share=exporter_share,
    )
    frames = []
    for year, network in panel.items():
        flows = network.flows().rename(columns={"quantity": "tonnes"})
        flows["year"], flows["hs"] = year, HS
        flows["value_usd"], flows["source"] = flows["tonnes"] * 30_000.0, "synthetic"
        frames.append(flows)
    flows = pd.concat(frames, ignore_index=True)
    names = {code: f"Synthetic {code}" for code in set(flows["exporter"]) | set(flows["importer"])}
    apply_plan(store, plan_load(store, TRADES, flows, names))
    return len(flows)


def naive_writeback(store: GraphStore, sample: int) -> tuple[int, float]:
    """Re-write ``sample`` stored scenarios row by row: one statement per relationship."""
    outcome = run_sweep(store, "cobalt", years=[2000], write=False)
    runs = outcome.result.runs.head(sample)
    keys = runs[["year", "sources", "fraction"]]
    impacts = outcome.result.impacts.merge(keys)
    transmitted = outcome.result.transmitted.merge(keys)
    params = outcome.parameters
    started = time.perf_counter()
    written = 0
    with store.driver.session(database=store.database) as session:
        for run in runs.itertuples():
            sid = scenario_id("cobalt", run.year, run.sources, run.fraction, params) + "_naive"
            mine_i = impacts[
                (impacts["sources"] == run.sources) & (impacts["fraction"] == run.fraction)
            ]
            mine_t = transmitted[
                (transmitted["sources"] == run.sources) & (transmitted["fraction"] == run.fraction)
            ]

            def work(tx, sid=sid, run=run, mine_i=mine_i, mine_t=mine_t) -> int:  # type: ignore[no-untyped-def]
                tx.run(
                    "MERGE (s:Scenario {id: $id}) SET s.n_failed = $n", id=sid, n=int(run.n_failed)
                )
                for row in mine_i.itertuples():
                    tx.run(
                        "MATCH (s:Scenario {id: $id}), (c:Country {iso3: $c}) "
                        "CREATE (s)-[:IMPACTS {demand_loss_t: $l, failed: $f}]->(c)",
                        id=sid,
                        c=row.country,
                        l=float(row.demand_loss),
                        f=bool(row.failed),
                    )
                for row in mine_t.itertuples():
                    tx.run(
                        "MATCH (a:Country {iso3: $a}), (b:Country {iso3: $b}) "
                        "CREATE (a)-[:TRANSMITS {scenario: $id, tonnes: $q}]->(b)",
                        id=sid,
                        a=row.source,
                        b=row.target,
                        q=float(row.quantity),
                    )
                return len(mine_i) + len(mine_t)

            written += session.execute_write(work)
    return written, time.perf_counter() - started


def counts(store: GraphStore) -> tuple[int, int]:
    """Nodes and relationships in the graph (from the count store: cheap)."""
    nodes = store.records("MATCH (n) RETURN count(n) AS n")[0]["n"]
    rels = store.records("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return int(nodes), int(rels)


def raw_baseline(store: GraphStore, nodes: int, rels: int) -> float:
    """Seconds to create ``nodes`` nodes and ``rels`` relationships by plain UNWIND CREATE."""
    per_node = rels / max(nodes, 1)
    size = max(1, int(RAW_PER_TRANSACTION / (1 + per_node)))
    started = time.perf_counter()
    made_nodes = made_rels = 0
    while made_nodes < nodes:
        k = min(size, nodes - made_nodes)
        want = min(rels - made_rels, round((made_nodes + k) * per_node) - made_rels)
        props = [
            {
                "iso3": "XXX",
                "demand_loss_t": 1.5 * i,
                "gross_hit_t": 2.5 * i,
                "failed": i % 2 == 0,
                "relative_loss": 0.1,
                "first_round": 1,
                "source": False,
            }
            for i in range(k)
        ]
        pairs = [[j % k, (j * 7 + 1) % k, 1.0 * j, 0.01] for j in range(max(want, 0))]
        store.write_unit([(RAW_CREATE, {"nodes": props, "rels": pairs}, len(pairs))])
        made_nodes += k
        made_rels += max(want, 0)
    return time.perf_counter() - started


# What a store of the sweep adds, removed between measured rounds (each round then writes the
# same entities into the same state of the store files).
CLEAR = """
MATCH (n) WHERE n:Scenario OR n:Impact OR n:Run OR n:SweepSource OR n:SweepCountry
  OR n:SweepExposure OR n:RawBench
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""
ROUNDS = 3
SETTLE_S = 5.0


def settle(store: GraphStore) -> None:
    """Remove what the last measured write added, then pause: the next write starts from the
    same state. (A checkpoint falls due after every 250 MiB of transaction log, which a store or
    a clear of this sweep writes; the pause lets it run before the next timed write rather than
    during it. Community edition has no procedure to force one.)"""
    store.autocommit(CLEAR)
    time.sleep(SETTLE_S)


def demo_benchmark(rounds: int = ROUNDS) -> dict[str, object]:
    """The issue-16 measure: sweep, store and raw baseline on one server (see the module)."""
    from statistics import median

    from critmin.pipeline import load_demo

    with throwaway_store() as store:
        load_demo(store, DATA)
        # The first store after the server started, as a user meets it: the server's JIT has
        # not compiled the write path yet (other shock sizes: other scenarios than the
        # measured ones).
        n0, r0 = counts(store)
        cold = run_sweep(store, DEMO_COMMODITY, shocks=(0.7, 0.4), command="bench cold")
        n1, r1 = counts(store)
        n_cold, r_cold = n1 - n0, r1 - r0
        cold_made = n_cold + r_cold
        # Warm-up: one more store of that size and a raw baseline, then rounds that clear
        # what the last one wrote and time, side by side, the sweep alone, its store and the
        # raw baseline of as many nodes and relationships.
        run_sweep(store, DEMO_COMMODITY, shocks=(0.9, 0.2), command="bench warm-up")
        raw_baseline(store, 200_000, 600_000)
        sweeps, stores, raws = [], [], []
        nodes = rels = 0
        for k in range(rounds):
            settle(store)  # after the last round's write
            started = time.perf_counter()
            dry = run_sweep(store, DEMO_COMMODITY, write=False)
            sweeps.append(time.perf_counter() - started)
            # store then raw in even rounds, raw then store in odd ones; the sweep wrote nothing,
            # so only the second write needs the first one cleared
            for n, what in enumerate(("store", "raw") if k % 2 == 0 else ("raw", "store")):
                if n:
                    settle(store)
                if what == "raw":
                    raws.append(raw_baseline(store, nodes, rels))
                    continue
                n0, r0 = counts(store)
                stored = run_sweep(store, DEMO_COMMODITY, command="bench_writeback")
                stores.append(stored.write_seconds)
                n1, r1 = counts(store)
                nodes, rels = n1 - n0, r1 - r0
        settle(store)
    with throwaway_store() as store:  # the raw baseline's first run after a start, alike
        load_demo(store, DATA)
        cold_raw = raw_baseline(store, n_cold, r_cold)
    made = nodes + rels
    ratios = [r / s for s, r in zip(stores, raws, strict=True)]  # store rate over raw rate
    store_s, raw_s, sweep_s = median(stores), median(raws), median(sweeps)
    cold_rate = cold_made / cold.write_seconds
    return {
        "machine": machine(),
        "sweep": f"{DEMO_COMMODITY} (HS 282200), {dry.panel.years[0]}-{dry.panel.years[-1]}, "
        "every source at 100% and 50%",
        "scenarios": len(dry.result.runs),
        "rounds": rounds,
        "sweep_s": [round(x, 2) for x in sweeps],
        "simulation_s": round(dry.seconds, 2),
        "store_s": [round(x, 2) for x in stores],
        "nodes_stored": nodes,
        "relationships_stored": rels,
        "entities_per_scenario": round(made / len(dry.result.runs), 1),
        "store_entities_per_s": round(made / store_s),
        "raw_s": [round(x, 2) for x in raws],
        "raw_entities_per_s": round(made / raw_s),
        "store_over_sweep": round(store_s / sweep_s, 2),
        "store_rate_over_raw": round(median(ratios), 2),
        "store_rate_over_raw_per_round": [round(x, 2) for x in ratios],
        "cold_first_store": {
            "what": "the first store after the server started (shocks 70% and 40%)",
            "store_s": round(cold.write_seconds, 2),
            "entities": cold_made,
            "entities_per_s": round(cold_rate),
            "raw_s_on_a_fresh_server": round(cold_raw, 2),
            "rate_over_raw_on_a_fresh_server": round(cold_raw / cold.write_seconds, 2),
            "rate_over_warm_raw": round(cold_rate / (made / raw_s), 2),
        },
        "goals": {"store_over_sweep": "<= 2", "store_rate_over_raw": ">= 0.7"},
        "entities_per_transaction": transaction_size(),
        "write_workers": write_workers(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="the synthetic 7,000-run sweep and the naive writer",
    )
    parser.add_argument("--years", type=int, default=24)
    parser.add_argument("--naive-sample", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="measured rounds (demo)")
    parser.add_argument(
        "--exporter-share",
        type=float,
        default=0.94,
        help="share of countries that export (0.94 as bench_engine's default; 0.55 as BACI)",
    )
    args = parser.parse_args()
    if not args.synthetic:
        figures = demo_benchmark(args.rounds)
        DEMO_RESULTS.parent.mkdir(exist_ok=True)
        DEMO_RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps(figures, indent=2))
        return
    with throwaway_store() as store:
        started = time.perf_counter()
        n_flows = load_panel(store, args.years, args.exporter_share)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        outcome = run_sweep(store, "cobalt", command="bench_writeback")
        end_to_end = time.perf_counter() - started
        result = outcome.result
        # Graph entities of schema 2: per country hit an Impact node with HIT and OF; per
        # stored hop a TRANSMITS; per scenario its node, SHOCKS and INCLUDES (sources' own
        # Impact nodes and the summary rows are left out: a slight undercount).
        rels = 3 * len(result.impacts) + len(result.transmitted) + 3 * len(result.runs)
        naive_rels, naive_s = naive_writeback(store, args.naive_sample)
    figures = {
        "machine": machine(),
        "panel": {
            "countries": 155,
            "links_per_year": 1500,
            "years": args.years,
            "exporter_share": args.exporter_share,
            "flows": n_flows,
        },
        "load_s": round(load_s, 1),
        "runs": len(result.runs),
        "simulation_s": round(outcome.seconds, 1),
        "writeback_s": round(outcome.write_seconds, 1),
        "end_to_end_s": round(end_to_end, 1),
        "entities_written": rels,
        "writeback_entities_per_s": round(rels / outcome.write_seconds),
        "naive_sample_scenarios": args.naive_sample,
        "naive_rels": naive_rels,
        "naive_rels_per_s": round(naive_rels / naive_s),
        "ratio": round((rels / outcome.write_seconds) / (naive_rels / naive_s), 1),
        "keep_share": 0.01,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
