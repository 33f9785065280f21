"""Policy scenarios and stockpiles on the demo graph: every file of scenarios/ runs and is
stored under its name, re-running replaces it, stored losses and draws add up to the shock,
and `simulate --stockpile` stores what the simulator draws."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.loader.commodities import find_group
from critmin.pipeline import networks, run_sweep
from critmin.policy import read_scenario, run_policy
from critmin.policy.run import rank_by_share
from critmin.simulator import Shock, Stockpile, simulate, stock_needed
from critmin.store.graph import GraphStore
from critmin.store.networks import read_panel
from critmin.store.scenario_reads import find_run, policy_stock
from critmin.units import Unit

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "scenarios").glob("*.toml"))

STORED = """
MATCH (r:Run {id: $run_id})-[:INCLUDES]->(s:Scenario)
OPTIONAL MATCH (s)-[:HIT]->(h:Impact)
RETURN s.id AS id, s.year AS year, s.initial_shock_t AS shock_t,
       s.initial_shock_t_metal AS shock_t_metal, s.initial_shock_usd AS shock_usd,
       r.kind AS kind, r.scenario AS scenario, r.scenario_digest AS digest, r.status AS status,
       r.preset AS preset, r.failure_text AS failure_text,
       sum(coalesce(h.demand_loss_t, h.demand_loss_t_metal, h.demand_loss_usd)) AS loss,
       sum(coalesce(h.stock_drawn_t, h.stock_drawn_t_metal, h.stock_drawn_usd, 0.0)) AS drawn,
       count(h) AS impacts, sum(CASE WHEN h.failed THEN 1 ELSE 0 END) AS failed,
       count(coalesce(h.stock_needed_t, h.stock_needed_t_metal, h.stock_needed_usd)) AS needs
"""

DRAWN = """
MATCH (s:Scenario {id: $id})-[:HIT]->(h:Impact)
RETURN h.iso3 AS country, h.stock_drawn_t AS drawn, h.demand_loss_t AS loss
"""


def test_every_scenario_file_runs_on_the_demo_graph_and_is_stored(demo_store: GraphStore) -> None:
    assert len(FILES) >= 5
    for path in FILES:
        sc = read_scenario(path)
        outcome = run_policy(demo_store, sc)
        stored = demo_store.query(STORED, run_id=sc.run_id)
        assert len(stored) == len(outcome.summary) == 1, path.name
        row = stored.iloc[0]
        assert (row["kind"], row["scenario"], row["digest"], row["status"]) == (
            "policy",
            sc.name,
            sc.digest,
            "complete",
        )
        shock = next(row[c] for c in ("shock_t", "shock_t_metal", "shock_usd") if pd.notna(row[c]))
        # The invariant of model.md, from the stored graph: sum(L) + sum(drawn) == S0.
        assert row["loss"] + row["drawn"] == pytest.approx(shock, rel=1e-9), path.name
        assert row["failed"] == outcome.summary["n_failed"].iloc[0] > 0
        assert row["needs"] == (outcome.countries["stock_needed"] > 0).sum() > 0
        if sc.stockpiles:
            assert row["drawn"] > 0, path.name
        # Re-running the same file replaces it: same scenario, same cascade, one run.
        again = run_policy(demo_store, sc)
        assert list(again.summary["scenario_id"]) == [row["id"]]
        # (sums over the Impacts come back in any order: equal to rounding)
        pd.testing.assert_frame_equal(
            demo_store.query(STORED, run_id=sc.run_id), stored, rtol=1e-12
        )
    # Policy runs never answer for the study.
    assert find_run(demo_store, "cobalt_oxides")["kind"] == "study"


#: The failure rule as every policy output states it: the floor with its unit, the share.
STATED_RULE = re.compile(
    r"failure rule (?P<rule>[\w-]+) \(failed: loss > (?P<floor>[\d,.]+) (?P<unit>t contained "
    r"metal|t|USD)(?: and > (?P<share>\d+)% of consumption)?"
)


def _stated_rule(text: str) -> tuple[str, float, Unit, float]:
    """The rule, its floor, the floor's unit and the share of consumption an output states."""
    found = STATED_RULE.search(text)
    assert found, text
    unit = next(u for u in Unit if Unit.amount(u, 1).endswith(" " + found["unit"]))
    share = float(found["share"]) / 100 if found["share"] else 0.0
    return found["rule"], float(found["floor"].replace(",", "")), unit, share


