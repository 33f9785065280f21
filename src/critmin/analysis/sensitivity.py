"""How sure is the ranking? The study re-run over a grid of model choices and data treatments.

The study (:func:`critmin.simulator.sweep`: every exporter of every year as the single source, at
each shock size) ranks the sources by the countries they fail. That ranking rests on free
choices (docs/model.md): the model's preset (``paper``: no caps, the seed study's model;
``physical``: a supplier gives at most what it still has and a country loses at most what it
consumes), ``alpha``, ``absorb``, the failure rule and its threshold ``fail_abs``, and on how
the data are read (tonnes or value; flows without tonnes imputed or dropped; in contained
metal, the low and high ends of each code's metal-content factor). This
module re-runs the study at every point of a grid over those choices and reports, per source,
the band of its rank and failed count, and per grid point the agreement of its ranking with the
default point's (Kendall's tau-b over the sources).

Two facts keep the grid cheap, without changing any result:

* the failure rule and ``fail_abs`` only threshold the demand losses a cascade leaves, so one
  cascade per (network, preset, ``alpha``, ``absorb``) serves every failure setting of the grid;
* data variants share the years where they read the same network (the bundled HS 282200 series
  has tonnes for 2024 only, so its tonnes variants differ from the value one in 2024 alone):
  cascades are keyed by the network's content, and each is run once.

The cascades run on a process pool (one single-threaded engine per core); the networks go to
each worker once, when it starts. Nothing here touches the graph except :func:`read_variants`,
which reads every variant's networks from one pull of the group's TRADES rows.

Every grid point is its own parameter set; the results stay in memory (``critmin sensitivity``
prints or writes them) and are never mixed with a stored study.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import multiprocessing
import os
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from critmin.defaults import DEFAULT_SHOCKS
from critmin.loader.commodities import CommodityGroup
from critmin.simulator.network import TradeNetwork
from critmin.simulator.scenario import (
    FAILURE_PRESETS,
    PRESETS,
    Parameters,
    Shock,
    plan,
    shock_fraction,
)
from critmin.simulator.tables import SOURCE_COLUMNS
from critmin.store.graph import GraphStore
from critmin.store.networks import Panel, read_panel, read_trade_rows, tonnes_years
from critmin.units import Unit

__all__ = [
    "ABSORBS",
    "ALPHAS",
    "DATA_VARIANTS",
    "FAIL_ABS_SCALES",
    "METAL_VARIANTS",
    "DataVariant",
    "Grid",
    "GridPoint",
    "SensitivityResult",
    "alpha_values",
    "kendall_tau_b",
    "network_key",
    "read_variants",
    "sensitivity",
]

Progress = Callable[[int, int], None]


def alpha_values(count: int = 5, low: float = 0.5, high: float = 0.9) -> tuple[float, ...]:
    """``count`` values of ``alpha`` evenly spaced from ``low`` to ``high``.

    >>> alpha_values()
    (0.5, 0.6, 0.7, 0.8, 0.9)
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if count == 1:
        return (round(low, 10),)
    return tuple(round(float(a), 10) for a in np.linspace(low, high, count))


ALPHAS = alpha_values()
ABSORBS = (0.0, 0.2)
#: ``fail_abs`` as a multiple of the failure rule's threshold in the network's unit
#: (:meth:`~critmin.simulator.scenario.FailureRule.fail_abs`): a decade each way.
FAIL_ABS_SCALES = (0.1, 1.0, 10.0)
#: How a variant reads each year's flows (see :func:`read_variants`).
DATA_VARIANTS = ("value", "tonnes", "tonnes_dropped")
#: The contained-metal variants: every flow's metal at the low or high end of its code's
#: metal-content range (loader/data/metal_content.csv), added when the study's measure is metal.
METAL_VARIANTS = ("metal_low", "metal_high")
DATA_DESCRIPTIONS = {
    "metal": "tonnes of contained metal at each code's central metal-content factor",
    "metal_low": "tonnes of contained metal at the low end of each code's metal-content range",
    "metal_high": "tonnes of contained metal at the high end of each code's metal-content range",
    "value": "trade value in USD, every year",
    "tonnes": "tonnes where a year's flows report them (the few missing imputed at the "
    "code-year's unit price), value in the other years",
    "tonnes_dropped": "tonnes where a year's flows report them (flows without tonnes left out), "
    "value in the other years",
}


