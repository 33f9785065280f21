"""read_trades on the real bundled sample, synthetic BACI files (plain and zipped) and Comtrade."""

from __future__ import annotations

import gzip
import math
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from critmin.loader import InputError, TradeData, read_trades
from critmin.loader.countries import CountryCodes

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
FIXTURES = ROOT / "tests" / "fixtures"
SUBSET = DATA / "trade" / "baci_hs17_v202601_2024_battery_subset.csv"
ATLAS = DATA / "trade" / "atlas_topflows_2002_2024_cobalt_282200.csv"
BACI = FIXTURES / "baci_synthetic_Y2022_V202601.csv"
COMTRADE = FIXTURES / "comtrade_synthetic_2022.csv"
COMTRADE_MORE = FIXTURES / "comtrade_synthetic_2022_more.csv"


def flow(data: TradeData, exporter: str, importer: str, year: int, hs: str) -> pd.Series:
    f = data.flows
    rows = f[(f.exporter == exporter) & (f.importer == importer) & (f.year == year) & (f.hs == hs)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.fixture(scope="module")
def subset() -> TradeData:
    return read_trades(SUBSET)


@pytest.fixture(scope="module")
def atlas() -> TradeData:
    return read_trades(ATLAS)


@pytest.fixture(scope="module")
def sample() -> TradeData:
    return read_trades(DATA / "trade")


def test_subset_first_row_exact(subset: TradeData) -> None:
    row = flow(subset, "COD", "NAM", 2024, "282200")
    assert row.tonnes == 14455.5
    assert row.value_usd == 142_296_512.0
    assert row.source == "CEPII BACI V202601"


def test_subset_counts_and_dtypes(subset: TradeData) -> None:
    f = subset.flows
    assert len(f) == 3490
    assert f.groupby("hs").size().to_dict() == {
        "250490": 611,
        "282200": 603,
        "283691": 677,
        "750210": 983,
        "811292": 616,
    }
    assert str(f.dtypes["year"]) == "int64"
    assert f.dtypes["tonnes"] == "float64" and f.dtypes["value_usd"] == "float64"
    for column in ("exporter", "importer", "hs", "source"):
        assert pd.api.types.is_string_dtype(f[column])
    assert f["tonnes"].isna().sum() == 163  # blanks stay missing, not zero
    assert list(subset.countries.columns) == ["iso3", "name"]
    assert subset.unmapped.empty


def test_subset_taiwan_s19_is_twn(subset: TradeData) -> None:
    codes = set(subset.flows.exporter) | set(subset.flows.importer)
    assert "TWN" in codes and "S19" not in codes
    names = dict(zip(subset.countries.iso3, subset.countries.name, strict=True))
    assert names["TWN"] == "Taiwan"
    assert names["CIV"] == "Côte d'Ivoire"  # the file's "CÃ´te" is not used for names


def test_atlas_namibia_na_is_nam(atlas: TradeData) -> None:
    row = flow(atlas, "COD", "NAM", 2024, "282200")
    assert row.value_usd == 142_296_512.0 and row.tonnes == 14456.0
    assert (atlas.flows.exporter == "NAM").sum() > 0
    namibia_2020 = flow(atlas, "NAM", "FIN", 2020, "282200")
    assert namibia_2020.value_usd == 35_005_377.0 and math.isnan(namibia_2020.tonnes)


def test_atlas_shapes(atlas: TradeData) -> None:
    f = atlas.flows
    assert len(f) == 11147
    assert f.year.min() == 2002 and f.year.max() == 2024
    assert f.loc[f.year < 2024, "tonnes"].isna().all()
    assert f.loc[f.year == 2024, "tonnes"].notna().all()
    assert "TWN" in set(f.exporter) and "SCG" in set(f.importer)  # TW and CS (2002-2005)
    assert set(f.source) == {"CEPII BACI (atlas top flows)"}


def test_sample_folder_keeps_overlap_once(sample: TradeData) -> None:
    assert len(sample.flows) == 3490 + 11147 - 483
    assert not sample.flows.duplicated(["year", "exporter", "importer", "hs"]).any()
    kept = flow(sample, "COD", "NAM", 2024, "282200")
    assert kept.tonnes == 14455.5  # the precise subset wins over the rounded atlas
    assert any("483 flows" in note for note in sample.notes)


def test_report_lines(sample: TradeData) -> None:
    text = "\n".join(sample.report())
    assert "14,154 flows" in text
    assert "2024 282200: 603 flows" in text
    assert "unmapped codes: none" in text


def test_hs_filter(subset: TradeData) -> None:
    cobalt = read_trades(SUBSET, hs=["2822"])
    assert set(cobalt.flows.hs) == {"282200"} and len(cobalt.flows) == 603
    with pytest.raises(InputError, match="no flows for HS 2605"):
        read_trades(SUBSET, hs=["2605"])


def test_format_override_and_unknown_format() -> None:
    assert len(read_trades(SUBSET, "baci-subset").flows) == 3490
    with pytest.raises(ValueError, match="unknown trade format 'bacci'"):
        read_trades(SUBSET, "bacci")


# -- BACI t,i,j,k,v,q -------------------------------------------------------------------


def test_baci_plain_file_values() -> None:
    data = read_trades(BACI, unmapped_tolerance=0.2)
    row = flow(data, "COD", "NAM", 2022, "282200")
    assert row.value_usd == 142_296_512.0 and row.tonnes == 14455.5
    assert math.isnan(flow(data, "NAM", "CHN", 2022, "282200").tonnes)  # "          NA"
    assert math.isnan(flow(data, "ZMB", "ZAF", 2022, "282200").tonnes)  # empty
    assert flow(data, "TWN", "JPN", 2022, "810520").value_usd == 12_500.0  # 490 is Taiwan
    assert flow(data, "BEL", "DEU", 2022, "010121").tonnes == 1.0  # k 10121 padded
    assert set(data.flows.source) == {"CEPII BACI V202601"}
    unmapped = data.unmapped.set_index("code")
    assert unmapped.loc["9999", "reason"] == "unknown code"
    assert unmapped.loc["0", "reason"] == "aggregate: World"
    assert unmapped.loc["0", "value_usd"] == 10_000.0


def test_baci_unknown_code_beyond_tolerance_names_file_row_value() -> None:
    with pytest.raises(InputError) as err:
        read_trades(BACI)
    assert err.value.row == 9 and err.value.column == "i" and err.value.value == "9999"
    assert str(BACI) in str(err.value) and "unmapped_tolerance" in str(err.value)


def _baci_zip(tmp_path: Path, with_dictionary: bool) -> Path:
    archive = tmp_path / "BACI_HS17_V202601.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(BACI, "BACI_HS17_V202601/BACI_HS17_Y2022_V202601.csv")
        if with_dictionary:
            z.write(
                FIXTURES / "baci_synthetic_country_codes.csv",
                "BACI_HS17_V202601/country_codes_V202601.csv",
            )
        z.writestr(
            "BACI_HS17_V202601/product_codes_HS17_V202601.csv", "code,description\n010121,Horses\n"
        )
    return archive


def test_baci_zip_reads_its_own_country_codes(tmp_path: Path) -> None:
    data = read_trades(_baci_zip(tmp_path, with_dictionary=True))
    assert flow(data, "XTL", "CHN", 2022, "282200").value_usd == 7000.0
    names = dict(zip(data.countries.iso3, data.countries.name, strict=True))
    assert names["XTL"] == "Testland (synthetic)" and names["TWN"] == "Taiwan"
    assert len(data.flows) == 7


def test_baci_zip_without_dictionary_uses_argument(tmp_path: Path) -> None:
    archive = _baci_zip(tmp_path, with_dictionary=False)
    with pytest.raises(InputError, match="9999"):
        read_trades(archive)
    data = read_trades(archive, country_codes=FIXTURES / "baci_synthetic_country_codes.csv")
    assert "XTL" in set(data.flows.exporter)


# -- UN Comtrade -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def comtrade() -> TradeData:
    return read_trades([COMTRADE, COMTRADE_MORE])


def test_comtrade_importer_report_preferred(comtrade: TradeData) -> None:
    row = flow(comtrade, "COD", "CHN", 2022, "260500")
    assert row.value_usd == 1_000_000.0  # China's CIF import, not the DRC's FOB 900,000
    assert row.tonnes == 5000.0  # netWgt kg -> t; the sea-transport breakdown is not added
    assert row.source == "UN Comtrade (importer)"


def test_comtrade_exporter_fallback_and_qty_in_kg(comtrade: TradeData) -> None:
    row = flow(comtrade, "ZMB", "ZAF", 2022, "260500")
    assert row.source == "UN Comtrade (exporter)"
    assert row.value_usd == 200_000.0 and row.tonnes == 150.0  # qty with qtyUnitCode 8 (kg)


def test_comtrade_taiwan_world_and_nes(comtrade: TradeData) -> None:
    assert flow(comtrade, "COD", "TWN", 2022, "260500").tonnes == 10.0
    reasons = dict(zip(comtrade.unmapped.code, comtrade.unmapped.reason, strict=True))
    assert reasons == {"0": "aggregate: World", "899": "aggregate: Areas, nes"}
    assert "World" not in set(comtrade.countries.name)


def test_comtrade_reexports_only_when_alone(comtrade: TradeData) -> None:
    assert flow(comtrade, "BEL", "FIN", 2022, "260500").source == (
        "UN Comtrade (exporter, re-export)"
    )
    assert flow(comtrade, "NLD", "DEU", 2022, "260500").value_usd == 60_000.0  # X, not RX


def test_comtrade_tonnes_from_mirror(comtrade: TradeData) -> None:
    row = flow(comtrade, "PHL", "JPN", 2022, "260500")
    assert row.value_usd == 70_000.0 and row.tonnes == 300.0
    assert row.source == "UN Comtrade (importer; tonnes from exporter)"


def test_comtrade_set_aside_rows_and_second_file(comtrade: TradeData) -> None:
    assert flow(comtrade, "COD", "KOR", 2022, "260500").tonnes == 250.0
    assert len(comtrade.flows) == 7
    assert "USA" not in set(comtrade.flows.exporter)  # self re-import and DX set aside
    notes = "\n".join(comtrade.notes)
    assert "motCode" in notes and "'DX'" in notes and "own partner" in notes
    assert "1 reports repeated across files" in notes


def test_comtrade_conflicting_repeat_is_error(tmp_path: Path) -> None:
    lines = COMTRADE_MORE.read_text().splitlines()
    changed = tmp_path / "again.csv"
    changed.write_text("\n".join([lines[0], lines[1].replace(",1000000,True", ",1000001,True")]))
    with pytest.raises(InputError, match="reported differently"):
        read_trades([COMTRADE, changed])


def test_comtrade_monthly_data_refused(tmp_path: Path) -> None:
    lines = COMTRADE_MORE.read_text().splitlines()
    monthly = tmp_path / "monthly.csv"
    monthly.write_text("\n".join([lines[0], lines[2].replace("C,A,", "C,M,", 1)]) + "\n")
    with pytest.raises(InputError) as err:
        read_trades(monthly)
    assert err.value.row == 2 and err.value.column == "freqCode" and err.value.value == "M"


def test_country_codes_object_accepted() -> None:
    data = read_trades(SUBSET, country_codes=CountryCodes.bundled(), hs=["2822"])
    assert len(data.flows) == 603


def test_gzip_and_tab_separated_comtrade(tmp_path: Path) -> None:
    text = COMTRADE_MORE.read_text().replace(",", "\t")  # no field of this file has a comma
    packed = tmp_path / "comtrade_2022.txt.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as fh:
        fh.write(text)
    data = read_trades(packed)
    assert flow(data, "COD", "CHN", 2022, "260500").tonnes == 5000.0
    assert flow(data, "COD", "KOR", 2022, "260500").source == "UN Comtrade (importer)"
