"""Stockpiles: the values they take, the draws of both engines, sweeps, and the stock needed."""

import math

import numpy as np
import pandas as pd
import pytest

from critmin.simulator import (
    Shock,
    Stockpile,
    TradeNetwork,
    parse_stockpiles,
    resolve_stockpiles,
    simulate,
    stock_needed,
    stockpile_months,
    sweep,
)
from critmin.simulator.inverse import STOCK_NEEDED_COLUMNS

ENGINES = ("fast", "reference")


@pytest.fixture
def chain() -> TradeNetwork:
    """The worked example of docs/model.md: A -> B 100 t, B -> C 50 t, A produces 100 t."""
    flows = pd.DataFrame({"exporter": ["A", "B"], "importer": ["B", "C"], "quantity": [100, 50]})
    return TradeNetwork.from_frames(flows, pd.DataFrame({"country": ["A"], "quantity": [100]}))


def conserved(result: object) -> float:
    """``sum(L) + sum(drawn) - S0``, relative to ``S0``."""
    loss = result.demand_loss.sum() + result.stock_drawn.sum()  # type: ignore[attr-defined]
    shock = result.initial_shock  # type: ignore[attr-defined]
    return float(abs(loss - shock) / shock)


# ------------------------------------------------------------------ values


def test_stockpile_values_and_text() -> None:
    assert Stockpile(30) == Stockpile(30.0, in_months=False)
    assert Stockpile.months(3) == Stockpile(3.0, in_months=True)
    for text, expected in [
        ("30", Stockpile(30.0)),
        (" 2.5e3 ", Stockpile(2500.0)),
        ("0", Stockpile(0.0)),
        ("3months", Stockpile.months(3)),
        ("3 months", Stockpile.months(3)),
        ("1month", Stockpile.months(1)),
        ("0.5mo", Stockpile.months(0.5)),
        ("4MONTHS", Stockpile.months(4)),
    ]:
        assert Stockpile.parse(text) == expected, text
    assert str(Stockpile(30)) == "30" and str(Stockpile.months(3)) == "3months"
    assert Stockpile.parse(str(Stockpile.months(1.25))) == Stockpile.months(1.25)
    assert Stockpile.months(6).quantity(demand=240.0) == 120.0
    assert Stockpile.months(6).quantity(demand=-5.0) == 0.0  # a hub has no demand to cover
    assert Stockpile(7).quantity(demand=-5.0) == 7.0


@pytest.mark.parametrize("text", ["", "months", "3 weeks", "-1", "nan", "inf", "3monthsx", "1e999"])
def test_stockpile_text_that_is_not_a_stock_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="stockpile"):
        Stockpile.parse(text)


@pytest.mark.parametrize("amount", [-1.0, math.nan, math.inf, True, "3", None])
def test_stockpile_amount_must_be_a_finite_number_at_least_zero(amount: object) -> None:
    with pytest.raises(ValueError, match="finite number >= 0"):
        Stockpile(amount)  # type: ignore[arg-type]


def test_parse_stockpiles_reads_command_line_items() -> None:
    assert parse_stockpiles(["JPN=30", "USA=3months", "DEU = 1.5 months"]) == {
        "JPN": Stockpile(30.0),
        "USA": Stockpile.months(3),
        "DEU": Stockpile.months(1.5),
    }
    assert parse_stockpiles([]) == {}
    with pytest.raises(ValueError, match="ISO3=QUANTITY"):
        parse_stockpiles(["JPN"])
    with pytest.raises(ValueError, match="ISO3=QUANTITY"):
        parse_stockpiles(["=30"])
    with pytest.raises(ValueError, match="'JPN=-4'"):
        parse_stockpiles(["JPN=-4"])
    with pytest.raises(ValueError, match="JPN given twice"):
        parse_stockpiles(["JPN=1", "JPN=2months"])


