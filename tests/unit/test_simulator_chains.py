"""The consumption cap, per-shock modes and supply chains (docs/model.md), on random networks.

Networks have 2-6 countries, random links (loops included), isolated countries and hubs whose
demand is <= 0 (the cap's unbalanced case); scenarios mix export and production shocks (one
country may carry both), targeted embargoes, supplier caps and stockpiles. Chains have two or
three stages over overlapping country sets.
"""

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.simulator import (
    PRESETS,
    ChainResult,
    Parameters,
    Shock,
    SimulationResult,
    TradeNetwork,
    simulate,
    simulate_chain,
)
from critmin.simulator.scenario import preset_of
from critmin.simulator.sweep import chain_sweep

NAMES = ("ARG", "BRA", "CHN", "DEU", "EGY", "FRA")
RTOL = 1e-9

quantities = st.one_of(
    st.just(0.0), st.just(0.0), st.floats(1e-3, 1e4), st.sampled_from([1.0, 50.0, 100.0])
)


def networks(draw: st.DrawFn, names: tuple[str, ...]) -> TradeNetwork:
    n = len(names)
    W = np.array(draw(st.lists(quantities, min_size=n * n, max_size=n * n))).reshape(n, n)
    np.fill_diagonal(W, 0.0)
    P = np.array(draw(st.lists(quantities, min_size=n, max_size=n)))
    return TradeNetwork(names, W, P)


def shocks(draw: st.DrawFn, names: tuple[str, ...], stage: int = 0) -> list[Shock]:
    """One to three shocks with their own modes; a source may carry an export and a
    production shock at once."""
    out: dict[tuple[str, str], Shock] = {}
    for _ in range(draw(st.integers(1, 3))):
        source = draw(st.sampled_from(names))
        mode = draw(st.sampled_from([None, "export", "production"]))
        fraction = draw(st.one_of(st.sampled_from([1.0, 0.5]), st.floats(0.01, 1.0)))
        others = [c for c in names if c != source]
        targets = None
        if mode != "production" and draw(st.booleans()):
            targets = draw(st.lists(st.sampled_from(others), min_size=1, unique=True))
        out.setdefault((source, mode or "run"), Shock(source, fraction, targets, mode, stage))
    # A shock without a mode takes the run's: keep one per (source, resolved mode) below.
    return list(out.values())


def parameters(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "alpha": draw(st.one_of(st.sampled_from([0.8, 0.0, 1.0]), st.floats(0.0, 1.0))),
        "absorb": draw(st.sampled_from([0.0, 0.0, 0.3])),
        "supplier_cap": draw(st.sampled_from(["none", "supply"])),
        "demand_cap": draw(st.sampled_from(["consumption", "consumption", "none"])),
        "eps_pass": draw(st.sampled_from([1e-9, 1e-4])),
        "max_rounds": draw(st.sampled_from([300, 300, 0, 1, 7])),
        "mode": draw(st.sampled_from(["export", "production"])),
    }


def deduplicated(found: list[Shock], mode: str) -> list[Shock]:
    """The shocks, one per source and resolved mode (the first kept)."""
    seen: dict[tuple[str, str, int], Shock] = {}
    for s in found:
        resolved = s.mode_in(mode)
        if resolved == "production" and s.targets is not None:
            continue  # a targeted shock without a mode cannot run in production mode
        seen.setdefault((s.source, resolved, s.stage), s)
    return list(seen.values())


@dataclass(frozen=True)
class Case:
    network: TradeNetwork
    shocks: list[Shock]
    parameters: dict[str, Any]
    stockpiles: dict[str, float] = field(default_factory=dict)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    names = NAMES[: draw(st.integers(2, len(NAMES)))]
    params = parameters(draw)
    found = deduplicated(shocks(draw, names), params["mode"])
    if not found:
        found = [Shock(names[0], 1.0, mode="production")]
    holders = draw(st.lists(st.sampled_from(names), unique=True))
    stock = {c: draw(st.sampled_from([0.0, 1.0, 30.0, 1e6])) for c in holders}
    return Case(networks(draw, names), found, params, stock)


