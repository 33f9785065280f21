"""Writing validated trade flows and production into the graph, idempotently.

Every load is planned first: the rows already in the graph for the same years and codes are
read back and compared, so only new or changed relationships are written. Loading the same data
twice therefore writes nothing, and a load cut short (Ctrl-C, a server restart) is completed by
running it again. ``--dry-run`` prints the plan and writes nothing.

TRADES carry the flow in gross tonnes and in contained metal: ``metal_t`` = ``tonnes`` x the
factor of the metal-content rule the flow takes (:mod:`critmin.loader.metal`), computed here at
load, with ``metal_factor``, ``metal_form`` and ``metal_version`` (the factor table's version).
A flow without tonnes has ``metal_t`` null (its form is still set); readers impute it from the
value as they impute tonnes. ``metal_version`` is compared like any value, so reloading the same
files after the factor table changed updates every flow's ``metal_t``.

Loading commodity nodes also writes the supply chains of :mod:`critmin.loader.chains` as
``(:Commodity)-[:FEEDS {chain, from_stage, to_stage}]->(:Commodity)``, merged (idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from critmin.loader.chains import load_chains
from critmin.loader.metal import metal_content
from critmin.loader.production_pipeline import release_rank
from critmin.store.graph import DEFAULT_BATCH, GraphStore, neo4j_rows
from critmin.store.scenario_writes import mark_stale_runs
from critmin.store.schema import ensure_schema

MERGE_COUNTRIES = """
UNWIND $rows AS row
MERGE (c:Country {iso3: row.iso3})
  ON CREATE SET c.name = row.name
SET c.name = coalesce(c.name, row.name)
"""

MERGE_COMMODITIES = """
UNWIND $rows AS row
MERGE (m:Commodity {id: row.id})
SET m.name = row.name, m.hs_codes = row.hs_codes,
    m.production_commodity = row.production_commodity
"""

# New rows (absent when the load was planned) are CREATEd: MERGE would scan every TRADES
# relationship of a dense pair of countries to find none. Changed rows are found by the element
# id the plan read them with (under the load lease nothing else writes these relationships):
# matching them by year and HS code between their two countries expanded every TRADES of a
# dense exporter per row, 500-2,200 rows/s on a 2M-row release.
CREATE_TRADES = """
UNWIND $rows AS row
MATCH (e:Country {iso3: row.exporter})
MATCH (i:Country {iso3: row.importer})
CREATE (e)-[:TRADES {year: row.year, hs: row.hs, tonnes: row.tonnes, value_usd: row.value_usd,
                     source: row.source, metal_t: row.metal_t, metal_factor: row.metal_factor,
                     metal_form: row.metal_form, metal_version: row.metal_version}]->(i)
"""

UPDATE_TRADES = """
UNWIND $rows AS row
MATCH ()-[t:TRADES]->() WHERE elementId(t) = row.element_id
SET t.tonnes = row.tonnes, t.value_usd = row.value_usd, t.source = row.source,
    t.metal_t = row.metal_t, t.metal_factor = row.metal_factor, t.metal_form = row.metal_form,
    t.metal_version = row.metal_version
"""

EXISTING_TRADES = """
MATCH (e:Country)-[t:TRADES]->(i:Country)
WHERE t.year IN $years AND t.hs IN $codes
RETURN t.year AS year, e.iso3 AS exporter, i.iso3 AS importer, t.hs AS hs,
       t.tonnes AS tonnes, t.value_usd AS value_usd, t.source AS source,
       t.metal_t AS metal_t, t.metal_factor AS metal_factor, t.metal_form AS metal_form,
       t.metal_version AS metal_version, elementId(t) AS element_id
