"""The sweep against Neo4j: scenarios written back, replaced on re-run, tables from the graph."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.pipeline import InvalidParameters, load_trades, run_sweep
from critmin.simulator import Shock, TradeNetwork, simulate
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import (
    NoScenarios,
    loss_table,
    matching_scenarios,
    scenario_cascade,
    source_table,
)

pytestmark = pytest.mark.integration

# A source (AAA) ships to a hub (HUB) that re-exports to two importers; a second supplier (BBB).
FLOWS = """year,exporter,importer,hs,tonnes,value_usd
2022,COD,ZAF,260500,100,1000
2022,ZAF,CHN,260500,60,700
2022,ZAF,FIN,260500,30,350
2022,AUS,CHN,260500,20,240
2022,CHN,FIN,810520,10,400
2023,COD,ZAF,260500,120,1300
2023,ZAF,CHN,260500,70,800
2023,AUS,FIN,260500,25,300
"""

COUNTS = """
MATCH (s:Scenario {commodity: 'cobalt'})
OPTIONAL MATCH (s)-[:HIT]->(h:Impact)
WITH count(DISTINCT s) AS scenarios, count(h) AS impacts
MATCH ()-[t:TRANSMITS]->()
WITH scenarios, impacts, count(t) AS transmits
MATCH ()-[k:SHOCKS]->()
RETURN scenarios, impacts, transmits, count(k) AS shocks
"""

# Per scenario: its SHOCKS, Impact nodes and TRANSMITS (a scenario written twice has doubles).
PER_SCENARIO = """
MATCH (s:Scenario)
RETURN s.id AS id, s.year AS year, s.sources[0] AS sources, s.shock AS fraction,
       COUNT { (s)-[:SHOCKS]->() } AS shocks,
       COUNT { (s)-[:HIT]->(:Impact) } + size(coalesce(s.minor_iso3, [])) AS impacts,
       COUNT { (s)-[:HIT]->(:Impact)-[:TRANSMITS]->() } AS transmits
