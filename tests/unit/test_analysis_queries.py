"""The Cypher library's file format, parameter checking and coercion (no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from critmin.analysis.literals import LiteralError, parse_literal
from critmin.analysis.queries import (
    ENV_VAR,
    Parameter,
    QueryError,
    bind_query,
    cypher_dir,
    load_library,
    parse_assignments,
    parse_query,
    run_query,
)

GOOD = """\
// Losses of one source: what it does.
// Second line of the description.
//
// @param commodity: string                 commodity group id
// @param shock: float = 1.0                share cut
// @param years: list<integer> = null       years; null = all
// @param measure: 'tonnes'|'value_usd' = 'tonnes'   quantity
// @param exact: boolean = false            a flag
//
// :params {commodity: 'cobalt', shock: 0.5, years: [2019, 2020], measure: 'tonnes', exact: true}
MATCH (s:Scenario {commodity: $commodity})
WHERE s.shock = $shock AND ($years IS NULL OR s.year IN $years) AND $exact = $exact
RETURN s[$measure] AS x
"""


def test_header_gives_description_parameters_and_example() -> None:
    query = parse_query("losses", GOOD)
    assert query.summary == "Losses of one source: what it does."
    assert query.description.splitlines()[1] == "Second line of the description."
    assert [p.signature for p in query.parameters] == [
        "commodity: string",
        "shock: float = 1.0",
        "years: list<integer> = null",
        "measure: 'tonnes'|'value_usd' = 'tonnes'",
        "exact: boolean = false",
    ]
    assert query.example == {
        "commodity": "cobalt",
        "shock": 0.5,
        "years": [2019, 2020],
        "measure": "tonnes",
        "exact": True,
    }
    assert query.cypher == GOOD  # sent as is: the header is a Cypher comment


def test_bind_fills_defaults_and_converts_text() -> None:
    query = parse_query("losses", GOOD)
    bound = query.bind({"commodity": "nickel", "years": "2019-2021,2023", "exact": "yes"})
    assert bound == {
        "commodity": "nickel",
        "shock": 1.0,
        "years": [2019, 2020, 2021, 2023],
        "measure": "tonnes",
        "exact": True,
    }
    assert query.bind({"commodity": "x", "shock": 1})["shock"] == 1.0
    assert isinstance(query.bind({"commodity": "x", "shock": 1})["shock"], float)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "needs commodity: string; e.g. --param commodity=cobalt"),
        ({"commodity": "x", "shock": "half"}, "shock must be a float, got 'half'"),
        ({"commodity": "x", "shock": "nan"}, "shock must be a float"),
        ({"commodity": "x", "measure": "kg"}, "measure must be one of tonnes, value_usd"),
        ({"commodity": "x", "exact": "maybe"}, "exact must be a boolean"),
        ({"commodity": "x", "years": "2019,last"}, "years must be an integer, got 'last'"),
        ({"commodity": "x", "source": "COD"}, "no parameter 'source'; it takes: commodity: string"),
        ({"commodity": "null"}, "commodity cannot be null"),
        ({"commodity": 5}, "commodity must be a string"),
    ],
)
def test_bind_rejects_what_does_not_fit(given: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=r"parameter|query") as info:
        parse_query("losses", GOOD).bind(given)
    assert message in str(info.value)


def test_nullable_parameters_take_null() -> None:
    query = parse_query("losses", GOOD)
    assert query.bind({"commodity": "x", "years": "null"})["years"] is None
    assert query.bind({"commodity": "x", "years": None})["years"] is None


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("integer", "2020", 2020),
        ("integer", 2020.0, 2020),
        ("float", "0.5", 0.5),
        ("float", "1e-3", 0.001),
        ("boolean", "False", False),
        ("boolean", "1", True),
        ("list<string>", "COD, ZAF", ["COD", "ZAF"]),
        ("list<float>", "0.5,1", [0.5, 1.0]),
        ("list<integer>", [2019, "2021-2022"], [2019, 2021, 2022]),
    ],
)
def test_coercion(kind: str, text: Any, value: Any) -> None:
    assert Parameter("p", kind).coerce(text) == value


@pytest.mark.parametrize(
    ("kind", "text"), [("integer", "2.5"), ("integer", True), ("float", False)]
)
def test_coercion_refuses_lossy_or_boolean_numbers(kind: str, text: Any) -> None:
    with pytest.raises(QueryError):
        Parameter("p", kind).coerce(text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.replace(
                "// Losses of one source: what it does.\n// Second line of the description.\n", ""
            ),
            "must open with a description",
        ),
        (lambda t: t.replace("// :params", "// params"), "needs a ':param {...}' line"),
        (lambda t: t.replace("$exact = $exact", "$exact = $other"), "uses undeclared ['other']"),
        (lambda t: t.replace("AND $exact = $exact", ""), "declares unused ['exact']"),
        (lambda t: t.replace(", exact: true}", "}"), "the :param example sets"),
        (lambda t: t.replace("exact: true}", "exact: 'no way'}"), "example does not fit"),
        (lambda t: t.replace("boolean = false", "bool = false"), "unknown type 'bool'"),
        (lambda t: t.replace("float = 1.0", "float = 'one'"), "bad default for shock"),
        (
            lambda t: t.replace("{commodity: 'cobalt',", "{commodity 'cobalt',"),
            "is not a Cypher map",
        ),
        (
            lambda t: t.replace("@param commodity: string", "@param commodity string"),
            "write '@param name: type",
        ),
    ],
)
def test_bad_headers_are_refused_with_file_and_line(change: Any, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query("losses", change(GOOD), Path("cypher/losses.cypher"))
    assert message in str(info.value)
    assert str(info.value).startswith("cypher/losses.cypher")


def test_literals() -> None:
    assert parse_literal("{a: -1.5e2, b: [true, null, \"x\"], 'c': {d: 'it\\'s'}}") == {
        "a": -150.0,
        "b": [True, None, "x"],
        "c": {"d": "it's"},
    }
    for bad in ("{a: 1", "[1 2]", "{a 1}", "1 2", "@", ""):
        with pytest.raises(LiteralError):
            parse_literal(bad)


def test_parse_assignments() -> None:
    assert parse_assignments(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(QueryError, match="name=value"):
        parse_assignments(["shock"])
    with pytest.raises(QueryError, match="given twice"):
        parse_assignments(["a=1", "a=2"])


class RecordingStore:
    """Stands in for GraphStore: records what would be sent and returns no rows."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def query(self, cypher: str, **params: Any) -> pd.DataFrame:
        self.sent.append((cypher, params))
        return pd.DataFrame()


