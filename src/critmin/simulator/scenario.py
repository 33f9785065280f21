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
    "DEMAND_CAPS",
    "FAILURE_PRESETS",
    "MODES",
    "PRESETS",
    "SUPPLIER_CAPS",
    "FailureRule",
    "Parameters",
    "Plan",
    "Shock",
    "as_shocks",
    "plan",
    "preset_of",
    "real_number",
    "shock_fraction",
]

MODES = ("export", "production")
SUPPLIER_CAPS = ("none", "supply")
DEMAND_CAPS = ("none", "consumption")

#: The model's variants by name (docs/model.md, "Consumption cap"), as the fields of
#: :class:`Parameters` they set. ``paper`` is the seed study's model (the defaults); ``physical``
#: lets a supplier give at most what it still has and a country lose at most what it consumes.
#: A preset fixes these two fields only; ``alpha``, the thresholds and the rest stay free and are
#: recorded beside the preset's name (:attr:`Parameters.preset`).
PRESETS: dict[str, dict[str, str]] = {
    "paper": {"supplier_cap": "none", "demand_cap": "none"},
    "physical": {"supplier_cap": "supply", "demand_cap": "consumption"},
}

#: Fields added to :class:`Parameters` after scenario ids were first derived from
#: :meth:`Parameters.as_dict`, with the value that reproduces the earlier model: at that value
#: they are left out of the dict, so the ids of earlier scenarios stay what they were.
LATER_FIELDS = {"demand_cap": "none"}

#: ``fail_abs`` when the caller gives none: 1 kg for tonnes, 1,000 USD for values.
DEFAULT_FAIL_ABS = {unit.value: unit.default_fail_abs for unit in Unit}


@dataclass(frozen=True)
class FailureRule:
    """A failure rule of docs/model.md ("Failure-rule presets"), by name in
    :data:`FAILURE_PRESETS`: a country fails on a loss above an absolute threshold and, where it
    consumes, above ``fail_rel`` of its consumption.

    The absolute threshold depends on the network's unit, so a rule holds the choice and a unit
    turns it into a number (:meth:`fail_abs`): the unit's tiny threshold
    (:attr:`~critmin.units.Unit.default_fail_abs`, 1 kg or 1,000 USD) or, with ``floor``, its
    floor (:attr:`~critmin.units.Unit.failure_floor`, 1 t or 10,000 USD).

    Examples
    --------
    >>> rule = FAILURE_PRESETS["share-1pct"]
    >>> rule.fail_abs("t_metal"), rule.fail_abs("USD"), FAILURE_PRESETS["any-loss"].fail_abs("t")
    (1.0, 10000.0, 0.001)
    >>> rule.text(rule.applied(Parameters(), "USD"), "USD")
    'failure rule share-1pct (failed: loss > 10,000 USD and > 1% of consumption)'
    >>> restated = rule.text(rule.applied(Parameters(fail_abs=300_000), "USD"), "USD")
    >>> for part in restated.split("; "):
    ...     print(part)
    failure rule share-1pct (failed: loss > 300,000 USD and > 1% of consumption
    fail_abs restated, the rule's own: 10,000 USD)
    """

    name: str
    fail_rel: float
    #: The absolute threshold is the unit's floor rather than its tiny threshold.
    floor: bool = False

    def fail_abs(self, unit: str) -> float:
        """The rule's absolute threshold for a network measured in ``unit``."""
        measured = Unit.of(unit)
        return measured.failure_floor if self.floor else measured.default_fail_abs

    def applied(self, parameters: Parameters, unit: str) -> Parameters:
        """``parameters`` under this rule for a network in ``unit``: the rule's ``fail_rel``,
        and its ``fail_abs`` unless ``parameters`` give their own (a scenario file that restates
        the floor, ``--fail-abs``)."""
        fail_abs = self.fail_abs(unit) if parameters.fail_abs is None else parameters.fail_abs
        return replace(parameters, fail_abs=fail_abs, fail_rel=self.fail_rel)

    def text(self, parameters: Parameters | Mapping[str, Any], unit: str) -> str:
        """The rule in words as ``parameters`` (resolved) apply it in ``unit``, with its
        thresholds and unit; a ``fail_abs`` that is not the rule's own says so."""
        values = parameters.as_dict() if isinstance(parameters, Parameters) else parameters
        measured = Unit.of(unit)
        fail_abs, fail_rel = float(values["fail_abs"]), float(values["fail_rel"])
        text = f"failure rule {self.name} (failed: loss > {measured.amount(fail_abs)}"
        if fail_rel > 0:
            text += f" and > {fail_rel:.0%} of consumption"
        own = self.fail_abs(measured)
        if not math.isclose(fail_abs, own, rel_tol=1e-12):
            text += f"; fail_abs restated, the rule's own: {measured.amount(own)}"
        return text + ")"


