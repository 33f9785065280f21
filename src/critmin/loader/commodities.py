"""Commodity groups: which HS codes make up a mineral's trade network, as data users can extend.

The bundled ``data/commodities.csv`` has columns ``id, name, hs_codes, production_commodity,
note``; ``hs_codes`` are ``;``-separated prefixes (``2605;8105``), ``production_commodity`` the
production series to compare with (empty when none fits). A group's network is the sum of the
flows of every HS code that starts with one of its prefixes.

A file with the same columns, named by ``extra`` or by the environment variable
``CRITMIN_COMMODITIES`` (several files separated by ``os.pathsep``), adds groups or replaces
groups with the same id; ``extra`` is applied last.

>>> groups = load_groups()
>>> groups["cobalt"].hs_codes
('2605', '8105')
>>> groups["cobalt"].matches("810520"), groups["cobalt"].matches("282200")
(True, False)
>>> groups["gallium_germanium"].production_commodity is None
True
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from critmin.errors import CritminError
from critmin.loader.errors import InputError, Problems
from critmin.loader.files import LINE, Source, bundled, read_header, read_whole
from critmin.loader.validate import find_columns

#: Environment variable naming extra commodity-group files.
ENV_VAR = "CRITMIN_COMMODITIES"

_ID = re.compile(r"[a-z][a-z0-9_]*")
_HS = re.compile(r"\d{2,10}")
_COLUMNS = {"id": ("id",), "name": ("name",), "hs_codes": ("hs_codes",)}
_OPTIONAL = {"production_commodity": ("production_commodity",), "note": ("note",)}


@dataclass(frozen=True)
class CommodityGroup:
    """A mineral's trade network: the HS codes that carry it.

    Attributes
    ----------
    id : str
        Lower-case identifier (``cobalt``).
    name : str
        Display name.
    hs_codes : tuple of str
        HS code prefixes (2 to 10 digits).
    production_commodity : str or None
        Id of the matching production series (``cobalt``), None when none fits.
    note : str
        What the codes cover and why.
    """

    id: str
    name: str
    hs_codes: tuple[str, ...]
    production_commodity: str | None = None
    note: str = ""

    def matches(self, hs: str) -> bool:
        """True if the HS code belongs to the group (starts with one of its prefixes).

        >>> CommodityGroup("x", "X", ("2605",)).matches("2605.00")
        True
        """
        code = str(hs).strip().replace(".", "")
        return code.startswith(self.hs_codes)


def load_groups(extra: str | os.PathLike[str] | None = None) -> dict[str, CommodityGroup]:
    """The bundled groups, then those of ``$CRITMIN_COMMODITIES``, then those of ``extra``.

    Raises
    ------
    InputError
        If a file is missing, lacks a column, or has a bad id, HS code or repeated id.
    """
    groups = read_groups(bundled("commodities.csv"))
    named = [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    if extra is not None:
        named.append(os.fspath(extra))
    for item in named:
        path = Path(item)
        if not path.is_file():
            raise InputError.single(item, None, None, None, "commodity-group file not found")
        groups.update(read_groups(Source(item, path)))
    return groups


class UnknownCommodity(CritminError, LookupError):
    """A commodity group id that neither the bundled groups nor the user's files define."""


def find_group(commodity: str, extra: str | os.PathLike[str] | None = None) -> CommodityGroup:
    """The group ``commodity`` of :func:`load_groups` (bundled, ``$CRITMIN_COMMODITIES``,
    ``extra``): the one lookup every command uses.

    >>> find_group("cobalt").hs_codes
    ('2605', '8105')
    >>> find_group("cobalt_ores")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    critmin.loader.commodities.UnknownCommodity: unknown commodity 'cobalt_ores'; known groups: ...
    >>> find_group("cobalt_demo")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    critmin.loader.commodities.UnknownCommodity: 'cobalt_demo' is a supply chain (cobalt -> ...
    """
    groups = load_groups(extra)
    if commodity not in groups:
        from critmin.loader.chains import load_chains  # (chains name groups, not the reverse)

        chain = load_chains().get(commodity)
        if chain is not None:
            stages = [stage.commodity for stage in chain.stages]
            raise UnknownCommodity(
                f"{commodity!r} is a supply chain ({' -> '.join(stages)}), not a commodity "
                "group: this command works on one network; give one of its stages "
                f"(--commodity {' or '.join(stages)}). `critmin simulate` and scenario files run "
                "the whole chain"
            )
        raise UnknownCommodity(
            f"unknown commodity {commodity!r}; known groups: {', '.join(sorted(groups))} (add "
            f"your own with a groups file in {ENV_VAR} or --commodities)"
        )
    return groups[commodity]


def read_groups(source: Source) -> dict[str, CommodityGroup]:
    """Read one commodity-group file (see the module docstring for its columns)."""
    header = read_header(source)
    problems = Problems()
    cols = find_columns(header.columns, _COLUMNS, label=source.label, problems=problems)
    problems.raise_if_any()
    assert cols is not None
    for field, names in _OPTIONAL.items():
        cols.update(
            find_columns(header.columns, {field: names}, label="", problems=Problems()) or {}
        )
    table = read_whole(source, header)
    if table.empty:
        problems.add(source.label, None, None, None, "has a header but no groups")
    groups: dict[str, CommodityGroup] = {}
    first_line: dict[str, int] = {}
    for row in table.to_dict("records"):
        group = _group(row, cols, source.label, problems)
        if group is None:
            continue
        if group.id in groups:
            problems.add(
                source.label,
                row[LINE],
                cols["id"],
                group.id,
                f"repeats the group of row {first_line[group.id]}",
            )
        groups[group.id] = group
        first_line.setdefault(group.id, row[LINE])
    problems.raise_if_any()
    return groups


def _group(
    row: dict[str, str], cols: dict[str, str], label: str, problems: Problems
) -> CommodityGroup | None:
    line = int(row[LINE])
    before = len(problems)
    gid = row[cols["id"]].strip()
    if not _ID.fullmatch(gid):
        problems.add(
            label,
            line,
            cols["id"],
            gid,
            "is not a group id (lower-case letters, digits and _, starting with a letter)",
        )
    codes = tuple(c.strip().replace(".", "") for c in row[cols["hs_codes"]].split(";") if c.strip())
    if not codes:
        problems.add(
            label,
            line,
            cols["hs_codes"],
            row[cols["hs_codes"]],
            "lists no HS codes (write prefixes separated by ';', e.g. 2605;8105)",
        )
    for code in codes:
        if not _HS.fullmatch(code):
            problems.add(label, line, cols["hs_codes"], code, "is not an HS code (2 to 10 digits)")
    production = row.get(cols.get("production_commodity", ""), "").strip()
    if production and not _ID.fullmatch(production):
        problems.add(
            label,
            line,
            cols["production_commodity"],
            production,
            "is not a production commodity id (lower-case letters, digits and _)",
        )
    if len(problems) > before:
        return None
    return CommodityGroup(
        id=gid,
        name=row[cols["name"]].strip() or gid,
        hs_codes=codes,
        production_commodity=production or None,
        note=row.get(cols.get("note", ""), "").strip(),
    )
