"""Supply chains: one mineral as ordered stages, each a network, coupled by conversion.

docs/model.md ("Supply chains"): a country's loss at stage ``k`` starves its output at stage
``k + 1``. Its conversion share is ``y_i = min(1, P_i^{k+1} / A_i^k)`` with
``A_i^k = max(D_i^k, 0)`` (0 where ``A_i^k = 0``); stage ``k + 1`` cuts its output by
``cut_i^{k+1} = min(P_i^{k+1}, y_i * L_i^k)`` as a production shock of fraction
``cut / P^{k+1}``, on top of the scenario's own shocks at that stage. A single network is a chain
of one stage: :func:`~critmin.simulator.simulate` runs through :func:`run_stages` as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin.simulator.network import FloatArray, TradeNetwork
from critmin.simulator.result import SimulationResult
from critmin.simulator.scenario import Parameters, Shock, as_shocks, plan
from critmin.simulator.stockpiles import Stockpiles, resolve_stockpiles

__all__ = [
    "ENGINES",
    "ChainResult",
    "align_stages",
    "coupling_cut",
    "engine_and_parameters",
    "run_stages",
    "simulate_chain",
]

ENGINES = ("fast", "reference")


@dataclass(frozen=True)
class ChainResult:
    """The outcome of one scenario on a supply chain, stage by stage.

    Attributes
    ----------
    stages : tuple of SimulationResult
        One per stage, upstream first: each stage's usual outputs (``demand_loss``,
        ``unbalanced``, ``failed``, ``transmitted``, ``initial_shock`` = ``S0^k`` = its own
        shocks plus its coupling cut, ...) and ``coupling_cut``, the cut of each country's
        output at that stage caused by its loss at the stage before (0 at stage 0).
    parameters : dict
        The parameters every stage ran with (``engine`` included).
    preset : str
        The model variant they match (``paper``, ``physical`` or ``custom``).
    shocks : tuple of Shock
        The scenario's own shocks, each at its ``stage``.
    """

    stages: tuple[SimulationResult, ...]
    parameters: dict[str, Any]
    preset: str
    shocks: tuple[Shock, ...]

    @property
    def demand_loss(self) -> pd.DataFrame:
        """``L^k`` per country (rows) and stage (columns ``0 .. K-1``)."""
        return self._frame("demand_loss")

    @property
    def coupling_cut(self) -> pd.DataFrame:
        """``cut^k`` per country (rows) and stage (columns; stage 0 is all zeros)."""
        return self._frame("coupling_cut")

    def summary(self) -> pd.DataFrame:
        """One row per stage: ``stage, initial_shock, coupling_cut, rounds, n_failed, unit,
        preset``, where ``coupling_cut`` is the stage's total cut of output."""
        return pd.DataFrame(
            [
                {
                    "stage": k,
                    "initial_shock": s.initial_shock,
                    "coupling_cut": float(s.coupling_cut.sum()),
                    "rounds": s.rounds,
                    "n_failed": s.n_failed,
                    "unit": s.unit,
                    "preset": s.preset,
                }
                for k, s in enumerate(self.stages)
            ]
        )

    def _frame(self, name: str) -> pd.DataFrame:
        frame = pd.concat([getattr(s, name) for s in self.stages], axis=1)
        frame.columns = pd.RangeIndex(len(self.stages), name="stage")
        return frame


