"""The two units critmin measures flows in, and everything that depends on the unit.

A network, a sweep and every stored number is in exactly one unit: metric tonnes (``t``) or
US dollars (``USD``). The names of stored properties (``demand_loss_t`` / ``demand_loss_usd``,
``tonnes`` / ``value_usd`` on TRADES), the default failure threshold, the labels of tables and
figures and the largest magnitude a loader accepts all come from here, so a module never
translates a unit by hand.

This module imports nothing of critmin: every layer can use it.

>>> Unit("t").suffix, Unit("USD").suffix
('t', 'usd')
>>> Unit.of("usd") is Unit.USD
True
>>> Unit.TONNES.label, Unit.USD.flow_property
('tonnes', 'value_usd')
>>> Unit.TONNES == "t"
True
"""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    """A flow unit. Members compare equal to their codes, ``"t"`` and ``"USD"``."""

    TONNES = "t"
    USD = "USD"

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
        raise ValueError(f"unknown unit {value!r}: use 't' (tonnes) or 'USD'")

    @property
    def spellings(self) -> frozenset[str]:
        return _SPELLINGS[self]

    @property
    def suffix(self) -> str:
        """Suffix of stored property names: ``demand_loss_t``, ``demand_loss_usd``."""
        return "t" if self is Unit.TONNES else "usd"

    @property
    def flow_property(self) -> str:
        """The TRADES property holding a flow in this unit."""
        return "tonnes" if self is Unit.TONNES else "value_usd"

    @property
    def measure(self) -> str:
        """The name of the measure that yields networks in this unit (``--measure``)."""
        return "tonnes" if self is Unit.TONNES else "usd"

    @property
    def label(self) -> str:
        """How the unit reads in tables and figures."""
        return "tonnes" if self is Unit.TONNES else "USD"

    @property
    def default_fail_abs(self) -> float:
        """``fail_abs`` when none is given: 1 kg in tonnes, 1,000 USD in dollars."""
        return 1e-3 if self is Unit.TONNES else 1_000.0

    @property
    def max_flow(self) -> float:
        """The largest quantity one flow or one country's production may have in this unit.

        No commodity comes near it: world crude-oil output is about 4.5e9 t a year and the
        largest country's exports of all goods together about 3.6e12 USD. A loaded number above
        it is a unit or typing error (a value in USD written in the thousand-USD column, a
        stray exponent), and is refused rather than stored.
        """
        return 1e10 if self is Unit.TONNES else 1e13


_SPELLINGS = {
    Unit.TONNES: frozenset({"t", "tonnes", "tonne", "tons"}),
    Unit.USD: frozenset({"usd", "value_usd", "us$", "$"}),
}
