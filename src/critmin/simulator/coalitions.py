"""Coalition sweeps: every k-subset of a set of exporters acting together, and what it adds.

:func:`coalition_sweep` runs, in each year's network, every coalition of ``k`` exporters (from a
chosen list, the top-N exporters of the year, or given coalitions) and each member alone, at
every shock size, in one batch on the chosen executor; it returns the same
:class:`~critmin.simulator.sweep.SweepResult` as :func:`~critmin.simulator.sweep.sweep`, whose
``sources`` column holds ``"COD;ZMB"`` for a coalition and ``"COD"`` for a member alone.
With ``targets`` the coalitions (and the members alone) cut their exports to those importers
only: an importer alliance cut off by a set of exporters.

:func:`coalition_table` compares each coalition's run with the sum of its members' runs alone.
Total demand loss is conserved by the cascade (without stockpiles, every unit of the initial
shock ends as some country's demand loss, and a coalition's initial shock is the sum of its
members'), so what acting together changes is *where* the loss lands and who fails. The table
therefore counts, in the coalition's run and in each member's run alone, the countries outside
the coalition: their failures and their demand loss. (Members never fail in their coalition's
run, where they are sources, but may in a fellow member's run alone.)
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from critmin.defaults import DEFAULT_SHOCKS, KEEP_SHARE
from critmin.simulator.network import TradeNetwork
from critmin.simulator.scenario import Parameters
from critmin.simulator.stockpiles import Stockpiles
from critmin.simulator.sweep import (
    Progress,
    SweepResult,
    checked_inputs,
    sweep_groups,
    yearly_stockpiles,
)

__all__ = ["COALITION_COLUMNS", "coalition_sweep", "coalition_table"]

COALITION_COLUMNS = [
    "year",
    "coalition",
    "fraction",
    "members",
    "initial_shock",
    "n_failed",
    "n_failed_sum",
    "n_failed_added",
    "n_failed_union",
    "newly_failed",
    "demand_loss",
    "demand_loss_sum",
    "demand_loss_added",
]


def coalition_sweep(
    networks: TradeNetwork | Mapping[Any, TradeNetwork],
    k: int = 2,
    members: Iterable[str] | None = None,
    top: int | None = None,
    fractions: Sequence[float] = DEFAULT_SHOCKS,
    coalitions: Iterable[Iterable[str]] | None = None,
    targets: Iterable[str] | None = None,
    keep_share: float = KEEP_SHARE,
    progress: Progress | None = None,
    executor: str = "local",
    scheduler: Any = None,
    stockpiles: Stockpiles | None = None,
    cascade: Parameters | None = None,
    **parameters: Any,
) -> SweepResult:
    """Every ``k``-subset of the candidate exporters shocked together, and each member alone.

    Parameters
    ----------
    networks : TradeNetwork or mapping of year to TradeNetwork
        One network, or one per year; all in the same unit.
    k : int
        Coalition size, >= 2 (2 gives the pairs; 3 the triples). Ignored with ``coalitions``.
    members : iterable of str, optional
        The candidate exporters (ISO3). By default every country that can be a source in the
        year's network (exports, or production with ``mode="production"``).
    top : int, optional
        Keep only the ``top`` candidates with the largest exports (production) in each year's
        network, ties broken by code. Coalitions then differ from year to year.
    fractions : sequence of float
        Shock sizes, each in (0, 1]; every member of a coalition loses the same share.
    coalitions : iterable of iterables of str, optional
        Run these coalitions instead of the ``k``-subsets (not with ``members`` or ``top``).
        In each year a coalition runs with its members that can be a source there, when at
        least two can.
    targets : iterable of str, optional
        Importers cut off (an importer alliance): every run cuts only the exports to these.
        They are never candidates themselves.
    keep_share, progress, executor, scheduler, stockpiles, **parameters
        As for :func:`~critmin.simulator.sweep.sweep`.

    Returns
    -------
    SweepResult
        One run per (year, group, fraction), members alone first, then the coalitions in
        lexicographic order; give it to :func:`coalition_table`. Its ``source_table`` ranks the
        members alone (coalition runs are left out of the study's tables).

    Raises
    ------
    ValueError
        On a bad ``k`` or ``top``, a member in none of the networks, ``coalitions`` with
        ``members`` or ``top``, nothing to sweep, or as :func:`~critmin.simulator.sweep.sweep`.

    Examples
    --------
    A and B both sell to C, who sells on to D.

    >>> flows = pd.DataFrame({"exporter": ["A", "B", "C"], "importer": ["C", "C", "D"],
    ...                       "quantity": [60.0, 40.0, 50.0]})
    >>> result = coalition_sweep(TradeNetwork.from_frames(flows), k=2, members=["A", "B"],
    ...                          fractions=[1.0])
    >>> result.runs[["sources", "initial_shock", "n_failed"]].values.tolist()
    [['A', 60.0, 3], ['B', 40.0, 2], ['A;B', 100.0, 2]]

    Alone, each member also fails the other (C asks it for more); together, C and D fail.
    """
    years, fractions, params = checked_inputs(networks, fractions, keep_share, parameters, cascade)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ValueError(f"k must be an integer >= 2, got {k!r}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int | np.integer)):
        raise ValueError(f"top must be an integer, got {top!r}")
    if top is not None and top < 2:
        raise ValueError(f"top must be >= 2 (a coalition has two members or more), got {top}")
    excluded = set(targets) if targets is not None else set()
    wanted = sorted(set(members)) if members is not None else None
    given = None
    if coalitions is not None:
        if members is not None or top is not None:
            raise ValueError("give coalitions, or members/top to draw them from, not both")
        listed = [c if isinstance(c, str) else set(c) for c in coalitions]
        if not listed or any(isinstance(c, str) or len(c) < 2 for c in listed):
            raise ValueError("each coalition must list two ISO3 codes or more")
        given = sorted({tuple(sorted(c)) for c in listed})
        wanted = sorted(set().union(*given))
    if wanted is not None:
        known = set().union(*(network.countries for network in years.values()))
        absent = [code for code in wanted if code not in known]
        if absent:
            raise ValueError(f"members in none of the networks: {', '.join(absent)}")

    scenarios: dict[Hashable, list[tuple[str, ...]]] = {}
    for year, network in years.items():
        pool = _candidates(network, params.mode, wanted, top, excluded)
        if given is not None:
            groups = sorted(
                {kept for c in given if len(kept := tuple(x for x in c if x in pool)) > 1}
            )
        else:
            groups = list(itertools.combinations(pool, int(k)))
        alone = sorted({code for group in groups for code in group})
        scenarios[year] = [(code,) for code in alone] + groups
    if not fractions or not any(scenarios.values()):
        raise ValueError(
            "nothing to sweep: no fractions, or fewer than two candidate exporters in every network"
        )
    return sweep_groups(
        years, scenarios, fractions, params, targets, keep_share, progress, executor, scheduler,
        stockpiles=yearly_stockpiles(years, stockpiles),
    )  # fmt: skip


def _candidates(
    network: TradeNetwork,
    mode: str,
    wanted: Sequence[str] | None,
    top: int | None,
    excluded: Collection[str],
) -> list[str]:
    """The year's candidate members, sorted: sources here, among ``wanted``, the ``top`` few."""
    supply = network.P if mode == "production" else network.W.sum(axis=1)
    amounts = {c: float(a) for c, a in zip(network.countries, supply, strict=True) if a > 0}
    pool = [c for c in (wanted if wanted is not None else amounts) if c in amounts]
    pool = [c for c in pool if c not in excluded]
    if top is not None:
        pool = sorted(pool, key=lambda c: (-amounts[c], c))[:top]
    return sorted(pool)


def coalition_table(result: SweepResult) -> pd.DataFrame:
    """What acting together adds: each coalition run against the sum of its members' runs alone.

    Counted over the countries outside the coalition (see the module's documentation), per
    coalition run (``year, coalition, fraction``):

    * ``members``: how many countries the coalition has; ``initial_shock``: its shock, the sum
      of its members' shocks alone;
    * ``n_failed``: countries failed in the coalition's run; ``n_failed_sum``: failures of
      countries outside the coalition, summed over the members' runs alone (a country failing
      in two of them counts twice); ``n_failed_added = n_failed - n_failed_sum``;
    * ``n_failed_union``: countries outside the coalition failed in at least one member's run
      alone; ``newly_failed``: countries failed in the coalition's run and in none of those;
    * ``demand_loss``, ``demand_loss_sum``, ``demand_loss_added``: the same for the demand loss
      of countries outside the coalition, in the network's unit. As total loss is conserved
      (without stockpiles), ``demand_loss_added`` is also what the members themselves lose less
      (or more) together.

    Sorted by fraction (largest first), year and coalition.

    Raises
    ------
    ValueError
        When the result holds no coalition run, or lacks a member's run alone for one.

    Examples
    --------
    >>> flows = pd.DataFrame({"exporter": ["A", "B", "C"], "importer": ["C", "C", "D"],
    ...                       "quantity": [60.0, 40.0, 50.0]})
    >>> table = coalition_table(coalition_sweep(TradeNetwork.from_frames(flows), members=["A", "B"],
    ...                                         fractions=[1.0]))
    >>> table[["coalition", "n_failed", "n_failed_sum", "n_failed_union", "newly_failed"]]
      coalition  n_failed  n_failed_sum  n_failed_union  newly_failed
    0       A;B         2             3               2             0
    >>> table[["demand_loss", "demand_loss_sum", "demand_loss_added"]].round(2)
       demand_loss  demand_loss_sum  demand_loss_added
    0        100.0            94.33               5.67

    D fails in both members' runs alone (counted twice in ``n_failed_sum``), C in A's only;
    together, C and D bear the whole 100 t, 5.67 t more than in the members' runs alone, where
    A and B took some of each other's loss.
    """
    keys = ["year", "coalition", "fraction"]
    together = result.runs["sources"].astype(str).str.contains(";")
    if not together.any():
        raise ValueError("no coalition runs in this result; run coalition_sweep")
    # Years by position while joining: a single network's year is None, which pandas groups
    # and joins poorly.
    years = list(dict.fromkeys(result.runs["year"]))
    position = {year: i for i, year in enumerate(years)}
    runs = result.runs.rename(columns={"sources": "coalition"})
    runs["year"] = [position[year] for year in runs["year"]]
    coalitions = runs.loc[together, [*keys, "initial_shock", "n_failed"]]
    membership = coalitions[keys].assign(member=coalitions["coalition"].str.split(";"))
    membership = membership.explode("member", ignore_index=True)
    alone = runs.loc[~together, ["year", "coalition", "fraction"]]
    alone = alone.rename(columns={"coalition": "member"})
    found = membership.merge(alone, on=["year", "member", "fraction"], how="left", indicator=True)
    lacking = found[found["_merge"] == "left_only"]
    if len(lacking):
        first = lacking.iloc[0]
        raise ValueError(
            f"{len(lacking)} member run(s) alone are missing, e.g. {first['member']} in "
            f"{first['year']} at {first['fraction']:g} (coalition {first['coalition']}): "
            "run coalition_sweep, which runs every member alone"
        )

    impacts = result.impacts[["year", "sources", "fraction", "country", "demand_loss", "failed"]]
    impacts = impacts.assign(year=[position[year] for year in impacts["year"]])
    inside = membership.rename(columns={"member": "country"}).assign(_inside=True)
    # The coalition's run, and each member's run alone, on countries outside the coalition.
    joint = impacts.rename(columns={"sources": "coalition"}).merge(coalitions[keys], on=keys)
    solo = membership.merge(
        impacts.rename(columns={"sources": "member"}), on=["year", "member", "fraction"]
    )
    joint, solo = (
        frame.merge(inside, on=[*keys, "country"], how="left").query("_inside.isna()")
        for frame in (joint, solo)
    )
    sums = pd.DataFrame(
        {
            "n_failed_sum": solo.groupby(keys, dropna=False)["failed"].sum(),
            "demand_loss_sum": solo.groupby(keys, dropna=False)["demand_loss"].sum(),
            "demand_loss": joint.groupby(keys, dropna=False)["demand_loss"].sum(),
        }
    )
    failed_alone = solo.loc[solo["failed"], [*keys, "country"]].drop_duplicates()
    sums["n_failed_union"] = failed_alone.groupby(keys, dropna=False).size()
    failed_alone = failed_alone.assign(_alone=True)
    fresh = joint[joint["failed"]].merge(failed_alone, on=[*keys, "country"], how="left")
    sums["newly_failed"] = fresh[fresh["_alone"].isna()].groupby(keys, dropna=False).size()

    table = coalitions.merge(sums.reset_index(), on=keys, how="left")
    table["year"] = pd.Series([years[i] for i in table["year"]], dtype=result.runs["year"].dtype)
    table["members"] = table["coalition"].str.count(";") + 1
    for column in ("n_failed_sum", "n_failed_union", "newly_failed"):
        table[column] = table[column].fillna(0).astype("int64")
    for column in ("demand_loss", "demand_loss_sum"):
        table[column] = table[column].fillna(0.0).astype("float64")
    table["n_failed"] = table["n_failed"].astype("int64")
    table["n_failed_added"] = table["n_failed"] - table["n_failed_sum"]
    table["demand_loss_added"] = table["demand_loss"] - table["demand_loss_sum"]
    table = table.sort_values(
        ["fraction", "year", "coalition"], ascending=[False, True, True], kind="stable"
    )
    return table[COALITION_COLUMNS].reset_index(drop=True)