ORDER BY id
"""


@pytest.fixture()
def loaded(store: GraphStore, tmp_path: Path) -> GraphStore:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])
    return store


def test_scenarios_match_the_simulator_and_rerun_replaces(loaded: GraphStore) -> None:
    outcome = run_sweep(loaded, "cobalt", command="test")
    runs = outcome.result.runs
    assert len(outcome.scenario_ids) == len(runs) == len(set(outcome.scenario_ids))
    first = loaded.records(COUNTS)

    again = run_sweep(loaded, "cobalt", command="test again")
    assert again.scenario_ids == outcome.scenario_ids  # deterministic ids
    assert loaded.records(COUNTS) == first  # replaced, not duplicated

    # COD's 2022 total ban, stored, equals a direct simulation of the same network.
    network = TradeNetwork.from_frames(
        pd.DataFrame(
            {
                "exporter": ["COD", "ZAF", "ZAF", "AUS", "CHN"],
                "importer": ["ZAF", "CHN", "FIN", "CHN", "FIN"],
                "quantity": [100.0, 60, 30, 20, 10],
            }
        )
    )
    direct = simulate(network, Shock("COD", 1.0))
    (cod,) = matching_scenarios(loaded, "cobalt", 2022, "COD", 1.0, "export")
    impacts, _edges = scenario_cascade(loaded, str(cod["id"]))  # Impacts and minor_* lists
    stored = impacts.set_index("country")
    assert cod["unit"] == "t" and cod["initial_shock_t"] == pytest.approx(100.0)
    for country, loss in direct.demand_loss.items():
        if loss > 0:
            assert stored.loc[country, "demand_loss"] == pytest.approx(loss, rel=1e-9)
    assert cod["n_failed"] == direct.n_failed == int(stored["failed"].sum())


def test_graph_tables_equal_the_in_memory_tables(loaded: GraphStore) -> None:
    outcome = run_sweep(loaded, "cobalt")
    memory = outcome.result.source_table(outcome.panel.countries)
    for fraction in (1.0, 0.5):
        graph, context = source_table(loaded, "cobalt", fraction)
        mine = memory[memory["fraction"] == fraction].reset_index(drop=True)
        assert context["panel_countries"] == len(outcome.panel.countries) == 5
        assert list(graph["source"]) == list(mine["source"])
        assert list(graph["total_failed"]) == list(mine["total_failed"])
        assert graph["failure_rate"].tolist() == pytest.approx(mine["failure_rate"].tolist())
    losses, _ = loss_table(loaded, "cobalt", 1.0)
    in_memory = outcome.result.loss_table()
    in_memory = in_memory[in_memory["fraction"] == 1.0].set_index("country")
    for row in losses.itertuples():
        assert row.mean_loss_all_runs == pytest.approx(
            in_memory.loc[row.country, "mean_loss_all_runs"], rel=1e-9
        )


def test_other_parameters_make_other_scenarios_never_mixed(loaded: GraphStore) -> None:
    run_sweep(loaded, "cobalt", alpha=0.8)  # the default: the study
    run_sweep(loaded, "cobalt", alpha=0.5)
    study, context = source_table(loaded, "cobalt", 1.0)  # the study, though not the latest
    assert '"alpha": 0.8' in str(context["parameters"])
    chosen, context = source_table(loaded, "cobalt", 1.0, where={"alpha": 0.5})
    assert '"alpha": 0.5' in str(context["parameters"])
    assert chosen["total_failed"].sum() >= 0 and len(chosen) == len(study)


def test_cli_load_simulate_results(store: GraphStore, neo4j_env: None, tmp_path: Path) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", "trades", str(flows)])
    assert loaded.exit_code == 0, loaded.output
    assert "TRADES: 8 new" in loaded.output
    ran = runner.invoke(app, ["simulate", "--commodity", "cobalt", "--years", "2022-2023"])
    assert ran.exit_code == 0, ran.output
    assert "Top risk sources" in ran.output and "unit t" in ran.output
    out = tmp_path / "t1.csv"
    table = runner.invoke(
        app, ["results", "sources", "--commodity", "cobalt", "--shock", "1.0", "--csv", str(out)]
    )
    assert table.exit_code == 0, table.output
    written = pd.read_csv(out, comment="#")
    assert written.loc[0, "source"] == "COD"
    header = out.read_text()
    assert "# years: 2\n" in header and "# panel_countries: 5\n" in header
    loss_csv = tmp_path / "losses.csv"
    losses = runner.invoke(
        app, ["results", "losses", "--commodity", "cobalt", "--csv", str(loss_csv)]
    )
    assert losses.exit_code == 0, losses.output
    assert "Most exposed countries" in losses.output
    columns = pd.read_csv(loss_csv, comment="#").columns
    assert {"mean_loss_all_runs_t", "mean_loss_when_hit_t", "runs_hit"} <= set(columns)


def test_cli_errors_are_one_line_without_traceback(
    store: GraphStore, neo4j_env: None, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("year,exporter,importer,hs,tonnes,value_usd\n2022,COD,CHN,260500,abc,1\n")
    result = CliRunner().invoke(app, ["load", "trades", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "abc" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["results", "sources", "--commodity", "cobalt"])
    assert missing.exit_code == 2 and "critmin simulate" in missing.output


def test_targeted_embargo_is_stored_apart_from_the_study_tables(loaded: GraphStore) -> None:
    outcome = run_sweep(loaded, "cobalt", years=[2022], sources=["ZAF"], targets=["CHN"])
    assert set(outcome.result.runs["initial_shock"]) == {60.0, 30.0}  # only ZAF -> CHN is cut
    stored = loaded.records(
        "MATCH (s:Scenario)-[k:SHOCKS]->(c:Country) "
        "RETURN s.targets AS targets, k.targets AS shock_targets, c.iso3 AS source"
    )
    assert stored and all(
        r == {"targets": ["CHN"], "shock_targets": ["CHN"], "source": "ZAF"} for r in stored
    )
    with pytest.raises(NoScenarios):  # Table 1 counts untargeted single-source runs only
        source_table(loaded, "cobalt", 1.0)
    with pytest.raises(InvalidParameters, match="targets"):
        run_sweep(loaded, "cobalt", years=[2022], sources=["ZAF"], targets=["XXX"])


def test_interrupted_write_back_leaves_only_whole_scenarios(
    loaded: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from critmin.store import scenario_writes

    outcome = run_sweep(loaded, "cobalt", write=False)
    result = outcome.result
    info = scenario_writes.RunInfo(
        id="run_interrupted",
        command="test",
        commodity="cobalt",
        kind="study",
        is_study=True,
        unit="t",
        parameters=outcome.parameters,
        n_panel=len(outcome.panel.countries),
        n_years=len(outcome.panel.years),
        data_versions={},
    )
    from critmin.store import graph

    monkeypatch.setattr(scenario_writes, "ENTITIES_PER_TRANSACTION", 1)  # a scenario each
    monkeypatch.setenv("CRITMIN_WRITE_WORKERS", "1")  # one transaction at a time: a known cut
    whole_unit = graph._run_all
    units = 0

    def ctrl_c_in_the_third_unit(tx, unit):  # type: ignore[no-untyped-def]
        # Ctrl-C arrives after the third scenario transaction (the first one marks the run
        # running) has locked and upserted its scenario, before its shocks and cascades.
        nonlocal units
        units += 1
        if units == 4:
            whole_unit(tx, unit[:1])
            raise KeyboardInterrupt
        whole_unit(tx, unit)

    monkeypatch.setattr(graph, "_run_all", ctrl_c_in_the_third_unit)
    with pytest.raises(KeyboardInterrupt):
        scenario_writes.write_sweep(
            loaded, result.runs, result.impacts, result.transmitted, info, outcome.tables
        )
    stored = loaded.query(PER_SCENARIO)
    assert len(stored) == 2 < len(result.runs)  # two whole transactions of one scenario
    expected = result.impacts.groupby(["year", "sources", "fraction"]).size()
    for row in stored.itertuples():
        # every country hit has its Impact node or its minor_* entry; a source that lost
        # nothing has an Impact too
        hit = expected.get((row.year, row.sources, row.fraction), 0)
        assert row.impacts in (hit, hit + 1) and row.shocks == 1
    # The sweep says it did not finish; its tables were never written and are never read.
    run = loaded.records("MATCH (r:Run {id: 'run_interrupted'}) RETURN r.status AS status")
    assert run == [{"status": "interrupted"}]
    assert loaded.query("MATCH (x:SweepSource) RETURN x").empty
    with pytest.raises(NoScenarios, match="did not finish"):
        source_table(loaded, "cobalt", 1.0)


def _table_rows(output: str, title: str) -> list[str]:
    """The body rows of the printed table titled ``title`` (rich draws them between │)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            break
        if line.startswith("│"):
            rows.append(line)
    return rows


