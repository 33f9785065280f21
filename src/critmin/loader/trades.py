"""``read_trades``: bilateral flows from BACI, UN Comtrade, the BACI extracts or plain CSV."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from critmin.loader import baci, baci_derived, comtrade, plain
from critmin.loader.countries import CountryCodes
from critmin.loader.detect import check_format_name, classify
from critmin.loader.errors import InputError, Problems
from critmin.loader.files import PathsLike, Source, expand_sources, read_header
from critmin.loader.flow_pipeline import (
    FlowLayout,
    Unmapped,
    combine_files,
    public_flows,
    read_flow_file,
)

LAYOUTS: dict[str, FlowLayout] = {
    "baci": baci.LAYOUT,
    "baci-subset": baci_derived.SUBSET,
    "atlas": baci_derived.ATLAS,
    "csv": plain.LAYOUT,
}


@dataclass(frozen=True)
class TradeData:
    """Validated bilateral flows, ready for the store.

    Attributes
    ----------
    flows : DataFrame
        One row per (year, exporter, importer, hs): ``year`` int64, ``exporter`` and
        ``importer`` ISO3 str, ``hs`` str (as in the file; six digits for BACI), ``tonnes``
        float64 (NaN if missing), ``value_usd`` float64 (NaN if missing), ``source`` str.
    countries : DataFrame
        ``iso3, name`` (str) of every country in the flows.
    unmapped : DataFrame
        Codes that did not map to a country, whose rows were dropped: ``file, code`` str,
        ``rows`` int64, ``value_usd`` float64 (their total value), ``reason`` str
        (``"aggregate: World"``, ``"unknown code"``).
    notes : tuple of str
        What else the reader decided (files skipped, duplicates across files, reconciliation).
    """

    flows: pd.DataFrame
    countries: pd.DataFrame
    unmapped: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    def report(self) -> list[str]:
        """Human summary: flows per year and HS code, countries, unmapped codes, notes."""
        flows = self.flows
        years = f"{flows['year'].min()}-{flows['year'].max()}" if len(flows) else "none"
        lines = [
            f"{len(flows):,} flows, {len(self.countries):,} countries, years {years}",
            "flows per year and HS code:",
        ]
        for (year, hs), group in flows.groupby(["year", "hs"]):
            with_t = group["tonnes"].notna().mean()
            lines.append(
                f"  {year} {hs}: {len(group):,} flows, {group['tonnes'].sum():,.0f} t "
                f"({with_t:.0%} with tonnes), {group['value_usd'].sum() / 1e6:,.1f} M USD"
            )
        if self.unmapped.empty:
            lines.append("unmapped codes: none")
        else:
            lines.append("unmapped codes (rows dropped):")
            for row in self.unmapped.itertuples(index=False):
                lines.append(
                    f"  {row.file}: {row.code!r} {row.reason}, {row.rows:,} rows, "
                    f"{row.value_usd:,.0f} USD"
                )
        lines += [f"note: {note}" for note in self.notes]
        return lines


def read_trades(
    paths: PathsLike,
    format: str | None = None,
    *,
    country_codes: str | os.PathLike[str] | CountryCodes | None = None,
    unmapped_tolerance: float = 0.0,
    hs: Iterable[str] | None = None,
) -> TradeData:
    """Read and validate bilateral trade flows.

    Parameters
    ----------
    paths : path or iterable of paths
        CSV files (optionally ``.gz``), zip archives (a BACI release zip is read whole) and
        folders (their CSV and zip files; files that are not inputs are skipped with a note).
    format : str, optional
        ``baci``, ``comtrade``, ``baci-subset``, ``atlas`` or ``csv``; detected from each
        file's header when omitted.
    country_codes : path or CountryCodes, optional
        A BACI ``country_codes_*.csv`` for numeric codes. A BACI zip's own dictionary takes
        precedence for the files of that zip; without either, the bundled V202601 copy is used.
    unmapped_tolerance : float
        Largest share of a file's rows (0 to 1) that may carry unknown country codes; those rows
        are dropped into ``unmapped``. Above it, the unknown codes are an :class:`InputError`.
        Known aggregates ("World", "Areas, nes") are always dropped into ``unmapped`` and do not
        count against it.
    hs : iterable of str, optional
        Keep only HS codes starting with one of these prefixes (e.g. a commodity group's
        ``hs_codes``): reading a full BACI year then needs little memory.

    Returns
    -------
    TradeData

    Raises
    ------
    InputError
        Listing up to ten problems (file, row, column, value, reason) over all the files.
    ValueError
        For an unknown ``format`` name or a tolerance outside 0-1.

    Notes
    -----
    A flow given by two files (the atlas extract and the 2024 subset overlap on HS 282200) is
    kept once when the files agree up to rounding; BACI yearly files win over the extracts,
    which win over Comtrade and plain CSV. Disagreeing files are an error. Self-flows (exporter
    = importer) are errors in the tabular formats (BACI has none) and dropped with a note in
    Comtrade exports, where reporters legitimately report re-imports from themselves.
    """
    check_format_name(format, "trade")
    if not 0.0 <= unmapped_tolerance <= 1.0:
        raise ValueError(f"unmapped_tolerance must be between 0 and 1, not {unmapped_tolerance}")
    prefixes = None if hs is None else tuple(str(p).strip().replace(".", "") for p in hs)
    codes = _base_codes(country_codes)
    sources = expand_sources(paths)
    problems, unmapped = Problems(), Unmapped()
    notes: list[str] = []
    frames: list[pd.DataFrame] = []
    reports: list[pd.DataFrame] = []
    archive_codes: dict[Path, CountryCodes] = {}
    for source in sources:
        try:
            header = read_header(source)
            fmt = classify(source, header, format, "trade", notes)
            if fmt == "comtrade":
                found = comtrade.read_reports(
                    source,
                    header,
                    codes=codes,
                    unmapped=unmapped,
                    problems=problems,
                    tolerance=unmapped_tolerance,
                    hs_prefixes=prefixes,
                    notes=notes,
                )
                reports += [found] if found is not None else []
            elif fmt is not None:
                file_codes = codes
                if fmt == "baci":
                    file_codes = baci.codes_for(source, sources, codes, archive_codes)
                frame = read_flow_file(
                    source,
                    header,
                    LAYOUTS[fmt],
                    codes=file_codes,
                    unmapped=unmapped,
                    problems=problems,
                    tolerance=unmapped_tolerance,
                    hs_prefixes=prefixes,
                )
                frames += [frame] if frame is not None else []
        except InputError as exc:
            problems.extend(exc)
    reconciled = comtrade.reconcile(reports, problems=problems, notes=notes)
    if reconciled is not None:
        frames.append(reconciled)
    combined, overlap_notes = combine_files(frames, problems)
    problems.raise_if_any()
    flows = public_flows(combined)
    if flows.empty:
        wanted = f" for HS {', '.join(prefixes)}" if prefixes else ""
        raise InputError.single(
            ", ".join(s.label for s in sources[:3]),
            None,
            None,
            None,
            f"holds no flows{wanted} (after dropping aggregates and set-aside rows)",
        )
    every = pd.concat([flows["exporter"], flows["importer"]])
    countries = codes.frame(every)
    for table in archive_codes.values():  # names that only an archive's dictionary knows
        countries["name"] = [
            table.name(iso3) if name == iso3 else name
            for iso3, name in zip(countries["iso3"], countries["name"], strict=True)
        ]
    return TradeData(
        flows=flows,
        countries=countries.astype({"name": "str"}),
        unmapped=unmapped.frame(),
        notes=tuple(notes + overlap_notes),
    )


def _base_codes(country_codes: str | os.PathLike[str] | CountryCodes | None) -> CountryCodes:
    if isinstance(country_codes, CountryCodes):
        return country_codes
    codes = CountryCodes.bundled()
    if country_codes is None:
        return codes
    path = Path(country_codes)
    if not path.is_file():
        raise InputError.single(str(country_codes), None, None, None, "file not found")
    return codes.with_dictionary(Source(str(country_codes), path))
