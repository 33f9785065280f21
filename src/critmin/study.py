"""What a user asks critmin to run, as one frozen, typed object built at the edge.

A question arrives as command-line options (``critmin simulate``, ``stock-needed``,
``sensitivity``), as a scenario file (``critmin scenario run``) or as a Python call
(``run_sweep(store, "cobalt", years=[2024])``). Each edge turns it into a :class:`Study` once,
and everything below (the pipeline, policy runs, the sensitivity analysis, the store writes,
the report) takes that object whole. What depends only on the question is decided here: its
:class:`RunKind`, whether it is *the study* of its commodity (:attr:`Study.is_study`, stored
on the Run so every reader selects the same run), how many scenarios it plans, and whether
its numbers are physically possible. Bad values raise :class:`InvalidParameters` before any
data is read.

>>> study = Study.build("cobalt_oxides", shocks=[1, 1.0, 0.5], sources=["cod", "COD"])
>>> study.shocks, study.sources, study.kind, study.is_study
((1.0, 0.5), ('COD',), <RunKind.SELECTION: 'selection'>, False)
>>> Study.build("cobalt_oxides").is_study
True
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from critmin.defaults import (
    DEFAULT_SHOCKS,
    FIRST_YEAR,
    KEEP_SHARE,
    LAST_YEAR,
    MAX_SCENARIOS,
    MAX_STOCKPILE_MONTHS,
)
from critmin.errors import CritminError
from critmin.simulator.scenario import Parameters, Shock, as_shocks, shock_fraction
from critmin.simulator.stockpiles import Stockpile
from critmin.units import Measure, Unit

__all__ = [
    "InvalidParameters",
    "RunKind",
    "RunTooLarge",
    "Study",
    "YearsNotHeld",
    "redact_command",
]


class InvalidParameters(CritminError, ValueError):
    """A run's definition is unknown or out of range: names the option and the value."""


class RunTooLarge(InvalidParameters):
    """A run plans more scenarios than the limit; its message gives the size and the flag."""


class YearsNotHeld(InvalidParameters):
    """A run asks for years the loaded data does not hold; the message names those it does."""


class RunKind(StrEnum):
    """What a stored run is (``(:Run {kind})``).

    ``study``: every exporter shocked alone; ``selection``: some of them, each alone;
    ``coalition``: sources shocked together; ``embargo``: exports cut to chosen importers
    only; ``policy``: a scenario file's shocks, all at once.
    """

    STUDY = "study"
    SELECTION = "selection"
    COALITION = "coalition"
    EMBARGO = "embargo"
    POLICY = "policy"

    @property
    def has_tables(self) -> bool:
        """Runs of single sources get the sweep summaries (Tables 1-2 count such runs)."""
        return self in (RunKind.STUDY, RunKind.SELECTION)