def test_simulate_and_results_print_the_same_table(
    store: GraphStore, neo4j_env: None, tmp_path: Path
) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS + "2023,FIN,CHN,810520,120,1000\n2023,ZAF,FIN,260500,120,1300\n")
    runner = CliRunner()
    assert runner.invoke(app, ["load", "trades", str(flows)]).exit_code == 0
    ran = runner.invoke(app, ["simulate", "--commodity", "cobalt"], env={"COLUMNS": "200"})
    assert ran.exit_code == 0, ran.output
    for shock in ("1.0", "0.5"):
        shown = runner.invoke(
            app, ["results", "sources", "--commodity", "cobalt", "--shock", shock],
            env={"COLUMNS": "200"},
        )  # fmt: skip
        assert shown.exit_code == 0, shown.output
        title = f"Top risk sources: cobalt, {float(shock):.0%} export cut"
        printed = _table_rows(ran.output, title)
        assert printed and printed == _table_rows(shown.output, title)
    # Ties share a rank: ZAF and FIN (or whichever tie) print the same rank number.
    stored = store.query("MATCH (x:SweepSource {shock: 1.0}) RETURN x.rank AS rank")
    assert sorted(stored["rank"]) == sorted(
        pd.Series(store.query("MATCH (x:SweepSource {shock: 1.0}) RETURN x.total_failed AS f")["f"])
        .rank(method="min", ascending=False)
        .astype(int)
    )