def run(case: Case, engine: str) -> SimulationResult:
    return simulate(
        case.network, case.shocks, stockpiles=case.stockpiles, engine=engine, **case.parameters
    )


def assert_close(actual: pd.Series, expected: pd.Series, scale: float) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * scale)


def assert_agree(fast: SimulationResult, reference: SimulationResult) -> None:
    scale = reference.initial_shock
    assert np.isclose(fast.initial_shock, scale, rtol=1e-12, atol=0)
    assert fast.rounds == reference.rounds
    for name in ("demand_loss", "stock_drawn", "unbalanced", "gross_hit", "coupling_cut"):
        assert_close(getattr(fast, name), getattr(reference, name), scale)
    pd.testing.assert_series_equal(fast.first_round, reference.first_round)
    edges = fast.transmitted.merge(
        reference.transmitted, on=["source", "target"], how="outer", suffixes=("_f", "_r")
    )
    assert_close(edges["quantity_f"].fillna(0), edges["quantity_r"].fillna(0), scale)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_engines_agree_with_caps_stockpiles_and_mixed_modes(case: Case) -> None:
    assert_agree(run(case, "fast"), run(case, "reference"))


@settings(max_examples=150, deadline=None)
@given(cases(), st.sampled_from(["fast", "reference"]))
def test_conservation_and_the_consumption_bound(case: Case, engine: str) -> None:
    result = run(case, engine)
    net, S0 = case.network, result.initial_shock
    total = result.demand_loss.sum() + result.stock_drawn.sum()
    assert abs(total - S0) <= RTOL * max(S0, 1e-300)
    assert (result.unbalanced >= 0).all()
    assert (result.unbalanced <= result.demand_loss + RTOL * S0).all()
    if case.parameters["demand_cap"] == "none":
        assert (result.unbalanced == 0).all()
        return
    # The bound L_i <= max(D_i, 0) + unbalanced_i holds for what steps 2-4 settle; step 1
    # settles losses at or below eps_pass * S0 and absorb's share without the cap, and a run
    # stopped by max_rounds settles what is pending as it is.
    if case.parameters["absorb"] > 0 or result.rounds >= case.parameters["max_rounds"]:
        return
    slack = S0 * (case.parameters["eps_pass"] * (result.rounds + 1) + 1e-12 + RTOL)
    bound = np.maximum(net.demand, 0.0) + result.unbalanced + slack
    assert (result.demand_loss <= bound).all(), (result.demand_loss - bound).max()


def test_transit_hub_passes_the_cut_on() -> None:
    hub = TradeNetwork(("A", "C", "T"), [[0, 0, 100], [0, 0, 0], [0, 100, 0]], [100, 0, 0])
    for engine in ("fast", "reference"):
        paper = simulate(hub, Shock("A", 1.0), engine=engine)
        assert paper.rounds == 25
        assert paper.demand_loss.round(4).to_dict() == {"A": 0.0, "C": 76.1905, "T": 23.8095}
        for cap in ("none", "supply"):
            capped = simulate(
                hub, Shock("A", 1.0), engine=engine, demand_cap="consumption", supplier_cap=cap
            )
            assert capped.demand_loss.to_dict() == {"A": 0.0, "C": 100.0, "T": 0.0}
            assert capped.rounds == 2 and not capped.failed["T"]