"""

# Copies of a relationship (left by two loads that ran at once before loads took the load
# lease) are deleted, the first one read is kept and compared like any other.
DELETE_COPIES = """
UNWIND $rows AS row
MATCH ()-[t]->() WHERE elementId(t) = row.element_id
DELETE t
"""

MERGE_FEEDS = """
UNWIND $rows AS row
MATCH (a:Commodity {id: row.upstream})
MATCH (b:Commodity {id: row.downstream})
MERGE (a)-[f:FEEDS {chain: row.chain}]->(b)
SET f.from_stage = row.from_stage, f.to_stage = row.to_stage
"""

# FEEDS of a chain the chain file no longer defines (a stage renamed or removed) go.
DELETE_OLD_FEEDS = """
MATCH (a:Commodity)-[f:FEEDS]->(b:Commodity)
WHERE NOT [f.chain, a.id, b.id] IN $keys
DELETE f
"""

CREATE_PRODUCTION = """
UNWIND $rows AS row
MATCH (c:Country {iso3: row.country})
MATCH (m:Commodity {id: row.commodity})
CREATE (c)-[:PRODUCED {year: row.year, tonnes: row.tonnes, source: row.source}]->(m)
"""

UPDATE_PRODUCTION = """
UNWIND $rows AS row
MATCH ()-[p:PRODUCED]->() WHERE elementId(p) = row.element_id
SET p.tonnes = row.tonnes, p.source = row.source
"""

EXISTING_PRODUCTION = """
MATCH (c:Country)-[p:PRODUCED]->(m:Commodity)
WHERE p.year IN $years AND m.id IN $codes
RETURN p.year AS year, c.iso3 AS country, m.id AS commodity, p.tonnes AS tonnes,
       p.source AS source, elementId(p) AS element_id
