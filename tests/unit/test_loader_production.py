"""read_production on the real USGS and OWID files of the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from critmin.loader import InputError, ProductionData, read_production

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "data" / "production"
MCS2025 = PRODUCTION / "MCS2025_World_Data.csv"
MCS2026 = PRODUCTION / "MCS2026_Commodities_Data_COBALT_rows.csv"
OWID = PRODUCTION / "owid_cobalt_mine_production.csv"


def value(data: ProductionData, country: str, commodity: str, year: int) -> pd.Series:
    p = data.production
    rows = p[(p.country == country) & (p.commodity == commodity) & (p.year == year)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.fixture(scope="module")
def sample() -> ProductionData:
    return read_production(PRODUCTION)


def test_world_file_congo_kinshasa() -> None:
    data = read_production(PRODUCTION / "mcs2024-cobal_world.csv")
    row = value(data, "COD", "cobalt", 2023)
    assert row.tonnes == 170_000.0 and row.source == "USGS MCS2024"
    assert value(data, "NCL", "cobalt", 2023).tonnes == 3000.0  # "New Caledonia11"
    assert set(data.production.year) == {2022, 2023}
    assert not data.production.country.isin(["WLD", ""]).any()  # totals dropped
    assert len(data.production) == 2 * 12


def test_world_file_thousands_separators_and_withheld() -> None:
    data = read_production(PRODUCTION / "mcs2023-lithi_world.csv")
    assert value(data, "BRA", "lithium", 2021).tonnes == 1700.0  # "1,700"
    assert value(data, "CHN", "lithium", 2021).tonnes == 14_000.0
    skipped = data.skipped
    assert list(skipped.columns) == [
        "file",
        "row",
        "country",
        "commodity",
        "year",
        "value",
        "reason",
    ]
    us = skipped[skipped.country == "USA"]
    assert set(us.value) == {"W"} and set(us.year) == {2021, 2022} and set(us.row) == {2}
    assert (data.production.country == "USA").sum() == 0  # withheld is not zero


def test_gallium_kilograms_to_tonnes_and_footnote_letters() -> None:
    data = read_production(PRODUCTION / "mcs2024-galli_world.csv")
    assert value(data, "CHN", "gallium", 2022).tonnes == 600.0  # 600000 kg
    assert value(data, "JPN", "gallium", 2023).tonnes == 3.0  # "Japane"
    assert value(data, "KOR", "gallium", 2023).tonnes == 2.0  # "Korea, Republic ofe"
    assert value(data, "USA", "gallium", 2022).tonnes == 0.0  # "United\xa0States", a real 0


def test_germanium_na_and_w_are_skipped_not_zero() -> None:
    with pytest.raises(InputError, match="holds no production values"):
        read_production(PRODUCTION / "mcs2024-germa_world.csv")


def test_mcs2025_all_commodity_file() -> None:
    data = read_production(MCS2025)
    assert set(data.production.commodity) == {
        "cobalt",
        "gallium",
        "graphite",
        "lithium",
        "nickel",
        "rare_earths",
        "tungsten",
    }
    assert value(data, "COD", "cobalt", 2024).tonnes == 220_000.0
    assert value(data, "CHN", "gallium", 2024).tonnes == 750.0  # kilograms
    assert value(data, "RUS", "nickel", 2023).tonnes == 210_000.0  # "Russia " with a space
    assert set(data.production.source) == {"USGS MCS2025"}
    assert "germanium" in set(data.skipped.commodity)  # "Gemanium": all blank


def test_mcs2025_commodity_filter() -> None:
    data = read_production(MCS2025, commodity="lithium")
    assert set(data.production.commodity) == {"lithium"}
    assert value(data, "NAM", "lithium", 2023).tonnes == 2700.0


def test_mcs2026_cp1252_long_format() -> None:
    data = read_production(MCS2026)
    assert value(data, "COD", "cobalt", 2024).tonnes == 226_000.0
    assert value(data, "USA", "cobalt", 2025).tonnes == 300.0  # once, not from salient rows
    assert set(data.production.year) == {2024, 2025}
    assert set(data.production.source) == {"USGS MCS2026"}


def test_owid() -> None:
    data = read_production(OWID)
    assert value(data, "COD", "cobalt", 2024).tonnes == 220_000.0
    assert set(data.production.source) == {"OWID (USGS)"}
    assert data.production.year.min() == 2020  # world totals back to 1901 are dropped
    assert len(data.production) == 61


def test_newest_release_wins() -> None:
    data = read_production(
        [PRODUCTION / "mcs2023-cobal_world.csv", PRODUCTION / "mcs2024-cobal_world.csv"]
    )
    assert value(data, "COD", "cobalt", 2022).tonnes == 144_000.0  # MCS2024 revises 130,000
    assert value(data, "COD", "cobalt", 2022).source == "USGS MCS2024"
    assert value(data, "COD", "cobalt", 2021).source == "USGS MCS2023"
    assert value(data, "MAR", "cobalt", 2022).source == "USGS MCS2023"  # absent from MCS2024
    assert any("superseded by USGS MCS2024" in note for note in data.notes)


def test_order_of_files_does_not_matter() -> None:
    files = [PRODUCTION / "mcs2024-cobal_world.csv", MCS2025, MCS2026, OWID]
    forward = read_production(files, commodity="cobalt")
    backward = read_production(list(reversed(files)), commodity="cobalt")
    pd.testing.assert_frame_equal(forward.production, backward.production)
    assert value(forward, "COD", "cobalt", 2024).source == "USGS MCS2026"


def test_sample_folder(sample: ProductionData) -> None:
    p = sample.production
    assert len(p) == 323
    assert p.dtypes["year"] == "int64" and p.dtypes["tonnes"] == "float64"
    assert not p.duplicated(["year", "country", "commodity"]).any()
    assert value(sample, "COD", "cobalt", 2023).tonnes == 175_000.0  # MCS2025 over MCS2024
    assert value(sample, "COD", "cobalt", 2020).source == "USGS MCS2022"  # USGS over OWID
    counts = p.groupby("commodity").size().to_dict()
    assert counts == {
        "cobalt": 76,
        "gallium": 21,
        "graphite": 77,
        "lithium": 34,
        "nickel": 36,
        "rare_earths": 59,
        "tungsten": 20,
    }
    text = "\n".join(sample.report())
    assert "cobalt 2025: 12 countries" in text and "skipped values" in text
    assert set(sample.countries.columns) == {"iso3", "name"}


def test_unknown_commodity_and_format() -> None:
    with pytest.raises(ValueError, match="unknown production commodity copper"):
        read_production(MCS2025, commodity="copper")
    with pytest.raises(ValueError, match="unknown production format"):
        read_production(MCS2025, "csv")


def test_renamed_world_file_needs_commodity(tmp_path: Path) -> None:
    renamed = tmp_path / "gallium.csv"
    renamed.write_bytes((PRODUCTION / "mcs2024-galli_world.csv").read_bytes())
    with pytest.raises(InputError, match="pass commodity="):
        read_production(renamed)
    data = read_production(renamed, commodity="gallium")
    assert value(data, "CHN", "gallium", 2023).tonnes == 600.0
    assert set(data.production.source) == {"USGS MCS2024"}  # from the Source column


def test_thousand_tonne_columns(tmp_path: Path) -> None:
    kt = tmp_path / "mcs2024-nicke_world.csv"
    kt.write_text(
        "Source,Country,Type,Prod_kt_2022,Prod_kt_est_2023\n"
        'MCS2024,Indonesia,"Mine production, nickel",1580,1800\n'
    )
    data = read_production(kt)
    assert value(data, "IDN", "nickel", 2023).tonnes == 1_800_000.0
