"""One scenario on one network: :func:`simulate`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from critmin.simulator.fast import Links, run_batch
from critmin.simulator.network import TradeNetwork
from critmin.simulator.reference import run_reference
from critmin.simulator.result import SimulationResult
from critmin.simulator.scenario import Parameters, Shock, as_shocks, plan
from critmin.simulator.stockpiles import Stockpiles, resolve_stockpiles

__all__ = ["ENGINES", "simulate"]

ENGINES = ("fast", "reference")


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
        max_rounds=10_000, fail_abs=None, fail_rel=0.0, mode="export"`` (see
        :class:`~critmin.simulator.scenario.Parameters`; ``fail_abs=None`` means 1e-3 for
        tonnes and 1,000 for USD) and ``engine="fast"`` or ``"reference"``.

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
    """
    engine = parameters.pop("engine", "fast")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    params = Parameters(**parameters).resolved(network.unit)
    shocks = as_shocks(shocks)
    run_plan = plan(network, shocks, params.mode, resolve_stockpiles(network, stockpiles))
    if engine == "reference":
        run = run_reference(network, run_plan, params)
    else:
        links = Links.of(network)
        run = run_batch(network, links, [run_plan], params).run(0, links)
    return SimulationResult.from_arrays(network, shocks, run_plan, params, engine, run)
