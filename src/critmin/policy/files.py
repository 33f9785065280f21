"""Policy scenario files: read one into a validated scenario (and its Study), list a folder.

The format is the package's (:mod:`critmin.policy`). Reading touches no database: every error
names the file, the key and the value, on one line.
"""

from __future__ import annotations

import codecs
import hashlib
import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.defaults import FIRST_YEAR, KEEP_SHARE, LAST_YEAR, MAX_STOCKPILE_MONTHS
from critmin.errors import CritminError
from critmin.loader.chains import load_chains
from critmin.loader.commodities import load_groups
from critmin.loader.countries import to_iso3
from critmin.loader.files import _wide_encoding
from critmin.simulator import Shock, Stockpile
from critmin.simulator.scenario import FAILURE_PRESETS, MODES, PRESETS, Parameters
from critmin.study import InvalidParameters, RunKind, Study
from critmin.units import Measure, Unit

__all__ = [
    "DEFAULT_FAILURE_RULE",
    "DEFAULT_PRESET",
    "MAX_FILE_BYTES",
    "Fallback",
    "PolicyScenario",
    "ScenarioFileError",
    "ShockSpec",
    "list_scenarios",
    "read_scenario",
    "stages_of",
]

DEFAULT_FAILURE_RULE = "any-loss"
#: The model a scenario file runs unless it says ``preset = "paper"``: a supplier gives at most
#: what it still has and a country loses at most what it consumes (docs/model.md).
DEFAULT_PRESET = "physical"
#: The largest scenario file read: the bundled ones are about 2 KB; a file above this (or a
#: device such as /dev/zero, which never ends) is not a scenario.
MAX_FILE_BYTES = 1 << 20

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Control characters (NUL, escape sequences...) never belong in a title or a code; a
# description may break lines.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TOP_KEYS = {
    "name",
    "title",
    "description",
    "commodity",
    "years",
    "failure_rule",
    "preset",
    "measure",
    "sources",
    "shocks",
    "coalitions",
    "stockpiles",
    "parameters",
    "fallback",
}
_FALLBACK_KEYS = {"commodity", "measure", "note", "load"}
_CUT_KEYS = {"fraction", "months", "phases"}
_PARAMETERS = {f.name for f in fields(Parameters)}


class ScenarioFileError(CritminError, ValueError):
    """A scenario file that cannot be read or run: names the file, the key and the value."""

    def __init__(self, path: Path | str, key: str, value: object, problem: str) -> None:
        shown = repr(value) if not isinstance(value, str) or len(value) < 80 else "..."
        super().__init__(f"{Path(path).name}: {key} = {shown}: {problem}")
        self.path, self.key, self.value, self.problem = Path(path), key, value, problem


@dataclass(frozen=True)
class Citation:
    """A source the scenario file cites."""

    title: str
    url: str
    publisher: str = ""
    date: str = ""
    note: str = ""

    def __str__(self) -> str:
        parts = [p for p in (self.publisher, self.date) if p]
        return (
            f"{self.title} ({', '.join(parts)}) {self.url}" if parts else f"{self.title} {self.url}"
        )


@dataclass(frozen=True)
class Fallback:
    """What a file runs on while its own basis is not loaded (the bundled data lack it).

    ``commodity`` is a commodity group or a supply chain's id. ``note`` says what the fallback
    lacks; ``load`` is the command that loads the real basis. Every output of a run on the
    fallback carries both.
    """

    commodity: str
    measure: Measure
    note: str
    load: str


@dataclass(frozen=True)
class ShockSpec:
    """One source's cut: its share of a year's exports, targets, and the group it belongs to."""

    source: str
    fraction: float
    targets: tuple[str, ...] | None = None
    group: str = ""  # the coalition's members ("COD+ZMB"), or "" for a shock alone
    note: str = ""
    mode: str | None = None  # "export" or "production"; None: the run's mode
    stage: int = 0  # the stage of the file's chain it hits (0: the first; one network: 0)

    def shock(self) -> Shock:
        return Shock(self.source, self.fraction, self.targets, self.mode, self.stage)


