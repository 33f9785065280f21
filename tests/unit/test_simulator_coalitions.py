"""coalition_sweep() and coalition_table(): k-subsets acting together, against simulate()."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pandas as pd
import pytest

from critmin.simulator import Shock, TradeNetwork, simulate, sweep
from critmin.simulator.coalitions import COALITION_COLUMNS, coalition_sweep, coalition_table


def network(rows: list[tuple[str, str, float]], **kwargs: object) -> TradeNetwork:
    flows = pd.DataFrame(rows, columns=["exporter", "importer", "quantity"])
    return TradeNetwork.from_frames(flows, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def web() -> TradeNetwork:
    """Four exporters (A, B, C, E) of different sizes feeding importers that trade on."""
    return network(
        [
            ("A", "X", 80), ("A", "Y", 20), ("B", "X", 30), ("B", "Z", 30), ("C", "Y", 25),
            ("C", "A", 5), ("E", "Z", 10), ("X", "Y", 15), ("Y", "Z", 12), ("Z", "W", 8),
            ("X", "W", 6),
        ]
    )  # fmt: skip


@pytest.fixture
def panel(web: TradeNetwork) -> dict[int, TradeNetwork]:
    """2021 reverses the exporters' sizes, so the top two differ from 2020's."""
    reversed_sizes = network(
        [("A", "X", 5), ("B", "X", 10), ("C", "Y", 50), ("E", "Z", 90), ("X", "Y", 3)]
    )
    return {2020: web, 2021: reversed_sizes}


def test_pairs_run_each_member_alone_then_each_pair(web: TradeNetwork) -> None:
    result = coalition_sweep({2020: web}, k=2, fractions=[1.0, 0.5])
    exporters = ["A", "B", "C", "E", "X", "Y", "Z"]  # every country with exports
    pairs = [";".join(p) for p in itertools.combinations(exporters, 2)]
    for fraction in (1.0, 0.5):
        runs = result.runs[result.runs["fraction"] == fraction]
        assert runs["sources"].tolist() == exporters + pairs
    assert len(result.runs) == 2 * (7 + comb(7, 2))
    assert not result.runs.duplicated(["year", "sources", "fraction"]).any()


def test_coalition_runs_match_simulate_with_every_member_shocked(web: TradeNetwork) -> None:
    result = coalition_sweep(web, k=2, members=["A", "B", "C"], fractions=[0.5])
    runs = result.runs.set_index("sources")
    for pair in itertools.combinations(["A", "B", "C"], 2):
        expected = simulate(web, [Shock(s, 0.5) for s in pair])
        label = ";".join(pair)
        assert runs.loc[label, "n_failed"] == expected.n_failed
        assert runs.loc[label, "initial_shock"] == pytest.approx(expected.initial_shock)
        assert runs.loc[label, "rounds"] == expected.rounds
        impacts = result.impacts[result.impacts["sources"] == label].set_index("country")
        lost = expected.demand_loss[expected.demand_loss > 0]
        np.testing.assert_allclose(impacts["demand_loss"].reindex(lost.index), lost, rtol=1e-12)
    # A coalition's shock is the sum of its members' shocks alone.
    assert runs.loc["A;B", "initial_shock"] == pytest.approx(
        runs.loc["A", "initial_shock"] + runs.loc["B", "initial_shock"]
    )


def test_triples_and_top_n_per_year(panel: dict[int, TradeNetwork]) -> None:
    triples = coalition_sweep(panel, k=3, members=["A", "B", "C", "E"], fractions=[1.0])
    in_2020 = triples.runs.query("year == 2020")["sources"].tolist()
    assert in_2020 == ["A", "B", "C", "E", "A;B;C", "A;B;E", "A;C;E", "B;C;E"]

    top = coalition_sweep(panel, k=2, top=2, fractions=[1.0])
    by_year = top.runs.groupby("year")["sources"].apply(list).to_dict()
    assert by_year == {2020: ["A", "B", "A;B"], 2021: ["C", "E", "C;E"]}


def test_explicit_coalitions_and_an_importer_alliance(web: TradeNetwork) -> None:
    targets = ["X", "Z"]
    result = coalition_sweep(
        {2020: web},
        coalitions=[["B", "A"], ["C", "E", "W"], ("A", "B")],
        targets=targets,
        fractions=[1.0],
    )
    assert result.runs["sources"].tolist() == ["A", "B", "C", "E", "A;B", "C;E"]
    # The same runs through sweep(): the pair together, each member alone, same embargo.
    together = sweep({2020: web}, sources=["A", "B"], together=True, targets=targets, fractions=[1])
    alone = sweep({2020: web}, sources=["A", "B"], targets=targets, fractions=[1.0])
    runs = result.runs.set_index("sources")
    for reference in (together, alone):
        for row in reference.runs.itertuples():
            assert runs.loc[row.sources, "n_failed"] == row.n_failed
            assert runs.loc[row.sources, "initial_shock"] == row.initial_shock
    # W exports nothing: C;E;W runs as C;E. C only exports to Y and A, E only to Z: C cuts
    # nothing under this embargo, the coalition still runs.
    assert runs.loc["C", "initial_shock"] == 0.0
    assert runs.loc["C;E", "initial_shock"] == runs.loc["E", "initial_shock"] == 10.0


def expected_row(net: TradeNetwork, coalition: tuple[str, ...], fraction: float) -> dict:
    """The comparison computed from simulate() alone."""
    outside = [c for c in net.countries if c not in coalition]
    joint = simulate(net, [Shock(s, fraction) for s in coalition])
    solos = [simulate(net, Shock(s, fraction)) for s in coalition]
    failed_alone = [set(r.failed[outside][r.failed[outside]].index) for r in solos]
    union = set().union(*failed_alone)
    failed_joint = set(joint.failed[joint.failed].index)
    return {
        "initial_shock": joint.initial_shock,
        "n_failed": joint.n_failed,
        "n_failed_sum": sum(len(f) for f in failed_alone),
        "n_failed_union": len(union),
        "newly_failed": len(failed_joint - union),
        "demand_loss": float(joint.demand_loss[outside].sum()),
        "demand_loss_sum": float(sum(r.demand_loss[outside].sum() for r in solos)),
    }


def test_coalition_table_against_simulate(web: TradeNetwork) -> None:
    result = coalition_sweep({2020: web}, k=2, members=["A", "B", "C", "E"])
    table = coalition_table(result)
    assert list(table.columns) == COALITION_COLUMNS
    assert len(table) == 2 * comb(4, 2)
    assert table["fraction"].tolist() == [1.0] * 6 + [0.5] * 6
    for row in table.to_dict("records"):
        coalition = tuple(row["coalition"].split(";"))
        expected = expected_row(web, coalition, row["fraction"])
        assert row["year"] == 2020 and row["members"] == 2
        for column in ("n_failed", "n_failed_sum", "n_failed_union", "newly_failed"):
            assert row[column] == expected[column], (coalition, column)
        for column in ("initial_shock", "demand_loss", "demand_loss_sum"):
            assert row[column] == pytest.approx(expected[column], rel=1e-9, abs=1e-9)
        assert row["n_failed_added"] == row["n_failed"] - row["n_failed_sum"]
        assert row["demand_loss_added"] == pytest.approx(
            row["demand_loss"] - row["demand_loss_sum"]
        )
    # Something is actually compared: some pair changes who fails or who loses.
    assert (table["n_failed_added"] != 0).any()
    assert (table["demand_loss_added"].abs() > 1e-9).any()


def test_coalition_table_conserves_the_loss(web: TradeNetwork) -> None:
    """Loss is conserved, so what non-members lose more together, members lose less."""
    result = coalition_sweep(web, k=3, fractions=[1.0])
    table = coalition_table(result).set_index("coalition")
    loss = result.impacts.groupby("sources")["demand_loss"].sum()
    for coalition, row in table.iterrows():
        members = coalition.split(";")
        joint = result.impacts[result.impacts["sources"] == coalition].set_index("country")
        members_joint = joint["demand_loss"].reindex(members).fillna(0).sum()
        assert loss[coalition] == pytest.approx(row["initial_shock"])
        assert row["demand_loss"] + members_joint == pytest.approx(row["initial_shock"])
    assert (table["members"] == 3).all()
    assert (table["year"].isna()).all()  # a single network has no year


def test_coalition_sweep_rejects_bad_input(panel: dict[int, TradeNetwork]) -> None:
    for bad in ({"k": 1}, {"k": True}, {"k": 2.0}, {"top": 1}, {"top": "3"}):
        with pytest.raises(ValueError, match=r"(k|top) must"):
            coalition_sweep(panel, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="none of the networks: QQQ"):
        coalition_sweep(panel, members=["A", "QQQ"])
    with pytest.raises(ValueError, match="not both"):
        coalition_sweep(panel, coalitions=[["A", "B"]], top=3)
    with pytest.raises(ValueError, match="two ISO3 codes or more"):
        coalition_sweep(panel, coalitions=[["A"]])
    with pytest.raises(ValueError, match="nothing to sweep"):
        coalition_sweep(panel, members=["A", "W"])  # W exports nothing in any year
    with pytest.raises(TypeError):
        coalition_sweep(panel, engine="reference")
    with pytest.raises(ValueError, match="executor must be"):
        coalition_sweep(panel, executor="threads")


def test_coalition_table_needs_coalitions_and_their_members(
    panel: dict[int, TradeNetwork],
) -> None:
    with pytest.raises(ValueError, match="no coalition runs"):
        coalition_table(sweep(panel))
    with pytest.raises(ValueError, match="member run"):
        coalition_table(sweep(panel, sources=["A", "B"], together=True))
