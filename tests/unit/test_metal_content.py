"""The metal-content table, the chain file and the totals check, without a database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from critmin.loader.chains import load_chains, read_chains
from critmin.loader.commodities import CommodityGroup, load_groups
from critmin.loader.errors import InputError
from critmin.loader.files import Source
from critmin.loader.metal import metal_content, read_metal_content
from critmin.loader.reference import check_totals
from critmin.store import networks
from critmin.store.loading import with_metal
from critmin.store.networks import StaleMetal, negative_consumption, read_panel

REFERENCE = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "reference"
    / "baci_cobalt_260500_810520_aggregates_2002_2024.csv"
)
# IUPAC 2021 standard atomic weights (abridged).
CO, LI, OX, H, C = 58.933, 6.94, 15.999, 1.008, 12.011
HEADER = (
    "hs,form,exporters,min_usd_per_kg,max_usd_per_kg,price_anchor,min_price_ratio,"
    "max_price_ratio,factor,low,high,basis,status,source\n"
)


def test_every_code_the_project_knows_has_a_sourced_factor() -> None:
    table = metal_content()
    codes = {c for g in load_groups().values() for c in g.hs_codes}
    codes |= {"810520", "810530", "810590", "750210", "250410", "250490", "380110", "260500"}
    for code in sorted(codes):
        rules = table.rules_for(code)
        assert rules, f"HS {code} has no metal-content factor"
        default = table.rule(code, "XXX")
        assert default is not None and not default.conditional
        for rule in rules:
            assert rule.low <= rule.factor <= rule.high and rule.source and rule.status


def test_stoichiometric_factors() -> None:
    table = metal_content()
    co_oh2 = CO / (CO + 2 * (OX + H))
    li2co3 = 2 * LI / (2 * LI + C + 3 * OX)
    lioh_h2o = LI / (LI + OX + H + 2 * H + OX)
    assert round(co_oh2, 3) == 0.634 == table.rule("282200", "COD").high
    assert round(li2co3, 3) == 0.188 == table.rule("283691", "CHL").factor
    assert round(lioh_h2o, 3) == 0.165 == table.rule("282520", "CHL").factor


def test_mixed_codes_follow_exporter_and_price_rules() -> None:
    flows = pd.DataFrame(
        {
            "year": [2024] * 5,
            "exporter": ["COD", "NAM", "FIN", "ZAF", "CAN"],
            "hs": ["282200", "282200", "282200", "282200", "810520"],
            "tonnes": [100.0, 100.0, 100.0, 100.0, 10.0],
            # USD per kg: 9.5 (the anchor), 8.8, 18.4, 0.45; Canada's metal 30.
            "value_usd": [950_000.0, 880_000.0, 1_840_000.0, 45_000.0, 300_000.0],
        }
    )
    out = metal_content().annotate(flows)
    assert list(out["metal_form"]) == [
        "intermediate",
        "intermediate",
        "chemical",
        "low value",
        "metal",
    ]
    assert list(out["metal_t"].round(3)) == [35.0, 35.0, 72.0, 10.0, 9.9]
    high = metal_content().annotate(flows, "high")
    assert high["metal_t"].iloc[2] == pytest.approx(78.7)
    no_tonnes = flows.assign(tonnes=float("nan"))
    missing = metal_content().annotate(no_tonnes)
    assert missing["metal_t"].isna().all()
    assert list(missing["metal_form"]) == [
        "intermediate",
        "chemical",
        "chemical",
        "chemical",
        "metal",
    ]


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ("2605,ore,COD,,,,,,0.1,0.05,0.2,Co,assumption,x\n", "has no default row"),
        ("2605,ore,,,,,,,0.3,0.05,0.2,Co,assumption,x\n", "low <= factor <= high"),
        ("2605,ore,,,,COD,,,0.1,0.05,0.2,Co,assumption,x\n", "needs a price ratio"),
        ("2605,ore,,,,,,,0.1,0.05,0.2,Co,guess,x\n", "must be one of"),
        ("2605,ore,,,,,,,0.1,0.05,0.2,Co,assumption,\n", "needs its source"),
    ],
)
def test_bad_factor_tables_are_refused(tmp_path: Path, rows: str, reason: str) -> None:
    path = tmp_path / "metal.csv"
    path.write_text(HEADER + rows)
    with pytest.raises(InputError, match=reason):
        read_metal_content(Source(str(path), path))


def test_the_version_follows_the_content(tmp_path: Path) -> None:
    path = tmp_path / "metal.csv"
    path.write_text(HEADER + "2605,ore,,,,,,,0.1,0.05,0.2,Co,assumption,x\n")
    first = read_metal_content(Source(str(path), path)).version
    path.write_text(HEADER + "2605,ore,,,,,,,0.12,0.05,0.2,Co,assumption,x\n")
    assert read_metal_content(Source(str(path), path)).version != first


def test_chains_and_their_feeds() -> None:
    chains = load_chains()
    demo = chains["cobalt_demo"]
    assert [s.commodity for s in demo.stages] == ["cobalt", "cobalt_oxides"]
    assert demo.stages[0].codes == () and demo.stages[1].estimate == "net_exports"
    full = chains["cobalt_chain"].stages
    assert full[0].selects("260500", "ore") and not full[0].selects("810520", "metal")
    assert full[2].selects("810520", "metal") and not full[2].selects("810530", "scrap")
    groups = load_groups()
    assert all(s.commodity in groups for c in chains.values() for s in c.stages)


def test_bad_chain_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "chains.csv"
    path.write_text(
        "chain,stage,commodity,name,hs_codes,production_commodity,estimate,note\n"
        "x,0,a,ore,2605,,,\n"
        "x,1,b,refined,8105:Metal!,,guess,\n"
    )
    with pytest.raises(InputError) as err:
        read_chains(Source(str(path), path))
    text = str(err.value)
    assert "is not HS[:form]" in text and "must be one of mass_balance" in text


def test_negative_consumption_lists_the_flows_that_cause_it() -> None:
    flows = pd.DataFrame(
        {
            "year": [2024] * 4,
            "exporter": ["COD", "ZMB", "ZMB", "ZMB"],
            "importer": ["ZMB", "ZAF", "CHN", "NAM"],
            "quantity": [2714.0, 3242.0, 45.0, 55.0],
        }
    )
    table = negative_consumption(
        flows, pd.DataFrame({"year": [2024], "country": ["COD"], "quantity": [9000.0]}), top=2
    )
    assert table.to_dict("records") == [
        {
            "country": "ZMB",
            "year": 2024,
            "P": 0.0,
            "I": 2714.0,
            "E": 3342.0,
            "D": -628.0,
            "largest_exports": "ZAF 3,242; NAM 55",
        }
    ]


def test_check_totals_against_the_reference_file() -> None:
    ref = pd.read_csv(REFERENCE)
    year = ref[(ref["year"] == 2024) & (ref["hs6"] == 260500)].iloc[0]
    # A load holding the year's world totals in two flows agrees; one missing half does not.
    flows = pd.DataFrame(
        {
            "year": [2024, 2024],
            "hs": ["260500", "260500"],
            "tonnes": [year["world_qty_tonnes"] / 2] * 2,
            "value_usd": [year["world_value_usd"] / 2] * 2,
        }
    )
    checked = check_totals(flows, REFERENCE).set_index(["year", "hs"])
    assert bool(checked.loc[(2024, "260500"), "ok"])
    assert checked.loc[(2024, "260500"), "value_ratio"] == pytest.approx(1.0)
    assert not bool(checked.loc[(2024, "810520"), "ok"])  # nothing loaded for it
    half = check_totals(flows.iloc[:1], REFERENCE).set_index(["year", "hs"])
    assert half.loc[(2024, "260500"), "tonnes_ratio"] == pytest.approx(0.5)


class FakeStore:
    """Answers read_panel's flows and production queries from frames, as Neo4j would."""

    def __init__(self, rows: pd.DataFrame, production: pd.DataFrame) -> None:
        self.rows, self.production = rows, production

    def query(self, cypher: str, **parameters: Any) -> pd.DataFrame:
        if cypher == networks.GROUP_FLOWS:
            return self.rows[self.rows["year"].isin(parameters["years"])].reset_index(drop=True)
        if cypher == networks.GROUP_PRODUCTION:
            return self.production
        raise AssertionError(cypher)


