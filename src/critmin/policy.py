"""Policy scenarios written as TOML files: read, validate, run, store, and the stock needed.

A scenario file names one policy question: a set of shocks that happen together (single
sources, coalitions, targeted cuts, partial-year bans), the stockpiles countries hold, the
cascade parameters and the failure rule. :func:`read_scenario` reads and checks a file without
touching a database (every error names the file, the key and the value);
:func:`run_policy` runs it on the stored networks of its years, stores it as a Run of kind
``policy`` under the scenario's name (re-running replaces it) and answers, per exposed
country, the loss, the stock drawn and the stock that would have avoided failure.

The format (the README's "Policy scenarios" has an example)::

    name = "drc-cobalt-ban-2025"   # required: the stored name (a-z, 0-9, '-', '_')
    title = "..."                  # optional one-line title
    description = "..."            # required: what happened and how it is modelled
    commodity = "cobalt_oxides"    # a commodity group id
    years = "latest"               # "latest", a year, or a list of years
    failure_rule = "any-loss"      # optional: a name of FAILURE_PRESETS
    measure = "auto"               # optional: auto, tonnes or usd

    [[sources]]                    # citations, at least one: title and url required,
    title = "..."                  # publisher, date and note optional
    url = "https://..."

    [[shocks]]                     # one per shocked source ...
    source = "COD"
    months = 4                     # ... with exactly one of: fraction (in (0, 1]), months
    targets = ["CHN"]              # (a full stop for that many months: months / 12), or
                                   # phases = [{months = 4, cut = 1.0}, {months = 3, cut = 0.5}]
                                   # (sum of months x cut / 12); targets optional

    [[coalitions]]                 # sources cutting together by the same share
    members = ["COD", "ZMB"]
    fraction = 1.0                 # or months / phases; targets optional

    [stockpiles]                   # optional: ISO3 = quantity in the network's unit,
    JPN = "3months"                # or "<n>months" of the country's internal demand

    [parameters]                   # optional: any cascade parameter (alpha, absorb, ...)
    alpha = 0.8

Every shock and every coalition member is cut at once, in one cascade per year.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.errors import CritminError
from critmin.loader.commodities import CommodityGroup, find_group, load_groups
from critmin.loader.countries import to_iso3
from critmin.simulator import Shock, Stockpile, TradeNetwork, simulate, stock_needed
from critmin.simulator.result import run_record
from critmin.simulator.scenario import FAILURE_PRESETS, Parameters
from critmin.store.graph import GraphStore
from critmin.store.networks import NoTradeData, Panel, available_years, country_names, read_panel
from critmin.store.scenario_reads import suffix
from critmin.store.scenario_writes import RunInfo, forget_run, save_stock_needed, write_sweep

__all__ = [
    "DEFAULT_FAILURE_RULE",
    "PolicyOutcome",
    "PolicyScenario",
    "ScenarioFileError",
    "ShockSpec",
    "list_scenarios",
    "read_scenario",
    "run_policy",
    "stock_needed_table",
]

DEFAULT_FAILURE_RULE = "any-loss"
#: TRANSMITS edges stored per scenario: those above this share of its initial shock.
KEEP_SHARE = 0.01
MEASURES = ("auto", "tonnes", "usd")

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TOP_KEYS = {
    "name",
    "title",
    "description",
    "commodity",
    "years",
    "failure_rule",
    "measure",
    "sources",
    "shocks",
    "coalitions",
    "stockpiles",
    "parameters",
}
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
class ShockSpec:
    """One source's cut: its share of a year's exports, targets, and the group it belongs to."""

    source: str
    fraction: float
    targets: tuple[str, ...] | None = None
    group: str = ""  # the coalition's members ("COD+ZMB"), or "" for a shock alone
    note: str = ""

    def shock(self) -> Shock:
        return Shock(self.source, self.fraction, self.targets)


@dataclass(frozen=True)
class PolicyScenario:
    """A validated scenario file (:func:`read_scenario`)."""

    path: Path
    digest: str
    name: str
    title: str
    description: str
    commodity: str
    years: tuple[int, ...] | None  # None: the latest year with data
    failure_rule: str
    measure: str
    sources: tuple[Citation, ...]
    shocks: tuple[ShockSpec, ...]
    stockpiles: Mapping[str, Stockpile] = field(default_factory=dict)
    parameters: Parameters = field(default_factory=Parameters)

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
            if s.targets:
                text += " -> " + ",".join(s.targets)
            out.append(text)
        return "; ".join(out)


# ---------------------------------------------------------------- reading


def read_scenario(path: str | Path) -> PolicyScenario:
    """Read and validate a scenario file; nothing is run and no database is asked.

    Raises
    ------
    ScenarioFileError
        On a file that cannot be read or parsed, an unknown key, a missing or bad value, an
        unknown commodity or country code; the message names the file, the key and the value.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioFileError(path, "(file)", str(path.name), f"cannot be read: {exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioFileError(path, "(syntax)", path.name, f"not valid TOML: {exc}") from None
    check = _Checker(path)
    check.keys("", data, _TOP_KEYS, required={"name", "description", "commodity", "sources"})

    name = check.text("name", data["name"])
    if not _NAME.fullmatch(name):
        check.fail("name", name, "use lower-case letters, digits, '-' and '_' (at most 64)")
    commodity = check.text("commodity", data["commodity"])
    groups = load_groups()
    if commodity not in groups:
        check.fail("commodity", commodity, f"unknown commodity; known: {', '.join(sorted(groups))}")
    failure_rule = check.text("failure_rule", data.get("failure_rule", DEFAULT_FAILURE_RULE))
    if failure_rule not in FAILURE_PRESETS:
        check.fail("failure_rule", failure_rule, f"choose one of {', '.join(FAILURE_PRESETS)}")
    measure = check.text("measure", data.get("measure", "auto"))
    if measure not in MEASURES:
        check.fail("measure", measure, f"choose one of {', '.join(MEASURES)}")

    shocks = check.all_shocks(data.get("shocks", []), data.get("coalitions", []))
    stockpiles = check.stockpiles(data.get("stockpiles", {}))
    parameters = check.parameters(data.get("parameters", {}), failure_rule)
    return PolicyScenario(
        path=path,
        digest=hashlib.sha256(raw).hexdigest()[:16],
        name=name,
        title=check.text("title", data.get("title", name)),
        description=check.text("description", data["description"]),
        commodity=commodity,
        years=check.years(data.get("years", "latest")),
        failure_rule=failure_rule,
        measure=measure,
        sources=check.citations(data["sources"]),
        shocks=shocks,
        stockpiles=stockpiles,
        parameters=parameters,
    )


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

    def text(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, value, "must be non-empty text")
        assert isinstance(value, str)
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
        if not listed or len(years) != len(listed) or not all(1900 <= y <= 2100 for y in years):
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

    def all_shocks(self, shocks: object, coalitions: object) -> tuple[ShockSpec, ...]:
        out: list[ShockSpec] = []
        for key, value in (("shocks", shocks), ("coalitions", coalitions)):
            if not isinstance(value, list):
                self.fail(key, value, f"must be a list of tables: [[{key}]]")
        assert isinstance(shocks, list) and isinstance(coalitions, list)
        for i, item in enumerate(shocks):
            where = f"shocks[{i}]"
            table = self.keys(where, item, {"source", "targets", "note"} | _CUT_KEYS, {"source"})
            source = self.country(f"{where}.source", table["source"])
            targets = self._targets(where, table, [source])
            note = self.text(f"{where}.note", table["note"]) if "note" in table else ""
            out.append(ShockSpec(source, self.cut(where, table), targets, "", note))
        for i, item in enumerate(coalitions):
            where = f"coalitions[{i}]"
            allowed = {"members", "targets", "note", "name"} | _CUT_KEYS
            table = self.keys(where, item, allowed, {"members"})
            members = self.countries(f"{where}.members", table["members"], least=2)
            targets = self._targets(where, table, members)
            fraction = self.cut(where, table)
            note = self.text(f"{where}.note", table["note"]) if "note" in table else ""
            label = (
                self.text(f"{where}.name", table["name"]) if "name" in table else "+".join(members)
            )
            out.extend(ShockSpec(m, fraction, targets, label, note) for m in members)
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
            self.fail("stockpiles", value, 'must be a table: ISO3 = quantity or "<n>months"')
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
                        key, amount, 'must be a quantity >= 0 or "<n>months" (e.g. "3months")'
                    )
            else:
                stock = Stockpile(self.number(key, amount, 0.0, None))
            if country in out:
                self.fail(key, amount, "the country's stockpile is given twice")
            out[country] = stock
        return dict(sorted(out.items()))

    def parameters(self, value: object, failure_rule: str) -> Parameters:
        table = self.keys("parameters", value, _PARAMETERS)
        preset = FAILURE_PRESETS[failure_rule]
        clash = sorted(k for k in table if k == "fail_rel")
        if clash:
            self.fail(
                "parameters.fail_rel",
                table["fail_rel"],
                "the failure rule sets fail_rel; give failure_rule or fail_rel, not both",
            )
        merged = {**{k: v for k, v in preset.items() if v is not None}, **table}
        try:
            return Parameters(**merged)
        except (TypeError, ValueError) as exc:
            bad = next((k for k in table if k in str(exc)), "parameters")
            where = f"parameters.{bad}" if bad != "parameters" else bad
            self.fail(where, table.get(bad, table), str(exc))
        raise AssertionError("unreachable")


