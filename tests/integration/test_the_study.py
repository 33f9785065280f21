"""One answer to "which run is the study": after later sweeps of every other kind, `critmin
results`, the report and the sweep-level Cypher library all read the run flagged ``is_study``
when it was stored. And what a command line says is stored once: repeated options give one
scenario, a password given as an option never reaches the graph, and runs that cannot finish
are refused before anything is written."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.analysis.queries import run_query
from critmin.cli.main import app
from critmin.pipeline import load_trades, run_sweep
from critmin.policy import read_scenario, run_policy
from critmin.report.study import load_study
from critmin.store.graph import GraphStore
from critmin.store.migration import migrate
from critmin.store.networks import NoTradeData
from critmin.store.scenario_reads import (
    NoScenarios,
    country_table,
    find_run,
    loss_table,
    source_table,
)
from critmin.study import RunTooLarge, YearsNotHeld

pytestmark = pytest.mark.integration

FLOWS = """year,exporter,importer,hs,tonnes,value_usd
2022,COD,ZAF,260500,100,1000
2022,ZAF,CHN,260500,60,700
2022,ZAF,FIN,260500,30,350
2022,AUS,CHN,260500,20,240
2022,CHN,FIN,810520,10,400
2023,COD,ZAF,260500,120,1300
2023,ZAF,CHN,260500,70,800
2023,AUS,FIN,260500,25,300
2023,CHN,FIN,810520,12,420
"""

POLICY = """
name = "test-cod-ban"
description = "COD stops exporting for four months."
commodity = "cobalt"
years = [2023]

[[sources]]
title = "A source"
url = "https://example.org/a"

[[shocks]]
source = "COD"
months = 4
"""

STORED = """
MATCH (s:Scenario)
RETURN s.id AS id, COUNT { (s)-[:HIT]->(:Impact) } AS impacts,
       COUNT { (s)-[:SHOCKS]->() } AS shocks
