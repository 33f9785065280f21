"""Reading a commodity group's yearly networks out of the graph for the simulator.

A group's network is the sum of its HS codes' TRADES per exporter and importer. Quantities are
tonnes where the data has them, USD where it has only values, never a mix of both (model.md):

* ``measure="tonnes"``: every year must have quantities for at least ``MIN_TONNES_COVERAGE`` of
  its trade value; the few flows without one get tonnes imputed from their value at the
  code-year's unit price (sum of tonnes / sum of value over flows that report both);
* ``measure="metal"``: tonnes of contained metal (``metal_t`` of TRADES, computed at load from
  the metal-content factors), with the same coverage rule as tonnes; a flow without tonnes gets
  its contained metal imputed from its value at the code-year-form's metal per USD. Production
  (USGS and OWID report contained metal) is added to these networks;
* ``measure="usd"``: trade values in USD for every year; production (tonnes) is then left out;
* ``measure="auto"``: tonnes when every requested year qualifies, else USD for all of them, so
  one sweep's years stay comparable.

Production is contained metal, so it only ever combines with contained-metal trade. A gross
``tonnes`` panel takes production only when every HS code of the group *is* the metal (its
metal-content factors are all 1, e.g. unwrought nickel 750210, natural graphite as USGS reports
it); otherwise its production is 0 and :attr:`Panel.notes` says so.

A negative apparent consumption ``D_i = P_i + I_i - E_i < 0`` is a data inconsistency: it is
listed with the flows that cause it by :func:`negative_consumption` (and
:meth:`Panel.inconsistencies`), never corrected silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from critmin.errors import CritminError
from critmin.loader.commodities import CommodityGroup
from critmin.loader.metal import BOUNDS, metal_content
from critmin.store.graph import GraphStore
from critmin.units import Measure

MIN_TONNES_COVERAGE = 0.95

GROUP_FLOWS = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
WHERE t.year IN $years AND any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
RETURN t.year AS year, e.iso3 AS exporter, i.iso3 AS importer, t.hs AS hs,
       t.tonnes AS tonnes, t.value_usd AS value_usd, t.metal_t AS metal_t,
       t.metal_form AS metal_form, t.metal_version AS metal_version
"""

GROUP_PRODUCTION = """
MATCH (c:Country)-[p:PRODUCED]->(:Commodity {id: $commodity})
WHERE p.year IN $years AND p.tonnes IS NOT NULL
RETURN p.year AS year, c.iso3 AS country, p.tonnes AS quantity
"""

AVAILABLE_YEARS = """
MATCH ()-[t:TRADES]->()
WHERE any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
RETURN DISTINCT t.year AS year ORDER BY year
"""

NAMES = "MATCH (c:Country) RETURN c.iso3 AS iso3, c.name AS name"

PANEL = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
WHERE $first <= t.year <= $last AND any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
UNWIND [e.iso3, i.iso3] AS country
RETURN DISTINCT country ORDER BY country
"""

SOURCES = """
MATCH ()-[t:TRADES]->()
WHERE any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
RETURN 'TRADES' AS relationship, t.source AS source, min(t.year) AS first_year,
       max(t.year) AS last_year, count(*) AS rows
UNION ALL
MATCH (:Country)-[p:PRODUCED]->(:Commodity {id: $production})
RETURN 'PRODUCED' AS relationship, p.source AS source, min(p.year) AS first_year,
       max(p.year) AS last_year, count(*) AS rows
"""

TRADE_COVERAGE = """
MATCH (:Country)-[t:TRADES]->(:Country)
WHERE $first <= t.year <= $last AND any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
RETURN t.year AS year, coalesce(t.source, 'not recorded') AS source, count(*) AS flows,
       count(t.tonnes) AS with_tonnes, sum(coalesce(t.value_usd, 0.0)) AS value_usd
