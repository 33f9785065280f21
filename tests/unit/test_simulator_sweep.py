"""sweep(): the runs, the tidy tables, and the paper's source and loss tables."""

import numpy as np
import pandas as pd
import pytest

from critmin.simulator import Shock, SweepResult, TradeNetwork, simulate, sweep


def network(rows: list[tuple[str, str, float]], **kwargs: object) -> TradeNetwork:
    flows = pd.DataFrame(rows, columns=["exporter", "importer", "quantity"])
    return TradeNetwork.from_frames(flows, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def panel() -> dict[int, TradeNetwork]:
    """2020 is the worked example; in 2021 only A -> B trades, and D shows up without trade."""
    production = pd.DataFrame({"country": ["A"], "quantity": [100.0]})
    return {
        2020: network([("A", "B", 100), ("B", "C", 50)], production=production),
        2021: network([("A", "B", 100)], production=production, countries=["D"]),
    }


def test_runs_cover_every_exporter_year_and_fraction(panel: dict[int, TradeNetwork]) -> None:
    result = sweep(panel)
    runs = result.runs.set_index(["year", "sources", "fraction"])
    assert sorted(runs.index) == sorted(
        (y, s, f) for y, s in [(2020, "A"), (2020, "B"), (2021, "A")] for f in (1.0, 0.5)
    )
    assert runs["n_failed"].to_dict() == {
        (2020, "A", 1.0): 2,  # B and C (the worked example)
        (2020, "B", 1.0): 1,  # C loses 50 and has nobody to turn to
        (2021, "A", 1.0): 1,  # B absorbs all 100
        (2020, "A", 0.5): 2,
        (2020, "B", 0.5): 1,
        (2021, "A", 0.5): 1,
    }
    assert runs.loc[(2020, "A", 1.0), "rounds"] == 2
    assert runs.loc[(2021, "A", 1.0), "n_countries"] == 3
    assert list(result.runs.columns) == [
        "year", "sources", "fraction", "mode", "preset", "unit", "initial_shock", "rounds",
        "n_failed", "n_countries", "alpha", "absorb", "supplier_cap", "eps_pass", "tol",
        "max_rounds", "fail_abs", "fail_rel", "engine",
    ]  # fmt: skip
    assert (result.runs["fail_abs"] == 1e-3).all()
    assert result.years == (2020, 2021)
    assert result.panel == ("A", "B", "C", "D")


def test_impacts_and_transmitted_tables(panel: dict[int, TradeNetwork]) -> None:
    result = sweep(panel, fractions=[1.0], keep_share=0.6)
    impacts = result.impacts.query("year == 2020 and sources == 'A'").set_index("country")
    assert impacts["demand_loss"].to_dict() == {"B": 50.0, "C": 50.0}
    assert impacts["gross_hit"].to_dict() == {"B": 100.0, "C": 50.0}
    assert impacts["relative_loss"].to_dict() == {"B": 1.0, "C": 1.0}
    assert impacts["first_round"].tolist() == [0, 1]
    assert str(impacts["first_round"].dtype) == "Int64"
    assert impacts["failed"].tolist() == [True, True]
    assert list(result.impacts.columns) == [
        "year", "sources", "fraction", "country", "demand_loss", "stock_drawn", "unbalanced",
        "relative_loss", "gross_hit", "first_round", "failed",
    ]  # fmt: skip
    assert (result.impacts["stock_drawn"] == 0.0).all()  # no stockpiles
    # keep_share=0.6: B -> C carried 50 of a 100 t shock and is left out.
    edges = result.transmitted.query("year == 2020 and sources == 'A'")
    assert edges[["source", "target", "quantity", "first_round"]].values.tolist() == [
        ["A", "B", 100.0, 0]
    ]
    assert list(result.transmitted.columns) == [
        "year", "sources", "fraction", "source", "target", "quantity", "first_round",
    ]  # fmt: skip


def test_source_table_counts_failures_over_years_and_panel(panel: dict[int, TradeNetwork]) -> None:
    table = sweep(panel).source_table()
    full = table[table["fraction"] == 1.0]
    assert full[["rank", "source", "total_failed", "years_active"]].values.tolist() == [
        [1, "A", 3, 2],
        [2, "B", 1, 1],
    ]
    # Y = 2 years, N = 4 countries (A, B, C and D)
    assert full["failure_rate"].tolist() == [3 / 8, 1 / 8]
    assert table["fraction"].tolist() == [1.0, 1.0, 0.5, 0.5]
    narrower = sweep(panel).source_table(panel_countries=["A", "B", "C"])
    assert narrower["failure_rate"].iloc[0] == 3 / 6


def test_source_table_reproduces_the_papers_arithmetic() -> None:
    # Table 1 of the cobalt paper: Congo (DRC), 2952 failures over 24 years, 155 countries.
    failures = [123] * 24  # 24 * 123 = 2952
    runs = pd.DataFrame(
        {"year": range(2000, 2024), "sources": "COD", "fraction": 1.0, "n_failed": failures}
    )
    codes = tuple(f"C{i:03d}" for i in range(155))
    empty = pd.DataFrame()
    table = SweepResult(runs, empty, empty, tuple(range(2000, 2024)), codes).source_table()
    assert table.loc[0, "total_failed"] == 2952
    assert round(table.loc[0, "failure_rate"], 2) == 0.79


def test_loss_table_means_over_all_runs_and_over_hits(panel: dict[int, TradeNetwork]) -> None:
    table = sweep(panel, fractions=[1.0]).loss_table()
    # Three runs: 2020 A (B 50, C 50), 2020 B (C 50), 2021 A (B 100).
    assert table.values.tolist() == [
        [1.0, "B", 2, 150 / 3, 75.0],
        [1.0, "C", 2, 100 / 3, 50.0],
    ]
    assert list(table.columns) == [
        "fraction", "country", "runs_hit", "mean_loss_all_runs", "mean_loss_when_hit",
    ]  # fmt: skip


def test_sources_and_coalitions(panel: dict[int, TradeNetwork]) -> None:
    only_b = sweep(panel, fractions=[1.0], sources=["B"])
    assert only_b.runs[["year", "sources"]].values.tolist() == [[2020, "B"]]
    coalition = sweep(panel, fractions=[1.0], sources=["B", "A"], together=True)
    assert coalition.runs[["year", "sources", "initial_shock"]].values.tolist() == [
        [2020, "A;B", 150.0],
        [2021, "A;B", 100.0],  # B is a member without exports this year
    ]
    # In a coalition both are sources, so neither fails; C loses 50 + 50.
    assert coalition.runs["n_failed"].tolist() == [1, 0]


def test_progress_is_reported_as_runs_finish(panel: dict[int, TradeNetwork]) -> None:
    calls: list[tuple[int, int]] = []
    sweep(panel, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (6, 6)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_single_network_and_parameters(panel: dict[int, TradeNetwork]) -> None:
    result = sweep(panel[2020], fractions=[0.5], alpha=0.6, mode="export")
    assert result.years == (None,)
    assert result.runs["year"].isna().all()
    assert (result.runs["alpha"] == 0.6).all()
    assert result.source_table()["years_active"].tolist() == [1, 1]


def test_sweep_matches_simulate_run_by_run() -> None:
    rng = np.random.default_rng(3)
    names = [f"C{i:02d}" for i in range(12)]
    i, j = np.nonzero(rng.random((12, 12)) < 0.3)
    q = rng.lognormal(3, 2, len(i))
    rows = [(names[a], names[b], float(w)) for a, b, w in zip(i, j, q, strict=True)]
    net = network(rows, production=pd.DataFrame({"country": names[:3], "quantity": [500.0] * 3}))
    result = sweep({2000: net}, keep_share=0.0, supplier_cap="supply")
    for source, fraction in result.runs[["sources", "fraction"]].itertuples(index=False):
        alone = simulate(net, Shock(source, fraction), supplier_cap="supply")
        run = result.runs.query("sources == @source and fraction == @fraction").iloc[0]
        assert (run["rounds"], run["n_failed"]) == (alone.rounds, alone.n_failed)
        assert run["initial_shock"] == alone.initial_shock
        rows_ = result.impacts.query("sources == @source and fraction == @fraction")
        hit = alone.demand_loss[(alone.demand_loss > 0) | (alone.gross_hit > 0)]
        assert rows_.set_index("country")["demand_loss"].to_dict() == hit.to_dict()
        edges = result.transmitted.query("sources == @source and fraction == @fraction")
        pd.testing.assert_frame_equal(
            edges[["source", "target", "quantity", "first_round"]].reset_index(drop=True),
            alone.transmitted,
        )


def test_sweep_rejects_bad_input(panel: dict[int, TradeNetwork]) -> None:
    with pytest.raises(TypeError, match="engine"):
        sweep(panel, engine="reference")
    with pytest.raises(ValueError, match="together=True needs"):
        sweep(panel, together=True)
    with pytest.raises(ValueError, match="nothing to sweep"):
        sweep(panel, sources=["ZZZ"])
    with pytest.raises(ValueError, match="shock fraction"):
        sweep(panel, fractions=[0.0])
    with pytest.raises(ValueError, match="keep_share"):
        sweep(panel, keep_share=-1)
    with pytest.raises(ValueError, match="mix units"):
        sweep({2020: panel[2020], 2021: network([("A", "B", 1)], unit="USD")})


def test_targeted_sweep_matches_simulate_with_targets() -> None:
    net = network(
        [("A", "B", 100.0), ("A", "C", 40.0), ("B", "C", 50.0), ("C", "D", 30.0), ("D", "B", 5.0)]
    )
    result = sweep({2000: net}, sources=["A"], targets=["C", "ZZZ"], keep_share=0.0)
    for fraction in (1.0, 0.5):
        alone = simulate(net, Shock("A", fraction, targets=["C"]))
        run = result.runs.query("fraction == @fraction").iloc[0]
        assert run["initial_shock"] == alone.initial_shock == 40.0 * fraction
        losses = result.impacts.query("fraction == @fraction").set_index("country")
        for country, loss in alone.demand_loss[alone.demand_loss > 0].items():
            assert losses.loc[country, "demand_loss"] == pytest.approx(loss, rel=1e-12)
    with pytest.raises(ValueError, match="targets"):
        sweep({2000: net}, sources=["A"], targets=["ZZZ"])
