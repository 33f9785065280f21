"""Load throughput into Neo4j: critmin's batched UNWIND loader against a naive one.

Run: ``.venv/bin/python -m bench.bench_load [--flows 200000] [--naive-sample 3000]``

Both loaders write the same synthetic BACI-sized year (exporter, importer, year, HS code,
tonnes, value) into the same throwaway Neo4j, one after the other, on an emptied database:

* batched: ``critmin.store.loading`` (plan against the graph, then ``UNWIND $rows`` in batches
  of 5,000, one managed transaction each);
* naive: one ``MERGE`` per flow, one transaction per flow (what a first script does).

The naive loader runs on a sample (``--naive-sample`` flows): at its rate the whole file would
take many minutes; throughput is relationships per second either way, so the ratio is fair.

Then the corrected-release case: the same flows loaded again with every value changed (a
revised release), against the new-row load of the same flows (``changed_vs_new``, the time of
the changed-row load over the new-row one). Beside it, the former way of writing changed rows
(matched by year and HS code between their two countries, one ``UNWIND`` batch per 5,000) on a
sample (``--by-key-sample``), as rows per second.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.throwaway import machine, throwaway_store
from critmin.store.graph import DEFAULT_BATCH, GraphStore
from critmin.store.loading import TRADES, apply_plan, plan_load

# How changed rows were written before they were found by element id.
UPDATE_BY_KEY = """
UNWIND $rows AS row
MATCH (e:Country {iso3: row.exporter})-[t:TRADES {year: row.year, hs: row.hs}]->
      (i:Country {iso3: row.importer})
SET t.tonnes = row.tonnes, t.value_usd = row.value_usd, t.source = row.source
"""

RESULTS = Path(__file__).parent / "results" / "load.json"


def synthetic_flows(n_flows: int, seed: int = 7) -> tuple[pd.DataFrame, dict[str, str]]:
    """BACI-like: ~230 countries, a few hundred HS codes, heavy-tailed values, one year."""
    rng = np.random.default_rng(seed)
    countries = [f"C{i:02d}" for i in range(230)]
    codes = [f"{c:06d}" for c in rng.choice(np.arange(250000, 999999), 400, replace=False)]
    keys: set[tuple[int, int, int]] = set()
    while len(keys) < n_flows:
        e = rng.integers(0, 230, n_flows)
        i = rng.integers(0, 230, n_flows)
        k = rng.integers(0, len(codes), n_flows)
        keys.update((a, b, c) for a, b, c in zip(e, i, k, strict=True) if a != b)
    chosen = sorted(keys)[:n_flows]
    value = rng.pareto(1.2, n_flows) * 1e4
    flows = pd.DataFrame(
        {
            "year": 2022,
            "exporter": [countries[a] for a, _, _ in chosen],
            "importer": [countries[b] for _, b, _ in chosen],
            "hs": [codes[c] for _, _, c in chosen],
            "tonnes": value / rng.uniform(500, 5000, n_flows),
            "value_usd": value,
            "source": "synthetic",
        }
    )
    return flows, {c: f"Country {c}" for c in countries}


def batched(store: GraphStore, flows: pd.DataFrame, names: dict[str, str]) -> float:
    started = time.perf_counter()
    plan = plan_load(store, TRADES, flows, names)
    apply_plan(store, plan)
    return time.perf_counter() - started


def revised(flows: pd.DataFrame, factor: float) -> pd.DataFrame:
    """The same flows as a corrected release: every tonnage and value changed."""
    return flows.assign(tonnes=flows["tonnes"] * factor, value_usd=flows["value_usd"] * factor)


def by_key(store: GraphStore, flows: pd.DataFrame) -> float:
    rows = [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in flows.to_dict("records")
    ]
    started = time.perf_counter()
    store.write_batches(UPDATE_BY_KEY, rows, DEFAULT_BATCH)
    return time.perf_counter() - started


def naive(store: GraphStore, flows: pd.DataFrame, names: dict[str, str]) -> float:
    rows = flows.to_dict("records")
    started = time.perf_counter()
    store.write_batches(
        "UNWIND $rows AS row MERGE (:Country {iso3: row.iso3})", [{"iso3": c} for c in names]
    )
    single = (
        "MATCH (e:Country {iso3: $row.exporter}) MATCH (i:Country {iso3: $row.importer}) "
        "MERGE (e)-[t:TRADES {year: $row.year, hs: $row.hs}]->(i) "
        "SET t.tonnes = $row.tonnes, t.value_usd = $row.value_usd, t.source = $row.source"
    )
    with store.driver.session(database=store.database) as session:
        for row in rows:
            session.execute_write(lambda tx, r=row: tx.run(single, row=r).consume())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200_000)
    parser.add_argument("--naive-sample", type=int, default=3_000)
    parser.add_argument("--by-key-sample", type=int, default=10_000)
    args = parser.parse_args()
    flows, names = synthetic_flows(args.flows)
    sample = flows.sample(args.naive_sample, random_state=1)
    with throwaway_store() as store:
        from critmin.store.schema import ensure_schema

        ensure_schema(store)
        store.wipe()
        t_batched = batched(store, flows, names)
        t_reload = batched(store, flows, names)  # idempotent reload: plans, writes nothing
        t_changed = batched(store, revised(flows, 1.1), names)  # every row changed
        keyed = revised(flows, 1.2).sample(min(args.by_key_sample, len(flows)), random_state=2)
        t_by_key = by_key(store, keyed)
        store.wipe()
        t_naive = naive(store, sample, names)
    rate_batched = len(flows) / t_batched
    rate_naive = len(sample) / t_naive
    figures = {
        "machine": machine(),
        "flows": len(flows),
        "batched_seconds": round(t_batched, 2),
        "batched_rels_per_s": round(rate_batched),
        "reload_seconds": round(t_reload, 2),
        "changed_seconds": round(t_changed, 2),
        "changed_rels_per_s": round(len(flows) / t_changed),
        "changed_vs_new": round(t_changed / t_batched, 2),
        "by_key_sample": len(keyed),
        "by_key_rels_per_s": round(len(keyed) / t_by_key),
        "changed_vs_by_key": round(len(flows) / t_changed / (len(keyed) / t_by_key), 1),
        "naive_sample": len(sample),
        "naive_seconds": round(t_naive, 2),
        "naive_rels_per_s": round(rate_naive),
        "ratio": round(rate_batched / rate_naive, 1),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