ORDER BY year, source
"""

TRADE_COUNTS = """
MATCH (e:Country)-[t:TRADES]->(:Country)
RETURN t.hs AS hs, t.year AS year, count(*) AS flows, count(t.tonnes) AS with_tonnes
ORDER BY hs, year
"""


class NoTradeData(CritminError, LookupError):
    """The graph holds no flows for the requested commodity group and years."""


class StaleMetal(CritminError, LookupError):
    """Stored contained metal was computed with another factor table (or none): reload."""


@dataclass
class Panel:
    """A commodity group's yearly networks in one unit, ready for the simulator."""

    group: CommodityGroup
    unit: str  # "t", "t_metal" or "USD"
    flows: pd.DataFrame  # year, exporter, importer, quantity
    production: pd.DataFrame  # year, country, quantity (empty for USD panels)
    imputed_share: dict[int, float] = field(default_factory=dict)
    #: What the reader decided that changes the numbers (production left out, the factors used).
    notes: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.flows["year"].unique())

    @property
    def countries(self) -> list[str]:
        """Every country that trades in any year of the panel (the study's N)."""
        return sorted(set(self.flows["exporter"]) | set(self.flows["importer"]))

    def year_flows(self, year: int) -> pd.DataFrame:
        return self.flows.loc[self.flows["year"] == year, ["exporter", "importer", "quantity"]]

    def year_production(self, year: int) -> pd.DataFrame:
        rows = self.production.loc[self.production["year"] == year, ["country", "quantity"]]
        return rows.reset_index(drop=True)

    def inconsistencies(self, top: int = 3) -> pd.DataFrame:
        """Country-years with a negative apparent consumption (:func:`negative_consumption`)."""
        return negative_consumption(self.flows, self.production, top)

    def data_version(self, year: int) -> str:
        """A digest of the year's network and production: what a scenario was computed from."""
        digest = hashlib.sha256(self.unit.encode())
        for frame in (self.year_flows(year), self.year_production(year)):
            ordered = frame.sort_values(list(frame.columns)).to_csv(index=False)
            digest.update(ordered.encode())
        return digest.hexdigest()[:16]


def available_years(store: GraphStore, group: CommodityGroup) -> list[int]:
    frame = store.query(AVAILABLE_YEARS, prefixes=list(group.hs_codes))
    return [int(y) for y in frame["year"]] if not frame.empty else []


def tonnes_coverage(flows: pd.DataFrame) -> pd.Series:
    """Per year, the share of trade value carried by flows that report tonnes."""
    value = flows["value_usd"].fillna(0.0)
    covered = value.where(flows["tonnes"].notna(), 0.0)
    totals = pd.DataFrame({"year": flows["year"], "covered": covered, "value": value})
    by_year = totals.groupby("year")[["covered", "value"]].sum()
    share = by_year["covered"] / by_year["value"].where(by_year["value"] > 0)
    return share.fillna(1.0)


def _impute_tonnes(flows: pd.DataFrame) -> pd.Series:
    both = flows.dropna(subset=["tonnes", "value_usd"])
    both = both[both["value_usd"] > 0]
    price = both.groupby(["year", "hs"])[["tonnes", "value_usd"]].sum()
    ratio = (price["tonnes"] / price["value_usd"]).rename("t_per_usd")
    keyed = flows.join(ratio, on=["year", "hs"])
    return flows["tonnes"].fillna(keyed["value_usd"] * keyed["t_per_usd"])


def read_trade_rows(store: GraphStore, group: CommodityGroup, years: list[int]) -> pd.DataFrame:
    """The group's TRADES rows in ``years`` (``year, exporter, importer, hs, tonnes,
    value_usd``), in one query: what :func:`read_panel` builds its networks from."""
    return _trade_rows(read_code_rows(store, years, list(group.hs_codes)), group, years)


def read_code_rows(store: GraphStore, years: list[int], codes: list[str]) -> pd.DataFrame:
    """The TRADES rows of these HS codes (or prefixes) in ``years``, as :func:`read_trade_rows`
    gives them; empty (with its columns) when none is loaded."""
    return store.query(GROUP_FLOWS, years=years, prefixes=codes).astype(_ROW_TYPES)


_ROW_TYPES = {"year": "int64", "tonnes": "float64", "value_usd": "float64"}


def _trade_rows(flows: pd.DataFrame, group: CommodityGroup, years: list[int]) -> pd.DataFrame:
    if flows.empty:
        raise NoTradeData(
            f"no TRADES for {group.id} (HS {', '.join(group.hs_codes)}) in "
            f"{min(years)}-{max(years)}: load flows first with `critmin load trades`"
        )
    return flows.astype(_ROW_TYPES)


