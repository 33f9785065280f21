"""Checking a load of the full BACI files against published yearly totals.

``data/reference/baci_cobalt_260500_810520_aggregates_2002_2024.csv`` gives, per year and HS6
code, BACI V202601's world value (USD), tonnes and number of flows. :func:`check_totals`
compares loaded flows (``read_trades(...).flows`` or the store's
:func:`~critmin.store.networks.read_trade_rows`) with it.

>>> ref = pd.DataFrame({"year": [2024], "hs6": [260500], "world_value_usd": [100.0],
...                     "world_qty_tonnes": [10.0], "n_flows": [2]})
>>> flows = pd.DataFrame({"year": [2024, 2024], "hs": ["260500", "260500"],
...                       "tonnes": [6.0, 4.0], "value_usd": [60.0, 39.0]})
>>> check_totals(flows, ref)[["value_ratio", "tonnes_ratio", "flows", "ok"]].to_dict("records")
[{'value_ratio': 0.99, 'tonnes_ratio': 1.0, 'flows': 2, 'ok': True}]
"""

from __future__ import annotations

import os

import pandas as pd

#: Largest relative difference of a year's value or tonnes that still counts as agreeing: BACI
#: values have three decimals of thousand USD; 2% leaves room for country codes a load left out.
TOLERANCE = 0.02


def check_totals(
    flows: pd.DataFrame,
    reference: pd.DataFrame | str | os.PathLike[str],
    tolerance: float = TOLERANCE,
) -> pd.DataFrame:
    """Per year and HS6 code of the reference: the loaded totals beside the reference's.

    Returns ``year, hs, value_usd, reference_value_usd, value_ratio, tonnes,
    reference_tonnes, tonnes_ratio, flows, reference_flows, ok`` (``ok``: both ratios within
    ``tolerance`` of 1). A year or code absent from ``flows`` has totals 0 and is not ok.
    """
    ref = reference if isinstance(reference, pd.DataFrame) else pd.read_csv(reference)
    ref = pd.DataFrame(
        {
            "year": ref["year"].astype("int64"),
            "hs": ref["hs6"].astype(str).str.zfill(6),
            "reference_value_usd": ref["world_value_usd"].astype("float64"),
            "reference_tonnes": ref["world_qty_tonnes"].astype("float64"),
            "reference_flows": ref["n_flows"].astype("int64"),
        }
    )
    loaded = flows.assign(hs=flows["hs"].astype(str), year=flows["year"].astype("int64"))
    totals = loaded.groupby(["year", "hs"]).agg(
        value_usd=("value_usd", "sum"), tonnes=("tonnes", "sum"), flows=("hs", "size")
    )
    out = ref.join(totals, on=["year", "hs"])
    out[["value_usd", "tonnes"]] = out[["value_usd", "tonnes"]].fillna(0.0)
    out["flows"] = out["flows"].fillna(0).astype("int64")
    out["value_ratio"] = (out["value_usd"] / out["reference_value_usd"]).round(6)
    out["tonnes_ratio"] = (out["tonnes"] / out["reference_tonnes"]).round(6)
    out["ok"] = ((out["value_ratio"] - 1).abs() <= tolerance) & (
        (out["tonnes_ratio"] - 1).abs() <= tolerance
    )
    columns = [
        "year",
        "hs",
        "value_usd",
        "reference_value_usd",
        "value_ratio",
        "tonnes",
        "reference_tonnes",
        "tonnes_ratio",
        "flows",
        "reference_flows",
        "ok",
    ]
    return out[columns].reset_index(drop=True)
