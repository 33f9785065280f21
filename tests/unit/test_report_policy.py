"""The report's policy section on a stored run's rows: countries ranked by the share of their
consumption lost, that share as a column, ``unbalanced`` shown where a country has it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from critmin.report.html import NoteBlock, TableBlock
from critmin.report.sections.policy import policy_section
from critmin.report.study import PolicyRun

RUN = {
    "run_id": "policy_x",
    "name": "x",
    "title": "A test cut",
    "file": "x.toml",
    "preset": "physical",
    "measure": "metal",
    "failure_rule": "failure rule share-1pct (failed: loss > 1 t contained metal and > 1% of "
    "consumption)",
    "command": "critmin scenario run x.toml",
    "years": [2024],
}


def stock(unbalanced: float) -> pd.DataFrame:
    """Rows as the graph returns them (largest need first): a transit country that consumes
    nothing (no share), one that failed on a smaller share than a country that did not."""
    return pd.DataFrame(
        {
            "scenario": "s",
            "year": 2024,
            "country": ["HUB", "BIG", "SML", "TNY"],
            "demand_loss": [3.0, 400.0, 50.0, 0.002],
            "share_of_consumption_lost": [float("nan"), 0.25, 0.5, 0.9],
            "unbalanced": [unbalanced, 0.0, 0.0, 0.0],
            "stock_drawn": 0.0,
            "failed": [False, True, True, False],
            "stock_needed": [0.0, 900.0, 60.0, 0.0],
            "stock_needed_months": [None, 7.5, 3.0, None],
            "unit": "t_metal",
        }
    )


@dataclass
class Stored:
    """What the section reads of the report's study: the policy runs and country names."""

    policy: list[PolicyRun] = field(default_factory=list)

    def name(self, code: str) -> str:
        return code.title()

    def label(self, code: str) -> str:
        return f"{code.title()} ({code})"


def table_of(unbalanced: float) -> tuple[TableBlock, str]:
    section = policy_section(Stored([PolicyRun(RUN, stock(unbalanced))]))
    assert section is not None
    table = next(b for b in section.blocks if isinstance(b, TableBlock))
    notes = [b for b in section.blocks if isinstance(b, NoteBlock)]
    items = notes[0].items
    assert items["model preset"] == "physical" and items["failure rule"].startswith("share-1pct")
    return table, " ".join(p for n in notes for p in n.paragraphs)


def test_countries_are_ranked_by_the_share_of_consumption_lost_failed_first() -> None:
    table, summary = table_of(0.0)
    rows = [[cell.text for cell in row] for row in table.rows]
    assert [r[1] for r in rows] == ["SML", "BIG", "TNY", "HUB"]
    assert table.columns[3:6] == [
        "failed",
        "share of consumption lost",
        "demand loss (t contained metal)",
    ]
    assert [r[4] for r in rows] == ["50.0%", "25.0%", "90.0%", "–"]
    assert "preset physical" in table.caption and "share-1pct (failed: loss > 1 t" in table.caption
    # No unbalanced anywhere: no column, and the caption says so.
    assert not any("unbalanced" in h for h in table.columns)
    assert "unbalanced 0" in table.caption
    # The summary names the first failed country of the ranking, not the 2 kg one.
    assert "Sml (SML) lost the largest share of its consumption among them (50.0%" in summary


def test_unbalanced_is_shown_where_a_country_has_it() -> None:
    table, _ = table_of(1.5)
    column = table.columns.index("unbalanced (t contained metal)")
    by_country = {row[1].text: row[column].text for row in table.rows}
    assert by_country == {"SML": "0", "BIG": "0", "TNY": "0", "HUB": "1.50"}
    assert "data inconsistency" in table.caption