def tonnes_years(rows: pd.DataFrame) -> list[int]:
    """The years of ``rows`` (:func:`read_trade_rows`) whose flows report tonnes for at least
    :data:`MIN_TONNES_COVERAGE` of their trade value: the years a tonnes panel may hold."""
    coverage = tonnes_coverage(rows)
    return sorted(int(y) for y, share in coverage.items() if share >= MIN_TONNES_COVERAGE)


#: What a tonnes panel does with a flow that reports a value but no tonnes.
MISSING_TONNES = ("impute", "drop")


def read_panel(
    store: GraphStore,
    group: CommodityGroup,
    years: list[int],
    measure: str = "auto",
    missing: str = "impute",
    rows: pd.DataFrame | None = None,
    content: str = "factor",
) -> Panel:
    """Pull the group's flows (and production) for ``years`` in one query each.

    ``measure``: a :class:`~critmin.units.Measure` (``auto``, ``tonnes``, ``usd``, ``metal``).
    ``missing``: in tonnes or metal, flows that report a value but no tonnes get their quantity
    imputed at the code-year's unit price (``impute``, the default) or are left out (``drop``).
    ``rows``: the group's TRADES rows already pulled by :func:`read_trade_rows` (for these years
    or more), so that several panels come from one pull; the flows query is then not run.
    ``content``: with ``measure="metal"``, the metal-content factor used: ``factor`` (the
    central value stored on TRADES), ``low`` or ``high`` (the ends of its range, computed from
    the stored tonnes: a sensitivity).
    """
    try:
        chosen = Measure(str(measure))
    except ValueError:
        raise ValueError(
            f"measure must be one of {', '.join(m.value for m in Measure)}, not {measure!r}"
        ) from None
    if missing not in MISSING_TONNES:
        raise ValueError(f"missing must be one of {MISSING_TONNES}, not {missing!r}")
    if content not in BOUNDS:
        raise ValueError(f"content must be one of {BOUNDS}, not {content!r}")
    if rows is None:
        flows = read_trade_rows(store, group, years)
    else:
        flows = _trade_rows(rows.loc[rows["year"].isin(years)].copy(), group, years)
    coverage = tonnes_coverage(flows)
    tonnes_ok = bool((coverage >= MIN_TONNES_COVERAGE).all())
    if chosen in (Measure.TONNES, Measure.METAL) and not tonnes_ok:
        poor = ", ".join(f"{y} ({s:.0%})" for y, s in coverage.items() if s < MIN_TONNES_COVERAGE)
        raise NoTradeData(
            f"{group.id}: too few flows report tonnes in {poor}; need "
            f"{MIN_TONNES_COVERAGE:.0%} of trade value for --measure {chosen.value}. Use "
            "--measure usd or auto."
        )
    if chosen is Measure.AUTO:
        chosen = Measure.TONNES if tonnes_ok else Measure.USD
    unit = chosen.unit
    assert unit is not None
    notes: list[str] = []
    imputed_share: dict[int, float] = {}
    if chosen is Measure.METAL:
        flows = metal_rows(flows, group, content)
        notes.append(_content_note(content))
        flows, imputed_share = quantities(flows, "metal_t", ["year", "hs", "metal_form"], missing)
    elif chosen is Measure.TONNES:
        flows, imputed_share = quantities(flows, "tonnes", ["year", "hs"], missing)
    else:
        flows["quantity"] = flows["value_usd"]
        flows = flows.dropna(subset=["quantity"])
    summed = pair_totals(flows)
    production = _empty_production()
    if chosen is Measure.METAL or (chosen is Measure.TONNES and _is_metal(group)):
        production = read_production(store, group.production_commodity, years)
    elif chosen is Measure.TONNES and group.production_commodity:
        notes.append(
            f"production left out (P = 0): {group.production_commodity} production is contained "
            f"metal and the gross tonnes of HS {', '.join(group.hs_codes)} are not; use "
            "--measure metal to combine them"
        )
    return Panel(
        group=group,
        unit=unit.value,
        flows=summed,
        production=production,
        imputed_share=imputed_share,
        notes=notes,
    )


