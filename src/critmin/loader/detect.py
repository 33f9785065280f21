"""Telling the input formats apart by their header, and refusing files that are not inputs.

>>> from critmin.loader.files import Header
>>> detect(Header(("t", "i", "j", "k", "v", "q"), ",")).name
'baci'
>>> detect(Header(("DataSource", "Commodity", "Year", "USprod_Mine_t"), ",")).kind
'other'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from critmin.errors import CritminError
from critmin.loader.errors import InputError
from critmin.loader.files import Header, Source, key

Kind = Literal["trade", "production", "other"]

TRADE_FORMATS = ("baci", "comtrade", "baci-subset", "atlas", "csv")
PRODUCTION_FORMATS = ("usgs", "owid")


@dataclass(frozen=True)
class Signature:
    """How to recognise one kind of file from its column names.

    Attributes
    ----------
    name : str
        Format name (what ``format=`` accepts) or, for non-inputs, a label.
    kind : str
        ``"trade"``, ``"production"`` or ``"other"`` (not an input: ``what`` says what it is).
    required : tuple of str
        Column keys (see :func:`critmin.loader.files.key`) that must all be present.
    pattern : str
        Regex that at least one column key must match, when not empty.
    what : str
        For ``other`` files: what the file is and what to do instead.
    """

    name: str
    kind: Kind
    required: tuple[str, ...]
    pattern: str = ""
    what: str = ""

    def matches(self, header: Header) -> bool:
        """True if the header has the required columns (and one matching the pattern)."""
        keys = {key(c) for c in header.columns}
        if not set(self.required) <= keys:
            return False
        return not self.pattern or any(re.search(self.pattern, k) for k in keys)


SIGNATURES: tuple[Signature, ...] = (
    Signature("baci", "trade", ("t", "i", "j", "k", "v", "q")),
    Signature("comtrade", "trade", ("reportercode", "partnercode", "flowcode", "cmdcode")),
    Signature("baci-subset", "trade", ("year", "exporter", "importer", "hs6", "value_kusd")),
    Signature("atlas", "trade", ("year", "exporter_iso2", "importer_iso2", "hs6", "value_usd")),
    Signature("csv", "trade", ("year", "exporter", "importer", "hs", "tonnes", "value_usd")),
    # USGS, three layouts: per-commodity world files, the MCS2025 all-commodity file, the
    # MCS2026 long format.
    Signature("usgs", "production", ("source", "country", "type"), r"^prod_"),
    Signature("usgs", "production", ("source", "commodity", "country", "type", "unit_meas")),
    Signature(
        "usgs",
        "production",
        ("mcschapter", "section", "commodity", "country", "statistics_detail", "year", "value"),
    ),
    Signature("owid", "production", ("entity", "code", "year"), r"^production_.+_tonnes$"),
    Signature(
        "USGS salient statistics",
        "other",
        ("datasource", "commodity", "year"),
        r"^usprod",
        "holds USGS salient statistics: United States totals by year (production, trade, "
        "prices, stocks), not production by country. Pass the release's "
        "mcsYYYY-xxxxx_world.csv file instead",
    ),
    Signature(
        "BACI aggregates",
        "other",
        ("year", "hs6", "world_value_usd", "n_flows"),
        what="holds BACI reference totals per year and HS code (world value and tonnes, number "
        "of flows, exporter HHI, top exporters and importers), not bilateral flows. It is not "
        "loaded: use it to check the totals of a full BACI load",
    ),
    Signature(
        "BACI country dictionary",
        "other",
        ("country_code",),
        r"^(country_iso3|iso_3digit_alpha)$",
        "is BACI's country dictionary, not flows: pass it as country_codes= (a BACI zip's own "
        "dictionary is used automatically)",
    ),
    Signature(
        "BACI product dictionary",
        "other",
        ("code", "description"),
        what="is BACI's product dictionary (HS code descriptions), not flows",
    ),
)


def detect(header: Header) -> Signature:
    """The signature the header matches.

    Raises
    ------
    LookupError
        If no signature matches (the caller turns this into an :class:`InputError`).
    """
    for signature in SIGNATURES:
        if signature.matches(header):
            return signature
    raise LookupError(header.columns)


def non_input(header: Header) -> Signature | None:
    """The signature of a known non-input file (salient statistics, aggregates...), if any."""
    return next((s for s in SIGNATURES if s.kind == "other" and s.matches(header)), None)


def unrecognised(header: Header, formats: tuple[str, ...]) -> str:
    """The message for a header no format matches."""
    shown = ", ".join(repr(c) for c in header.columns[:12])
    more = ", ..." if len(header.columns) > 12 else ""
    return (
        f"cannot tell the input format from the header (columns {shown}{more}); "
        f"pass format= one of {', '.join(formats)}"
    )


def classify(
    source: Source, header: Header, forced: str | None, wanted: Kind, notes: list[str]
) -> str | None:
    """The format to read ``source`` with, or None when it is to be skipped.

    Files that are not inputs (salient statistics, aggregates, dictionaries) are refused with
    what they are when the user named them, and skipped with a note when they were found in
    a folder or an archive.

    Raises
    ------
    InputError
        For non-inputs named by the user, unrecognised headers and production data given to
        the trade reader (or the reverse).
    """
    formats = TRADE_FORMATS if wanted == "trade" else PRODUCTION_FORMATS
    if source.name.lower().endswith(".xml"):
        raise InputError.single(source.label, None, None, None, "is metadata (XML), not a table")
    other = non_input(header)
    if other is not None:
        if other.name == "BACI country dictionary" and source.member is not None:
            # A BACI release zip's own dictionary: read with the archive's yearly files.
            return None
        if source.listed:
            notes.append(f"skipped {source.label}: it {other.what}")
            return None
        raise InputError.single(source.label, None, None, None, f"is not an input: it {other.what}")
    if forced is not None:
        return forced
    try:
        signature = detect(header)
    except LookupError:
        raise InputError.single(
            source.label, 1, None, None, unrecognised(header, formats)
        ) from None
    if signature.kind != wanted:
        how = (
            "`critmin load trades` (read_trades in Python)"
            if signature.kind == "trade"
            else "`critmin load production` (read_production in Python)"
        )
        raise InputError.single(
            source.label,
            None,
            None,
            None,
            f"holds {signature.kind} data ({signature.name} format): load it with {how}",
        )
    return signature.name


def check_format_name(format: str | None, wanted: Kind) -> None:
    """Refuse a ``format=`` name the reader does not know."""
    formats = TRADE_FORMATS if wanted == "trade" else PRODUCTION_FORMATS
    if format is not None and format not in formats:
        other = PRODUCTION_FORMATS if wanted == "trade" else TRADE_FORMATS
        hint = (
            f" ({format} is a {'production' if wanted == 'trade' else 'trade'} format: use "
            f"`critmin load {'production' if wanted == 'trade' else 'trades'}`)"
            if format in other
            else ""
        )
        raise UnknownFormat(
            f"unknown {wanted} format {format!r}; use one of {', '.join(formats)}{hint}"
        )


class UnknownFormat(CritminError, ValueError):
    """A ``--format`` the reader does not have."""
