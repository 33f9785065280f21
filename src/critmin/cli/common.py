"""What every command shares: connection options, the error boundary, console output."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from critmin.cli.explain import explain, interrupted, quiet_driver
from critmin.defaults import MAX_SCENARIOS
from critmin.simulator.scenario import PRESETS, Parameters
from critmin.store.graph import GraphStore
from critmin.store.settings import resolve_settings
from critmin.units import Measure, Unit

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

Uri = Annotated[
    str | None, typer.Option("--uri", envvar="NEO4J_URI", help="Bolt URI of a Neo4j you run.")
]
User = Annotated[str | None, typer.Option("--user", envvar="NEO4J_USER", help="Neo4j user.")]
Password = Annotated[
    str | None,
    typer.Option("--password", envvar="NEO4J_PASSWORD", help="Neo4j password.", show_default=False),
]
Database = Annotated[
    str | None, typer.Option("--database", envvar="NEO4J_DATABASE", help="Database name.")
]


# The cascade's parameters, as every command that runs a cascade takes them. Unset, each is
# the model's default (critmin.simulator.scenario.Parameters, shown in the help), so the CLI
# never restates a default: only the values given override it (see given_parameters).
_DEFAULT = Parameters()
Alpha = Annotated[
    float | None,
    typer.Option(help=f"Share of a loss passed on by cutting exports (default {_DEFAULT.alpha})."),
]
Absorb = Annotated[
    float | None,
    typer.Option(
        help=f"Share of a received loss absorbed at home first (default {_DEFAULT.absorb})."
    ),
]
SupplierCap = Annotated[
    str | None,
    typer.Option(
        help="none, or supply (suppliers give at most their supply) "
        f"(default {_DEFAULT.supplier_cap})."
    ),
]
FailAbs = Annotated[
    float | None,
    typer.Option(
        help="Failure threshold in the network's unit; default "
        f"{Unit.TONNES.default_fail_abs:g} t or {Unit.USD.default_fail_abs:,.0f} USD."
    ),
]
FailRel = Annotated[
    float | None,
    typer.Option(
        help=f"Failure also needs loss > fail_rel x demand (default {_DEFAULT.fail_rel})."
    ),
]
MeasureOption = Annotated[
    Measure,
    typer.Option(
        case_sensitive=False,
        help="auto (tonnes where the data has them, else USD), tonnes, usd or metal "
        "(README: units).",
    ),
]
Preset = Annotated[
    str | None,
    typer.Option(
        help=f"The model's variant: {', '.join(PRESETS)} (docs/model.md); the options above "
        "override its fields (default paper).",
    ),
]
AllowLarge = Annotated[
    bool,
    typer.Option(
        "--allow-large",
        help=f"Run even when the run plans more than {MAX_SCENARIOS:,} scenarios.",
    ),
]


def given_parameters(**values: Any) -> dict[str, Any]:
    """The cascade parameters a user gave (those not None), to apply over the defaults.

    >>> given_parameters(alpha=0.5, absorb=None)
    {'alpha': 0.5}
    """
    return {name: value for name, value in values.items() if value is not None}


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn errors a user can act on into one red line and exit code 2 (no traceback), and
    Ctrl-C into one line saying what was kept, exit code 130.

    What counts as such an error, and its line, is :func:`~critmin.cli.explain.explain`'s
    call; any other exception is a bug and keeps its traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        quiet_driver()
        try:
            return command(*args, **kwargs)
        except (Exception, KeyboardInterrupt) as exc:
            line = explain(exc)
            if line is None:
                raise
            # The line quotes values (Cypher, file contents): never read as console markup.
            err_console.print(
                f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(130 if interrupted(exc) else 2) from None

    return wrapper


@contextmanager
def open_store(
    uri: str | None, user: str | None, password: str | None, database: str | None
) -> Iterator[GraphStore]:
    settings = resolve_settings(uri, user, password, database)
    with GraphStore.connect(settings) as store:
        yield store
