"""Which trade links a cascade cut, reduced, raised or left alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CUT_SHARE", "STATUSES", "link_changes"]

#: A link counts as cut when less than this share of its flow is left: the cascade shrinks flows
#: proportionally, so a link is only ever emptied up to floating-point dust, never exactly.
CUT_SHARE = 1e-9
#: Relative change below which a link counts as unchanged.
SAME_SHARE = 1e-9
STATUSES = ("cut", "reduced", "increased", "unchanged")


def link_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Flows before and after, side by side, with each link's status.

    Both frames have columns ``exporter, importer, quantity``; a link missing from ``after``
    carries nothing after the cascade.

    Examples
    --------
    >>> before = pd.DataFrame({"exporter": ["A", "A", "B", "C"], "importer": ["B", "C", "C", "A"],
    ...                        "quantity": [10.0, 5.0, 4.0, 1.0]})
    >>> after = pd.DataFrame({"exporter": ["A", "B", "C"], "importer": ["C", "C", "A"],
    ...                       "quantity": [2.5, 5.0, 1.0]})
    >>> link_changes(before, after)[["exporter", "importer", "after", "status"]]
      exporter importer  after     status
    0        A        B    0.0        cut
    1        A        C    2.5    reduced
    2        B        C    5.0  increased
    3        C        A    1.0  unchanged
    """
    keys = ["exporter", "importer"]
    merged = (
        before.groupby(keys, as_index=False)["quantity"]
        .sum()
        .merge(
            after.groupby(keys, as_index=False)["quantity"].sum(),
            on=keys,
            how="outer",
            suffixes=("_before", "_after"),
        )
    )
    merged = merged.rename(columns={"quantity_before": "before", "quantity_after": "after"})
    merged[["before", "after"]] = merged[["before", "after"]].fillna(0.0)
    change = merged["after"] - merged["before"]
    scale = merged["before"].where(merged["before"] > 0, 1.0)
    merged["status"] = np.select(
        [
            merged["after"] <= CUT_SHARE * merged["before"],
            change < -SAME_SHARE * scale,
            change > SAME_SHARE * scale,
        ],
        ["cut", "reduced", "increased"],
        default="unchanged",
    )
    return merged.sort_values(keys, ignore_index=True)
