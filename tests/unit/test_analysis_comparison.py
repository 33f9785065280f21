"""Before/after measures of a scenario, rerun on a network served by a fake store (no database).

The network is docs/model.md's worked example: A ships 100 t to B, B ships 50 t to C, A produces
100 t. Its final flows follow from the model's invariants: with A's exports cut completely B
cuts its only export, so nothing flows; with half of them cut, C ends with L_C = 38.095 t less
demand (its only import) and B's imports stay 50 t (A, the source, is never asked for more).
"""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
import pytest

from critmin.analysis.comparison import (
    ScenarioRun,
    compare,
    find_runs,
    load_run,
    save_measures,
)
from critmin.loader.commodities import CommodityGroup
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import NoScenarios
from critmin.store.scenario_writes import METRIC_KEYS, SAVE_METRICS

GROUP = CommodityGroup("cobalt", "Cobalt", ("2605", "8105"), "cobalt")
FLOWS = pd.DataFrame(
    {
        "year": [2020, 2020, 2020, 2020],
        "exporter": ["A", "B", "B", "A"],
        "importer": ["B", "C", "C", "B"],
        "hs": ["2605", "8105", "2605", "8105"],
        "tonnes": [60.0, 30.0, 20.0, 40.0],
        "value_usd": [1.0, 1.0, 1.0, 1.0],
    }
)
PRODUCTION = pd.DataFrame({"year": [2020], "country": ["A"], "quantity": [100.0]})


def stored(shock: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"sc_{shock}",
        "commodity": "cobalt",
        "year": 2020,
        "sources": ["A"],
        "shock": shock,
        "targets": [],
        "unit": "t",
        "mode": "export",
        "alpha": 0.8,
        "fail_abs": 1e-3,
        "n_failed": 2,
        **extra,
    }


class FakeStore:
    """Answers the reads of ``compare`` and records the writes."""

    def __init__(self, scenarios: list[dict[str, Any]], metrics_keys: tuple[str, ...] = ()) -> None:
        self.scenarios = scenarios
        self.metrics_keys = list(metrics_keys)
        self.written: list[dict[str, Any]] = []
        self.schema_checked = True  # a fake graph has no schema version to check

    @property
    def store(self) -> GraphStore:
        return cast(GraphStore, self)

    def query(self, cypher: str, **params: Any) -> pd.DataFrame:
        return PRODUCTION if "PRODUCED" in cypher else FLOWS

    def records(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        if cypher == METRIC_KEYS:
            return [{"keys": self.metrics_keys}]
        wanted = [s for s in self.scenarios if s["id"] == params.get("id", s["id"])]
        return [{"props": s} for s in wanted if params.get("shock", s["shock"]) == s["shock"]]

    def execute(self, cypher: str, **params: Any) -> None:
        assert cypher == SAVE_METRICS
        self.written.append(params)


def test_measures_after_a_complete_and_a_half_cut() -> None:
    store = FakeStore([stored(1.0), stored(0.5)]).store
    runs = [load_run(store, "sc_1.0"), *find_runs(store, "cobalt", 2020, "A", 0.5)]
    comparison = compare(store, GROUP, 2020, runs)
    assert comparison.unit == "t" and comparison.notes == []
    before = comparison.before
    assert (before.countries, before.links, before.total_weight) == (3, 2, 150.0)
    emptied = comparison.after["after 100% A"]
    assert (emptied.countries, emptied.links, emptied.total_weight) == (0, 0, 0.0)
    half = comparison.after["after 50% A"]
    assert (half.countries, half.links) == (3, 2)
    assert half.total_weight == pytest.approx(50.0 + (50.0 - 38.095238), abs=1e-5)
    table = comparison.table().set_index("measure")
    assert list(table.columns) == ["unit", "description", "before", "after 100% A", "after 50% A"]


def test_a_rerun_that_disagrees_with_the_stored_run_is_reported() -> None:
    store = FakeStore([stored(1.0, n_failed=5, data_version="old")]).store
    comparison = compare(store, GROUP, 2020, [load_run(store, "sc_1.0")])
    assert any("computed from other data (data_version old" in n for n in comparison.notes)
    assert any("the rerun fails 2 countries, the stored run 5" in n for n in comparison.notes)


def test_an_unstored_run_uses_defaults_and_says_so() -> None:
    fresh = ScenarioRun("cobalt", 2020, ("A",), 1.0, {"mode": "export"})
    comparison = compare(FakeStore([]).store, GROUP, 2020, [fresh])
    assert comparison.after["after 100% A"].links == 0
    assert "no stored scenario; run with default parameters" in comparison.notes[0]


def test_runs_of_another_year_or_unit_are_refused() -> None:
    store = FakeStore([stored(1.0), stored(0.5, unit="USD")]).store
    with pytest.raises(ValueError, match="is cobalt 2020, not cobalt 2021"):
        compare(store, GROUP, 2021, [load_run(store, "sc_1.0")])
    with pytest.raises(ValueError, match="different units"):
        compare(store, GROUP, 2020, [load_run(store, "sc_1.0"), load_run(store, "sc_0.5")])
    with pytest.raises(NoScenarios, match="no scenario 'sc_x'"):
        load_run(store, "sc_x")


def test_stored_parameters_and_targets_define_the_rerun() -> None:
    run = ScenarioRun.from_properties(stored(0.5, targets=["C"], absorb=0.1, created_at="x"))
    assert dict(run.parameters) == {"alpha": 0.8, "absorb": 0.1, "fail_abs": 1e-3, "mode": "export"}
    [shock] = run.shocks()
    assert (shock.source, shock.fraction, shock.targets) == ("A", 0.5, ("C",))


def test_saving_replaces_earlier_measures() -> None:
    fake = FakeStore([stored(1.0)], metrics_keys=("metrics_after_total_weight_usd",))
    comparison = compare(fake.store, GROUP, 2020, [load_run(fake.store, "sc_1.0")])
    comparison.runs["unstored"] = ScenarioRun("cobalt", 2020, ("B",), 1.0, {})
    assert save_measures(fake.store, comparison) == ["sc_1.0"]
    [written] = fake.written
    props = written["props"]
    assert written["id"] == "sc_1.0"
    assert props["metrics_after_total_weight_usd"] is None  # stale: removed
    assert props["metrics_before_total_weight_t"] == 150.0
    assert props["metrics_after_links"] == 0 and props["metrics_engine"] == "reference"
