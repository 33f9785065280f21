"""Checks shared by every reader: columns present, numbers, years, duplicate keys.

Each check records problems (file, line, column, value as written) in a
:class:`~critmin.loader.errors.Problems` and returns the parsed column, so a reader reports every
bad cell of a file in one error instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from critmin.loader.errors import MAX_SHOWN, Problems
from critmin.loader.files import LINE, column_lookup
from critmin.units import Unit

#: Earliest year accepted (OWID's world cobalt series starts in 1901).
YEAR_MIN = 1900

#: Cell values that mean "no value" in a quantity or value column (compared case-insensitively).
MISSING = frozenset({"", "NA", "N/A", "NAN", "NULL", "NONE"})


def year_max() -> int:
    """Latest year accepted: next year (USGS publishes estimates for the current year)."""
    return dt.date.today().year + 1


def find_columns(
    columns: Sequence[str],
    wanted: Mapping[str, Sequence[str]],
    *,
    label: str,
    problems: Problems,
) -> dict[str, str] | None:
    """Map each wanted field to the file's column (the first alternative present).

    Parameters
    ----------
    columns : sequence of str
        The file's column names.
    wanted : mapping
        Field name -> acceptable column names, compared case- and space-insensitively.

    Returns
    -------
    dict or None
        Field -> column as written, or None (problems recorded) if any is missing.
    """
    lookup = column_lookup(columns)
    found: dict[str, str] = {}
    missing = []
    for field, options in wanted.items():
        match = next((lookup[o] for o in map(_key, options) if o in lookup), None)
        if match is None:
            missing.append(" or ".join(repr(o) for o in options))
        else:
            found[field] = match
    for name in missing:
        problems.add(
            label,
            1,
            None,
            None,
            f"missing column {name} (the header has {', '.join(repr(c) for c in columns)})",
        )
    return None if missing else found


def _key(name: str) -> str:
    return "".join(name.split()).casefold()


def parse_years(
    values: pd.Series, lines: pd.Series, *, label: str, column: str, problems: Problems
) -> pd.Series:
    """Parse a year column; non-integers and years outside the sane range are problems.

    Returns
    -------
    Series
        ``Int64`` years, ``<NA>`` where the cell was bad.
    """
    numbers = pd.to_numeric(values.str.strip(), errors="coerce")
    not_whole = numbers.isna() | (numbers % 1 != 0)
    problems.add_rows(label, lines[not_whole], column, values[not_whole], "is not a whole year")
    high = year_max()
    outside = ~not_whole & ((numbers < YEAR_MIN) | (numbers > high))
    problems.add_rows(
        label, lines[outside], column, values[outside], f"is outside {YEAR_MIN}-{high}"
    )
    return numbers.where(~(not_whole | outside)).astype("Int64")


def parse_amounts(
    values: pd.Series,
    lines: pd.Series,
    *,
    label: str,
    column: str,
    problems: Problems,
    what: str = "quantities",
    thousands: bool = False,
    scale: float | pd.Series = 1.0,
    unit: Unit = Unit.TONNES,
) -> pd.Series:
    """Parse a non-negative quantity or value column, convert it to ``unit`` and bound it.

    Empty cells and ``NA`` (also ``N/A``, ``nan``, ``null``, with any spaces around, as in
    BACI's ``"          NA"``) are missing: NaN, not zero.

    Parameters
    ----------
    what : str
        Plural noun for the message ("quantities", "values").
    thousands : bool
        Accept thousands separators ("1,700"), as USGS writes them; only in groups of three
        ("1,7,0,0" is refused, not read as 1700).
    scale : float or Series
        Factor from the file's unit to ``unit`` (1000 for thousand USD or thousand tonnes).
    unit : Unit
        The unit after scaling: a number above its :attr:`~critmin.units.Unit.max_flow` (or
        one that overflows to infinity when scaled) is a problem, never stored.

    Returns
    -------
    Series
        float64 in ``unit``; NaN where missing or bad.

    Examples
    --------
    >>> problems = Problems()
    >>> cells = pd.Series(["1,700", "1,7,0,0", "1e308", "NA"])
    >>> out = parse_amounts(cells, pd.Series([2, 3, 4, 5]), label="f.csv", column="kt",
    ...                     problems=problems, thousands=True, scale=1000.0)
    >>> out.tolist()
    [1700000.0, nan, nan, nan]
    >>> for problem in problems.items:
    ...     print(problem)  # doctest: +ELLIPSIS
    f.csv, row 3, column 'kt': value '1,7,0,0' has commas that are not thousands separators...
    f.csv, row 4, column 'kt': value '1e308' is beyond any float (overflow) tonnes once...
    """
    text = values.str.strip()
    missing = text.str.upper().isin(MISSING)
    misplaced = pd.Series(False, index=values.index)
    if thousands:
        has_comma = text.str.contains(",", regex=False)
        misplaced = has_comma & ~text.str.fullmatch(_GROUPED, na=False)
        problems.add_rows(
            label,
            lines[misplaced],
            column,
            values[misplaced],
            "has commas that are not thousands separators (write 1,700 or 1700; '.' is the "
            "decimal mark)",
        )
        text = text.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text.where(~(missing | misplaced), ""), errors="coerce")
    numbers = numbers.astype("float64")
    bad = ~missing & ~misplaced & ~np.isfinite(numbers)
    problems.add_rows(
        label,
        lines[bad],
        column,
        values[bad],
        "is not a number (write digits with '.' as decimal mark; leave the cell empty or "
        "write NA when the number is missing)",
    )
    negative = numbers < 0
    problems.add_rows(
        label, lines[negative], column, values[negative], f"is negative ({what} must be >= 0)"
    )
    with np.errstate(over="ignore"):
        scaled = numbers * scale
    huge = scaled > unit.max_flow
    for idx in scaled.index[huge][:MAX_SHOWN]:
        problems.add(
            label,
            int(lines[idx]),
            column,
            values[idx],
            f"is {_magnitude(scaled[idx])} {unit.label} once converted, above the "
            f"{unit.max_flow:.0e} {unit.label} no flow or production reaches: check the unit "
            "and the exponent",
        )
    rest = scaled.index[huge][MAX_SHOWN:]
    problems.add_rows(label, lines[rest], column, values[rest], f"is above {unit.max_flow:.0e}")
    return scaled.where(~(bad | negative | huge))


def _magnitude(number: float) -> str:
    return f"{number:.3g}" if np.isfinite(number) else "beyond any float (overflow)"


#: A number written with thousands separators: 1,700 or 12,345,678.9 (not 1,7,0,0).
_GROUPED = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"


def duplicated_keys(
    frame: pd.DataFrame,
    keys: Sequence[str],
    *,
    label: str,
    problems: Problems,
    what: str,
) -> pd.Series:
    """Record every row whose ``keys`` repeat an earlier row of the same file.

    Parameters
    ----------
    frame : DataFrame
        Has the ``keys`` and the :data:`~critmin.loader.files.LINE` column.
    what : str
        How to name the key in the message ("flow (year, exporter, importer, hs)").

    Returns
    -------
    Series of bool
        True for the repeated (later) rows.
    """
    later = frame.duplicated(list(keys), keep="first")
    if not later.any():
        return later
    first_line = frame.groupby(list(keys), sort=False, dropna=False)[LINE].transform(
        "first", skipna=False
    )
    repeated = frame.index[later]
    for idx in repeated[:MAX_SHOWN]:
        shown = ", ".join(str(frame.at[idx, k]) for k in keys)
        problems.add(
            label,
            int(frame.at[idx, LINE]),
            None,
            shown,
            f"repeats the {what} of row {int(first_line[idx])}; each may appear once per file",
        )
    rest = repeated[MAX_SHOWN:]
    problems.add_rows(label, frame.loc[rest, LINE], None, [None] * len(rest), f"repeated {what}")
    return later
