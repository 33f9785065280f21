"""Strategic stockpiles: reserves a country draws on before a loss counts as demand loss.

A stockpile is a scenario input, not a cascade parameter (docs/model.md, "Stockpiles"): each
round, before anything else, a country with pending loss takes what it can from its remaining
stock, and only the rest goes through the cascade's steps. A stockpile is given in the
network's unit (tonnes or USD), in months of the country's internal demand, one month being
``D_i / 12``, or in days of it, one day being ``D_i / 365`` (the unit stockpiling agencies
state their targets in: JOGMEC's 60 days, KOMIR's 100). This module validates stockpiles,
converts months and days to quantities and reads the ``ISO3=QTY`` / ``ISO3=3months`` /
``ISO3=60days`` text a command line takes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real

from critmin.simulator.network import TradeNetwork

__all__ = [
    "Stockpile",
    "Stockpiles",
    "parse_stockpiles",
    "resolve_stockpiles",
    "stockpile_months",
]

#: Suffixes of a stock in months: ``3months``, ``3 months``, ``1month``, ``3mo``.
_MONTHS = ("months", "month", "mo")
#: Suffixes of a stock in days: ``60days``, ``60 days``, ``1day``, ``60d``.
_DAYS = ("days", "day", "d")
#: Days in a year: a day of demand is ``D_i / DAYS_PER_YEAR``.
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Stockpile:
    """A country's reserve: ``amount`` in the network's unit, or in months of its demand.

    Parameters
    ----------
    amount : float
        A finite number >= 0.
    in_months : bool
        ``amount`` counts months of the country's internal demand (``D_i / 12`` each) rather
        than a quantity in the flows' unit. A country whose demand is zero or negative (a
        transit hub) has nothing to hold months of, and so a stock of 0.
    in_days : bool
        ``amount`` counts days of the country's internal demand (``D_i / 365`` each).

    Examples
    --------
    >>> Stockpile.parse("3months"), Stockpile.parse("2500")
    (Stockpile(amount=3.0, in_months=True), Stockpile(amount=2500.0, in_months=False))
    >>> str(Stockpile.months(1.5)), Stockpile.months(3).quantity(demand=120.0)
    ('1.5months', 30.0)
    >>> str(Stockpile.parse("60days")), Stockpile.days(73).quantity(demand=365.0)
    ('60days', 73.0)
    >>> round(Stockpile.days(60).in_demand_months, 4)
    1.9726
    """

    amount: float
    in_months: bool = False
    in_days: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _amount(self.amount, "stockpile"))
        if not isinstance(self.in_months, bool) or not isinstance(self.in_days, bool):
            raise ValueError(
                f"Stockpile.in_months and in_days must be bools, got {self.in_months!r}, "
                f"{self.in_days!r}"
            )
        if self.in_months and self.in_days:
            raise ValueError("a stockpile is in months or in days of demand, not both")

    def __repr__(self) -> str:
        if self.in_days:
            return f"Stockpile(amount={self.amount!r}, in_days=True)"
        return f"Stockpile(amount={self.amount!r}, in_months={self.in_months!r})"

    @classmethod
    def days(cls, days: float) -> Stockpile:
        """A stockpile of ``days`` days of the country's demand."""
        return cls(days, in_days=True)

    @property
    def of_demand(self) -> bool:
        """The stock is a length of the country's demand (months or days), not a quantity."""
        return self.in_months or self.in_days

    @property
    def in_demand_months(self) -> float:
        """A stock in months or days of demand as months (``days * 12 / 365``); else NaN."""
        if self.in_days:
            return self.amount * 12.0 / DAYS_PER_YEAR
        return self.amount if self.in_months else math.nan

    @classmethod
    def months(cls, months: float) -> Stockpile:
        """A stockpile of ``months`` months of the country's demand."""
        return cls(months, in_months=True)

    @classmethod
    def parse(cls, text: str) -> Stockpile:
        """Read ``"30"`` (a quantity), ``"3months"`` / ``"3 months"`` / ``"3mo"`` (months) or
        ``"60days"`` / ``"60 days"`` / ``"60d"`` (days).

        Raises
        ------
        ValueError
            When ``text`` is neither, or the number is negative or not finite.
        """
        words = text.strip().lower() if isinstance(text, str) else ""
        suffix = next((end for end in _MONTHS if words.endswith(end)), "")
        days = "" if suffix else next((end for end in _DAYS if words.endswith(end)), "")
        suffix = suffix or days
        try:
            amount = float(words.removesuffix(suffix).strip()) if words != suffix else math.nan
        except ValueError:
            amount = math.nan
        if not math.isfinite(amount) or amount < 0:
            raise ValueError(
                f"stockpile {text!r} is neither a quantity >= 0 (e.g. 30) nor months of demand "
                "(e.g. 3months) or days of demand (e.g. 60days)"
            )
        return cls(amount, in_months=bool(suffix) and not days, in_days=bool(days))

    def quantity(self, demand: float) -> float:
        """The stock in the flows' unit for a country whose internal demand is ``demand``."""
        if self.in_days:
            return self.amount * max(float(demand), 0.0) / DAYS_PER_YEAR
        if not self.in_months:
            return self.amount
        return self.amount * max(float(demand), 0.0) / 12.0

    def __str__(self) -> str:
        if self.in_days:
            return f"{self.amount:g}days"
        return f"{self.amount:g}months" if self.in_months else f"{self.amount:g}"


