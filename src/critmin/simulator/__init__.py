"""The shock-diffusion cascade on trade networks (docs/model.md): one run, or a full sweep.

The model is a reconstruction of the cascade the cobalt trade paper (Sustainability 2025,
17(15), 6711) ran with Grassia et al.'s improved shock-diffusion model (Sci Rep 2022); see
``docs/model.md`` for the rules, the parameters and the references.
"""

from critmin.simulator.chain import ChainResult, simulate_chain
from critmin.simulator.coalitions import coalition_sweep, coalition_table
from critmin.simulator.inverse import stock_needed
from critmin.simulator.network import TradeNetwork
from critmin.simulator.result import SimulationResult
from critmin.simulator.scenario import PRESETS, Parameters, Shock
from critmin.simulator.simulation import simulate
from critmin.simulator.stockpiles import (
    Stockpile,
    parse_stockpiles,
    resolve_stockpiles,
    stockpile_months,
)
from critmin.simulator.sweep import ChainSweepResult, SweepResult, chain_sweep, sweep

__all__ = [
    "PRESETS",
    "ChainResult",
    "ChainSweepResult",
    "Parameters",
    "Shock",
    "SimulationResult",
    "Stockpile",
    "SweepResult",
    "TradeNetwork",
    "chain_sweep",
    "coalition_sweep",
    "coalition_table",
    "parse_stockpiles",
    "resolve_stockpiles",
    "simulate",
    "simulate_chain",
    "stock_needed",
    "stockpile_months",
    "sweep",
]
