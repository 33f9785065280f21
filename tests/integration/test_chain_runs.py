"""Supply-chain scenarios after the sweep, against a real Neo4j: `critmin cascade` re-runs a
chain scenario and stores every stage of it (Impacts, TRANSMITS, STARVES) under the same id."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.chain_run import ChainOutcome, chain_study, run_chain_sweep
from critmin.cli.main import app
from critmin.pipeline import load_demo, materialise_cascade
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import scenario

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"

PER_STAGE = """
MATCH (:Scenario {id: $id})-[:HIT]->(a:Impact)-[t:TRANSMITS]->(:Impact)
RETURN a.stage AS stage, count(t) AS n ORDER BY stage
"""
STARVES = """
MATCH (:Scenario {id: $id})-[:HIT]->(a:Impact)-[t:STARVES]->(b:Impact)
RETURN a.iso3 AS iso3, a.stage AS from_stage, b.stage AS to_stage, t.cut_t_metal AS cut
ORDER BY iso3
"""


@pytest.fixture(scope="module")
def demo_data(session_store: GraphStore) -> GraphStore:
    """The bundled sample loaded, nothing swept (the tests store their own runs)."""
    session_store.wipe()
    load_demo(session_store, DATA)
    return session_store


def _bulk_drc(store: GraphStore) -> tuple[ChainOutcome, str]:
    """The demo chain's DRC mine stop (stage 0, production mode), stored without cascades."""
    study = chain_study(
        "cobalt_demo", years=[2024], shocks=[1.0], sources=["COD"], mode="production",
        cascades=False,
    )  # fmt: skip
    bulk = run_chain_sweep(store, study, command="test: bulk chain")
    (sid,) = [i for i in bulk.scenario_ids if scenario(store, i)["source_stage"] == 0]  # type: ignore[index]
    return bulk, sid


def test_cascade_of_a_chain_scenario_stores_every_stage_under_the_same_id(
    demo_data: GraphStore,
) -> None:
    store = demo_data
    bulk, sid = _bulk_drc(store)
    before = scenario(store, sid)
    assert before is not None and before["chain"] == "cobalt_demo"
    assert store.records(PER_STAGE, id=sid) == []  # a bulk sweep keeps no TRANSMITS

    outcome = materialise_cascade(store, sid)
    assert isinstance(outcome, ChainOutcome) and outcome.scenario_ids == [sid]
    after = scenario(store, sid)
    assert after is not None
    for key in ("n_failed", "initial_shock_t_metal", "stages", "stage_demand_loss_t_metal"):
        assert after[key] == before[key], key  # same scenario, same numbers
    assert after["stage_coupling_cut_t_metal"] == before["stage_coupling_cut_t_metal"]

    # Every stage's TRANSMITS, as the sweep computes them with cascades kept.
    moved = bulk.result.transmitted
    moved = moved[(moved["sources"] == "COD") & (moved["source_stage"] == 0)]
    expected = moved.groupby("stage").size()
    stored = {r["stage"]: r["n"] for r in store.records(PER_STAGE, id=sid)}
    assert stored == {int(k): int(n) for k, n in expected.items()}
    assert stored.get(1, 0) > 0  # the DRC's stop crosses into HS 282200

    # STARVES: each country whose stage-0 loss cut its stage-1 output, by that cut.
    hit = bulk.result.impacts
    cut = hit[(hit["sources"] == "COD") & (hit["source_stage"] == 0) & (hit["coupling_cut"] > 0)]
    starves = store.records(STARVES, id=sid)
    assert [r["iso3"] for r in starves] == sorted(cut["country"])
    assert all((r["from_stage"], r["to_stage"]) == (0, 1) for r in starves)
    by_country = dict(zip(cut["country"], cut["coupling_cut"], strict=True))
    assert all(r["cut"] == pytest.approx(by_country[r["iso3"]]) for r in starves)


@pytest.mark.usefixtures("neo4j_env")
def test_cli_cascade_of_a_chain_scenario(demo_data: GraphStore) -> None:
    store = demo_data
    runner = CliRunner()
    swept = runner.invoke(
        app,
        [
            "simulate", "--commodity", "cobalt_demo", "--years", "2024", "--shock", "0.5",
            "--mode", "production", "--source", "COD", "--no-cascades",
        ],
    )  # fmt: skip
    assert swept.exit_code == 0, swept.output
    (sid,) = [
        r["id"]
        for r in store.records(
            "MATCH (s:Scenario {chain: 'cobalt_demo', shock: 0.5, source_stage: 0}) "
            "RETURN s.id AS id"
        )
    ]
    ran = runner.invoke(app, ["cascade", sid])
    assert ran.exit_code == 0, ran.output
    out = " ".join(ran.output.split())
    assert f"stored the cascade of {sid}" in out
    assert "chain cobalt_demo (cobalt -> cobalt_oxides)" in out and "t contained metal" in out
    assert "STARVES" in out
    stages = {r["stage"] for r in store.records(PER_STAGE, id=sid)}
    assert 1 in stages