def test_run_query_sends_the_file_and_typed_parameters(tmp_path: Path) -> None:
    (tmp_path / "losses.cypher").write_text(GOOD)
    library = load_library(tmp_path)
    store = RecordingStore()
    run_query(store, "losses", {"commodity": "cobalt", "shock": "0.5"}, library)  # type: ignore[arg-type]
    [(cypher, params)] = store.sent
    assert cypher == GOOD and params["shock"] == 0.5 and params["years"] is None


def test_unknown_query_lists_what_exists(tmp_path: Path) -> None:
    (tmp_path / "losses.cypher").write_text(GOOD)
    with pytest.raises(
        QueryError, match=r"no query named 'loss' \(did you mean losses\?\); available: losses"
    ):
        bind_query("loss", {}, load_library(tmp_path))


def test_library_folder_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert cypher_dir() == tmp_path
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(QueryError, match=f"set {ENV_VAR}"):
        cypher_dir()


def test_every_library_file_has_a_complete_header() -> None:
    """The shipped cypher/ files: each parses, describes itself and binds its own example."""
    library = load_library()
    assert len(library) >= 12
    for name, query in library.items():
        assert query.summary.endswith("."), name
        assert query.bind(query.example), name
        assert all(p.help for p in query.parameters), f"{name}: a parameter lacks help"