ORDER BY id
"""

RUN_OF = "MATCH (s:Scenario {id: $id}) RETURN s.run_id AS run"
RUNS = (
    "MATCH (r:Run) RETURN r.id AS id, r.kind AS kind, r.is_study AS is_study, r.command AS command"
)


@pytest.fixture()
def loaded(store: GraphStore, tmp_path: Path) -> GraphStore:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])
    return store


def run_of(store: GraphStore, scenario_id: str) -> str:
    return str(store.records(RUN_OF, id=scenario_id)[0]["run"])


def test_every_reader_names_the_study_after_later_sweeps(
    loaded: GraphStore, neo4j_env: None, tmp_path: Path
) -> None:
    study = run_of(loaded, run_sweep(loaded, "cobalt", command="study").scenario_ids[0])
    # The case first: a later stockpiled sweep of the last years...
    run_sweep(loaded, "cobalt", years=[2023], stockpiles={"CHN": 5.0}, command="stockpiled")
    # ... then one of every other kind, each newer than the study.
    run_sweep(loaded, "cobalt", alpha=0.5, command="alpha")
    run_sweep(loaded, "cobalt", sources=["COD"], command="selection")
    run_sweep(loaded, "cobalt", sources=["COD", "AUS"], together=True, command="coalition")
    run_sweep(loaded, "cobalt", sources=["COD"], targets=["ZAF"], command="embargo")
    policy = tmp_path / "test-cod-ban.toml"
    policy.write_text(textwrap.dedent(POLICY))
    run_policy(loaded, read_scenario(policy))
    runs = loaded.query(RUNS)
    assert len(runs) == 7
    assert runs.loc[runs["is_study"].fillna(False).astype(bool), "id"].tolist() == [study]
    assert set(runs["kind"]) == {"study", "selection", "coalition", "embargo", "policy"}

    # The store's reads, as `critmin results` and the report use them.
    for shock in (1.0, 0.5):
        for read in (source_table, country_table, loss_table):
            assert read(loaded, "cobalt", shock)[1]["run_id"] == study
    assert find_run(loaded, "cobalt")["id"] == study
    assert load_study(loaded, "cobalt").run_ids == [study]
    # The CLI.
    for table in ("sources", "losses", "hubs"):
        result = CliRunner().invoke(
            app, ["results", table, "--commodity", "cobalt", "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["parameters"]["run_id"] == study
    # The Cypher library, as pasted in Browser.
    common = {"commodity": "cobalt", "mode": "export", "run_id": None}
    for name, extra in (
        ("top_risk_sources", {"shock": 1.0, "limit": 50}),
        ("most_exposed_countries", {"shock": 1.0, "limit": 50}),
        ("transit_hubs", {"shock": 0.5, "limit": 50}),
        ("exposure_by_source", {"shock": 1.0, "country": "CHN", "limit": 50}),
        ("source_failed_by_year", {"source": "COD"}),
    ):
        answer = run_query(loaded, name, {**common, **extra})
        assert not answer.empty, name
        assert set(answer["run_id"]) == {study}, name
    # A parameter set other than the default is still there to ask for.
    assert source_table(loaded, "cobalt", 1.0, where={"alpha": 0.5})[1]["run_id"] != study


def test_every_results_table_uses_one_suffix_rule(loaded: GraphStore, neo4j_env: None) -> None:
    run_sweep(loaded, "cobalt", measure="usd")
    columns = []
    for table in ("losses", "hubs"):
        result = CliRunner().invoke(
            app, ["results", table, "--commodity", "cobalt", "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        columns += list(json.loads(result.output)["rows"][0])
    with_unit = [c for c in columns if c.endswith(("_usd", "_USD", "_t"))]
    assert "mean_loss_all_runs_usd" in with_unit and "received_usd" in with_unit
    assert all(c.endswith("_usd") for c in with_unit), with_unit


def test_repeated_options_store_one_scenario(loaded: GraphStore, neo4j_env: None) -> None:
    runner = CliRunner()
    base = ["simulate", "--commodity", "cobalt", "--years", "2022", "--source", "COD"]
    once = runner.invoke(app, [*base, "--shock", "1"])
    assert once.exit_code == 0, once.output
    single = loaded.query(STORED)
    assert len(single) == 1
    repeated = runner.invoke(
        app, [*base, "--source", "cod", "--shock", "1", "--shock", "1.0", "--shock", "1"]
    )
    assert repeated.exit_code == 0, repeated.output
    assert "1 runs" in " ".join(repeated.output.split())
    # The same scenario, replaced: one SHOCKS, and as many Impacts as the single run wrote.
    assert loaded.query(STORED).to_dict("records") == single.to_dict("records")
    assert single["shocks"].tolist() == [1]

    targeted = [*base, "--shock", "1", "--target", "CHN"]
    assert runner.invoke(app, targeted).exit_code == 0
    before = set(loaded.query(STORED)["id"])
    again = runner.invoke(app, [*targeted, "--target", "chn", "--target", "CHN"])
    assert again.exit_code == 0, again.output
    assert set(loaded.query(STORED)["id"]) == before  # no second id for the same embargo


def test_a_password_option_never_reaches_the_graph(
    loaded: GraphStore, neo4j_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = os.environ["NEO4J_PASSWORD"]
    monkeypatch.delenv("NEO4J_PASSWORD")
    args = ["simulate", "--commodity", "cobalt", "--years", "2022", "--source", "COD"]
    for given in (
        [*args, "--password", password],
        [*args, "--shock", "0.5", f"--password={password}"],
    ):
        monkeypatch.setattr(sys, "argv", ["critmin", *given])  # what the command line was
        result = CliRunner().invoke(app, given)
        assert result.exit_code == 0, result.output
    # A Python caller's command line is cleaned when stored, too.
    run_sweep(loaded, "cobalt", years=[2023], command=f"my-script --password {password}")
    commands = loaded.query(RUNS)["command"].tolist()
    assert len(commands) == 3
    assert all(password not in c and "--password" in c and "REDACTED" in c for c in commands)
    stored = loaded.query("MATCH (n) UNWIND keys(n) AS k WITH n[k] AS v RETURN collect(v) AS v")
    assert password not in json.dumps(stored["v"].iloc[0], default=str)
    sweeps = run_query(loaded, "sweeps", {"commodity": "cobalt", "limit": 10})
    assert not any(password in str(c) for c in sweeps["command"])


def test_runs_that_cannot_finish_are_refused_before_writing(
    loaded: GraphStore, neo4j_env: None
) -> None:
    with pytest.raises(YearsNotHeld, match="holds 2022-2023 only"):
        run_sweep(loaded, "cobalt", years=range(2002, 2025))
    # 2 years x 2 shock sizes x 4 exporters.
    with pytest.raises(RunTooLarge, match=r"plans 16 scenarios .* above the limit of 15"):
        run_sweep(loaded, "cobalt", max_scenarios=15)
    assert loaded.query(RUNS).empty and loaded.query(STORED).empty
    result = CliRunner().invoke(app, ["simulate", "--commodity", "cobalt", "--years", "2002-2024"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "the loaded cobalt trade holds 2022-2023 only" in " ".join(result.output.split())
    with pytest.raises(NoTradeData):
        run_sweep(loaded, "lithium_carbonate")


def test_runs_stored_before_the_flag_are_flagged_by_migrate(loaded: GraphStore) -> None:
    study = run_of(loaded, run_sweep(loaded, "cobalt").scenario_ids[0])
    run_sweep(loaded, "cobalt", alpha=0.5)
    run_sweep(loaded, "cobalt", stockpiles={"CHN": 5.0})
    loaded.execute("MATCH (r:Run) REMOVE r.is_study")  # as an earlier critmin stored them
    with pytest.raises(NoScenarios, match="3 sweep"):
        find_run(loaded, "cobalt")
    assert migrate(loaded) == []
    assert find_run(loaded, "cobalt")["id"] == study
    assert loaded.query(RUNS)["is_study"].sum() == 1