def _empty_production() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": pd.Series(dtype="int64"),
            "country": pd.Series(dtype="str"),
            "quantity": pd.Series(dtype="float64"),
        }
    )


def read_production(store: GraphStore, commodity: str | None, years: list[int]) -> pd.DataFrame:
    """``year, country, quantity``: the PRODUCED series ``commodity`` in ``years`` (contained
    metal; empty when ``commodity`` is None or has no rows)."""
    if not commodity:
        return _empty_production()
    frame = store.query(GROUP_PRODUCTION, commodity=commodity, years=years)
    if frame.empty:
        return _empty_production()
    return frame.astype({"year": "int64", "quantity": "float64"})


def _is_metal(group: CommodityGroup) -> bool:
    table = metal_content()
    return bool(group.production_commodity) and all(table.is_metal(c) for c in group.hs_codes)


def _content_note(content: str) -> str:
    table = metal_content()
    which = "central" if content == "factor" else content
    return f"contained metal at the {which} metal-content factors (table {table.version})"


def metal_rows(flows: pd.DataFrame, group: CommodityGroup, content: str = "factor") -> pd.DataFrame:
    """``flows`` (:func:`read_trade_rows`) with ``metal_t`` and ``metal_form`` at ``content``
    (``factor``: as stored at load, checked against the bundled table's version; ``low`` or
    ``high``: recomputed from the stored tonnes).

    Raises :class:`StaleMetal` when stored rows were loaded with another factor table, or
    before contained metal existed, and :class:`NoTradeData` for codes with no factor.
    """
    table = metal_content()
    stored = flows.get("metal_version", pd.Series(None, index=flows.index, dtype="object"))
    if content != "factor" or "metal_t" not in flows:
        out = table.annotate(
            flows.drop(columns=["metal_t", "metal_form"], errors="ignore"), content
        )
        flows = flows.assign(metal_t=out["metal_t"], metal_form=out["metal_form"])
    else:
        stale = stored.isna() | (stored != table.version)
        if stale.any():
            codes = sorted({str(c) for c in flows.loc[stale, "hs"]})
            when = "before contained metal" if stored[stale].isna().all() else "with another table"
            raise StaleMetal(
                f"{group.id}: {int(stale.sum()):,} TRADES of HS {', '.join(codes[:5])} were "
                f"loaded {when} "
                f"(now {table.version}): load the same trade files again with `critmin load "
                "trades` to store their contained metal"
            )
    unknown = flows["metal_form"].isna()
    if unknown.any():
        codes = sorted({str(c) for c in flows.loc[unknown, "hs"]})
        raise NoTradeData(
            f"{group.id}: HS {', '.join(codes)} has no metal-content factor: add a row to "
            "critmin/loader/data/metal_content.csv"
        )
    return flows.astype({"metal_t": "float64"})


def quantities(
    flows: pd.DataFrame, column: str, keys: list[str], missing: str
) -> tuple[pd.DataFrame, dict[int, float]]:
    """``quantity`` from ``column``; where missing, imputed at the ``keys`` group's quantity per
    USD (``impute``) or left out (``drop``). Returns the flows and each year's imputed share."""
    if missing == "impute":
        imputed = flows[column].isna()
        flows["quantity"] = _impute(flows, column, keys)
    else:
        imputed = pd.Series(False, index=flows.index)
        flows["quantity"] = flows[column]
    share = {int(y): float(s) for y, s in imputed.groupby(flows["year"]).mean().items()}
    return flows.dropna(subset=["quantity"]), share


def _impute(flows: pd.DataFrame, column: str, keys: list[str]) -> pd.Series:
    both = flows.dropna(subset=[column, "value_usd"])
    both = both[both["value_usd"] > 0]
    price = both.groupby(keys, dropna=False)[[column, "value_usd"]].sum()
    ratio = (price[column] / price["value_usd"]).rename("_per_usd")
    keyed = flows.join(ratio, on=keys)
    return flows[column].fillna(keyed["value_usd"] * keyed["_per_usd"])


def pair_totals(flows: pd.DataFrame) -> pd.DataFrame:
    summed = flows.groupby(["year", "exporter", "importer"], as_index=False)["quantity"].sum()
    summed = summed[(summed["quantity"] > 0) & (summed["exporter"] != summed["importer"])]
    return summed.reset_index(drop=True)


