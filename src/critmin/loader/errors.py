"""Input errors that name the file, the line, the column and the offending value.

Every reader collects the problems of a file before raising, so one run shows the user
everything that is wrong (up to :data:`MAX_SHOWN` problems) instead of one at a time.

>>> reason = "is negative (quantities must be >= 0)"
>>> err = InputError.single("data/x.csv", 17, "qty_t", "-3", reason)
>>> print(err)
data/x.csv, row 17, column 'qty_t': value '-3' is negative (quantities must be >= 0)
>>> err.row, err.column, err.value
(17, 'qty_t', '-3')
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from critmin.errors import CritminError

#: How many problems an :class:`InputError` lists; the rest are only counted.
MAX_SHOWN = 10


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    Parameters
    ----------
    path : str or None
        The file as the user named it (a zip member reads ``archive.zip/member.csv``).
    row : int or None
        1-based line number in the file; the header is line 1.
    column : str or None
        Column name as written in the file.
    value : object
        The raw value found (``None`` when the problem is not about one value).
    reason : str
        What is wrong and, where possible, what to do about it.
    """

    path: str | None
    row: int | None
    column: str | None
    value: object
    reason: str

    def __str__(self) -> str:
        where = [part for part in (self.path,) if part]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        what = self.reason if self.value is None else f"value '{shown(self.value)}' {self.reason}"
        return f"{', '.join(where)}: {what}" if where else what


#: How many characters of a bad value an error shows (a 1 MB cell is not echoed whole).
MAX_VALUE_CHARS = 60


def shown(value: object) -> str:
    """``value`` as an error shows it: cut after :data:`MAX_VALUE_CHARS` characters.

    >>> shown("x" * 1_000_000)[-30:]
    'xxx... (1,000,000 characters)'
    """
    text = str(value)
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:MAX_VALUE_CHARS]}... ({len(text):,} characters)"


class InputError(CritminError, ValueError):
    """An input file cannot be loaded as it is; the message says where and why.

    The attributes ``path``, ``row``, ``column``, ``value`` and ``reason`` describe the first
    problem; :attr:`problems` holds up to :data:`MAX_SHOWN` of them and :attr:`total` counts
    all of them.

    Parameters
    ----------
    problems : Problem or sequence of Problem
        What is wrong, first problem first. Must not be empty.
    total : int, optional
        How many problems there were in all, when only some are passed.
    """

    def __init__(self, problems: Problem | Sequence[Problem], total: int | None = None) -> None:
        listed = (problems,) if isinstance(problems, Problem) else tuple(problems)
        if not listed:
            raise ValueError("InputError needs at least one problem")
        self.problems: tuple[Problem, ...] = listed[:MAX_SHOWN]
        self.total: int = max(total or 0, len(listed))
        first = listed[0]
        self.path = first.path
        self.row = first.row
        self.column = first.column
        self.value = first.value
        self.reason = first.reason
        super().__init__(self._message())

    @classmethod
    def single(
        cls,
        path: str | None,
        row: int | None,
        column: str | None,
        value: object,
        reason: str,
    ) -> InputError:
        """Build the error for a single problem (see :class:`Problem` for the fields)."""
        return cls(Problem(path, row, column, value, reason))

    def _message(self) -> str:
        if self.total == 1:
            return str(self.problems[0])
        lines = [f"{self.total} problems in the input:"]
        lines += [f"  - {p}" for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"  ... and {self.total - len(self.problems)} more")
        return "\n".join(lines)


class Problems:
    """Collects problems while a file is checked, then raises them together.

    >>> found = Problems()
    >>> found.add("a.csv", 2, "year", "20x4", "is not a whole number")
    >>> found.add("a.csv", 5, "year", "1066", "is outside 1900-2027")
    >>> len(found)
    2
    >>> found.raise_if_any()
    Traceback (most recent call last):
    ...
    critmin.loader.errors.InputError: 2 problems in the input:
      - a.csv, row 2, column 'year': value '20x4' is not a whole number
      - a.csv, row 5, column 'year': value '1066' is outside 1900-2027
    """

    def __init__(self) -> None:
        self._kept: list[Problem] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def items(self) -> tuple[Problem, ...]:
        """The problems kept in full (the first :data:`MAX_SHOWN`)."""
        return tuple(self._kept)

    def add(
        self, path: str | None, row: int | None, column: str | None, value: object, reason: str
    ) -> None:
        """Record one problem (only the first :data:`MAX_SHOWN` are kept in full)."""
        self._count += 1
        if len(self._kept) < MAX_SHOWN:
            self._kept.append(Problem(path, row, column, value, reason))

    def add_rows(
        self,
        path: str | None,
        rows: Collection[int],
        column: str | None,
        values: Iterable[object],
        reason: str,
    ) -> None:
        """Record the same kind of problem for several rows at once.

        Only the first rows are kept in full, so this stays cheap for a million bad rows.
        """
        room = max(MAX_SHOWN - len(self._kept), 0)
        for row, value in islice(zip(rows, values, strict=False), room):
            self._kept.append(Problem(path, int(row), column, value, reason))
        self._count += len(rows)

    def extend(self, error: InputError) -> None:
        """Record the problems of an error raised while checking one file."""
        for problem in error.problems:
            self._count += 1
            if len(self._kept) < MAX_SHOWN:
                self._kept.append(problem)
        self._count += error.total - len(error.problems)

    def raise_if_any(self) -> None:
        """Raise an :class:`InputError` listing what was collected, if anything was."""
        if self._kept:
            raise InputError(self._kept, total=self._count)