def test_negative_consumption_is_settled_as_unbalanced() -> None:
    # T reports 100 t of output and 150 t of exports (D_T = -50: inconsistent data). Its exports
    # stop and its output is lost: with no export left to cut and no room in its consumption,
    # the 100 t are settled anyway and reported as unbalanced.
    net = TradeNetwork(("C", "T"), [[0, 0], [150, 0]], [0, 100])
    shocks = [Shock("T", 1.0), Shock("T", 1.0, mode="production")]
    for engine in ("fast", "reference"):
        result = simulate(net, shocks, engine=engine, demand_cap="consumption")
        assert result.initial_shock == 250.0
        assert result.demand_loss.to_dict() == {"C": 150.0, "T": 100.0}
        assert result.unbalanced.to_dict() == {"C": 0.0, "T": 100.0}
        paper = simulate(net, shocks, engine=engine)
        assert paper.demand_loss.to_dict() == {"C": 150.0, "T": 100.0}
        assert (paper.unbalanced == 0).all()
    # A hub whose room binds but whose exports can take the excess leaves nothing unbalanced.
    hub = TradeNetwork(("A", "C", "T"), [[0, 0, 100], [0, 0, 0], [0, 95, 0]], [100, 0, 0])
    for engine in ("fast", "reference"):
        result = simulate(hub, Shock("A", 1.0), engine=engine, demand_cap="consumption")
        assert result.demand_loss.round(9).to_dict() == {"A": 0.0, "C": 95.0, "T": 5.0}
        assert (result.unbalanced == 0).all()


def test_one_country_with_an_export_and_a_production_shock() -> None:
    net = TradeNetwork(("A", "B", "C"), [[0, 100, 0], [0, 0, 50], [0, 0, 0]], [100, 0, 0])
    both = [Shock("A", 0.5), Shock("A", 0.2, mode="production")]
    for engine in ("fast", "reference"):
        result = simulate(net, both, engine=engine)
        assert result.initial_shock == pytest.approx(0.5 * 100 + 0.2 * 100)
        assert result.gross_hit["A"] == pytest.approx(20.0)  # its own production cut
        assert result.demand_loss.sum() == pytest.approx(70.0)
    with pytest.raises(ValueError, match="once per run"):
        simulate(net, [Shock("A", 0.5), Shock("A", 0.2, mode="export")])
    with pytest.raises(ValueError, match="targets apply to export cuts"):
        Shock("A", 0.5, targets=["B"], mode="production")
    with pytest.raises(ValueError, match="simulate_chain"):
        simulate(net, Shock("A", 0.5, stage=1))


def test_presets_and_stable_identities() -> None:
    assert set(PRESETS) == {"paper", "physical"}
    assert Parameters().preset == "paper"
    assert "demand_cap" not in Parameters().as_dict()  # scenario ids of the paper's model
    physical = Parameters.from_preset("physical", alpha=0.5)
    assert physical.as_dict()["demand_cap"] == "consumption"
    assert Parameters(**physical.as_dict()) == physical
    assert preset_of(physical.as_dict()) == "physical"
    assert Parameters(demand_cap="consumption").preset == "custom"
    with pytest.raises(ValueError, match="unknown preset 'food'; the presets are paper, physical"):
        Parameters.from_preset("food")
    with pytest.raises(ValueError, match="demand_cap must be one of"):
        Parameters(demand_cap="yes")
    assert Shock("COD", 0.5, ["CHN"]).key() == ("COD", 0.5, ("CHN",))
    assert Shock("COD", 0.5, mode="production", stage=1).key() == ("COD", 0.5, (), "production", 1)


# Chains -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainCase:
    stages: list[TradeNetwork]
    shocks: list[Shock]
    parameters: dict[str, Any]
    stockpiles: dict[int, dict[str, float]] = field(default_factory=dict)


@st.composite
def chains(draw: st.DrawFn, decoupled: bool = False) -> ChainCase:
    k = draw(st.integers(2, 3))
    params = parameters(draw)
    stages, found = [], []
    for stage in range(k):
        size = draw(st.integers(2, len(NAMES)))
        names = tuple(
            sorted(
                draw(st.lists(st.sampled_from(NAMES), min_size=size, max_size=size, unique=True))
            )
        )
        network = networks(draw, names)
        if decoupled and stage > 0:
            network = TradeNetwork(network.countries, network.W, np.zeros(network.n))
        stages.append(network)
        if stage == 0 or draw(st.booleans()):
            found += shocks(draw, names, stage)
    stock = {}
    for stage, network in enumerate(stages):
        holders = draw(st.lists(st.sampled_from(network.countries), max_size=2, unique=True))
        stock[stage] = {c: draw(st.sampled_from([0.0, 1.0, 30.0, 1e6])) for c in holders}
    fallback = [Shock(stages[0].countries[0], 1.0, mode="production")]
    return ChainCase(stages, deduplicated(found, params["mode"]) or fallback, params, stock)


