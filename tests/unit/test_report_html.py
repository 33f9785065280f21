"""The report page, its tables and the helpers behind them (no database, no browser)."""

from __future__ import annotations

import doctest
import importlib
import re

import pandas as pd
import pytest
import typer

from critmin.analysis.comparison import Comparison
from critmin.analysis.metrics import network_measures
from critmin.cli.report_cmd import scenario_choices
from critmin.loader.commodities import load_groups
from critmin.report.html import FigureBlock, NoteBlock, Page, Section, render, table_block
from critmin.report.links import link_changes
from critmin.report.measures import measures_table
from critmin.report.world import load_world

# Modules whose docstring examples are part of their specification.
DOCTESTED = [
    "critmin.report.html",
    "critmin.report.links",
    "critmin.report.measures",
    "critmin.report.world",
    "critmin.report.study",
    "critmin.report.build",
    "critmin.report.figures.canvas",
    "critmin.report.sections.losses",
    "critmin.cli.report_cmd",
]


@pytest.mark.parametrize("name", DOCTESTED)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def _page() -> Page:
    table = table_block(
        pd.DataFrame({"source": ["COD", "ZAF"], "total_failed": [12, 7], "rate": [0.5, 0.25]}),
        title="Top sources",
        caption="rate = failed / (Y × N)",
        headers={"total_failed": "total failed (country-years)"},
    )
    figure = FigureBlock("A figure", "lines are sources", "years 2022–2023", b"\x89PNG", "f.png")
    note = NoteBlock(title="Facts", items={"unit": "<tonnes>"})
    return Page(
        "Report <cobalt>",
        "subtitle",
        [
            Section("risk-sources", "Risk sources", "intro", [table, figure]),
            Section("p", "P", "", [note]),
        ],
    )


def test_page_has_sections_tables_and_embedded_figures() -> None:
    html = render(_page())
    assert re.findall(r'<section id="([^"]+)"', html) == ["risk-sources", "p"]
    assert '<a href="#risk-sources">Risk sources</a>' in html
    assert '<img src="data:image/png;base64,iVBORw==" alt="A figure">' in html
    assert "How to read this:</strong> lines are sources" in html
    assert "<th>total failed (country-years)</th>" in html
    assert '<td class="num">12</td>' in html and "<td>COD</td>" in html
    assert "<caption>rate = failed / (Y × N)</caption>" in html


def test_page_escapes_text_and_loads_nothing_from_outside() -> None:
    html = render(_page())
    assert "Report &lt;cobalt&gt;" in html and "&lt;tonnes&gt;" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "data-images-ok" in html  # the browser check hook


def test_table_block_formats_numbers_and_right_aligns_them() -> None:
    block = table_block(
        pd.DataFrame({"name": ["China"], "loss": [204460.384], "share": [0.0515]}),
        title="",
        caption="",
    )
    assert [[cell.text for cell in row] for row in block.rows] == [["China", "204,460", "0.0515"]]
    assert [cell.numeric for cell in block.rows[0]] == [False, True, True]


def test_link_changes_flags_new_links_as_increased() -> None:
    before = pd.DataFrame({"exporter": ["A"], "importer": ["B"], "quantity": [1.0]})
    after = pd.DataFrame({"exporter": ["A", "B"], "importer": ["B", "A"], "quantity": [1.0, 2.0]})
    changes = link_changes(before, after)
    assert changes["status"].tolist() == ["unchanged", "increased"]
    assert changes["before"].tolist() == [1.0, 0.0]


def test_world_outlines_cover_the_trading_countries() -> None:
    world = load_world()
    assert len(world.shapes) > 170
    assert {"COD", "ZAF", "CHN", "USA", "NCL", "TWN", "XKX"} <= set(world.shapes)
    assert world.missing(["SGP", "HKG", "MLT", "COD"]) == ["HKG", "MLT", "SGP"]
    lesotho_hole = [len(polygon) for polygon in world.shapes["ZAF"].polygons]
    assert max(lesotho_hole) == 2  # South Africa's outline keeps Lesotho as a hole


@pytest.mark.parametrize(
    ("sources", "years"),
    [(["COD"], None), (None, [2024]), (["COD", "ZAF", "CHN"], [2023, 2024])],
)
def test_scenario_options_must_pair(sources: list[str] | None, years: list[int] | None) -> None:
    with pytest.raises(typer.BadParameter):
        scenario_choices(sources, years, None)


def test_measures_table_gives_every_measure_a_unit() -> None:
    flows = pd.DataFrame(
        {"exporter": ["A", "B", "C"], "importer": ["B", "C", "A"], "quantity": [5.0, 3.0, 1.0]}
    )
    before = network_measures(flows, "t")
    after = network_measures(flows.iloc[1:], "t")
    comparison = Comparison(load_groups()["cobalt"], 2024, "t", before, {"after": after}, {}, [])
    table = measures_table(comparison).set_index("measure")
    assert table["unit"].ne("").all()
    assert table.loc["total_weight", "unit"] == "tonnes"
    assert table.loc["links", "unit"] == "links" and table.loc["density", "unit"] == "share"
    assert table.loc["links", ["before", "after"]].tolist() == [3, 2]