def list_scenarios(folder: str | Path) -> pd.DataFrame:
    """The scenario files of ``folder`` (``*.toml``), one row each; a bad file says why."""
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
        "title",
        "digest",
    ]
    return pd.DataFrame(rows, columns=columns).fillna("")


# ---------------------------------------------------------------- running


@dataclass
class PolicyOutcome:
    """A scenario file run on its years: per year the countries it reached."""

    scenario: PolicyScenario
    group: CommodityGroup
    panel: Panel
    parameters: dict[str, Any]
    #: One row per year: ``year, initial_shock, demand_loss, stock_drawn, n_failed, rounds``,
    #: ``scenario_id`` (when stored).
    summary: pd.DataFrame
    #: One row per (year, country) with a loss, a draw or a stock need: ``year, country,
    #: name, demand, demand_loss, relative_loss, stock_drawn, failed, stock_needed,
    #: months_of_demand`` (quantities in ``panel.unit``).
    countries: pd.DataFrame
    seconds: float
    stored: bool

    def caption(self) -> str:
        p, sc, unit = self.parameters, self.scenario, self.panel.unit
        return (
            f"scenario {sc.name} ({sc.path.name}, digest {sc.digest}); {self.group.id} "
            f"(HS {', '.join(self.group.hs_codes)}); unit {unit}; shocks {sc.shock_text()}"
            + (f"; stockpiles {', '.join(sc.stockpile_texts())}" if sc.stockpiles else "")
            + f"; failure rule {sc.failure_rule} (fail_abs={p['fail_abs']:g} {unit}, "
            f"fail_rel={p['fail_rel']:g}); alpha={p['alpha']:g}, absorb={p['absorb']:g}, "
            f"supplier_cap={p['supplier_cap']}, mode={p['mode']}; stock_needed: the smallest "
            "stockpile with which the country would not have failed, others' stockpiles kept; "
            "months_of_demand: stock_needed / (demand / 12)"
        )


