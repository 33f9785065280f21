"""A supply chain's stage networks for one year, in contained metal, out of the graph.

Each stage of a chain (:mod:`critmin.loader.chains`) becomes one :class:`TradeNetwork` over the
chain's common country set, in tonnes of contained metal: the flows of the stage's HS codes
(and forms) with their stored ``metal_t``, and the stage's output ``P^k``:

* stage 0: mine production (the stage's PRODUCED series, contained metal);
* a later stage: its PRODUCED series where it has data for the year, else an **estimate**,
  flagged on the stage (:attr:`StageNetwork.production_estimated`) and named in
  :attr:`StageNetwork.production_basis`:

  - ``mass_balance``: ``P^k_i = max(A^{k-1}_i, E^k_i - I^k_i, 0)`` with ``A^{k-1}_i =
    max(D^{k-1}_i, 0)``: a country converts all it consumes of the stage before (no losses, no
    stocks), and made at least what it net-exports;
  - ``net_exports``: ``P^k_i = max(E^k_i - I^k_i, 0)``, for a stage that holds only part of
    the upstream's output (the demo's HS 282200).

The gross tonnes of the same flows are kept beside (:attr:`StageNetwork.gross`, production 0),
and each stage lists its negative apparent consumptions (:attr:`StageNetwork.inconsistencies`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from critmin.loader.chains import Chain, ChainStage, find_chain
from critmin.loader.commodities import CommodityGroup
from critmin.simulator import TradeNetwork
from critmin.store.graph import GraphStore
from critmin.store.networks import (
    GROUP_FLOWS,
    MIN_TONNES_COVERAGE,
    NoTradeData,
    metal_rows,
    negative_consumption,
    pair_totals,
    quantities,
    read_production,
    tonnes_coverage,
)
from critmin.units import Unit


@dataclass(frozen=True)
class StageNetwork:
    """One stage of a chain in one year."""

    stage: ChainStage
    #: Contained metal, with ``P^k``: what ``simulate_chain`` takes.
    network: TradeNetwork
    #: The same flows in gross tonnes, production 0 (gross weight never meets production).
    gross: TradeNetwork
    #: True when ``P^k`` is the project's estimate, not a production series.
    production_estimated: bool
    #: Where ``P^k`` comes from, as outputs should name it.
    production_basis: str
    #: Negative apparent consumptions (:func:`~critmin.store.networks.negative_consumption`).
    inconsistencies: pd.DataFrame


@dataclass(frozen=True)
class ChainNetworks:
    """A chain's stages in one year, over one country set, in contained metal."""

    chain: Chain
    year: int
    stages: tuple[StageNetwork, ...]

    @property
    def networks(self) -> list[TradeNetwork]:
        """``[net_0, net_1, ...]`` for ``simulate_chain``."""
        return [s.network for s in self.stages]

    @property
    def countries(self) -> tuple[str, ...]:
        return self.stages[0].network.countries

    def inconsistencies(self) -> pd.DataFrame:
        """Every stage's negative apparent consumptions, with a ``stage`` column."""
        frames = [s.inconsistencies.assign(stage=s.stage.stage) for s in self.stages]
        return pd.concat(frames, ignore_index=True)