def test_resolve_converts_months_with_the_networks_demand(chain: TradeNetwork) -> None:
    # Demands: A 0 (it exports all it produces), B 50, C 50.
    assert resolve_stockpiles(chain, None) == {}
    assert resolve_stockpiles(chain, {"C": Stockpile.months(12), "B": 7}) == {"B": 7.0, "C": 50.0}
    assert resolve_stockpiles(chain, {"A": Stockpile.months(2)}) == {"A": 0.0}
    assert stockpile_months(chain, {"B": 3, "C": 0.6}) == {"B": 12.5, "C": 2.5}
    assert resolve_stockpiles(chain, {"ZZZ": 5, "B": 1}, missing="skip") == {"B": 1.0}


@pytest.mark.parametrize(
    ("stockpiles", "message"),
    [
        ({"JPN": 3}, "stockpile JPN=3: country not in the network"),
        ({"JPN": Stockpile.months(3)}, "stockpile JPN=3months: country not in the network"),
        ({"B": -2.0}, "stockpile B=-2.0: the stock must be a finite number >= 0, got -2.0"),
        ({"B": math.nan}, "stockpile B=nan"),
        ({"B": math.inf}, "stockpile B=inf"),
        ({"B": "30"}, "stockpile B='30'"),
        ({"B": True}, "stockpile B=True"),
        ({3: 1.0}, "not an ISO3 string"),
    ],
)
def test_bad_stockpiles_are_errors_that_name_country_and_value(
    chain: TradeNetwork, stockpiles: dict, message: str
) -> None:
    for engine in ENGINES:
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            simulate(chain, Shock("A", 1.0), stockpiles=stockpiles, engine=engine)
    with pytest.raises(ValueError, match="stockpile"):
        stockpile_months(chain, {"B": -1})
    with pytest.raises(ValueError, match="must map ISO3 codes"):
        resolve_stockpiles(chain, [("B", 1.0)])  # type: ignore[arg-type]


# ------------------------------------------------------------------ one run


@pytest.mark.parametrize("engine", ENGINES)
def test_worked_example_with_a_stockpile(chain: TradeNetwork, engine: str) -> None:
    """docs/model.md: B holds 30 t. It draws 30, cuts B -> C to 0 and absorbs 20; C absorbs 50."""
    result = simulate(chain, Shock("A", 1.0), stockpiles={"B": 30}, engine=engine)
    assert result.demand_loss.to_dict() == {"A": 0.0, "B": 20.0, "C": 50.0}
    assert result.stock_drawn.to_dict() == {"A": 0.0, "B": 30.0, "C": 0.0}
    assert result.stock_drawn.name == "stock_drawn"
    assert result.rounds == 2
    assert result.gross_hit.to_dict() == {"A": 0.0, "B": 100.0, "C": 50.0}  # drawn still hit B
    assert result.failed[result.failed].index.tolist() == ["B", "C"]
    assert result.relative_loss["B"] == pytest.approx(20.0 / 50.0)
    assert conserved(result) <= 1e-12
    assert result.stockpiles == {"B": 30.0}
    assert result.summary()["stockpiles"] == "B=30.0"
    assert "stockpile" not in str(result.parameters)  # a scenario input, not a parameter


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stock_that_covers_the_loss_prevents_failure(chain: TradeNetwork, engine: str) -> None:
    result = simulate(chain, Shock("A", 1.0), stockpiles={"B": 500}, engine=engine)
    assert result.demand_loss.to_dict() == {"A": 0.0, "B": 0.0, "C": 0.0}
    assert result.stock_drawn.to_dict() == {"A": 0.0, "B": 100.0, "C": 0.0}
    assert result.n_failed == 0 and result.rounds == 1
    assert result.transmitted["source"].tolist() == ["A"]  # B passed nothing on


@pytest.mark.parametrize("engine", ENGINES)
def test_stock_is_drawn_until_it_runs_out(chain: TradeNetwork, engine: str) -> None:
    """Half the shock: C loses 40 t in round 1; its stock of 3 months (12.5 t) is all drawn,
    and no more than that."""
    result = simulate(chain, Shock("A", 0.5), stockpiles={"C": Stockpile.months(3)}, engine=engine)
    plain = simulate(chain, Shock("A", 0.5), engine=engine)
    assert result.stock_drawn["C"] == pytest.approx(12.5, rel=1e-12)
    assert result.demand_loss["C"] < plain.demand_loss["C"]
    assert conserved(result) <= 1e-9