#: The failure rules of docs/model.md ("Failure-rule presets") by name. ``any-loss`` (the
#: default) fails a country on any loss above the unit's tiny threshold; ``buffer-1pct`` only
#: on unmet demand above 1% of its demand too (the buffer rule of Fosch et al.'s food-trade
#: code); ``share-1pct``, the policy files' rule, on a loss above 1% of its consumption *and*
#: above the unit's floor (1 t gross or of contained metal, 10,000 USD:
#: :attr:`~critmin.units.Unit.failure_floor`), so that a kilogram lost by a country that
#: consumes a few kilograms is not counted.
FAILURE_PRESETS: dict[str, FailureRule] = {
    rule.name: rule
    for rule in (
        FailureRule("any-loss", 0.0),
        FailureRule("buffer-1pct", 0.01),
        FailureRule("share-1pct", 0.01, floor=True),
    )
}


@dataclass(frozen=True, repr=False)
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
    mode : {"export", "production"}, optional
        What the shock cuts: the source's exports or its production. ``None`` (the default)
        takes the run's mode (``Parameters.mode``), so one run may mix export bans and
        production cuts, and one country may carry one of each.
    stage : int
        The stage of a supply chain the shock hits (0, the most upstream, by default; see
        :func:`~critmin.simulator.chain.simulate_chain`). A single network is stage 0.

    Examples
    --------
    >>> Shock("COD", 0.5, targets=["CHN", "ZAF"])
    Shock(source='COD', fraction=0.5, targets=('CHN', 'ZAF'))
    >>> Shock("COD", 1.0, mode="production", stage=1)
    Shock(source='COD', fraction=1.0, mode='production', stage=1)
    >>> Shock("COD", 1.0).key()
    ('COD', 1.0, ())
    """

    source: str
    fraction: float
    targets: Iterable[str] | None = None
    mode: str | None = None
    stage: int = 0

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
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f"Shock mode must be one of {MODES} or None, got {self.mode!r}")
        if self.mode == "production" and self.targets is not None:
            raise ValueError(f"Shock of {self.source}: targets apply to export cuts only")
        stage = self.stage
        if isinstance(stage, bool) or not isinstance(stage, int | np.integer) or stage < 0:
            raise ValueError(f"Shock stage must be an integer >= 0, got {stage!r}")
        object.__setattr__(self, "stage", int(stage))

    def __repr__(self) -> str:
        parts = [f"source={self.source!r}", f"fraction={self.fraction!r}"]
        if self.targets is not None:
            parts.append(f"targets={self.targets!r}")
        if self.mode is not None:
            parts.append(f"mode={self.mode!r}")
        if self.stage:
            parts.append(f"stage={self.stage!r}")
        return f"Shock({', '.join(parts)})"

    def mode_in(self, run_mode: str) -> str:
        """The mode this shock has in a run whose mode is ``run_mode``."""
        return self.mode if self.mode is not None else run_mode

    def key(self) -> tuple[Any, ...]:
        """The shock as a tuple for identifiers: ``(source, fraction, targets)``, then ``mode``
        and ``stage`` only where they are not the defaults (``None`` and 0), so a shock that
        uses neither keeps the key (and the scenario id) it had before they existed."""
        out: tuple[Any, ...] = (self.source, self.fraction, tuple(self.targets or ()))
        if self.mode is not None or self.stage:
            out += (self.mode or "", self.stage)
        return out


@dataclass(frozen=True)
class Parameters:
    """The cascade's free choices, with the defaults of ``docs/model.md``.

    ``eps_pass`` and ``tol`` are shares of the initial shock; ``fail_abs`` is in the network's
    unit and, left as ``None``, resolves per unit (:data:`DEFAULT_FAIL_ABS`).
    ``supplier_cap`` and ``demand_cap`` choose the model's variant, named by :data:`PRESETS`
    (:meth:`from_preset` builds one, :attr:`preset` names the one these parameters match).
    Unknown names raise ``TypeError`` (the dataclass constructor), bad values ``ValueError``.

    Examples
    --------
    >>> Parameters().preset, Parameters(alpha=0.5).preset
    ('paper', 'paper')
    >>> physical = Parameters.from_preset("physical", alpha=0.6)
    >>> physical.supplier_cap, physical.demand_cap, physical.alpha, physical.preset
    ('supply', 'consumption', 0.6, 'physical')
    >>> Parameters(supplier_cap="supply").preset
    'custom'
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
    demand_cap: str = "none"

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
        if self.demand_cap not in DEMAND_CAPS:
            raise ValueError(f"demand_cap must be one of {DEMAND_CAPS}, got {self.demand_cap!r}")

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> Parameters:
        """The parameters of preset ``name`` (:data:`PRESETS`), with ``overrides`` on top.

        Raises
        ------
        ValueError
            On an unknown preset (the message lists the known ones) or a bad value.
        TypeError
            On an unknown parameter name.
        """
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; the presets are {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    @property
    def preset(self) -> str:
        """The name of the preset whose fields these parameters have, or ``"custom"``."""
        return preset_of(asdict(self))

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
        """Every parameter by name, in declaration order.

        A field of :data:`LATER_FIELDS` at its earlier-model value is left out (``demand_cap``
        ``"none"``): scenario ids derive from this dict, and a run of the paper's model keeps
        the id it had before the field existed. ``Parameters(**p.as_dict()) == p`` holds.
        """
        return {k: v for k, v in asdict(self).items() if LATER_FIELDS.get(k, object()) != v}


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


def preset_of(parameters: Mapping[str, Any]) -> str:
    """The preset (:data:`PRESETS`) a mapping of parameters matches, or ``"custom"``.

    A missing field has its default (as in :meth:`Parameters.as_dict`, which leaves out
    ``demand_cap="none"``).

    >>> preset_of({"alpha": 0.8, "supplier_cap": "supply", "demand_cap": "consumption"})
    'physical'
    >>> preset_of({"alpha": 0.8})
    'paper'
    """
    defaults = asdict(Parameters())
    for name, fields in PRESETS.items():
        if all(parameters.get(k, defaults[k]) == v for k, v in fields.items()):
            return name
    return "custom"


def as_shocks(shocks: Shock | Sequence[Shock], mode: str | None = None) -> tuple[Shock, ...]:
    """``shocks`` as a non-empty tuple, each source shocked at most once per mode and stage.

    ``mode`` is the run's mode, which shocks without their own take; one country may carry an
    export shock and a production shock at the same stage.
    """
    out = (shocks,) if isinstance(shocks, Shock) else tuple(shocks)
    if not out or not all(isinstance(s, Shock) for s in out):
        raise ValueError("shocks must be a Shock or a non-empty sequence of Shocks")
    keys = [(s.source, s.mode if mode is None else s.mode_in(mode), s.stage) for s in out]
    if len(set(keys)) != len(keys):
        repeated = sorted({f"{k[0]}" for k in keys if keys.count(k) > 1})
        raise ValueError(
            f"each source may be shocked once per run in each mode and stage; "
            f"{', '.join(repeated)} shocked twice"
        )
    return out


def plan(
    network: TradeNetwork,
    shocks: Sequence[Shock],
    mode: str,
    stockpiles: Mapping[str, float] | None = None,
    coupling_cut: npt.NDArray[np.float64] | None = None,
) -> Plan:
    """Lay validated ``shocks`` onto ``network`` for a run in ``mode``.

    ``shocks`` may be empty in a chain's stage that only its coupling cut reaches.
    Each shock cuts in its own mode when it has one (``Shock.mode``), else in ``mode``; a
    country with both an export and a production shock is one source whose round 0 applies
    both. ``stockpiles`` are quantities in the network's unit, already validated
    (:func:`~critmin.simulator.stockpiles.resolve_stockpiles`). ``coupling_cut`` (one quantity
    per country, in network order) is a supply chain's cut of each country's output: a
    production-mode seed of fraction ``cut / P`` that does not make the country a source (it may
    still be asked for more exports; see :func:`~critmin.simulator.chain.simulate_chain`).
    """
    laid = _shocks_plan(network, as_shocks(shocks, mode) if shocks else (), mode)
    if coupling_cut is not None:
        cut = np.asarray(coupling_cut, np.float64)
        (cut_at,) = np.nonzero((cut > 0) & (network.P > 0))
        laid = replace(
            laid,
            seed_country=np.concatenate([laid.seed_country, cut_at]).astype(np.intp),
            seed_fraction=np.concatenate(
                [laid.seed_fraction, np.minimum(cut[cut_at] / network.P[cut_at], 1.0)]
            ),
        )
    if not stockpiles:
        return laid
    countries = network.positions(stockpiles, "stockpile countries")
    return laid.stocked(countries, np.fromiter(stockpiles.values(), np.float64, len(stockpiles)))


def _shocks_plan(network: TradeNetwork, shocks: Sequence[Shock], mode: str) -> Plan:
    positions = network.positions([s.source for s in shocks], "shock source(s)")
    no_int = np.empty(0, np.intp)
    exporters, importers, cut = [no_int], [no_int], [np.empty(0)]
    seeds, seed_fractions = [], []
    for i, shock in zip(positions, shocks, strict=True):
        if shock.mode_in(mode) == "production":
            if shock.targets is not None:
                raise ValueError("targets apply to export cuts; production mode takes none")
            seeds.append(i)
            seed_fractions.append(shock.fraction)
            continue
        if shock.targets is None:
            (js,) = np.nonzero(network.W[i])
        else:
            js = network.positions(shock.targets, f"targets of {shock.source}")
        exporters.append(np.full(len(js), i, np.intp))
        importers.append(js)
        cut.append(np.full(len(js), shock.fraction))
    return Plan(
        np.unique(positions).astype(np.intp) if len(shocks) > 1 else positions,
        np.concatenate(exporters),
        np.concatenate(importers).astype(np.intp),
        np.concatenate(cut),
        np.array(seeds, np.intp),
        np.array(seed_fractions, np.float64),
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
