"""`critmin sensitivity`: the study re-run over a grid of model choices and data treatments."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from critmin.analysis.sensitivity import (
    ABSORBS,
    ALPHAS,
    DATA_VARIANTS,
    FAIL_ABS_SCALES,
    METAL_VARIANTS,
    Grid,
    SensitivityResult,
    read_variants,
    sensitivity,
)
from critmin.cli.common import (
    Database,
    MeasureOption,
    Password,
    Uri,
    User,
    console,
    err_console,
    friendly,
    open_store,
)
from critmin.cli.output import Format, FormatOption, OutOption, emit, flat, write_frame
from critmin.cli.simulate_cmd import parse_years
from critmin.defaults import DEFAULT_SHOCKS
from critmin.loader.commodities import find_group
from critmin.simulator.scenario import FAILURE_PRESETS, PRESETS
from critmin.store.networks import available_years, country_names
from critmin.store.scenario_reads import refuse_chain
from critmin.study import InvalidParameters, Study
from critmin.units import Measure


class Show(StrEnum):
    """The tables `critmin sensitivity` can print."""

    bands = "bands"
    agreement = "agreement"
    effects = "effects"
    points = "points"


def run_grid(
    study: Study,
    grid: Grid,
    data: list[str],
    workers: int | None,
    connection: tuple[str | None, str | None, str | None, str | None],
    quiet: bool,
) -> tuple[SensitivityResult, dict[str, str], float]:
    """Pull every data variant's networks once, then run the grid off the graph."""
    refuse_chain(study.commodity)
    group = find_group(study.commodity)
    with open_store(*connection) as store:
        chosen = study.chosen_years(available_years(store, group))
        try:
            variants, notes = read_variants(store, group, chosen, study.measure.value, data)
        except ValueError as exc:
            raise InvalidParameters(str(exc)) from exc
        names = country_names(store)
    started = time.perf_counter()
    with Progress(
        TextColumn("sensitivity grid"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cascade batches"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task("grid", total=None)
        result = sensitivity(
            variants,
            grid,
            study.shocks,
            workers=workers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            notes=notes,
        )
    return result, names, time.perf_counter() - started


def _caption(result: SensitivityResult, commodity: str, what: str) -> str:
    default = result.points.loc[result.default]
    variants = "; ".join(
        f"{v.name} = {v.unit_label()} ({len(v.panel)} countries)" for v in result.variants
    )
    first = result.variants[0]
    years = list(first.networks)
    lines = [
        what,
        f"{commodity}, {len(years)} years {years[0]}-{years[-1]}; total_failed = countries "
        "failed summed over the years, per source (rank 1 = most; ties share a rank); "
        "failure_rate = total_failed / (years x panel countries)",
        f"grid ({len(result.points)} points): {result.grid.describe()}; data: {variants}",
        f"default point: {default['label']} (unit {default['unit']}, failure rule "
        f"{default['failure_rule']}, fail_rel {default['fail_rel']:g}); preset paper = "
        "supplier_cap none, demand_cap none; physical = supplier_cap supply, demand_cap "
        "consumption; other parameters at the model's defaults (eps_pass 1e-9, tol 1e-12, "
        "export mode)",
    ]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def _bands(result: SensitivityResult, names: dict[str, str], top: int) -> pd.DataFrame:
    table = result.bands(top)
    table.insert(3, "name", [names.get(code, code) for code in table["source"]])
    return table


def _points(result: SensitivityResult) -> pd.DataFrame:
    columns = ["point", "data", "unit", "preset", "alpha", "absorb", "failure_rule", "fail_rel"]
    columns += ["fail_abs_scale", "is_default"]
    return result.points[columns].merge(result.sources, on="point")


def _tau_summary(result: SensitivityResult, top: int) -> str:
    agreement = result.agreement(top)
    others = agreement[~agreement["is_default"]]
    bands = result.bands(top)
    tops = bands.groupby("fraction")["source"].size().to_dict()
    parts = []
    for fraction, rows in others.groupby("fraction", sort=False):
        worst = rows.iloc[0]
        parts.append(
            f"{fraction:.0%} cut: median {rows['kendall_tau_b'].median():.3f}, least "
            f"{worst['kendall_tau_b']:.3f} at {worst['label']} ({worst['top_overlap']} of the "
            f"default's {tops[fraction]} top-{top} sources still in its top {top})"
        )
    return (
        f"Kendall tau-b of each grid point's ranking against the default's over the other "
        f"{others['point'].nunique()} points: " + "; ".join(parts)
    )


@friendly
def sensitivity_command(
    commodity: Annotated[str, typer.Option(help="Commodity group id, e.g. cobalt_oxides.")],
    years: Annotated[
        str | None, typer.Option(help="2002-2024 or 2019,2021; default every year with data.")
    ] = None,
    shock: Annotated[
        list[float] | None,
        typer.Option(
            help="Share of exports cut, in (0, 1] (repeat); default "
            + " and ".join(f"{s:g}" for s in DEFAULT_SHOCKS)
            + "."
        ),
    ] = None,
    alpha: Annotated[
        list[float] | None,
        typer.Option(help="Alpha values of the grid (repeat); default 0.5, 0.6, 0.7, 0.8, 0.9."),
    ] = None,
    absorb: Annotated[
        list[float] | None, typer.Option(help="Absorb values (repeat); default 0 and 0.2.")
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            help=f"Failure-rule presets (repeat): {', '.join(FAILURE_PRESETS)}; default all."
        ),
    ] = None,
    preset: Annotated[
        list[str] | None,
        typer.Option(
            "--preset",
            help=f"Model presets of the grid (repeat): {', '.join(PRESETS)}; default both "
            "(paper, the default point's, is always included).",
        ),
    ] = None,
    fail_abs_scale: Annotated[
        list[float] | None,
        typer.Option(
            help="fail_abs as a multiple of the rule's threshold in the unit: 0.001 t or 1,000 "
            "USD, for share-1pct 1 t or 10,000 USD (repeat); default 0.1, 1 and 10."
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            help="Data variants (repeat): value (USD), tonnes (missing tonnes imputed), "
            "tonnes_dropped (flows without tonnes left out); default all. The study's own "
            "reading (--measure) is always the default point's; with --measure metal, "
            "metal_low and metal_high (every code at the ends of its metal-content range) "
            "are added."
        ),
    ] = None,
    measure: MeasureOption = Measure.AUTO,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes running cascades; default one per core, 1 = serial."),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Top sources of the default point.")] = 10,
    table: Annotated[
        list[Show] | None,
        typer.Option(
            "--table",
            help="bands (each top source's rank and failed range), agreement (Kendall tau-b of "
            "each grid point against the default), effects (tau by choice), points (every "
            "point's source table); repeat for several. Default bands.",
        ),
    ] = None,
    fmt: FormatOption = Format.table,
    out: OutOption = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Re-run the study over a grid of presets, alpha, absorb, failure rules, fail_abs and data
    variants (with --measure metal, the metal-content ranges too);
    report each top source's band and each grid point's rank agreement with the default.

    Results stay in memory (printed, or written with --out), never stored with the study.
    """
    study = Study.build(commodity, years=parse_years(years), shocks=shock, measure=measure)
    shown = list(dict.fromkeys(table or [Show.bands]))
    if fmt is not Format.table and len(shown) > 1 and out is None:
        raise typer.BadParameter("csv and json on stdout take one --table; use --out for several")
    known = [*DATA_VARIANTS, *METAL_VARIANTS]
    unknown = sorted(set(data or []) - set(known))
    if unknown:
        raise typer.BadParameter(f"unknown --data {unknown}; choose from {known}")
    try:
        grid = Grid(
            alphas=tuple(alpha or ALPHAS),
            absorbs=tuple(absorb or ABSORBS),
            rules=tuple(rule or FAILURE_PRESETS),
            fail_abs_scales=tuple(fail_abs_scale or FAIL_ABS_SCALES),
            presets=tuple(preset or PRESETS),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    report = console if fmt is Format.table else err_console
    result, names, seconds = run_grid(
        study,
        grid,
        data or list(DATA_VARIANTS),
        workers,
        (uri, user, password, database),
        quiet=not report.is_terminal,
    )
    report.print(
        f"{commodity}: {len(result.points)} grid points, {result.runs:,} runs "
        f"({result.cascades:,} cascades run, the others shared) in {seconds:.1f} s",
        highlight=False,
    )
    context = {"commodity": commodity, "top": top, **result.context(), "seconds": seconds}
    for show in shown:
        frame, title, what = _table(result, names, show, top)
        target = out
        if out is not None and len(shown) > 1:
            target = out.with_name(f"{out.stem}_{show.value}{out.suffix}")
        shown_rows = frame
        if fmt is Format.table and show in (Show.agreement, Show.points):
            # On screen, the first rows of each group; files and csv/json get every row.
            by = ["fraction"] if show is Show.agreement else ["point", "fraction"]
            shown_rows = frame.groupby(by, sort=False).head(top)
            what += f"\n(on screen: the first {top} rows per {' and '.join(by)}; --out has all)"
        emit(
            shown_rows,
            fmt,
            title=f"{title}: {commodity}",
            caption=_caption(result, commodity, what),
            context=context,
            out=target if shown_rows is frame else None,
        )
        if target is not None and shown_rows is not frame:
            write_frame(frame if target.suffix == ".json" else flat(frame), target, context)
    if fmt is Format.table:
        console.print(_tau_summary(result, top), highlight=False, soft_wrap=True)


def _table(
    result: SensitivityResult, names: dict[str, str], show: Show, top: int
) -> tuple[pd.DataFrame, str, str]:
    if show is Show.bands:
        return (
            _bands(result, names, top),
            f"Sensitivity bands of the top {top} sources",
            "rank, total_failed, failure_rate: the default point's; _min/_max: over the grid "
            f"points; top_share: share of points ranking the source in the top {top}; "
            "worst_point: the first point with its lowest rank (when it moves)",
        )
    if show is Show.agreement:
        return (
            result.agreement(top),
            "Rank agreement with the default point",
            "kendall_tau_b of total_failed per source, grid point against default point, over "
            "every source of either (no source = 0 failed); 1 = same order; top_overlap: "
            f"sources in both top-{top} lists; first: the point's top source; least agreement "
            "first",
        )
    if show is Show.effects:
        return (
            result.effects(top),
            "Which choice moves the ranking",
            "per grid dimension and value: the least and the median kendall_tau_b against the "
            f"default over the points with that value, and the least top-{top} overlap",
        )
    return (
        _points(result),
        "The study at every grid point",
        "one source table per grid point, as `critmin simulate` ranks it",
    )
