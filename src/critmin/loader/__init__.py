"""Readers for trade flows and mine production, validated before anything reaches the store.

``read_trades`` reads CEPII BACI, UN Comtrade exports, the bundled BACI extracts and a plain
CSV into a :class:`TradeData`; ``read_production`` reads USGS Mineral Commodity Summaries and
Our World in Data into a :class:`ProductionData`. Both raise :class:`InputError` naming the file,
row, column and value of every problem found.
"""

from critmin.loader.errors import InputError
from critmin.loader.production import ProductionData, read_production
from critmin.loader.trades import TradeData, read_trades

__all__ = ["InputError", "ProductionData", "TradeData", "read_production", "read_trades"]