@pytest.mark.parametrize("engine", ENGINES)
def test_stock_is_not_drawn_after_the_last_round(chain: TradeNetwork, engine: str) -> None:
    """max_rounds=0: no round runs, so the shock is settled where it landed (step 7)."""
    result = simulate(chain, Shock("A", 1.0), stockpiles={"B": 30}, max_rounds=0, engine=engine)
    assert result.demand_loss.to_dict() == {"A": 0.0, "B": 100.0, "C": 0.0}
    assert result.stock_drawn.sum() == 0.0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_source_draws_on_its_stock_in_production_mode(chain: TradeNetwork, engine: str) -> None:
    result = simulate(
        chain, Shock("A", 0.5), stockpiles={"A": 20}, mode="production", engine=engine
    )
    assert result.initial_shock == 50.0
    assert result.stock_drawn["A"] == 20.0
    assert conserved(result) <= 1e-12


def test_zero_stockpiles_change_nothing(chain: TradeNetwork) -> None:
    for engine in ENGINES:
        plain = simulate(chain, Shock("A", 0.5), engine=engine)
        zero = simulate(chain, Shock("A", 0.5), stockpiles={"B": 0, "C": 0.0}, engine=engine)
        pd.testing.assert_series_equal(zero.demand_loss, plain.demand_loss)
        pd.testing.assert_frame_equal(zero.transmitted, plain.transmitted)
        assert zero.rounds == plain.rounds
        assert (zero.stock_drawn == 0).all() and (plain.stock_drawn == 0).all()
        assert plain.stockpiles == {} and plain.summary()["stockpiles"] == ""


# ------------------------------------------------------------------ sweeps


@pytest.fixture
def panel(chain: TradeNetwork) -> dict[int, TradeNetwork]:
    """2020 is the worked example; 2021 doubles B's imports and has no C."""
    flows = pd.DataFrame({"exporter": ["A"], "importer": ["B"], "quantity": [200.0]})
    return {2020: chain, 2021: TradeNetwork.from_frames(flows)}


def test_sweep_draws_stock_in_every_run_like_simulate(panel: dict[int, TradeNetwork]) -> None:
    stockpiles = {"B": Stockpile.months(6), "C": 10.0}
    result = sweep(panel, fractions=[1.0, 0.5], stockpiles=stockpiles)
    # Six months of B's demand: 25 t in 2020 (D = 50), 100 t in 2021 (D = 200); no C in 2021.
    assert result.stockpiles == {2020: {"B": 25.0, "C": 10.0}, 2021: {"B": 100.0}}
    impacts = result.impacts.set_index(["year", "sources", "fraction", "country"]).sort_index()
    for (year, source, fraction), run in result.runs.groupby(["year", "sources", "fraction"]):
        one = simulate(panel[year], Shock(source, fraction), stockpiles=result.stockpiles[year])
        mine = impacts.loc[(year, source, fraction)]
        np.testing.assert_allclose(mine["stock_drawn"], one.stock_drawn[mine.index], rtol=1e-12)
        np.testing.assert_allclose(mine["demand_loss"], one.demand_loss[mine.index], rtol=1e-12)
        assert run["n_failed"].item() == one.n_failed
        total = mine["demand_loss"].sum() + mine["stock_drawn"].sum()
        assert total == pytest.approx(run["initial_shock"].item(), rel=1e-9)
    assert impacts.loc[(2020, "A", 1.0, "B"), "stock_drawn"] == 25.0
    # Stock drawn is held, not passed on: B's hub figures count it as absorbed.
    countries = result.tables().countries.set_index(["fraction", "country"])
    b = countries.loc[(1.0, "B")]
    assert b["received"] == pytest.approx(b["absorbed"] + b["passed_on"])
    assert b["passed_on"] == pytest.approx(50.0)  # B -> C in 2020 only


def test_sweep_without_stockpiles_is_unchanged(panel: dict[int, TradeNetwork]) -> None:
    plain = sweep(panel)
    zero = sweep(panel, stockpiles={"B": 0.0})
    pd.testing.assert_frame_equal(plain.runs, zero.runs)
    pd.testing.assert_frame_equal(plain.impacts, zero.impacts)
    assert plain.stockpiles == {} and zero.stockpiles == {2020: {"B": 0.0}, 2021: {"B": 0.0}}


