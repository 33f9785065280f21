"""The compiled loop of the fast engine: the cascade of docs/model.md on a link list.

Links are sorted by exporter: the export links of country ``i`` are ``out_ptr[i]:out_ptr[i + 1]``
and link ``e`` goes to ``importer[e]``. A round is a pass over the countries (steps 1-3 need only
their export and import totals), one pass over the links (steps 5-6, which also sums the totals
the next round needs, so the flows are read once per round) and a pass over the countries for
step 4. Steps are numbered as in the specification and in :mod:`critmin.simulator.reference`.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["cascade"]

Ints = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]
Rounds = npt.NDArray[np.int32]


# error_model="numpy": every division is guarded, so skip the zero checks Python semantics add.
@numba.njit(nogil=True, cache=True, error_model="numpy")
def cascade(
    runs: Ints,
    out_ptr: Ints,
    importer: Ints,
    weight: Floats,
    production: Floats,
    demand: Floats,
    source_ptr: Ints,
    source: Ints,
    cut_ptr: Ints,
    cut_link: Ints,
    cut_fraction: Floats,
    seed_ptr: Ints,
    seed: Ints,
    seed_fraction: Floats,
    stock_ptr: Ints,
    stock_country: Ints,
    stock_quantity: Floats,
    alpha: float,
    absorb: float,
    cap_supply: bool,
    cap_consumption: bool,
    eps_pass: float,
    tol: float,
    max_rounds: int,
    out_loss: Floats,
    out_drawn: Floats,
    out_unbalanced: Floats,
    out_hit: Floats,
    out_first: Rounds,
    out_forward: Floats,
    out_backward: Floats,
    out_forward_first: Rounds,
    out_backward_first: Rounds,
    out_rounds: Rounds,
    out_shock: Floats,
) -> None:
    """Run the plans numbered ``runs``, each into its row of the ``out_*`` arrays.

    Per link, ``out_forward`` is the loss passed along it (the shock and export cuts) and
    ``out_backward`` the loss passed against it (requests for more exports); ``*_first`` hold
    the first round each was positive, -1 for never. ``out_drawn`` is what each country took
    from its stockpile, ``out_unbalanced`` what it settled beyond its consumption with no
    exports left to cut (``cap_consumption``, docs/model.md's ``demand_cap="consumption"``).
    """
    n = production.shape[0]
    w = np.empty(weight.shape[0])  # current flows
    x = np.empty(n)  # pending loss
    left = np.empty(n)  # what a country still has to cover by imports, or absorb
    cut_of = np.empty(n)  # step 2's export cut of each country
    exports = np.empty(n)
    eligible_imports = np.empty(n)
    cut_share = np.empty(n)
    asked_for = np.empty(n)  # the import increase a country asks its eligible suppliers for
    next_eligible_imports = np.empty(n)
    granted = np.empty(n)
    supplier = np.empty(n)  # 1 where a country may be asked for more exports, 0 for sources
    scale = np.empty(n)  # supplier, scaled down by supplier_cap="supply"
    stock = np.empty(n)  # remaining stockpiles
    # With the supply cap, the link pass sums what each importer is granted, for step 4 after
    # it; with the consumption cap, step 4 comes before that pass, which sums the grants first.
    grant_in_links = cap_supply and not cap_consumption
    for r in runs:
        loss, drawn, hit, first = out_loss[r], out_drawn[r], out_hit[r], out_first[r]
        unbalanced = out_unbalanced[r]
        unbalanced[:] = 0.0
        forward, backward = out_forward[r], out_backward[r]
        forward_first, backward_first = out_forward_first[r], out_backward_first[r]
        w[:] = weight
        x[:] = 0.0
        loss[:] = 0.0
        forward[:] = 0.0
        backward[:] = 0.0
        forward_first[:] = -1
        backward_first[:] = -1
        supplier[:] = 1.0
        for k in range(source_ptr[r], source_ptr[r + 1]):
            supplier[source[k]] = 0.0
        scale[:] = supplier
        drawn[:] = 0.0
        stocked = stock_ptr[r + 1] > stock_ptr[r]  # runs without stockpiles skip the draws
        if stocked:
            stock[:] = 0.0
            for k in range(stock_ptr[r], stock_ptr[r + 1]):
                stock[stock_country[k]] += stock_quantity[k]

        # Round 0, the shock.
        shock = 0.0
        for k in range(cut_ptr[r], cut_ptr[r + 1]):
            e = cut_link[k]
            d = cut_fraction[k] * w[e]
            w[e] -= d
            x[importer[e]] += d
            forward[e] += d
            if d > 0.0:
                forward_first[e] = 0
            shock += d
        for k in range(seed_ptr[r], seed_ptr[r + 1]):
            d = seed_fraction[k] * production[seed[k]]
            x[seed[k]] += d
            shock += d
        pending = 0.0
        for i in range(n):
            hit[i] = x[i]
            first[i] = 0 if x[i] > 0.0 else -1
            pending += x[i]
        eligible_imports[:] = 0.0
        for u in range(n):
            total = 0.0
            for e in range(out_ptr[u], out_ptr[u + 1]):
                total += w[e]
                eligible_imports[importer[e]] += w[e] * supplier[u]
            exports[u] = total

        t = 0
        while pending > tol * shock and t < max_rounds:
            t += 1
            if stocked:  # before step 1: pending loss is drawn from the stockpile first
                for i in range(n):
                    if stock[i] > 0.0 and x[i] > 0.0:
                        draw = min(x[i], stock[i])
                        stock[i] -= draw
                        x[i] -= draw
                        drawn[i] += draw
            for i in range(n):
                # Step 1.
                if x[i] <= eps_pass * shock:
                    loss[i] += x[i]
                    x[i] = 0.0
                loss[i] += absorb * x[i]
                y = (1.0 - absorb) * x[i]
                # Steps 2 and 3: the share of each export link to cut, of each import to ask for.
                cut = min(alpha * y, exports[i])
                cut_share[i] = cut / exports[i] if exports[i] > 0.0 else 0.0
                cut_of[i] = cut
                asked_for[i] = (1.0 - alpha) * y if eligible_imports[i] > 0.0 else 0.0
                left[i] = y - cut
                # Uncapped, the requests are granted in full (the shares of the suppliers sum to
                # one), which saves summing them; a cap makes the link pass sum them.
                granted[i] = 0.0 if cap_supply else asked_for[i]
            if cap_supply:
                for u in range(n):
                    total = 0.0
                    if supplier[u] > 0.0:
                        for e in range(out_ptr[u], out_ptr[u + 1]):
                            v = importer[e]
                            # Only importers that ask: one whose eligible imports have dried
                            # up asks nobody, and 0 / 0 would make the total NaN (no cap).
                            if asked_for[v] > 0.0:
                                total += w[e] / eligible_imports[v] * asked_for[v]
                    room = max(demand[u] - loss[u], 0.0)
                    scale[u] = supplier[u] * (room / total if total > room else 1.0)
            if cap_consumption:
                # Step 4 before the flows change: what a country can neither cut nor obtain is
                # settled up to the room left in its consumption; the excess deepens its export
                # cut, and what even that cannot take is settled as unbalanced.
                if cap_supply:  # the granted requests, summed as the link pass will grant them
                    for u in range(n):
                        if scale[u] > 0.0:
                            for e in range(out_ptr[u], out_ptr[u + 1]):
                                v = importer[e]
                                if asked_for[v] > 0.0:
                                    granted[v] += (
                                        w[e] / eligible_imports[v] * asked_for[v] * scale[u]
                                    )
                for i in range(n):
                    rest = max(left[i] - granted[i], 0.0)
                    settled = min(rest, max(demand[i] - loss[i], 0.0))
                    excess = rest - settled
                    if excess <= eps_pass * shock:  # too small to pass on (the reference's note)
                        settled += excess
                        excess = 0.0
                    extra = min(excess, max(exports[i] - cut_of[i], 0.0))
                    if extra > 0.0:
                        cut_share[i] = min(
                            (cut_of[i] + extra) / exports[i], 1.0
                        )  # sum may round up
                    unbalanced[i] += excess - extra
                    loss[i] += settled + (excess - extra)
            # Steps 5 and 6: the flows change; who passed how much loss to whom. The totals
            # of the new flows are summed here, as in round 0, for the next round.
            x[:] = 0.0
            next_eligible_imports[:] = 0.0
            for u in range(n):
                requested = 0.0
                total = 0.0
                for e in range(out_ptr[u], out_ptr[u + 1]):
                    v = importer[e]
                    flow = w[e]
                    c = cut_share[u] * flow
                    # The link's share of v's eligible imports first: a ratio <= 1 cannot
                    # overflow, as the request over those imports can when they dwindle.
                    g = 0.0
                    if scale[u] > 0.0 and asked_for[v] > 0.0:
                        g = flow / eligible_imports[v] * asked_for[v] * scale[u]
                    new = flow - c + g
                    w[e] = new
                    total += new
                    requested += g
                    x[v] += c
                    if grant_in_links:
                        granted[v] += g
                    next_eligible_imports[v] += new * supplier[u]
                    forward[e] += c
                    backward[e] += g
                    if c > 0.0 and forward_first[e] < 0:
                        forward_first[e] = t
                    if g > 0.0 and backward_first[e] < 0:
                        backward_first[e] = t
                x[u] += requested
                exports[u] = total
            eligible_imports, next_eligible_imports = next_eligible_imports, eligible_imports
            pending = 0.0
            for i in range(n):
                if not cap_consumption:
                    loss[i] += max(left[i] - granted[i], 0.0)  # step 4
                hit[i] += x[i]
                if x[i] > 0.0 and first[i] < 0:
                    first[i] = t
                pending += x[i]
        for i in range(n):
            loss[i] += x[i]  # step 7
        out_rounds[r] = t
        out_shock[r] = shock
