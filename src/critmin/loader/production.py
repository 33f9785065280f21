"""``read_production``: mine production by country from USGS and OWID."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from critmin.loader.countries import CountryCodes
from critmin.loader.detect import check_format_name, classify
from critmin.loader.errors import InputError, Problems
from critmin.loader.files import PathsLike, expand_sources, read_header
from critmin.loader.owid import read_owid
from critmin.loader.production_pipeline import (
    PRODUCTION_COLUMNS,
    SKIPPED_COLUMNS,
    newest_release,
    normalise,
)
from critmin.loader.usgs import read_usgs, usgs_commodities


@dataclass(frozen=True)
class ProductionData:
    """Validated production, ready for the store.

    Attributes
    ----------
    production : DataFrame
        One row per (year, country, commodity): ``year`` int64, ``country`` ISO3 str,
        ``commodity`` str (``cobalt, lithium, nickel, graphite, rare_earths, gallium,
        germanium, tungsten``), ``tonnes`` float64, ``source`` str (``"USGS MCS2024"``,
        ``"OWID (USGS)"``).
    skipped : DataFrame
        Values that are not numbers and were left out (not read as zero): ``file`` str,
        ``row`` int64, ``country`` ISO3 str, ``commodity`` str, ``year`` int64, ``value`` str
        (as written: ``W``, ``NA``, empty), ``reason`` str.
    countries : DataFrame
        ``iso3, name`` (str) of every country in ``production``.
    notes : tuple of str
        Other decisions: superseded releases, skipped files and row types.
    """

    production: pd.DataFrame
    skipped: pd.DataFrame
    countries: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    def report(self) -> list[str]:
        """Human summary: values per commodity and year, skipped values, notes."""
        data = self.production
        lines = [f"{len(data):,} production values, {len(self.countries):,} countries"]
        lines.append("values per commodity and year:")
        for (commodity, year), group in data.groupby(["commodity", "year"]):
            sources = ", ".join(sorted(group["source"].unique()))
            lines.append(
                f"  {commodity} {year}: {len(group):,} countries, "
                f"{group['tonnes'].sum():,.0f} t ({sources})"
            )
        if self.skipped.empty:
            lines.append("skipped values: none")
        else:
            counts = self.skipped["reason"].value_counts()
            lines.append(
                f"skipped values (not read as zero): {len(self.skipped):,} ("
                + ", ".join(f"{n:,} {reason}" for reason, n in counts.items())
                + ")"
            )
        lines += [f"note: {note}" for note in self.notes]
        return lines


def read_production(
    paths: PathsLike,
    format: str | None = None,
    *,
    commodity: str | Iterable[str] | None = None,
) -> ProductionData:
    """Read and validate production by country.

    Parameters
    ----------
    paths : path or iterable of paths
        USGS files (the three layouts), OWID files, or folders of them.
    format : str, optional
        ``usgs`` or ``owid``; detected from each file's header when omitted.
    commodity : str or iterable of str, optional
        Keep only these production commodities. A USGS world file whose name does not say
        its commodity (renamed) is taken to hold the one commodity given here.

    Returns
    -------
    ProductionData

    Raises
    ------
    InputError
        Listing up to ten problems: unknown countries, bad numbers, a (year, country,
        commodity) twice in one file, two files of the same release that disagree.
    ValueError
        For an unknown ``format`` or ``commodity``.

    Notes
    -----
    Mineral Commodity Summaries overlap by one year and a later release revises the earlier
    estimate, so when several files give the same (year, country, commodity) the newest
    release is kept (MCS2025 over MCS2024); OWID, a copy of USGS data, ranks below every USGS
    release. Aggregate rows ("World total", "Other countries") are not countries and are
    dropped; withheld (``W``), ``NA`` and empty cells are reported in ``skipped``.
    """
    check_format_name(format, "production")
    wanted = _wanted(commodity)
    codes = CountryCodes.bundled()
    problems = Problems()
    notes: list[str] = []
    skipped: list[pd.DataFrame] = []
    frames: list[pd.DataFrame] = []
    sources = expand_sources(paths)
    for source in sources:
        try:
            header = read_header(source)
            fmt = classify(source, header, format, "production", notes)
            if fmt is None:
                continue
            found = (
                read_usgs(source, header, wanted=wanted, problems=problems, notes=notes)
                if fmt == "usgs"
                else read_owid(
                    source,
                    header,
                    wanted=wanted,
                    known=frozenset(usgs_commodities()),
                    problems=problems,
                    notes=notes,
                )
            )
            if found is not None:
                frames.append(
                    normalise(
                        found.rows,
                        label=source.label,
                        source=found.source,
                        rank=found.rank,
                        country_column=found.country_column,
                        codes=codes,
                        problems=problems,
                        skipped=skipped,
                    )
                )
        except InputError as exc:
            problems.extend(exc)
    kept, overlap_notes = newest_release(frames, problems)
    problems.raise_if_any()
    if kept.empty:
        which = f" for {', '.join(sorted(wanted))}" if wanted else ""
        raise InputError.single(
            ", ".join(s.label for s in sources[:3]),
            None,
            None,
            None,
            f"holds no production values{which}",
        )
    production = (
        kept.loc[:, list(PRODUCTION_COLUMNS)]
        .astype(
            {
                "year": "int64",
                "country": "str",
                "commodity": "str",
                "tonnes": "float64",
                "source": "str",
            }
        )
        .sort_values(["commodity", "year", "country"])
        .reset_index(drop=True)
    )
    return ProductionData(
        production=production,
        skipped=_skipped_frame(skipped),
        countries=codes.frame(production["country"]),
        notes=tuple(notes + overlap_notes),
    )


def _wanted(commodity: str | Iterable[str] | None) -> frozenset[str] | None:
    if commodity is None:
        return None
    wanted = frozenset([commodity] if isinstance(commodity, str) else commodity)
    unknown = wanted - set(usgs_commodities())
    if unknown:
        raise ValueError(
            f"unknown production commodity {', '.join(sorted(unknown))}; "
            f"known: {', '.join(usgs_commodities())}"
        )
    return wanted


def _skipped_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(
        [p for p in parts if not p.empty] or [pd.DataFrame(columns=list(SKIPPED_COLUMNS))],
        ignore_index=True,
    )
    return frame.astype(
        {
            "file": "str",
            "row": "int64",
            "country": "str",
            "commodity": "str",
            "year": "int64",
            "value": "str",
            "reason": "str",
        }
    ).reset_index(drop=True)
