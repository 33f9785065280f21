"""Every validation error names the file, the row and the value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from critmin.loader import InputError, read_production, read_trades
from critmin.loader.errors import MAX_SHOWN, Problem

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
HEADER = "year,exporter,importer,hs,tonnes,value_usd\n"
GOOD = "2023,COD,CHN,260500,41230.5,512000000\n"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def raised(paths: object, reader: object = read_trades, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as err:
        reader(paths, **kwargs)  # type: ignore[operator]
    return err.value


def test_plain_csv_reads(tmp_path: Path) -> None:
    path = write(tmp_path, "flows.csv", HEADER + GOOD + "2023,ZAF,CHN,260500,,1250000\n")
    flows = read_trades(path).flows
    assert list(flows.columns) == [
        "year",
        "exporter",
        "importer",
        "hs",
        "tonnes",
        "value_usd",
        "source",
    ]
    assert set(flows.source) == {"csv:flows.csv"}
    assert flows.tonnes.isna().sum() == 1


def test_message_format_negative_quantity(tmp_path: Path) -> None:
    partners = [
        "NAM",
        "ZMB",
        "ZAF",
        "CHN",
        "BEL",
        "FIN",
        "JPN",
        "KOR",
        "USA",
        "IND",
        "DEU",
        "FRA",
        "GBR",
        "CAN",
        "MAR",
    ]
    text = "year,exporter,exporter_name,importer,importer_name,hs6,material,value_kusd,qty_t\n"
    text += "".join(f"2024,COD,Congo,{iso},x,282200,cobalt,1.5,2\n" for iso in partners)
    text += "2024,COD,Congo,NOR,Norway,282200,cobalt,10,-3\n"  # line 17
    path = write(tmp_path, "x.csv", text)
    err = raised(path)
    assert str(err) == (
        f"{path}, row 17, column 'qty_t': value '-3' is negative (quantities must be >= 0)"
    )
    assert (err.path, err.row, err.column, err.value) == (str(path), 17, "qty_t", "-3")


def test_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "year,exporter,importer,hs,tonnes\n" + GOOD)
    err = raised(path, read_trades, format="csv")
    assert err.row == 1 and "missing column 'value_usd'" in str(err)


def test_not_a_number_and_bad_years(tmp_path: Path) -> None:
    text = HEADER + "2023,COD,CHN,260500,12t,5\n20x4,COD,ZMB,260500,1,5\n1850,COD,ZAF,2605,1,5\n"
    err = raised(write(tmp_path, "f.csv", text))
    found = {(p.row, p.column, p.value) for p in err.problems}
    assert found == {(2, "tonnes", "12t"), (3, "year", "20x4"), (4, "year", "1850")}
    assert "3 problems" in str(err) and "is not a number" in str(err)
    assert re.search(r"row 4, column 'year': value '1850' is outside 1900-\d{4}", str(err))


def test_fractional_year(tmp_path: Path) -> None:
    err = raised(write(tmp_path, "f.csv", HEADER + "2023.5,COD,CHN,260500,1,5\n"))
    assert (err.row, err.value) == (2, "2023.5") and "whole year" in err.reason


def test_duplicate_flow(tmp_path: Path) -> None:
    err = raised(write(tmp_path, "f.csv", HEADER + GOOD + "2023,ZAF,CHN,260500,1,2\n" + GOOD))
    assert err.row == 4 and err.value == "2023, COD, CHN, 260500"
    assert "repeats the flow (year, exporter, importer, hs) of row 2" in str(err)


def test_self_flow_is_an_error(tmp_path: Path) -> None:
    err = raised(write(tmp_path, "f.csv", HEADER + "2023,CHN,CHN,260500,1,2\n"))
    assert (err.row, err.value) == (2, "CHN") and "does not trade with itself" in err.reason


def test_unknown_iso3(tmp_path: Path) -> None:
    err = raised(write(tmp_path, "f.csv", HEADER + GOOD + "2023,XXX,CHN,260500,1,2\n"))
    assert (err.row, err.column, err.value) == (3, "exporter", "XXX")
    data = read_trades(
        write(tmp_path, "g.csv", HEADER + GOOD + "2023,XXX,CHN,260500,1,2\n"),
        unmapped_tolerance=0.5,
    )
    assert data.unmapped.to_dict("records") == [
        {
            "file": str(tmp_path / "g.csv"),
            "code": "XXX",
            "rows": 1,
            "value_usd": 2.0,
            "reason": "unknown code",
        }
    ]
    with pytest.raises(ValueError, match="between 0 and 1"):
        read_trades(tmp_path / "g.csv", unmapped_tolerance=5)


def test_bad_hs_code(tmp_path: Path) -> None:
    err = raised(write(tmp_path, "f.csv", HEADER + "2023,COD,CHN,TOTAL,1,2\n"))
    assert (err.row, err.column, err.value) == (2, "hs", "TOTAL")


def test_wrong_encoding_names_offset_row_and_encoding(tmp_path: Path) -> None:
    header = HEADER.replace("\n", ",note\n")
    text = header + GOOD.replace("\n", ",\n") + "2023,COD,ZMB,260500,1,2,Statistics—United\n"
    path = write(tmp_path, "f.csv", text.encode("cp1252"))
    err = raised(path)
    offset = text.encode("cp1252").index(b"\x97")
    assert err.row == 3
    assert f"not valid UTF-8 (byte 0x97 at byte offset {offset})" in err.reason
    assert "cp1252" in err.reason and "iconv" in err.reason
    assert "Statistics—United" in str(err.value)


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    assert "is empty" in str(raised(write(tmp_path, "empty.csv", "")))
    err = raised(write(tmp_path, "header.csv", HEADER))
    assert "no data rows" in str(err) and err.path == str(tmp_path / "header.csv")


def test_too_many_fields(tmp_path: Path) -> None:
    err = raised(write(tmp_path, "f.csv", HEADER + GOOD + "2023,COD,ZMB,260500,1,2,3,4\n"))
    assert err.row == 3 and "cannot be parsed" in err.reason


def test_unrecognised_header(tmp_path: Path) -> None:
    err = raised(write(tmp_path, "f.csv", "a,b,c\n1,2,3\n"))
    assert "cannot tell the input format" in str(err) and "format=" in str(err)


def test_missing_path_and_bad_zip(tmp_path: Path) -> None:
    assert "file not found" in str(raised(tmp_path / "nope.csv"))
    assert "not a readable zip" in str(raised(write(tmp_path, "bad.zip", b"not a zip")))


def test_salient_and_aggregates_are_refused_with_what_they_are() -> None:
    salient = DATA / "reference" / "mcs2023-cobal_salient.csv"
    err = raised(salient, read_production)
    assert "USGS salient statistics" in str(err) and "_world.csv" in str(err)
    aggregates = DATA / "reference" / "baci_cobalt_260500_810520_aggregates_2002_2024.csv"
    err = raised(aggregates)
    assert "reference totals" in str(err) and "not bilateral flows" in str(err)
    err = raised(DATA / "reference" / "country_codes_V202601.csv")
    assert "country_codes=" in str(err)


def test_folder_skips_non_inputs_with_notes() -> None:
    data = read_production([DATA / "reference", DATA / "production" / "mcs2022-cobal_world.csv"])
    assert len(data.production) == 24
    assert any("salient" in note for note in data.notes)


def test_production_file_given_to_read_trades() -> None:
    err = raised(DATA / "production" / "owid_cobalt_mine_production.csv")
    assert "load it with `critmin load production` (read_production in Python)" in str(err)
    err = raised(DATA / "trade" / "baci_hs17_v202601_2024_battery_subset.csv", read_production)
    assert "load it with `critmin load trades` (read_trades in Python)" in str(err)


def test_many_problems_one_error(tmp_path: Path) -> None:
    rows = "".join(f"2023,COD,CHN,{2600 + i},-{i + 1},5\n" for i in range(25))
    err = raised(write(tmp_path, "f.csv", HEADER + rows))
    assert err.total == 25 and len(err.problems) == MAX_SHOWN
    assert "25 problems" in str(err) and "... and 15 more" in str(err)
    assert all(isinstance(p, Problem) and p.row for p in err.problems)


def test_files_that_disagree(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", HEADER + GOOD)
    b = write(tmp_path, "b.csv", HEADER + GOOD.replace("512000000", "600000000"))
    err = raised([a, b])
    assert "load one source per year and HS code" in str(err)
    assert len(read_trades([a, a]).flows) == 1  # the same flow twice, agreeing


# -- production --------------------------------------------------------------------------

USGS_HEADER = "Source,Country,Type,Prod_t_2022,Prod_t_est_2023\n"


def test_production_unknown_country(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mcs2024-cobal_world.csv",
        USGS_HEADER + 'MCS2024,Atlantis,"Mine production, cobalt",5,6\n',
    )
    err = raised(path, read_production)
    assert (err.row, err.column, err.value) == (2, "Country", "Atlantis")
    assert "country_aliases.csv" in err.reason


def test_production_bad_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mcs2024-cobal_world.csv",
        USGS_HEADER + 'MCS2024,Cuba,"Mine production, cobalt",-5,1.2.3\n',
    )
    err = raised(path, read_production)
    found = {(p.row, p.column, p.value) for p in err.problems}
    assert found == {(2, "Prod_t_2022", "-5"), (2, "Prod_t_est_2023", "1.2.3")}


def test_production_duplicate_in_one_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mcs2024-cobal_world.csv",
        USGS_HEADER
        + 'MCS2024,Cuba,"Mine production, cobalt",5,6\n'
        + 'MCS2024,Cuba ,"Mine production, cobalt",7,8\n',
    )
    err = raised(path, read_production)
    assert err.row == 3 and "repeats the production" in err.reason and "of row 2" in err.reason


def test_same_release_in_two_files_must_agree(tmp_path: Path) -> None:
    one = write(
        tmp_path,
        "mcs2024-cobal_world.csv",
        USGS_HEADER + 'MCS2024,Cuba,"Mine production, cobalt",5,6\n',
    )
    other = tmp_path / "copy"
    other.mkdir()
    two = write(
        other,
        "mcs2024-cobal_world.csv",
        USGS_HEADER + 'MCS2024,Cuba,"Mine production, cobalt",5,7\n',
    )
    err = raised([one, two], read_production)
    assert "same release" in str(err)
