"""The sensitivity grid on small in-memory networks: tau-b, bands, agreement, sharing, parity."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from critmin.analysis.sensitivity import (
    DataVariant,
    Grid,
    GridPoint,
    kendall_tau_b,
    network_key,
    read_variants,
    sensitivity,
)
from critmin.loader.commodities import CommodityGroup
from critmin.simulator import TradeNetwork, sweep
from critmin.simulator.tables import study_tables
from critmin.store import networks as graph_networks

SMALL = Grid(
    alphas=(0.5, 0.8),
    absorbs=(0.0, 0.2),
    rules=("any-loss", "buffer-1pct"),
    fail_abs_scales=(1.0, 10.0),
    presets=("paper",),
)


def network(rows: list[tuple[str, str, float]], unit: str = "t", **kwargs: Any) -> TradeNetwork:
    flows = pd.DataFrame(rows, columns=["exporter", "importer", "quantity"])
    return TradeNetwork.from_frames(flows, unit=unit, **kwargs)


@pytest.fixture
def panel() -> dict[int, TradeNetwork]:
    """2020: the worked example (A -> B -> C) and a tiny flow D -> E of 5 kg; 2021: A -> B."""
    production = pd.DataFrame({"country": ["A"], "quantity": [100.0]})
    return {
        2020: network([("A", "B", 100), ("B", "C", 50), ("D", "E", 0.005)], production=production),
        2021: network([("A", "B", 100)], production=production),
    }


def test_kendall_tau_b_hand_checked() -> None:
    # Pairs of [1, 2, 2, 3] and [1, 3, 2, 2]: (0,1) (0,2) (0,3) concordant, (1,3) discordant,
    # (1,2) tied in x, (2,3) tied in y: (3 - 1) / sqrt((6 - 1) * (6 - 1)) = 0.4.
    assert kendall_tau_b([1, 2, 2, 3], [1, 3, 2, 2]) == pytest.approx(0.4)
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == -1.0
    assert kendall_tau_b([5, 7, 9], [1, 2, 3]) == 1.0
    assert math.isnan(kendall_tau_b([1, 1, 1], [1, 2, 3]))  # no untied pair in x
    assert math.isnan(kendall_tau_b([1], [1]))
    with pytest.raises(ValueError, match="one length"):
        kendall_tau_b([1, 2], [1, 2, 3])


def test_kendall_tau_b_equals_scipys_tau_b_with_ties() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(7)
    for _ in range(20):
        x, y = rng.integers(0, 6, 40), rng.integers(0, 6, 40)
        assert kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)


def test_grid_always_holds_the_default_point() -> None:
    grid = Grid(alphas=(0.5,), absorbs=(0.2,), rules=("buffer-1pct",), fail_abs_scales=(10.0,))
    assert grid.alphas == (0.5, 0.8) and grid.absorbs == (0.0, 0.2)
    assert grid.rules == ("any-loss", "buffer-1pct") and grid.fail_abs_scales == (1.0, 10.0)
    assert grid.presets == ("paper", "physical")  # both by default
    assert len(grid.points(["value", "tonnes"])) == 2 * 2 * 2 * 2 * 2 * 2
    assert Grid(presets=("physical",)).presets == ("paper", "physical")  # the default's kept
    with pytest.raises(ValueError, match="unknown model preset"):
        Grid(presets=("strict",))
    with pytest.raises(ValueError, match="unknown failure rule"):
        Grid(rules=("strict",))
    with pytest.raises(ValueError, match="alpha"):
        Grid(alphas=(1.5,))
    point = GridPoint(0.8, 0.0, "buffer-1pct", 10.0, "value")
    assert point.parameters("USD").fail_abs == 10_000.0
    assert point.parameters("t").fail_abs == pytest.approx(0.01)
    assert point.parameters("t").fail_rel == 0.01
    physical = GridPoint(0.8, 0.0, "share-1pct", 1.0, "metal", "physical").parameters("t_metal")
    assert (physical.preset, physical.fail_abs, physical.fail_rel) == ("physical", 1.0, 0.01)
    # share-1pct's floor is per unit (Unit.failure_floor): 1 t, 10,000 USD, times the scale.
    share = GridPoint(0.8, 0.0, "share-1pct", 10.0, "value")
    assert (share.parameters("USD").fail_abs, share.parameters("t").fail_abs) == (1e5, 10.0)
    assert "share-1pct: 1 t, 1 t contained metal or 10,000 USD" in Grid().describe()


def test_physical_points_equal_a_plain_sweep_under_the_physical_preset(
    panel: dict[int, TradeNetwork],
) -> None:
    grid = Grid(alphas=(0.8,), absorbs=(0.0,), rules=("share-1pct",), fail_abs_scales=(1.0,))
    result = sensitivity(panel, grid, workers=1)
    assert set(result.points["preset"]) == {"paper", "physical"}
    for row in result.points.itertuples():
        point = GridPoint(
            row.alpha, row.absorb, row.failure_rule, row.fail_abs_scale, row.data, row.preset
        )
        params = point.parameters("t")
        plain = sweep(panel, **params.as_dict())
        pd.testing.assert_frame_equal(result.table(row.point), plain.tables().sources)
    # One cascade per network, preset, alpha and absorb (the rules share them).
    paper_only = sensitivity(panel, replace(grid, presets=("paper",)), workers=1)
    assert result.cascades == 2 * paper_only.cascades
    assert "preset" in set(result.effects()["dimension"])


def test_every_point_equals_a_plain_sweep_with_its_parameters(
    panel: dict[int, TradeNetwork],
) -> None:
    result = sensitivity(panel, SMALL, workers=1)
    assert len(result.points) == 2 * 2 * 2 * 2
    # The default point is the plain study, table for table.
    pd.testing.assert_frame_equal(result.table(), sweep(panel).tables().sources)
    for row in result.points.itertuples():
        point = GridPoint(row.alpha, row.absorb, row.failure_rule, row.fail_abs_scale, row.data)
        params = point.parameters("t")
        plain = sweep(panel, alpha=params.alpha, absorb=params.absorb,
                      fail_abs=params.fail_abs, fail_rel=params.fail_rel)  # fmt: skip
        pd.testing.assert_frame_equal(result.table(row.point), plain.tables().sources)
    # One cascade per network, alpha and absorb serves the four failure settings.
    assert result.runs == 16 * (3 + 1) * 2
    assert result.cascades == 4 * (3 + 1) * 2


def test_bands_and_agreement_hand_checked(panel: dict[int, TradeNetwork]) -> None:
    result = sensitivity(panel, SMALL, workers=1)
    # Default (1 kg): A fails B and C in 2020 and B in 2021 (3), B fails C (1), D fails E (1).
    # At fail_abs x10 (10 g) E's 5 g loss is no failure: D drops to 0 failed and rank 3.
    bands = result.bands(top=2).set_index(["fraction", "source"])
    d = bands.loc[(1.0, "D")]
    assert (d["rank"], d["rank_min"], d["rank_max"]) == (2, 2, 3)
    assert (d["total_failed"], d["failed_min"], d["failed_max"]) == (1, 0, 1)
    assert d["top_share"] == 0.5  # in the top 2 at the 8 points with fail_abs x1
    assert d["worst_point"] == "paper alpha=0.5 absorb=0 any-loss fail_abs=x10 data=data"
    a = bands.loc[(1.0, "A")]
    assert (a["rank_min"], a["rank_max"], a["failed_min"], a["failed_max"]) == (1, 1, 3, 3)
    assert a["worst_point"] == ""  # its rank never moves
    assert list(bands.loc[0.5].index) == ["A", "B", "D"]  # the top 2, ties included
    assert set(bands["points"]) == {16}

    agreement = result.agreement(top=2)
    assert len(agreement) == 16 * 2
    at_x10 = agreement[(agreement["fail_abs_scale"] == 10.0) & (agreement["fraction"] == 1.0)]
    # Sources A, B, D: default (3, 1, 1), point (3, 1, 0): 2 concordant pairs, B-D tied in
    # the default only: 2 / sqrt((3 - 1) * 3).
    assert at_x10["kendall_tau_b"].tolist() == pytest.approx([2 / math.sqrt(6)] * 8)
    default = agreement[agreement["is_default"]]
    assert default["kendall_tau_b"].tolist() == [1.0, 1.0]
    assert set(agreement["first"]) == {"A"}
    effects = result.effects(top=2).set_index(["fraction", "dimension", "value"])
    assert effects.loc[(1.0, "fail_abs_scale", "10.0"), "tau_min"] == pytest.approx(
        2 / math.sqrt(6)
    )
    assert effects.loc[(1.0, "fail_abs_scale", "1.0"), "tau_min"] == 1.0


def test_data_variants_share_equal_years_and_may_mix_units(
    panel: dict[int, TradeNetwork],
) -> None:
    # "value": the same flows in USD (x 1000) in 2021 only; 2020 identical to the default's.
    usd_2021 = network([("A", "B", 100_000.0)], unit="USD")
    variants = [
        DataVariant("tonnes", panel),
        DataVariant("value", {2020: panel[2020], 2021: usd_2021}),
    ]
    assert variants[1].unit_label() == "t 2020, USD 2021"
    result = sensitivity(variants, SMALL, fractions=[1.0], workers=1)
    assert result.cascades == 4 * (3 + 1 + 1)  # 2020 runs once for both variants
    assert result.runs == 2 * 16 * (3 + 1)
    value_default = result.points.query(
        "data == 'value' and alpha == 0.8 and absorb == 0 "
        "and failure_rule == 'any-loss' and fail_abs_scale == 1"
    )
    # A table over years in two units: each year's failures at its own unit's threshold.
    runs = pd.concat(
        [sweep({2020: panel[2020]}, fractions=[1.0]).runs, sweep({2021: usd_2021}, [1.0]).runs]
    )
    expected = study_tables(runs, pd.DataFrame(), 2, len(variants[1].panel)).sources
    pd.testing.assert_frame_equal(result.table(int(value_default["point"].iloc[0])), expected)


def test_a_process_pool_gives_the_serial_result(panel: dict[int, TradeNetwork]) -> None:
    grid = Grid(alphas=(0.8,), absorbs=(0.0, 0.2), fail_abs_scales=(1.0,))
    done: list[tuple[int, int]] = []
    pooled = sensitivity(panel, grid, workers=2, progress=lambda d, t: done.append((d, t)))
    serial = sensitivity(panel, grid, workers=1)
    pd.testing.assert_frame_equal(pooled.sources, serial.sources)
    assert done[-1] == (8, 8)  # 2 networks x 2 absorb values x 2 presets


class FakeStore:
    """Answers read_panel's two queries from frames, as Neo4j would."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows

    def query(self, cypher: str, **parameters: Any) -> pd.DataFrame:
        if cypher == graph_networks.GROUP_FLOWS:
            return self.rows[self.rows["year"].isin(parameters["years"])].reset_index(drop=True)
        if cypher == graph_networks.GROUP_PRODUCTION:
            return pd.DataFrame(columns=["year", "country", "quantity"])
        raise AssertionError(cypher)


