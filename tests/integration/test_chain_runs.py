"""Supply-chain scenarios after the sweep, against a real Neo4j: `critmin cascade` re-runs a
chain scenario and stores every stage of it (Impacts, TRANSMITS, STARVES) under the same id."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.chain_run import ChainOutcome, chain_study, run_chain_sweep
from critmin.cli.main import app
from critmin.pipeline import load_demo, materialise_cascade
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import chain_scenario, scenario

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


def _sweep_drc_stop(runner: CliRunner, shock: float) -> None:
    """`critmin simulate` of the demo chain's DRC mine stop at ``shock``, without cascades."""
    swept = runner.invoke(
        app,
        [
            "simulate", "--commodity", "cobalt_demo", "--years", "2024", "--shock", str(shock),
            "--mode", "production", "--source", "COD", "--no-cascades",
        ],
    )  # fmt: skip
    assert swept.exit_code == 0, swept.output


@pytest.mark.usefixtures("neo4j_env")
def test_cli_cascade_of_a_chain_scenario(demo_data: GraphStore) -> None:
    store = demo_data
    runner = CliRunner()
    _sweep_drc_stop(runner, 0.5)
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


DEMO_CHAIN_FILE = """
name = "demo-chain-test"
description = "The DRC's mine output halved and Zambia's hydroxide exports stopped (demo chain)."
commodity = "cobalt_demo"
measure = "metal"
years = "latest"
failure_rule = "share-1pct"

[[sources]]
title = "test"
url = "https://example.org/"

[[shocks]]
source = "COD"
fraction = 0.5
mode = "production"

[[shocks]]
source = "ZMB"
fraction = 1.0
stage = 1

[stockpiles]
JPN = "60days"
"""

POLICY_STAGES = """
MATCH (r:Run {id: $run})-[:INCLUDES]->(s:Scenario)-[:HIT]->(h:Impact)
RETURN r.kind AS kind, r.chain AS chain, r.preset AS preset, s.chain AS scenario_chain,
       s.stages AS stages, h.stage AS stage, sum(h.demand_loss_t_metal) AS loss,
       sum(coalesce(h.stock_drawn_t_metal, 0.0)) AS drawn,
       sum(count { (h)-[:STARVES]->() }) AS starves
ORDER BY stage
"""


def test_a_scenario_file_runs_on_a_chain_with_a_shock_at_each_stage(
    demo_data: GraphStore, tmp_path: Path
) -> None:
    from critmin.policy import read_scenario, run_policy
    from critmin.simulator import Shock, simulate_chain
    from critmin.store.chains import chain_networks

    path = tmp_path / "demo-chain.toml"
    path.write_text(DEMO_CHAIN_FILE)
    sc = read_scenario(path)
    assert sc.is_chain and [s.stage for s in sc.shocks] == [0, 1]
    outcome = run_policy(demo_data, sc)
    assert outcome.is_chain and outcome.basis == "cobalt_demo" and outcome.unit == "t_metal"
    assert list(outcome.summary["stage"]) == [0, 1]
    assert list(outcome.summary["commodity"]) == ["cobalt", "cobalt_oxides"]
    caption = outcome.caption()
    assert "chain cobalt_demo (stages 0 cobalt, 1 cobalt_oxides" in caption
    assert "estimated at stage(s) 1" in caption and "preset physical" in caption
    assert "ZMB 1 at stage 1 (cobalt_oxides)" in caption

    # The chain engine's own answer on the same stage networks, stockpile at the last stage.
    networks = chain_networks(demo_data, "cobalt_demo", 2024).networks
    shocks = [Shock("COD", 0.5, mode="production"), Shock("ZMB", 1.0, stage=1)]
    direct = simulate_chain(
        networks, shocks, stockpiles={1: {"JPN": sc.stockpiles["JPN"]}}, **outcome.parameters
    )
    for k, row in outcome.summary.iterrows():
        stage = direct.stages[k]
        assert row["initial_shock"] == pytest.approx(stage.initial_shock, rel=1e-12)
        assert row["demand_loss"] == pytest.approx(float(stage.demand_loss.sum()), rel=1e-12)
        assert row["coupling_cut"] == pytest.approx(float(stage.coupling_cut.sum()), rel=1e-12)
        # The invariant per stage: sum(L) + sum(drawn) == S0 (own shocks plus the cut).
        assert row["demand_loss"] + row["stock_drawn"] == pytest.approx(row["initial_shock"])
    assert outcome.summary.loc[1, "coupling_cut"] > 0  # the DRC's cut reaches stage 1

    stored = demo_data.query(POLICY_STAGES, run=sc.run_id)
    first = stored.iloc[0]
    assert (first["kind"], first["chain"], first["preset"]) == ("policy", "cobalt_demo", "physical")
    assert first["scenario_chain"] == "cobalt_demo" and list(first["stages"]) == [0, 1]
    assert list(stored["stage"]) == [0, 1]
    for k, row in stored.set_index("stage").iterrows():
        total = outcome.summary.loc[k, "demand_loss"] + outcome.summary.loc[k, "stock_drawn"]
        assert row["loss"] + row["drawn"] == pytest.approx(total, rel=1e-9)
    assert stored.set_index("stage").loc[0, "starves"] > 0  # stage-0 losses starve stage 1
    again = run_policy(demo_data, sc)  # re-running replaces: the same scenario id
    assert list(again.summary["scenario_id"]) == list(outcome.summary["scenario_id"])
    # The report's chain section and the chain queries read sweeps, never a file's run (its
    # COD scenario at stage 0 is newer and has as large a shock, 1.0, as the sweep's).
    _, swept_id = _bulk_drc(demo_data)
    run_policy(demo_data, sc)
    swept = chain_scenario(demo_data, "cobalt_demo", "COD")
    assert swept is not None and swept[0]["id"] == swept_id