def kendall_tau_b(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Kendall's tau-b of two paired samples: rank agreement, ties accounted for.

    ``(concordant - discordant) / sqrt((n0 - ties_x) * (n0 - ties_y))`` over the ``n0 = n(n-1)/2``
    pairs; a pair tied in ``x`` (``y``) counts in ``ties_x`` (``ties_y``) and is neither
    concordant nor discordant. NaN when either sample is constant or has fewer than 2 values.
    O(n^2) memory and time: meant for the ~100-250 sources of a study.

    >>> kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4])  # 5 concordant pairs, 1 discordant
    0.6666666666666666
    >>> kendall_tau_b([1, 2, 2, 3], [1, 3, 2, 2])  # 3 - 1 over sqrt((6 - 1) * (6 - 1))
    0.4
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"x and y must be 1-d of one length, got {a.shape} and {b.shape}")
    n = len(a)
    if n < 2:
        return math.nan
    i, j = np.triu_indices(n, 1)
    dx, dy = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    pairs = n * (n - 1) // 2
    untied_x = pairs - int(np.count_nonzero(dx == 0))
    untied_y = pairs - int(np.count_nonzero(dy == 0))
    denominator = math.sqrt(untied_x * untied_y)
    if denominator == 0:
        return math.nan
    return float(np.sum(dx * dy)) / denominator


@dataclass(frozen=True)
class DataVariant:
    """One reading of the data: a network per year (their units may differ by year).

    ``panel`` is the study's ``N`` countries (every country of every network when empty).
    """

    name: str
    networks: Mapping[Hashable, TradeNetwork]
    panel: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not self.networks:
            raise ValueError(f"data variant {self.name!r} has no network")
        if not self.panel:
            countries = set().union(*(n.countries for n in self.networks.values()))
            object.__setattr__(self, "panel", tuple(sorted(countries)))

    @property
    def units(self) -> dict[Hashable, str]:
        """Each year's unit."""
        return {year: network.unit for year, network in self.networks.items()}

    def unit_label(self) -> str:
        """``USD``, or the years of each unit when they differ: ``USD 2002-2023, t 2024``.

        >>> flows = pd.DataFrame({"exporter": ["A"], "importer": ["B"], "quantity": [1.0]})
        >>> net = {y: TradeNetwork.from_frames(flows, unit="USD") for y in (2001, 2002, 2003)}
        >>> net[2004] = TradeNetwork.from_frames(flows)
        >>> DataVariant("tonnes", net).unit_label()
        'USD 2001-2003, t 2004'
        """
        by_unit: dict[str, list[Hashable]] = {}
        for year, unit in self.units.items():
            by_unit.setdefault(unit, []).append(year)
        if len(by_unit) == 1:
            return next(iter(by_unit))
        return ", ".join(f"{unit} {_span(years)}" for unit, years in by_unit.items())


@dataclass(frozen=True)
class GridPoint:
    """The cascade and failure choices of one grid point, its data variant and model preset."""

    alpha: float
    absorb: float
    rule: str
    fail_abs_scale: float
    data: str
    preset: str = "paper"

    @property
    def label(self) -> str:
        """``paper alpha=0.8 absorb=0 any-loss fail_abs=x1 data=value``."""
        return (
            f"{self.preset} alpha={self.alpha:g} absorb={self.absorb:g} {self.rule} "
            f"fail_abs=x{self.fail_abs_scale:g} data={self.data}"
        )

    def parameters(self, unit: str) -> Parameters:
        """The point's cascade parameters for a network in ``unit`` (model defaults elsewhere)."""
        rule = FAILURE_PRESETS[self.rule]
        return Parameters.from_preset(
            self.preset,
            alpha=self.alpha,
            absorb=self.absorb,
            fail_abs=self.fail_abs_scale * rule.fail_abs(unit),
            fail_rel=rule.fail_rel,
        )


def _default_rule() -> str:
    """The preset that the model's default parameters are."""
    defaults = Parameters()
    for name, rule in FAILURE_PRESETS.items():
        if not rule.floor and rule.fail_rel == defaults.fail_rel:
            return name
    raise LookupError("no failure-rule preset matches the default parameters")


#: The largest ``fail_abs`` multiple: in every unit, scale x the unit's tiny threshold stays
#: within the largest flow a loader accepts (1e10 t at 0.001 t, 1e13 USD at 1,000 USD).
MAX_FAIL_ABS_SCALE = min(unit.max_flow / unit.default_fail_abs for unit in Unit)