GROUP = CommodityGroup("cobalt", "Cobalt", ("2605",))


def trades(rows: list[tuple[int, str, str, float | None, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["year", "exporter", "importer", "tonnes", "value_usd"])
    return frame.assign(hs="260500")[["year", "exporter", "importer", "hs", "tonnes", "value_usd"]]


def test_read_variants_from_one_pull() -> None:
    # 2022 has no tonnes (value only); 2023 reports tonnes for 99% of its value, one flow not.
    rows = trades(
        [
            (2022, "COD", "ZAF", None, 1000.0),
            (2022, "ZAF", "CHN", None, 700.0),
            (2023, "COD", "ZAF", 120.0, 1300.0),
            (2023, "ZAF", "CHN", 70.0, 800.0),
            (2023, "AUS", "FIN", None, 10.0),
        ]
    )
    store: Any = FakeStore(rows)
    variants, notes = read_variants(store, GROUP, [2022, 2023])
    assert [v.name for v in variants] == ["value", "tonnes", "tonnes_dropped"] and notes == []
    value, tonnes, dropped = variants
    assert value.unit_label() == "USD"
    assert tonnes.unit_label() == "USD 2022, t 2023"
    assert tonnes.networks[2023].W.sum() == pytest.approx(120 + 70 + 10 * 190 / 2100)
    assert dropped.networks[2023].W.sum() == pytest.approx(190.0)
    assert tonnes.networks[2022] is not value.networks[2022]
    assert network_key(tonnes.networks[2022]) == network_key(value.networks[2022])

    # Every flow with tonnes: the study reads tonnes, and dropping changes nothing.
    complete = trades([(2023, "COD", "ZAF", 120.0, 1300.0), (2023, "ZAF", "CHN", 70.0, 800.0)])
    variants, notes = read_variants(FakeStore(complete), GROUP, [2023])  # type: ignore[arg-type]
    assert [v.name for v in variants] == ["tonnes", "value"]
    assert notes == ["data tonnes_dropped left out: the same networks as tonnes"]

    only_value = trades([(2022, "COD", "ZAF", None, 1000.0)])
    variants, notes = read_variants(FakeStore(only_value), GROUP, [2022])  # type: ignore[arg-type]
    assert [v.name for v in variants] == ["value"] and len(notes) == 2
    with pytest.raises(ValueError, match="unknown data variant"):
        read_variants(store, GROUP, [2022], wanted=["weight"])


def test_read_variants_in_metal_adds_the_content_range() -> None:
    # HS 2605 (ore): factor 0.10, range 0.05-0.20 (metal_content.csv).
    complete = trades([(2023, "COD", "ZAF", 120.0, 1300.0), (2023, "ZAF", "CHN", 70.0, 800.0)])
    store: Any = FakeStore(complete)
    variants, notes = read_variants(store, GROUP, [2023], measure="metal")
    names = [v.name for v in variants]
    assert names == ["metal", "metal_low", "metal_high", "value", "tonnes"], names
    assert notes == ["data tonnes_dropped left out: the same networks as tonnes"]
    totals = {v.name: v.networks[2023].W.sum() for v in variants}
    assert totals["metal"] == pytest.approx(190 * 0.10)
    assert totals["metal_low"] == pytest.approx(190 * 0.05)
    assert totals["metal_high"] == pytest.approx(190 * 0.20)
    assert variants[0].unit_label() == "t_metal"
    # Outside metal, the content variants are not read.
    variants, _ = read_variants(store, GROUP, [2023], wanted=["value", "metal_low"])
    assert [v.name for v in variants] == ["tonnes", "value"]
