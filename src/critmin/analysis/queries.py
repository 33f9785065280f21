"""The analysts' Cypher library (``cypher/``), loaded and run by name.

Each ``NAME.cypher`` file opens with a ``//`` comment header, then the query::

    // Top risk sources: ... (the description; its first line is the summary)
    //
    // @param commodity: string            commodity group id
    // @param shock: float                 share of exports cut
    // @param measure: 'tonnes'|'value_usd' = 'tonnes'   a string with fixed choices
    // @param years: list<integer> = null  null means "every year"
    //
    // :param {commodity: 'cobalt', shock: 1.0, measure: 'tonnes', years: null}
    MATCH ...

Types are ``string``, ``integer``, ``float``, ``boolean`` and ``list<...>`` of the first three;
a number may declare its bounds, both inclusive, either end open: ``integer[1..6]``,
``float[0..1]``, ``integer[1..]`` (a list's bounds hold for each item); a value outside them is
refused with the bound named, never capped. A parameter with a default may be left out (the
default is sent), one without is required. The
``:param`` line is what an analyst pastes into Neo4j Browser, so it must set every parameter.
Values given as text (``--param shock=0.5``) are converted to the declared type;
``list<...>`` values are comma-separated, and ``list<integer>`` accepts ranges (``2019-2021``).

The folder is ``critmin/cypher/`` of the installed package (``cypher/`` in the
source checkout), or ``$CRITMIN_CYPHER_DIR``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.analysis.literals import LiteralError, parse_literal
from critmin.errors import CritminError
from critmin.store.graph import GraphStore

__all__ = [
    "ENV_VAR",
    "Parameter",
    "Query",
    "QueryError",
    "bind_query",
    "cypher_dir",
    "cypher_literal",
    "load_library",
    "parse_assignments",
    "parse_query",
    "run_query",
]

#: Environment variable naming another folder of ``.cypher`` files.
ENV_VAR = "CRITMIN_CYPHER_DIR"

SCALARS = ("string", "integer", "float", "boolean")
TYPES = SCALARS + tuple(f"list<{t}>" for t in SCALARS[:3])
NUMBERS = ("integer", "float", "list<integer>", "list<float>")

_REQUIRED = object()
_PARAM_LINE = re.compile(
    r"@param\s+(?P<name>[A-Za-z_]\w*)\s*:\s*(?P<type>\S+)"
    r"(?:\s*=\s*(?P<default>'(?:[^'\\]|\\.)*'|\[[^\]]*\]|\S+))?\s*(?P<help>.*)$"
)
_EXAMPLE = re.compile(r"^:params?\s+(?P<map>\{.*\})\s*$")
_USED = re.compile(r"\$([A-Za-z_]\w*)")
_BOUNDS = re.compile(r"(?P<type>[a-z<>]+)\[(?P<low>[^\]]*?)\.\.(?P<high>[^\]]*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class QueryError(CritminError, ValueError):
    """A query that does not exist, or parameters it cannot take; the message says what fits."""


@dataclass(frozen=True)
class Parameter:
    """One declared ``$parameter`` of a query.

    Examples
    --------
    >>> years = Parameter("years", "list<integer>", "years to include", default=None)
    >>> years.coerce("2019-2021,2023")
    [2019, 2020, 2021, 2023]
    >>> Parameter("shock", "float", "share cut").coerce("half")
    Traceback (most recent call last):
    ...
    critmin.analysis.queries.QueryError: parameter shock must be a float, got 'half'
    """

    name: str
    type: str
    help: str = ""
    default: Any = _REQUIRED
    choices: tuple[str, ...] = ()
    #: Inclusive bounds of a number (of each item of a list); None: open.
    low: float | None = None
    high: float | None = None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    @property
    def bounds(self) -> str:
        """``[low..high]`` as declared, or ``""`` when the parameter has none."""
        if self.low is None and self.high is None:
            return ""
        return f"[{_bound(self.low)}..{_bound(self.high)}]"

    @property
    def signature(self) -> str:
        """``name: type`` with bounds, choices and default, as the header declares it."""
        kind = "|".join(f"'{c}'" for c in self.choices) if self.choices else self.type
        default = "" if self.required else f" = {cypher_literal(self.default)}"
        return f"{self.name}: {kind}{self.bounds}{default}"

    def coerce(self, value: Any) -> Any:
        """``value`` (text from a command line, or a Python value) as the declared type."""
        if value is None or (isinstance(value, str) and value.strip().lower() == "null"):
            if self.required or self.default is not None:
                raise QueryError(f"parameter {self.name} cannot be null ({self.signature})")
            return None
        if self.type.startswith("list<"):
            item = self.type[5:-1]
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple):
                raise QueryError(f"parameter {self.name} must be a list, got {value!r}")
            return [v for part in items for v in self._items(item, part)]
        return self._scalar(self.type, value)

    def _items(self, item: str, part: Any) -> list[Any]:
        if (
            item == "integer"
            and isinstance(part, str)
            and re.fullmatch(r"\s*\d+\s*-\s*\d+\s*", part)
        ):
            first, last = (int(p) for p in part.split("-"))
            return list(range(first, last + 1))
        return [self._scalar(item, part.strip() if isinstance(part, str) else part)]

    def _scalar(self, kind: str, value: Any) -> Any:
        try:
            converted = _CONVERT[kind](value)
        except (TypeError, ValueError, KeyError):
            article = "an" if kind[0] in "aeiou" else "a"
            if kind == "integer" and re.fullmatch(r"\s*[+-]?\d+\s*", str(value)):
                raise QueryError(
                    f"parameter {self.name} is outside Neo4j's 64-bit integers "
                    f"(-2^63 to 2^63-1), got {value!r}"
                ) from None
            raise QueryError(
                f"parameter {self.name} must be {article} {kind}, got {value!r}"
            ) from None
        if self.choices and converted not in self.choices:
            raise QueryError(
                f"parameter {self.name} must be one of {', '.join(self.choices)}, got {value!r}"
            )
        if isinstance(converted, int | float) and not self._within(converted):
            raise QueryError(
                f"parameter {self.name} must be {_range(self.low, self.high)} "
                f"({self.signature}), got {value!r}"
            )
        return converted

    def _within(self, number: float) -> bool:
        return (self.low is None or number >= self.low) and (
            self.high is None or number <= self.high
        )


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _range(low: float | None, high: float | None) -> str:
    if low is None:
        return f"at most {high:g}"
    if high is None:
        return f"at least {low:g}"
    return f"between {low:g} and {high:g}"


#: Neo4j integers are signed 64-bit: a larger one cannot be sent.
INT64 = (-(2**63), 2**63 - 1)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    number = int(value)
    if not INT64[0] <= number <= INT64[1]:
        raise ValueError(value)
    return number


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _BOOLEANS[str(value).strip().lower()]


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


_CONVERT = {"string": _string, "integer": _integer, "float": _float, "boolean": _boolean}


@dataclass(frozen=True)
class Query:
    """One file of the library: what it answers, its parameters, its example and its text."""

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    example: dict[str, Any]
    cypher: str
    path: Path | None = field(default=None, compare=False)

    @property
    def body(self) -> str:
        """The query without its ``//`` comment lines: what an analyst pastes into Browser."""
        lines = (line.rstrip() for line in self.cypher.splitlines())
        return "\n".join(line for line in lines if not line.lstrip().startswith("//")).strip()

    @property
    def summary(self) -> str:
        """The first sentence of the description."""
        paragraph = " ".join(self.description.split("\n\n", 1)[0].split())
        return _SENTENCE_END.split(paragraph, maxsplit=1)[0]

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise QueryError(
            f"query {self.name} has no parameter {name!r}; it takes: {self._signature()}"
        )

    def bind(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter's value: ``given`` converted to the declared types, defaults filled in.

        Raises
        ------
        QueryError
            On an unknown parameter, a missing required one, or a value of the wrong type.
        """
        values = {name: self.parameter(name).coerce(value) for name, value in given.items()}
        missing = [p for p in self.parameters if p.required and p.name not in values]
        if missing:
            needed = ", ".join(p.signature for p in missing)
            raise QueryError(
                f"query {self.name} needs {needed}; e.g. "
                + " ".join(f"--param {p.name}={_text(self.example.get(p.name))}" for p in missing)
            )
        for parameter in self.parameters:
            values.setdefault(parameter.name, parameter.default)
        return values

    def _signature(self) -> str:
        return ", ".join(p.signature for p in self.parameters) or "no parameters"


def cypher_literal(value: Any) -> str:
    """A Python value written as a Cypher literal (for messages, headers and ``:params`` lines).

    >>> cypher_literal({"scenario": "sc_1", "years": [2023, 2024], "run_id": None})
    "{scenario: 'sc_1', years: [2023, 2024], run_id: null}"
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {cypher_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _text(value: Any) -> str:
    """A value as a user would type it after ``--param name=``."""
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return "null" if value is None else str(value)


def parse_query(name: str, text: str, path: Path | None = None) -> Query:
    """Read one library file's header and check it against the query it describes.

    Raises
    ------
    QueryError
        When the header lacks a description or the ``:param`` example, declares a type that
        does not exist, or disagrees with the ``$parameters`` the query uses.
    """
    where = str(path or name)
    header: list[str] = []
    for line in text.splitlines():
        if not line.lstrip().startswith("//"):
            break
        comment = line.lstrip()[2:]
        header.append(comment[1:].rstrip() if comment.startswith(" ") else comment.rstrip())
    description: list[str] = []
    parameters: list[Parameter] = []
    example: dict[str, Any] | None = None
    for number, line in enumerate(header, start=1):
        line = line.strip() if line.lstrip().startswith(("@param", ":param")) else line
        if line.startswith("@param"):
            parameters.append(_parameter(line, f"{where}:{number}"))
        elif _EXAMPLE.match(line):
            example = _example(line, f"{where}:{number}")
        elif not parameters and example is None:
            description.append(line)
    summary = "\n".join(description).strip()
    if not summary:
        raise QueryError(f"{where}: the header must open with a description of what it answers")
    if example is None:
        raise QueryError(f"{where}: the header needs a ':param {{...}}' line for Neo4j Browser")
    query = Query(name, summary, tuple(parameters), example, text, path)
    _check(query, where)
    return query


def _parameter(line: str, where: str) -> Parameter:
    match = _PARAM_LINE.match(line)
    if match is None:
        raise QueryError(f"{where}: write '@param name: type [= default] help', got {line!r}")
    kind = match["type"]
    choices: tuple[str, ...] = ()
    if kind.startswith("'"):
        choices = tuple(c.strip("'") for c in kind.split("|"))
        kind = "string"
    low = high = None
    if bounded := _BOUNDS.fullmatch(kind):
        kind = bounded["type"]
        if kind not in NUMBERS:
            raise QueryError(f"{where}: bounds apply to numbers only, not to {kind}")
        try:
            low, high = (float(b) if b.strip() else None for b in (bounded["low"], bounded["high"]))
        except ValueError:
            raise QueryError(
                f"{where}: write bounds as [low..high], got {match['type']!r}"
            ) from None
    if kind not in TYPES:
        raise QueryError(f"{where}: unknown type {kind!r}; use one of {', '.join(TYPES)}")
    parameter = Parameter(
        match["name"], kind, match["help"].strip(), choices=choices, low=low, high=high
    )
    if match["default"] is None:
        return parameter
    try:
        literal = parse_literal(match["default"])
        default = None if literal is None else parameter.coerce(literal)
    except (LiteralError, QueryError) as exc:
        raise QueryError(f"{where}: bad default for {parameter.name}: {exc}") from None
    return replace(parameter, default=default)


def _example(line: str, where: str) -> dict[str, Any]:
    match = _EXAMPLE.match(line)
    assert match is not None
    try:
        example = parse_literal(match["map"])
    except LiteralError as exc:
        raise QueryError(f"{where}: the :param example is not a Cypher map: {exc}") from None
    if not isinstance(example, dict):
        raise QueryError(f"{where}: the :param example must be a map")
    return example


def _check(query: Query, where: str) -> None:
    declared = [p.name for p in query.parameters]
    body = "\n".join(
        line for line in query.cypher.splitlines() if not line.lstrip().startswith("//")
    )
    used = set(_USED.findall(body))
    problems = []
    if len(set(declared)) != len(declared):
        problems.append(f"a parameter is declared twice: {declared}")
    if used - set(declared):
        problems.append(f"uses undeclared {sorted(used - set(declared))}")
    if set(declared) - used:
        problems.append(f"declares unused {sorted(set(declared) - used)}")
    if set(query.example) != set(declared):
        problems.append(f"the :param example sets {sorted(query.example)}, not {sorted(declared)}")
    else:
        try:
            query.bind(query.example)
        except QueryError as exc:
            problems.append(f"the :param example does not fit: {exc}")
    if problems:
        raise QueryError(f"{where}: " + "; ".join(problems))


def cypher_dir() -> Path:
    """The library folder: ``$CRITMIN_CYPHER_DIR``, else the one installed with critmin."""
    named = os.environ.get(ENV_VAR, "").strip()
    folder = Path(named) if named else Path(str(files("critmin").joinpath("cypher")))
    if not folder.is_dir():
        raise QueryError(
            f"the Cypher library folder {folder} does not exist: set {ENV_VAR} to a folder of "
            ".cypher files, or reinstall critmin"
        )
    return folder


def load_library(folder: Path | None = None) -> dict[str, Query]:
    """Every ``*.cypher`` file of ``folder`` (default :func:`cypher_dir`), by name."""
    folder = folder or cypher_dir()
    return {
        path.stem: parse_query(path.stem, path.read_text(encoding="utf-8"), path)
        for path in sorted(folder.glob("*.cypher"))
    }


def _find(name: str, library: Mapping[str, Query] | None) -> Query:
    library = load_library() if library is None else library
    if name not in library:
        close = [n for n in library if name.lower() in n or n in name.lower()]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise QueryError(f"no query named {name!r}{hint}; available: {', '.join(sorted(library))}")
    return library[name]


def bind_query(
    name: str, params: Mapping[str, Any], library: Mapping[str, Query] | None = None
) -> tuple[str, dict[str, Any]]:
    """The Cypher text and the checked parameters :func:`run_query` would send."""
    query = _find(name, library)
    return query.cypher, query.bind(params)


def run_query(
    store: GraphStore,
    name: str,
    params: Mapping[str, Any] | None = None,
    library: Mapping[str, Query] | None = None,
) -> pd.DataFrame:
    """Run the library query ``name`` with ``params`` (text or typed values); rows as a frame."""
    cypher, values = bind_query(name, params or {}, library)
    return store.query(cypher, **values)


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["shock=0.5", "source=COD"]`` as a dict; a repeated name is an error.

    >>> parse_assignments(["shock=0.5", "years=2019,2020"])
    {'shock': '0.5', 'years': '2019,2020'}
    """
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise QueryError(f"write parameters as name=value, got {pair!r}")
        if name in values:
            raise QueryError(f"parameter {name} is given twice")
        values[name] = value.strip()
    return values