def _years(store: GraphStore, group: CommodityGroup, sc: PolicyScenario) -> list[int]:
    available = available_years(store, group)
    if not available:
        raise NoTradeData(
            f"{sc.path.name}: no stored {group.id} trade: load it first (`critmin demo` loads "
            "the bundled sample)"
        )
    if sc.years is None:
        return [max(available)]
    absent = [y for y in sc.years if y not in available]
    if absent:
        raise ScenarioFileError(
            sc.path,
            "years",
            list(sc.years),
            f"no stored {group.id} trade in {absent}; stored years: {available[0]}-{available[-1]}",
        )
    return list(sc.years)


def _network(panel: Panel, year: int) -> TradeNetwork:
    return TradeNetwork.from_frames(
        panel.year_flows(year),
        panel.year_production(year),
        countries=panel.countries,
        unit=panel.unit,
    )


def _check_countries(sc: PolicyScenario, network: TradeNetwork, year: int) -> None:
    """Every source, target and stockpile of the file is a country of the year's network."""
    known = set(network.countries)
    exports = dict(zip(network.countries, network.W.sum(axis=1), strict=True))
    for spec in sc.shocks:
        if spec.source not in known or (
            sc.parameters.mode == "export" and exports[spec.source] <= 0
        ):
            raise ScenarioFileError(
                sc.path, "source", spec.source, f"no {year} exports of it in the network"
            )
        missing = [t for t in spec.targets or () if t not in known]
        if missing:
            raise ScenarioFileError(
                sc.path, f"targets of {spec.source}", missing, f"not in the {year} network"
            )
    for code, stock in sc.stockpiles.items():
        if code not in known:
            raise ScenarioFileError(
                sc.path, f"stockpiles.{code}", str(stock), f"not in the {year} network"
            )


