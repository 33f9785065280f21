"""The report's figures without a database: one colour per country from chart to chart, at most
MAX_LINES country lines, one colour scale for maps that are compared, critical paths."""

from __future__ import annotations

import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from critmin.report.figures import (
    Palette,
    failure_curves,
    hub_bars,
    loss_map,
    paths_figure,
    shared_scale,
)
from critmin.report.figures.palette import MAX_LINES, OTHERS
from critmin.report.paths import critical_paths

CODES = [f"C{i:02d}" for i in range(12)]


def _yearly(order: list[str]) -> pd.DataFrame:
    rows = [
        {"year": year, "source": code, "n_failed": (len(order) - rank) * 2 + year % 3}
        for rank, code in enumerate(order)
        for year in (2020, 2021, 2022)
    ]
    return pd.DataFrame(rows)


def _line_colours(figure: Figure) -> dict[str, str]:
    ax = figure.axes[0]
    return {str(line.get_label()): str(line.get_color()) for line in ax.get_lines()}


def test_a_country_keeps_its_colour_whatever_its_rank() -> None:
    palette = Palette.for_countries(CODES)
    first = failure_curves(_yearly(CODES), CODES[:8], shock=1.0, palette=palette)
    swapped = CODES[:8][::-1]
    second = failure_curves(_yearly(swapped), swapped, shock=0.5, palette=palette)
    one, two = _line_colours(first), _line_colours(second)
    for code in CODES[:8]:
        assert one[code] == two[code] == palette.colour(code)
    assert len(set(one[c] for c in CODES[:8])) == 8  # distinct colours


def test_curves_draw_at_most_max_lines_and_one_others_line() -> None:
    figure = failure_curves(_yearly(CODES), CODES, shock=1.0, palette=Palette.for_countries(CODES))
    labels = list(_line_colours(figure))
    assert labels[:MAX_LINES] == CODES[:MAX_LINES]
    assert labels[MAX_LINES:] == [f"others: highest of {len(CODES) - MAX_LINES} more sources"]
    assert _line_colours(figure)[labels[-1]] == OTHERS


def test_compared_maps_share_one_colour_scale() -> None:
    full = pd.DataFrame({"country": ["CHN", "KOR", "FIN"], "demand_loss": [10.0, 500.0, 0.0]})
    half = pd.DataFrame({"country": ["CHN", "KOR", "FIN"], "demand_loss": [4.0, 60.0, 0.0]})
    scale = shared_scale(full, half)
    assert scale == (4.0, 500.0)
    norms = []
    for frame in (full, half):
        figure = loss_map(frame, unit="t", title="t", scale=scale, note="alpha=0.8")
        shaded = [c for c in figure.axes[0].collections if isinstance(c, PatchCollection)][-1]
        norms.append((shaded.norm.vmin, shaded.norm.vmax))
    assert norms[0] == norms[1]


def test_hub_bars_and_paths_take_the_palette() -> None:
    palette = Palette.for_countries(["S", "A", "B", "C"])
    hubs = pd.DataFrame(
        {
            "country": ["A", "B"],
            "passed_on": [8.0, 1.0],
            "absorbed": [2.0, 3.0],
            "share_passed_on": [0.8, 0.25],
        }
    )
    bars = hub_bars(hubs, unit="t", title="hubs", palette=palette)
    faces = [patch.get_facecolor()[:3] for patch in bars.axes[0].patches[:2]]
    assert faces == [to_rgb(palette.colour("A")), to_rgb(palette.colour("B"))]
    impacts = pd.DataFrame(
        {
            "country": ["S", "A", "B", "C"],
            "demand_loss": [0.0, 2.0, 4.0, 10.0],
            "gross_hit": [0.0, 10.0, 4.0, 10.0],
            "failed": [False, True, True, True],
        }
    )
    edges = pd.DataFrame(
        {
            "from": ["S", "S", "A", "B"],
            "to": ["A", "B", "C", "C"],
            "quantity": [10.0, 4.0, 6.0, 4.0],
            "share": [0.71, 0.29, 0.43, 0.29],
        }
    )
    found = critical_paths(impacts, edges, "S", n_targets=3)
    assert found.paths == {"C": ["S", "A", "C"], "B": ["S", "B"], "A": ["S", "A"]}
    table = found.table(impacts, 14.0)
    assert table["path"].tolist() == ["S → A → C", "S → B", "S → A"]
    assert round(float(table["bottleneck_share"].iloc[0]), 3) == round(6.0 / 14.0, 3)
    figure = paths_figure(
        found,
        impacts,
        unit="t",
        initial_shock=14.0,
        title="paths",
        names={"A": "Atlantis"},
        palette=palette,
        note="x",
    )
    texts = " ".join(t.get_text() for t in figure.axes[0].texts)
    assert "Atlantis (A)" in texts and "passed on 80% of what it got" in texts
    assert "\nB\n" not in texts and "B (B)" not in texts  # a code without a name, once