@dataclass(frozen=True)
class Grid:
    """The model choices a sensitivity study varies; every combination is a grid point.

    The default point (the model's defaults: the ``paper`` preset, ``alpha`` 0.8, ``absorb`` 0,
    the ``any-loss`` rule, ``fail_abs`` x1) is always part of the grid: its values are added
    where missing. Parameters the grid does not vary keep the model's defaults (docs/model.md).
    """

    alphas: tuple[float, ...] = ALPHAS
    absorbs: tuple[float, ...] = ABSORBS
    rules: tuple[str, ...] = tuple(FAILURE_PRESETS)
    fail_abs_scales: tuple[float, ...] = FAIL_ABS_SCALES
    presets: tuple[str, ...] = tuple(PRESETS)

    def __post_init__(self) -> None:
        defaults = Parameters()
        unknown = sorted(set(self.rules) - set(FAILURE_PRESETS))
        if unknown:
            raise ValueError(f"unknown failure rule(s) {unknown}; presets: {list(FAILURE_PRESETS)}")
        models = sorted(set(self.presets) - set(PRESETS))
        if models:
            raise ValueError(f"unknown model preset(s) {models}; presets: {list(PRESETS)}")
        chosen = {defaults.preset, *self.presets}
        object.__setattr__(self, "presets", tuple(p for p in PRESETS if p in chosen))
        if any(not s > 0 or not math.isfinite(s) for s in self.fail_abs_scales):
            raise ValueError(f"fail_abs scales must be > 0, got {self.fail_abs_scales}")
        too_large = [s for s in self.fail_abs_scales if s > MAX_FAIL_ABS_SCALE]
        if too_large:
            raise ValueError(
                f"fail_abs scale {too_large[0]:g} is above {MAX_FAIL_ABS_SCALE:g}: a threshold "
                "beyond the largest flow a loader accepts (Unit.max_flow), which no country reaches"
            )
        object.__setattr__(self, "alphas", _with(self.alphas, defaults.alpha))
        object.__setattr__(self, "absorbs", _with(self.absorbs, defaults.absorb))
        object.__setattr__(self, "fail_abs_scales", _with(self.fail_abs_scales, 1.0))
        rules = tuple(dict.fromkeys([_default_rule(), *self.rules]))
        object.__setattr__(self, "rules", tuple(r for r in FAILURE_PRESETS if r in rules))
        for alpha, absorb in itertools.product(self.alphas, self.absorbs):
            Parameters(alpha=alpha, absorb=absorb)  # range checks

    def default(self, data: str) -> GridPoint:
        """The default point on data variant ``data``."""
        defaults = Parameters()
        return GridPoint(
            defaults.alpha, defaults.absorb, _default_rule(), 1.0, data, defaults.preset
        )

    def cascades(self) -> list[tuple[str, float, float]]:
        """The (preset, alpha, absorb) of the grid's cascades, in the order of :meth:`points`."""
        return list(itertools.product(self.presets, self.alphas, self.absorbs))

    def points(self, data: Sequence[str]) -> list[GridPoint]:
        """Every point: data variants outermost, then preset, alpha, absorb, rule, fail_abs
        scale."""
        return [
            GridPoint(alpha, absorb, rule, scale, name, preset)
            for name in data
            for preset in self.presets
            for alpha in self.alphas
            for absorb in self.absorbs
            for rule in self.rules
            for scale in self.fail_abs_scales
        ]

    def describe(self) -> str:
        """The grid in one line, for captions."""
        rules = ", ".join(f"{r} (fail_rel={FAILURE_PRESETS[r].fail_rel:g})" for r in self.rules)
        scales = "/".join(f"x{s:g}" for s in self.fail_abs_scales)
        return (
            f"preset {'/'.join(self.presets)}; alpha {_values(self.alphas)}; absorb "
            f"{_values(self.absorbs)}; failure rules {rules}; fail_abs {scales} of the rule's "
            f"threshold in each year's unit ({rule_thresholds(self.rules)})"
        )


def rule_thresholds(rules: Iterable[str]) -> str:
    """The absolute threshold of each failure rule in every unit, from
    :meth:`~critmin.simulator.scenario.FailureRule.fail_abs` (rules alike grouped).

    >>> for part in rule_thresholds(["any-loss", "buffer-1pct", "share-1pct"]).split("; "):
    ...     print(part)
    any-loss, buffer-1pct: 0.001 t, 0.001 t contained metal or 1,000 USD
    share-1pct: 1 t, 1 t contained metal or 10,000 USD
    """
    by_text: dict[str, list[str]] = {}
    for name in rules:
        units = (Unit.TONNES, Unit.METAL, Unit.USD)
        amounts = [u.amount(FAILURE_PRESETS[name].fail_abs(u)) for u in units]
        by_text.setdefault(f"{', '.join(amounts[:-1])} or {amounts[-1]}", []).append(name)
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in by_text.items())