def test_a_graph_of_the_first_model_gets_a_clear_message_and_migrates(
    store: GraphStore, neo4j_env: None, tmp_path: Path
) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])
    # What the first model wrote: IMPACTS from the scenario, TRANSMITS between Country nodes.
    store.execute(
        "MATCH (a:Country {iso3: 'COD'}), (b:Country {iso3: 'ZAF'}) "
        "CREATE (r:Run {id: 'run_old', command: 'critmin simulate --commodity cobalt'}), "
        "(s:Scenario {id: 'sc_old', commodity: 'cobalt'})-[:IMPACTS {demand_loss_t: 1.0}]->(b), "
        "(a)-[:TRANSMITS {scenario: 'sc_old', tonnes: 1.0}]->(b)"
    )
    store.execute("MATCH (g:CritminGraph) DETACH DELETE g")
    store.schema_checked = False
    runner = CliRunner()
    refused = runner.invoke(app, ["results", "sources", "--commodity", "cobalt"])
    assert refused.exit_code == 2 and "critmin migrate" in refused.output
    assert "Traceback" not in refused.output
    with pytest.raises(Exception, match="critmin migrate"):
        run_sweep(store, "cobalt")
    migrated = runner.invoke(app, ["migrate", "--yes"])
    assert migrated.exit_code == 0, migrated.output
    assert "critmin simulate --commodity cobalt" in migrated.output
    left = store.records(
        "RETURN COUNT { ()-[:IMPACTS]->() } AS impacts, COUNT { ()-[:TRANSMITS]->() } AS t, "
        "COUNT { (:Scenario) } AS scenarios, COUNT { ()-[:TRADES]->() } AS trades"
    )[0]
    assert left == {"impacts": 0, "t": 0, "scenarios": 0, "trades": 8}
    store.schema_checked = False
    run_sweep(store, "cobalt")
    assert not source_table(store, "cobalt", 1.0)[0].empty


def test_source_codes_in_any_case_and_unknown_ones_named(loaded: GraphStore) -> None:
    lower = run_sweep(loaded, "cobalt", sources=["cod"], write=False)
    assert set(lower.result.runs["sources"]) == {"COD"}
    with pytest.raises(InvalidParameters, match="XXX"):
        run_sweep(loaded, "cobalt", sources=["COD", "xxx"], write=False)


def test_pair_coalitions_are_stored_and_compared_with_their_members(loaded: GraphStore) -> None:
    from critmin.simulator import coalition_table

    outcome = run_sweep(loaded, "cobalt", years=[2022], coalitions=2, sources=["COD", "AUS", "ZAF"])
    runs = outcome.result.runs
    together = runs[runs["sources"].str.contains(";")]
    # Three pairs and three members alone, at both shock sizes.
    assert sorted(set(together["sources"])) == ["AUS;COD", "AUS;ZAF", "COD;ZAF"]
    assert len(runs) == (3 + 3) * 2
    assert outcome.coalitions is not None
    pd.testing.assert_frame_equal(outcome.coalitions, coalition_table(outcome.result))
    stored = loaded.records(
        "MATCH (r:Run)-[:INCLUDES]->(s:Scenario) "
        "RETURN r.kind AS kind, count(s) AS n, "
        "sum(CASE WHEN size(s.sources) = 2 THEN 1 ELSE 0 END) AS pairs"
    )
    assert stored == [{"kind": "coalition", "n": 12, "pairs": 6}]


