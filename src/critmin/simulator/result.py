"""What a run produces: raw arrays from an engine, and the labelled result users read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from critmin.simulator.network import FloatArray, TradeNetwork
from critmin.simulator.scenario import Parameters, Plan, Shock, preset_of

__all__ = [
    "RunArrays",
    "SimulationResult",
    "failed_mask",
    "nullable_rounds",
    "relative_loss",
    "run_record",
]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RunArrays:
    """One run's output in country positions, as both engines return it.

    ``stock_drawn`` is what each country took from its stockpile (zeros without stockpiles);
    ``unbalanced`` what it settled beyond its consumption with no exports left to cut (part
    of ``demand_loss``; zeros unless ``demand_cap="consumption"``);
    ``first_round`` is -1 for a country never hit; the ``edge_*`` arrays list the positive
    entries of the transmitted-loss matrix ``T`` in row-major order (by source, then target:
    countries are sorted, so also by name); ``final_flows`` is ``W`` at the end of the cascade
    when the engine keeps it.
    """

    demand_loss: FloatArray
    stock_drawn: FloatArray
    unbalanced: FloatArray
    gross_hit: FloatArray
    first_round: IntArray
    rounds: int
    initial_shock: float
    edge_source: npt.NDArray[np.intp]
    edge_target: npt.NDArray[np.intp]
    edge_quantity: FloatArray
    edge_first_round: IntArray
    final_flows: FloatArray | None = None

    @classmethod
    def from_dense(
        cls,
        L: FloatArray,
        H: FloatArray,
        first: IntArray,
        rounds: int,
        S0: float,
        T: FloatArray,
        T_first: IntArray,
        W: FloatArray,
        drawn: FloatArray,
        unbalanced: FloatArray,
    ) -> RunArrays:
        """Collect a run kept in dense ``n x n`` matrices ``T`` and ``W``."""
        source, target = np.nonzero(T)
        return cls(
            L,
            drawn,
            unbalanced,
            H,
            first,
            rounds,
            S0,
            source,
            target,
            T[source, target],
            T_first[source, target],
            W,
        )


def relative_loss(loss: FloatArray, demand: FloatArray) -> FloatArray:
    """``loss / demand`` where the demand is positive, NaN elsewhere (broadcasts)."""
    out = np.full(np.broadcast(loss, demand).shape, np.nan)
    np.divide(loss, demand, out=out, where=demand > 0)
    return out


def failed_mask(
    loss: FloatArray, demand: FloatArray, is_source: npt.NDArray[np.bool_], params: Parameters
) -> npt.NDArray[np.bool_]:
    """Failure flags: loss above ``fail_abs`` and, where ``D > 0``, above ``fail_rel * D``.

    Sources never fail. Arrays broadcast, so a batch of runs is one call.
    """
    assert params.fail_abs is not None, "resolve the parameters for the network's unit first"
    relative_ok = (demand <= 0) | (loss > params.fail_rel * demand)
    return (loss > params.fail_abs) & relative_ok & ~is_source


def run_record(
    sources: str,
    fraction: float,
    unit: str,
    initial_shock: float,
    rounds: int,
    n_failed: int,
    n_countries: int,
    parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """One run's summary row: the columns of ``SweepResult.runs`` after ``year``.

    ``preset`` names the model variant (:attr:`Parameters.preset`) the parameters match.
    """
    record: dict[str, Any] = {
        "sources": sources,
        "fraction": fraction,
        "mode": parameters["mode"],
        "preset": preset_of(parameters),
        "unit": unit,
        "initial_shock": initial_shock,
        "rounds": rounds,
        "n_failed": n_failed,
        "n_countries": n_countries,
    }
    record.update((k, v) for k, v in parameters.items() if k != "mode")
    return record


def nullable_rounds(first_round: npt.NDArray[np.integer[Any]]) -> pd.arrays.IntegerArray:
    """Rounds as ``Int64``, with ``<NA>`` for the -1 that engines use for 'never'."""
    return pd.arrays.IntegerArray(first_round.astype(np.int64), first_round < 0)


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of one cascade, labelled by ISO3 code in the network's unit.

    Attributes
    ----------
    demand_loss, relative_loss, gross_hit : Series
        ``L_i``, ``L_i / D_i`` (NaN where ``D_i <= 0``) and the gross hits ``H_i``.
    stock_drawn : Series
        What each country took from its stockpile (0 without one). Drawn stock is neither
        demand loss nor passed on: ``demand_loss.sum() + stock_drawn.sum() == initial_shock``.
    unbalanced : Series
        With ``demand_cap="consumption"``, the part of ``demand_loss`` a country settled beyond
        its consumption because it had no exports left to cut (only inconsistent data, such as
        a negative apparent consumption, produce it); 0 otherwise.
    coupling_cut : Series
        In a supply chain, the cut of each country's output at this stage caused by its loss
        at the stage before (``cut^k`` of docs/model.md); 0 for a single network or stage 0.
    first_round : Series of Int64
        Round in which each country was first hit (0 for the shock), ``<NA>`` if never.
    failed : Series of bool
        ``L_i > fail_abs`` and, where ``D_i > 0``, ``L_i > fail_rel * D_i``; sources never fail.
    rounds : int
        Rounds used after round 0.
    initial_shock : float
        ``S0``, the loss created in round 0.
    transmitted : DataFrame
        Columns ``source, target, quantity, first_round``: the loss each country passed to
        another, and the round it first did (0 for the shock's own links); sorted by source,
        then target.
    parameters : dict
        Every parameter of the run, defaults resolved, and the ``engine``
        (:meth:`Parameters.as_dict`: ``demand_cap`` only when not ``"none"``).
    preset : str
        The model variant the parameters match (``paper``, ``physical`` or ``custom``).
    stage : int
        The stage of a supply chain this run is (0 for a single network).
    shocks : tuple of Shock
        The shocks as given.
    unit : str
        The network's unit.
    final_flows : DataFrame or None
        Positive flows after the cascade (``exporter, importer, quantity``); reference engine only.
    stockpiles : dict
        The stockpile each country started with, in the network's unit (months converted);
        empty without stockpiles.
    """

    demand_loss: pd.Series
    relative_loss: pd.Series
    gross_hit: pd.Series
    first_round: pd.Series
    failed: pd.Series
    rounds: int
    initial_shock: float
    transmitted: pd.DataFrame
    parameters: dict[str, Any]
    shocks: tuple[Shock, ...]
    unit: str
    final_flows: pd.DataFrame | None = None
    stock_drawn: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    stockpiles: dict[str, float] = field(default_factory=dict)
    unbalanced: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    coupling_cut: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    preset: str = "paper"
    stage: int = 0

    @classmethod
    def from_arrays(
        cls,
        network: TradeNetwork,
        shocks: Sequence[Shock],
        plan: Plan,
        params: Parameters,
        engine: str,
        run: RunArrays,
        coupling_cut: FloatArray | None = None,
        stage: int = 0,
    ) -> SimulationResult:
        """Label an engine's arrays with the network's countries (stockpiles from ``plan``).

        ``coupling_cut`` is the chain's cut of each country's output at this ``stage``.
        """
        demand = network.demand_array
        is_source = np.isin(np.arange(network.n), plan.sources)
        names = np.asarray(network.countries, dtype=object)

        def series(values: npt.ArrayLike, name: str, dtype: str | None = None) -> pd.Series:
            return pd.Series(values, index=network.index, name=name, dtype=dtype)

        transmitted = pd.DataFrame(
            {
                "source": names[run.edge_source],
                "target": names[run.edge_target],
                "quantity": run.edge_quantity,
                "first_round": run.edge_first_round.astype(np.int64),
            }
        )
        final = None
        if run.final_flows is not None:
            final = TradeNetwork(
                network.countries, run.final_flows, network.P, network.unit
            ).flows()
        return cls(
            demand_loss=series(run.demand_loss, "demand_loss"),
            relative_loss=series(relative_loss(run.demand_loss, demand), "relative_loss"),
            gross_hit=series(run.gross_hit, "gross_hit"),
            first_round=series(nullable_rounds(run.first_round), "first_round"),
            failed=series(
                failed_mask(run.demand_loss, demand, is_source, params), "failed", "bool"
            ),
            rounds=run.rounds,
            initial_shock=run.initial_shock,
            transmitted=transmitted,
            parameters={**params.as_dict(), "engine": engine},
            shocks=tuple(shocks),
            unit=network.unit,
            final_flows=final,
            stock_drawn=series(run.stock_drawn, "stock_drawn"),
            unbalanced=series(run.unbalanced, "unbalanced"),
            coupling_cut=series(
                np.zeros(network.n) if coupling_cut is None else coupling_cut, "coupling_cut"
            ),
            preset=params.preset,
            stage=stage,
            stockpiles={
                network.countries[i]: float(q)
                for i, q in zip(plan.stock_country, plan.stock_quantity, strict=True)
            },
        )

    @property
    def sources(self) -> tuple[str, ...]:
        """ISO3 codes of the shocked countries."""
        return tuple(s.source for s in self.shocks)

    @property
    def n_failed(self) -> int:
        """Number of failed countries."""
        return int(self.failed.sum())

    def summary(self) -> dict[str, Any]:
        """The run as one flat record (the row ``sweep`` would write for it).

        ``sources`` is the ';'-joined sorted ISO3 codes; ``fraction`` is NaN when the shocks
        differ in size; ``targets`` lists ``source>importer`` pairs of targeted shocks;
        ``stockpiles`` lists ``country=quantity`` (in the network's unit), ';'-joined.
        """
        fractions = {s.fraction for s in self.shocks}
        record = run_record(
            sources=";".join(sorted(self.sources)),
            fraction=fractions.pop() if len(fractions) == 1 else float("nan"),
            unit=self.unit,
            initial_shock=self.initial_shock,
            rounds=self.rounds,
            n_failed=self.n_failed,
            n_countries=len(self.demand_loss),
            parameters=self.parameters,
        )
        record["targets"] = ";".join(
            sorted(f"{s.source}>{t}" for s in self.shocks for t in s.targets or ())
        )
        record["stockpiles"] = ";".join(f"{c}={q!r}" for c, q in sorted(self.stockpiles.items()))
        record["stage"] = self.stage
        return record
