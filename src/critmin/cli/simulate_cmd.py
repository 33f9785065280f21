"""`critmin simulate`: pull yearly networks from Neo4j, run the sweep, write scenarios back."""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from critmin.chain_run import ChainOutcome, run_chain_sweep
from critmin.cli.common import (
    Absorb,
    AllowLarge,
    Alpha,
    Database,
    FailAbs,
    FailRel,
    MeasureOption,
    Password,
    Preset,
    SupplierCap,
    Uri,
    User,
    console,
    friendly,
    given_parameters,
    open_store,
)
from critmin.cli.output import show_sources_table, show_table
from critmin.defaults import DEFAULT_SHOCKS, FIRST_YEAR, KEEP_SHARE, LAST_YEAR, MAX_SCENARIOS
from critmin.loader.chains import load_chains
from critmin.pipeline import SweepOutcome, run_sweep
from critmin.simulator.stockpiles import Stockpile, parse_stockpiles
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import suffix
from critmin.study import Study, redact_command
from critmin.units import Measure


def parse_years(text: str | None) -> list[int] | None:
    """``2002-2024``, ``2019,2021`` or None (every year with data).

    >>> parse_years("2002-2004")
    [2002, 2003, 2004]
    >>> parse_years("2003,2005-2006")
    [2003, 2005, 2006]
    >>> parse_years("2024-2002")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    BadParameter: years '2024-2002' run backwards: write 2002-2024
    >>> parse_years("0-999999999")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    BadParameter: years '0-999999999' are outside 1900-2100: write years such as 2002-2024
    """
    if not text:
        return None
    years: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            start, stop = int(first), int(last or first)
        except ValueError:
            raise typer.BadParameter(
                f"years must look like 2002-2024 or 2019,2021: {text!r}"
            ) from None
        if stop < start:
            raise typer.BadParameter(f"years {part.strip()!r} run backwards: write {stop}-{start}")
        if start < FIRST_YEAR or stop > LAST_YEAR:  # before a range of a billion years is made
            raise typer.BadParameter(
                f"years {part.strip()!r} are outside {FIRST_YEAR}-{LAST_YEAR}: write years "
                "such as 2002-2024",
                param_hint="--years",
            )
        years.update(range(start, stop + 1))
    return sorted(years)


def show_sources(outcome: SweepOutcome, top: int) -> None:
    table = outcome.tables.sources
    table = table.assign(name=[outcome.names.get(c, c) for c in table["source"]])
    for fraction, view in table.groupby("fraction", sort=False):
        show_sources_table(view, outcome.group.id, float(fraction), outcome.caption(), top)


def show_coalitions(outcome: SweepOutcome, top: int) -> None:
    """The coalitions whose acting together fails countries none of its members fails alone."""
    table = outcome.coalitions
    assert table is not None
    unit = outcome.panel.unit
    view = table.sort_values(["fraction", "newly_failed", "n_failed"], ascending=False)
    view = view.rename(
        columns={c: f"{c}_{suffix(unit)}" for c in view.columns if c.startswith("demand_loss")}
    )
    show_table(
        view.drop(columns=["members"]),
        f"Coalitions of {outcome.group.id}: acting together vs the sum of members alone",
        "n_failed / demand_loss: countries outside the coalition; _sum: over the members' runs "
        f"alone; _added = together - sum; {outcome.caption()}",
        top,
    )


def stockpile_option(items: list[str] | None) -> dict[str, Stockpile]:
    """``--stockpile JPN=30 --stockpile USA=3months`` as stockpiles, or a bad-parameter error.

    The same country given twice with the same stock is one stockpile.

    >>> stockpile_option(["jpn=30", "USA=3months", "JPN=30"])
    {'JPN': Stockpile(amount=30.0, in_months=False), 'USA': Stockpile(amount=3.0, in_months=True)}
    """
    out: dict[str, Stockpile] = {}
    for item in items or []:
        try:
            ((code, stock),) = parse_stockpiles([item]).items()
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--stockpile") from None
        code = code.strip().upper()
        if out.get(code, stock) != stock:
            raise typer.BadParameter(
                f"{code} is given twice ({out[code]} and {stock})", param_hint="--stockpile"
            )
        out[code] = stock
    return out


