"""Our World in Data mine-production series (built on USGS data).

``entity, code, year, production_cobalt_mine_tonnes``: one row per country (or aggregate) and
year, one value column per commodity (``production_<commodity>_mine_tonnes``). Countries are
keyed on ``code`` (ISO3); ``OWID_WRL`` and other ``OWID_`` codes are aggregates, and rows without
a code ("Other") are looked up by ``entity`` name. Source: ``"OWID (USGS)"``; when OWID and a
USGS release give the same value, the USGS release wins (OWID ranks below every release).
"""

from __future__ import annotations

import re

import pandas as pd

from critmin.loader.errors import Problems
from critmin.loader.files import LINE, Header, Source, column_lookup, read_whole
from critmin.loader.production_pipeline import CANDIDATE_COLUMNS, Candidates

SOURCE = "OWID (USGS)"
_VALUE_COLUMN = re.compile(r"^production_(.+?)(?:_mine)?_tonnes$")


def read_owid(
    source: Source,
    header: Header,
    *,
    wanted: frozenset[str] | None,
    known: frozenset[str],
    problems: Problems,
    notes: list[str],
) -> Candidates | None:
    """Candidate production rows of one OWID file (None when it holds nothing wanted).

    Only columns of commodities critmin knows (``known``: the bundled USGS commodity table)
    are read; the others are named in ``notes`` and skipped, never made into new commodities.
    """
    table = read_whole(source, header)
    cols = column_lookup(table.columns)
    if table.empty:
        problems.add(source.label, None, None, None, "has a header but no data rows")
        return None
    code = table[cols["code"]].str.strip()
    # OWID_WRL (world) and other OWID_ codes are OWID's own aggregates, not ISO3 codes.
    table = table.loc[~code.str.upper().str.startswith("OWID_")]
    code = code[table.index]
    by_code = code != ""
    parts = []
    unknown = []
    for column in table.columns:
        match = _VALUE_COLUMN.match(column.strip().casefold())
        if match is None or (wanted is not None and match.group(1) not in wanted):
            continue
        if match.group(1) not in known:
            unknown.append(column)
            continue
        parts.append(
            pd.DataFrame(
                {
                    "year": table[cols["year"]],
                    "country": code.where(by_code, table[cols["entity"]]),
                    "kind": by_code.map({True: "iso3", False: "name"}),
                    "commodity": match.group(1),
                    "value": table[column],
                    "scale": 1.0,
                    "column": column,
                    LINE: table[LINE],
                }
            )
        )
    if unknown:
        notes.append(
            f"skipped {len(unknown)} column(s) of {source.label} naming commodities critmin does "
            f"not know: {', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''} (add them "
            "to critmin/loader/data/usgs_commodities.csv to load them)"
        )
    if not parts:
        return None
    return Candidates(pd.concat(parts)[CANDIDATE_COLUMNS], SOURCE, 0, cols["entity"])