def chain_networks(
    store: GraphStore,
    chain: str | Chain,
    year: int,
    *,
    content: str = "factor",
    missing: str = "impute",
) -> ChainNetworks:
    """The stage networks of ``chain`` in ``year`` (see the module docstring).

    ``content``: the metal-content factor (``factor``, ``low``, ``high``); ``missing``: what a
    flow without tonnes becomes (``impute`` from its value, or ``drop``), as in
    :func:`~critmin.store.networks.read_panel`.

    Raises
    ------
    NoTradeData
        A stage with HS codes has no flows in ``year`` (the message names the codes to load),
        or too few of its flows report tonnes.
    """
    spec = find_chain(chain) if isinstance(chain, str) else chain
    metal: list[pd.DataFrame] = []
    gross: list[pd.DataFrame] = []
    for stage in spec.stages:
        flows_m, flows_g = _stage_flows(store, stage, year, content, missing)
        metal.append(flows_m)
        gross.append(flows_g)
    mine = read_production(store, spec.stages[0].production_commodity, [year])
    countries = sorted(
        set().union(*(set(f["exporter"]) | set(f["importer"]) for f in metal))
        | set(mine.loc[mine["quantity"] > 0, "country"])
    )
    stages: list[StageNetwork] = []
    for k, stage in enumerate(spec.stages):
        flows = metal[k]
        production, estimated, basis = mine, False, _basis(stage, "mine production")
        if k > 0:
            data = read_production(store, stage.production_commodity, [year])
            if not data.empty:
                production, basis = data, _basis(stage, "refinery production")
            else:
                upstream = stages[-1].network if stages else None
                production, estimated = _estimate(stage, flows, upstream), True
                basis = f"estimate ({stage.estimate}): see critmin.store.chains"
        network = TradeNetwork.from_frames(
            flows, production, countries=countries, unit=Unit.METAL.value
        )
        gross_net = TradeNetwork.from_frames(gross[k], None, countries=countries)
        dated = production.assign(year=year) if "year" not in production else production
        stages.append(
            StageNetwork(
                stage=stage,
                network=network,
                gross=gross_net,
                production_estimated=estimated,
                production_basis=basis,
                inconsistencies=negative_consumption(flows.assign(year=year), dated),
            )
        )
    return ChainNetworks(spec, year, tuple(stages))


def _basis(stage: ChainStage, what: str) -> str:
    return f"{what} ({stage.production_commodity}, PRODUCED)"


def _stage_flows(
    store: GraphStore, stage: ChainStage, year: int, content: str, missing: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stage's flows in ``year``: (contained metal, gross tonnes), each ``exporter,
    importer, quantity``."""
    empty = pd.DataFrame({"exporter": [], "importer": [], "quantity": []})
    if not stage.codes:
        return empty, empty
    rows = store.query(GROUP_FLOWS, years=[year], prefixes=list(stage.prefixes))
    codes = ", ".join(f"{c}:{f}" if f else c for c, f in stage.codes)
    if rows.empty:
        raise NoTradeData(
            f"chain {stage.chain} stage {stage.stage} ({stage.name}, HS {codes}) has no TRADES "
            f"in {year}: load them, e.g. `critmin load trades BACI_HS17_V202601.zip --hs "
            f"{' --hs '.join(stage.prefixes)}`"
        )
    rows = rows.astype({"year": "int64", "tonnes": "float64", "value_usd": "float64"})
    coverage = float(tonnes_coverage(rows).min())
    if coverage < MIN_TONNES_COVERAGE:
        raise NoTradeData(
            f"chain {stage.chain} stage {stage.stage}: flows reporting tonnes carry {coverage:.0%} "
            f"of the value in {year}; contained metal needs {MIN_TONNES_COVERAGE:.0%}"
        )
    group = CommodityGroup(stage.commodity, stage.name, stage.prefixes)
    rows = metal_rows(rows, group, content)
    keep = [stage.selects(h, f) for h, f in zip(rows["hs"], rows["metal_form"], strict=True)]
    rows = rows.loc[keep]
    in_metal, _ = quantities(rows.copy(), "metal_t", ["year", "hs", "metal_form"], missing)
    in_tonnes, _ = quantities(rows.copy(), "tonnes", ["year", "hs"], missing)
    columns = ["exporter", "importer", "quantity"]
    return pair_totals(in_metal)[columns], pair_totals(in_tonnes)[columns]


def _estimate(
    stage: ChainStage, flows: pd.DataFrame, upstream: TradeNetwork | None
) -> pd.DataFrame:
    """``country, quantity``: the stage's estimated output (module docstring)."""
    exports = flows.groupby("exporter")["quantity"].sum()
    imports = flows.groupby("importer")["quantity"].sum()
    net = exports.sub(imports, fill_value=0.0).clip(lower=0.0)
    if stage.estimate == "mass_balance" and upstream is not None:
        consumed = upstream.demand.clip(lower=0.0)
        net = pd.concat([net, consumed], axis=1).max(axis=1)
    net = net[net > 0]
    return pd.DataFrame(
        {"country": net.index.astype(str), "quantity": net.to_numpy(dtype=np.float64)}
    )
