"""`critmin demo`: the whole job on the bundled real sample, start to finish."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from critmin.chain_run import chain_study
from critmin.cli.common import console, friendly, open_store
from critmin.cli.load_cmd import show
from critmin.cli.output import show_table
from critmin.cli.simulate_cmd import (
    chain_with_progress,
    show_chain,
    show_sources,
    sweep_with_progress,
)
from critmin.guide.process import start_guide
from critmin.guide.serve import browser_guide_url
from critmin.pipeline import DEMO_CHAIN, DEMO_SWEEPS, load_demo, measure_demo_scenario
from critmin.report import ScenarioChoice, build_report
from critmin.server import ManagedNeo4j
from critmin.store.networks import trade_counts
from critmin.study import Study


@friendly
def demo(
    data: Annotated[Path, typer.Option(help="The bundled sample folder.")] = Path("data"),
    out: Annotated[Path, typer.Option(help="Where tables and the report go.")] = Path("out"),
    top: Annotated[int, typer.Option(min=1, help="Rows of each table to print.")] = 10,
) -> None:
    """Start Neo4j, load the bundled sample, run the sweeps, print the tables, write the report."""
    managed = not os.environ.get("NEO4J_URI")
    if managed:
        status = ManagedNeo4j().start(say=lambda m: console.print(m))
    with open_store(None, None, None, None) as store:
        console.rule("1. Load the bundled real sample")
        for loaded in load_demo(store, data):
            show(loaded, dry_run=False)
        counts = trade_counts(store)
        summary = counts.groupby("hs").agg(years=("year", "nunique"), flows=("flows", "sum"))
        console.print(summary.to_string(), highlight=False)

        (first, first_years), *others = DEMO_SWEEPS
        console.rule("2. Sweep HS 282200 cobalt oxides and hydroxides, 2002-2024")
        outcome = sweep_with_progress(store, Study.build(first, years=first_years))
        show_sources(outcome, top)

        console.rule("3. Sweep the other 2024 battery materials")
        for commodity, years in others:
            study = Study.build(commodity, years=years)
            show_sources(sweep_with_progress(store, study), min(top, 5))
        chain, chain_years, chain_mode = DEMO_CHAIN
        console.rule(f"4. Sweep the supply chain {chain}: mine production -> HS 282200")
        chained = chain_with_progress(store, chain_study(chain, years=chain_years, mode=chain_mode))
        show_chain(chained, min(top, 5))
        show_table(
            chained.stage_losses("COD", chain_years[-1], 1.0).query("stage > 0"),
            f"The DRC's mine stop ({chain_years[-1]}): who loses stage-1 metal",
            f"demand_loss, coupling_cut in {chained.unit.label}; {chained.caption()}",
            top,
        )
        measured = measure_demo_scenario(store)
        console.print(f"network measures stored on scenario {', '.join(measured)}")
        console.rule("5. Write the report")
        # The DRC (the 2025 cobalt export ban) and the top risk source, before and after.
        top_source = str(outcome.tables.sources["source"].iloc[0])
        pictured = [ScenarioChoice("COD", 2024, 1.0)]
        if top_source != "COD":
            pictured.append(ScenarioChoice(top_source, 2024, 1.0))
        html = build_report(store, "cobalt_oxides", out / "report", scenarios=pictured, top=top)
        console.print(f"report: {html}")
    console.rule("Next")
    if managed:
        # Started now that the data is stored: its planning of the queries sees the real graph.
        guide = start_guide(status.home)
        assert status.credentials is not None  # start() always stores them
        browser = browser_guide_url(status.credentials.browser_url, guide.port)
        console.print(f"Neo4j Browser: {browser}", soft_wrap=True, highlight=False)
        console.print(
            "It opens the analyst's guide (README: Analysts) beside the connect form; "
            "password: run `critmin neo4j password`",
            soft_wrap=True,
            highlight=False,
        )
    else:
        console.print(
            "Neo4j Browser: your server's (NEO4J_URI is set); `critmin guide serve` serves the "
            "analyst's guide for it (README: Analysts)",
            soft_wrap=True,
            highlight=False,
        )
    console.print(
        "Tables: `critmin results sources --commodity cobalt_oxides --shock 0.5 "
        f"--out {out}/t2.csv`"
    )
