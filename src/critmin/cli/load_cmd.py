"""`critmin load trades|production FILE...`: validate, plan, then write idempotently."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import Progress

from critmin.cli.common import (
    Database,
    Password,
    Uri,
    User,
    console,
    err_console,
    friendly,
    open_store,
)
from critmin.cli.output import Format as OutputFormat
from critmin.cli.output import FormatOption, OutOption, emit
from critmin.errors import CritminError
from critmin.loader.commodities import find_group
from critmin.loader.reference import TOLERANCE, check_totals
from critmin.pipeline import LoadOutcome, read_input, write_input
from critmin.store.networks import read_code_rows

app = typer.Typer(help="Load trade flows and production into Neo4j (validated, idempotent).")

Files = Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Input files.")]
Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="baci, comtrade, baci-subset, atlas, csv, usgs, owid; "
        "detected from the header if omitted.",
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")
]
BatchSize = Annotated[int, typer.Option(min=1, help="Rows per UNWIND transaction.")]
Tolerance = Annotated[
    float,
    typer.Option(
        "--unmapped-tolerance",
        min=0.0,
        max=1.0,
        help="trades: the share of rows (0-1) whose country codes critmin does not know that "
        "may be left out (and listed) instead of failing the load.",
    ),
]
HsPrefixes = Annotated[
    list[str] | None,
    typer.Option(
        "--hs",
        help="trades: keep only HS codes starting with this prefix (repeat), e.g. --hs 2605 "
        "--hs 8105 to read the cobalt study's codes out of a full BACI release.",
    ),
]
Group = Annotated[
    str | None,
    typer.Option(
        "--commodity",
        help="trades: keep only the HS codes of this commodity group (e.g. cobalt: 2605, 8105).",
    ),
]
Commodities = Annotated[
    Path | None,
    typer.Option(
        envvar="CRITMIN_COMMODITIES", help="Extra commodity-group CSV (adds/overrides groups)."
    ),
]


def show(outcome: LoadOutcome, dry_run: bool) -> None:
    # Plain text: Cypher's [t:TRADES] and file names are not console markup.
    for line in outcome.data.report():
        console.print(line, highlight=False, markup=False)
    plan = outcome.plan
    console.print(("would write " if dry_run else "") + plan.summary(), highlight=False)
    if dry_run:
        for cypher, n in plan.statements():
            console.print(
                f"-- {n:,} rows, in batches of UNWIND $rows:\n{cypher}",
                highlight=False,
                markup=False,
            )
    else:
        console.print(f"wrote {outcome.written:,} {plan.kind.name} relationships")


def _command(what: str) -> Callable[..., None]:
    """One `critmin load WHAT` command; trades and production differ only in what they read."""

    def command(
        files: Files,
        format: Format = None,
        dry_run: DryRun = False,
        batch_size: BatchSize = 5_000,
        commodities: Commodities = None,
        unmapped_tolerance: Tolerance = 0.0,
        hs: HsPrefixes = None,
        commodity: Group = None,
        uri: Uri = None,
        user: User = None,
        password: Password = None,
        database: Database = None,
    ) -> None:
        # Files are read and checked before any server is asked: a bad file is reported even
        # when no database runs, and nothing is written.
        prefixes = list(hs or [])
        if commodity is not None:
            prefixes += list(find_group(commodity, commodities).hs_codes)
        data = read_input(what, files, format, unmapped_tolerance, prefixes)
        with (
            open_store(uri, user, password, database) as store,
            Progress(console=console, transient=True) as bar,
        ):
            task = bar.add_task(f"loading {what}", total=None)
            outcome = write_input(
                store,
                what,
                data,
                dry_run=dry_run,
                batch_size=batch_size,
                commodities=commodities,
                holder=shlex.join(["critmin", *sys.argv[1:]])[:200],
                progress=lambda n: bar.advance(task, n),
                on_wait=lambda holder: console.print(
                    f"waiting: another load is writing ({holder}); this one starts when it ends",
                    highlight=False,
                    markup=False,
                ),
            )
        show(outcome, dry_run)

    return friendly(command)


app.command(
    "trades",
    help="Load bilateral flows (CEPII BACI, UN Comtrade exports, the BACI extracts, plain CSV).",
)(_command("trades"))
app.command("production", help="Load mine production (USGS Mineral Commodity Summaries, OWID).")(
    _command("production")
)


#: The published yearly totals of the cobalt study's codes (BACI V202601, HS02; see its README).
REFERENCE = Path("data/reference/baci_cobalt_260500_810520_aggregates_2002_2024.csv")


class TotalsDiffer(CritminError):
    """Loaded flows do not add up to the reference's yearly totals."""


@friendly
def check_totals_command(
    reference: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Yearly totals per HS6 code (year, hs6, world_value_usd, world_qty_tonnes, "
            "n_flows), e.g. the bundled BACI V202601 cobalt aggregates.",
        ),
    ] = REFERENCE,
    fmt: FormatOption = OutputFormat.table,
    out: OutOption = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Compare the stored flows with published yearly totals (after loading a BACI release)."""
    wanted = ["year", "hs6", "world_value_usd", "world_qty_tonnes", "n_flows"]
    try:
        totals = pd.read_csv(reference)
        absent = [c for c in wanted if c not in totals.columns]
        if absent:
            raise ValueError(f"no column {', '.join(absent)}")
        years = sorted({int(y) for y in totals["year"]})
        codes = sorted({str(int(c)).zfill(6) for c in totals["hs6"]})
    except (ValueError, pd.errors.ParserError) as exc:
        raise CritminError(f"{reference}: not a totals file ({', '.join(wanted)}): {exc}") from exc
    with open_store(uri, user, password, database) as store:
        rows = read_code_rows(store, years, codes)
    table = check_totals(rows, totals)
    emit(
        table,
        fmt,
        title=f"Stored flows against {reference.name}",
        caption=f"value in USD, quantity in gross tonnes; ok: both within {TOLERANCE:.0%}",
        out=out,
    )
    bad = table[~table["ok"]]
    if bad.empty:
        (console if fmt is OutputFormat.table else err_console).print(
            f"all {len(table)} years and codes within {TOLERANCE:.0%}", highlight=False
        )
        return
    missing = bad[bad["flows"] == 0]
    if len(missing) == len(table):
        raise TotalsDiffer(
            f"no stored flows of HS {', '.join(codes)} in {years[0]}-{years[-1]}: load the BACI "
            "release first (critmin load trades BACI_HS02_Y*.csv --hs 2605 --hs 8105)"
        )
    listed = ", ".join(f"{r.year} {r.hs}" for r in bad.itertuples())
    raise TotalsDiffer(
        f"{len(bad)} of {len(table)} years and codes differ from {reference.name} by more than "
        f"{TOLERANCE:.0%}: {listed}"
    )


app.command("check-totals")(check_totals_command)