def show_drawn(outcome: SweepOutcome, top: int) -> None:
    """What the stockpiled countries drew, over the sweep's runs."""
    impacts = outcome.result.impacts
    unit = suffix(outcome.panel.unit)
    drew = impacts[impacts["stock_drawn"] > 0]
    if drew.empty:
        console.print("no stockpile was drawn in any run", highlight=False)
        return
    table = (
        drew.groupby(["fraction", "country"])["stock_drawn"]
        .agg(runs_drawn="count", mean_drawn="mean", max_drawn="max")
        .reset_index()
        .sort_values(["fraction", "max_drawn"], ascending=False)
        .rename(columns={"mean_drawn": f"mean_drawn_{unit}", "max_drawn": f"max_drawn_{unit}"})
    )
    show_table(
        table,
        f"Stock drawn: {outcome.group.id}",
        f"mean over the runs in which the country drew; {outcome.caption()}",
        top,
    )


def sweep_with_progress(store: GraphStore, study: Study, **options: Any) -> SweepOutcome:
    started = time.perf_counter()
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("runs", total=None, rate="")
        write_task = bar.add_task("writing scenarios", total=None, rate="", visible=False)

        def advance(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:,.0f} runs/s")

        outcome = run_sweep(
            store,
            study,
            progress=advance,
            write_progress=lambda n: bar.update(write_task, advance=n, visible=True),
            command=redact_command(["critmin", *sys.argv[1:]]),
            **options,
        )
    panel = outcome.panel
    console.print(
        f"{outcome.group.id} ({outcome.group.name}; HS {', '.join(outcome.group.hs_codes)}): "
        f"{len(panel.years)} years {panel.years[0]}-{panel.years[-1]}, {len(panel.countries)} "
        f"countries, unit {panel.unit}; "
        f"{len(outcome.result.runs):,} runs in {outcome.seconds:.1f} s"
        + (
            f"; stored {len(outcome.scenario_ids):,} scenarios in {outcome.write_seconds:.1f} s"
            if outcome.scenario_ids
            else ""
        ),
        highlight=False,
    )
    return outcome