def negative_consumption(
    flows: pd.DataFrame, production: pd.DataFrame, top: int = 3
) -> pd.DataFrame:
    """Country-years whose apparent consumption ``D = P + I - E`` is negative, with the flows
    that cause it: ``country, year, P, I, E, D, largest_exports`` (the ``top`` export flows,
    ``"CHN 1,234; ZAF 56"``), most negative first.

    ``flows``: ``year, exporter, importer, quantity``; ``production``: ``year, country,
    quantity`` (one unit, as in a :class:`Panel`).

    >>> flows = pd.DataFrame({"year": [2024] * 3, "exporter": ["ZMB", "ZMB", "COD"],
    ...                       "importer": ["CHN", "ZAF", "ZMB"], "quantity": [80.0, 30.0, 60.0]})
    >>> prod = pd.DataFrame({"year": [2024, 2024], "country": ["ZMB", "COD"],
    ...                      "quantity": [10.0, 100.0]})
    >>> negative_consumption(flows, prod).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'country': 'ZMB', 'year': 2024, 'P': 10.0, 'I': 60.0, 'E': 110.0, 'D': -40.0,
      'largest_exports': 'CHN 80; ZAF 30'}]
    """
    exports = flows.groupby(["year", "exporter"])["quantity"].sum().rename("E")
    imports = flows.groupby(["year", "importer"])["quantity"].sum().rename("I")
    made = production.groupby(["year", "country"])["quantity"].sum().rename("P")
    for series in (exports, imports, made):
        series.index = series.index.set_names(["year", "country"])
    table = pd.concat([made, imports, exports], axis=1).fillna(0.0).reset_index()
    table["D"] = table["P"] + table["I"] - table["E"]
    # Below rounding of the summed flows is no inconsistency.
    tiny = 1e-9 * table[["P", "I", "E"]].max(axis=1)
    table = table[table["D"] < -tiny].sort_values("D").reset_index(drop=True)
    largest = []
    for row in table.itertuples(index=False):
        own = flows[(flows["year"] == row.year) & (flows["exporter"] == row.country)]
        biggest = own.nlargest(top, "quantity")
        largest.append(
            "; ".join(
                f"{m} {q:,.0f}"
                for m, q in zip(biggest["importer"], biggest["quantity"], strict=True)
            )
        )
    table["largest_exports"] = largest
    table = table.astype({"year": "int64", "country": "str"})
    return table[["country", "year", "P", "I", "E", "D", "largest_exports"]]


def data_sources(store: GraphStore, group: CommodityGroup) -> pd.DataFrame:
    """Which loaded data sources fed the group's networks and production, with their years."""
    return store.query(
        SOURCES, prefixes=list(group.hs_codes), production=group.production_commodity or ""
    )


def country_names(store: GraphStore) -> dict[str, str]:
    """Country names by ISO3 code, as loaded."""
    frame = store.query(NAMES)
    return {
        str(code): str(name)
        for code, name in zip(frame.get("iso3", []), frame.get("name", []), strict=True)
        if name is not None
    }


def panel_countries(store: GraphStore, group: CommodityGroup, first: int, last: int) -> list[str]:
    """Every country trading the group's codes in ``first``-``last`` (the study's N countries)."""
    frame = store.query(PANEL, prefixes=list(group.hs_codes), first=int(first), last=int(last))
    return [str(code) for code in frame.get("country", [])]


def trade_counts(store: GraphStore) -> pd.DataFrame:
    """Flows per HS code and year, and how many of them carry tonnes."""
    return store.query(TRADE_COUNTS)


def trade_coverage(store: GraphStore, group: CommodityGroup, first: int, last: int) -> pd.DataFrame:
    """Per year and data source of the group's flows: ``flows``, ``with_tonnes`` (flows that
    carry tonnes) and ``value_usd``; ``source`` as the loader recorded it."""
    frame = store.query(
        TRADE_COVERAGE, prefixes=list(group.hs_codes), first=int(first), last=int(last)
    )
    if frame.empty:
        return pd.DataFrame(columns=["year", "source", "flows", "with_tonnes", "value_usd"])
    return frame