def _with(values: Iterable[float], default: float) -> tuple[float, ...]:
    return tuple(sorted({float(v) for v in values} | {default}))


def _values(values: Sequence[float]) -> str:
    return "/".join(f"{v:g}" for v in values)


def _span(years: Sequence[Hashable]) -> str:
    """``2002-2023`` for consecutive integer years, else the years listed."""
    numbers = sorted(int(y) for y in years if isinstance(y, int | np.integer))
    if len(numbers) == len(years) and numbers and numbers[-1] - numbers[0] == len(numbers) - 1:
        return str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}"
    return ",".join(str(y) for y in years)


@dataclass(frozen=True)
class SensitivityResult:
    """The study at every grid point, in memory.

    Attributes
    ----------
    points : DataFrame
        One row per grid point: ``point`` (its number), ``label``, ``data``, ``unit`` (each
        year's unit, summarised), ``preset``, ``alpha``, ``absorb``, ``failure_rule``, ``fail_rel``,
        ``fail_abs_scale``, ``is_default``.
    sources : DataFrame
        ``point`` and the study's source table at that point (``fraction, rank, source,
        total_failed, failure_rate, years_active``: :func:`critmin.simulator.tables.study_tables`).
    default : int
        The default point's number.
    variants : tuple of DataVariant
        The data variants of the grid (the default's first).
    grid : Grid
    fractions : tuple of float
    runs : int
        Cascade runs in the grid if each point ran its own sweep.
    cascades : int
        Cascade runs actually run (one per network content, preset, alpha, absorb, source and
        fraction).
    notes : tuple of str
        What was left out (data variants identical to another, or not available).
    """

    points: pd.DataFrame
    sources: pd.DataFrame
    default: int
    variants: tuple[DataVariant, ...]
    grid: Grid
    fractions: tuple[float, ...]
    runs: int
    cascades: int
    notes: tuple[str, ...] = ()

    def table(self, point: int | None = None) -> pd.DataFrame:
        """The source table of ``point`` (the default point's by default), as a sweep's."""
        chosen = self.default if point is None else point
        rows = self.sources[self.sources["point"] == chosen]
        return rows[SOURCE_COLUMNS].reset_index(drop=True)

    def bands(self, top: int = 10) -> pd.DataFrame:
        """For each of the default point's top sources per fraction (rank <= ``top``, ties at
        the boundary included), its band over the grid.

        Columns: ``fraction``, the default's ``rank``, ``source``, ``total_failed`` and
        ``failure_rate``; over the grid points where it is a source: ``rank_min``,
        ``rank_max``, ``failed_min``, ``failed_max``, ``rate_min``, ``rate_max``,
        ``top_share`` (share of those points ranking it in the top ``top``: rank <= top),
        ``worst_point`` (the first point where its rank is lowest; empty when its rank never
        moves) and ``points``.
        """
        default = self.table()
        default = default[default["rank"] <= top]
        keys = ["fraction", "source"]
        rows = self.sources.merge(default[keys], on=keys)
        labels = self.points.set_index("point")["label"]
        worst = rows.sort_values(["rank", "point"], ascending=[False, True])
        worst = worst.drop_duplicates(keys).set_index(keys)["point"].map(labels)
        band = rows.groupby(keys).agg(
            rank_min=("rank", "min"),
            rank_max=("rank", "max"),
            failed_min=("total_failed", "min"),
            failed_max=("total_failed", "max"),
            rate_min=("failure_rate", "min"),
            rate_max=("failure_rate", "max"),
            top_share=("rank", lambda r: float((r <= top).mean())),
            points=("point", "size"),
        )
        band["worst_point"] = worst.where(band["rank_max"] > band["rank_min"], "")
        table = default.join(band, on=keys)
        columns = [
            "fraction", "rank", "source", "total_failed", "rank_min", "rank_max", "failed_min",
            "failed_max", "failure_rate", "rate_min", "rate_max", "top_share", "worst_point",
            "points",
        ]  # fmt: skip
        return table[columns].reset_index(drop=True)

    def agreement(self, top: int = 10) -> pd.DataFrame:
        """Per grid point and fraction, its ranking against the default point's.

        ``kendall_tau_b`` of the sources' total failed between the point and the default, over
        every source of either (a country that is no source in one of them fails no one there:
        0); ``sources`` how many; ``top_overlap`` how many sources rank ``top`` or better in
        both; ``first`` the point's top source(s). Least agreement first within each fraction.
        """
        base = self.sources[self.sources["point"] == self.default]
        records = []
        for (point, fraction), rows in self.sources.groupby(["point", "fraction"], sort=False):
            reference = base[base["fraction"] == fraction]
            both = (
                reference.set_index("source")["total_failed"]
                .to_frame("default")
                .join(rows.set_index("source")["total_failed"].rename("point"), how="outer")
            )
            both = both.fillna(0)
            shared = _top(reference, top) & _top(rows, top)
            records.append(
                {
                    "point": point,
                    "fraction": fraction,
                    "kendall_tau_b": kendall_tau_b(both["default"], both["point"]),
                    "sources": len(both),
                    "top_overlap": len(shared),
                    "first": ";".join(rows.loc[rows["rank"] == 1, "source"]),
                }
            )
        table = self.points.merge(pd.DataFrame(records), on="point")
        table = table.sort_values(
            ["fraction", "kendall_tau_b", "point"], ascending=[False, True, True]
        )
        columns = [
            "fraction", "kendall_tau_b", "top_overlap", "first", "sources", "point", "data",
            "unit", "preset", "alpha", "absorb", "failure_rule", "fail_rel", "fail_abs_scale",
            "is_default", "label",
        ]  # fmt: skip
        return table[columns].reset_index(drop=True)

    def effects(self, top: int = 10) -> pd.DataFrame:
        """Which choice moves the ranking: per dimension value and fraction, the least and the
        median ``kendall_tau_b`` against the default over the points with that value."""
        agreement = self.agreement(top)
        parts = []
        dimensions = ("data", "preset", "alpha", "absorb", "failure_rule", "fail_abs_scale")
        for dimension in dimensions:
            grouped = agreement.groupby(["fraction", dimension], sort=False)
            part = grouped.agg(
                tau_min=("kendall_tau_b", "min"),
                tau_median=("kendall_tau_b", "median"),
                top_overlap_min=("top_overlap", "min"),
                points=("point", "size"),
            ).reset_index()
            part.insert(1, "dimension", dimension)
            parts.append(part.rename(columns={dimension: "value"}).astype({"value": str}))
        table = pd.concat(parts, ignore_index=True)
        table = table.sort_values(["fraction", "dimension", "value"], ascending=[False, True, True])
        return table.reset_index(drop=True)

    def context(self) -> dict[str, Any]:
        """The grid's parameters and data, for the header of a written table."""
        default = self.points.set_index("point").loc[self.default]
        return {
            "grid": self.grid.describe(),
            "grid_points": len(self.points),
            "default_point": str(default["label"]),
            "shocks": list(self.fractions),
            "data": {
                v.name: {"unit": v.unit_label(), "panel_countries": len(v.panel)}
                for v in self.variants
            },
            "other_parameters": {
                k: v
                for k, v in Parameters().as_dict().items()
                if k not in ("alpha", "absorb", "fail_abs", "fail_rel", *PRESETS["physical"])
            },
            "runs_in_grid": self.runs,
            "cascades_run": self.cascades,
            "notes": list(self.notes),
        }


