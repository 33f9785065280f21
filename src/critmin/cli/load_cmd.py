"""`critmin load trades|production FILE...`: validate, plan, then write idempotently."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.loader import read_production, read_trades
from critmin.loader.commodities import load_groups
from critmin.loader.countries import country_name
from critmin.store.loading import PRODUCED, TRADES, LoadPlan, apply_plan, plan_load

app = typer.Typer(help="Load trade flows and production into Neo4j (validated, idempotent).")

Files = Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Input files.")]
Format = Annotated[
    str | None, typer.Option("--format", "-f", help="Input format; detected from the header if omitted.")
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")]
BatchSize = Annotated[int, typer.Option(min=1, help="Rows per UNWIND transaction.")]
Commodities = Annotated[
    Path | None,
    typer.Option(envvar="CRITMIN_COMMODITIES", help="Extra commodity-group CSV (adds/overrides groups)."),
]


def _commodity_rows(extra: Path | None) -> list[dict[str, object]]:
    groups = load_groups(extra)
    rows: dict[str, dict[str, object]] = {
        g.id: {
            "id": g.id,
            "name": g.name,
            "hs_codes": list(g.hs_codes),
            "production_commodity": g.production_commodity or None,
        }
        for g in groups.values()
    }
    for g in groups.values():  # production commodities (cobalt, gallium, ...) are nodes too
        pc = g.production_commodity
        if pc and pc not in rows:
            rows[pc] = {"id": pc, "name": pc.replace("_", " ").capitalize(), "hs_codes": [],
                        "production_commodity": pc}
    return list(rows.values())


def _show(plan: LoadPlan, dry_run: bool) -> None:
    console.print(("would write " if dry_run else "") + plan.summary())
    if dry_run:
        for cypher, n in plan.statements():
            console.print(f"[dim]-- {n:,} rows in batches of UNWIND $rows:[/]\n{cypher}", highlight=False)


def _write(uri: str | None, user: str | None, password: str | None, database: str | None,
           kind_frame: tuple[object, object], names: dict[str, str], commodities: list[dict[str, object]],
           dry_run: bool, batch_size: int) -> None:
    kind, frame = kind_frame
    with open_store(uri, user, password, database) as store:
        plan = plan_load(store, kind, frame, names, commodities)  # type: ignore[arg-type]
        _show(plan, dry_run)
        if dry_run or not plan.n_rows and not plan.countries:
            return
        total = len(plan.new) + len(plan.changed)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"writing {plan.kind.name}", total=total)
            apply_plan(store, plan, batch_size, progress=lambda n: bar.advance(task, n))
        console.print(f"wrote {total:,} {plan.kind.name} relationships to {store.database!r}")


@app.command()
@friendly
def trades(
    files: Files,
    format: Format = None,
    dry_run: DryRun = False,
    batch_size: BatchSize = 5_000,
    commodities: Commodities = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Load bilateral flows (BACI, UN Comtrade, the bundled BACI extracts, plain CSV)."""
    data = read_trades(files, format)
    for line in data.report():
        console.print(line, highlight=False)
    names = dict(zip(data.countries["iso3"], data.countries["name"], strict=True))
    _write(uri, user, password, database, (TRADES, data.flows), names,
           _commodity_rows(commodities), dry_run, batch_size)


@app.command()
@friendly
def production(
    files: Files,
    format: Format = None,
    dry_run: DryRun = False,
    batch_size: BatchSize = 5_000,
    commodities: Commodities = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Load mine production (USGS Mineral Commodity Summaries, OWID)."""
    data = read_production(files, format)
    for line in data.report():
        console.print(line, highlight=False)
    names = {code: country_name(code) for code in sorted(set(data.production["country"]))}
    _write(uri, user, password, database, (PRODUCED, data.production), names,
           _commodity_rows(commodities), dry_run, batch_size)
