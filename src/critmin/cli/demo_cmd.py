"""`critmin demo`: the whole job on the bundled real sample, start to finish."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.common import console, friendly, open_store
from critmin.cli.load_cmd import show
from critmin.cli.simulate_cmd import show_sources, sweep_with_progress
from critmin.pipeline import load_production, load_trades
from critmin.report import ScenarioChoice, build_report
from critmin.server import ManagedNeo4j

# Loaded in this order: the 2024 BACI subset (all flows) after the atlas series (top flows),
# so 2024's HS 282200 flows end up complete from BACI itself.
TRADE_FILES = (
    "atlas_topflows_2002_2024_cobalt_282200.csv",
    "baci_hs17_v202601_2024_battery_subset.csv",
)
BATTERY_2024 = ("lithium_carbonate", "nickel_unwrought", "graphite_natural", "gallium_germanium")

COUNTS = """
MATCH (e:Country)-[t:TRADES]->(:Country)
RETURN t.hs AS hs, t.year AS year, count(*) AS flows, count(t.tonnes) AS with_tonnes
ORDER BY hs, year
"""


@friendly
def demo(
    data: Annotated[Path, typer.Option(help="The bundled sample folder.")] = Path("data"),
    out: Annotated[Path, typer.Option(help="Where tables and the report go.")] = Path("out"),
    top: Annotated[int, typer.Option(help="Rows of each table to print.")] = 10,
) -> None:
    """Start Neo4j, load the bundled sample, run the sweeps, print the tables, write the report."""
    if not os.environ.get("NEO4J_URI"):
        status = ManagedNeo4j().start(say=lambda m: console.print(m))
        assert status.credentials is not None
        browser = status.credentials.browser_url
    else:
        browser = "your server's Browser (NEO4J_URI is set)"
    with open_store(None, None, None, None) as store:
        console.rule("1. Load the bundled real sample")
        show(load_trades(store, [data / "trade" / f for f in TRADE_FILES]), dry_run=False)
        production = sorted((data / "production").glob("*.csv"))
        show(load_production(store, production), dry_run=False)
        counts = store.query(COUNTS)
        summary = counts.groupby("hs").agg(years=("year", "nunique"), flows=("flows", "sum"))
        console.print(summary.to_string(), highlight=False)

        console.rule("2. Sweep HS 282200 cobalt oxides and hydroxides, 2002-2024")
        outcome = sweep_with_progress(store, "cobalt_oxides")
        show_sources(outcome, top)

        console.rule("3. Sweep the other 2024 battery materials")
        for commodity in BATTERY_2024:
            show_sources(sweep_with_progress(store, commodity, years=[2024]), min(top, 5))
        console.rule("4. Write the report")
        # The DRC (the 2025 cobalt export ban) and the top risk source, before and after.
        top_source = str(outcome.result.source_table(outcome.panel.countries)["source"].iloc[0])
        pictured = [ScenarioChoice("COD", 2024, 1.0)]
        if top_source != "COD":
            pictured.append(ScenarioChoice(top_source, 2024, 1.0))
        html = build_report(store, "cobalt_oxides", out / "report", scenarios=pictured, top=top)
        console.print(f"report: {html}")
    console.rule("Next")
    console.print(f"Neo4j Browser: {browser} (user neo4j; password: `critmin neo4j env`)")
    console.print("Paste the queries of cypher/ there (README: Analysts).")
    console.print(
        "Tables: `critmin results sources --commodity cobalt_oxides --shock 0.5 "
        f"--csv {out}/t2.csv`"
    )