@dataclass(frozen=True)
class PolicyScenario:
    """A validated scenario file (:func:`read_scenario`)."""

    path: Path
    digest: str
    name: str
    title: str
    description: str
    #: A commodity group, or a supply chain's id (``chains.csv``): then the run goes down the
    #: chain's stages and each shock hits its ``stage``.
    commodity: str
    years: tuple[int, ...] | None  # None: the latest year with data
    failure_rule: str
    measure: Measure
    sources: tuple[Citation, ...]
    shocks: tuple[ShockSpec, ...]
    stockpiles: Mapping[str, Stockpile] = field(default_factory=dict)
    parameters: Parameters = field(default_factory=Parameters)
    fallback: Fallback | None = None

    def on_fallback(self) -> PolicyScenario:
        """This scenario on its fallback basis (commodity and measure), else unchanged.

        On a fallback of one network every shock hits that network (stage 0); on a fallback
        chain each keeps its stage (:func:`read_scenario` checked that the chain has it).
        """
        if self.fallback is None:
            return self
        shocks = self.shocks
        if len(stages_of(self.fallback.commodity)) == 1:
            shocks = tuple(replace(s, stage=0) for s in shocks)
        return replace(
            self, commodity=self.fallback.commodity, measure=self.fallback.measure, shocks=shocks
        )

    @property
    def stages(self) -> tuple[str, ...]:
        """The commodity of each stage the file runs on, upstream first (one for a group)."""
        return stages_of(self.commodity)

    @property
    def is_chain(self) -> bool:
        return len(self.stages) > 1

    @property
    def study(self) -> Study:
        """The file as a :class:`~critmin.study.Study` of kind ``policy`` (its years: the
        file's, or every year with data when it says "latest"; the run picks the latest)."""
        return Study(
            chain=self.stages,
            years=self.years,
            measure=self.measure,
            stockpiles=tuple(self.stockpiles.items()),
            parameters=self.parameters,
            keep_share=KEEP_SHARE,
            events=tuple(spec.shock() for spec in self.shocks),
            kind=RunKind.POLICY,
        )

    @property
    def run_id(self) -> str:
        """The id of the ``(:Run)`` the scenario is stored under: one per name."""
        return f"policy_{self.name}"

    def stockpile_texts(self) -> tuple[str, ...]:
        return tuple(f"{code}={self.stockpiles[code]}" for code in sorted(self.stockpiles))

    def shock_text(self) -> str:
        """The shocks in one line: ``COD 33.3% -> CHN,JPN; ZMB 100%``."""
        out = []
        for s in self.shocks:
            text = f"{s.source} {s.fraction:.3g}"
            if s.mode == "production":
                text += " of production"
            if s.targets:
                text += " -> " + ",".join(s.targets)
            if self.is_chain:
                text += f" at stage {s.stage} ({self.stages[s.stage]})"
            out.append(text)
        return "; ".join(out)


# ---------------------------------------------------------------- reading


def stages_of(basis: str) -> tuple[str, ...]:
    """The stages' commodities of a chain id (``chains.csv``), or ``(basis,)`` for a group.

    >>> stages_of("cobalt_demo"), stages_of("cobalt_oxides")
    (('cobalt', 'cobalt_oxides'), ('cobalt_oxides',))
    """
    chain = load_chains().get(basis)
    return (basis,) if chain is None else tuple(s.commodity for s in chain.stages)


