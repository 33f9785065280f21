"""TradeNetwork: building from frames, validation, derived totals."""

import numpy as np
import pandas as pd
import pytest

from critmin.simulator import TradeNetwork


def frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["exporter", "importer", "quantity"])


def test_duplicates_are_summed_and_self_loops_dropped() -> None:
    net = TradeNetwork.from_frames(
        frame([("B", "A", 2), ("B", "A", 3), ("A", "A", 9), ("A", "C", 1)])
    )
    assert net.countries == ("A", "B", "C")
    assert net.W[1, 0] == 5.0
    assert net.W[0, 0] == 0.0
    assert net.flows().to_dict("list") == {
        "exporter": ["A", "B"],
        "importer": ["C", "A"],
        "quantity": [1.0, 5.0],
    }


def test_production_missing_countries_produce_nothing_and_isolated_countries_are_kept() -> None:
    production = pd.DataFrame({"country": ["A", "Z"], "quantity": [10.0, 4.0]})
    net = TradeNetwork.from_frames(frame([("A", "B", 6)]), production, countries=["Q"])
    assert net.countries == ("A", "B", "Q", "Z")
    assert net.P.tolist() == [10.0, 0.0, 0.0, 4.0]
    assert net.exports.to_dict() == {"A": 6.0, "B": 0.0, "Q": 0.0, "Z": 0.0}
    assert net.imports.to_dict() == {"A": 0.0, "B": 6.0, "Q": 0.0, "Z": 0.0}
    assert net.demand.to_dict() == {"A": 4.0, "B": 6.0, "Q": 0.0, "Z": 4.0}
    assert net.demand.index.name == "country"


def test_unit_is_recorded_and_checked() -> None:
    assert TradeNetwork.from_frames(frame([("A", "B", 1)]), unit="USD").unit == "USD"
    with pytest.raises(ValueError, match="unit"):
        TradeNetwork.from_frames(frame([("A", "B", 1)]), unit="kg")


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "lots"])
def test_bad_quantity_names_the_row(bad: object) -> None:
    flows = frame([("A", "B", 1.0), ("C", "D", 2.0)])
    flows["quantity"] = flows["quantity"].astype(object)
    flows.loc[1, "quantity"] = bad
    with pytest.raises(ValueError, match=r"flows row 1 .*'exporter': 'C'"):
        TradeNetwork.from_frames(flows)


def test_negative_production_is_rejected() -> None:
    with pytest.raises(ValueError, match="production row 0"):
        TradeNetwork.from_frames(frame([]), pd.DataFrame({"country": ["A"], "quantity": [-1]}))


def test_missing_column_and_bad_code_are_reported() -> None:
    with pytest.raises(ValueError, match=r"missing column\(s\) \['importer'\]"):
        TradeNetwork.from_frames(pd.DataFrame({"exporter": ["A"], "quantity": [1]}))
    with pytest.raises(ValueError, match=r"flows\.importer row 0"):
        TradeNetwork.from_frames(frame([("A", None, 1)]))  # type: ignore[list-item]


def test_constructor_checks_aligned_arrays() -> None:
    with pytest.raises(ValueError, match="sorted"):
        TradeNetwork(("B", "A"), np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="diagonal"):
        TradeNetwork(("A", "B"), np.eye(2), np.zeros(2))
    with pytest.raises(ValueError, match="non-negative"):
        TradeNetwork(("A", "B"), np.array([[0, -1.0], [0, 0]]), np.zeros(2))
    with pytest.raises(ValueError, match="must be"):
        TradeNetwork(("A", "B"), np.zeros((3, 3)), np.zeros(2))


def test_network_arrays_are_read_only() -> None:
    net = TradeNetwork.from_frames(frame([("A", "B", 1)]))
    with pytest.raises(ValueError, match="read-only"):
        net.W[0, 1] = 2.0


def test_positions_reports_unknown_codes() -> None:
    net = TradeNetwork.from_frames(frame([("A", "B", 1)]))
    assert net.positions(["B", "A"], "x").tolist() == [1, 0]
    with pytest.raises(ValueError, match="targets not in the network: XYZ"):
        net.positions(["A", "XYZ"], "targets")
