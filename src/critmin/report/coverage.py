"""How complete the trade data behind a report is, year by year, and the note that says so.

A year is *partial* when every flow of the group's HS codes came from a source that held each
country's largest partners only (the loader marks such sources, see
:data:`critmin.loader.baci_derived.PARTIAL_SOURCE_MARK`): small links are missing, so failures
and losses of those years are lower bounds of what the full data would give. A year is
*value only* when none of its flows carries tonnes, which puts a sweep over it in USD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from critmin.loader.baci_derived import PARTIAL_SOURCE_MARK

__all__ = ["Coverage", "coverage_of", "year_ranges"]


def year_ranges(years: Sequence[int]) -> str:
    """Years as ranges.

    >>> year_ranges([2002, 2003, 2004, 2010, 2012, 2013])
    '2002–2004, 2010, 2012–2013'
    >>> year_ranges([])
    ''
    """
    out: list[str] = []
    ordered = sorted(set(years))
    start = previous = None
    for year in [*ordered, None]:
        if year is not None and previous is not None and year == previous + 1:
            previous = year
            continue
        if start is not None:
            out.append(f"{start}" if start == previous else f"{start}–{previous}")
        start = previous = year
    return ", ".join(out)


@dataclass(frozen=True)
class Coverage:
    """The years of a report's sweep by completeness of their trade data."""

    partial: list[int]
    complete: list[int]
    value_only: list[int]
    partial_sources: list[str]
    unit: str

    @property
    def is_partial(self) -> bool:
        return bool(self.partial)

    def note(self) -> str:
        """One paragraph for every place that shows partial years; '' when none is.

        >>> note = Coverage([2002, 2003], [2024], [2002], ["BACI (atlas top flows)"], "USD").note()
        >>> print(note[:86])
        Data coverage: the 2002–2003 flows hold each country's top partners only (source: BACI
        >>> "2024 holds every reported flow" in note, "The 2002 flows carry values only" in note
        (True, True)
        >>> Coverage([], [2024], [], [], "t").note()
        ''
        """
        if not self.partial:
            return ""
        text = (
            f"Data coverage: the {year_ranges(self.partial)} flows hold each country's top "
            f"partners only (source: {'; '.join(self.partial_sources)}): smaller links are "
            f"missing, so a cut in those years likely reaches fewer countries than it would in "
            f"the full data"
        )
        if self.complete:
            text += f"; {year_ranges(self.complete)} holds every reported flow"
        text += "."
        if self.value_only and self.unit == "USD":
            text += (
                f" The {year_ranges(self.value_only)} flows carry values only (no tonnes), so the "
                f"whole sweep is measured in USD, not tonnes."
            )
        return text + " See data/README.md for the files."


def coverage_of(frame: pd.DataFrame, unit: str) -> Coverage:
    """Classify the years of ``frame`` (``year, source, flows, with_tonnes``, as
    :func:`critmin.store.networks.trade_coverage`).

    >>> frame = pd.DataFrame({"year": [2023, 2024, 2024],
    ...     "source": ["X (atlas top flows)", "X (atlas top flows)", "X V1"],
    ...     "flows": [10, 5, 20], "with_tonnes": [0, 0, 18]})
    >>> c = coverage_of(frame, "USD")
    >>> c.partial, c.complete, c.value_only
    ([2023], [2024], [2023])
    """
    partial: list[int] = []
    complete: list[int] = []
    value_only: list[int] = []
    sources: set[str] = set()
    for year, rows in frame.groupby("year"):
        marked = rows["source"].astype(str).str.contains(PARTIAL_SOURCE_MARK, regex=False)
        if bool(marked.all()):
            partial.append(int(year))
            sources.update(rows["source"].astype(str))
        else:
            complete.append(int(year))
        if int(rows["with_tonnes"].sum()) == 0:
            value_only.append(int(year))
    return Coverage(partial, complete, value_only, sorted(sources), unit)