def read_scenario(path: str | Path) -> PolicyScenario:
    """Read and validate a scenario file; nothing is run and no database is asked.

    Raises
    ------
    ScenarioFileError
        On a file that cannot be read or parsed, an unknown key, a missing or bad value, an
        unknown commodity or country code; the message names the file, the key and the value.
    """
    path = Path(path)
    raw = _read_bytes(path)
    data = _parse(path, raw)
    check = _Checker(path)
    check.keys("", data, _TOP_KEYS, required={"name", "description", "commodity", "sources"})

    name = check.text("name", data["name"])
    if not _NAME.fullmatch(name):
        check.fail("name", name, "use lower-case letters, digits, '-' and '_' (at most 64)")
    commodity = check.text("commodity", data["commodity"])
    groups = load_groups()
    chains = load_chains()
    if commodity not in groups and commodity not in chains:
        check.fail(
            "commodity",
            commodity,
            f"unknown commodity or chain; commodities: {', '.join(sorted(groups))}; supply "
            f"chains (chains.csv): {', '.join(sorted(chains))}",
        )
    failure_rule = check.text("failure_rule", data.get("failure_rule", DEFAULT_FAILURE_RULE))
    if failure_rule not in FAILURE_PRESETS:
        check.fail("failure_rule", failure_rule, f"choose one of {', '.join(FAILURE_PRESETS)}")
    preset = check.text("preset", data.get("preset", DEFAULT_PRESET))
    if preset not in PRESETS:
        check.fail("preset", preset, f"choose one of {', '.join(PRESETS)}")
    measure = check.text("measure", data.get("measure", Measure.AUTO.value))
    if measure not in set(Measure):
        check.fail("measure", measure, f"choose one of {', '.join(m.value for m in Measure)}")
    check.chain_measure("measure", commodity, measure)

    shocks = check.all_shocks(data.get("shocks", []), data.get("coalitions", []), commodity)
    stockpiles = check.stockpiles(data.get("stockpiles", {}))
    parameters = check.parameters(data.get("parameters", {}), failure_rule, preset)
    scenario = PolicyScenario(
        path=path,
        digest=hashlib.sha256(raw).hexdigest()[:16],
        name=name,
        title=check.text("title", data.get("title", name)),
        description=check.text("description", data["description"], lines=True),
        commodity=commodity,
        years=check.years(data.get("years", "latest")),
        failure_rule=failure_rule,
        measure=Measure(measure),
        sources=check.citations(data["sources"]),
        shocks=shocks,
        stockpiles=stockpiles,
        parameters=parameters,
        fallback=check.fallback(data.get("fallback"), groups, Measure(measure), shocks),
    )
    try:
        scenario.study  # noqa: B018  # the checks every run definition gets, from a file too
    except InvalidParameters as exc:
        check.fail("(scenario)", name, str(exc))
    return scenario


