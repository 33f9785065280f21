"""The steps every production reader shares: countries, values, duplicates, release overlaps.

A format reader (USGS, OWID) turns its layout into *candidate rows*: one per country, commodity
and year, the value still as written. Columns: ``year`` (text), ``country`` (as written),
``kind`` (``name`` or ``iso3``: how ``country`` is coded), ``commodity`` (production commodity
id), ``value`` (text), ``scale`` (factor to tonnes), ``column`` (the column the value came from,
for messages) and the line number. Everything from there on happens here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from critmin.loader.countries import AGGREGATE, UNKNOWN, CountryCodes
from critmin.loader.errors import Problems
from critmin.loader.files import LINE
from critmin.loader.validate import duplicated_keys, parse_amounts, parse_years

PRODUCTION_COLUMNS = ("year", "country", "commodity", "tonnes", "source")
SKIPPED_COLUMNS = ("file", "row", "country", "commodity", "year", "value", "reason")
KEYS = ["year", "country", "commodity"]
CANDIDATE_COLUMNS = ["year", "country", "kind", "commodity", "value", "scale", "column", LINE]


@dataclass(frozen=True)
class Candidates:
    """One file's candidate rows and where they come from.

    Attributes
    ----------
    rows : DataFrame
        :data:`CANDIDATE_COLUMNS`.
    source : str
        The ``source`` of the file's values (``"USGS MCS2024"``, ``"OWID (USGS)"``).
    rank : int
        Which file wins an overlap, highest first: the MCS release year; 0 for OWID.
    country_column : str
        The file's country column, for messages.
    """

    rows: pd.DataFrame
    source: str
    rank: int
    country_column: str


#: Cells that hold no number, and why. They are skipped (not read as zero) and reported.
NO_VALUE = {
    "W": "withheld (W) to avoid disclosing company data",
    "NA": "not available (NA)",
    "N/A": "not available (N/A)",
    "NAN": "not available (nan)",
    "NULL": "not available (null)",
    "NONE": "not available (none)",
    "": "no value given",
}


def release_rank(source: str) -> int:
    """How recent the release a production value comes from is: the MCS year, 0 for OWID.

    Compared across loads too, so a newer release stored earlier is never overwritten by an
    older one loaded later.

    >>> release_rank("USGS MCS2025"), release_rank("OWID (USGS)")
    (2025, 0)
    """
    match = re.fullmatch(r"USGS MCS(\d{4})", str(source).strip())
    return int(match.group(1)) if match else 0


def normalise(
    candidates: pd.DataFrame,
    *,
    label: str,
    source: str,
    rank: int,
    country_column: str,
    codes: CountryCodes,
    problems: Problems,
    skipped: list[pd.DataFrame],
) -> pd.DataFrame:
    """Validate one file's candidate rows into the intermediate production frame.

    ``country_column`` names the file's country column in messages. Aggregates ("World
    total", "Other countries") are dropped; cells in :data:`NO_VALUE` go to ``skipped``;
    unknown countries, bad numbers and years, and a (year, country, commodity) given twice are
    problems.

    Returns
    -------
    DataFrame
        :data:`PRODUCTION_COLUMNS` plus ``_file``, the line number and ``_rank``.
    """
    rows = candidates.reset_index(drop=True)
    iso3 = pd.Series(None, index=rows.index, dtype=object)
    aggregate = pd.Series(False, index=rows.index)
    for kind, group in rows.groupby("kind"):
        found = codes.map(group["country"], kind)
        iso3[group.index] = found["iso3"]
        aggregate[group.index] = found["status"] == AGGREGATE
        unknown = rows.loc[group.index[found["status"] == UNKNOWN]].drop_duplicates(LINE)
        problems.add_rows(
            label,
            unknown[LINE],
            country_column,
            unknown["country"],
            "is not a country critmin knows (add a row to critmin/loader/data/"
            "country_aliases.csv, or correct the name)",
        )
    rows = rows.assign(iso3=iso3).loc[~aggregate & iso3.notna()]
    text = rows["value"].str.strip()
    empty = text.str.upper().isin(list(NO_VALUE))
    skipped.append(
        pd.DataFrame(
            {
                "file": label,
                "row": rows.loc[empty, LINE],
                "country": rows.loc[empty, "iso3"],
                "commodity": rows.loc[empty, "commodity"],
                "year": pd.to_numeric(rows.loc[empty, "year"], errors="coerce"),
                "value": rows.loc[empty, "value"],
                "reason": text[empty].str.upper().map(NO_VALUE),
            }
        )
    )
    rows = rows.loc[~empty]
    tonnes = pd.Series(float("nan"), index=rows.index)
    for column, group in rows.groupby("column"):
        numbers = parse_amounts(
            group["value"],
            group[LINE],
            label=label,
            column=str(column),
            problems=problems,
            thousands=True,
            scale=group["scale"],
        )
        tonnes[group.index] = numbers
    years = parse_years(rows["year"], rows[LINE], label=label, column="year", problems=problems)
    frame = pd.DataFrame(
        {
            "year": years,
            "country": rows["iso3"],
            "commodity": rows["commodity"],
            "tonnes": tonnes,
            "source": source,
            "_file": label,
            LINE: rows[LINE],
            "_rank": rank,
        }
    )
    duplicated_keys(
        frame, KEYS, label=label, problems=problems, what="production (year, country, commodity)"
    )
    return frame


def newest_release(
    frames: list[pd.DataFrame], problems: Problems
) -> tuple[pd.DataFrame, list[str]]:
    """Keep one value per (year, country, commodity): the one of the newest release.

    Consecutive Mineral Commodity Summaries overlap by one year, and the later one revises the
    earlier estimate, so the highest ``_rank`` (the MCS release year; OWID, a secondary copy
    of USGS data, ranks below every USGS release) wins. Two files of the same release that give
    different numbers are an error.
    """
    if not frames:
        return pd.DataFrame(columns=[*PRODUCTION_COLUMNS, "_file", LINE, "_rank"]), []
    every = pd.concat(frames, ignore_index=True)
    # Repeats within one file were reported by normalise: only compare across files here.
    every = every.drop_duplicates([*KEYS, "_file"])
    every = every.sort_values("_rank", ascending=False, kind="stable").reset_index(drop=True)
    later = every.duplicated(KEYS, keep="first")
    if not later.any():
        return every, []
    first = every.groupby(KEYS, sort=False)[["tonnes", "source", "_file", LINE, "_rank"]]
    first = first.transform("first", skipna=False)
    same_release = later & (every["_rank"] == first["_rank"])
    differs = same_release & ((every["tonnes"] - first["tonnes"]).abs() > 1e-9)
    for idx in every.index[differs]:
        problems.add(
            every.at[idx, "_file"],
            int(every.at[idx, LINE]),
            None,
            f"{every.at[idx, 'year']} {every.at[idx, 'country']} {every.at[idx, 'commodity']}",
            f"is also in {first.at[idx, '_file']} row {int(first.at[idx, LINE])} of the same "
            f"release with another value ({every.at[idx, 'tonnes']} vs "
            f"{first.at[idx, 'tonnes']} t): load one of the two files",
        )
    superseded = every.loc[later & ~same_release]
    notes = []
    for (old, new), group in superseded.groupby(
        [superseded["source"], first.loc[superseded.index, "source"]]
    ):
        years = ", ".join(str(y) for y in sorted(group["year"].unique()))
        notes.append(f"{len(group):,} values of {old} ({years}) superseded by {new}")
    return every.loc[~later], notes