@pytest.mark.usefixtures("neo4j_env")
def test_cli_runs_a_chain_scenario_file(demo_data: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "demo-chain.toml"
    path.write_text(DEMO_CHAIN_FILE)
    ran = CliRunner().invoke(app, ["scenario", "run", str(path), "--top", "80"])
    assert ran.exit_code == 0, ran.output
    out = " ".join(ran.output.split())
    assert "cobalt_demo 2024 stage 0 (cobalt): initial shock" in out
    assert "cobalt_demo 2024 stage 1 (cobalt_oxides): initial shock" in out
    assert "coupling cut" in out and "preset physical" in out
    assert "coupling_cut_t_metal" in out and "stored as run policy_demo-chain-test" in out
    beyond = path.with_name("beyond.toml")
    beyond.write_text(DEMO_CHAIN_FILE.replace("stage = 1", "stage = 2"))
    refused = CliRunner().invoke(app, ["scenario", "run", str(beyond)])
    assert refused.exit_code == 2
    assert "beyond.toml: shocks[1].stage = 2: beyond chain cobalt_demo's stages 0 .. 1" in (
        " ".join(refused.output.split())
    )


def test_the_demo_chain_swept_on_dask_equals_the_local_sweep(demo_data: GraphStore) -> None:
    """`critmin simulate --commodity cobalt_demo --executor dask`'s engine: every source of
    both stages of the demo chain, on a local Dask cluster, gives the local tables exactly."""
    pytest.importorskip("distributed")
    study = chain_study("cobalt_demo", years=[2024], shocks=[1.0, 0.5], mode="production")
    local = run_chain_sweep(demo_data, study, write=False)
    remote = run_chain_sweep(demo_data, study, write=False, executor="dask")
    for name in ("runs", "impacts", "transmitted"):
        pd.testing.assert_frame_equal(
            getattr(local.result, name), getattr(remote.result, name), check_exact=True, obj=name
        )
    assert set(local.result.runs["source_stage"]) == {0, 1}
    assert len(local.result.runs) > 50 and local.result.impacts["coupling_cut"].gt(0).any()


# A BACI release holding every stage of cobalt_chain (HS 2605, 8105, 2822), as CEPII ships it.
# BACI numeric codes: 180 COD, 894 ZMB, 156 CHN, 246 FIN, 392 JPN, 410 KOR; v in thousand USD.
CHAIN_BACI = """t,i,j,k,v,q
2022,180,156,260500,2000.000,1000.000
2022,180,156,810520,30000.000,3000.000
2022,894,156,810520,5000.000,500.000
2022,180,894,810520,4000.000,400.000
2022,156,392,810520,9000.000,300.000
2022,156,410,810520,6000.000,200.000
2022,246,392,810520,3000.000,100.000
2022,246,410,282200,2000.000,100.000
"""
CHAIN_COUNTRIES = """country_code,country_name,country_iso2,country_iso3
156,China,CN,CHN
180,Dem. Rep. of the Congo,CD,COD
246,Finland,FI,FIN
392,Japan,JP,JPN
410,Rep. of Korea,KR,KOR
894,Zambia,ZM,ZMB
"""


@pytest.mark.usefixtures("neo4j_env")
def test_the_drc_file_runs_on_the_cobalt_chain_once_its_stages_are_loaded(
    store: GraphStore, tmp_path: Path
) -> None:
    """Run last in this module: it empties the database the tests above share."""
    import zipfile

    from critmin.policy import read_scenario, run_policy
    from critmin.store.loading import PRODUCED, apply_plan, plan_load

    baci = tmp_path / "BACI_HS17_V202601.zip"
    with zipfile.ZipFile(baci, "w") as archive:
        archive.writestr("BACI_HS17_Y2022_V202601.csv", CHAIN_BACI)
        archive.writestr("country_codes_V202601.csv", CHAIN_COUNTRIES)
    loaded = CliRunner().invoke(app, ["load", "trades", str(baci), "--format", "baci"])
    assert loaded.exit_code == 0, loaded.output
    mine = pd.DataFrame(
        {
            "year": [2022, 2022],
            "country": ["COD", "ZMB"],
            "commodity": ["cobalt", "cobalt"],
            "tonnes": [1500.0, 50.0],
            "source": ["test mine production"] * 2,
        }
    )
    rows = [{"id": "cobalt", "name": "Cobalt", "hs_codes": [], "production_commodity": "cobalt"}]
    apply_plan(store, plan_load(store, PRODUCED, mine, {}, rows))

    sc = read_scenario(Path(__file__).resolve().parents[2] / "scenarios/drc-cobalt-ban-2025.toml")
    outcome = run_policy(store, sc)
    assert outcome.fallback_note == "" and outcome.basis == "cobalt_chain"
    summary = outcome.summary.set_index("stage")
    assert list(summary.index) == [1, 2]  # from the DRC's stage (intermediates) down
    # The DRC's cut: 77.5% of its 3,400 t of 810520 at 0.35 Co, in contained cobalt.
    assert summary.loc[1, "initial_shock"] == pytest.approx(0.775 * 3400 * 0.35)
    assert summary.loc[2, "coupling_cut"] > 0 and summary.loc[2, "initial_shock"] > 0
    refined = outcome.countries[outcome.countries["stage"] == 2].set_index("country")
    assert {"JPN", "KOR"} <= set(refined.index)  # users of refined metal lose it
    assert refined.loc["JPN", "stock_drawn"] > 0  # Japan's 60 days, held at the last stage
    for k, row in summary.iterrows():
        assert row["demand_loss"] + row["stock_drawn"] == pytest.approx(row["initial_shock"]), k
    assert "chain cobalt_chain" in outcome.caption() and "estimated at stage(s) 1, 2" in (
        outcome.caption()
    )
    ran = CliRunner().invoke(app, ["scenario", "run", str(sc.path)])
    assert ran.exit_code == 0, ran.output
    out = " ".join(ran.output.split())
    assert "FALLBACK" not in out
    assert "cobalt_chain 2022 stage 2 (cobalt_refined): initial shock" in out


@pytest.mark.usefixtures("neo4j_env")
def test_commands_of_single_network_studies_name_what_serves_a_chain(
    store: GraphStore, tmp_path: Path
) -> None:
    """`results`, `report` and `sensitivity` read or re-run single-network studies: given a
    chain (its sweep stored), each says so in one line and names what answers instead; a
    production-mode sweep of a network with no production says why, and `results` asked for
    the wrong mode names the stored one."""
    load_demo(store, DATA)  # as bundled (a test above loads other years and stages)
    runner = CliRunner()
    _sweep_drc_stop(runner, 1.0)
    for command in (
        ["results", "sources", "--commodity", "cobalt_demo"],
        ["results", "sources", "--commodity", "cobalt_demo", "--mode", "production"],
        ["report", "--commodity", "cobalt_demo", "--out", str(tmp_path / "report")],
        ["sensitivity", "--commodity", "cobalt_demo", "--years", "2024"],
    ):
        ran = runner.invoke(app, command)
        out = " ".join(ran.output.split())
        assert ran.exit_code == 2, (command, ran.output)
        assert ran.exception is None or isinstance(ran.exception, SystemExit), command
        assert "cobalt_demo is a supply chain" in out, (command, out)
        assert "chain_paths" in out and "(cobalt, cobalt_oxides)" in out, (command, out)
    assert not (tmp_path / "report").exists()
    for command in (
        ["stock-needed", "--commodity", "cobalt_demo", "--source", "COD", "--year", "2024"],
        ["metrics", "concentration", "--commodity", "cobalt_demo"],
    ):
        ran = runner.invoke(app, command)
        out = " ".join(ran.output.split())
        assert ran.exit_code == 2, (command, ran.output)
        assert "'cobalt_demo' is a supply chain (cobalt -> cobalt_oxides), not a commodity" in out
        assert "--commodity cobalt or cobalt_oxides" in out, out

    # HS 282200 in gross tonnes (the 2024 default) leaves the mine production (contained
    # metal) out, and so has none to cut.
    ran = runner.invoke(
        app, ["simulate", "--commodity", "cobalt_oxides", "--years", "2024", "--mode", "production"]
    )
    out = " ".join(ran.output.split())
    assert ran.exit_code == 2, ran.output
    assert "--mode production cuts each source's production" in out
    assert "cobalt_oxides networks (tonnes, 2024) carry none (production left out" in out
    assert "use --measure metal" in out and "with the production of cobalt loaded" in out

    # Production-mode sweeps stored (metal: the USGS cobalt production joins the network);
    # `results` in the default export mode names them.
    stored = runner.invoke(
        app,
        [
            "simulate", "--commodity", "cobalt_oxides", "--years", "2024", "--mode",
            "production", "--measure", "metal", "--source", "COD",
        ],
    )  # fmt: skip
    assert stored.exit_code == 0, stored.output
    ran = runner.invoke(app, ["results", "sources", "--commodity", "cobalt_oxides"])
    out = " ".join(ran.output.split())
    assert ran.exit_code == 2, ran.output
    assert (
        "no stored export sweeps for cobalt_oxides (production sweeps of it are stored: add "
        "--mode production)"
    ) in out