def _top(table: pd.DataFrame, top: int) -> set[str]:
    """The sources ranked ``top`` or better (ties at the boundary included)."""
    return set(table.loc[table["rank"] <= top, "source"])


def sensitivity(
    data: Mapping[Hashable, TradeNetwork] | Sequence[DataVariant],
    grid: Grid | None = None,
    fractions: Sequence[float] = DEFAULT_SHOCKS,
    workers: int | None = None,
    progress: Progress | None = None,
    notes: Sequence[str] = (),
) -> SensitivityResult:
    """Run the study (every exporter of every year, each shock size) at every grid point.

    Parameters
    ----------
    data : mapping of year to TradeNetwork, or sequence of DataVariant
        The networks (one data variant, named ``data``), or several variants, the default
        point's first.
    grid : Grid, optional
        The model choices to vary (default: :class:`Grid`'s).
    fractions : sequence of float
        Shock sizes, each in (0, 1].
    workers : int, optional
        Processes running cascades side by side (default: one per core this process may use);
        1 runs them here, one after the other. Workers are started with ``spawn``: a script
        that calls this with more than one worker needs the ``if __name__ == "__main__":``
        guard around its entry point.
    progress : callable, optional
        ``progress(done, total)`` as cascades (one network, alpha and absorb) finish.
    notes : sequence of str
        Carried into the result (what the caller left out).

    Returns
    -------
    SensitivityResult
        Its default point's source table equals the plain sweep's
        (``sweep(networks).tables(panel).sources``).

    Examples
    --------
    >>> flows = pd.DataFrame({"exporter": ["A", "B", "C"], "importer": ["B", "C", "B"],
    ...                       "quantity": [100.0, 50.0, 10.0]})
    >>> result = sensitivity({2020: TradeNetwork.from_frames(flows)}, workers=1)
    >>> len(result.points), result.table()["source"].tolist()[:3]
    (180, ['A', 'B', 'C'])
    """
    grid = grid or Grid()
    variants = _variants(data)
    fractions = tuple(shock_fraction(f) for f in fractions)
    if not fractions:
        raise ValueError("fractions must name at least one shock size")
    names = [v.name for v in variants]
    points = grid.points(names)
    default = points.index(grid.default(names[0]))

    unique: dict[str, TradeNetwork] = {}
    keys: dict[str, dict[Hashable, str]] = {}
    for variant in variants:
        keys[variant.name] = {}
        for year, network in variant.networks.items():
            key = network_key(network)
            unique.setdefault(key, network)
            keys[variant.name][year] = key
    failure = tuple(itertools.product(grid.rules, grid.fail_abs_scales))
    tasks = sorted(
        ((key, *choice) for key in unique for choice in grid.cascades()),
        key=lambda t: (t[1], t[2], t[3], -_size(unique[t[0]])),  # the longest cascades first
    )
    outcomes = _execute(tasks, unique, fractions, failure, workers, progress)

    parts = []
    for number, variant in enumerate(variants):
        choices = grid.cascades()
        for a, choice in enumerate(choices):
            years = [(year, outcomes[(key, *choice)]) for year, key in keys[variant.name].items()]
            first = (number * len(choices) + a) * len(failure)
            parts.append(_point_sources(years, first, len(failure), variant))
    sources = pd.concat(parts, ignore_index=True)

    table = pd.DataFrame(
        {
            "point": range(len(points)),
            "label": [p.label for p in points],
            "data": [p.data for p in points],
            "unit": [next(v for v in variants if v.name == p.data).unit_label() for p in points],
            "preset": [p.preset for p in points],
            "alpha": [p.alpha for p in points],
            "absorb": [p.absorb for p in points],
            "failure_rule": [p.rule for p in points],
            "fail_rel": [FAILURE_PRESETS[p.rule].fail_rel for p in points],
            "fail_abs_scale": [p.fail_abs_scale for p in points],
            "is_default": [i == default for i in range(len(points))],
        }
    )
    per_variant = len(points) // len(variants)
    runs = sum(
        len(_sources_of(network)) * len(fractions) * per_variant
        for variant in variants
        for network in variant.networks.values()
    )
    cascades = sum(len(_sources_of(unique[task[0]])) for task in tasks) * len(fractions)
    return SensitivityResult(
        table, sources, default, tuple(variants), grid, fractions, runs, cascades, tuple(notes)
    )


