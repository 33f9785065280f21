"""Before/after tables of network measures and concentration, from :mod:`critmin.analysis`."""

from __future__ import annotations

import pandas as pd

from critmin.analysis.comparison import LINK_RTOL, Comparison
from critmin.analysis.metrics import hhi, top_share
from critmin.report.figures.canvas import unit_name

__all__ = ["concentration_table", "measures_table"]


#: What the numbers of the measures that carry no trade unit count (analysis leaves them blank).
PLAIN_UNITS = {
    "countries": "countries",
    "links": "links",
    "avg_path_length": "links (hops)",
    "export_hhi": "index 0-1",
    "avg_clustering": "index 0-1",
    "avg_clustering_weighted": "index 0-1",
    "top5_betweenness": "share of shortest paths",
}


def measures_table(comparison: Comparison) -> pd.DataFrame:
    """One row per measure: what it is, its unit, its value before and after."""
    table = comparison.table()
    table["unit"] = [
        unit_name(unit) if unit else PLAIN_UNITS.get(measure, "share")
        for measure, unit in zip(table["measure"], table["unit"], strict=True)
    ]
    return table


def _side(flows: pd.DataFrame, column: str, min_weight: float) -> dict[str, float]:
    totals = flows.loc[flows["quantity"] > min_weight].groupby(column)["quantity"].sum()
    return {
        "countries": float(len(totals)),
        "hhi": hhi(totals),
        "top3_share": top_share(totals, 3),
        "total": float(totals.sum()),
    }


def concentration_table(before: pd.DataFrame, after: pd.DataFrame, unit: str) -> pd.DataFrame:
    """HHI and top-3 share of exports and imports, before and after.

    Examples
    --------
    >>> before = pd.DataFrame({"exporter": ["A", "A", "B"], "importer": ["B", "C", "C"],
    ...                        "quantity": [60.0, 20.0, 20.0]})
    >>> after = before.assign(quantity=[0.0, 0.0, 20.0])
    >>> table = concentration_table(before, after, "t")
    >>> exports = table[table["side"] == "exports"].set_index("measure")
    >>> exports[["unit", "before", "after"]].round(6)  # doctest: +NORMALIZE_WHITESPACE
                      unit  before  after
    measure
    count        countries    2.00    1.0
    HHI          index 0-1    0.68    1.0
    top-3 share      share    1.00    1.0
    total           tonnes  100.00   20.0
    """
    labels = {
        "countries": ("count", "countries"),
        "hhi": ("HHI", "index 0-1"),
        "top3_share": ("top-3 share", "share"),
        "total": ("total", unit_name(unit)),
    }
    # Links the cascade emptied keep floating-point dust: count them as gone, as the measures do.
    min_weight = LINK_RTOL * float(before["quantity"].sum())
    rows = []
    for side, column in (("exports", "exporter"), ("imports", "importer")):
        values = {
            "before": _side(before, column, min_weight),
            "after": _side(after, column, min_weight),
        }
        for key, (measure, measure_unit) in labels.items():
            rows.append(
                {
                    "side": side,
                    "measure": measure,
                    "unit": measure_unit,
                    "before": values["before"][key],
                    "after": values["after"][key],
                }
            )
    return pd.DataFrame(rows)