"""


@dataclass(frozen=True)
class Kind:
    """How one kind of relationship is keyed, compared and written."""

    name: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    code_column: str
    existing: str
    create: str
    update: str
    #: How recent a row's ``source`` is; a stored row more recent than the loaded one is kept
    #: (None: the loaded row always replaces the stored one).
    precedence: Callable[[str], int] | None = None
    #: Columns computed from the loaded ones before planning (TRADES: contained metal).
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None


def with_metal(flows: pd.DataFrame) -> pd.DataFrame:
    """``flows`` with ``metal_t, metal_factor, metal_form, metal_version`` (the bundled factor
    table's central values)."""
    table = metal_content()
    out = table.annotate(flows)
    out["metal_version"] = table.version
    return out


TRADES = Kind(
    "TRADES",
    ("year", "exporter", "importer", "hs"),
    ("tonnes", "value_usd", "source", "metal_t", "metal_factor", "metal_form", "metal_version"),
    "hs",
    EXISTING_TRADES,
    CREATE_TRADES,
    UPDATE_TRADES,
    derive=with_metal,
)
PRODUCED = Kind(
    "PRODUCED",
    ("year", "country", "commodity"),
    ("tonnes", "source"),
    "commodity",
    EXISTING_PRODUCTION,
    CREATE_PRODUCTION,
    UPDATE_PRODUCTION,
    precedence=release_rank,
)


@dataclass
class LoadPlan:
    """What a load would write: new and changed relationships, and the nodes they need."""

    kind: Kind
    new: pd.DataFrame
    changed: pd.DataFrame
    unchanged: int
    countries: list[dict[str, Any]]
    commodities: list[dict[str, Any]] = field(default_factory=list)
    #: Stored rows newer (by ``kind.precedence``) than the loaded ones, kept as they are.
    kept_newer: int = 0
    #: Element ids of stored copies of a relationship, deleted by the load.
    copies: list[str] = field(default_factory=list)
    #: The changed rows whose quantities differ (not only their ``source``): with the new ones,
    #: what changes the networks, and so the stored runs that read them (marked stale).
    restated: pd.DataFrame | None = None

    @property
    def feeds(self) -> list[dict[str, Any]]:
        """The chains' FEEDS between the commodities this load writes (none without them)."""
        ids = {str(row["id"]) for row in self.commodities}
        return [
            row
            for chain in load_chains().values()
            for row in chain.feeds()
            if row["upstream"] in ids and row["downstream"] in ids
        ]

    @property
    def n_rows(self) -> int:
        return len(self.new) + len(self.changed) + len(self.copies)

    def _rows(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        return neo4j_rows(frame[list(self.kind.keys + self.kind.values)])

    def updates(self) -> list[dict[str, Any]]:
        """The changed rows' new values, each with the element id of the relationship to set."""
        return neo4j_rows(self.changed[["element_id", *self.kind.values]])

    def summary(self) -> str:
        text = (
            f"{self.kind.name}: {len(self.new):,} new, {len(self.changed):,} changed, "
            f"{self.unchanged:,} unchanged"
        )
        if self.kept_newer:
            text += f", {self.kept_newer:,} kept (the stored value is from a newer release)"
        if self.copies:
            text += f", {len(self.copies):,} duplicate copies removed"
        return text

    def statements(self) -> list[tuple[str, int]]:
        """The Cypher a load runs (each with ``$rows`` batches) and how many rows each gets."""
        return [
            (DELETE_COPIES.strip(), len(self.copies)),
            (MERGE_COUNTRIES.strip(), len(self.countries)),
            (MERGE_COMMODITIES.strip(), len(self.commodities)),
            (MERGE_FEEDS.strip(), len(self.feeds)),
            (self.kind.create.strip(), len(self.new)),
            (self.kind.update.strip(), len(self.changed)),
        ]


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    both_missing = a.isna() & b.isna()
    return both_missing | (a == b).fillna(False).astype(bool)


def plan_load(
    store: GraphStore,
    kind: Kind,
    frame: pd.DataFrame,
    countries: Mapping[str, str],
    commodities: list[dict[str, Any]] | None = None,
) -> LoadPlan:
    """Compare validated rows with the graph and return what would change."""
    if kind.derive is not None:
        frame = kind.derive(frame)
    frame = frame[list(kind.keys + kind.values)].reset_index(drop=True)
    existing = store.query(
        kind.existing,
        years=sorted({int(y) for y in frame["year"]}),
        codes=sorted({str(c) for c in frame[kind.code_column]}),
    )
    copies: list[str] = []
    kept_newer = 0
    if existing.empty:
        new, changed, unchanged = frame, frame.iloc[0:0].assign(element_id=""), 0
        restated = frame.iloc[0:0]
    else:
        existing = existing.astype({"year": "int64"})
        repeated = existing.duplicated(list(kind.keys), keep="first")
        copies = [str(x) for x in existing.loc[repeated, "element_id"]]
        existing = existing.loc[~repeated]
        merged = frame.merge(
            existing, on=list(kind.keys), how="left", suffixes=("", "_old"), indicator=True
        )
        is_new = merged["_merge"] == "left_only"
        same = pd.Series(True, index=merged.index)
        for column in kind.values:
            same &= _same(merged[column], merged[f"{column}_old"])
        older = pd.Series(False, index=merged.index)
        if kind.precedence is not None:
            rank = kind.precedence
            stored = merged["source_old"].where(~is_new, "").map(lambda s: rank(str(s)))
            older = ~is_new & ~same & (merged["source"].map(lambda s: rank(str(s))) < stored)
        new = frame[is_new.to_numpy()]
        changes = (~is_new & ~same & ~older).to_numpy()
        changed = frame[changes].assign(element_id=merged.loc[changes, "element_id"].to_numpy())
        same_quantities = pd.Series(True, index=merged.index)
        for column in kind.values:
            if column != "source":
                same_quantities &= _same(merged[column], merged[f"{column}_old"])
        restated = frame[(~is_new & ~same_quantities & ~older).to_numpy()]
        unchanged = int((~is_new & same).sum())
        kept_newer = int(older.sum())
    return LoadPlan(
        kind=kind,
        new=new,
        changed=changed,
        unchanged=unchanged,
        countries=[{"iso3": code, "name": name} for code, name in sorted(countries.items())],
        commodities=commodities or [],
        kept_newer=kept_newer,
        copies=copies,
        restated=restated,
    )


def apply_plan(
    store: GraphStore,
    plan: LoadPlan,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the plan: nodes, then relationships in ``UNWIND`` batches; return rows written.

    When a batch fails or Ctrl-C stops the load, the exception carries a note of how many
    rows were written (each batch whole) and that re-running the load completes it.
    """
    ensure_schema(store)
    done = [0]

    def count(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(n)

    try:
        store.write_batches(
            DELETE_COPIES, [{"element_id": x} for x in plan.copies], batch_size, count
        )
        store.write_batches(MERGE_COUNTRIES, plan.countries, batch_size)
        if plan.commodities:
            store.write_batches(MERGE_COMMODITIES, plan.commodities, batch_size)
            store.write_batches(MERGE_FEEDS, plan.feeds, batch_size)
            keys = [
                [row["chain"], row["upstream"], row["downstream"]]
                for chain in load_chains().values()
                for row in chain.feeds()
            ]
            store.execute(DELETE_OLD_FEEDS, keys=keys)
        written = store.write_batches(
            plan.kind.create, plan._rows(plan.new), batch_size, count, creates=True
        )
        written += store.write_batches(plan.kind.update, plan.updates(), batch_size, count)
    except BaseException as exc:
        exc.add_note(
            f"the load wrote {done[0]:,} of {plan.n_rows:,} {plan.kind.name} rows (new, "
            f"changed and duplicates removed) in whole batches of {batch_size:,} and kept them; "
            "loads are idempotent: re-running the same command writes the rest"
        )
        raise
    restated = plan.changed if plan.restated is None else plan.restated
    touched = pd.concat([plan.new, restated], ignore_index=True)
    mark_stale_runs(store, plan.kind.name, touched)
    return written
