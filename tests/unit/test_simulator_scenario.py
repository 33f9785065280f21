"""Shocks, parameters and simulate(): validation and hand-checked cascades."""

import math

import numpy as np
import pandas as pd
import pytest

from critmin.simulator import Parameters, Shock, TradeNetwork, simulate


@pytest.fixture
def chain() -> TradeNetwork:
    """The worked example of docs/model.md: A -> B 100 t, B -> C 50 t, A produces 100 t."""
    flows = pd.DataFrame({"exporter": ["A", "B"], "importer": ["B", "C"], "quantity": [100, 50]})
    return TradeNetwork.from_frames(flows, pd.DataFrame({"country": ["A"], "quantity": [100]}))


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.0000001, math.nan, math.inf, True, "1"])
def test_shock_fraction_outside_zero_one_is_rejected(fraction: object) -> None:
    with pytest.raises(ValueError, match="fraction"):
        Shock("A", fraction)  # type: ignore[arg-type]


def test_shock_normalises_its_fields() -> None:
    shock = Shock("A", 1, targets=["C", "B", "C"])
    assert shock == Shock("A", 1.0, ("B", "C"))
    assert isinstance(shock.fraction, float)
    assert hash(shock) == hash(Shock("A", 1.0, ("B", "C")))
    with pytest.raises(ValueError, match="at least one importer"):
        Shock("A", 1.0, targets=[])
    with pytest.raises(ValueError, match="cannot target itself"):
        Shock("A", 1.0, targets=["A"])
    with pytest.raises(ValueError, match="list of ISO3 codes"):
        Shock("A", 1.0, targets="CHN")
    with pytest.raises(ValueError, match="ISO3"):
        Shock("", 1.0)


def test_parameters_defaults_resolve_per_unit() -> None:
    assert Parameters().resolved("t").fail_abs == 1e-3
    assert Parameters().resolved("USD").fail_abs == 1_000.0
    assert Parameters(fail_abs=5).resolved("USD").fail_abs == 5.0