def _read_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file of at most :data:`MAX_FILE_BYTES`."""
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ScenarioFileError(
                    path,
                    "(file)",
                    str(path),
                    "is not a regular file (a device, a pipe or a folder)",
                )
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ScenarioFileError(path, "(file)", str(path), f"cannot be read: {reason}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioFileError(
            path, "(file)", str(path), f"is larger than {MAX_FILE_BYTES:,} bytes: not a scenario"
        )
    return raw


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    """The TOML document of ``raw``: UTF-8, with or without a byte-order mark."""
    wide = _wide_encoding(raw)
    if wide is not None:
        raise ScenarioFileError(
            path,
            "(encoding)",
            wide,
            f"the file is {wide}; scenario files are UTF-8: convert it, for example "
            f"`iconv -f {wide} -t UTF-8 {path.name} > {path.stem}.utf8.toml`",
        )
    try:
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(
            path, "(encoding)", raw[exc.start : exc.start + 4], f"not UTF-8 at byte {exc.start}"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError(path, "(syntax)", path.name, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioFileError(
            path, "(syntax)", path.name, "nested too deeply to be a scenario file"
        ) from None


class _Checker:
    """Validation of one file's values; every failure names the file, the key and the value."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, value: object, problem: str) -> None:
        raise ScenarioFileError(self.path, key, value, problem)

    def keys(
        self,
        where: str,
        table: object,
        allowed: set[str],
        required: set[str] | frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.fail(where or "(file)", table, "must be a table")
        assert isinstance(table, dict)
        for key in table:
            if key not in allowed:
                self.fail(
                    f"{where}.{key}" if where else key,
                    table[key],
                    f"unknown key; allowed here: {', '.join(sorted(allowed))}",
                )
        for key in sorted(required - set(table)):
            self.fail(f"{where}.{key}" if where else key, None, "missing (required)")
        return table

    def text(self, key: str, value: object, *, lines: bool = False) -> str:
        """Non-empty text without control characters (``lines``: line breaks allowed)."""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, value, "must be non-empty text")
        assert isinstance(value, str)
        if (_CONTROL if lines else _CONTROL_LINE).search(value):
            self.fail(
                key,
                value,
                "holds a control character (NUL, escape...)"
                + ("" if lines else " or a line break: write one line"),
            )
        return value.strip()

    def number(self, key: str, value: object, low: float, high: float | None) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(float(value)):  # type: ignore[arg-type]
            self.fail(key, value, "must be a number")
        number = float(value)  # type: ignore[arg-type]
        if number < low or (high is not None and number > high):
            bounds = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
            self.fail(key, value, f"must be {bounds}")
        return number

    def country(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, value, "must be an ISO3 country code such as COD")
        assert isinstance(value, str)
        code = value.strip().upper()
        try:
            found = to_iso3(code, "iso3")
        except KeyError:
            found = None
        if found is None:
            self.fail(key, value, "unknown country: give an ISO3 code such as COD, CHN, USA")
        assert found is not None
        return found

    def countries(self, key: str, value: object, least: int = 1) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) < least:
            self.fail(key, value, f"must be a list of at least {least} ISO3 codes")
        assert isinstance(value, list)
        codes = [self.country(f"{key}[{i}]", v) for i, v in enumerate(value)]
        if len(set(codes)) != len(codes):
            self.fail(key, value, "names a country twice")
        return tuple(sorted(codes))

    def years(self, value: object) -> tuple[int, ...] | None:
        if value == "latest":
            return None
        listed = value if isinstance(value, list) else [value]
        years = [y for y in listed if isinstance(y, int) and not isinstance(y, bool)]
        if (
            not listed
            or len(years) != len(listed)
            or not all(FIRST_YEAR <= y <= LAST_YEAR for y in years)
        ):
            self.fail("years", value, 'must be "latest", a year such as 2024, or a list of years')
        return tuple(sorted(set(years)))

    def citations(self, value: object) -> tuple[Citation, ...]:
        if not isinstance(value, list) or not value:
            self.fail("sources", value, "cite at least one source: [[sources]] title, url")
        assert isinstance(value, list)
        out = []
        allowed = {f.name for f in fields(Citation)}
        for i, item in enumerate(value):
            where = f"sources[{i}]"
            table = self.keys(where, item, allowed, required={"title", "url"})
            texts = {
                k: self.text(f"{where}.{k}", str(v) if k == "date" else v) for k, v in table.items()
            }
            if not texts["url"].startswith(("https://", "http://")):
                self.fail(f"{where}.url", texts["url"], "must be an http(s) address")
            out.append(Citation(**texts))
        return tuple(out)

    def cut(self, where: str, table: Mapping[str, Any]) -> float:
        """A shock's share of a year's exports from ``fraction``, ``months`` or ``phases``."""
        given = sorted(_CUT_KEYS & set(table))
        if len(given) != 1:
            self.fail(where, given, "give exactly one of fraction, months or phases")
        key = given[0]
        if key == "fraction":
            fraction = self.number(f"{where}.fraction", table["fraction"], 0.0, 1.0)
        elif key == "months":
            fraction = self.number(f"{where}.months", table["months"], 0.0, 12.0) / 12.0
        else:
            phases = table["phases"]
            if not isinstance(phases, list) or not phases:
                self.fail(f"{where}.phases", phases, "must be a list of {months, cut} tables")
            total = 0.0
            for i, phase in enumerate(phases):
                at = f"{where}.phases[{i}]"
                part = self.keys(at, phase, {"months", "cut", "note"}, required={"months", "cut"})
                months = self.number(f"{at}.months", part["months"], 0.0, 12.0)
                total += months * self.number(f"{at}.cut", part["cut"], 0.0, 1.0)
            if sum(float(p["months"]) for p in phases) > 12.0:
                self.fail(f"{where}.phases", phases, "the phases add up to more than 12 months")
            fraction = total / 12.0
        if fraction <= 0.0:
            self.fail(f"{where}.{key}", table[key], "the cut is zero: a shock must cut something")
        return fraction

    def all_shocks(self, shocks: object, coalitions: object, basis: str) -> tuple[ShockSpec, ...]:
        out: list[ShockSpec] = []
        for key, value in (("shocks", shocks), ("coalitions", coalitions)):
            if not isinstance(value, list):
                self.fail(key, value, f"must be a list of tables: [[{key}]]")
        assert isinstance(shocks, list) and isinstance(coalitions, list)
        for i, item in enumerate(shocks):
            where = f"shocks[{i}]"
            allowed = {"source", "targets", "note", "mode", "stage"} | _CUT_KEYS
            table = self.keys(where, item, allowed, {"source"})
            source = self.country(f"{where}.source", table["source"])
            targets = self._targets(where, table, [source])
            note = self.text(f"{where}.note", table["note"], lines=True) if "note" in table else ""
            mode = self._mode(where, table)
            stage = self._stage(where, table, basis)
            fraction = self.cut(where, table)
            out.append(ShockSpec(source, fraction, targets, "", note, mode, stage))
        for i, item in enumerate(coalitions):
            where = f"coalitions[{i}]"
            allowed = {"members", "targets", "note", "name", "stage"} | _CUT_KEYS
            table = self.keys(where, item, allowed, {"members"})
            members = self.countries(f"{where}.members", table["members"], least=2)
            targets = self._targets(where, table, members)
            fraction = self.cut(where, table)
            stage = self._stage(where, table, basis)
            note = self.text(f"{where}.note", table["note"], lines=True) if "note" in table else ""
            label = (
                self.text(f"{where}.name", table["name"]) if "name" in table else "+".join(members)
            )
            out.extend(ShockSpec(m, fraction, targets, label, note, stage=stage) for m in members)
        if not out:
            self.fail("shocks", [], "a scenario needs at least one [[shocks]] or [[coalitions]]")
        seen: set[str] = set()
        for spec in out:
            if spec.source in seen:
                self.fail(
                    "shocks", spec.source, "a source is shocked twice (shocks and coalitions)"
                )
            seen.add(spec.source)
        return tuple(sorted(out, key=lambda s: s.source))

    def fallback(
        self,
        value: object,
        groups: Mapping[str, object],
        measure: Measure,
        shocks: Sequence[ShockSpec],
    ) -> Fallback | None:
        if value is None:
            return None
        table = self.keys("fallback", value, _FALLBACK_KEYS, {"commodity", "note", "load"})
        commodity = self.text("fallback.commodity", table["commodity"])
        if commodity not in groups and commodity not in load_chains():
            self.fail("fallback.commodity", commodity, "unknown commodity or chain")
        chosen = self.text("fallback.measure", table.get("measure", measure.value))
        if chosen not in set(Measure):
            self.fail("fallback.measure", chosen, f"choose one of {', '.join(Measure)}")
        self.chain_measure("fallback.measure", commodity, chosen)
        stages = stages_of(commodity)
        far = [s for s in shocks if s.stage >= len(stages)]
        if len(stages) > 1 and far:  # a fallback chain has every shock's stage too
            self.fail(
                "fallback.commodity",
                commodity,
                f"the shock of {far[0].source} hits stage {far[0].stage}, beyond this chain's "
                f"stages 0 .. {len(stages) - 1} ({' -> '.join(stages)})",
            )
        return Fallback(
            commodity,
            Measure(chosen),
            self.text("fallback.note", table["note"], lines=True),
            self.text("fallback.load", table["load"]),
        )

    def chain_measure(self, key: str, basis: str, measure: str) -> None:
        """A chain runs in contained metal: its measure is ``auto`` or ``metal``."""
        if len(stages_of(basis)) > 1 and measure not in (Measure.AUTO, Measure.METAL):
            self.fail(key, measure, f"{basis} is a supply chain: it runs in metal (contained)")

    def _stage(self, where: str, table: Mapping[str, Any], basis: str) -> int:
        """The stage of the file's chain a shock hits (default 0, the chain's first)."""
        stage = table.get("stage", 0)
        if isinstance(stage, bool) or not isinstance(stage, int) or stage < 0:
            self.fail(f"{where}.stage", stage, "must be a stage number: 0, 1, 2 ...")
        stages = stages_of(basis)
        if stage >= len(stages):
            self.fail(
                f"{where}.stage",
                stage,
                f"beyond chain {basis}'s stages 0 .. {len(stages) - 1} ({' -> '.join(stages)})"
                if len(stages) > 1
                else f"{basis} is one network (stage 0): name a supply chain of chains.csv "
                "as the commodity to shock a later stage",
            )
        return int(stage)

    def _mode(self, where: str, table: Mapping[str, Any]) -> str | None:
        """A shock's own mode: ``production`` cuts the source's output (its own mine supply)
        instead of its exports; absent, the run's mode."""
        if "mode" not in table:
            return None
        mode = table["mode"]
        if mode not in MODES:
            self.fail(f"{where}.mode", mode, f"choose one of {', '.join(MODES)}")
        if mode == "production" and "targets" in table:
            self.fail(f"{where}.targets", table["targets"], "targets apply to export cuts only")
        return str(mode)

    def _targets(
        self, where: str, table: Mapping[str, Any], sources: Sequence[str]
    ) -> tuple[str, ...] | None:
        if "targets" not in table:
            return None
        targets = self.countries(f"{where}.targets", table["targets"])
        inside = sorted(set(targets) & set(sources))
        if inside:
            self.fail(
                f"{where}.targets", table["targets"], f"a source cannot target itself ({inside})"
            )
        return targets

    def stockpiles(self, value: object) -> dict[str, Stockpile]:
        if not isinstance(value, dict):
            self.fail(
                "stockpiles", value, 'must be a table: ISO3 = quantity, "<n>months" or "<n>days"'
            )
        assert isinstance(value, dict)
        out: dict[str, Stockpile] = {}
        for code, amount in value.items():
            key = f"stockpiles.{code}"
            country = self.country(key, code)
            if isinstance(amount, str):
                try:
                    stock = Stockpile.parse(amount)
                except ValueError:
                    self.fail(
                        key,
                        amount,
                        'must be a quantity >= 0, "<n>months" or "<n>days" (e.g. "60days")',
                    )
            else:
                stock = Stockpile(self.number(key, amount, 0.0, max(u.max_flow for u in Unit)))
            if stock.of_demand and stock.in_demand_months > MAX_STOCKPILE_MONTHS:
                self.fail(
                    key, amount, f"at most {MAX_STOCKPILE_MONTHS:g} months of demand (ten years)"
                )
            if country in out:
                self.fail(key, amount, "the country's stockpile is given twice")
            out[country] = stock
        return dict(sorted(out.items()))

    def parameters(self, value: object, failure_rule: str, model: str) -> Parameters:
        table = self.keys("parameters", value, _PARAMETERS)
        preset = FAILURE_PRESETS[failure_rule]
        clash = sorted(k for k in table if k == "fail_rel")
        if clash:
            self.fail(
                "parameters.fail_rel",
                table["fail_rel"],
                "the failure rule sets fail_rel; give failure_rule or fail_rel, not both",
            )
        # The rule's fail_abs depends on the network's unit: the run applies it (FailureRule).
        merged = {**PRESETS[model], "fail_rel": preset.fail_rel, **table}
        try:
            return Parameters(**merged)
        except (TypeError, ValueError) as exc:
            bad = next((k for k in table if k in str(exc)), "parameters")
            where = f"parameters.{bad}" if bad != "parameters" else bad
            self.fail(where, table.get(bad, table), str(exc))
        raise AssertionError("unreachable")


