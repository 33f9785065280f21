"""Metal-content factors: the tonnes of contained metal in a tonne of each HS code.

Production is reported in contained metal (USGS: "metric tons of contained cobalt"), trade in
gross weight; the two only add up once each flow is converted. The bundled
``data/metal_content.csv`` gives every HS code critmin knows a factor with a low-high range and
its source (see the data README), in rows

``hs, form, exporters, min_usd_per_kg, max_usd_per_kg, price_anchor, min_price_ratio,
max_price_ratio, factor, low, high, basis, status, source``

A flow takes the rows of the longest ``hs`` prefix its code starts with, and of those the first
whose conditions it meets (lower bounds inclusive, upper bounds exclusive):

* ``exporters``: ``;``-separated ISO3 codes;
* ``min_usd_per_kg``, ``max_usd_per_kg``: the flow's unit value in USD per kg;
* ``price_anchor`` with ``min_price_ratio``, ``max_price_ratio``: the flow's unit value over
  the anchor exporters' unit value of the same code and year (their summed value over their
  summed tonnes). A price ratio is year-proof where an absolute price is not: re-exports of the
  DRC's hydroxide through Namibia are priced like the DRC's own, refined oxide at twice that
  or more, in 2024 as in 2018 when cobalt cost three times as much.

A condition that cannot be evaluated (no tonnes, no anchor flow that year) does not hold. Every
prefix has a last row without conditions, its default. ``form`` names what the rule takes the
flow to be (``intermediate``, ``metal``, ...): supply chains use it to put one code's flows in
two stages.

>>> table = metal_content()
>>> table.rule("810520", "COD").form, table.rule("810520", "CAN").factor
('intermediate', 0.99)
>>> table.rule("283691", "CHL").factor, table.rule("283691", "CHL").status
(0.188, 'stoichiometry')
>>> table.rule("811292", "RUS", usd_per_kg=1.0).factor   # the unit-value screen
0.0
>>> table.rule("282200", "NAM", usd_per_kg=8.8, anchor_usd_per_kg=9.3).form  # DRC-priced
'intermediate'
>>> table.rule("282200", "FIN", usd_per_kg=18.4, anchor_usd_per_kg=9.3).form
'chemical'
>>> table.rule("999999", "CHN") is None
True
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from critmin.loader.errors import Problems
from critmin.loader.files import LINE, Source, bundled, read_whole

#: Which factor of a rule to use: the central value or an end of its range (sensitivity).
BOUNDS = ("factor", "low", "high")
#: A code whose every rule has a factor this close to 1 *is* the metal (or the product USGS
#: reports production of): its gross tonnes may be combined with production.
IS_METAL_SLACK = 0.02
#: How sure a factor is: exact chemistry, a published grade, or our own assumption.
STATUSES = ("stoichiometry", "published grade", "assumption")

_COLUMNS = (
    "hs",
    "form",
    "exporters",
    "min_usd_per_kg",
    "max_usd_per_kg",
    "price_anchor",
    "min_price_ratio",
    "max_price_ratio",
    "factor",
    "low",
    "high",
    "basis",
    "status",
    "source",
)


@dataclass(frozen=True)
class MetalRule:
    """One row of the factor table (see the module docstring)."""

    hs: str
    form: str
    exporters: frozenset[str]
    min_usd_per_kg: float | None
    max_usd_per_kg: float | None
    price_anchor: frozenset[str]
    min_price_ratio: float | None
    max_price_ratio: float | None
    factor: float
    low: float
    high: float
    basis: str
    status: str
    source: str

    @property
    def conditional(self) -> bool:
        return (
            bool(self.exporters)
            or bool(self.price_anchor)
            or (self.min_usd_per_kg is not None or self.max_usd_per_kg is not None)
        )

    def applies(
        self, exporter: str, usd_per_kg: float | None, anchor_usd_per_kg: float | None = None
    ) -> bool:
        """True if a flow from ``exporter`` at ``usd_per_kg`` meets the row's conditions
        (``anchor_usd_per_kg``: the anchor exporters' unit value that code and year)."""
        if self.exporters and exporter not in self.exporters:
            return False
        ratio = None
        if usd_per_kg is not None and anchor_usd_per_kg:
            ratio = usd_per_kg / anchor_usd_per_kg
        return _within(usd_per_kg, self.min_usd_per_kg, self.max_usd_per_kg) and (
            not self.price_anchor or _within(ratio, self.min_price_ratio, self.max_price_ratio)
        )

    def value(self, bound: str = "factor") -> float:
        return float(getattr(self, bound))


@dataclass(frozen=True)
class MetalContent:
    """The factor table: rules, and a version that changes whenever a rule does."""

    rules: tuple[MetalRule, ...]
    version: str

    def prefixes(self) -> list[str]:
        """The HS prefixes with rules, longest first (the order rules are tried in)."""
        seen = dict.fromkeys(r.hs for r in self.rules)
        return sorted(seen, key=len, reverse=True)

    def rules_for(self, hs: str) -> tuple[MetalRule, ...]:
        """The rules of the longest prefix of ``hs`` in the table (empty: no factor)."""
        code = str(hs).strip().replace(".", "")
        for prefix in self.prefixes():
            if code.startswith(prefix):
                return tuple(r for r in self.rules if r.hs == prefix)
        return ()

    def rule(
        self,
        hs: str,
        exporter: str,
        usd_per_kg: float | None = None,
        anchor_usd_per_kg: float | None = None,
    ) -> MetalRule | None:
        """The rule one flow takes (None when no prefix of the table matches ``hs``)."""
        return next(
            (r for r in self.rules_for(hs) if r.applies(exporter, usd_per_kg, anchor_usd_per_kg)),
            None,
        )

    def is_metal(self, hs: str) -> bool:
        """True if every rule of ``hs`` has a factor of 1 (within :data:`IS_METAL_SLACK`): its
        gross tonnes are the metal (or the product production is reported in).

        >>> metal_content().is_metal("750210"), metal_content().is_metal("282200")
        (True, False)
        """
        rules = self.rules_for(hs)
        return bool(rules) and all(abs(r.factor - 1.0) <= IS_METAL_SLACK for r in rules)

    def annotate(self, flows: pd.DataFrame, bound: str = "factor") -> pd.DataFrame:
        """``flows`` (``exporter, hs, tonnes, value_usd``) with ``metal_factor``,
        ``metal_form`` and ``metal_t`` = tonnes x factor (NaN where tonnes are missing or no
        rule matches; the form is set whenever a rule matches).

        >>> flows = pd.DataFrame({"exporter": ["COD", "FIN"], "hs": ["810520", "810520"],
        ...                       "tonnes": [100.0, 10.0], "value_usd": [5e5, 3e5]})
        >>> metal_content().annotate(flows)[["metal_form", "metal_t"]].to_dict("list")
        {'metal_form': ['intermediate', 'metal'], 'metal_t': [35.0, 9.9]}
        """
        if bound not in BOUNDS:
            raise ValueError(f"bound must be one of {BOUNDS}, not {bound!r}")
        out = flows.copy()
        hs = out["hs"].astype(str).str.replace(".", "", regex=False).str.strip()
        exporter = out["exporter"].astype(str)
        tonnes = pd.to_numeric(out["tonnes"], errors="coerce").astype("float64")
        value = pd.to_numeric(out["value_usd"], errors="coerce").astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            per_kg = (value / (tonnes * 1000.0)).where(tonnes > 0)
        factor = pd.Series(np.nan, index=out.index, dtype="float64")
        form = pd.Series(None, index=out.index, dtype="object")
        done = pd.Series(False, index=out.index)
        for prefix in self.prefixes():
            at_prefix = ~done & hs.str.startswith(prefix)
            for rule in (r for r in self.rules if r.hs == prefix):
                hit = at_prefix & ~done
                if rule.exporters:
                    hit &= exporter.isin(rule.exporters)
                if rule.min_usd_per_kg is not None:
                    hit &= per_kg.ge(rule.min_usd_per_kg).fillna(False).astype(bool)
                if rule.max_usd_per_kg is not None:
                    hit &= per_kg.lt(rule.max_usd_per_kg).fillna(False).astype(bool)
                if rule.price_anchor:
                    ratio = per_kg / _anchor_price(out, hs, tonnes, value, rule.price_anchor)
                    if rule.min_price_ratio is not None:
                        hit &= ratio.ge(rule.min_price_ratio).fillna(False).astype(bool)
                    if rule.max_price_ratio is not None:
                        hit &= ratio.lt(rule.max_price_ratio).fillna(False).astype(bool)
                factor[hit] = rule.value(bound)
                form[hit] = rule.form
                done |= hit
        out["metal_factor"] = factor
        out["metal_form"] = form
        out["metal_t"] = tonnes * factor
        return out


def _within(x: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    if x is None or not np.isfinite(x):
        return False
    return (low is None or x >= low) and (high is None or x < high)


def _anchor_price(
    flows: pd.DataFrame,
    hs: pd.Series,
    tonnes: pd.Series,
    value: pd.Series,
    anchor: frozenset[str],
) -> pd.Series:
    """Per flow, the anchor exporters' unit value (USD/kg) of its code and year (NaN if none)."""
    year = flows["year"] if "year" in flows else pd.Series(0, index=flows.index)
    keyed = pd.DataFrame({"year": year, "hs": hs, "tonnes": tonnes, "value": value})
    ok = flows["exporter"].isin(anchor) & (tonnes > 0) & value.notna()
    sums = keyed[ok].groupby(["year", "hs"])[["tonnes", "value"]].sum()
    price = (sums["value"] / (sums["tonnes"] * 1000.0)).rename("anchor")
    return keyed.join(price, on=["year", "hs"])["anchor"]


def read_metal_content(source: Source) -> MetalContent:
    """Read and check one factor table (raises :class:`~critmin.loader.errors.InputError`)."""
    table = read_whole(source)
    problems = Problems()
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        problems.add(source.label, 1, None, ", ".join(missing), "missing columns")
        problems.raise_if_any()
    rules: list[MetalRule] = []
    for row in table.to_dict("records"):
        rule = _rule(row, source.label, problems)
        if rule is not None:
            rules.append(rule)
    for prefix in dict.fromkeys(r.hs for r in rules):
        last = [r for r in rules if r.hs == prefix][-1]
        if last.conditional:
            problems.add(
                source.label,
                None,
                "hs",
                prefix,
                "has no default row: its last row must have no exporters and no unit-value bounds",
            )
    problems.raise_if_any()
    canonical = table[list(_COLUMNS)].to_csv(index=False)
    return MetalContent(tuple(rules), hashlib.sha256(canonical.encode()).hexdigest()[:12])


def _codes(text: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in text.split(";") if c.strip())


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _rule(row: dict[str, str], label: str, problems: Problems) -> MetalRule | None:
    line = int(row[LINE])
    before = len(problems)
    hs = row["hs"].strip()
    if not re.fullmatch(r"\d{2,10}", hs):
        problems.add(label, line, "hs", hs, "is not an HS code (2 to 10 digits)")
    numbers: dict[str, float | None] = {}
    numeric = ("min_usd_per_kg", "max_usd_per_kg", "min_price_ratio", "max_price_ratio")
    for column in (*numeric, "factor", "low", "high"):
        try:
            numbers[column] = _number(row[column])
        except ValueError:
            problems.add(label, line, column, row[column], "is not a number")
    factor, low, high = (numbers.get(c) for c in ("factor", "low", "high"))
    if len(problems) == before and (factor is None or low is None or high is None):
        problems.add(label, line, "factor", row["factor"], "factor, low and high are required")
    elif len(problems) == before:
        assert factor is not None and low is not None and high is not None
        if not 0.0 <= low <= factor <= high:
            problems.add(
                label,
                line,
                "factor",
                factor,
                f"must satisfy 0 <= low <= factor <= high ({low}, {high})",
            )
    has_ratio = numbers.get("min_price_ratio") is not None or (
        numbers.get("max_price_ratio") is not None
    )
    if bool(row["price_anchor"].strip()) != has_ratio:
        problems.add(
            label, line, "price_anchor", row["price_anchor"], "a price anchor needs a price ratio"
        )
    status = row["status"].strip()
    if status not in STATUSES:
        problems.add(label, line, "status", status, f"must be one of {', '.join(STATUSES)}")
    if not row["source"].strip():
        problems.add(label, line, "source", "", "every factor needs its source")
    if len(problems) > before:
        return None
    return MetalRule(
        hs=hs,
        form=row["form"].strip(),
        exporters=_codes(row["exporters"]),
        min_usd_per_kg=numbers["min_usd_per_kg"],
        max_usd_per_kg=numbers["max_usd_per_kg"],
        price_anchor=_codes(row["price_anchor"]),
        min_price_ratio=numbers["min_price_ratio"],
        max_price_ratio=numbers["max_price_ratio"],
        factor=float(factor or 0.0),
        low=float(low or 0.0),
        high=float(high or 0.0),
        basis=row["basis"].strip(),
        status=status,
        source=row["source"].strip(),
    )


@cache
def metal_content() -> MetalContent:
    """The bundled factor table (``critmin/loader/data/metal_content.csv``)."""
    return read_metal_content(bundled("metal_content.csv"))