def test_sweep_stockpile_errors(panel: dict[int, TradeNetwork]) -> None:
    with pytest.raises(ValueError, match="none of the networks: JPN=3months"):
        sweep(panel, stockpiles={"JPN": Stockpile.months(3), "B": 1})
    with pytest.raises(ValueError, match="stockpile C=-1"):
        sweep(panel, stockpiles={"C": -1})


# ------------------------------------------------------------------ stock needed


def test_stock_needed_in_the_worked_example(chain: TradeNetwork) -> None:
    table = stock_needed(chain, Shock("A", 1.0))
    assert list(table.columns) == STOCK_NEEDED_COLUMNS
    assert table["country"].tolist() == ["B", "C"]
    assert (table["unit"] == "t").all()
    # C is a sink: it needs its loss less the 1 kg the failure rule allows, to the tolerance.
    c = table.set_index("country").loc["C"]
    assert c["stock_needed"] == pytest.approx(50.0 - 1e-3, rel=1e-9)
    assert c["months_of_demand"] == pytest.approx(c["stock_needed"] / (50.0 / 12.0))
    assert c["demand_loss"] == 50.0 and c["threshold"] == 1e-3 and c["demand"] == 50.0
    for country, needed in zip(table["country"], table["stock_needed"], strict=True):
        enough = simulate(chain, Shock("A", 1.0), stockpiles={country: needed})
        short = simulate(chain, Shock("A", 1.0), stockpiles={country: needed * (1 - 1e-8)})
        assert not enough.failed[country]
        assert short.failed[country]


def test_stock_needed_follows_the_failure_rule(chain: TradeNetwork) -> None:
    """fail_rel=0.1: C may lose 10% of its 50 t demand, so it needs 45 t."""
    table = stock_needed(chain, Shock("A", 1.0), fail_rel=0.1).set_index("country")
    assert table.loc["C", "threshold"] == 5.0
    assert table.loc["C", "stock_needed"] == pytest.approx(45.0, rel=1e-9)
    assert table.loc["C", "months_of_demand"] == pytest.approx(10.8, rel=1e-9)


def test_stock_needed_keeps_other_stockpiles_and_answers_for_chosen_countries(
    chain: TradeNetwork,
) -> None:
    # With B holding 100 t, C is never cut, and needs nothing; A is the source (never fails).
    table = stock_needed(chain, Shock("A", 1.0), stockpiles={"B": 100.0}, countries=["C", "A", "C"])
    assert table["country"].tolist() == ["A", "C"]
    assert table["stock_needed"].tolist() == [0.0, 0.0]
    assert math.isnan(table.set_index("country").loc["A", "months_of_demand"])  # D_A = 0
    # B's own given stock is replaced by the stock tried: the answer does not depend on it.
    alone = stock_needed(chain, Shock("A", 1.0), countries=["B"])
    given = stock_needed(chain, Shock("A", 1.0), stockpiles={"B": 30.0}, countries=["B"])
    pd.testing.assert_frame_equal(
        alone.drop(columns="demand_loss"), given.drop(columns="demand_loss")
    )
    assert given["demand_loss"].item() == 20.0  # the scenario as given


def test_no_stock_is_enough_when_the_run_stops_with_loss_pending(chain: TradeNetwork) -> None:
    table = stock_needed(chain, Shock("A", 1.0), max_rounds=0)
    assert table["country"].tolist() == ["B"]
    assert table["stock_needed"].tolist() == [math.inf]


def test_stock_needed_rejects_bad_input(chain: TradeNetwork) -> None:
    with pytest.raises(ValueError, match="countries not in the network: ZZZ"):
        stock_needed(chain, Shock("A", 1.0), countries=["ZZZ"])
    with pytest.raises(ValueError, match="rtol"):
        stock_needed(chain, Shock("A", 1.0), rtol=0.0)
    with pytest.raises(TypeError, match="engine"):
        stock_needed(chain, Shock("A", 1.0), engine="reference")
    with pytest.raises(TypeError):
        stock_needed(chain, Shock("A", 1.0), alhpa=0.5)