def run_chain(case: ChainCase, engine: str) -> ChainResult:
    return simulate_chain(
        case.stages, case.shocks, stockpiles=case.stockpiles, engine=engine, **case.parameters
    )


@settings(max_examples=120, deadline=None)
@given(chains())
def test_chain_engines_agree_and_invariants_hold_per_stage(case: ChainCase) -> None:
    fast, reference = run_chain(case, "fast"), run_chain(case, "reference")
    assert len(fast.stages) == len(reference.stages) == len(case.stages)
    union = sorted(set().union(*(n.countries for n in case.stages)))
    # The engines agree to 1e-9 of the chain's shock; a downstream stage started by a cut that
    # small (upstream losses differ in their last bits) is compared at the chain's scale.
    chain_scale = max(s.initial_shock for s in reference.stages)
    for k, (f, r) in enumerate(zip(fast.stages, reference.stages, strict=True)):
        assert f.stage == r.stage == k
        assert list(r.demand_loss.index) == union
        if r.initial_shock > 1e-6 * chain_scale:
            assert_agree(f, r)
        else:
            assert_close(f.demand_loss, r.demand_loss, chain_scale)
        S0 = r.initial_shock
        assert abs(r.demand_loss.sum() + r.stock_drawn.sum() - S0) <= RTOL * max(S0, 1e-300)
        if k == 0:
            assert (r.coupling_cut == 0).all()
            continue
        P = _aligned(case.stages[k], union).P
        upstream = reference.stages[k - 1].demand_loss.to_numpy()
        cut = r.coupling_cut.to_numpy()
        assert (cut >= 0).all() and (cut <= P).all() and (cut <= upstream + 1e-12).all()
        assert (cut[P == 0] == 0).all()


@settings(max_examples=80, deadline=None)
@given(chains(decoupled=True), st.sampled_from(["fast", "reference"]))
def test_chain_without_downstream_output_decouples(case: ChainCase, engine: str) -> None:
    """With every P^k = 0 for k >= 1, each stage is exactly its own single-stage run."""
    chain = run_chain(case, engine)
    union = sorted(set().union(*(n.countries for n in case.stages)))
    for k, stage in enumerate(chain.stages):
        assert (stage.coupling_cut == 0).all()
        own = [replace(s, stage=0) for s in case.shocks if s.stage == k]
        if not own:
            assert stage.initial_shock == 0 and (stage.demand_loss == 0).all()
            continue
        alone = simulate(
            _aligned(case.stages[k], union),
            own,
            stockpiles=case.stockpiles.get(k),
            engine=engine,
            **case.parameters,
        )
        for name in ("demand_loss", "stock_drawn", "unbalanced", "gross_hit", "failed"):
            pd.testing.assert_series_equal(getattr(stage, name), getattr(alone, name))
        pd.testing.assert_frame_equal(stage.transmitted, alone.transmitted)
        assert (stage.rounds, stage.initial_shock) == (alone.rounds, alone.initial_shock)


def _aligned(network: TradeNetwork, union: list[str]) -> TradeNetwork:
    return TradeNetwork.from_frames(
        network.flows(),
        pd.DataFrame({"country": network.countries, "quantity": network.P}),
        countries=union,
    )


