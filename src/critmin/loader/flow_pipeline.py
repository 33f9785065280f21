"""The steps every trade reader shares: parse, map country codes, validate, combine files.

A format module describes its columns with a :class:`FlowLayout` (or, for Comtrade, builds the
same intermediate frame itself); everything else — numbers, years, HS codes, country codes,
unmapped-code bookkeeping, self-flows, duplicate keys and the cross-file rule — lives here once.

The intermediate frame has the public columns (:data:`FLOW_COLUMNS`) plus ``_file`` (the file's
label), :data:`~critmin.loader.files.LINE` and ``_rank`` (which source wins when two files give
the same flow, lowest first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from critmin.loader.countries import AGGREGATE, UNKNOWN, CodeKind, CountryCodes
from critmin.loader.errors import MAX_SHOWN, Problems
from critmin.loader.files import (
    LINE,
    Header,
    Source,
    check_encoding,
    drop_blank_rows,
    read_table,
)
from critmin.loader.validate import duplicated_keys, find_columns, parse_amounts, parse_years
from critmin.units import Unit

FLOW_COLUMNS = ("year", "exporter", "importer", "hs", "tonnes", "value_usd", "source")
FLOW_KEYS = ["year", "exporter", "importer", "hs"]
_INTERNAL = [*FLOW_COLUMNS, "_file", LINE, "_rank"]

#: When two files give the same flow, the one from the earlier format in this list is kept
#: (full BACI before the BACI extracts, whose top-flows file rounds tonnes).
FORMAT_RANK = {"baci": 0, "baci-subset": 1, "atlas": 2, "comtrade": 3, "csv": 4}

# Two files "agree" on a flow when they differ by no more than rounding: the atlas extract
# writes whole tonnes and whole dollars where BACI has three decimals.
_VALUE_SLACK_USD = 1.0
_TONNES_SLACK = 0.5
_RELATIVE_SLACK = 1e-6


@dataclass(frozen=True)
class FlowLayout:
    """How one tabular trade format names and encodes its columns.

    Attributes
    ----------
    format : str
        Format name (``baci``, ``baci-subset``, ``atlas``, ``csv``).
    columns : mapping
        Field (``year, exporter, importer, hs, value`` and optionally ``tonnes``) ->
        acceptable column names.
    code_kind : str
        How exporter and importer are coded (``numeric``, ``iso2``, ``iso3``).
    source : callable
        The ``source`` string of a file's flows.
    value_scale : float
        Multiplier to USD (1000 for BACI's thousand USD).
    hs_digits : int or None
        Pad HS codes written as numbers (BACI writes 010121 as 10121) to this many digits.
    """

    format: str
    columns: Mapping[str, Sequence[str]]
    code_kind: CodeKind
    source: Callable[[Source], str]
    value_scale: float = 1.0
    hs_digits: int | None = None


@dataclass
class Unmapped:
    """Codes that are not countries, per file: aggregates (expected) and unknown codes."""

    counts: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    #: Per file, the first rows with an unknown code: (line, column, value).
    examples: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)

    def add(
        self,
        label: str,
        column: str,
        raw: pd.Series,
        mapped: pd.DataFrame,
        values: pd.Series,
        lines: pd.Series,
    ) -> None:
        """Count the rows of ``raw`` whose code did not map to a country."""
        dropped = mapped["status"] != "ok"
        if not dropped.any():
            return
        frame = pd.DataFrame(
            {
                "code": raw[dropped].str.strip(),
                "reason": np.where(
                    mapped.loc[dropped, "status"] == AGGREGATE,
                    "aggregate: " + mapped.loc[dropped, "note"].astype(str),
                    "unknown code",
                ),
                "value": values[dropped],
            }
        )
        for (code, reason), group in frame.groupby(["code", "reason"], sort=False):
            entry = self.counts.setdefault((label, str(code), str(reason)), [0, 0.0])
            entry[0] += len(group)
            entry[1] += float(group["value"].sum())  # NaN values count as 0
        unknown = dropped & (mapped["status"] == UNKNOWN)
        kept = self.examples.setdefault(label, [])
        room = max(MAX_SHOWN - len(kept), 0)
        for line, value in zip(lines[unknown].iloc[:room], raw[unknown].iloc[:room], strict=True):
            kept.append((int(line), column, str(value)))

    def frame(self) -> pd.DataFrame:
        """``file, code, rows, value_usd, reason`` of every code dropped."""
        rows = [
            {"file": f, "code": c, "rows": int(n), "value_usd": float(v), "reason": r}
            for (f, c, r), (n, v) in self.counts.items()
        ]
        out = pd.DataFrame(rows, columns=["file", "code", "rows", "value_usd", "reason"])
        return out.astype(
            {"file": "str", "code": "str", "rows": "int64", "value_usd": "float64", "reason": "str"}
        )


def resolve_partners(
    chunk: pd.DataFrame,
    columns: Mapping[str, str],
    kind: CodeKind,
    *,
    codes: CountryCodes,
    values: pd.Series,
    label: str,
    unmapped: Unmapped,
) -> tuple[dict[str, pd.Series], pd.Series, pd.Series]:
    """Map two or more country columns to ISO3 and record what did not map.

    Parameters
    ----------
    columns : mapping
        Output field (``exporter``, ``importer``) -> column of ``chunk``.
    values : Series
        USD values of the rows (counted against dropped codes in the report).

    Returns
    -------
    (dict, Series, Series)
        ISO3 per field; rows where every field mapped; rows with an unknown code.
    """
    mapped: dict[str, pd.Series] = {}
    ok = pd.Series(True, index=chunk.index)
    unknown = pd.Series(False, index=chunk.index)
    for field_name, column in columns.items():
        result = codes.map(chunk[column], kind)
        unmapped.add(label, column, chunk[column], result, values, chunk[LINE])
        mapped[field_name] = result["iso3"]
        ok &= result["status"] == "ok"
        unknown |= result["status"] == UNKNOWN
    return mapped, ok, unknown


def check_unknown_share(
    label: str,
    unknown_rows: int,
    total_rows: int,
    tolerance: float,
    unmapped: Unmapped,
    problems: Problems,
) -> None:
    """Record unknown codes as problems when their share of rows exceeds ``tolerance``."""
    if total_rows == 0 or unknown_rows / total_rows <= tolerance:
        return
    share = unknown_rows / total_rows
    reason = (
        f"is not a country code critmin knows ({unknown_rows:,} of {total_rows:,} rows, "
        f"{share:.2%}, have unknown codes; the tolerance is {tolerance:.2%}). Fix the code, "
        "add it to critmin/loader/data/country_aliases.csv, or allow such rows to be left out "
        "(and listed) with `critmin load trades --unmapped-tolerance SHARE` "
        "(read_trades(unmapped_tolerance=SHARE) in Python)"
    )
    for line, column, value in unmapped.examples.get(label, []):
        problems.add(label, line, column, value, reason)


def parse_hs(
    values: pd.Series,
    lines: pd.Series,
    *,
    digits: int | None,
    label: str,
    column: str,
    problems: Problems,
) -> pd.Series:
    """Strip HS codes, pad numeric ones to ``digits`` and record codes that are not digits."""
    hs = values.str.strip()
    if digits:
        short = hs.str.fullmatch(r"\d+") & (hs.str.len() < digits)
        hs = hs.where(~short, hs.str.zfill(digits))
    bad = ~hs.str.fullmatch(r"\d{2,10}")
    problems.add_rows(label, lines[bad], column, values[bad], "is not an HS code (2 to 10 digits)")
    return hs


def hs_mask(hs: pd.Series, prefixes: tuple[str, ...] | None) -> pd.Series:
    """Rows whose HS code starts with one of ``prefixes`` (all rows when None)."""
    if prefixes is None:
        return pd.Series(True, index=hs.index)
    return hs.str.startswith(prefixes)


def read_flow_file(
    source: Source,
    header: Header,
    layout: FlowLayout,
    *,
    codes: CountryCodes,
    unmapped: Unmapped,
    problems: Problems,
    tolerance: float,
    hs_prefixes: tuple[str, ...] | None,
) -> pd.DataFrame | None:
    """Read one file of a tabular format into the intermediate frame (None if unusable)."""
    label = source.label
    cols = find_columns(header.columns, layout.columns, label=label, problems=problems)
    if cols is None:
        return None
    decoding = check_encoding(source, ("utf-8-sig",))
    parts: list[pd.DataFrame] = []
    total = unknown_rows = 0
    for chunk in read_table(source, header, decoding):
        chunk = drop_blank_rows(chunk, list(cols.values()))
        total += len(chunk)
        hs = parse_hs(
            chunk[cols["hs"]],
            chunk[LINE],
            digits=layout.hs_digits,
            label=label,
            column=cols["hs"],
            problems=problems,
        )
        keep = hs_mask(hs, hs_prefixes)
        chunk, hs = chunk.loc[keep], hs[keep]
        part, unknown = _normalise(
            chunk, hs, cols, layout, source, codes=codes, unmapped=unmapped, problems=problems
        )
        unknown_rows += unknown
        parts.append(part)
    if total == 0:
        problems.add(label, None, None, None, "has a header but no data rows")
        return None
    check_unknown_share(label, unknown_rows, total, tolerance, unmapped, problems)
    frame = pd.concat(parts, ignore_index=True)
    return check_flows(frame, label=label, problems=problems)


def parse_year_and_value(
    chunk: pd.DataFrame,
    cols: Mapping[str, str],
    lines: pd.Series,
    *,
    label: str,
    problems: Problems,
    scale: float = 1.0,
) -> tuple[pd.Series, pd.Series]:
    """A chunk's year and trade-value columns, checked: what every flow format reads alike.

    ``scale`` converts the file's value unit to USD (1000 for BACI's thousand USD).
    """
    years = parse_years(
        chunk[cols["year"]], lines, label=label, column=cols["year"], problems=problems
    )
    value = parse_amounts(
        chunk[cols["value"]],
        lines,
        label=label,
        column=cols["value"],
        problems=problems,
        what="values",
        scale=scale,
        unit=Unit.USD,
    )
    return years, value


def _normalise(
    chunk: pd.DataFrame,
    hs: pd.Series,
    cols: Mapping[str, str],
    layout: FlowLayout,
    source: Source,
    *,
    codes: CountryCodes,
    unmapped: Unmapped,
    problems: Problems,
) -> tuple[pd.DataFrame, int]:
    label, lines = source.label, chunk[LINE]
    years, value = parse_year_and_value(
        chunk, cols, lines, label=label, problems=problems, scale=layout.value_scale
    )
    if layout.value_scale != 1.0:
        # BACI's thousand USD have three decimals: rounding removes float noise such as
        # 142296.512 * 1000 = 142296512.00000001.
        value = value.round(6)
    if "tonnes" in cols:
        tonnes = parse_amounts(
            chunk[cols["tonnes"]], lines, label=label, column=cols["tonnes"], problems=problems
        )
    else:
        tonnes = pd.Series(np.nan, index=chunk.index)
    partners, ok, unknown = resolve_partners(
        chunk,
        {"exporter": cols["exporter"], "importer": cols["importer"]},
        layout.code_kind,
        codes=codes,
        values=value,
        label=label,
        unmapped=unmapped,
    )
    frame = pd.DataFrame(
        {
            "year": years,
            "exporter": partners["exporter"],
            "importer": partners["importer"],
            "hs": hs,
            "tonnes": tonnes,
            "value_usd": value,
            "source": layout.source(source),
            "_file": label,
            LINE: lines,
            "_rank": FORMAT_RANK[layout.format],
        }
    )
    return frame.loc[ok], int(unknown.sum())


def check_flows(frame: pd.DataFrame, *, label: str, problems: Problems) -> pd.DataFrame:
    """Record self-flows, flows without any number and repeated flows of one file as problems."""
    empty = frame["tonnes"].isna() & frame["value_usd"].isna()
    problems.add_rows(
        label,
        frame.loc[empty, LINE],
        None,
        [None] * int(empty.sum()),
        "has neither a quantity nor a value (or neither is usable): a flow needs at least one",
    )
    selfish = frame["exporter"] == frame["importer"]
    problems.add_rows(
        label,
        frame.loc[selfish, LINE],
        None,
        frame.loc[selfish, "exporter"],
        "is both exporter and importer: a country does not trade with itself (BACI has no "
        "self-flows), so the codes are wrong",
    )
    duplicated_keys(
        frame, FLOW_KEYS, label=label, problems=problems, what="flow (year, exporter, importer, hs)"
    )
    return frame.loc[~selfish]


def combine_files(frames: list[pd.DataFrame], problems: Problems) -> tuple[pd.DataFrame, list[str]]:
    """Concatenate the files' flows; a flow given by several files is kept once.

    The files must agree on it up to rounding (1 USD, 0.5 t): then the flow of the best-ranked
    format (:data:`FORMAT_RANK`) is kept and the others are counted in the notes. Files that
    disagree are an error: load one source per year and HS code.
    """
    if not frames:
        return pd.DataFrame(columns=_INTERNAL), []
    flows = pd.concat(frames, ignore_index=True)
    # Repeats within one file were reported by check_flows: only compare across files here.
    flows = flows.drop_duplicates([*FLOW_KEYS, "_file"])
    flows = flows.sort_values(["_rank"], kind="stable").reset_index(drop=True)
    later = flows.duplicated(FLOW_KEYS, keep="first")
    if not later.any():
        return flows, []
    first = flows.groupby(FLOW_KEYS, sort=False)[["value_usd", "tonnes", "_file", LINE]]
    first = first.transform("first", skipna=False)
    dup, kept = flows.loc[later], first.loc[later]
    disagree = ~(
        _close(dup["value_usd"], kept["value_usd"], _VALUE_SLACK_USD)
        & _close(dup["tonnes"], kept["tonnes"], _TONNES_SLACK)
    )
    for idx in dup.index[disagree]:
        problems.add(
            dup.at[idx, "_file"],
            int(dup.at[idx, LINE]),
            None,
            f"{dup.at[idx, 'year']} {dup.at[idx, 'exporter']}->{dup.at[idx, 'importer']} "
            f"HS {dup.at[idx, 'hs']}",
            f"is also in {kept.at[idx, '_file']} row {int(kept.at[idx, LINE])} with other "
            f"numbers ({dup.at[idx, 'value_usd']:,.0f} vs {kept.at[idx, 'value_usd']:,.0f} USD, "
            f"{dup.at[idx, 'tonnes']} vs {kept.at[idx, 'tonnes']} t): load one source per year "
            "and HS code",
        )
    notes = [
        f"{n:,} flows of {dropped} are also in {winner}, which is kept"
        for (dropped, winner), n in pd.DataFrame({"dropped": dup["_file"], "winner": kept["_file"]})
        .value_counts(sort=False)
        .items()
    ]
    return flows.loc[~later], notes


def _close(a: pd.Series, b: pd.Series, slack: float) -> pd.Series:
    # Missing on either side is no disagreement: the kept flow's numbers stand.
    both = a.notna() & b.notna()
    tolerance = slack + _RELATIVE_SLACK * np.maximum(a.abs(), b.abs())
    return ~both | ((a - b).abs() <= tolerance)


def public_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """The public frame: :data:`FLOW_COLUMNS` with their documented dtypes, sorted."""
    out = flows.loc[:, list(FLOW_COLUMNS)].astype(
        {
            "year": "int64",
            "exporter": "str",
            "importer": "str",
            "hs": "str",
            "tonnes": "float64",
            "value_usd": "float64",
            "source": "str",
        }
    )
    return out.sort_values(["year", "hs", "exporter", "importer"]).reset_index(drop=True)
