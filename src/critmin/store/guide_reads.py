"""What the Browser guide needs from the store: the study, one source's scenario, a country it hit.

The guide (:mod:`critmin.guide`) fills every query's parameters with these values, so each block
an analyst clicks answers on their own data. Reads only, parameters only.

"The study" is chosen the way ``critmin results`` chooses it
(:func:`~critmin.store.scenario_reads.find_run`): the latest complete run flagged ``is_study``
when stored (every source alone, untargeted, no stockpiles, default parameters). Of several
commodities, the one whose study has the most scenarios
is shown (``commodity=`` picks one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import NoScenarios, find_run

__all__ = ["GuideFacts", "StoreContents", "explain_plan", "guide_facts", "store_contents"]

#: The source the guide prefers where the study swept it: the study's own question is a DRC ban.
PREFERRED_SOURCE = "COD"

CONTENTS = """
CALL () { MATCH (c:Country) RETURN count(c) AS countries }
CALL () { MATCH ()-[t:TRADES]->() RETURN count(t) AS trades }
CALL () { MATCH (s:Scenario) RETURN count(s) AS scenarios }
RETURN countries, trades, scenarios
"""

STUDY_COMMODITIES = """
MATCH (r:Run)
WHERE r.is_study = true AND r.status = 'complete' AND coalesce(r.mode, 'export') = 'export'
RETURN r.commodity AS commodity, max(coalesce(r.n_scenarios_planned, 0)) AS scenarios
ORDER BY scenarios DESC, commodity
"""

SOURCE_SCENARIO = """
MATCH (:Run {id: $run_id})-[:INCLUDES]->(s:Scenario)
WHERE s.sources = [$source] AND s.shock = $shock AND size(coalesce(s.targets, [])) = 0
WITH s, EXISTS { (s)-[:HIT]->(:Impact)-[:TRANSMITS]->(:Impact) } AS drawn
RETURN s.id AS scenario, s.year AS year, s.n_failed AS n_failed
ORDER BY drawn DESC, s.year DESC, s.id
LIMIT 1
"""

TOP_SOURCE = """
MATCH (x:SweepSource {run_id: $run_id, shock: $shock})
RETURN x.source AS source
ORDER BY x.rank, x.source
LIMIT 1
"""

HIT_COUNTRY = """
MATCH (s:Scenario {id: $scenario})-[:HIT]->(h:Impact)-[:OF]->(c:Country)
WHERE NOT h.source
WITH c, h, EXISTS { (:Impact)-[:TRANSMITS]->(h) } AS reached
RETURN c.iso3 AS country, c.name AS name
ORDER BY reached DESC,
         coalesce(h.demand_loss_t, h.demand_loss_t_metal, h.demand_loss_usd) DESC, country
LIMIT 1
"""

COUNTRY_NAME = "MATCH (c:Country {iso3: $iso3}) RETURN c.name AS name"


@dataclass(frozen=True)
class StoreContents:
    """How much the store holds: what a guide for an empty store tells the user to do first."""

    countries: int
    trades: int
    scenarios: int


@dataclass(frozen=True)
class GuideFacts:
    """Real values of this store for the guide's parameters."""

    commodity: str
    run_id: str
    mode: str
    unit: str  # the study's unit: 't' or 'USD'
    shock: float  # the study's largest shock size
    years: tuple[int, ...]
    source: str
    source_name: str
    scenario: str  # the source's latest scenario at ``shock`` in the study
    year: int  # that scenario's year
    n_failed: int  # countries it fails
    country: str  # the country that scenario hurt most (reached over TRANSMITS if any was)
    country_name: str

    @property
    def measure(self) -> str:
        """The TRADES property in the study's unit (``tonnes`` or ``value_usd``)."""
        return "tonnes" if self.unit == "t" else "value_usd"

    def values(self) -> dict[str, Any]:
        """Parameter values by the names the library's headers use."""
        return {
            "commodity": self.commodity,
            "run_id": self.run_id,
            "mode": self.mode,
            "shock": self.shock,
            "source": self.source,
            "year": self.year,
            "scenario": self.scenario,
            "country": self.country,
            "target": self.country,
            "measure": self.measure,
        }


def store_contents(store: GraphStore) -> StoreContents:
    """Countries, TRADES relationships and scenarios stored (count-store reads, fast)."""
    row = store.records(CONTENTS)[0]
    return StoreContents(int(row["countries"]), int(row["trades"]), int(row["scenarios"]))


def _name(store: GraphStore, iso3: str) -> str:
    rows = store.records(COUNTRY_NAME, iso3=iso3)
    return str(rows[0]["name"] or iso3) if rows else iso3


def guide_facts(store: GraphStore, commodity: str | None = None) -> GuideFacts | None:
    """The study and its example scenario, or None when no complete study is stored.

    The source is the DRC where the study swept it, else the study's top risk source; its
    scenario is its latest year at the study's largest shock (one with a stored cascade first);
    the country is the one that scenario hurt most among those its cascade reached.
    """
    if commodity is None:
        studies = store.records(STUDY_COMMODITIES)
        if not studies:
            return None
        commodity = str(studies[0]["commodity"])
    try:
        run = find_run(store, commodity)
    except NoScenarios:
        return None
    run_id = str(run["id"])
    shock = max(float(f) for f in run["fractions"])
    scenario: dict[str, Any] | None = None
    source = PREFERRED_SOURCE
    found = store.records(SOURCE_SCENARIO, run_id=run_id, source=source, shock=shock)
    if not found:
        top = store.records(TOP_SOURCE, run_id=run_id, shock=shock)
        if not top:
            return None
        source = str(top[0]["source"])
        found = store.records(SOURCE_SCENARIO, run_id=run_id, source=source, shock=shock)
    if not found:
        return None
    scenario = found[0]
    hit = store.records(HIT_COUNTRY, scenario=scenario["scenario"])
    if not hit:
        return None
    return GuideFacts(
        commodity=commodity,
        run_id=run_id,
        mode=str(run.get("mode") or "export"),
        unit=str(run.get("unit") or "t"),
        shock=shock,
        years=tuple(int(y) for y in run.get("years") or ()),
        source=source,
        source_name=_name(store, source),
        scenario=str(scenario["scenario"]),
        year=int(scenario["year"]),
        n_failed=int(scenario["n_failed"] or 0),
        country=str(hit[0]["country"]),
        country_name=str(hit[0]["name"] or hit[0]["country"]),
    )


def explain_plan(store: GraphStore, cypher: str, params: Mapping[str, Any]) -> None:
    """Plan ``cypher`` (a library query) with ``params``' types and run nothing: ``EXPLAIN``
    leaves the plan in the server's query cache, so the query's next run skips planning."""
    with store.driver.session(database=store.database, default_access_mode="READ") as session:
        session.run("EXPLAIN " + cypher, dict(params)).consume()
