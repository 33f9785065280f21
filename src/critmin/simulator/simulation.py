"""One scenario on one network: :func:`simulate`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from critmin.simulator.chain import ENGINES, engine_and_parameters, run_stages
from critmin.simulator.network import TradeNetwork
from critmin.simulator.result import SimulationResult
from critmin.simulator.scenario import Shock, as_shocks
from critmin.simulator.stockpiles import Stockpiles

__all__ = ["ENGINES", "simulate"]


def simulate(
    network: TradeNetwork,
    shocks: Shock | Sequence[Shock],
    stockpiles: Stockpiles | None = None,
    **parameters: Any,
) -> SimulationResult:
    """Run the shock-diffusion cascade of ``docs/model.md`` once.

    Parameters
    ----------
    network : TradeNetwork
        The network before the shock.
    shocks : Shock or sequence of Shock
        The shocked sources (one shock per source).
    stockpiles : mapping of str to float or Stockpile, optional
        Strategic reserves by ISO3 code: a quantity in the network's unit, or a
        :class:`~critmin.simulator.stockpiles.Stockpile` (``Stockpile.months(3)`` is three months
        of the country's internal demand). A country draws on its stock before a loss counts
        as demand loss; ``stock_drawn`` in the result says how much it took.
    **parameters
        ``alpha=0.8, absorb=0.0, supplier_cap="none", eps_pass=1e-9, tol=1e-12,
        max_rounds=10_000, fail_abs=None, fail_rel=0.0, mode="export", demand_cap="none"``
        (see :class:`~critmin.simulator.scenario.Parameters`; ``fail_abs=None`` means 1e-3
        for tonnes and 1,000 for USD) and ``engine="fast"`` or ``"reference"``. The preset
        ``physical`` is ``supplier_cap="supply", demand_cap="consumption"``
        (``**Parameters.from_preset("physical").as_dict()``).

    Returns
    -------
    SimulationResult

    Raises
    ------
    TypeError
        On an unknown parameter name.
    ValueError
        On a bad parameter value, a source, target or stockpile country not in the network,
        or a stockpile that is negative or not finite.

    Examples
    --------
    A exports 100 t to B, B exports 50 t to C, A produces 100 t; A's exports stop.

    >>> import pandas as pd
    >>> flows = pd.DataFrame(
    ...     {"exporter": ["A", "B"], "importer": ["B", "C"], "quantity": [100, 50]}
    ... )
    >>> net = TradeNetwork.from_frames(flows, pd.DataFrame({"country": ["A"], "quantity": [100]}))
    >>> result = simulate(net, Shock("A", 1.0))
    >>> result.demand_loss.to_dict(), result.rounds, result.initial_shock
    ({'A': 0.0, 'B': 50.0, 'C': 50.0}, 2, 100.0)
    >>> result.failed[result.failed].index.tolist()
    ['B', 'C']
    >>> result.transmitted
      source target  quantity  first_round
    0      A      B     100.0            0
    1      B      C      50.0            1

    Half the shock: B and C pass the loss back and forth until it settles.

    >>> half = simulate(net, Shock("A", 0.5), engine="reference")
    >>> half.demand_loss.round(3).to_dict()
    {'A': 0.0, 'B': 11.905, 'C': 38.095}
    >>> float(half.demand_loss.sum())
    50.0

    With a stockpile of 30 t, B draws 30, cuts its 50 t to C and absorbs the other 20: the
    demand losses and the stock drawn add up to the shock.

    >>> stocked = simulate(net, Shock("A", 1.0), stockpiles={"B": 30})
    >>> stocked.demand_loss.to_dict(), stocked.stock_drawn.to_dict()
    ({'A': 0.0, 'B': 20.0, 'C': 50.0}, {'A': 0.0, 'B': 30.0, 'C': 0.0})
    >>> float(stocked.demand_loss.sum() + stocked.stock_drawn.sum())
    100.0

    A transit hub: A ships 100 t to T, which re-exports all of it to C. In the paper's model T
    keeps part of the cut although it consumes nothing; with the consumption cap it passes
    the whole cut on, and C, which consumes the 100 t, loses them.

    >>> hub = TradeNetwork.from_frames(
    ...     pd.DataFrame({"exporter": ["A", "T"], "importer": ["T", "C"], "quantity": [100, 100]}),
    ...     pd.DataFrame({"country": ["A"], "quantity": [100]}),
    ... )
    >>> paper = simulate(hub, Shock("A", 1.0))
    >>> paper.preset, paper.demand_loss.round(4).to_dict(), paper.rounds
    ('paper', {'A': 0.0, 'C': 76.1905, 'T': 23.8095}, 25)
    >>> capped = simulate(hub, Shock("A", 1.0), demand_cap="consumption")
    >>> capped.demand_loss.to_dict(), capped.rounds, bool(capped.failed["T"])
    ({'A': 0.0, 'C': 100.0, 'T': 0.0}, 2, False)
    >>> physical = simulate(hub, Shock("A", 1.0), supplier_cap="supply", demand_cap="consumption")
    >>> physical.preset, physical.demand_loss.to_dict(), physical.unbalanced.to_dict()
    ('physical', {'A': 0.0, 'C': 100.0, 'T': 0.0}, {'A': 0.0, 'C': 0.0, 'T': 0.0})

    The cap leaves the first example as it was: B's room is its consumption of 50 t.

    >>> simulate(net, Shock("A", 1.0), demand_cap="consumption").demand_loss.to_dict()
    {'A': 0.0, 'B': 50.0, 'C': 50.0}
    """
    engine, params = engine_and_parameters(parameters, network.unit)
    shocks = as_shocks(shocks, params.mode)
    staged = sorted({s.stage for s in shocks if s.stage})
    if staged:
        raise ValueError(
            f"simulate runs one network (stage 0), but shocks name stage(s) {staged}; "
            "run the stages with simulate_chain"
        )
    return run_stages([network], shocks, {0: stockpiles}, params, engine)[0]
