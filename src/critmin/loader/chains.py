"""Supply chains as data: a mineral's ordered stages, each a set of HS codes (and forms).

The bundled ``data/chains.csv`` has one row per stage:
``chain, stage, commodity, name, hs_codes, production_commodity, estimate, note``.

* ``stage``: 0, 1, ... upstream first (ores, intermediates, refined);
* ``commodity``: the ``(:Commodity)`` node of the stage (``FEEDS`` links consecutive stages);
* ``hs_codes``: ``;``-separated HS prefixes, each optionally ``:form`` to keep only the flows
  the metal-content rules give that form (``810520:intermediate``, see
  :mod:`critmin.loader.metal`); empty for a stage that is production only;
* ``production_commodity``: the PRODUCED series giving the stage's output ``P`` (stage 0: mine
  production, required);
* ``estimate``: how ``P`` is estimated for a stage ``k >= 1`` where that series has no data:
  ``mass_balance`` (``P^k_i = max(A^{k-1}_i, E^k_i - I^k_i, 0)``: all a country consumes of the
  stage before is converted, and it made at least what it net-exports) or ``net_exports``
  (``P^k_i = max(E^k_i - I^k_i, 0)``: for a stage that holds only part of the upstream's output).

>>> chain = find_chain("cobalt_chain")
>>> [s.commodity for s in chain.stages]
['cobalt_ore', 'cobalt_intermediate', 'cobalt_refined']
>>> chain.stages[1].selects("810520", "intermediate"), chain.stages[1].selects("810520", "metal")
(True, False)
>>> chain.feeds()[0]
{'chain': 'cobalt_chain', 'upstream': 'cobalt_ore', 'downstream': 'cobalt_intermediate', \
'from_stage': 0, 'to_stage': 1}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from critmin.errors import CritminError
from critmin.loader.errors import Problems
from critmin.loader.files import LINE, Source, bundled, read_whole

#: How a stage's output is estimated where no production series has data.
ESTIMATES = ("mass_balance", "net_exports")
_ID = re.compile(r"[a-z][a-z0-9_]*")
_CODE = re.compile(r"(\d{2,10})(?::([a-z][a-z ]*))?")


@dataclass(frozen=True)
class ChainStage:
    """One stage of a chain (see the module docstring for the fields)."""

    chain: str
    stage: int
    commodity: str
    name: str
    codes: tuple[tuple[str, str | None], ...]
    production_commodity: str | None
    estimate: str | None
    note: str = ""

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for code, _ in self.codes))

    def selects(self, hs: str, form: str | None) -> bool:
        """True if a flow of code ``hs`` that the metal rules call ``form`` is in the stage."""
        code = str(hs).strip().replace(".", "")
        return any(code.startswith(p) and (f is None or f == form) for p, f in self.codes)


@dataclass(frozen=True)
class Chain:
    id: str
    stages: tuple[ChainStage, ...]

    def feeds(self) -> list[dict[str, Any]]:
        """``FEEDS`` rows: each stage's commodity feeds the next one's."""
        return [
            {
                "chain": self.id,
                "upstream": a.commodity,
                "downstream": b.commodity,
                "from_stage": a.stage,
                "to_stage": b.stage,
            }
            for a, b in zip(self.stages, self.stages[1:], strict=False)
        ]


class UnknownChain(CritminError, LookupError):
    """A chain id the chain file does not define."""


def read_chains(source: Source) -> dict[str, Chain]:
    """Read and check a chain file (raises :class:`~critmin.loader.errors.InputError`)."""
    table = read_whole(source)
    problems = Problems()
    stages: dict[str, list[ChainStage]] = {}
    for row in table.to_dict("records"):
        stage = _stage(row, source.label, problems)
        if stage is not None:
            stages.setdefault(stage.chain, []).append(stage)
    chains: dict[str, Chain] = {}
    for cid, members in stages.items():
        members.sort(key=lambda s: s.stage)
        if [s.stage for s in members] != list(range(len(members))):
            problems.add(source.label, None, "stage", cid, "stages must be numbered 0, 1, 2, ...")
        elif members[0].production_commodity is None:
            problems.add(
                source.label, None, "production_commodity", cid, "stage 0 needs mine production"
            )
        chains[cid] = Chain(cid, tuple(members))
    problems.raise_if_any()
    return chains


def _stage(row: dict[str, str], label: str, problems: Problems) -> ChainStage | None:
    line, before = int(row[LINE]), len(problems)
    chain, commodity = row["chain"].strip(), row["commodity"].strip()
    for column, value in (("chain", chain), ("commodity", commodity)):
        if not _ID.fullmatch(value):
            problems.add(label, line, column, value, "is not an id (lower-case letters, _)")
    if not row["stage"].strip().isdigit():
        problems.add(label, line, "stage", row["stage"], "is not a stage number (0, 1, ...)")
    codes: list[tuple[str, str | None]] = []
    for item in (c.strip() for c in row["hs_codes"].split(";") if c.strip()):
        found = _CODE.fullmatch(item)
        if found is None:
            problems.add(label, line, "hs_codes", item, "is not HS[:form] (e.g. 810520:metal)")
        else:
            codes.append((found.group(1), found.group(2)))
    production = row["production_commodity"].strip() or None
    estimate = row["estimate"].strip() or None
    if estimate is not None and estimate not in ESTIMATES:
        problems.add(label, line, "estimate", estimate, f"must be one of {', '.join(ESTIMATES)}")
    stage = int(row["stage"]) if row["stage"].strip().isdigit() else 0
    if stage > 0 and estimate is None:
        problems.add(label, line, "estimate", "", "a stage after the first needs an estimate")
    if len(problems) > before:
        return None
    return ChainStage(
        chain=chain,
        stage=stage,
        commodity=commodity,
        name=row["name"].strip() or commodity,
        codes=tuple(codes),
        production_commodity=production,
        estimate=estimate,
        note=row.get("note", "").strip(),
    )


@cache
def load_chains() -> dict[str, Chain]:
    """The bundled chains (``critmin/loader/data/chains.csv``), by id."""
    return read_chains(bundled("chains.csv"))


def find_chain(chain: str) -> Chain:
    chains = load_chains()
    if chain not in chains:
        raise UnknownChain(f"unknown chain {chain!r}; known chains: {', '.join(sorted(chains))}")
    return chains[chain]