def test_scenario_files_count_no_noise_and_lose_at_most_their_consumption(
    demo_store: GraphStore,
) -> None:
    """Under the rule each file states, in the file's unit, no failure is a loss below it, and
    every loss above it is one (both in the run's table and in what the report reads from the
    graph); under the physical preset (every bundled file's) no country loses more than it
    consumes plus its reported ``unbalanced``; every output names the preset and the rule."""
    for path in FILES:
        sc = read_scenario(path)
        outcome = run_policy(demo_store, sc)
        params, table = outcome.parameters, outcome.countries
        assert outcome.preset == "physical" and sc.failure_rule == "share-1pct", path.name
        assert "preset physical" in outcome.caption()
        rule, floor, unit, share = _stated_rule(outcome.caption())
        assert rule == sc.failure_rule and unit == Unit.of(outcome.unit), path.name
        assert _stated_rule(outcome.failure_text()) == (rule, floor, unit, share)
        # The floor is the unit's (1 t, 1 t of metal, 10,000 USD) unless the file restates it.
        assert sc.parameters.fail_abs is not None or floor == unit.failure_floor, path.name
        assert share == 0.01 and floor == params["fail_abs"], path.name
        failed = table[table["failed"]]
        assert (failed["demand_loss"] > floor).all(), path.name
        assert (failed["demand_loss"] > share * failed["demand"]).all(), path.name
        # A loss of a kilogram (or under the rule's floor) is never a failure...
        small = table[table["demand_loss"] <= floor]
        assert not small["failed"].any(), path.name
        # ...and a loss above both thresholds of a country that is not a source always is.
        sources = {s.source for s in sc.shocks}
        above = table[
            (table["demand_loss"] > floor)
            & (table["demand_loss"] > share * table["demand"])
            & ~table["country"].isin(sources)
        ]
        assert above["failed"].all(), path.name
        # What the report reads from the graph states the same failures, shares and unbalanced.
        stored = policy_stock(demo_store, sc.run_id)
        assert set(stored.loc[stored["failed"], "country"]) == set(failed["country"]), path.name
        mine = table.set_index("country")
        for row in stored.itertuples():
            assert row.demand_loss > floor or not row.failed, (path.name, row.country)
            if row.demand_loss > 0:
                assert row.share_of_consumption_lost == pytest.approx(
                    mine.loc[row.country, "share_of_consumption_lost"], rel=1e-9, nan_ok=True
                )
            assert row.unbalanced == pytest.approx(mine.loc[row.country, "unbalanced"], abs=1e-9)
        assert list(rank_by_share(stored)["country"]) == list(stored["country"]), path.name
        # The consumption cap: L_i <= max(D_i, 0) + unbalanced_i (model.md), up to what the
        # engine settles where it stands: a pending loss at or below eps_pass (1e-9 of the
        # shock) in a round, and the last round's remainder below tol.
        room = table["demand"].clip(lower=0) + table["unbalanced"]
        excess = table["demand_loss"] - room
        summary = outcome.summary.iloc[0]
        slack = params["eps_pass"] * summary["initial_shock"] * (summary["rounds"] + 1)
        assert (excess <= slack).all(), (path.name, excess.max(), slack)
        # ...which is rounding: no country that consumes nothing keeps a loss of 1 t or more.
        assert (excess < params["fail_abs"]).all(), path.name
        # Ranked: failed countries first, each group by the share of consumption lost.
        flags = table["failed"].to_numpy()
        assert not (~flags[:-1] & flags[1:]).any(), path.name  # no failure after a non-failure
        for _, group in table.groupby("failed"):
            shares = group["share_of_consumption_lost"].dropna().to_numpy()
            assert (shares[:-1] >= shares[1:]).all(), path.name
            assert group["share_of_consumption_lost"].isna().sum() == (
                group["share_of_consumption_lost"].iloc[len(shares) :].isna().sum()
            ), path.name  # blanks (no consumption) last
        if sc.fallback is not None:
            assert outcome.fallback_note.startswith("FALLBACK: ") and sc.fallback.load in (
                outcome.caption()
            )
            assert outcome.group.id == sc.fallback.commodity


