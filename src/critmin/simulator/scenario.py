"""What a run is asked to do: the shocks and the cascade parameters, validated."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt

from critmin.simulator.network import TradeNetwork
from critmin.units import Unit

__all__ = [
    "FAILURE_PRESETS",
    "MODES",
    "SUPPLIER_CAPS",
    "Parameters",
    "Plan",
    "Shock",
    "as_shocks",
    "plan",
    "real_number",
    "shock_fraction",
]

MODES = ("export", "production")
SUPPLIER_CAPS = ("none", "supply")

#: ``fail_abs`` when the caller gives none: 1 kg for tonnes, 1,000 USD for values.
DEFAULT_FAIL_ABS = {unit.value: unit.default_fail_abs for unit in Unit}

#: The failure rules of docs/model.md ("Failure-rule presets") by name, as ``fail_abs`` and
#: ``fail_rel`` for :class:`Parameters` (``fail_abs=None``: the unit's tiny threshold).
#: ``any-loss`` (the default) fails a country on any loss; ``buffer-1pct`` only on unmet
#: demand above 1% of its demand (the buffer rule of Fosch et al.'s food-trade code).
FAILURE_PRESETS: dict[str, dict[str, float | None]] = {
    "any-loss": {"fail_abs": None, "fail_rel": 0.0},
    "buffer-1pct": {"fail_abs": None, "fail_rel": 0.01},
}


@dataclass(frozen=True)
class Shock:
    """A disruption of one source country.

    Parameters
    ----------
    source : str
        ISO3 code of the shocked country.
    fraction : float
        Share of the source's exports (or production) lost, in (0, 1]; a four-month ban on a
        year of trade is ``4 / 12``.
    targets : iterable of str, optional
        Importers the cut applies to (a targeted embargo); all importers when omitted.

    Examples
    --------
    >>> Shock("COD", 0.5, targets=["CHN", "ZAF"])
    Shock(source='COD', fraction=0.5, targets=('CHN', 'ZAF'))
    """

    source: str
    fraction: float
    targets: Iterable[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source:
            raise ValueError(f"Shock source must be an ISO3 string, got {self.source!r}")
        object.__setattr__(self, "fraction", shock_fraction(self.fraction))
        if isinstance(self.targets, str):
            raise ValueError(f"Shock targets must be a list of ISO3 codes, got {self.targets!r}")
        if self.targets is not None:
            targets = tuple(sorted(set(self.targets)))
            if not targets:
                raise ValueError("Shock targets, when given, must name at least one importer")
            if self.source in targets:
                raise ValueError(f"Shock source {self.source} cannot target itself")
            object.__setattr__(self, "targets", targets)


@dataclass(frozen=True)
class Parameters:
    """The cascade's free choices, with the defaults of ``docs/model.md``.

    ``eps_pass`` and ``tol`` are shares of the initial shock; ``fail_abs`` is in the network's
    unit and, left as ``None``, resolves per unit (:data:`DEFAULT_FAIL_ABS`).
    Unknown names raise ``TypeError`` (the dataclass constructor), bad values ``ValueError``.
    """

    alpha: float = 0.8
    absorb: float = 0.0
    supplier_cap: str = "none"
    eps_pass: float = 1e-9
    tol: float = 1e-12
    max_rounds: int = 10_000
    fail_abs: float | None = None
    fail_rel: float = 0.0
    mode: str = "export"

    def __post_init__(self) -> None:
        for name, upper in (("alpha", 1.0), ("absorb", 1.0), ("eps_pass", None), ("tol", None)):
            self._set_real(name, upper)
        self._set_real("fail_rel", None)
        if self.fail_abs is not None:
            self._set_real("fail_abs", None)
        if isinstance(self.max_rounds, bool) or not isinstance(self.max_rounds, int | np.integer):
            raise ValueError(f"max_rounds must be an integer, got {self.max_rounds!r}")
        if self.max_rounds < 0:
            raise ValueError(f"max_rounds must be >= 0, got {self.max_rounds}")
        object.__setattr__(self, "max_rounds", int(self.max_rounds))
        if self.supplier_cap not in SUPPLIER_CAPS:
            raise ValueError(
                f"supplier_cap must be one of {SUPPLIER_CAPS}, got {self.supplier_cap!r}"
            )
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")

    def _set_real(self, name: str, upper: float | None) -> None:
        value = real_number(getattr(self, name), name)
        if value < 0 or (upper is not None and value > upper):
            bounds = f"in [0, {upper}]" if upper is not None else ">= 0"
            raise ValueError(f"{name} must be {bounds}, got {value!r}")
        object.__setattr__(self, name, value)

    def resolved(self, unit: str) -> Parameters:
        """These parameters with ``fail_abs`` filled in for networks measured in ``unit``."""
        if self.fail_abs is not None:
            return self
        return replace(self, fail_abs=DEFAULT_FAIL_ABS[unit])

    def as_dict(self) -> dict[str, Any]:
        """Every parameter by name, in declaration order."""
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """Shocks laid onto one network's positions, as the engines consume them.

    ``cut_exporter[k] -> cut_importer[k]`` loses ``cut_fraction[k]`` of its flow in round 0
    (export mode); ``seed_country[k]`` loses ``seed_fraction[k]`` of its production (production
    mode). ``sources`` may never be asked for more exports. ``stock_country[k]`` starts with a
    stockpile of ``stock_quantity[k]`` in the network's unit (none by default).
    """

    sources: npt.NDArray[np.intp]
    cut_exporter: npt.NDArray[np.intp]
    cut_importer: npt.NDArray[np.intp]
    cut_fraction: npt.NDArray[np.float64]
    seed_country: npt.NDArray[np.intp]
    seed_fraction: npt.NDArray[np.float64]
    stock_country: npt.NDArray[np.intp] = field(default_factory=lambda: np.empty(0, np.intp))
    stock_quantity: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0))

    def stocked(self, country: npt.NDArray[np.intp], quantity: npt.NDArray[np.float64]) -> Plan:
        """This plan with the stockpiles ``quantity`` at positions ``country`` instead."""
        return replace(
            self,
            stock_country=np.asarray(country, np.intp),
            stock_quantity=np.asarray(quantity, np.float64),
        )


def as_shocks(shocks: Shock | Sequence[Shock]) -> tuple[Shock, ...]:
    """``shocks`` as a non-empty tuple with one shock per source."""
    out = (shocks,) if isinstance(shocks, Shock) else tuple(shocks)
    if not out or not all(isinstance(s, Shock) for s in out):
        raise ValueError("shocks must be a Shock or a non-empty sequence of Shocks")
    sources = [s.source for s in out]
    if len(set(sources)) != len(sources):
        raise ValueError(f"each source may be shocked once per run, got {sources}")
    return out


def plan(
    network: TradeNetwork,
    shocks: Sequence[Shock],
    mode: str,
    stockpiles: Mapping[str, float] | None = None,
) -> Plan:
    """Lay validated ``shocks`` onto ``network`` for a run in ``mode``.

    ``stockpiles`` are quantities in the network's unit, already validated
    (:func:`~critmin.simulator.stockpiles.resolve_stockpiles`).
    """
    laid = _shocks_plan(network, shocks, mode)
    if not stockpiles:
        return laid
    countries = network.positions(stockpiles, "stockpile countries")
    return laid.stocked(countries, np.fromiter(stockpiles.values(), np.float64, len(stockpiles)))


def _shocks_plan(network: TradeNetwork, shocks: Sequence[Shock], mode: str) -> Plan:
    sources = network.positions([s.source for s in shocks], "shock source(s)")
    fractions = np.array([s.fraction for s in shocks])
    no_int = np.empty(0, np.intp)
    if mode == "production":
        if any(s.targets is not None for s in shocks):
            raise ValueError("targets apply to export cuts; production mode takes none")
        return Plan(sources, no_int, no_int, np.empty(0), sources, fractions)
    exporters, importers, cut = [], [], []
    for i, shock in zip(sources, shocks, strict=True):
        if shock.targets is None:
            (js,) = np.nonzero(network.W[i])
        else:
            js = network.positions(shock.targets, f"targets of {shock.source}")
        exporters.append(np.full(len(js), i, np.intp))
        importers.append(js)
        cut.append(np.full(len(js), shock.fraction))
    return Plan(
        sources,
        np.concatenate(exporters),
        np.concatenate(importers),
        np.concatenate(cut),
        no_int,
        np.empty(0),
    )


def shock_fraction(value: object) -> float:
    """``value`` as a shock fraction, checked to be in (0, 1]."""
    fraction = real_number(value, "shock fraction")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"shock fraction must be in (0, 1], got {value!r}")
    return fraction


def real_number(value: object, name: str) -> float:
    """``value`` as a float, checked to be a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)
