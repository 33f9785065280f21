"""Reading the Cypher literals of a query header: ``:param`` maps and parameter defaults.

Only what headers use: strings, numbers, booleans, null, lists and maps with plain keys.
Parsing them here (rather than asking the server) lets the library be checked with no database.
"""

from __future__ import annotations

import re
from typing import Any

from critmin.errors import CritminError

__all__ = ["LiteralError", "parse_literal"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[{}\[\],:])
    )""",
    re.VERBOSE,
)
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}


class LiteralError(CritminError, ValueError):
    """Text that is not a Cypher literal of the supported kinds."""


def parse_literal(text: str) -> Any:
    """The Python value of a Cypher literal.

    Examples
    --------
    >>> parse_literal("{commodity: 'cobalt', shock: 1.0, years: [2019, 2020], run_id: null}")
    {'commodity': 'cobalt', 'shock': 1.0, 'years': [2019, 2020], 'run_id': None}
    >>> parse_literal("'it\\\\'s'")
    "it's"
    >>> parse_literal("{a: }")
    Traceback (most recent call last):
    ...
    critmin.analysis.literals.LiteralError: expected a value at '}' in '{a: }'
    """
    tokens = _tokenize(text)
    value, end = _value(tokens, 0, text)
    if end != len(tokens):
        raise LiteralError(f"unexpected {tokens[end][1]!r} after the value in {text!r}")
    return value


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise LiteralError(f"cannot read {stripped[position:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _value(tokens: list[tuple[str, str]], at: int, text: str) -> tuple[Any, int]:
    if at >= len(tokens):
        raise LiteralError(f"the literal ends too early: {text!r}")
    kind, token = tokens[at]
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", token[1:-1]), at + 1
    if kind == "number":
        is_float = any(c in token for c in ".eE")
        return (float(token) if is_float else int(token)), at + 1
    if kind == "word" and token.lower() in _WORDS:
        return _WORDS[token.lower()], at + 1
    if token in ("[", "{"):
        return _collection(tokens, at, text)
    raise LiteralError(f"expected a value at {token!r} in {text!r}")


def _collection(tokens: list[tuple[str, str]], at: int, text: str) -> tuple[Any, int]:
    is_map = tokens[at][1] == "{"
    closing = "}" if is_map else "]"
    items: list[Any] = []
    entries: dict[str, Any] = {}
    at += 1
    while at < len(tokens) and tokens[at][1] != closing:
        if is_map:
            kind, key = tokens[at]
            if kind not in ("word", "string") or at + 1 >= len(tokens) or tokens[at + 1][1] != ":":
                raise LiteralError(f"expected 'key:' at {key!r} in {text!r}")
            value, at = _value(tokens, at + 2, text)
            entries[key.strip("'\"")] = value
        else:
            value, at = _value(tokens, at, text)
            items.append(value)
        if at < len(tokens) and tokens[at][1] == ",":
            at += 1
        elif at < len(tokens) and tokens[at][1] != closing:
            raise LiteralError(f"expected ',' or {closing!r} at {tokens[at][1]!r} in {text!r}")
    if at >= len(tokens):
        raise LiteralError(f"missing {closing!r} in {text!r}")
    return (entries if is_map else items), at + 1
