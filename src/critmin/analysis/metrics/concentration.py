"""Market concentration of exports and production: Herfindahl-Hirschman index and top shares."""

from __future__ import annotations

import pandas as pd

from critmin.units import Unit

__all__ = ["concentration_table", "hhi", "top_share"]


def _shares(values: pd.Series) -> pd.Series:
    positive = values[values > 0]
    return positive / positive.sum()


def hhi(values: pd.Series) -> float:
    """Herfindahl-Hirschman index of the positive ``values``: the sum of squared shares.

    On a 0-1 scale (1 = a single supplier, ``1/n`` for ``n`` equal ones; multiply by 10,000
    for the antitrust scale). NaN when nothing is positive.

    Examples
    --------
    >>> round(hhi(pd.Series({"COD": 70.0, "AUS": 20.0, "ZMB": 10.0})), 12)
    0.54
    >>> hhi(pd.Series({"A": 1.0, "B": 1.0, "C": 1.0, "D": 1.0}))
    0.25
    """
    shares = _shares(values)
    return float((shares**2).sum()) if len(shares) else float("nan")


def top_share(values: pd.Series, k: int = 3) -> float:
    """Share of the ``k`` largest positive ``values`` in their total (NaN when none is positive).

    >>> top_share(pd.Series({"COD": 70.0, "AUS": 20.0, "ZMB": 6.0, "CUB": 4.0}))
    0.96
    """
    shares = _shares(values)
    return float(shares.nlargest(k).sum()) if len(shares) else float("nan")


def _leaders(values: pd.Series, k: int = 3) -> str:
    shares = _shares(values).nlargest(k)
    return ", ".join(f"{code} {share:.0%}" for code, share in shares.items())


def _concentration(values: pd.Series, what: str) -> dict[str, object]:
    return {
        f"{what}s": int((values > 0).sum()),
        f"{what}_hhi": hhi(values),
        f"{what}_top3_share": top_share(values),
        f"top_{what}": _leaders(values),
    }


def concentration_table(flows: pd.DataFrame, production: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Per year, how concentrated a commodity's exports and production are.

    Parameters
    ----------
    flows : DataFrame
        Columns ``year, exporter, importer, quantity`` in ``unit``.
    production : DataFrame
        Columns ``year, country, quantity`` in tonnes (may be empty).
    unit : {"t", "USD"}
        Unit of the flows; the export total's column name carries it.

    Returns
    -------
    DataFrame
        One row per year of ``flows``: ``exporters``, ``exporter_hhi``, ``exporter_top3_share``,
        ``top_exporter`` (the three largest with their shares), ``total_exports_<unit>``, and the
        same for ``producer`` with ``total_production_t`` (NaN where there is no production).

    Examples
    --------
    >>> flows = pd.DataFrame({"year": [2020, 2020, 2020], "exporter": ["COD", "COD", "ZAF"],
    ...                       "importer": ["ZAF", "CHN", "CHN"], "quantity": [60.0, 20.0, 20.0]})
    >>> production = pd.DataFrame({"year": [2020], "country": ["COD"], "quantity": [90.0]})
    >>> table = concentration_table(flows, production, "t")
    >>> row = table.iloc[0]
    >>> round(float(row["exporter_hhi"]), 12), row["top_exporter"], float(row["producer_hhi"])
    (0.68, 'COD 80%, ZAF 20%', 1.0)
    """
    suffix = Unit.of(unit).suffix
    rows = []
    for year in sorted(flows["year"].unique()):
        exports = flows.loc[flows["year"] == year].groupby("exporter")["quantity"].sum()
        output = production.loc[production["year"] == year].groupby("country")["quantity"].sum()
        rows.append(
            {
                "year": int(year),
                **_concentration(exports, "exporter"),
                f"total_exports_{suffix}": float(exports.sum()),
                **_concentration(output, "producer"),
                "total_production_t": float(output.sum()) if len(output) else float("nan"),
            }
        )
    return pd.DataFrame(rows)