def simulate_chain(
    networks: Sequence[TradeNetwork],
    shocks: Shock | Sequence[Shock],
    stockpiles: Mapping[int, Stockpiles] | None = None,
    **parameters: Any,
) -> ChainResult:
    """Run a scenario down a supply chain, stage after stage (docs/model.md, "Supply chains").

    Parameters
    ----------
    networks : sequence of TradeNetwork
        The stages, upstream first, in one unit (contained metal, so the stages can be
        compared). Stages that list different countries are aligned on the union of their
        countries: a country missing from a stage joins it with no trade and no output there,
        which changes no run.
    shocks : Shock or sequence of Shock
        The scenario's own shocks; ``Shock.stage`` says where each hits, ``Shock.mode`` how
        (``None``: the run's ``mode``).
    stockpiles : mapping of int to stockpiles, optional
        Per stage, the stockpiles held there, as for :func:`~critmin.simulator.simulate`.
    **parameters
        Cascade parameters, as for :func:`~critmin.simulator.simulate` (``engine`` too); every
        stage runs with them.

    Returns
    -------
    ChainResult

    Raises
    ------
    ValueError
        On stages in different units, no stage, a shock at a stage the chain does not have,
        or anything :func:`~critmin.simulator.simulate` refuses.

    Notes
    -----
    A country whose output is cut by the coupling is not a source at that stage: it did not
    decide to stop supplying, so it may still be asked for more exports and it can fail.
    A coupling cut adds to a production shock of the scenario on the same country and stage.

    Examples
    --------
    M mines 100 and ships it to R; R refines 90 and ships 60 to U. M stops its ore exports.

    >>> flows = lambda e, i, q: pd.DataFrame({"exporter": e, "importer": i, "quantity": q})
    >>> output = lambda c, q: pd.DataFrame({"country": c, "quantity": q})
    >>> ore = TradeNetwork.from_frames(flows(["M"], ["R"], [100]), output(["M"], [100]))
    >>> metal = TradeNetwork.from_frames(flows(["R"], ["U"], [60]), output(["R"], [90]))
    >>> full = simulate_chain([ore, metal], Shock("M", 1.0))
    >>> full.demand_loss.round(4).to_dict("index")
    {'M': {0: 0.0, 1: 0.0}, 'R': {0: 100.0, 1: 30.0}, 'U': {0: 0.0, 1: 60.0}}
    >>> full.stages[1].coupling_cut.to_dict(), full.stages[1].initial_shock
    ({'M': 0.0, 'R': 90.0, 'U': 0.0}, 90.0)

    At half the shock R loses 50 ore, so its output falls by 45, and R and U pass the refined
    metal's loss back and forth until it settles. The physical preset gives the same figures.

    >>> half = simulate_chain([ore, metal], Shock("M", 0.5))
    >>> half.stages[0].demand_loss.to_dict(), float(half.stages[1].coupling_cut["R"])
    ({'M': 0.0, 'R': 50.0, 'U': 0.0}, 45.0)
    >>> half.stages[1].demand_loss.round(4).to_dict()
    {'M': 0.0, 'R': 10.7143, 'U': 34.2857}
    >>> physical = simulate_chain(
    ...     [ore, metal], Shock("M", 0.5), supplier_cap="supply", demand_cap="consumption"
    ... )
    >>> physical.preset, physical.stages[1].demand_loss.round(4).to_dict()
    ('physical', {'M': 0.0, 'R': 10.7143, 'U': 34.2857})
    """
    stages = align_stages(networks)
    engine, params = engine_and_parameters(parameters, stages[0].unit)
    shocks = as_shocks(shocks, params.mode)
    far = [s for s in shocks if s.stage >= len(stages)]
    if far:
        raise ValueError(
            f"shock of {far[0].source} at stage {far[0].stage}, "
            f"but the chain has {len(stages)} stage(s) (0 .. {len(stages) - 1})"
        )
    stocked = sorted(set(stockpiles or {}) - set(range(len(stages))), key=str)
    if stocked:
        raise ValueError(
            f"stockpiles given for stage(s) {stocked}, but the chain has stages "
            f"0 .. {len(stages) - 1}"
        )
    results = run_stages(stages, shocks, stockpiles or {}, params, engine)
    return ChainResult(
        tuple(results), {**params.as_dict(), "engine": engine}, params.preset, shocks
    )


