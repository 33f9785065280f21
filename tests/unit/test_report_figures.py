"""The report's figures, drawn from small frames with no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PatchCollection, PathCollection
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from critmin.report.figures import failure_curves, loss_map, network_comparison, png_bytes
from critmin.report.figures.network import STATUS_STYLE, trade_layout
from critmin.simulator import Shock, TradeNetwork, simulate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def yearly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2020, 2021, 2022, 2020, 2022, 2021],
            "source": ["COD", "COD", "COD", "ZAF", "ZAF", "CHN"],
            "n_failed": [40, 45, 50, 10, 12, 3],
        }
    )


def test_failure_curves_draw_one_line_per_source_with_gaps(yearly: pd.DataFrame) -> None:
    figure = failure_curves(yearly, ["COD", "ZAF"], shock=0.5, names={"COD": "DR Congo"})
    (ax,) = figure.axes
    lines = ax.get_lines()
    # A country without a name is not named twice; the sources not drawn are one grey line.
    assert [line.get_label() for line in lines] == [
        "DR Congo (COD)",
        "ZAF",
        "others: highest of 1 more sources",
    ]
    assert list(lines[0].get_ydata()) == [40, 45, 50]
    zaf = np.asarray(lines[1].get_ydata(), dtype=float)
    assert zaf[0] == 10 and np.isnan(zaf[1]) and zaf[2] == 12  # 2021: ZAF did not export
    assert "50%" in ax.get_title()
    assert ax.get_xlabel() == "year" and "count" in ax.get_ylabel()
    legend = ax.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == [
        "DR Congo (COD)",
        "ZAF",
        "others: highest of 1 more sources",
    ]
    assert png_bytes(figure).startswith(PNG_MAGIC)


def test_failure_curves_add_up_pooled_runs(yearly: pd.DataFrame) -> None:
    pooled = pd.concat([yearly, yearly.head(1)], ignore_index=True)  # COD 2020 twice
    (ax,) = failure_curves(pooled, ["COD"], shock=1.0).axes
    assert list(ax.get_lines()[0].get_ydata()) == [80, 45, 50]


def test_failure_curves_without_sources_has_no_legend(yearly: pd.DataFrame) -> None:
    (ax,) = failure_curves(yearly, [], shock=1.0).axes
    assert ax.get_lines() == [] and ax.get_legend() is None


@pytest.fixture()
def losses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["CHN", "USA", "ZMB", "FIN", "SGP", "HKG"],
            "demand_loss": [200_000.0, 31_000.0, 500.0, 0.0, 300.0, 0.0],
        }
    )


def _collections(figure: Figure) -> dict[str, PatchCollection]:
    ax = figure.axes[0]
    return {c.get_label(): c for c in ax.collections if isinstance(c, PatchCollection)}


def test_loss_map_colours_countries_with_a_loss(losses: pd.DataFrame) -> None:
    figure = loss_map(losses, unit="t", title="Mean demand loss, 100% export cut")
    collections = _collections(figure)
    shaded = collections["demand loss"]
    assert len(shaded.get_paths()) == 3  # CHN, USA, ZMB; SGP has no outline
    assert sorted(np.asarray(shaded.get_array())) == [500.0, 31_000.0, 200_000.0]
    assert isinstance(shaded.norm, LogNorm)  # losses span more than two decades
    assert len(collections["no loss"].get_paths()) == 1  # FIN (HKG has no outline either)
    assert len(collections["not in the panel"].get_paths()) > 150
    ax, colourbar = figure.axes
    assert colourbar.get_ylabel() == "mean demand loss (tonnes)"
    assert ax.get_title() == "Mean demand loss, 100% export cut"
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["loss but no outline at this scale: SGP"]


def test_loss_map_uses_a_linear_scale_for_narrow_ranges() -> None:
    frame = pd.DataFrame({"country": ["CHN", "USA"], "demand_loss": [10.0, 20.0]})
    figure = loss_map(frame, unit="USD", title="t")
    shaded = _collections(figure)["demand loss"]
    assert not isinstance(shaded.norm, LogNorm) and shaded.norm.vmin == 0.0
    assert figure.axes[1].get_ylabel() == "mean demand loss (USD)"
    assert list(figure.axes[0].texts) == []


@pytest.fixture()
def cascade() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A cuts all exports; B and C pass the loss on, D stays untouched."""
    flows = pd.DataFrame(
        {
            "exporter": ["A", "A", "B", "C", "D"],
            "importer": ["B", "C", "C", "B", "E"],
            "quantity": [100.0, 50.0, 30.0, 20.0, 10.0],
        }
    )
    network = TradeNetwork.from_frames(flows, pd.DataFrame({"country": ["A"], "quantity": [150.0]}))
    result = simulate(network, Shock("A", 1.0), engine="reference")
    assert result.final_flows is not None
    return network.flows(), result.final_flows


def _lines_by_status(ax: object) -> dict[str, int]:
    return {
        c.get_label(): len(c.get_segments())
        for c in ax.collections
        if isinstance(c, LineCollection)
    }  # type: ignore[attr-defined]


def test_network_comparison_draws_before_and_after(
    cascade: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    before, after = cascade
    figure = network_comparison(before, after, sources=["A"], unit="t", title="A, 100% cut")
    left, right = figure.axes
    assert figure.get_suptitle() == "A, 100% cut"
    assert _lines_by_status(left) == {"all": 5}
    # A's two links are cut; B passes on more than it exports, so B->C empties too;
    # C->B shrinks; D->E is unchanged.
    assert _lines_by_status(right) == {"unchanged": 1, "increased": 0, "reduced": 1, "cut": 3}
    cut = next(c for c in right.collections if c.get_label() == "cut")
    assert cut.get_linestyle()[0][1] is not None  # dashed
    assert left.get_title().startswith("before: 5 links, 210 tonnes")
    assert "3 cut" in right.get_title()
    (nodes,) = [c for c in left.collections if isinstance(c, PathCollection)]
    assert len(nodes.get_offsets()) == 5
    legend = right.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [
        "cut (3)",
        "reduced (1)",
        "increased (0)",
        "unchanged (1)",
        "shocked source (ringed)",
        "country (grey: no own colour)",
    ]
    assert {t.get_text() for t in left.texts} == {"A", "B", "C", "D", "E"}
    assert set(STATUS_STYLE) == {"cut", "reduced", "increased", "unchanged"}


def test_network_layout_is_seeded(cascade: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    before, _after = cascade
    assert trade_layout(before, seed=3) == trade_layout(before, seed=3)
    assert trade_layout(before, seed=3) != trade_layout(before, seed=4)


def test_network_layout_keeps_unlinked_groups_in_view() -> None:
    flows = pd.DataFrame(
        {
            "exporter": ["A", "B", "C", "D"],
            "importer": ["B", "C", "A", "E"],
            "quantity": [1.0, 1.0, 1.0, 1.0],
        }
    )
    xy = np.array(list(trade_layout(flows, seed=1).values()))
    gaps = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)[np.triu_indices(len(xy), 1)]
    assert gaps.min() > 0.05 * gaps.max()  # neither group shrinks to a dot
