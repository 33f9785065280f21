"""The reference engine: docs/model.md's cascade, step by step, on dense matrices.

Written to be read against the specification rather than to be fast; the fast engine
(:mod:`critmin.simulator.fast`) must agree with it.
"""

from __future__ import annotations

import numpy as np

from critmin.simulator.network import FloatArray, TradeNetwork
from critmin.simulator.result import RunArrays
from critmin.simulator.scenario import Parameters, Plan

__all__ = ["run_reference"]


def run_reference(network: TradeNetwork, plan: Plan, params: Parameters) -> RunArrays:
    """Run one cascade.

    Parameters
    ----------
    network : TradeNetwork
        The network before the shock; it is not modified.
    plan : Plan
        The shocks, laid onto the network's positions.
    params : Parameters
        Cascade parameters (``fail_*`` are not used here).

    Returns
    -------
    RunArrays
        Losses, stock drawn, unbalanced settlements, hits, transmitted loss and the final flows.
    """
    n = network.n
    W = network.W.copy()  # state: current flows
    x = np.zeros(n)  # pending loss
    L = np.zeros(n)  # absorbed demand loss
    stock = np.zeros(n)  # remaining stockpiles
    np.add.at(stock, plan.stock_country, plan.stock_quantity)
    drawn = np.zeros(n)  # taken from the stockpiles
    unbalanced = np.zeros(n)  # settled beyond consumption, exports gone (demand_cap)
    T = np.zeros((n, n))  # T[i, k]: loss i passed to k
    T_first = np.full((n, n), -1)
    first = np.full(n, -1)
    eligible = np.ones(n, bool)  # who may be asked for more exports
    eligible[plan.sources] = False

    # Round 0, the shock.
    d = plan.cut_fraction * W[plan.cut_exporter, plan.cut_importer]
    W[plan.cut_exporter, plan.cut_importer] -= d
    np.add.at(x, plan.cut_importer, d)
    np.add.at(T, (plan.cut_exporter, plan.cut_importer), d)
    seed = plan.seed_fraction * network.P[plan.seed_country]  # production mode
    np.add.at(x, plan.seed_country, seed)
    S0 = float(d.sum() + seed.sum())
    T_first[T > 0] = 0
    first[x > 0] = 0
    H = x.copy()

    demand = network.demand_array  # the baseline D_k of both caps
    cap_consumption = params.demand_cap == "consumption"
    t = 0
    # Step 7's stopping rule, checked before each round.
    while x.sum() > params.tol * S0 and t < params.max_rounds:
        t += 1
        # Before step 1: a country with pending loss first draws on its remaining stockpile.
        # What it draws is neither demand loss nor passed on.
        draw = np.minimum(x, stock)
        stock -= draw
        x = x - draw
        drawn += draw

        # Step 1: small losses are absorbed; then the share absorbed at home.
        small = x <= params.eps_pass * S0
        L[small] += x[small]
        x[small] = 0.0
        L += params.absorb * x
        y = (1.0 - params.absorb) * x

        # Step 2: export cut, capped by current exports, spread pro rata over export links.
        E = W.sum(axis=1)
        c = np.minimum(params.alpha * y, E)
        C = _spread(c, E)[:, None] * W

        # Step 3: import increase from eligible suppliers, pro rata over import links. Each
        # link's share of the eligible imports comes first: b / I could overflow if the
        # imports dwindle to almost nothing, a share of them cannot.
        W_eligible = W * eligible[:, None]
        b = (1.0 - params.alpha) * y
        M = _spread(W_eligible, W_eligible.sum(axis=0)[None, :]) * b[None, :]  # M[k, i]: i asks k
        if params.supplier_cap == "supply":
            cap = np.maximum(demand - L, 0.0)
            asked = M.sum(axis=1)
            over = asked > cap
            M[over] *= (cap[over] / asked[over])[:, None]
        g = M.sum(axis=0)

        # Step 4: what could not be passed on is absorbed.
        if cap_consumption:
            # ... up to the room left in the country's consumption; the excess is cut from
            # its remaining exports on top of step 2, and what even that cannot take is
            # settled anyway and reported as unbalanced.
            r = np.maximum(y - c - g, 0.0)
            settled = np.minimum(r, np.maximum(demand - L, 0.0))
            excess = r - settled
            # An excess too small to pass on (step 1's threshold) is settled with the rest:
            # it is rounding left by c + g summing to y, and passing it would reach new
            # countries by the order of a sum alone.
            small = excess <= params.eps_pass * S0
            settled[small] += excess[small]
            excess[small] = 0.0
            extra = np.minimum(excess, np.maximum(E - c, 0.0))
            # The share of each export link cut: c + extra <= E, but its sum may round above.
            C = np.minimum(_spread(c + extra, E), 1.0)[:, None] * W
            unbalanced += excess - extra
            L += settled + (excess - extra)
        else:
            L += np.maximum(y - c - g, 0.0)

        # Step 5: flows change (C <= W entry by entry, so no link goes negative).
        W = W - C + M

        # Step 6: next round's pending loss, and who passed it to whom.
        passed = C + M.T
        x = passed.sum(axis=0)
        T += passed
        T_first[(T_first < 0) & (passed > 0)] = t
        H += x
        first[(first < 0) & (x > 0)] = t

    # Step 7: whatever is still pending is absorbed where it is. Stockpiles are drawn on in
    # rounds only (docs/model.md): a run stopped by max_rounds settles its pending loss as is.
    L += x
    return RunArrays.from_dense(L, H, first, t, S0, T, T_first, W, drawn, unbalanced)


def _spread(amount: FloatArray, total: FloatArray) -> FloatArray:
    """``amount / total`` where ``total > 0``, else 0 (broadcasting)."""
    share = np.zeros(np.broadcast(amount, total).shape)
    np.divide(amount, total, out=share, where=total > 0)
    return share