def run_stages(
    stages: Sequence[TradeNetwork],
    shocks: Sequence[Shock],
    stockpiles: Mapping[int, Stockpiles | None],
    params: Parameters,
    engine: str,
) -> list[SimulationResult]:
    """Run aligned ``stages`` one after the other, each coupled to the one before.

    The code path of both :func:`simulate` (one stage) and :func:`simulate_chain`.
    ``params`` are resolved for the stages' unit; ``shocks`` validated (:func:`as_shocks`).
    """
    # Imported here: numba takes about a second to import (as in fast.run_batch).
    from critmin.simulator.fast import Links, run_batch
    from critmin.simulator.reference import run_reference

    results: list[SimulationResult] = []
    cut: FloatArray | None = None
    for k, network in enumerate(stages):
        if k > 0:
            upstream = results[-1]
            floor = params.eps_pass * upstream.initial_shock
            cut = coupling_cut(stages[k - 1], upstream.demand_loss.to_numpy(), network, floor)
        own = [s for s in shocks if s.stage == k]
        stock = resolve_stockpiles(network, stockpiles.get(k))
        run_plan = plan(network, own, params.mode, stock, cut)
        if engine == "reference":
            run = run_reference(network, run_plan, params)
        else:
            links = Links.of(network)
            run = run_batch(network, links, [run_plan], params).run(0, links)
        results.append(
            SimulationResult.from_arrays(network, own, run_plan, params, engine, run, cut, k)
        )
    return results


def coupling_cut(
    upstream: TradeNetwork,
    loss: FloatArray,
    downstream: TradeNetwork,
    floor: float | FloatArray = 0.0,
) -> FloatArray:
    """``cut^{k+1} = min(P^{k+1}, y * L^k)`` with ``y = min(1, P^{k+1} / max(D^k, 0))``.

    ``loss`` is ``L^k`` in country order (or one row per run, shape ``(runs, n)``); the two
    networks are aligned stages. A country that consumes nothing upstream (``D^k <= 0``) has a
    conversion share of 0. A cut at or below ``floor`` (per run: ``eps_pass`` times the
    upstream stage's initial shock) is rounding dust, not a loss of output, and is dropped:
    the same threshold at which step 1 of a round absorbs a pending loss instead of passing it
    on. Without it, losses of 1e-16 t left by the upstream cascade (which differ between the
    engines in the last bits) would start a downstream stage of their own.

    >>> up = TradeNetwork(("M", "R"), [[0, 100], [0, 0]], [100, 0])
    >>> down = TradeNetwork(("M", "R"), [[0, 0], [0, 0]], [0, 90])
    >>> coupling_cut(up, np.array([0.0, 50.0]), down).tolist()
    [0.0, 45.0]
    """
    consumed = np.maximum(upstream.demand_array, 0.0)
    output = downstream.P
    share = np.zeros(len(output))
    np.divide(output, consumed, out=share, where=consumed > 0)
    share = np.minimum(share, 1.0)
    cut: FloatArray = np.minimum(output, share * np.asarray(loss, np.float64))
    least = np.asarray(floor, np.float64)
    if cut.ndim > 1:
        least = least.reshape(-1, 1)  # one floor per run (row)
    cut[cut <= least] = 0.0
    return cut


def align_stages(networks: Sequence[TradeNetwork]) -> list[TradeNetwork]:
    """The stages over the union of their countries, in one unit.

    A country missing from a stage is added with no flows and no output.

    Raises
    ------
    ValueError
        On no stage, or stages in different units.
    """
    stages = list(networks)
    if not stages or not all(isinstance(n, TradeNetwork) for n in stages):
        raise ValueError("a chain needs at least one stage, each a TradeNetwork")
    units = sorted({n.unit for n in stages})
    if len(units) > 1:
        raise ValueError(f"the stages mix units {units}; a chain is in one unit (contained metal)")
    union = tuple(sorted(set().union(*(n.countries for n in stages))))
    out = []
    for network in stages:
        if network.countries == union:
            out.append(network)
            continue
        at = pd.Index(union).get_indexer(network.countries)
        W = np.zeros((len(union), len(union)))
        W[np.ix_(at, at)] = network.W
        P = np.zeros(len(union))
        P[at] = network.P
        out.append(TradeNetwork(union, W, P, network.unit))
    return out


def engine_and_parameters(parameters: Mapping[str, Any], unit: str) -> tuple[str, Parameters]:
    """The engine (``engine=``, default ``fast``) and the other ``parameters``, resolved for
    networks in ``unit``."""
    fields = dict(parameters)
    engine = fields.pop("engine", "fast")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    return engine, Parameters(**fields).resolved(unit)