def run_policy(
    store: GraphStore,
    scenario: PolicyScenario | str | Path,
    *,
    write: bool = True,
    command: str = "",
    rtol: float = 1e-6,
) -> PolicyOutcome:
    """Run a scenario file on the stored networks of its years, store it, answer stock needs.

    Each year is one cascade (fast engine) with every shock at once and the file's
    stockpiles; the stock each failed country needed comes from
    :func:`~critmin.simulator.stock_needed` (bisection to ``rtol``). With ``write``, the run is
    stored as ``(:Run {id: "policy_<name>", kind: "policy", scenario, scenario_digest})``
    with one Scenario per year (stockpiles and drawn stock as any stockpiled run, the stock
    needed on the Impacts as ``stock_needed_t|usd`` and ``stock_needed_months``); running the
    file again replaces what its name stored before.
    """
    sc = scenario if isinstance(scenario, PolicyScenario) else read_scenario(scenario)
    group = find_group(sc.commodity)
    years = _years(store, group, sc)
    panel = read_panel(store, group, years, sc.measure)
    params = sc.parameters.resolved(panel.unit).as_dict()
    started = time.perf_counter()
    shocks = [spec.shock() for spec in sc.shocks]
    runs, impacts, edges, per_country, quantities = [], [], [], [], {}
    sources = ";".join(sorted(s.source for s in shocks))
    top = max(s.fraction for s in shocks)
    for year in years:
        network = _network(panel, year)
        _check_countries(sc, network, year)
        result = simulate(network, shocks, stockpiles=dict(sc.stockpiles), engine="fast", **params)
        quantities[int(year)] = dict(result.stockpiles)
        needed = stock_needed(network, shocks, stockpiles=dict(sc.stockpiles), rtol=rtol, **params)
        keys = {"year": year, "sources": sources, "fraction": top}
        runs.append(
            {
                "year": year,
                **run_record(
                    sources,
                    top,
                    panel.unit,
                    result.initial_shock,
                    result.rounds,
                    result.n_failed,
                    len(network.countries),
                    result.parameters,
                ),
            }
        )
        hit = (result.demand_loss > 0) | (result.gross_hit > 0) | (result.stock_drawn > 0)
        frame = pd.DataFrame(
            {
                "country": result.demand_loss.index[hit],
                "demand_loss": result.demand_loss[hit].to_numpy(),
                "stock_drawn": result.stock_drawn[hit].to_numpy(),
                "relative_loss": result.relative_loss[hit].to_numpy(),
                "gross_hit": result.gross_hit[hit].to_numpy(),
                "first_round": result.first_round[hit].array,
                "failed": result.failed[hit].to_numpy(),
            }
        )
        impacts.append(frame.assign(**keys)[["year", "sources", "fraction", *frame.columns]])
        moved = result.transmitted
        moved = moved[moved["quantity"] > KEEP_SHARE * result.initial_shock]
        edges.append(moved.assign(**keys)[["year", "sources", "fraction", *moved.columns]])
        demand = pd.Series(network.demand_array, index=network.countries)
        table = frame.merge(
            needed[["country", "stock_needed", "months_of_demand"]], on="country", how="outer"
        )
        table["demand"] = demand.reindex(table["country"]).to_numpy()
        table["year"] = year
        per_country.append(table)
    seconds = time.perf_counter() - started

    countries = pd.concat(per_country, ignore_index=True)
    countries["failed"] = countries["failed"].fillna(False).astype(bool)
    countries["stock_needed"] = countries["stock_needed"].fillna(0.0)
    countries = countries[
        (countries["demand_loss"] > 0)
        | (countries["stock_drawn"] > 0)
        | (countries["stock_needed"] > 0)
    ]
    names = country_names(store)
    countries = countries.assign(name=[names.get(c, c) for c in countries["country"]])
    countries = countries.sort_values(["year", "demand_loss"], ascending=[True, False])
    countries = countries[
        [
            "year",
            "country",
            "name",
            "demand",
            "demand_loss",
            "relative_loss",
            "stock_drawn",
            "failed",
            "stock_needed",
            "months_of_demand",
        ]
    ].reset_index(drop=True)
    run_frame = pd.DataFrame(runs)
    impacts_frame = pd.concat(impacts, ignore_index=True)
    summary = pd.DataFrame(
        {
            "year": run_frame["year"],
            "initial_shock": run_frame["initial_shock"],
            "demand_loss": [
                float(impacts_frame.loc[impacts_frame["year"] == y, "demand_loss"].sum())
                for y in run_frame["year"]
            ],
            "stock_drawn": [
                float(impacts_frame.loc[impacts_frame["year"] == y, "stock_drawn"].sum())
                for y in run_frame["year"]
            ],
            "n_failed": run_frame["n_failed"],
            "rounds": run_frame["rounds"],
        }
    )
    if write:
        ids = _store(
            store, sc, group, panel, params, run_frame, impacts_frame, edges, quantities, command
        )
        summary["scenario_id"] = ids
        unit = suffix(panel.unit)
        for year, sid in zip(summary["year"], ids, strict=True):
            rows = countries[(countries["year"] == year) & (countries["stock_needed"] > 0)]
            save_stock_needed(
                store,
                sid,
                [
                    {
                        "iso3": r.country,
                        "props": {
                            f"stock_needed_{unit}": float(r.stock_needed),
                            "stock_needed_months": None
                            if pd.isna(r.months_of_demand)
                            else float(r.months_of_demand),
                        },
                    }
                    for r in rows.itertuples(index=False)
                ],
            )
    return PolicyOutcome(sc, group, panel, params, summary, countries, seconds, write)