@pytest.mark.parametrize(
    "bad",
    [
        {"alpha": 1.5},
        {"alpha": -0.1},
        {"absorb": 2},
        {"eps_pass": -1},
        {"tol": math.nan},
        {"max_rounds": 2.5},
        {"max_rounds": -1},
        {"max_rounds": True},
        {"fail_abs": -1},
        {"fail_rel": math.inf},
        {"supplier_cap": "demand"},
        {"mode": "import"},
        {"engine": "gpu"},
    ],
)
def test_bad_parameter_values_raise_value_error(
    chain: TradeNetwork, bad: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        simulate(chain, Shock("A", 1.0), **bad)


def test_unknown_parameter_raises_type_error(chain: TradeNetwork) -> None:
    with pytest.raises(TypeError, match="beta"):
        simulate(chain, Shock("A", 1.0), beta=0.3)


def test_shocks_must_name_known_countries_once(chain: TradeNetwork) -> None:
    with pytest.raises(ValueError, match="shock source"):
        simulate(chain, Shock("ZZZ", 1.0))
    with pytest.raises(ValueError, match="targets of A not in the network: Q"):
        simulate(chain, Shock("A", 1.0, targets=["Q"]))
    with pytest.raises(ValueError, match="once per run"):
        simulate(chain, [Shock("A", 1.0), Shock("A", 0.5)])
    with pytest.raises(ValueError, match="non-empty"):
        simulate(chain, [])
    with pytest.raises(ValueError, match="production mode"):
        simulate(chain, Shock("A", 1.0, targets=["B"]), mode="production")


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_worked_example(chain: TradeNetwork, engine: str) -> None:
    full = simulate(chain, Shock("A", 1.0), engine=engine)
    assert full.demand_loss.to_dict() == {"A": 0.0, "B": 50.0, "C": 50.0}
    assert (full.rounds, full.initial_shock, full.n_failed) == (2, 100.0, 2)
    assert full.first_round.tolist() == [pd.NA, 0, 1]
    assert full.gross_hit.to_dict() == {"A": 0.0, "B": 100.0, "C": 50.0}
    assert full.relative_loss.isna().tolist() == [True, False, False]  # D_A = 0
    half = simulate(chain, Shock("A", 0.5), engine=engine)
    # Geometric sums, exact up to the last losses below eps_pass * S0, absorbed where they are.
    assert half.demand_loss["B"] == pytest.approx(50 * 0.2 / 0.84, abs=1e-9 * 50)  # 11.905
    assert half.demand_loss["C"] == pytest.approx(50 * 0.64 / 0.84, abs=1e-9 * 50)  # 38.095
    assert half.demand_loss.sum() == pytest.approx(50.0, rel=1e-12)
    edges = half.transmitted.set_index(["source", "target"])
    assert edges.loc[("C", "B"), "first_round"] == 2  # C asks B for more in round 2


def test_result_records_every_parameter(chain: TradeNetwork) -> None:
    result = simulate(chain, Shock("A", 0.5, targets=["B"]), alpha=0.7, engine="reference")
    assert result.parameters == {
        "alpha": 0.7,
        "absorb": 0.0,
        "supplier_cap": "none",
        "eps_pass": 1e-9,
        "tol": 1e-12,
        "max_rounds": 10_000,
        "fail_abs": 1e-3,
        "fail_rel": 0.0,
        "mode": "export",
        "engine": "reference",
    }
    summary = result.summary()
    assert summary["sources"] == "A"
    assert summary["targets"] == "A>B"
    assert summary["n_countries"] == 3
    assert summary["fraction"] == 0.5
    assert summary["n_failed"] == result.n_failed
    assert result.sources == ("A",)


def test_partial_year_ban_scales_a_linear_cascade() -> None:
    # B's exports dwarf what it can lose, C and D export nothing and can always ask B: no
    # cap binds, so a four-month ban (f = 4/12) costs exactly a third of a full one.
    flows = pd.DataFrame(
        {"exporter": ["A", "B", "B"], "importer": ["B", "C", "D"], "quantity": [30, 900, 600]}
    )
    net = TradeNetwork.from_frames(flows)
    full = simulate(net, Shock("A", 1.0), engine="reference")
    ban = simulate(net, Shock("A", 4 / 12), engine="reference")
    assert ban.initial_shock == pytest.approx(10.0)
    np.testing.assert_allclose(ban.demand_loss, full.demand_loss / 3, rtol=1e-9, atol=1e-12)
    assert ban.demand_loss.sum() == pytest.approx(10.0, rel=1e-12)


def test_targeted_embargo_cuts_only_the_named_link() -> None:
    flows = pd.DataFrame({"exporter": ["A", "A"], "importer": ["B", "C"], "quantity": [40, 60]})
    net = TradeNetwork.from_frames(flows)
    result = simulate(net, Shock("A", 1.0, targets=["C"]), engine="reference")
    assert result.initial_shock == 60.0
    assert result.demand_loss.to_dict() == {"A": 0.0, "B": 0.0, "C": 60.0}
    assert result.final_flows is not None
    assert result.final_flows.to_dict("list") == {
        "exporter": ["A"],
        "importer": ["B"],
        "quantity": [40.0],
    }


def test_no_shock_no_rounds(chain: TradeNetwork) -> None:
    result = simulate(chain, Shock("C", 1.0))  # C exports nothing
    assert (result.initial_shock, result.rounds, result.n_failed) == (0.0, 0, 0)
    assert result.transmitted.empty
    assert result.first_round.isna().all()


def test_max_rounds_zero_leaves_the_shock_where_it_lands(chain: TradeNetwork) -> None:
    result = simulate(chain, Shock("A", 1.0), max_rounds=0)
    assert result.rounds == 0
    assert result.demand_loss.to_dict() == {"A": 0.0, "B": 100.0, "C": 0.0}


def test_failure_thresholds(chain: TradeNetwork) -> None:
    assert simulate(chain, Shock("A", 1.0), fail_abs=50).n_failed == 0  # strictly above
    assert simulate(chain, Shock("A", 1.0), fail_rel=0.99).n_failed == 2  # L = D for B and C
    assert simulate(chain, Shock("A", 1.0), fail_rel=1.0).n_failed == 0


def test_production_mode_shocks_the_source_first(chain: TradeNetwork) -> None:
    result = simulate(chain, Shock("A", 0.5), mode="production", engine="reference")
    assert result.initial_shock == 50.0
    # A cuts its exports to B by 40 and cannot ask anyone for the other 10.
    assert result.demand_loss["A"] == pytest.approx(10.0)
    assert result.demand_loss.sum() == pytest.approx(50.0)
    assert not result.failed["A"]  # sources never fail
    assert result.first_round["A"] == 0


def test_absorb_keeps_a_share_at_home(chain: TradeNetwork) -> None:
    everything = simulate(chain, Shock("A", 1.0), absorb=1.0, engine="reference")
    assert everything.demand_loss.to_dict() == {"A": 0.0, "B": 100.0, "C": 0.0}
    # eps_pass=0 lets the cascade run out the geometric series the test sums.
    half = simulate(chain, Shock("A", 1.0), absorb=0.5, eps_pass=0.0, engine="reference")
    # Round 1: B keeps 50, cuts 40 to C, cannot ask for 10. Then C keeps half of what comes,
    # asks B for a tenth, B keeps that but passes on 0.4: cycles shrink by 0.1 * 0.4.
    c_hits = 40 / (1 - 0.04)
    assert half.demand_loss["C"] == pytest.approx(0.9 * c_hits, rel=1e-9)
    assert half.demand_loss["B"] == pytest.approx(60 + 0.6 * 0.1 * c_hits, rel=1e-9)


def test_supplier_cap_limits_requests_to_remaining_demand() -> None:
    # C loses 10 and asks its only eligible supplier B for 2 more, but B consumes only 1.
    flows = pd.DataFrame({"exporter": ["A", "B"], "importer": ["C", "C"], "quantity": [10, 5]})
    production = pd.DataFrame({"country": ["B"], "quantity": [6]})
    net = TradeNetwork.from_frames(flows, production)
    exact = {"eps_pass": 0.0, "engine": "reference"}  # run out the geometric series
    free = simulate(net, Shock("A", 1.0), **exact)
    capped = simulate(net, Shock("A", 1.0), supplier_cap="supply", **exact)
    # From a request r on, B keeps 0.2 r and sends 0.8 r back; C keeps 0.8 of that and asks
    # for 0.2 of it again: each exchange shrinks by 0.16.
    assert free.demand_loss["B"] == pytest.approx(0.2 * 2 / 0.84, rel=1e-9)
    assert capped.demand_loss["B"] == pytest.approx(0.2 + 0.2 * 0.16 / 0.84, rel=1e-9)
    assert capped.demand_loss["C"] == pytest.approx(9 + 0.8 * 0.8 / 0.84, rel=1e-9)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_supplier_room_shrinks_with_its_own_loss(engine: str) -> None:
    # B's demand is 5. In round 1 it grants C's request of 2 and absorbs 5 itself; in round 2 it
    # has no room left (5 - 5), so C's next requests are refused and C absorbs them.
    flows = pd.DataFrame(
        {"exporter": ["A", "A", "B"], "importer": ["B", "C", "C"], "quantity": [10, 10, 5]}
    )
    net = TradeNetwork.from_frames(flows)
    result = simulate(net, Shock("A", 1.0), supplier_cap="supply", engine=engine)
    assert result.demand_loss.to_dict() == pytest.approx({"A": 0.0, "B": 5.4, "C": 14.6})
    edges = result.transmitted.set_index(["source", "target"])
    assert edges.loc[("C", "B"), "quantity"] == pytest.approx(2.0)
    assert edges.loc[("C", "B"), "first_round"] == 1


def test_dwindling_flows_do_not_overflow() -> None:
    # Found by the property tests: a flow cut again and again shrinks to ~1e-311 t, and the
    # request over it must not overflow (warnings are errors in this suite).
    W = np.array([[0, 0, 1, 1], [0, 0, 0, 1], [0, 1, 0, 0], [1, 1, 1, 0]], dtype=float)
    net = TradeNetwork(("ARG", "BRA", "CHN", "DEU"), W, np.array([0, 0, 0, 2.0]))
    params = {"alpha": 0.5, "supplier_cap": "supply", "max_rounds": 300}
    runs = [simulate(net, Shock("ARG", 1.0), engine=e, **params) for e in ("reference", "fast")]
    for result in runs:
        assert result.demand_loss.sum() == pytest.approx(2.0, rel=1e-9)
    np.testing.assert_allclose(runs[0].demand_loss, runs[1].demand_loss, rtol=1e-9, atol=1e-9)
