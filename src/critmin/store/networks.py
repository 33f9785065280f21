"""Reading a commodity group's yearly networks out of the graph for the simulator.

A group's network is the sum of its HS codes' TRADES per exporter and importer. Quantities are
tonnes where the data has them, USD where it has only values, never a mix of both (model.md):

* ``measure="tonnes"``: every year must have quantities for at least ``MIN_TONNES_COVERAGE`` of
  its trade value; the few flows without one get tonnes imputed from their value at the
  code-year's unit price (sum of tonnes / sum of value over flows that report both);
* ``measure="usd"``: trade values in USD for every year; production (tonnes) is then left out;
* ``measure="auto"``: tonnes when every requested year qualifies, else USD for all of them, so
  one sweep's years stay comparable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from critmin.errors import CritminError
from critmin.loader.commodities import CommodityGroup
from critmin.store.graph import GraphStore
from critmin.units import Unit

MIN_TONNES_COVERAGE = 0.95

GROUP_FLOWS = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
WHERE t.year IN $years AND any(prefix IN $prefixes WHERE t.hs STARTS WITH prefix)
RETURN t.year AS year, e.iso3 AS exporter, i.iso3 AS importer, t.hs AS hs,
       t.tonnes AS tonnes, t.value_usd AS value_usd
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


@dataclass
class Panel:
    """A commodity group's yearly networks in one unit, ready for the simulator."""

    group: CommodityGroup
    unit: str  # "t" or "USD"
    flows: pd.DataFrame  # year, exporter, importer, quantity
    production: pd.DataFrame  # year, country, quantity (empty for USD panels)
    imputed_share: dict[int, float] = field(default_factory=dict)

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


def _tonnes_coverage(flows: pd.DataFrame) -> pd.Series:
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
    flows = store.query(GROUP_FLOWS, years=years, prefixes=list(group.hs_codes))
    return _trade_rows(flows, group, years)


def _trade_rows(flows: pd.DataFrame, group: CommodityGroup, years: list[int]) -> pd.DataFrame:
    if flows.empty:
        raise NoTradeData(
            f"no TRADES for {group.id} (HS {', '.join(group.hs_codes)}) in "
            f"{min(years)}-{max(years)}: load flows first with `critmin load trades`"
        )
    return flows.astype({"year": "int64", "tonnes": "float64", "value_usd": "float64"})


def tonnes_years(rows: pd.DataFrame) -> list[int]:
    """The years of ``rows`` (:func:`read_trade_rows`) whose flows report tonnes for at least
    :data:`MIN_TONNES_COVERAGE` of their trade value: the years a tonnes panel may hold."""
    coverage = _tonnes_coverage(rows)
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
) -> Panel:
    """Pull the group's flows (and production) for ``years`` in one query each.

    ``missing``: in tonnes, flows that report a value but no tonnes get tonnes imputed at the
    code-year's unit price (``impute``, the default) or are left out (``drop``). ``rows``: the
    group's TRADES rows already pulled by :func:`read_trade_rows` (for these years or more),
    so that several panels come from one pull; the flows query is then not run.
    """
    if measure not in ("auto", "tonnes", "usd"):
        raise ValueError(f"measure must be auto, tonnes or usd, not {measure!r}")
    if missing not in MISSING_TONNES:
        raise ValueError(f"missing must be one of {MISSING_TONNES}, not {missing!r}")
    if rows is None:
        flows = read_trade_rows(store, group, years)
    else:
        flows = _trade_rows(rows.loc[rows["year"].isin(years)].copy(), group, years)
    coverage = _tonnes_coverage(flows)
    tonnes_ok = bool((coverage >= MIN_TONNES_COVERAGE).all())
    if measure == "tonnes" and not tonnes_ok:
        poor = ", ".join(f"{y} ({s:.0%})" for y, s in coverage.items() if s < MIN_TONNES_COVERAGE)
        raise NoTradeData(
            f"{group.id}: too few flows report tonnes in {poor}; need "
            f"{MIN_TONNES_COVERAGE:.0%} of trade value. Use --measure usd or auto."
        )
    use_tonnes = measure == "tonnes" or (measure == "auto" and tonnes_ok)
    imputed_share: dict[int, float] = {}
    if use_tonnes:
        imputed = flows["tonnes"].isna() & (missing == "impute")  # dropped ones: none imputed
        flows["quantity"] = _impute_tonnes(flows) if missing == "impute" else flows["tonnes"]
        imputed_share = {int(y): float(s) for y, s in imputed.groupby(flows["year"]).mean().items()}
        flows = flows.dropna(subset=["quantity"])
    else:
        flows["quantity"] = flows["value_usd"]
        flows = flows.dropna(subset=["quantity"])
    summed = flows.groupby(["year", "exporter", "importer"], as_index=False)["quantity"].sum()
    summed = summed[(summed["quantity"] > 0) & (summed["exporter"] != summed["importer"])]
    production = pd.DataFrame(columns=["year", "country", "quantity"])
    if use_tonnes and group.production_commodity:
        production = store.query(
            GROUP_PRODUCTION, commodity=group.production_commodity, years=years
        )
        if production.empty:
            production = pd.DataFrame(columns=["year", "country", "quantity"])
    return Panel(
        group=group,
        unit=Unit.TONNES.value if use_tonnes else Unit.USD.value,
        flows=summed.reset_index(drop=True),
        production=production.astype({"year": "int64", "quantity": "float64"}),
        imputed_share=imputed_share,
    )


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
