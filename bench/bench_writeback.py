"""Write-back throughput and end-to-end wall time of a full sweep against Neo4j.

Run: ``.venv/bin/python -m bench.bench_writeback [--years 24] [--naive-sample 20]``

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
from critmin.store.scenario_writes import scenario_id

RESULTS = Path(__file__).parent / "results" / "writeback.json"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=24)
    parser.add_argument("--naive-sample", type=int, default=20)
    parser.add_argument(
        "--exporter-share",
        type=float,
        default=0.94,
        help="share of countries that export (0.94 as bench_engine's default; 0.55 as BACI)",
    )
    args = parser.parse_args()
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
