"""Country-code harmonisation and commodity groups."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from critmin.loader import InputError
from critmin.loader.commodities import ENV_VAR, CommodityGroup, load_groups
from critmin.loader.countries import CountryCodes, country_name, name_key, to_iso3
from critmin.loader.files import Source

ROOT = Path(__file__).resolve().parents[2]
CODES = CountryCodes.bundled()


@pytest.mark.parametrize(
    ("value", "kind", "iso3"),
    [
        ("NA", "iso2", "NAM"),
        ("516", "numeric", "NAM"),
        ("490", "numeric", "TWN"),
        ("S19", "iso3", "TWN"),
        ("TW", "iso2", "TWN"),
        ("842", "numeric", "USA"),
        ("251", "numeric", "FRA"),
        ("579", "numeric", "NOR"),
        ("699", "numeric", "IND"),
        ("757", "numeric", "CHE"),
        ("840", "numeric", "USA"),  # ISO numeric, not Comtrade's
        ("58", "numeric", "BEL"),  # Belgium-Luxembourg (...1998)
        ("280", "numeric", "DEU"),  # Fed. Rep. of Germany (...1990)
        ("736", "numeric", "SDN"),  # Sudan (...2011)
        ("890", "numeric", "YUG"),  # Yugoslavia (SFR)
        ("200", "numeric", "CSK"),  # Czechoslovakia
        ("891", "numeric", "SCG"),
        ("711", "numeric", "ZAF"),  # SACU (...1999)
        ("CS", "iso2", "SCG"),
        ("cod", "iso3", "COD"),
        ("Congo (Kinshasa)", "name", "COD"),
        ("Congo (Brazzaville)", "name", "COG"),
        ("Burma", "name", "MMR"),
        ("Korea, Republic of", "name", "KOR"),
        ("Korea, Republic ofe", "name", "KOR"),
        ("Korea, North", "name", "PRK"),
        ("Russia", "name", "RUS"),
        ("Russiae", "name", "RUS"),
        ("Turkey", "name", "TUR"),
        ("Türkiye", "name", "TUR"),
        ("New Caledonia11", "name", "NCL"),
        ("Japane", "name", "JPN"),
        ("United\u00a0States", "name", "USA"),
        ("Canada ", "name", "CAN"),
        ("Democratic Republic of Congo", "name", "COD"),
        ("Cote d'Ivoire", "name", "CIV"),
        ("Mozambique", "name", "MOZ"),  # ends in "e": never cut to "Mozambiqu"
    ],
)
def test_to_iso3(value: str, kind: str, iso3: str) -> None:
    assert to_iso3(value, kind) == iso3  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("0", "numeric"),
        ("899", "numeric"),
        ("97", "numeric"),
        ("697", "numeric"),
        ("W00", "iso3"),
        ("World total (rounded)", "name"),
        ("World total (rounded), excluding U.S. production", "name"),
        ("Other countries6", "name"),
        ("Other Countries", "name"),
        ("Other", "name"),
    ],
)
def test_aggregates_are_not_countries(value: str, kind: str) -> None:
    assert to_iso3(value, kind) is None  # type: ignore[arg-type]
    assert CODES.lookup(value, kind).status == "aggregate"  # type: ignore[arg-type]


def test_unknown_codes_raise() -> None:
    with pytest.raises(KeyError):
        to_iso3("XYZ", "iso3")
    assert CODES.lookup("12345", "numeric").status == "unknown"
    assert CODES.lookup("", "iso2").status == "unknown"


def test_every_bundled_dictionary_row_resolves() -> None:
    table = pd.read_csv(
        ROOT / "src/critmin/loader/data/countries.csv", dtype=str, keep_default_na=False
    )
    for row in table.itertuples(index=False):
        found = CODES.lookup(row.country_code, "numeric")
        assert found.status in {"ok", "aggregate"}, row
        if row.country_iso2:
            assert CODES.lookup(row.country_iso2, "iso2").status == "ok", row
    assert table.loc[table.country_iso3 == "NAM", "country_iso2"].item() == "NA"


def test_iso2_codes_are_unambiguous() -> None:
    table = pd.read_csv(
        ROOT / "src/critmin/loader/data/countries.csv", dtype=str, keep_default_na=False
    )
    for iso2, group in table[table.country_iso2 != ""].groupby("country_iso2"):
        if iso2 == "CS":  # Czechoslovakia until 1992, Serbia and Montenegro from 2003: SCG
            continue
        targets = {CODES.lookup(c, "numeric").iso3 for c in group.country_code}
        assert targets == {to_iso3(iso2, "iso2")}, (iso2, targets)


def test_names_and_map() -> None:
    assert country_name("COD") == "Dem. Rep. of the Congo"
    assert country_name("TWN") == "Taiwan"
    assert country_name("DEU") == "Germany"  # not "Fed. Rep. of Germany (...1990)"
    assert country_name("ZZZ") == "ZZZ"
    mapped = CODES.map(pd.Series(["NA", "TW", "XX"]), "iso2")
    assert mapped["iso3"].tolist()[:2] == ["NAM", "TWN"] and pd.isna(mapped["iso3"][2])
    assert mapped["status"].tolist() == ["ok", "ok", "unknown"]
    assert name_key(" Côte d’Ivoire ") == "cote d'ivoire"


def test_older_baci_dictionary_columns(tmp_path: Path) -> None:
    old = tmp_path / "country_codes_V202301.csv"
    old.write_text(
        "country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,"
        'iso_3digit_alpha\n490,"Other Asia, nes","Other Asia, not elsewhere specified",,S19\n'
        "9998,Newland,Newland,NW,NWL\n"
    )
    codes = CODES.with_dictionary(Source(str(old), old))
    assert codes.lookup("490", "numeric").iso3 == "TWN"
    assert codes.lookup("9998", "numeric").iso3 == "NWL" and codes.name("NWL") == "Newland"


def test_bad_dictionary(tmp_path: Path) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text("country_code,country_name,country_iso2,country_iso3\nx1,Oops,OO,OOP\n")
    with pytest.raises(InputError) as err:
        CODES.with_dictionary(Source(str(bad), bad))
    assert (err.value.row, err.value.value) == (2, "x1")


# -- commodity groups --------------------------------------------------------------------


def test_bundled_groups() -> None:
    groups = load_groups()
    assert groups["cobalt"].hs_codes == ("2605", "8105")
    assert groups["cobalt"].production_commodity == "cobalt"
    assert groups["cobalt_oxides"].hs_codes == ("282200",)
    assert groups["lithium_carbonate"].production_commodity == "lithium"
    assert groups["nickel_unwrought"].hs_codes == ("750210",)
    assert groups["graphite_natural"].hs_codes == ("250490",)
    assert groups["gallium_germanium"].production_commodity is None
    for gid in ("lithium", "nickel", "graphite", "rare_earths"):
        assert groups[gid].hs_codes and groups[gid].note
    assert all(isinstance(g, CommodityGroup) for g in groups.values())


def test_matches_is_a_prefix_match() -> None:
    cobalt = load_groups()["cobalt"]
    assert cobalt.matches("260500") and cobalt.matches("810520") and cobalt.matches("8105")
    assert not cobalt.matches("282200")
    assert not CommodityGroup("x", "X", ("2605",)).matches("260")


def test_extra_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "mine.csv"
    extra.write_text("id,name,hs_codes\ncobalt,Cobalt ores only,2605\nmanganese,Manganese,2602\n")
    groups = load_groups(extra)
    assert groups["cobalt"].hs_codes == ("2605",) and groups["cobalt"].production_commodity is None
    assert groups["manganese"].name == "Manganese" and "nickel" in groups
    env = tmp_path / "env.csv"
    env.write_text("id,name,hs_codes,production_commodity\nantimony,Antimony,2617;8110,antimony\n")
    monkeypatch.setenv(ENV_VAR, str(env))
    assert load_groups()["antimony"].hs_codes == ("2617", "8110")
    assert load_groups(extra)["cobalt"].name == "Cobalt ores only"  # extra applies last


@pytest.mark.parametrize(
    ("text", "row", "value"),
    [
        ("id,name,hs_codes\nCobalt!,Cobalt,2605\n", 2, "Cobalt!"),
        ("id,name,hs_codes\ncobalt,Cobalt,26x5\n", 2, "26x5"),
        ("id,name,hs_codes\ncobalt,Cobalt,\n", 2, ""),
        ("id,name,hs_codes\na,A,2605\na,A again,8105\n", 3, "a"),
    ],
)
def test_bad_group_files(tmp_path: Path, text: str, row: int, value: str) -> None:
    path = tmp_path / "groups.csv"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_groups(path)
    assert (err.value.row, err.value.value) == (row, value)
    assert err.value.path == str(path)


def test_group_file_missing_column_or_file(tmp_path: Path) -> None:
    path = tmp_path / "groups.csv"
    path.write_text("id,name\ncobalt,Cobalt\n")
    with pytest.raises(InputError, match="missing column 'hs_codes'"):
        load_groups(path)
    with pytest.raises(InputError, match="not found"):
        load_groups(tmp_path / "nope.csv")
