"""Values the first loaders stored although no real file has them (the hardening audit).

Each test here failed on the loaders before: the number was stored (as Infinity, as 1700, as a
null, as a new commodity) instead of being refused with the file, row, column and value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from critmin.loader import InputError, read_production, read_trades
from critmin.units import Unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
USGS_HEADER = "Source,Country,Type,Prod_kt_2022,Prod_kt_est_2023\n"


def refused(paths: object, reader: object = read_trades) -> InputError:
    with pytest.raises(InputError) as err:
        reader(paths)  # type: ignore[operator]
    return err.value


def test_baci_value_that_overflows_when_scaled(tmp_path: Path) -> None:
    # 1e308 thousand USD is finite; times 1000 it is Infinity, which was stored.
    baci = tmp_path / "BACI_HS17_Y2022_V202601.csv"
    baci.write_text("t,i,j,k,v,q\n2022,180,156,260500,1e308,2000.5\n")
    err = refused(baci)
    assert (err.row, err.column, err.value) == (2, "v", "1e308")
    assert "overflow" in err.reason and "USD" in err.reason


def test_usgs_kilotonnes_above_any_production(tmp_path: Path) -> None:
    path = tmp_path / "mcs2024-nicke_world.csv"
    path.write_text(USGS_HEADER + 'MCS2024,Australia,"Mine production, nickel",1e308,160\n')
    err = refused(path, read_production)
    assert (err.row, err.column, err.value) == (2, "Prod_kt_2022", "1e308")


def test_plain_csv_values_above_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(
        "year,exporter,importer,hs,tonnes,value_usd\n"
        f"2023,COD,CHN,260500,{Unit.TONNES.max_flow * 2:g},1000\n"
        f"2023,ZAF,CHN,260500,5,{Unit.USD.max_flow * 2:g}\n"
    )
    err = refused(path)
    assert {(p.row, p.column) for p in err.problems} == {(2, "tonnes"), (3, "value_usd")}
    assert "1e+10 tonnes" in str(err) and "1e+13 USD" in str(err)


def test_comtrade_weight_above_the_bound(tmp_path: Path) -> None:
    lines = (FIXTURES / "comtrade_synthetic_2022.csv").read_text().splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("netWgt")] = "1e308"
    path = tmp_path / "comtrade.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    err = refused(path)
    assert (err.row, err.column, err.value) == (2, "netWgt", "1e308")


def test_flow_with_neither_tonnes_nor_value(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(
        "year,exporter,importer,hs,tonnes,value_usd\n2023,COD,CHN,260500,5,10\n"
        "2023,ZAF,CHN,260500,NA,\n"
    )
    err = refused(path)
    assert err.row == 3 and "neither a quantity nor a value" in err.reason


def test_misplaced_thousands_separators(tmp_path: Path) -> None:
    path = tmp_path / "mcs2024-cobal_world.csv"
    path.write_text(
        "Source,Country,Type,Prod_t_2022,Prod_t_est_2023\n"
        'MCS2024,Cuba,"Mine production, cobalt","1,7,0,0","3,800"\n'
    )
    err = refused(path, read_production)
    assert (err.column, err.value) == ("Prod_t_2022", "1,7,0,0")
    assert "thousands separators" in err.reason


def test_owid_nan_and_na_are_both_skipped(tmp_path: Path) -> None:
    path = tmp_path / "owid.csv"
    path.write_text(
        "entity,code,year,production_cobalt_mine_tonnes\n"
        "Australia,AUS,2020,5630\nCuba,CUB,2020,nan\nZambia,ZMB,2020,NA\n"
    )
    data = read_production(path)
    assert data.production["country"].tolist() == ["AUS"]  # no null tonnes stored
    assert sorted(data.skipped["country"]) == ["CUB", "ZMB"]


def test_owid_column_of_an_unknown_commodity_is_not_a_new_commodity(tmp_path: Path) -> None:
    path = tmp_path / "owid.csv"
    path.write_text(
        "entity,code,year,production_cobalt_mine_tonnes,production_unobtainium_mine_tonnes\n"
        "Australia,AUS,2020,5630,12\n"
    )
    data = read_production(path)
    assert set(data.production["commodity"]) == {"cobalt"}
    assert any("production_unobtainium_mine_tonnes" in note for note in data.notes)


def test_a_huge_cell_is_not_echoed_whole(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(
        "year,exporter,importer,hs,tonnes,value_usd\n"
        + "2023,COD,CHN,260500,"
        + "9" * 1_000_000
        + "x,5\n"
    )
    message = str(refused(path))
    assert len(message) < 1_000 and "(1,000,001 characters)" in message