#: What ``simulate(..., stockpiles=...)`` and ``sweep(..., stockpiles=...)`` take: per ISO3
#: code, a quantity in the network's unit or a :class:`Stockpile`.
Stockpiles = Mapping[str, float | Stockpile]


def resolve_stockpiles(
    network: TradeNetwork, stockpiles: Stockpiles | None, *, missing: str = "error"
) -> dict[str, float]:
    """Stockpiles as quantities in ``network``'s unit, validated, sorted by country.

    Parameters
    ----------
    network : TradeNetwork
        Months convert with this network's internal demand.
    stockpiles : mapping of str to float or Stockpile, optional
        A plain number is a quantity in the network's unit.
    missing : {"error", "skip"}
        What to do with a country that is not in ``network``: a ``ValueError`` naming it, or
        leave it out (a sweep over years, in which a country may be absent some years).

    Raises
    ------
    ValueError
        On a code that is not a string, a country not in the network (``missing="error"``), or a
        stock that is negative, not finite or not a number; the message names the country and
        the value.

    Examples
    --------
    >>> import pandas as pd
    >>> flows = pd.DataFrame({"exporter": ["A"], "importer": ["B"], "quantity": [120.0]})
    >>> net = TradeNetwork.from_frames(flows)
    >>> resolve_stockpiles(net, {"B": Stockpile.months(2), "A": 5})
    {'A': 5.0, 'B': 20.0}
    >>> resolve_stockpiles(net, {"JPN": 3})
    Traceback (most recent call last):
    ...
    ValueError: stockpile JPN=3: country not in the network
    """
    if missing not in ("error", "skip"):
        raise ValueError(f"missing must be 'error' or 'skip', got {missing!r}")
    if stockpiles is None:
        return {}
    if not isinstance(stockpiles, Mapping):
        raise ValueError(f"stockpiles must map ISO3 codes to quantities, got {stockpiles!r}")
    demand = network.demand_array
    out: dict[str, float] = {}
    for country, value in stockpiles.items():
        if not isinstance(country, str) or not country:
            raise ValueError(f"stockpile country {country!r} is not an ISO3 string")
        stock = value if isinstance(value, Stockpile) else None
        if stock is None:
            amount = _amount(value, f"stockpile {country}={value!r}: the stock")
            stock = Stockpile(amount)
        position = network.index.get_indexer([country])[0]
        if position < 0:
            if missing == "error":
                raise ValueError(f"stockpile {country}={stock}: country not in the network")
            continue
        out[country] = stock.quantity(demand[position])
    return dict(sorted(out.items()))


def stockpile_months(network: TradeNetwork, months: Mapping[str, float]) -> dict[str, float]:
    """Quantities in ``network``'s unit of ``months`` of each country's internal demand.

    One month is ``D_i / 12``; a country with ``D_i <= 0`` gets 0.

    >>> import pandas as pd
    >>> flows = pd.DataFrame({"exporter": ["A"], "importer": ["B"], "quantity": [120.0]})
    >>> stockpile_months(TradeNetwork.from_frames(flows), {"B": 3})
    {'B': 30.0}
    """
    checked = {
        country: Stockpile.months(_amount(value, f"stockpile {country}={value!r}: the months"))
        for country, value in months.items()
    }
    return resolve_stockpiles(network, checked)


def parse_stockpiles(items: Iterable[str]) -> dict[str, Stockpile]:
    """Read command-line stockpiles such as ``["JPN=30", "USA=3months"]``.

    Raises
    ------
    ValueError
        On an item without ``=``, an empty code, a bad amount or a country given twice.

    >>> parse_stockpiles(["JPN=30", "USA=3months"])
    {'JPN': Stockpile(amount=30.0, in_months=False), 'USA': Stockpile(amount=3.0, in_months=True)}
    """
    out: dict[str, Stockpile] = {}
    for item in items:
        country, sep, amount = str(item).partition("=")
        country = country.strip()
        if not sep or not country:
            raise ValueError(f"stockpile {item!r} must read ISO3=QUANTITY or ISO3=<n>months")
        if country in out:
            raise ValueError(f"stockpile of {country} given twice ({out[country]} and {amount})")
        try:
            out[country] = Stockpile.parse(amount)
        except ValueError as exc:
            raise ValueError(f"stockpile {item!r}: {exc}") from None
    return out


def _amount(value: object, what: str) -> float:
    """``value`` as a finite number >= 0, else a ``ValueError`` that starts with ``what``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)
