"""The inverse question of a stockpile: how much would a country have needed to hold?

For one scenario (network, shocks, parameters and any stockpiles it already has), the stock a
country needs is the smallest stockpile that keeps it from failing when the scenario is run
again with that stockpile for that country (every other country keeping its own).

Why re-runs rather than a formula: a country that draws on a stock passes less of its loss on,
so less loss comes back to it along loops, the flows it cuts or asks for change, and the
cascade's caps (a country cannot cut more than it exports) bind at other rounds. Its demand
loss is a piecewise-linear function of its stock with breaks that depend on the whole
cascade, so no closed form is exact in general. Only a pure sink (a country that neither
exports nor can ask a supplier for more) has one, ``max(L - threshold, 0)``, and there the
search below finds the same value. The cascade is deterministic and the fast engine runs a
batch of such re-runs at once, so the search bisects: each step re-runs the scenario once per
country still open, at the midpoint of the interval between a stock with which the country
still fails and one with which it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from critmin.simulator.fast import Links, run_batch
from critmin.simulator.network import FloatArray, TradeNetwork
from critmin.simulator.result import failed_mask
from critmin.simulator.scenario import Parameters, Plan, Shock, as_shocks, plan, real_number
from critmin.simulator.stockpiles import Stockpiles, resolve_stockpiles

__all__ = ["STOCK_NEEDED_COLUMNS", "stock_needed"]

STOCK_NEEDED_COLUMNS = [
    "country",
    "stock_needed",
    "unit",
    "months_of_demand",
    "demand",
    "demand_loss",
    "threshold",
]

#: Doublings of the first upper bound tried before a country is declared beyond any stock.
MAX_DOUBLINGS = 64
#: Bisection steps at most (from a bound of 1e300, 1,100 halvings reach the smallest float).
MAX_STEPS = 1_100


def stock_needed(
    network: TradeNetwork,
    shocks: Shock | Sequence[Shock],
    stockpiles: Stockpiles | None = None,
    countries: Iterable[str] | None = None,
    rtol: float = 1e-9,
    **parameters: Any,
) -> pd.DataFrame:
    """The stockpile each failing country would have needed not to fail in a scenario.

    For each country, bisection on re-runs of the scenario (fast engine) in which only that
    country's stockpile changes; see the module's notes for why there is no closed form. The
    search keeps a stock with which the country fails (at first 0) and one with which it does
    not (at first its gross hits, doubled while it still fails), and halves the interval
    between them until it is narrower than ``rtol`` of the upper end. ``stock_needed`` is that
    upper end: run the scenario with it and the country does not fail; with ``stock_needed *
    (1 - rtol)`` or less it does (exactly so where the loss falls as the stock grows, as in
    every network we have tried; otherwise the interval still brackets a change from failing
    to not failing).

    Parameters
    ----------
    network : TradeNetwork
        The network before the shock.
    shocks : Shock or sequence of Shock
        The scenario's shocks.
    stockpiles : mapping of str to float or Stockpile, optional
        Stockpiles the scenario already has. A country's own is replaced by the stock being
        tried, so ``stock_needed`` is the whole stock it needs, not what it lacks.
    countries : iterable of str, optional
        The countries to answer for; by default those that fail in the scenario as given. A
        country that does not fail without a stock needs 0; a source never fails.
    rtol : float
        Relative width of the final interval, in (0, 1).
    **parameters
        Cascade parameters, as for :func:`~critmin.simulator.simulate` (no ``engine``);
        ``fail_abs`` and ``fail_rel`` define failure.

    Returns
    -------
    DataFrame
        One row per country, the largest need first: ``country``, ``stock_needed`` (in the
        network's unit; ``inf`` when no stock is enough, which happens only when the run stops
        at ``max_rounds`` with loss still pending at the country: that loss is settled without
        a draw), ``unit``, ``months_of_demand`` (``stock_needed / (D / 12)``, NaN where
        ``D <= 0``), ``demand`` (``D``), ``demand_loss`` (in the scenario as given) and
        ``threshold`` (the loss the failure rule allows: ``max(fail_abs, fail_rel * D)``, and
        ``fail_abs`` where ``D <= 0``; failure is a loss above it).

    Raises
    ------
    TypeError
        On an unknown parameter name.
    ValueError
        On a bad parameter, shock, stockpile or country.

    Examples
    --------
    The worked example of ``docs/model.md``: when A stops exporting, B and C each lose 50 t.
    C, at the end of the chain, needs a stock of its 50 t less the 1 kg ``fail_abs`` allows.
    B needs almost all of the 100 t that reach it, not 50: the more it draws, the less it cuts
    C, and of what it still cannot draw it settles a fifth (no one else sells to it), while C
    asks it for more in return.

    >>> flows = pd.DataFrame(
    ...     {"exporter": ["A", "B"], "importer": ["B", "C"], "quantity": [100, 50]}
    ... )
    >>> net = TradeNetwork.from_frames(flows, pd.DataFrame({"country": ["A"], "quantity": [100]}))
    >>> needed = stock_needed(net, Shock("A", 1.0))
    >>> needed[["country", "stock_needed", "months_of_demand"]].round(3)
      country  stock_needed  months_of_demand
    0       B        99.996            23.999
    1       C        49.999            12.000
    >>> from critmin.simulator import simulate
    >>> bool(simulate(net, Shock("A", 1.0), stockpiles={"B": 99.996}).failed["B"])
    False
    >>> bool(simulate(net, Shock("A", 1.0), stockpiles={"B": 99.995}).failed["B"])
    True
    """
    if "engine" in parameters:
        raise TypeError("stock_needed runs the fast engine; it takes no engine")
    params = Parameters(**parameters).resolved(network.unit)
    rtol = real_number(rtol, "rtol")
    if not 0.0 < rtol < 1.0:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    shocks = as_shocks(shocks)
    given = resolve_stockpiles(network, stockpiles)
    base = plan(network, shocks, params.mode, given)
    links = Links.of(network)
    demand = network.demand_array
    is_source = np.zeros(network.n, bool)
    is_source[base.sources] = True
    base_loss = run_batch(network, links, [base], params).demand_loss[0]
    if countries is None:
        (wanted,) = np.nonzero(failed_mask(base_loss, demand, is_source, params))
    else:
        wanted = np.unique(network.positions(countries, "countries"))
    search = _Search(network, links, base, params, wanted)
    needed = search.run(rtol)

    with_demand = demand[wanted] > 0
    months = np.full(len(wanted), np.nan)
    np.divide(needed, demand[wanted] / 12.0, out=months, where=with_demand)
    assert params.fail_abs is not None
    threshold = np.where(
        with_demand, np.maximum(params.fail_abs, params.fail_rel * demand[wanted]), params.fail_abs
    )
    table = pd.DataFrame(
        {
            "country": np.asarray(network.countries, dtype=object)[wanted],
            "stock_needed": needed,
            "unit": network.unit,
            "months_of_demand": months,
            "demand": demand[wanted],
            "demand_loss": base_loss[wanted],
            "threshold": threshold,
        }
    )
    table = table.sort_values(["stock_needed", "country"], ascending=[False, True], kind="stable")
    return table[STOCK_NEEDED_COLUMNS].reset_index(drop=True)


class _Search:
    """Runs of the scenario with one country's stockpile set, and the bisection on them."""

    def __init__(
        self,
        network: TradeNetwork,
        links: Links,
        base: Plan,
        params: Parameters,
        countries: npt.NDArray[np.intp],
    ) -> None:
        self.network, self.links, self.base, self.params = network, links, base, params
        self.countries = countries
        self.is_source = np.zeros(network.n, bool)
        self.is_source[base.sources] = True

    def fails(self, which: npt.NDArray[np.intp], stock: FloatArray) -> npt.NDArray[np.bool_]:
        """Whether ``countries[which[k]]`` fails with a stockpile of ``stock[k]``."""
        failed, _ = self._runs(which, stock)
        return failed

    def _runs(
        self, which: npt.NDArray[np.intp], stock: FloatArray
    ) -> tuple[npt.NDArray[np.bool_], FloatArray]:
        """:meth:`fails`, and the gross hits of each country in its run (one batch)."""
        plans = []
        for k, s in zip(which, stock, strict=True):
            c = self.countries[k]
            others = self.base.stock_country != c
            plans.append(
                self.base.stocked(
                    np.append(self.base.stock_country[others], c),
                    np.append(self.base.stock_quantity[others], s),
                )
            )
        batch = run_batch(self.network, self.links, plans, self.params)
        at = np.arange(len(which)), self.countries[which]
        failed = failed_mask(
            batch.demand_loss[at],
            self.network.demand_array[self.countries[which]],
            self.is_source[self.countries[which]],
            self.params,
        )
        return failed, batch.gross_hit[at]

    def run(self, rtol: float) -> FloatArray:
        """The bisection: per country, the upper end of the final interval."""
        k = len(self.countries)
        lo, hi = np.zeros(k), np.full(k, np.nan)
        everyone = np.arange(k)
        failing, hits = self._runs(everyone, lo)
        hi[~failing] = 0.0  # no stock needed
        # An upper bound: everything that reached the country without a stock; doubled while
        # the country still fails with it.
        open_ = everyone[failing]
        trial = np.maximum(hits[failing], np.finfo(float).tiny)
        for _ in range(MAX_DOUBLINGS):
            if not len(open_):
                break
            failed = self.fails(open_, trial)
            hi[open_[~failed]] = trial[~failed]
            lo[open_[failed]] = trial[failed]
            open_, trial = open_[failed], 2.0 * trial[failed]
        hi[open_] = np.inf  # no stock is enough (see stock_needed)

        open_ = everyone[np.isfinite(hi) & (hi - lo > rtol * hi)]
        for _ in range(MAX_STEPS):
            if not len(open_):
                break
            mid = lo[open_] + 0.5 * (hi[open_] - lo[open_])
            moves = (mid > lo[open_]) & (mid < hi[open_])  # False once floats cannot split
            failed = self.fails(open_, mid)
            lo[open_[failed]] = mid[failed]
            hi[open_[~failed]] = mid[~failed]
            width = hi[open_] - lo[open_]
            open_ = open_[moves & (width > rtol * hi[open_])]
        return hi