def _stored(rows: list[tuple[str, str, float | None, float]]) -> pd.DataFrame:
    """TRADES rows of 2024 HS 282200 as the loader stores them (contained metal included)."""
    frame = pd.DataFrame(rows, columns=["exporter", "importer", "tonnes", "value_usd"])
    return with_metal(frame.assign(year=2024, hs="282200"))


def test_metal_panels_impute_combine_production_and_list_inconsistencies() -> None:
    rows = _stored(
        [
            ("COD", "CHN", 100.0, 950_000.0),
            ("FIN", "BEL", 10.0, 184_000.0),
            ("COD", "ZAF", None, 9_500.0),  # no tonnes: metal imputed at COD's metal per USD
        ]
    )
    mine = pd.DataFrame({"year": [2024], "country": ["COD"], "quantity": [300.0]})
    store: Any = FakeStore(rows, mine)
    group = CommodityGroup("cobalt_oxides", "Cobalt oxides", ("282200",), "cobalt")
    panel = read_panel(store, group, [2024], "metal")
    assert panel.unit == "t_metal" and "central metal-content factors" in panel.notes[0]
    flows = {(r.exporter, r.importer): r.quantity for r in panel.flows.itertuples()}
    assert flows == pytest.approx({("COD", "CHN"): 35.0, ("FIN", "BEL"): 7.2, ("COD", "ZAF"): 0.35})
    assert panel.imputed_share == {2024: pytest.approx(1 / 3)}
    assert list(panel.production["quantity"]) == [300.0]
    listed = panel.inconsistencies()
    assert listed[["country", "D", "largest_exports"]].to_dict("records") == [
        {"country": "FIN", "D": pytest.approx(-7.2), "largest_exports": "BEL 7"}
    ]
    low = read_panel(store, group, [2024], "metal", content="low")
    assert low.flows["quantity"].sum() == pytest.approx(20.0 + 6.34 + 0.2)
    gross = read_panel(store, group, [2024], "tonnes")
    assert gross.production.empty and "production left out" in gross.notes[0]


def test_metal_loaded_with_another_table_is_refused() -> None:
    rows = _stored([("COD", "CHN", 100.0, 950_000.0)]).assign(metal_version="older")
    store: Any = FakeStore(rows, pd.DataFrame(columns=["year", "country", "quantity"]))
    group = CommodityGroup("cobalt_oxides", "Cobalt oxides", ("282200",), "cobalt")
    with pytest.raises(StaleMetal, match="another table"):
        read_panel(store, group, [2024], "metal")
    # Gross tonnes and USD do not depend on the factors.
    assert read_panel(store, group, [2024], "tonnes").flows["quantity"].sum() == 100.0