def _variants(data: Mapping[Hashable, TradeNetwork] | Sequence[DataVariant]) -> list[DataVariant]:
    if isinstance(data, Mapping):
        return [DataVariant("data", dict(data))]
    variants = list(data)
    if not variants or not all(isinstance(v, DataVariant) for v in variants):
        raise ValueError("data must be a mapping of year to TradeNetwork or DataVariants")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f"data variants must have distinct names, got {names}")
    return variants


def network_key(network: TradeNetwork) -> str:
    """A digest of what a cascade on ``network`` depends on: its unit, and the flows and
    production of the countries that trade or produce (countries listed without either, as a
    panel lists every country in every year, change no run)."""
    active = np.flatnonzero(network.W.any(axis=0) | network.W.any(axis=1) | (network.P > 0))
    digest = hashlib.sha256(network.unit.encode())
    digest.update("\n".join(network.countries[i] for i in active).encode())
    digest.update(np.ascontiguousarray(network.W[np.ix_(active, active)]).tobytes())
    digest.update(np.ascontiguousarray(network.P[active]).tobytes())
    return digest.hexdigest()


def _sources_of(network: TradeNetwork) -> list[str]:
    """The countries a study shocks in ``network``: every exporter (as :func:`sweep` does)."""
    exports = network.W.sum(axis=1)
    return [c for c, amount in zip(network.countries, exports, strict=True) if amount > 0]


def _size(network: TradeNetwork) -> int:
    """A cascade batch's cost, roughly: links times sources."""
    return int(np.count_nonzero(network.W)) * len(_sources_of(network))


