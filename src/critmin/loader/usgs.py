"""USGS Mineral Commodity Summaries: production by country, in the three layouts published.

World files (``mcs2024-cobal_world.csv``, MCS2022-MCS2024)
    One file per commodity, one row per country, one column per year whose name carries the
    unit and the year: ``Prod_t_2022``, ``Prod_t_est_2023``, ``Prod_kg_2021``.
All-commodity file (``MCS2025_World_Data.csv``)
    ``COMMODITY, COUNTRY, TYPE, UNIT_MEAS, PROD_2023, PROD_EST_ 2024`` (note the space), many
    commodities and statistic types in one file, UTF-8 with a byte-order mark.
Long format (``MCS2026_Commodities_Data_*.csv``)
    One row per statistic and year (``Section, Commodity, Country, Statistics_detail, Unit,
    Year, Value``), Windows-1252 encoded; only the "World Mine Production and Reserves" section
    is production by country (the salient-statistics section repeats U.S. mine production).

Only the production type listed for each commodity in ``data/usgs_commodities.csv`` is kept:
mine production, except gallium (primary production) and germanium (primary and secondary
refinery production), which are by-products with no mine production of their own. Units are
converted to tonnes (kilograms / 1000, thousand tons * 1000). USGS files are read as UTF-8 and,
failing that, as Windows-1252, the encoding USGS uses for some releases.

The release (``USGS MCS2024``) is read from the ``Source`` column, else the file name, else
taken as the latest data year + 1 (each MCS reports the year before its publication).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from critmin.loader.errors import Problems
from critmin.loader.files import LINE, Header, Source, bundled, column_lookup, key, read_whole
from critmin.loader.production_pipeline import CANDIDATE_COLUMNS, Candidates

# "Prod_t_2021", "Prod_t_Est_2021", "Prod_kg_est_2022", "PROD_2023", "PROD_EST_ 2024".
_YEAR_COLUMN = re.compile(r"^prod_(?:(t|kg|kt)_)?(?:est_)?(\d{4})$")
_UNIT_SCALE = {
    "t": 1.0,
    "kg": 0.001,
    "kt": 1000.0,
    "metric tons": 1.0,
    "metric tonnes": 1.0,
    "kilograms": 0.001,
    "thousand metric tons": 1000.0,
    "thousand metric dry tons": 1000.0,
    "million metric tons": 1e6,
}


@dataclass(frozen=True)
class UsgsCommodity:
    """How USGS names a production commodity and which production type is kept."""

    id: str
    names: tuple[str, ...]
    file_code: str
    production_type: re.Pattern[str]
    note: str


@cache
def usgs_commodities() -> dict[str, UsgsCommodity]:
    """The bundled commodity table (``data/usgs_commodities.csv``), by id."""
    source = bundled("usgs_commodities.csv")
    table = read_whole(source)
    return {
        row["commodity"]: UsgsCommodity(
            id=row["commodity"],
            names=tuple(n.strip().casefold() for n in row["usgs_names"].split(";")),
            file_code=row["file_code"],
            production_type=re.compile(re.escape(row["production_type"]), re.IGNORECASE),
            note=row["note"],
        )
        for row in table.to_dict("records")
    }


def read_usgs(
    source: Source,
    header: Header,
    *,
    wanted: frozenset[str] | None,
    problems: Problems,
    notes: list[str],
) -> Candidates | None:
    """Candidate production rows of one USGS file (None when it holds nothing wanted)."""
    table = read_whole(source, header, ("utf-8-sig", "cp1252"))
    if table.empty:
        problems.add(source.label, None, None, None, "has a header but no data rows")
        return None
    cols = column_lookup(table.columns)
    if "mcschapter" in cols:
        rows, declared = _long(table, cols, wanted=wanted, problems=problems, label=source.label)
    elif "unit_meas" in cols:
        rows, declared = _all_commodities(
            table, cols, wanted=wanted, problems=problems, label=source.label
        )
    else:
        rows, declared = _world(table, cols, source, wanted=wanted, problems=problems, notes=notes)
    if rows is None or rows.empty:
        return None
    release = _release(source, declared, rows["year"])
    return Candidates(rows[CANDIDATE_COLUMNS], f"USGS MCS{release}", release, cols["country"])


def _release(source: Source, declared: pd.Series | None, years: pd.Series) -> int:
    if declared is not None:
        found = declared.str.extract(r"(?i)mcs\s*(\d{4})")[0].dropna()
        if not found.empty:
            return int(found.astype(int).max())
    named = re.search(r"(?i)mcs[\s_-]*(\d{4})", source.name)
    if named:
        return int(named.group(1))
    return int(pd.to_numeric(years, errors="coerce").max()) + 1


def _candidates(
    table: pd.DataFrame,
    country: str,
    commodity: pd.Series | str,
    year: pd.Series | str,
    value: pd.Series,
    scale: pd.Series | float,
    column: pd.Series | str,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": year,
            "country": table[country],
            "kind": "name",
            "commodity": commodity,
            "value": value,
            "scale": scale,
            "column": column,
            LINE: table[LINE],
        },
        index=table.index,
    )


def _world(
    table: pd.DataFrame,
    cols: dict[str, str],
    source: Source,
    *,
    wanted: frozenset[str] | None,
    problems: Problems,
    notes: list[str],
) -> tuple[pd.DataFrame | None, pd.Series | None]:
    specs = usgs_commodities()
    commodity = _world_commodity(source, table[cols["type"]], wanted)
    if commodity is None:
        problems.add(
            source.label,
            None,
            None,
            None,
            "cannot tell which commodity this USGS world file is about from its name "
            "(mcsYYYY-cobal_world.csv) or its Type column: pass commodity=",
        )
        return None, None
    if wanted is not None and commodity not in wanted:
        notes.append(f"skipped {source.label}: it holds {commodity}")
        return None, None
    spec = specs[commodity]
    types = table[cols["type"]].str.strip()
    kept = types.str.contains(spec.production_type)
    for other in sorted(set(types[~kept])):
        notes.append(
            f"{source.label}: rows of type {other!r} not loaded "
            f"({commodity} keeps {spec.production_type.pattern!r})"
        )
    table = table.loc[kept]
    parts = []
    for column in table.columns:
        match = _YEAR_COLUMN.match(key(column))
        if match is None:
            continue
        unit, year = match.groups()
        if unit is None:
            problems.add(
                source.label,
                1,
                column,
                None,
                "has no unit in its name (expected Prod_t_YYYY or Prod_kg_YYYY)",
            )
            continue
        parts.append(
            _candidates(
                table, cols["country"], commodity, year, table[column], _UNIT_SCALE[unit], column
            )
        )
    if not parts:
        problems.add(
            source.label,
            1,
            None,
            None,
            "has no production columns (Prod_t_YYYY, Prod_kg_YYYY, Prod_t_est_YYYY)",
        )
        return None, None
    return pd.concat(parts), table[cols["source"]]


def _world_commodity(source: Source, types: pd.Series, wanted: frozenset[str] | None) -> str | None:
    specs = usgs_commodities()
    named = re.search(r"(?i)mcs\d{4}-([a-z]+)_world", source.name)
    if named:
        by_code = {s.file_code: s.id for s in specs.values()}
        if named.group(1).lower() in by_code:
            return by_code[named.group(1).lower()]
    if wanted is not None and len(wanted) == 1:
        return next(iter(wanted))
    text = " ".join(types.str.casefold())
    return next((s.id for s in specs.values() if any(n in text for n in s.names)), None)


def _commodity_ids(names: pd.Series, wanted: frozenset[str] | None) -> pd.Series:
    by_name = {n: s.id for s in usgs_commodities().values() for n in s.names}
    ids = names.str.strip().str.casefold().map(by_name)
    return ids.where(ids.isin(list(wanted))) if wanted is not None else ids


def _type_matches(ids: pd.Series, types: pd.Series) -> pd.Series:
    specs = usgs_commodities()
    return pd.Series(
        [
            bool(i in specs and specs[i].production_type.search(t))
            for i, t in zip(ids, types, strict=True)
        ],
        index=ids.index,
    )


def _scales(
    units: pd.Series, table: pd.DataFrame, *, label: str, column: str, problems: Problems
) -> pd.Series:
    scale = units.str.strip().str.casefold().map(_UNIT_SCALE)
    unknown = scale.isna()
    problems.add_rows(
        label,
        table.loc[unknown, LINE],
        column,
        units[unknown],
        f"is not a unit of mass critmin converts ({', '.join(_UNIT_SCALE)})",
    )
    return scale


def _all_commodities(
    table: pd.DataFrame,
    cols: dict[str, str],
    *,
    wanted: frozenset[str] | None,
    problems: Problems,
    label: str,
) -> tuple[pd.DataFrame | None, pd.Series | None]:
    ids = _commodity_ids(table[cols["commodity"]], wanted)
    table, ids = table.loc[ids.notna()], ids[ids.notna()]
    kept = _type_matches(ids, table[cols["type"]])
    table, ids = table.loc[kept], ids[kept]
    scale = _scales(
        table[cols["unit_meas"]], table, label=label, column=cols["unit_meas"], problems=problems
    )
    parts = []
    for column in table.columns:
        match = _YEAR_COLUMN.match(key(column))
        if match is not None:
            parts.append(
                _candidates(
                    table, cols["country"], ids, match.group(2), table[column], scale, column
                )
            )
    if not parts:
        problems.add(label, 1, None, None, "has no production columns (PROD_YYYY)")
        return None, None
    return pd.concat(parts), table[cols["source"]]


def _long(
    table: pd.DataFrame,
    cols: dict[str, str],
    *,
    wanted: frozenset[str] | None,
    problems: Problems,
    label: str,
) -> tuple[pd.DataFrame | None, pd.Series | None]:
    world = table[cols["section"]].str.casefold().str.contains("world")
    table = table.loc[world]
    ids = _commodity_ids(table[cols["commodity"]], wanted)
    table, ids = table.loc[ids.notna()], ids[ids.notna()]
    kept = _type_matches(ids, table[cols["statistics_detail"]])
    table, ids = table.loc[kept], ids[kept]
    scale = _scales(table[cols["unit"]], table, label=label, column=cols["unit"], problems=problems)
    rows = _candidates(
        table, cols["country"], ids, table[cols["year"]], table[cols["value"]], scale, cols["value"]
    )
    return rows, None