def chain_with_progress(store: GraphStore, study: Study, **options: Any) -> ChainOutcome:
    with Progress(
        TextColumn("simulating the chain"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("runs", total=None)
        outcome = run_chain_sweep(
            store,
            study,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            command=redact_command(["critmin", *sys.argv[1:]]),
            **options,
        )
    years = sorted(outcome.networks)
    console.print(
        f"{outcome.chain.id}: {len(outcome.chain.stages)} stages, {len(years)} years "
        f"{years[0]}-{years[-1]}, {len(outcome.result.panel)} countries, unit "
        f"{outcome.unit.label}; {len(outcome.result.runs):,} stage runs in "
        f"{outcome.seconds:.1f} s"
        + (
            f"; stored {len(outcome.scenario_ids):,} scenarios in {outcome.write_seconds:.1f} s"
            if outcome.scenario_ids
            else ""
        ),
        highlight=False,
    )
    return outcome


def show_chain(outcome: ChainOutcome, top: int) -> None:
    """Per shock size: the sources at the chain's first stage ranked by what the last stage
    loses, with each stage's initial shock, cut and loss."""
    table = outcome.stage_table()
    last = len(outcome.chain.stages) - 1
    unit = outcome.unit.suffix
    for fraction, view in table[table["source_stage"] == 0].groupby("fraction", sort=False):
        wide = view.pivot_table(
            index=["year", "source"],
            columns="stage",
            values=["initial_shock", "demand_loss", "n_failed"],
        )
        wide.columns = [f"{name}_stage{k}" for name, k in wide.columns]
        # A count stays a count (the pivot's mean makes every value a float; one row a cell).
        counts = [c for c in wide.columns if c.startswith("n_failed")]
        wide[counts] = wide[counts].round().astype("Int64")
        wide = wide.reset_index().sort_values(f"demand_loss_stage{last}", ascending=False)
        quantities = [c for c in wide.columns if c.startswith(("initial_shock", "demand_loss"))]
        wide = wide.rename(columns={c: f"{c}_{unit}" for c in quantities})
        wide.insert(2, "name", [outcome.names.get(c, c) for c in wide["source"]])
        show_table(
            wide,
            f"Chain {outcome.chain.id}, shock {float(fraction):g} at stage 0: what each "
            f"source's stop costs stage {last} ({outcome.chain.stages[last].commodity})",
            f"initial_shock of a stage below 0 is its coupling cut; {outcome.caption()}",
            top,
        )


@friendly
def simulate(
    commodity: Annotated[
        str,
        typer.Option(
            help="Commodity group id, e.g. cobalt, cobalt_oxides, lithium_carbonate (the groups "
            "file; README: Loading data), or a supply chain id (chains.csv: cobalt_chain, "
            "cobalt_demo), swept stage by stage in contained metal."
        ),
    ],
    years: Annotated[
        str | None, typer.Option(help="2002-2024 or 2019,2021; default every year with data.")
    ] = None,
    shock: Annotated[
        list[float] | None,
        typer.Option(
            help="Share of exports cut (repeat; a size given twice runs once); default "
            + " and ".join(f"{s:g}" for s in DEFAULT_SHOCKS)
            + "."
        ),
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option(help="ISO3 source (repeat); default every exporter.")
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            help="Targeted embargo: the sources cut exports to this ISO3 importer only (repeat)."
        ),
    ] = None,
    together: Annotated[
        bool, typer.Option(help="The given sources cut together (a coalition).")
    ] = False,
    coalitions: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=3,
            help="Run every coalition of K exporters acting together (2 or 3) among the --source "
            "countries or the --top exporters of each year, each member alone too, and compare.",
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option("--top-exporters", min=2, help="With --coalitions: the N largest exporters."),
    ] = None,
    executor: Annotated[
        str, typer.Option(help="local (this process) or dask (a Dask cluster).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="With --executor dask: the scheduler address (tcp://HOST:PORT); default a "
            "cluster on this machine, on 127.0.0.1."
        ),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(help="export (cut exports) or production (cut output); default export."),
    ] = None,
    alpha: Alpha = None,
    absorb: Absorb = None,
    supplier_cap: SupplierCap = None,
    fail_abs: FailAbs = None,
    fail_rel: FailRel = None,
    preset: Preset = None,
    measure: MeasureOption = Measure.AUTO,
    keep_share: Annotated[
        float, typer.Option(help="Store TRANSMITS edges above this share of the shock.")
    ] = KEEP_SHARE,
    store_results: Annotated[
        bool, typer.Option("--store/--no-store", help="Write scenarios to Neo4j.")
    ] = True,
    cascades: Annotated[
        bool,
        typer.Option(
            "--cascades/--no-cascades",
            help="Store each scenario's TRANSMITS (its cascade). --no-cascades (bulk sweeps) "
            "keeps scenarios and per-country outcomes; `critmin cascade ID` adds one later.",
        ),
    ] = True,
    stockpile: Annotated[
        list[str] | None,
        typer.Option(
            help="A strategic stockpile held in every run (repeat): ISO3=QTY in the network's "
            "unit (tonnes or USD), or ISO3=3months of the country's internal demand. A country "
            "draws on it before a loss counts as demand loss; stored on the scenarios.",
        ),
    ] = None,
    rows: Annotated[int, typer.Option("--top", min=1, help="Rows of the tables to print.")] = 10,
    allow_large: AllowLarge = False,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Run the shock-diffusion sweep on stored networks and write scenario-tagged results."""
    # The study is built, and bad years, numbers or repeats refused, before a server is asked.
    # A chain id (chains.csv) is its stages' commodities, upstream first.
    chains = load_chains()
    stages = [st.commodity for st in chains[commodity].stages] if commodity in chains else None
    study = Study.build(
        stages or commodity,
        years=parse_years(years),
        shocks=shock,
        measure=measure,
        sources=source,
        together=together,
        targets=target,
        stockpiles=stockpile_option(stockpile),
        keep_share=keep_share,
        coalitions=coalitions,
        top=top,
        cascades=cascades,
        max_scenarios=None if allow_large else MAX_SCENARIOS,
        preset=preset,
        **given_parameters(
            mode=mode,
            alpha=alpha,
            absorb=absorb,
            supplier_cap=supplier_cap,
            fail_abs=fail_abs,
            fail_rel=fail_rel,
        ),
    )
    if study.is_chain:
        with open_store(uri, user, password, database) as store:
            chain = chain_with_progress(
                store, study, write=store_results, executor=executor, scheduler=scheduler
            )
        show_chain(chain, rows)
        return
    with open_store(uri, user, password, database) as store:
        outcome = sweep_with_progress(
            store, study, write=store_results, executor=executor, scheduler=scheduler
        )
    show_sources(outcome, rows)
    if study.stockpiles:
        show_drawn(outcome, rows)
    if outcome.coalitions is not None:
        show_coalitions(outcome, rows)
