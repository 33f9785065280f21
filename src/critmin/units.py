"""The units critmin measures flows in, the measures a user picks, and what depends on them.

A network, a sweep and every stored number is in exactly one unit: gross metric tonnes (``t``),
tonnes of contained metal (``t_metal``) or US dollars (``USD``). The names of stored properties
(``demand_loss_t`` / ``demand_loss_usd`` / ``demand_loss_t_metal``, ``tonnes`` / ``value_usd`` /
``metal_t`` on TRADES), the default failure threshold, the floor of the ``share-1pct`` rule,
the labels of tables and figures and the largest magnitude a loader accepts all come from here,
so a module never translates a unit by hand.

This module imports nothing of critmin: every layer can use it.

>>> Unit("t").suffix, Unit("USD").suffix
('t', 'usd')
>>> Unit.of("usd") is Unit.USD
True
>>> Unit.TONNES.label, Unit.USD.flow_property
('tonnes', 'value_usd')
>>> Unit.TONNES == "t"
True
>>> Measure("metal").unit is Unit.METAL, Measure.AUTO.unit is None
(True, True)
"""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    """A flow unit. Members compare equal to their codes, ``"t"`` and ``"USD"``."""

    TONNES = "t"
    USD = "USD"
    #: Tonnes of contained metal: gross tonnes times each HS code's metal-content factor.
    METAL = "t_metal"

    @classmethod
    def of(cls, value: object) -> Unit:
        """The unit named by ``value``: a Unit, ``"t"``/``"tonnes"`` or ``"USD"`` (any case).

        Raises ``ValueError`` naming the accepted spellings otherwise.
        """
        if isinstance(value, Unit):
            return value
        key = str(value).strip().casefold()
        for unit in cls:
            if key in unit.spellings:
                return unit
        raise ValueError(
            f"unknown unit {value!r}: use 't' (gross tonnes), 't_metal' (contained metal) or 'USD'"
        )

    @property
    def spellings(self) -> frozenset[str]:
        return _SPELLINGS[self]

    @property
    def suffix(self) -> str:
        """Suffix of stored property names: ``demand_loss_t``, ``demand_loss_usd``,
        ``demand_loss_t_metal``."""
        return _TRAITS[self][0]

    @property
    def flow_property(self) -> str:
        """The TRADES property holding a flow in this unit."""
        return _TRAITS[self][1]

    @property
    def measure(self) -> Measure:
        """The measure that yields networks in this unit (``--measure``)."""
        return Measure(_TRAITS[self][2])

    @property
    def label(self) -> str:
        """How the unit reads in tables and figures."""
        return _TRAITS[self][3]

    @property
    def default_fail_abs(self) -> float:
        """``fail_abs`` when none is given: 1 kg in tonnes (gross or metal), 1,000 USD."""
        return 1_000.0 if self is Unit.USD else 1e-3

    @property
    def failure_floor(self) -> float:
        """The absolute floor of the ``share-1pct`` failure rule: a loss at or below it is never a
        failure, whatever share of a country's consumption it is.

        1 t, gross or of contained metal: a country that buys a few kilograms is not a failure
        when it loses them. In USD the floor is 10,000 USD, about the value of 1 t at the
        bundled data's median unit value (about 20,000 USD/t over its 3,300 flows of 2024:
        graphite 250490 about 4,900, nickel 750210 18,500, lithium 283691 21,000, cobalt 282200
        23,800), rounded down to a power of ten so that it reads as the order of magnitude it
        is. It is a fixed figure rather than each network's own median so that the same rule
        gives the same threshold on every commodity and year. A material far dearer than that
        (HS 811292, gallium and germanium, about 245,000 USD/t) restates it in its scenario
        file (``fail_abs``), and every output prints the floor it applied.

        >>> [Unit(u).amount(Unit(u).failure_floor) for u in ("t", "t_metal", "USD")]
        ['1 t', '1 t contained metal', '10,000 USD']
        """
        return 10_000.0 if self is Unit.USD else 1.0

    def amount(self, value: float) -> str:
        """``value`` with its unit, as outputs print a threshold: whole numbers with thousands
        separators, others with up to six significant digits.

        >>> Unit.TONNES.amount(0.001), Unit.USD.amount(300_000), Unit.METAL.amount(2.5)
        ('0.001 t', '300,000 USD', '2.5 t contained metal')
        """
        number = f"{value:,.0f}" if value >= 1 and float(value).is_integer() else f"{value:,.6g}"
        return f"{number} {'t' if self is Unit.TONNES else self.label}"

    @property
    def max_flow(self) -> float:
        """The largest quantity one flow or one country's production may have in this unit.

        No commodity comes near it: world crude-oil output is about 4.5e9 t a year and the
        largest country's exports of all goods together about 3.6e12 USD. A loaded number above
        it is a unit or typing error (a value in USD written in the thousand-USD column, a
        stray exponent), and is refused rather than stored.
        """
        return 1e13 if self is Unit.USD else 1e10


#: suffix, TRADES property, measure, label
_TRAITS = {
    Unit.TONNES: ("t", "tonnes", "tonnes", "tonnes"),
    Unit.USD: ("usd", "value_usd", "usd", "USD"),
    Unit.METAL: ("t_metal", "metal_t", "metal", "t contained metal"),
}

_SPELLINGS = {
    Unit.TONNES: frozenset({"t", "tonnes", "tonne", "tons"}),
    Unit.USD: frozenset({"usd", "value_usd", "us$", "$"}),
    Unit.METAL: frozenset({"t_metal", "metal", "metal_t", "tonnes_metal"}),
}


class Measure(StrEnum):
    """What a network is measured in, as a user asks for it (``--measure``, ``measure =`` in a
    scenario file, ``measure=`` in Python): the one list of measure names.

    ``auto`` is gross tonnes where every year has tonnes for enough of its value, else USD;
    ``tonnes`` is gross weight, ``usd`` trade value and ``metal`` tonnes of contained metal.
    """

    AUTO = "auto"
    TONNES = "tonnes"
    USD = "usd"
    METAL = "metal"

    @property
    def unit(self) -> Unit | None:
        """The unit this measure yields; None for ``auto`` (decided from the data)."""
        return _MEASURE_UNITS[self]


_MEASURE_UNITS = {
    Measure.AUTO: None,
    Measure.TONNES: Unit.TONNES,
    Measure.USD: Unit.USD,
    Measure.METAL: Unit.METAL,
}
