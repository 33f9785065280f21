"""Reading what the measures need from the graph: one year's network, yearly concentration.

Networks are built exactly as the simulator's sweeps build them (:func:`read_panel`: HS codes
summed per exporter and importer, tonnes or USD, never mixed), so a network measured here is the
one a scenario of the same commodity, year and unit ran on.
"""

from __future__ import annotations

import pandas as pd

from critmin.analysis.metrics.concentration import concentration_table
from critmin.loader.commodities import CommodityGroup
from critmin.simulator import TradeNetwork
from critmin.store.graph import GraphStore
from critmin.store.networks import (
    GROUP_PRODUCTION,
    NoTradeData,
    Panel,
    available_years,
    read_panel,
)
from critmin.units import Unit

__all__ = ["MEASURE_OF_UNIT", "year_network", "yearly_concentration"]

#: The ``read_panel`` measure that yields a network in a scenario's unit.
MEASURE_OF_UNIT = {unit.value: unit.measure for unit in Unit}


def year_network(
    store: GraphStore, group: CommodityGroup, year: int, measure: str = "auto"
) -> tuple[TradeNetwork, Panel]:
    """The group's network in ``year`` (with production when in tonnes), and its panel."""
    panel = read_panel(store, group, [year], measure)
    network = TradeNetwork.from_frames(
        panel.year_flows(year), panel.year_production(year), unit=panel.unit
    )
    return network, panel


def yearly_concentration(
    store: GraphStore, group: CommodityGroup, years: list[int] | None = None, measure: str = "auto"
) -> tuple[pd.DataFrame, str]:
    """Per year, HHI and top-3 share of the group's exports and production; and the flows' unit.

    Production is read in tonnes whatever the flows' unit (USD panels leave it out of the
    network, not out of the market).
    """
    chosen = years or available_years(store, group)
    if not chosen:
        raise NoTradeData(f"no TRADES for {group.id}: load flows first with `critmin load trades`")
    panel = read_panel(store, group, chosen, measure)
    production = pd.DataFrame({"year": [], "country": [], "quantity": []})
    if group.production_commodity:
        read = store.query(GROUP_PRODUCTION, commodity=group.production_commodity, years=chosen)
        if not read.empty:
            production = read.astype({"year": "int64", "quantity": "float64"})
    return concentration_table(panel.flows, production, panel.unit), panel.unit