def list_scenarios(folder: str | Path) -> pd.DataFrame:
    """The scenario files of ``folder`` (``*.toml``), one row each; a bad file says why."""
    if not Path(folder).is_dir():
        raise ScenarioFileError(
            folder, "--dir", str(folder), "is not a folder: give the folder of the .toml files"
        )
    rows = []
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            sc = read_scenario(path)
        except ScenarioFileError as exc:
            rows.append({"file": path.name, "name": "", "title": f"invalid: {exc.problem}"})
            continue
        rows.append(
            {
                "file": path.name,
                "name": sc.name,
                "commodity": sc.commodity,
                "years": "latest" if sc.years is None else ",".join(map(str, sc.years)),
                "shocks": sc.shock_text(),
                "stockpiles": ", ".join(sc.stockpile_texts()),
                "failure_rule": sc.failure_rule,
                "preset": sc.parameters.preset,
                "measure": sc.measure.value,
                "fallback": sc.fallback.commodity if sc.fallback else "",
                "title": sc.title,
                "digest": sc.digest,
            }
        )
    columns = [
        "file",
        "name",
        "commodity",
        "years",
        "shocks",
        "stockpiles",
        "failure_rule",
        "preset",
        "measure",
        "fallback",
        "title",
        "digest",
    ]
    return pd.DataFrame(rows, columns=columns).fillna("")
