"""`critmin query` and `critmin metrics` without a database: listing, checking, refusing."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from critmin.analysis.queries import load_library
from critmin.cli.main import app


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})  # rich wraps at 80


def test_query_list_shows_every_query_with_its_parameters() -> None:
    listed = invoke("query", "--list")
    assert listed.exit_code == 0
    for name, query in load_library().items():
        assert name in listed.output
        assert query.parameters[0].signature in listed.output


def test_query_refuses_unknown_names_and_missing_parameters() -> None:
    missing = invoke("query", "critical_paths", "-p", "target=JPN")
    assert missing.exit_code == 2 and "needs scenario: string" in missing.output
    unknown = invoke("query", "top_sources")
    assert unknown.exit_code == 2 and "no query named 'top_sources'" in unknown.output
    typo = invoke("query", "sweeps", "-p", "comodity=cobalt")
    assert typo.exit_code == 2 and "has no parameter 'comodity'" in typo.output
    bad = invoke(
        "query", "reexport_share", "-p", "commodity=cobalt", "-p", "year=2020", "-p", "measure=kg"
    )
    assert bad.exit_code == 2 and "must be one of tonnes, metal_t, value_usd" in bad.output


def test_query_dry_run_prints_the_cypher_and_typed_parameters() -> None:
    dry = invoke(
        "query",
        "top_risk_sources",
        "-p",
        "commodity=cobalt",
        "-p",
        "shock=1",
        "-p",
        "limit=3",
        "--dry-run",
    )
    assert dry.exit_code == 0
    assert "MATCH (r:Run {commodity: $commodity})" in dry.output
    assert '"shock": 1.0' in dry.output and '"limit": 3' in dry.output


def test_metrics_refuses_what_it_cannot_answer() -> None:
    assert invoke("metrics").exit_code == 2
    unknown = invoke("metrics", "concentration", "--commodity", "unobtainium")
    assert unknown.exit_code == 2 and "unknown commodity 'unobtainium'" in unknown.output
    years = invoke("metrics", "concentration", "--commodity", "cobalt", "--years", "last")
    assert years.exit_code == 2 and "must be an integer" in years.output