def test_a_run_whose_writer_died_is_called_abandoned(loaded: GraphStore) -> None:
    from critmin.store.scenario_reads import unfinished_after

    first = run_sweep(loaded, "cobalt", years=[2022])
    _, context = source_table(loaded, "cobalt", 1.0)
    # What a killed `critmin simulate` leaves: a Run still 'running', and no live lease.
    loaded.execute(
        "CREATE (:Run {id: 'run_killed', commodity: 'cobalt', mode: 'export', kind: 'study', "
        "status: 'running', created_at: '9999-01-01T00:00:00'})"
    )
    assert first.scenario_ids
    (note,) = unfinished_after(loaded, context)
    assert note.startswith("run_killed (abandoned: its writer stopped without finishing")


@pytest.mark.usefixtures("neo4j_env")
def test_results_print_csv_and_json_with_every_row(loaded: GraphStore) -> None:
    import json

    run_sweep(loaded, "cobalt")
    table, context = source_table(loaded, "cobalt", 1.0)
    base = ["results", "sources", "--commodity", "cobalt", "--top", "1"]
    as_json = CliRunner().invoke(app, [*base, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    assert payload["parameters"]["run_id"] == context["run_id"]
    assert len(payload["rows"]) == len(table) > 1  # --top limits the table view only
    assert [r["source"] for r in payload["rows"]] == list(table["source"])
    as_csv = CliRunner().invoke(app, [*base, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    read = pd.read_csv(io.StringIO(as_csv.output))
    assert list(read["total_failed"]) == list(table["total_failed"])
    assert list(read["failure_rate"]) == list(table["failure_rate"])  # full precision


def test_bulk_sweep_without_cascades_then_one_materialised(loaded: GraphStore) -> None:
    from critmin.pipeline import materialise_cascade

    full = run_sweep(loaded, "cobalt", write=False)
    bulk = run_sweep(loaded, "cobalt", cascades=False)
    stored_now = """
    MATCH (s:Scenario {commodity: 'cobalt'})
    RETURN count(s) AS scenarios, sum(COUNT { (s)-[:HIT]->() }) AS impacts,
           sum(COUNT { (s)-[:HIT]->()-[:TRANSMITS]->() }) AS transmits
    """
    counts = loaded.records(stored_now)[0]
    assert counts["transmits"] == 0 and counts["scenarios"] == len(bulk.result.runs)
    assert counts["impacts"] > 0  # per-country outcomes stay queryable
    # COD 2022 at 100%: its cascade as the full sweep computes it, stored on demand.
    row = bulk.result.runs.reset_index(drop=True)
    at = row[(row["year"] == 2022) & (row["sources"] == "COD") & (row["fraction"] == 1.0)].index[0]
    sid = bulk.scenario_ids[at]
    outcome = materialise_cascade(loaded, sid)
    assert outcome.scenario_ids == [sid]
    key = (
        (full.result.transmitted["year"] == 2022)
        & (full.result.transmitted["sources"] == "COD")
        & (full.result.transmitted["fraction"] == 1.0)
    )
    stored = loaded.records(
        "MATCH (:Scenario {id: $id})-[:HIT]->(:Impact)-[t:TRANSMITS]->() RETURN count(t) AS n",
        id=sid,
    )
    assert stored == [{"n": int(key.sum())}] and int(key.sum()) > 0
    assert loaded.records(stored_now)[0]["scenarios"] == len(bulk.result.runs)  # none added


def test_a_killed_run_reads_abandoned_in_cypher_and_the_next_writer_cleans_its_lock(
    loaded: GraphStore,
) -> None:
    from critmin.analysis.queries import run_query

    # What a `critmin simulate` killed two minutes ago leaves: its Run still 'running' and its
    # lease, not renewed since. Beside it a run whose writer is alive (renewed just now).
    loaded.execute(
        "CREATE (:Run {id: 'run_killed', commodity: 'cobalt', kind: 'study', status: 'running', "
        "created_at: '2026-01-01T00:00:00'}), "
        "(:CritminLock {name: 'run:run_killed', owner: 'x', holder: 'killed', "
        "taken_at: timestamp() - 130000, renewed_at: timestamp() - 120000}), "
        "(:Run {id: 'run_alive', commodity: 'cobalt', kind: 'study', status: 'running', "
        "created_at: '2026-01-01T00:00:01'}), "
        "(:CritminLock {name: 'run:run_alive', owner: 'y', holder: 'alive', "
        "taken_at: timestamp(), renewed_at: timestamp() + 600000})"  # live however slow the test
    )
    status = run_query(loaded, "sweeps", {"commodity": "cobalt"}).set_index("run_id")["status"]
    assert (status["run_killed"], status["run_alive"]) == ("abandoned", "running")
    run_sweep(loaded, "cobalt", years=[2022], sources=["COD"])  # the next writer
    locks = loaded.records("MATCH (l:CritminLock) RETURN l.name AS name ORDER BY name")
    assert locks == [{"name": "run:run_alive"}]  # the killed one's is gone, the live one kept
    status = run_query(loaded, "sweeps", {"commodity": "cobalt"}).set_index("run_id")["status"]
    assert status["run_killed"] == "abandoned" and set(
        status.drop(["run_killed", "run_alive"])
    ) == {"complete"}


# The 2022 flows of FLOWS with COD's exports to the hub halved: a corrected release.
CORRECTED_2022 = """year,exporter,importer,hs,tonnes,value_usd
2022,COD,ZAF,260500,50,500
"""


def test_cascade_after_a_reload_keeps_the_stored_numbers_and_stores_a_new_scenario(
    loaded: GraphStore, tmp_path: Path
) -> None:
    from critmin.pipeline import materialise_cascade
    from critmin.store.scenario_reads import scenario

    first = run_sweep(loaded, "cobalt", years=[2022], sources=["COD"], shocks=[1.0])
    (sid,) = first.scenario_ids
    before = scenario(loaded, sid)
    assert before is not None
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(CORRECTED_2022)
    load_trades(loaded, [corrected])
    outcome = materialise_cascade(loaded, sid)
    (new_id,) = outcome.scenario_ids
    assert new_id != sid  # another network, another scenario
    after = scenario(loaded, sid)
    assert after == before  # the stored scenario keeps its numbers and data version
    renewed = scenario(loaded, new_id)
    assert renewed is not None and renewed["data_version"] != before["data_version"]
    assert renewed["initial_shock_t"] == 50.0 and before["initial_shock_t"] == 100.0
    # On unchanged data the cascade is the same scenario again: same id, same numbers.
    again = materialise_cascade(loaded, new_id)
    assert again.scenario_ids == [new_id]
    assert scenario(loaded, new_id)["n_failed"] == renewed["n_failed"]  # type: ignore[index]


@pytest.mark.usefixtures("neo4j_env")
def test_a_reload_that_changes_a_runs_flows_marks_it_stale(
    loaded: GraphStore, tmp_path: Path
) -> None:
    from critmin.analysis.queries import run_query

    old = run_sweep(loaded, "cobalt", command="critmin simulate --commodity cobalt")
    other_year = run_sweep(loaded, "cobalt", years=[2023], sources=["COD"])
    same = tmp_path / "same.csv"
    same.write_text(FLOWS)
    load_trades(loaded, [same])  # the same flows again: nothing changes, nothing is stale
    sweeps = run_query(loaded, "sweeps", {"commodity": "cobalt"}).set_index("run_id")
    assert not sweeps["stale"].any()
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(CORRECTED_2022)
    load_trades(loaded, [corrected])
    sweeps = run_query(loaded, "sweeps", {"commodity": "cobalt"}).set_index("run_id")
    run_id = source_table(loaded, "cobalt", 1.0)[1]["run_id"]  # the study: `old`
    assert old.scenario_ids
    assert sweeps.loc[run_id, "stale"] and sweeps.loc[run_id, "stale_years"] == [2022]
    (other,) = [i for i in sweeps.index if i != run_id]
    assert not sweeps.loc[other, "stale"] and other_year.scenario_ids  # 2023 did not change
    shown = CliRunner().invoke(app, ["results", "sources", "--commodity", "cobalt"])
    assert shown.exit_code == 0, shown.output
    assert "a later load changed the data of 2022" in " ".join(shown.output.split())