def _store(
    store: GraphStore,
    sc: PolicyScenario,
    group: CommodityGroup,
    panel: Panel,
    params: Mapping[str, Any],
    runs: pd.DataFrame,
    impacts: pd.DataFrame,
    edges: list[pd.DataFrame],
    quantities: Mapping[int, Mapping[str, float]],
    command: str,
) -> list[str]:
    fractions = {s.fraction for s in sc.shocks}
    targets = {s.targets for s in sc.shocks}
    uniform = len(fractions) == 1 and len(targets) == 1
    info = RunInfo(
        id=sc.run_id,
        command=command or f"critmin scenario run {sc.path.name}",
        commodity=group.id,
        kind="policy",
        unit=panel.unit,
        parameters={k: v for k, v in params.items() if k != "engine"},
        n_panel=len(panel.countries),
        n_years=len(panel.years),
        data_versions={y: panel.data_version(y) for y in panel.years},
        targets=tuple(sc.shocks[0].targets or ()) if uniform else (),
        extra={
            "scenario": sc.name,
            "scenario_title": sc.title,
            "scenario_file": sc.path.name,
            "scenario_digest": sc.digest,
            "failure_rule": sc.failure_rule,
            "measure": sc.measure,
            "keep_share": KEEP_SHARE,
            "citations": [str(c) for c in sc.sources],
        },
        stockpiles=sc.stockpile_texts(),
        stock_quantities=quantities,
        shocks=()
        if uniform
        else tuple((s.source, s.fraction, tuple(s.targets or ())) for s in sc.shocks),
    )
    forget_run(store, info.id)
    transmitted = pd.concat(edges, ignore_index=True)
    return write_sweep(store, runs, impacts, transmitted, info)


# ---------------------------------------------------------------- stock needed


def stock_needed_table(
    store: GraphStore,
    commodity: str,
    year: int | None,
    shocks: Sequence[Shock],
    stockpiles: Mapping[str, Stockpile] | None = None,
    parameters: Parameters | None = None,
    measure: str = "auto",
    countries: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stock each country would have needed not to fail in one scenario of a stored year.

    ``year`` None is the latest year with data. Returns the table of
    :func:`~critmin.simulator.stock_needed` (with ``name``) and its context (commodity, year,
    unit, shocks, stockpiles, every parameter).
    """
    group = find_group(commodity)
    available = available_years(store, group)
    if not available:
        raise NoTradeData(f"no stored {group.id} trade: load it first")
    chosen = max(available) if year is None else int(year)
    if chosen not in available:
        raise NoTradeData(
            f"no stored {group.id} trade in {chosen}; stored years: {available[0]}-{available[-1]}"
        )
    panel = read_panel(store, group, [chosen], measure)
    network = _network(panel, chosen)
    params = (parameters or Parameters()).resolved(panel.unit).as_dict()
    try:
        table = stock_needed(
            network, list(shocks), stockpiles=dict(stockpiles or {}), countries=countries, **params
        )
    except ValueError as exc:
        raise StockNeededError(f"cannot answer: {exc}") from exc
    names = country_names(store)
    table.insert(1, "name", [names.get(c, c) for c in table["country"]])
    context = {
        "commodity": group.id,
        "year": chosen,
        "unit": panel.unit,
        "shocks": "; ".join(
            f"{s.source} {s.fraction:g}" + (f" -> {','.join(s.targets)}" if s.targets else "")
            for s in shocks
        ),
        "stockpiles": ", ".join(f"{c}={s}" for c, s in sorted((stockpiles or {}).items())),
        **params,
    }
    return table, context


class StockNeededError(CritminError, ValueError):
    """A stock-needed question the network cannot answer (a source or country not in it)."""
