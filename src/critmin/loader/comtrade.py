"""UN Comtrade exports (API and bulk-download layout), reconciled into one flow per direction.

Comtrade rows are *reports*: a reporter says what it imported from (``flowCode`` M) or exported
to (X) a partner. Most flows are reported twice, by the importer and (mirror) by the exporter.
For each (year, exporter, importer, cmdCode) this reader keeps one report, in this order:

1. the importer's import report (M, partner = exporter): customs records imports more
   carefully than exports, and it is the report BACI also trusts most;
2. the exporter's export report (X), when the importer did not report;
3. re-imports (RM), then re-exports (RX), only when neither M nor X exists: otherwise they
   would count goods already in an M or X report, or goods that only passed through.

Values are kept as the kept report states them (CIF for imports, FOB for exports) and the
``source`` says which side it is: ``"UN Comtrade (importer)"``, ``"UN Comtrade (exporter)"``,
``"UN Comtrade (importer, re-import)"``, ``"UN Comtrade (exporter, re-export)"``. When the kept
report has no weight but the mirror report has one, the mirror's tonnes are used and the source
says so (``"UN Comtrade (importer; tonnes from exporter)"``).

Other rules: partner "World" (code 0) and regional residuals ("Areas, nes") are dropped into
the unmapped report; code 490 "Other Asia, nes" is Taiwan; weights are ``netWgt`` in kg, or
``qty`` when ``qtyUnitCode`` is 8 (kg), divided by 1000. Comtrade writes 0 kg when the weight is
not reported, so a zero weight counts as missing. Rows that break a total down (``motCode`` not
0, ``customsCode`` not C00, ``partner2Code`` not 0) and flow codes other than M, X, RM, RX
(domestic exports, processing trade...) are set aside and counted in the notes. A reporter
naming itself as partner (re-imports of its own goods) is dropped with a note: the graph has no
self-loops. Data must be annual (``freqCode`` A).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from critmin.loader.countries import CountryCodes
from critmin.loader.errors import Problems
from critmin.loader.files import (
    LINE,
    Header,
    Source,
    check_encoding,
    drop_blank_rows,
    read_table,
)
from critmin.loader.flow_pipeline import (
    FLOW_KEYS,
    FORMAT_RANK,
    Unmapped,
    check_unknown_share,
    hs_mask,
    parse_hs,
    parse_year_and_value,
    resolve_partners,
)
from critmin.loader.validate import duplicated_keys, find_columns, parse_amounts

COLUMNS = {
    "year": ("refYear", "period"),
    "reporter": ("reporterCode",),
    "partner": ("partnerCode",),
    "flow": ("flowCode",),
    "hs": ("cmdCode",),
    "value": ("primaryValue",),
}
# Optional columns: weights, and those that say whether a row is a total or a breakdown.
OPTIONAL = {
    "netwgt": ("netWgt",),
    "qty": ("qty",),
    "unit": ("qtyUnitCode",),
    "freq": ("freqCode",),
    "mot": ("motCode",),
    "customs": ("customsCode",),
    "partner2": ("partner2Code",),
}
TOTAL_CODES = {"mot": "0", "customs": "C00", "partner2": "0"}

#: Comtrade's quantity unit code for kilograms.
KG_UNIT = "8"

#: Preference among the reports of one flow, best first.
RANK = {"M": 0, "X": 1, "RM": 2, "RX": 3}
SIDE = {"M": "importer", "X": "exporter", "RM": "importer, re-import", "RX": "exporter, re-export"}
_IMPORTS = ["M", "RM"]
REPORT_KEYS = [*FLOW_KEYS, "flow"]


def read_reports(
    source: Source,
    header: Header,
    *,
    codes: CountryCodes,
    unmapped: Unmapped,
    problems: Problems,
    tolerance: float,
    hs_prefixes: tuple[str, ...] | None,
    notes: list[str],
) -> pd.DataFrame | None:
    """Read one Comtrade export into reports oriented exporter -> importer (not reconciled).

    Returns
    -------
    DataFrame or None
        Columns ``year, exporter, importer, hs, tonnes, value_usd, flow, _file`` and the line
        number; None when the file cannot be used (problems recorded).
    """
    label = source.label
    cols = find_columns(header.columns, COLUMNS, label=label, problems=problems)
    if cols is None:
        return None
    optional: dict[str, str] = {}
    for field, names in OPTIONAL.items():
        found = find_columns(header.columns, {field: names}, label=label, problems=Problems())
        if found:
            optional.update(found)
    decoding = check_encoding(source, ("utf-8-sig",))
    parts: list[pd.DataFrame] = []
    set_aside: dict[str, int] = {}
    total = unknown_rows = 0
    for chunk in read_table(source, header, decoding):
        chunk = drop_blank_rows(chunk)
        total += len(chunk)
        chunk = _totals_only(
            chunk, cols, optional, label=label, problems=problems, set_aside=set_aside
        )
        part, unknown = _reports(
            chunk,
            cols,
            optional,
            label=label,
            codes=codes,
            unmapped=unmapped,
            problems=problems,
            hs_prefixes=hs_prefixes,
            set_aside=set_aside,
        )
        unknown_rows += unknown
        parts.append(part)
    if total == 0:
        problems.add(label, None, None, None, "has a header but no data rows")
        return None
    check_unknown_share(label, unknown_rows, total, tolerance, unmapped, problems)
    notes += [f"{label}: set aside {n:,} {what}" for what, n in set_aside.items()]
    reports = pd.concat(parts, ignore_index=True)
    duplicated_keys(
        reports,
        REPORT_KEYS,
        label=label,
        problems=problems,
        what="report (year, exporter, importer, cmdCode, flowCode)",
    )
    return reports


def _totals_only(
    chunk: pd.DataFrame,
    cols: dict[str, str],
    optional: dict[str, str],
    *,
    label: str,
    problems: Problems,
    set_aside: dict[str, int],
) -> pd.DataFrame:
    if "freq" in optional:
        freq = chunk[optional["freq"]].str.strip().str.upper()
        bad = ~freq.isin(["A", ""])
        problems.add_rows(
            label,
            chunk.loc[bad, LINE],
            optional["freq"],
            freq[bad],
            "is not annual data (freqCode must be A): download annual data",
        )
    keep = pd.Series(True, index=chunk.index)
    for field, total_code in TOTAL_CODES.items():
        if field in optional:
            cell = chunk[optional[field]].str.strip()
            breakdown = ~cell.isin([total_code, ""])
            _count(set_aside, f"rows breaking totals down by {optional[field]}", breakdown & keep)
            keep &= ~breakdown
    flow = chunk[cols["flow"]].str.strip().str.upper()
    for code in sorted(set(flow[keep]) - set(RANK)):
        _count(
            set_aside,
            f"rows of flowCode {code!r} (only M, X, RM, RX are used)",
            keep & (flow == code),
        )
    return chunk.loc[keep & flow.isin(list(RANK))]


def _count(counter: dict[str, int], what: str, mask: pd.Series) -> None:
    if mask.any():
        counter[what] = counter.get(what, 0) + int(mask.sum())


def _reports(
    chunk: pd.DataFrame,
    cols: dict[str, str],
    optional: dict[str, str],
    *,
    label: str,
    codes: CountryCodes,
    unmapped: Unmapped,
    problems: Problems,
    hs_prefixes: tuple[str, ...] | None,
    set_aside: dict[str, int],
) -> tuple[pd.DataFrame, int]:
    lines = chunk[LINE]
    raw_hs = chunk[cols["hs"]].str.strip()
    # Exports saved through a spreadsheet lose the leading zero of chapters 01-09.
    odd = raw_hs.str.fullmatch(r"\d+") & (raw_hs.str.len() % 2 == 1)
    hs = parse_hs(
        raw_hs.where(~odd, "0" + raw_hs),
        lines,
        digits=None,
        label=label,
        column=cols["hs"],
        problems=problems,
    )
    keep = hs_mask(hs, hs_prefixes)
    chunk, hs, lines = chunk.loc[keep], hs[keep], lines[keep]
    years, value = parse_year_and_value(chunk, cols, lines, label=label, problems=problems)
    tonnes = _tonnes(chunk, optional, lines, label=label, problems=problems)
    partners, ok, unknown = resolve_partners(
        chunk,
        {"reporter": cols["reporter"], "partner": cols["partner"]},
        "numeric",
        codes=codes,
        values=value,
        label=label,
        unmapped=unmapped,
    )
    flow = chunk[cols["flow"]].str.strip().str.upper()
    imports = flow.isin(_IMPORTS)
    frame = pd.DataFrame(
        {
            "year": years,
            "exporter": partners["partner"].where(imports, partners["reporter"]),
            "importer": partners["reporter"].where(imports, partners["partner"]),
            "hs": hs,
            "tonnes": tonnes,
            "value_usd": value,
            "flow": flow,
            "_file": label,
            LINE: lines,
        }
    )
    empty = ok & frame["tonnes"].isna() & frame["value_usd"].isna()
    problems.add_rows(
        label,
        lines[empty],
        None,
        [None] * int(empty.sum()),
        "has neither a weight nor a value (or neither is usable): a flow needs at least one",
    )
    selfish = ok & (frame["exporter"] == frame["importer"])
    _count(set_aside, "reports naming the reporter as its own partner", selfish)
    # A row whose year or HS code did not parse is a problem already reported; kept, its
    # missing key would reach the reconciliation of reports as <NA>.
    parsed = frame["year"].notna() & frame["hs"].notna()
    return frame.loc[ok & ~selfish & parsed], int(unknown.sum())


def _tonnes(
    chunk: pd.DataFrame,
    optional: dict[str, str],
    lines: pd.Series,
    *,
    label: str,
    problems: Problems,
) -> pd.Series:
    nothing = pd.Series(np.nan, index=chunk.index)
    net = nothing
    if "netwgt" in optional:
        net = parse_amounts(
            chunk[optional["netwgt"]],
            lines,
            label=label,
            column=optional["netwgt"],
            problems=problems,
            scale=1e-3,
        )
    qty = nothing
    if "qty" in optional and "unit" in optional:
        in_kg = chunk[optional["unit"]].str.strip().str.removesuffix(".0") == KG_UNIT
        qty = parse_amounts(
            chunk[optional["qty"]],
            lines,
            label=label,
            column=optional["qty"],
            problems=problems,
            scale=1e-3,
        ).where(in_kg)
    # Both columns are in kg, scaled to tonnes by parse_amounts.
    return net.where(net > 0, qty.where(qty > 0))


def reconcile(
    reports: list[pd.DataFrame], *, problems: Problems, notes: list[str]
) -> pd.DataFrame | None:
    """Keep one report per flow (see the module docstring) in the common flow frame."""
    if not reports:
        return None
    every = pd.concat(reports, ignore_index=True)
    every = _drop_repeated_downloads(every, problems=problems, notes=notes)
    every["_order"] = every["flow"].map(RANK)
    every = every.sort_values([*FLOW_KEYS, "_order"], kind="stable")
    kept = every.drop_duplicates(FLOW_KEYS, keep="first").copy()
    # Tonnes of the best report that has them, for kept reports without a weight.
    weighed = every.loc[every["tonnes"].notna()].drop_duplicates(FLOW_KEYS, keep="first")
    weighed = weighed.set_index(FLOW_KEYS)[["tonnes", "flow"]]
    fill = kept.join(weighed, on=FLOW_KEYS, suffixes=("", "_mirror"))
    borrow = fill["tonnes"].isna() & fill["tonnes_mirror"].notna()
    kept["tonnes"] = fill["tonnes"].where(~borrow, fill["tonnes_mirror"])
    side = kept["flow"].map(SIDE)
    lender = fill["flow_mirror"].map(SIDE).str.split(",").str[0]
    kept["source"] = np.where(
        borrow,
        "UN Comtrade (" + side + "; tonnes from " + lender.fillna("") + ")",
        "UN Comtrade (" + side + ")",
    )
    kept["_rank"] = FORMAT_RANK["comtrade"]
    counts = kept["flow"].value_counts()
    notes.append(
        "UN Comtrade: "
        + ", ".join(f"{counts[f]:,} flows from {SIDE[f]} reports" for f in RANK if f in counts)
        + f"; {len(every) - len(kept):,} mirror reports not used; "
        + f"{int(borrow.sum()):,} flows took tonnes from the mirror report"
    )
    return kept.drop(columns=["flow", "_order"])


def _drop_repeated_downloads(
    every: pd.DataFrame, *, problems: Problems, notes: list[str]
) -> pd.DataFrame:
    # Overlapping downloads (by reporter, then by partner) repeat reports across files: the same
    # numbers are harmless, different numbers for the same report are an error. Repeats within
    # one file were reported by read_reports.
    every = every.drop_duplicates([*REPORT_KEYS, "_file"]).reset_index(drop=True)
    later = every.duplicated(REPORT_KEYS, keep="first")
    if not later.any():
        return every
    first = every.groupby(REPORT_KEYS, sort=False)[["value_usd", "tonnes", "_file", LINE]]
    first = first.transform("first", skipna=False)
    same = (every["value_usd"].fillna(-1) == first["value_usd"].fillna(-1)) & (
        every["tonnes"].fillna(-1) == first["tonnes"].fillna(-1)
    )
    for idx in every.index[later & ~same]:
        problems.add(
            every.at[idx, "_file"],
            int(every.at[idx, LINE]),
            None,
            f"{every.at[idx, 'year']} {every.at[idx, 'exporter']}->{every.at[idx, 'importer']} "
            f"{every.at[idx, 'hs']} {every.at[idx, 'flow']}",
            f"is reported differently in {first.at[idx, '_file']} row "
            f"{int(first.at[idx, LINE])}: keep one download of each report",
        )
    notes.append(f"UN Comtrade: {int((later & same).sum()):,} reports repeated across files")
    return every.loc[~later]
