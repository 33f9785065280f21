"""`critmin scenario`: run a policy scenario file and store it under its name; list the files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.cli.output import Format, FormatOption, OutOption, emit
from critmin.policy import list_scenarios, read_scenario, run_policy
from critmin.store.scenario_reads import suffix
from critmin.study import redact_command

app = typer.Typer(
    help="Policy scenarios written as TOML files (README: Policy scenarios): run one, list them.",
    no_args_is_help=True,
)


@app.command("run")
@friendly
def run(
    file: Annotated[Path, typer.Argument(help="The scenario file (.toml), e.g. scenarios/x.toml.")],
    store_results: Annotated[
        bool,
        typer.Option(
            "--store/--no-store", help="Store the run under the scenario's name (replaces it)."
        ),
    ] = True,
    fmt: FormatOption = Format.table,
    out: OutOption = None,
    rows: Annotated[int, typer.Option("--top", min=1, help="Rows of the table to print.")] = 30,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Run a policy scenario file: failed countries, losses, stock drawn and stock needed."""
    scenario = read_scenario(file)  # a bad file is refused before any server is asked
    with open_store(uri, user, password, database) as store:
        outcome = run_policy(
            store,
            scenario,
            write=store_results,
            command=redact_command(["critmin", *sys.argv[1:]]),
        )
    unit = outcome.unit
    if fmt is Format.table and outcome.fallback_note:
        console.print(outcome.fallback_note, highlight=False, soft_wrap=True)
    if fmt is Format.table:
        console.print(
            f"{scenario.name}: {scenario.title}\npreset {outcome.preset}, measure "
            f"{outcome.scenario.measure.value}; {outcome.failure_text()}; {outcome.basis_text}"
            + ("; stored as run " + scenario.run_id if outcome.stored else "; not stored"),
            highlight=False,
            soft_wrap=True,
        )
        for r in outcome.summary.to_dict("records"):
            at = outcome.countries["year"] == r["year"]
            where = f"{outcome.basis} {r['year']}"
            cut = ""
            if outcome.is_chain:
                at &= outcome.countries["stage"] == r["stage"]
                where += f" stage {r['stage']} ({r['commodity']})"
                cut = f" (coupling cut {r['coupling_cut']:,.1f})" if r["stage"] > 0 else ""
            failed = outcome.countries[at & outcome.countries["failed"]]
            console.print(
                f"{where}: initial shock {r['initial_shock']:,.1f} {unit}{cut} = demand loss "
                f"{r['demand_loss']:,.1f} + stock drawn {r['stock_drawn']:,.1f}; "
                f"{r['n_failed']} countries failed ("
                + (", ".join(failed["country"]) or "none")
                + f"); {r['rounds']} rounds",
                highlight=False,
                soft_wrap=True,
            )
    u = suffix(unit)
    quantities = (
        "demand",
        "demand_loss",
        "coupling_cut",
        "unbalanced",
        "stock_drawn",
        "stock_needed",
    )
    countries, caption = outcome.countries, outcome.caption()
    if fmt is Format.table:  # four decimals: a share of 0.99999999 reads as 1, like 1.0
        countries = countries.assign(
            share_of_consumption_lost=countries["share_of_consumption_lost"].round(4)
        )
    if fmt is Format.table and not (countries["unbalanced"] != 0).any():
        # Only inconsistent data produce it: the printed table shows it where it is not 0.
        countries = countries.drop(columns="unbalanced")
        caption += "; unbalanced is 0 for every country (column left out)"
    table = countries.rename(columns={c: f"{c}_{u}" for c in quantities})
    context = {
        "scenario": scenario.name,
        "file": scenario.path.name,
        "digest": scenario.digest,
        "commodity": outcome.basis,
        "basis_text": outcome.basis_text,
        "unit": unit,
        "shocks": scenario.shock_text(),
        "stockpiles": ", ".join(scenario.stockpile_texts()),
        "failure_rule": scenario.failure_rule,
        "failure_text": outcome.failure_text(),
        "preset": outcome.preset,
        "measure": outcome.scenario.measure.value,
        "basis": outcome.fallback_note or f"the file's: {outcome.basis}",
        **{k: v for k, v in outcome.parameters.items()},
    }
    emit(
        table,
        fmt,
        title=f"Countries by share of consumption lost: {scenario.name} (preset "
        f"{outcome.preset}, {unit})",
        caption=caption,
        context=context,
        limit=rows,
        out=out,
    )


@app.command("list")
@friendly
def list_files(
    folder: Annotated[Path, typer.Option("--dir", help="The folder of scenario files.")] = Path(
        "scenarios"
    ),
    fmt: FormatOption = Format.table,
    out: OutOption = None,
) -> None:
    """List the scenario files of a folder (default scenarios/), with their shocks."""
    table = list_scenarios(folder)
    emit(
        table,
        fmt,
        title=f"Scenario files in {folder}",
        caption="shocks: source and share of a year's exports cut (-> targets); run one with "
        "`critmin scenario run FILE`",
        context={"folder": str(folder)},
        out=out,
    )