def test_stockpile_option_stores_what_the_simulator_draws(
    demo_store: GraphStore, neo4j_env: None
) -> None:
    study = find_run(demo_store, "cobalt_oxides")["id"]
    args = ["simulate", "--commodity", "cobalt_oxides", "--years", "2024", "--source", "COD"]
    args += ["--shock", "1.0", "--stockpile", "CHN=3months", "--stockpile", "KOR=500"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Stock drawn" in result.output

    panel = read_panel(demo_store, find_group("cobalt_oxides"), [2024])
    network = networks(panel)[2024]
    stocks = {"CHN": Stockpile.months(3), "KOR": Stockpile(500.0)}
    expected = simulate(network, Shock("COD", 1.0), stockpiles=stocks)
    run = demo_store.query(
        "MATCH (r:Run) WHERE r.stockpiles = ['CHN=3months', 'KOR=500'] "
        "MATCH (r)-[:INCLUDES]->(s:Scenario) RETURN s.id AS id, s.stock_drawn_t AS total, "
        "s.stockpiles AS stockpiles, s.stockpile_countries AS countries, s.stockpile_t AS q"
    )
    assert len(run) == 1
    got = demo_store.query(DRAWN, id=run["id"].iloc[0]).set_index("country")
    drawn = expected.stock_drawn[expected.stock_drawn > 0]
    assert set(drawn.index) == {"CHN", "KOR"}
    for country, value in drawn.items():
        assert got.loc[country, "drawn"] == pytest.approx(value, rel=1e-12)
        assert got.loc[country, "loss"] == pytest.approx(expected.demand_loss[country], abs=1e-9)
    assert run["total"].iloc[0] == pytest.approx(drawn.sum(), rel=1e-12)
    assert list(run["countries"].iloc[0]) == ["CHN", "KOR"]
    assert run["q"].iloc[0][0] == pytest.approx(expected.stockpiles["CHN"], rel=1e-12)
    # A scenario with stockpiles has its own id, beside the one without.
    plain = run_sweep(
        demo_store, "cobalt_oxides", years=[2024], shocks=[1.0], sources=["COD"], write=True
    )
    assert plain.scenario_ids[0] != run["id"].iloc[0]
    # A stockpiled study never replaces the study of the same parameters without stockpiles.
    run_sweep(demo_store, "cobalt_oxides", years=[2024], shocks=[1.0], stockpiles=stocks)
    assert find_run(demo_store, "cobalt_oxides")["id"] == study


def test_stock_needed_command_prints_the_simulator_answer(
    demo_store: GraphStore, neo4j_env: None
) -> None:
    args = ["stock-needed", "--commodity", "cobalt_oxides", "--year", "2024", "--source", "COD"]
    result = CliRunner().invoke(app, [*args, "--shock", "0.5", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["parameters"]["unit"] == "t" and payload["parameters"]["year"] == 2024
    rows = pd.DataFrame(payload["rows"]).set_index("country")
    panel = read_panel(demo_store, find_group("cobalt_oxides"), [2024])
    expected = stock_needed(networks(panel)[2024], Shock("COD", 0.5)).set_index("country")
    assert set(rows.index) == set(expected.index)
    assert rows["stock_needed_t"].to_numpy() == pytest.approx(
        expected.loc[rows.index, "stock_needed"].to_numpy(), rel=1e-12
    )
    table = CliRunner().invoke(app, [*args, "--top", "5"])
    assert "months_of_demand" in table.output and "failure rule any-loss" in table.output


def test_scenario_run_command_prints_failures_draws_and_needs(
    demo_store: GraphStore, neo4j_env: None
) -> None:
    path = ROOT / "scenarios" / "importer-alliance-msp-gallium.toml"
    result = CliRunner().invoke(app, ["scenario", "run", str(path), "--top", "60"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "importer-alliance-msp-gallium" in out and "countries failed (" in out
    assert "stock drawn" in out and "stored as run policy_importer-alliance-msp-gallium" in out
    for column in ("demand_loss_usd", "stock_drawn_usd", "stock_needed_usd", "months_of_demand"):
        assert column in out
    assert (
        "failure rule share-1pct (failed: loss > 300,000 USD and > 1% of consumption; fail_abs "
        "restated, the rule's own: 10,000 USD)"
    ) in out
    assert "preset physical" in out and "share_of_consumption_lost" in out
    assert "Countries by share of consumption lost: importer-alliance-msp-gallium" in out
    # unbalanced is printed where it is not 0 (the JSON keeps the column for every country).
    payload = json.loads(
        CliRunner()
        .invoke(app, ["scenario", "run", str(path), "--no-store", "--format", "json"])
        .output
    )
    rows = pd.DataFrame(payload["rows"])
    assert {"share_of_consumption_lost", "unbalanced_usd"} <= set(rows.columns)
    assert ("unbalanced_usd" in out) == bool((rows["unbalanced_usd"] != 0).any())
