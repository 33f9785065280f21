"""One commodity group's trade network in one year: flows, production and internal demand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from critmin.units import Unit

__all__ = ["UNITS", "TradeNetwork"]

#: Units a network may be measured in; the model never mixes them.
UNITS = tuple(unit.value for unit in Unit)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class TradeNetwork:
    """Bilateral flows ``W``, production ``P`` and the demand they imply.

    Build one with :meth:`from_frames`; the constructor checks arrays that are already aligned.

    Parameters
    ----------
    countries : tuple of str
        ISO3 codes, sorted; position ``i`` is row and column ``i`` of ``W``, entry ``i`` of ``P``.
    W : ndarray of shape (n, n)
        ``W[i, j]`` is the quantity exported by ``countries[i]`` to ``countries[j]``; zero diagonal.
    P : ndarray of shape (n,)
        Production, 0 where unknown.
    unit : {"t", "USD"}
        Unit of ``W`` and ``P``: tonnes or US dollars.

    Examples
    --------
    >>> flows = pd.DataFrame(
    ...     {"exporter": ["A", "B"], "importer": ["B", "C"], "quantity": [100.0, 50.0]}
    ... )
    >>> net = TradeNetwork.from_frames(flows, pd.DataFrame({"country": ["A"], "quantity": [100.0]}))
    >>> net.demand.to_dict()
    {'A': 0.0, 'B': 50.0, 'C': 50.0}
    """

    countries: tuple[str, ...]
    W: FloatArray
    P: FloatArray
    unit: str = "t"

    def __post_init__(self) -> None:
        n = len(self.countries)
        if list(self.countries) != sorted(set(self.countries)):
            raise ValueError("countries must be unique and sorted")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")
        W = np.array(self.W, dtype=np.float64)
        P = np.array(self.P, dtype=np.float64)
        if W.shape != (n, n) or P.shape != (n,):
            raise ValueError(f"W must be ({n}, {n}) and P ({n},), got {W.shape} and {P.shape}")
        if not (np.isfinite(W).all() and np.isfinite(P).all()) or (W < 0).any() or (P < 0).any():
            raise ValueError("flows and production must be finite and non-negative")
        if np.diagonal(W).any():
            raise ValueError("W must have a zero diagonal (no self-loops)")
        # Read-only copies: the engines and cached properties rely on the network not changing.
        W.flags.writeable = False
        P.flags.writeable = False
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "P", P)

    @classmethod
    def from_frames(
        cls,
        flows: pd.DataFrame,
        production: pd.DataFrame | None = None,
        countries: Iterable[str] | None = None,
        unit: str = "t",
    ) -> TradeNetwork:
        """Build a network from tidy frames of one year and one commodity group.

        Parameters
        ----------
        flows : DataFrame
            Columns ``exporter``, ``importer``, ``quantity``. Duplicate pairs are summed and
            self-loops dropped.
        production : DataFrame, optional
            Columns ``country``, ``quantity``; countries not listed produce 0.
        countries : iterable of str, optional
            Extra countries to include even when they neither trade nor produce.
        unit : {"t", "USD"}
            Unit of every quantity.

        Returns
        -------
        TradeNetwork

        Raises
        ------
        ValueError
            On a missing column, an empty country code, or a quantity that is negative or not a
            finite number (the message names the row).
        """
        flows = _checked(flows, "flows", ("exporter", "importer"))
        flows = flows[flows["exporter"] != flows["importer"]]
        if production is None:
            production = pd.DataFrame({"country": [], "quantity": []})
        production = _checked(production, "production", ("country",))
        names = set(flows["exporter"]) | set(flows["importer"]) | set(production["country"])
        extra = pd.Series([] if countries is None else list(countries), dtype=object)
        names |= set(_checked_codes(extra, "countries"))
        index = pd.Index(sorted(names))
        n = len(index)
        W = np.zeros((n, n))
        np.add.at(
            W,
            (index.get_indexer(flows["exporter"]), index.get_indexer(flows["importer"])),
            flows["quantity"].to_numpy(np.float64),
        )
        P = np.zeros(n)
        np.add.at(P, index.get_indexer(production["country"]), production["quantity"].to_numpy())
        return cls(tuple(index), W, P, unit)

    @cached_property
    def index(self) -> pd.Index:
        """The countries as a pandas index named ``country``."""
        return pd.Index(self.countries, name="country")

    @property
    def n(self) -> int:
        """Number of countries."""
        return len(self.countries)

    @property
    def exports(self) -> pd.Series:
        """Total exports ``E_i``."""
        return self._series(self.W.sum(axis=1), "exports")

    @property
    def imports(self) -> pd.Series:
        """Total imports ``I_i``."""
        return self._series(self.W.sum(axis=0), "imports")

    @property
    def demand(self) -> pd.Series:
        """Internal demand ``D_i = P_i + I_i - E_i``."""
        return self._series(self.demand_array, "demand")

    @cached_property
    def demand_array(self) -> FloatArray:
        """Internal demand as an array in country order."""
        return self.P + self.W.sum(axis=0) - self.W.sum(axis=1)

    def positions(self, codes: Iterable[str], what: str) -> npt.NDArray[np.intp]:
        """Positions of ISO3 ``codes`` in :attr:`countries`.

        Raises
        ------
        ValueError
            When a code is not in the network; ``what`` names the codes in the message.
        """
        codes = list(codes)
        found = self.index.get_indexer(codes)
        unknown = [code for code, i in zip(codes, found, strict=True) if i < 0]
        if unknown:
            raise ValueError(f"{what} not in the network: {', '.join(map(str, unknown))}")
        return found.astype(np.intp)

    def flows(self) -> pd.DataFrame:
        """The positive flows as a frame with columns ``exporter, importer, quantity``."""
        rows, cols = np.nonzero(self.W)
        names = np.asarray(self.countries, dtype=object)
        return pd.DataFrame(
            {"exporter": names[rows], "importer": names[cols], "quantity": self.W[rows, cols]}
        )

    def _series(self, values: FloatArray, name: str) -> pd.Series:
        return pd.Series(values, index=self.index, name=name)


def _checked(frame: pd.DataFrame, what: str, code_columns: tuple[str, ...]) -> pd.DataFrame:
    """Columns ``code_columns`` + ``quantity`` of ``frame``, validated row by row."""
    missing = [c for c in (*code_columns, "quantity") if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; it has {list(frame.columns)}")
    out = frame[[*code_columns, "quantity"]].copy()
    for column in code_columns:
        _checked_codes(out[column], f"{what}.{column}")
    quantity = pd.to_numeric(out["quantity"], errors="coerce").astype(np.float64)
    bad = ~np.isfinite(quantity) | (quantity < 0)
    if bad.any():
        label = bad.idxmax()
        row = frame.loc[label].to_dict()
        raise ValueError(
            f"{what} row {label!r} {row}: quantity must be a finite non-negative number "
            f"({int(bad.sum())} bad row(s) in all)"
        )
    out["quantity"] = quantity
    return out


def _checked_codes(codes: pd.Series, what: str) -> pd.Series:
    bad = ~codes.map(lambda code: isinstance(code, str) and code != "").astype(bool)
    if bad.any():
        label = bad.idxmax()
        raise ValueError(
            f"{what} row {label!r}: country code {codes[label]!r} is not an ISO3 string"
        )
    return codes