def test_chain_worked_example_under_both_presets() -> None:
    ore = TradeNetwork(("M", "R", "U"), [[0, 100, 0], [0, 0, 0], [0, 0, 0]], [100, 0, 0])
    metal = TradeNetwork(("R", "U"), [[0, 60], [0, 0]], [90, 0])
    for preset in PRESETS:
        for engine in ("fast", "reference"):
            full = simulate_chain([ore, metal], Shock("M", 1.0), engine=engine, **PRESETS[preset])
            assert full.preset == preset
            assert full.stages[0].demand_loss.to_dict() == {"M": 0.0, "R": 100.0, "U": 0.0}
            assert full.stages[1].coupling_cut.to_dict() == {"M": 0.0, "R": 90.0, "U": 0.0}
            assert full.stages[1].demand_loss.to_dict() == {"M": 0.0, "R": 30.0, "U": 60.0}
            assert full.stages[1].initial_shock == 90.0
            half = simulate_chain([ore, metal], Shock("M", 0.5), engine=engine, **PRESETS[preset])
            assert half.stages[1].coupling_cut["R"] == 45.0
            loss = half.stages[1].demand_loss
            assert loss["R"] == pytest.approx(10.714285714, rel=1e-9)
            assert loss["U"] == pytest.approx(34.285714286, rel=1e-9)
            summary = half.summary()
            assert summary["coupling_cut"].tolist() == [0.0, 45.0]
    with pytest.raises(ValueError, match="stage 2, but the chain has 2 stage"):
        simulate_chain([ore, metal], Shock("M", 1.0, stage=2))
    with pytest.raises(ValueError, match=r"stockpiles given for stage\(s\) \[3\]"):
        simulate_chain([ore, metal], Shock("M", 1.0), stockpiles={3: {"R": 1.0}})
    with pytest.raises(ValueError, match="mix units"):
        simulate_chain([ore, TradeNetwork(("R",), [[0]], [1], "USD")], Shock("M", 1.0))


def test_chain_sweep_matches_simulate_chain() -> None:
    ore = TradeNetwork(("M", "R", "U"), [[0, 100, 0], [0, 0, 0], [0, 5, 0]], [100, 0, 0])
    metal = TradeNetwork(("R", "U"), [[0, 60], [0, 0]], [90, 0])
    result = chain_sweep({2024: [ore, metal]}, fractions=[1.0, 0.5], demand_cap="consumption")
    assert set(result.runs["preset"]) == {"custom"}
    for _, row in result.runs.iterrows():
        shock = Shock(row["sources"], row["fraction"], stage=int(row["source_stage"]))
        chain = simulate_chain([ore, metal], shock, demand_cap="consumption")
        stage = chain.stages[int(row["stage"])]
        assert row["initial_shock"] == pytest.approx(stage.initial_shock)
        assert row["n_failed"] == stage.n_failed
        mine = result.impacts[
            (result.impacts["sources"] == row["sources"])
            & (result.impacts["fraction"] == row["fraction"])
            & (result.impacts["source_stage"] == row["source_stage"])
            & (result.impacts["stage"] == row["stage"])
        ].set_index("country")
        for country, loss in mine["demand_loss"].items():
            assert loss == pytest.approx(stage.demand_loss[country], abs=1e-9)
            assert mine.loc[country, "coupling_cut"] == pytest.approx(
                stage.coupling_cut[country], abs=1e-12
            )
    across = result.stage(1, source_stage=0)
    assert set(across.runs["sources"]) == {"M", "U"}
    assert not across.source_table().empty
    with pytest.raises(ValueError, match="source_stage <= stage"):
        result.stage(0, source_stage=1)


def test_capped_cut_never_drives_a_flow_negative() -> None:
    """Regression (found by the decoupling test): c + extra = E rounded one ulp above E, and
    the reference engine's flow went to -1e-13, which the final network refused."""
    W = np.array([[0.0, 1361.99535089], [1639.23756102, 0.0]])
    net = TradeNetwork(("ARG", "BRA"), W, np.zeros(2))
    params = {"alpha": 0.15625, "demand_cap": "consumption", "max_rounds": 300}
    reference = simulate(net, Shock("BRA", 1.0), engine="reference", **params)
    assert reference.final_flows is not None
    assert (reference.final_flows["quantity"] >= 0).all()
    assert_agree(simulate(net, Shock("BRA", 1.0), **params), reference)