@dataclass(frozen=True)
class Study:
    """One run's definition, validated; build it with :meth:`build` from loose input.

    Attributes
    ----------
    chain : tuple of str
        Commodity group ids, one per stage of a supply chain, upstream first; a single
        commodity is a chain of length one.
    years : tuple of int, optional
        The years to run; None for every year the data holds.
    shocks : tuple of float
        Shock sizes, each in (0, 1], distinct, largest first.
    measure : Measure
        What the networks are measured in.
    sources : tuple of str, optional
        ISO3 codes of the shocked exporters, distinct and sorted; None for every exporter.
    together : bool
        The sources cut at once, as one coalition.
    targets : tuple of str, optional
        A targeted embargo: the sources cut exports to these importers only.
    stockpiles : tuple of (str, Stockpile)
        Reserves held in every run, by ISO3 code, sorted.
    parameters : Parameters
        The cascade's parameters.
    keep_share : float
        TRANSMITS edges stored per scenario: those above this share of its initial shock.
    coalitions, top : int, optional
        Every ``coalitions``-subset of the sources (or of the ``top`` exporters of each year).
    cascades : bool
        Store each scenario's TRANSMITS (False: a bulk sweep, cascades added on demand).
    events : tuple of Shock
        Shocks that happen together, each with its own size and targets (a scenario file's):
        one cascade per year with all of them, each at its stage of ``chain``. ``sources`` and
        ``shocks`` are then theirs.
    kind : RunKind
        Derived from the above unless given (with ``events``: ``policy``).
    max_scenarios : int, optional
        Refuse a run planning more scenarios than this (None: no limit).
    """

    chain: tuple[str, ...]
    years: tuple[int, ...] | None = None
    shocks: tuple[float, ...] = DEFAULT_SHOCKS
    measure: Measure = Measure.AUTO
    sources: tuple[str, ...] | None = None
    together: bool = False
    targets: tuple[str, ...] | None = None
    stockpiles: tuple[tuple[str, Stockpile], ...] = ()
    parameters: Parameters = field(default_factory=Parameters)
    keep_share: float = KEEP_SHARE
    coalitions: int | None = None
    top: int | None = None
    cascades: bool = True
    events: tuple[Shock, ...] = ()
    kind: RunKind | None = None
    max_scenarios: int | None = field(default=MAX_SCENARIOS, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not self.chain or not all(isinstance(c, str) and c.strip() for c in self.chain):
            raise InvalidParameters(f"a study needs a commodity id, got {self.chain!r}")
        set_(self, "chain", tuple(c.strip() for c in self.chain))
        if self.years is not None:
            set_(self, "years", _years(self.years))
        if self.events:
            try:
                set_(self, "events", as_shocks(tuple(self.events)))
            except ValueError as exc:
                raise InvalidParameters(str(exc)) from None
            set_(self, "sources", tuple(s.source for s in self.events))
            set_(self, "shocks", tuple(s.fraction for s in self.events))
            far = [s for s in self.events if s.stage >= len(self.chain)]
            if far:
                raise InvalidParameters(
                    f"shock of {far[0].source} at stage {far[0].stage}: "
                    f"{' -> '.join(self.chain)} has stage(s) 0 .. {len(self.chain) - 1}"
                )
        set_(self, "shocks", _shocks(self.shocks))
        try:
            set_(self, "measure", Measure(self.measure))
        except ValueError:
            choices = ", ".join(m.value for m in Measure)
            raise InvalidParameters(
                f"--measure {self.measure!r} is not a measure: choose {choices}"
            ) from None
        set_(self, "sources", _codes(self.sources, "--source"))
        set_(self, "targets", _codes(self.targets, "--target"))
        overlap = sorted(set(self.sources or ()) & set(self.targets or ()))
        if overlap:
            raise InvalidParameters(f"{', '.join(overlap)} is both a --source and a --target")
        set_(self, "stockpiles", _stockpiles(self.stockpiles))
        if not isinstance(self.parameters, Parameters):
            raise InvalidParameters(f"parameters must be Parameters, got {self.parameters!r}")
        keep = _finite(self.keep_share, "--keep-share")
        if not 0.0 <= keep <= 1.0:
            raise InvalidParameters(f"--keep-share must be in [0, 1], got {self.keep_share!r}")
        set_(self, "keep_share", keep)
        if self.coalitions is not None and self.coalitions < 2:
            raise InvalidParameters(f"--coalitions must be 2 or more, got {self.coalitions}")
        if self.top is not None and self.coalitions is None:
            raise InvalidParameters(
                "--top-exporters chooses the members of --coalitions: give --coalitions K too"
            )
        if self.top is not None and self.top < 2:
            raise InvalidParameters(f"--top-exporters must be 2 or more, got {self.top}")
        if self.together and self.coalitions is not None:
            raise InvalidParameters("--together names one coalition; --coalitions K runs them all")
        if self.together and not self.sources:
            raise InvalidParameters("--together needs the coalition's members as --source")
        set_(self, "kind", RunKind(self.kind) if self.kind is not None else self._kind())
        self.check_unit(self.measure.unit)

    @classmethod
    def build(
        cls,
        commodity: str | Sequence[str],
        *,
        years: Iterable[int] | None = None,
        shocks: Iterable[float] | None = None,
        measure: Measure | str = Measure.AUTO,
        sources: Iterable[str] | None = None,
        targets: Iterable[str] | None = None,
        stockpiles: Mapping[str, Stockpile | float] | None = None,
        parameters: Parameters | None = None,
        preset: str | None = None,
        **options: Any,
    ) -> Study:
        """A Study from loose input (lists, strings, None for a default).

        ``options`` are the other fields (``together``, ``keep_share``, ``coalitions``,
        ``top``, ``cascades``, ``kind``, ``max_scenarios``) or cascade parameters by name
        (``alpha=0.5``), applied over ``parameters`` or over the named ``preset``
        (``paper``, the default model, or ``physical``: see ``Parameters.from_preset``).
        """
        if preset is not None:
            if parameters is not None:
                raise InvalidParameters("give parameters or a preset, not both")
            try:
                parameters = Parameters.from_preset(preset)
            except ValueError as exc:
                raise InvalidParameters(f"--preset: {exc}") from None
        names = {f.name for f in fields(cls)}
        overrides = {k: options.pop(k) for k in list(options) if k not in names}
        chain = (commodity,) if isinstance(commodity, str) else tuple(commodity)
        stocks = {
            code: value if isinstance(value, Stockpile) else _stockpile(code, value)
            for code, value in (stockpiles or {}).items()
        }
        return cls(
            chain=chain,
            years=None if years is None else tuple(years),
            shocks=DEFAULT_SHOCKS if not shocks else tuple(shocks),
            measure=measure,  # type: ignore[arg-type]  # checked in __post_init__
            sources=None if not sources else tuple(sources),
            targets=None if not targets else tuple(targets),
            stockpiles=tuple(stocks.items()),
            parameters=cascade_parameters(parameters, **overrides),
            **options,
        )

    # ------------------------------------------------------------ what it is

    @property
    def commodity(self) -> str:
        """The commodity the run is stored under: the chain's last (most refined) stage."""
        return self.chain[-1]

    @property
    def is_chain(self) -> bool:
        return len(self.chain) > 1

    def _kind(self) -> RunKind:
        if self.events:
            return RunKind.POLICY
        if self.targets:
            return RunKind.EMBARGO
        if self.together or self.coalitions is not None:
            return RunKind.COALITION
        return RunKind.SELECTION if self.sources else RunKind.STUDY

    @property
    def is_study(self) -> bool:
        """Whether this run is *the study* of its commodity: every exporter shocked alone,
        untargeted, without stockpiles, in the default cascade parameters (none given).

        Years, shock sizes, the measure and ``keep_share`` may be any: readers ask for a
        shock size, and the latest complete study that swept it answers. Written on the Run
        (``is_study``) when it is stored; every reader (``critmin results``, the report, the
        sweep-level Cypher library) selects the study by that flag alone.
        """
        return (
            self.kind is RunKind.STUDY and not self.stockpiles and self.parameters == Parameters()
        )

    @property
    def stockpile_map(self) -> dict[str, Stockpile]:
        return dict(self.stockpiles)

    def stockpile_texts(self) -> tuple[str, ...]:
        """The stockpiles as given on a command line, sorted: ``("JPN=30", "USA=3months")``."""
        return tuple(f"{code}={stock}" for code, stock in self.stockpiles)

    def with_years(self, years: Iterable[int]) -> Study:
        return replace(self, years=tuple(years))

    # ------------------------------------------------------------ checks against the data

    def check_unit(self, unit: Unit | str | None) -> None:
        """Refuse quantities beyond what a loader accepts in ``unit`` (None: any unit).

        ``fail_abs`` and every stockpile quantity must be at most :attr:`Unit.max_flow`, the
        bound the loaders refuse flows above.
        """
        top = Unit.of(unit).max_flow if unit is not None else max(u.max_flow for u in Unit)
        shown = Unit.of(unit).label if unit is not None else "the largest unit"
        fail_abs = self.parameters.fail_abs
        if fail_abs is not None and fail_abs > top:
            raise InvalidParameters(
                f"--fail-abs {fail_abs:g} is above {top:g} ({shown}), the most any flow may be: "
                "a threshold no country can reach"
            )
        for code, stock in self.stockpiles:
            if not stock.of_demand and stock.amount > top:
                raise InvalidParameters(
                    f"--stockpile {code}={stock}: above {top:g} ({shown}), the most any flow "
                    "may be; give a quantity in the network's unit or <n>months"
                )

    def chosen_years(self, held: Sequence[int]) -> list[int]:
        """The years to run among those the data ``held``; refuses years outside them.

        Years inside the held span that have no data (a gap in a series) are skipped.
        """
        held = sorted(int(y) for y in held)
        if not held:
            raise YearsNotHeld(f"no stored trade of {self.commodity}: load it first")
        if self.years is None:
            return held
        outside = [y for y in self.years if not held[0] <= y <= held[-1]]
        if outside:
            raise YearsNotHeld(
                f"--years {_span(outside)}: the loaded {self.commodity} trade holds "
                f"{held[0]}-{held[-1]} only"
            )
        chosen = sorted(set(self.years) & set(held))
        if not chosen:
            raise YearsNotHeld(
                f"no {self.commodity} trade in {_span(list(self.years))}; "
                f"the data holds {', '.join(map(str, held))}"
            )
        return chosen

    def planned_scenarios(self, n_years: int, n_exporters: int) -> int:
        """How many scenarios the run plans on ``n_years`` networks of ``n_exporters``.

        >>> Study.build("cobalt").planned_scenarios(23, 150)
        6900
        >>> Study.build("cobalt", coalitions=3, top=100_000).planned_scenarios(1, 212)
        3131664
        """
        per_shock: int
        if self.events:
            return n_years
        if self.together:
            per_shock = 1
        elif self.coalitions is not None:
            pool = len(self.sources) if self.sources else n_exporters
            if self.top is not None:
                pool = min(pool, self.top)
            per_shock = math.comb(pool, self.coalitions) + pool
        else:
            per_shock = len(self.sources) if self.sources else n_exporters
        return n_years * len(self.shocks) * per_shock

    def check_size(self, n_years: int, n_exporters: int) -> int:
        """The planned number of scenarios, or :class:`RunTooLarge` above ``max_scenarios``."""
        planned = self.planned_scenarios(n_years, n_exporters)
        if self.max_scenarios is not None and planned > self.max_scenarios:
            raise RunTooLarge(
                f"this run plans {planned:,} scenarios ({n_years} years x {len(self.shocks)} "
                f"shock sizes x {planned // max(n_years * len(self.shocks), 1):,} source sets), "
                f"above the limit of {self.max_scenarios:,}: narrow --years, --source, --shock "
                "or --top-exporters, or pass --allow-large to run it anyway"
            )
        return planned


def cascade_parameters(parameters: Parameters | None = None, **overrides: Any) -> Parameters:
    """``parameters`` with ``overrides`` applied, checked: the one place a run's parameters are
    made from user input (bad names or values raise :class:`InvalidParameters`)."""
    try:
        return replace(parameters or Parameters(), **overrides)
    except (TypeError, ValueError) as exc:
        raise InvalidParameters(f"invalid cascade parameters: {exc}") from exc


# ---------------------------------------------------------------- secrets

#: Options whose value is a secret, and ``NAME=value`` words whose name says it is one.
_SECRET_OPTIONS = ("--password",)
_SECRET_WORD = re.compile(r"(?i)^([\w.-]*(?:password|passwd|secret|token|api[_-]?key)[\w.-]*)=.+$")
_URI_PASSWORD = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://[^:/@\s]+):[^@/\s]+@")
REDACTED = "REDACTED"


def redact_command(command: str | Sequence[str]) -> str:
    """A command line with its secrets replaced by ``REDACTED``, safe to store and print.

    ``command`` is the words (``sys.argv``) or one shell-quoted line.

    >>> redact_command(["critmin", "simulate", "--password", "s3cret", "--years", "2024"])
    'critmin simulate --password REDACTED --years 2024'
    >>> redact_command("critmin simulate --password=s3cret NEO4J_PASSWORD=x")
    'critmin simulate --password=REDACTED NEO4J_PASSWORD=REDACTED'
    >>> redact_command("critmin simulate --uri bolt://neo4j:pw@db:7687")
    'critmin simulate --uri bolt://neo4j:REDACTED@db:7687'
    """
    if isinstance(command, str):
        try:
            words = shlex.split(command)
        except ValueError:  # unbalanced quotes: redact word by word as written
            words = command.split()
    else:
        words = [str(w) for w in command]
    out: list[str] = []
    hide_next = False
    for word in words:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        option, sep, _value = word.partition("=")
        if option in _SECRET_OPTIONS:
            if sep:
                out.append(f"{option}={REDACTED}")
            else:
                out.append(word)
                hide_next = True
            continue
        word = _SECRET_WORD.sub(rf"\1={REDACTED}", word)
        out.append(_URI_PASSWORD.sub(rf"\1:{REDACTED}@", word))
    return shlex.join(out)


# ---------------------------------------------------------------- field checks


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameters(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _years(years: Iterable[int]) -> tuple[int, ...]:
    out = set()
    for year in years:
        if isinstance(year, bool) or not isinstance(year, int):
            raise InvalidParameters(f"--years: {year!r} is not a year")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise InvalidParameters(
                f"--years: {year} is outside {FIRST_YEAR}-{LAST_YEAR}; write years such as "
                "2002-2024"
            )
        out.add(int(year))
    if not out:
        raise InvalidParameters("--years names no year")
    return tuple(sorted(out))


def _shocks(shocks: Iterable[float]) -> tuple[float, ...]:
    try:
        sizes = {shock_fraction(s) for s in shocks}
    except ValueError as exc:
        raise InvalidParameters(f"--shock: {exc}") from None
    if not sizes:
        raise InvalidParameters("--shock names no shock size")
    return tuple(sorted(sizes, reverse=True))


def _codes(codes: Iterable[str] | None, option: str) -> tuple[str, ...] | None:
    if codes is None:
        return None
    out = set()
    for code in codes:
        if not isinstance(code, str) or not code.strip():
            raise InvalidParameters(f"{option} takes an ISO3 code such as COD, got {code!r}")
        out.add(code.strip().upper())
    return tuple(sorted(out)) or None


def _stockpile(code: str, value: object) -> Stockpile:
    if isinstance(value, str):
        try:
            return Stockpile.parse(value)
        except ValueError as exc:
            raise InvalidParameters(f"--stockpile {code}: {exc}") from None
    try:
        return Stockpile(value)  # type: ignore[arg-type]  # checked by Stockpile
    except ValueError as exc:
        raise InvalidParameters(f"--stockpile {code}: {exc}") from None


def _stockpiles(pairs: Iterable[tuple[str, Stockpile]]) -> tuple[tuple[str, Stockpile], ...]:
    out: dict[str, Stockpile] = {}
    for code, stock in pairs:
        if not isinstance(code, str) or not code.strip():
            raise InvalidParameters(f"--stockpile: {code!r} is not an ISO3 code")
        key = code.strip().upper()
        if key in out and out[key] != stock:
            raise InvalidParameters(f"--stockpile: {key} is given twice ({out[key]} and {stock})")
        if not isinstance(stock, Stockpile):
            raise InvalidParameters(f"--stockpile {key}: {stock!r} is not a Stockpile")
        if stock.of_demand and stock.in_demand_months > MAX_STOCKPILE_MONTHS:
            raise InvalidParameters(
                f"--stockpile {key}={stock}: at most {MAX_STOCKPILE_MONTHS:g} months of demand "
                "(ten years; no reserve policy holds more)"
            )
        out[key] = stock
    return tuple(sorted(out.items()))


def _span(years: Sequence[int]) -> str:
    years = sorted(years)
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