Task = tuple[str, str, float, float]  # network key, preset, alpha, absorb
Failure = tuple[tuple[str, float], ...]  # (rule, fail_abs scale) per failure setting


@dataclass(frozen=True)
class _Outcome:
    """One cascade batch: a run per (fraction, source) and its failed count per setting."""

    sources: tuple[str, ...]
    fractions: npt.NDArray[np.float64]
    n_failed: npt.NDArray[np.int64]  # runs x failure settings


#: The networks of a worker process, by key: sent once, when the worker starts.
_NETWORKS: dict[str, TradeNetwork] = {}


def _start_worker(networks: Mapping[str, TradeNetwork]) -> None:
    _NETWORKS.clear()
    _NETWORKS.update(networks)


def _work(task: Task, fractions: tuple[float, ...], failure: Failure) -> tuple[Task, _Outcome]:
    return task, cascade_batch(
        _NETWORKS[task[0]], task[2], task[3], fractions, failure, preset=task[1]
    )


def cascade_batch(
    network: TradeNetwork,
    alpha: float,
    absorb: float,
    fractions: Sequence[float],
    failure: Failure,
    max_threads: int = 1,
    preset: str = "paper",
) -> _Outcome:
    """Every exporter of ``network`` at each fraction, one cascade each under the model
    ``preset``; the countries failed under each failure setting ``(rule, fail_abs scale)``, as
    :func:`sweep` counts them."""
    from critmin.simulator.fast import Links, run_batch  # numba: imported where cascades run
    from critmin.simulator.result import failed_mask

    params = Parameters.from_preset(preset, alpha=alpha, absorb=absorb)
    sources = _sources_of(network)
    groups = [(s, f) for f in fractions for s in sources]  # the order of sweep's runs
    plans = [plan(network, [Shock(s, f)], params.mode) for s, f in groups]
    links = Links.of(network)
    batch = run_batch(network, links, plans, params.resolved(network.unit), None, max_threads)
    is_source = np.zeros(batch.demand_loss.shape, bool)
    positions = network.positions([s for s, _ in groups], "sources")
    is_source[np.arange(len(groups)), positions] = True
    demand = network.demand_array
    n_failed = np.empty((len(groups), len(failure)), np.int64)
    for k, (rule, scale) in enumerate(failure):
        point = GridPoint(alpha, absorb, rule, scale, "", preset)
        failed = failed_mask(batch.demand_loss, demand, is_source, point.parameters(network.unit))
        n_failed[:, k] = failed.sum(axis=1)
    return _Outcome(
        tuple(s for s, _ in groups), np.array([f for _, f in groups], np.float64), n_failed
    )


def _execute(
    tasks: Sequence[Task],
    networks: Mapping[str, TradeNetwork],
    fractions: tuple[float, ...],
    failure: Failure,
    workers: int | None,
    progress: Progress | None,
) -> dict[Task, _Outcome]:
    """Every task's outcome: here one after the other (``workers=1``), else on a process pool."""
    workers = workers or _cores()
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    report = progress or (lambda done, total: None)
    outcomes: dict[Task, _Outcome] = {}
    if workers == 1:
        for task in tasks:
            network = networks[task[0]]
            outcomes[task] = cascade_batch(
                network, task[2], task[3], fractions, failure, preset=task[1]
            )
            report(len(outcomes), len(tasks))
        return outcomes
    # spawn: a fresh interpreter per worker, safe whatever threads this process runs (the
    # Neo4j driver's, the engine's); numba's compiled kernel is cached on disk.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        min(workers, len(tasks)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(dict(networks),),
    ) as pool:
        futures = [pool.submit(_work, task, fractions, failure) for task in tasks]
        for future in as_completed(futures):
            task, outcome = future.result()
            outcomes[task] = outcome
            report(len(outcomes), len(tasks))
    return outcomes


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _point_sources(
    years: Sequence[tuple[Hashable, _Outcome]], first: int, settings: int, variant: DataVariant
) -> pd.DataFrame:
    """The source tables of points ``first .. first + settings - 1``: one cascade per year,
    one failure setting per point (the study's Tables 1-2, as ``study_tables`` makes them)."""
    sources = np.concatenate([np.asarray(o.sources, dtype=object) for _, o in years])
    fractions = np.concatenate([o.fractions for _, o in years])
    n_failed = np.concatenate([o.n_failed for _, o in years])
    runs = pd.DataFrame(
        {
            "point": np.repeat(np.arange(first, first + settings), len(sources)),
            "fraction": np.tile(fractions, settings),
            "source": np.tile(sources, settings),
            "n_failed": n_failed.T.reshape(-1),
        }
    )
    table = (
        runs.groupby(["point", "fraction", "source"])
        .agg(total_failed=("n_failed", "sum"), years_active=("n_failed", "size"))
        .reset_index()
    )
    table["total_failed"] = table["total_failed"].astype("int64")
    table["years_active"] = table["years_active"].astype("int64")
    table["failure_rate"] = table["total_failed"] / (len(variant.networks) * len(variant.panel))
    table["rank"] = (
        table.groupby(["point", "fraction"])["total_failed"]
        .rank(method="min", ascending=False)
        .astype("int64")
    )
    table = table.sort_values(
        ["point", "fraction", "rank", "source"], ascending=[True, False, True, True]
    )
    return table[["point", *SOURCE_COLUMNS]].reset_index(drop=True)


def read_variants(
    store: GraphStore,
    group: CommodityGroup,
    years: Sequence[int],
    measure: str = "auto",
    wanted: Sequence[str] = DATA_VARIANTS,
) -> tuple[list[DataVariant], list[str]]:
    """The group's networks in each data variant, from one pull of its TRADES rows.

    The first variant is the study's own (``measure``, as ``critmin simulate`` reads it:
    ``tonnes`` when every year reports tonnes for 95% of its value, else ``value``), built as
    the sweep builds it, so the default grid point is the stored study. The others, among
    ``wanted``: ``value`` (USD every year), ``tonnes`` and ``tonnes_dropped`` (tonnes in the
    years whose flows report them, with the few missing imputed at the code-year's unit price
    or left out; value in the other years). When ``measure`` is ``metal`` the study's own
    variant is ``metal`` and ``metal_low`` and ``metal_high`` (every code at the low or high
    end of its metal-content range) are added. A variant whose networks equal an earlier
    one's is left out, and so is a tonnes variant when no year has tonnes; the notes say which.
    """
    known = (*DATA_VARIANTS, *METAL_VARIANTS)
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"unknown data variant(s) {unknown}; choose from {list(known)}")
    years = sorted(years)
    rows = read_trade_rows(store, group, years)
    chosen = sorted(int(y) for y in rows["year"].unique())
    study = read_panel(store, group, chosen, measure, rows=rows)
    first = {"t": "tonnes", "t_metal": "metal"}.get(study.unit, "value")
    variants = [_variant(first, [study])]
    notes: list[str] = []
    with_tonnes = tonnes_years(rows)
    if first == "metal":
        wanted = (*METAL_VARIANTS, *wanted)
    for name in dict.fromkeys(wanted):
        if name == first or (name in METAL_VARIANTS and first != "metal"):
            continue
        if name in METAL_VARIANTS:
            content = name.removeprefix("metal_")
            panels = [read_panel(store, group, chosen, "metal", rows=rows, content=content)]
        elif name == "value":
            panels = [read_panel(store, group, chosen, "usd", rows=rows)]
        elif not with_tonnes:
            notes.append(f"data {name} left out: no year reports tonnes for 95% of its value")
            continue
        else:
            missing = "impute" if name == "tonnes" else "drop"
            panels = [read_panel(store, group, with_tonnes, "tonnes", missing, rows=rows)]
            rest = [y for y in chosen if y not in with_tonnes]
            if rest:
                panels.append(read_panel(store, group, rest, "usd", rows=rows))
        variant = _variant(name, panels)
        same = next((v.name for v in variants if _same(v, variant)), None)
        if same is not None:
            notes.append(f"data {name} left out: the same networks as {same}")
            continue
        variants.append(variant)
    return variants, notes


def _variant(name: str, panels: Sequence[Panel]) -> DataVariant:
    """A variant from panels of disjoint years: each year's network as the sweep builds it."""
    networks = {
        year: TradeNetwork.from_frames(
            panel.year_flows(year),
            panel.year_production(year),
            countries=panel.countries,
            unit=panel.unit,
        )
        for panel in panels
        for year in panel.years
    }
    panel_countries = sorted(set().union(*(panel.countries for panel in panels)))
    return DataVariant(
        name,
        dict(sorted(networks.items())),
        tuple(panel_countries),
        DATA_DESCRIPTIONS.get(name, ""),
    )


def _same(a: DataVariant, b: DataVariant) -> bool:
    return a.networks.keys() == b.networks.keys() and all(
        network_key(a.networks[y]) == network_key(b.networks[y]) for y in a.networks
    )
