"""Country-code harmonisation: every input's country column to ISO 3166 alpha-3.

Two bundled tables drive it (``critmin/loader/data``, sources in the README there):

``countries.csv``
    BACI's country dictionary (``country_codes_V202601.csv``): numeric code, name, ISO2, ISO3.
``country_aliases.csv``
    What BACI does not say: aggregates that are not countries ("World", "Areas, nes"; their
    ISO3 is empty), Taiwan (BACI/Comtrade code 490 "Other Asia, nes", BACI ISO3 ``S19``),
    historical codes, ISO numeric codes where Comtrade differs, and country names as USGS and
    OWID write them ("Congo (Kinshasa)", "Burma").

A value is resolved in this order: alias of its kind, then the dictionary, then the ISO3 alias
of the result (so a newer BACI dictionary that still says ``S19`` for 490 still gives ``TWN``).

Historical codes (a choice, documented in the aliases table): 58 Belgium-Luxembourg -> BEL and
280 Fed. Rep. of Germany -> DEU (as BACI does), 736 Sudan (former) -> SDN, 711 SACU -> ZAF;
entities with no single successor keep their own retired ISO3 code: 200 Czechoslovakia -> CSK,
278 German Dem. Rep. -> DDR, 810 USSR -> SUN, 890 Yugoslavia -> YUG, 891 Serbia and
Montenegro -> SCG, 530 Netherlands Antilles -> ANT.

>>> to_iso3("NA", "iso2")
'NAM'
>>> to_iso3("490", "numeric"), to_iso3("S19", "iso3")
('TWN', 'TWN')
>>> to_iso3("Congo (Kinshasa)", "name"), to_iso3("New Caledonia11", "name")
('COD', 'NCL')
>>> to_iso3("0", "numeric") is None  # World: an aggregate, not a country
True
>>> country_name("TWN")
'Taiwan'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

import pandas as pd

from critmin.loader.errors import InputError
from critmin.loader.files import LINE, Source, bundled, column_lookup, read_header, read_whole

#: How a column identifies countries.
CodeKind = Literal["numeric", "iso2", "iso3", "name"]

OK, AGGREGATE, UNKNOWN = "ok", "aggregate", "unknown"

# Column names of BACI's dictionary, current (V2024+) and older (V2023 and before) releases.
_DICTIONARY_COLUMNS = {
    "code": ("country_code",),
    "name": ("country_name", "country_name_abbreviation"),
    "iso2": ("country_iso2", "iso_2digit_alpha"),
    "iso3": ("country_iso3", "iso_3digit_alpha"),
}

# USGS qualifies its totals ("World total (rounded), excluding U.S. production"), so aggregate
# rows are recognised by how their name starts rather than by an exhaustive list.
_AGGREGATE_NAME = re.compile(r"^(world\b|other countries\b|total\b)")


@dataclass(frozen=True)
class Lookup:
    """What a code or name resolves to.

    Attributes
    ----------
    iso3 : str or None
        The ISO3 code, or None for aggregates and unknown values.
    status : str
        ``"ok"``, ``"aggregate"`` (known, not a country: dropped) or ``"unknown"``.
    note : str
        For aggregates, what the value stands for.
    """

    iso3: str | None
    status: str
    note: str = ""


def name_key(name: str) -> str:
    """Normalise a country name for lookup: accents, case, spacing and apostrophes ignored.

    >>> name_key("  Côte d’Ivoire ")
    "cote d'ivoire"
    >>> name_key("United\\u00a0States")
    'united states'
    """
    decomposed = unicodedata.normalize("NFKD", name.replace("\u2019", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain).strip().casefold()


def _repair_mojibake(text: str) -> str:
    # Some BACI dictionaries were written as UTF-8 bytes re-read as Windows-1252 ("CÃ´te").
    if "Ã" not in text and "Â" not in text:
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text


class CountryCodes:
    """Resolves numeric codes, ISO2, ISO3 and names to ISO3.

    Parameters
    ----------
    dictionary : DataFrame
        Columns ``code`` (int), ``name``, ``iso2``, ``iso3`` (BACI's country dictionary).
    aliases : DataFrame
        Columns ``kind``, ``alias``, ``iso3``, ``name``, ``note`` (see the module docstring).
    """

    def __init__(self, dictionary: pd.DataFrame, aliases: pd.DataFrame) -> None:
        self._dictionary = dictionary
        self._aliases = aliases
        self._alias: dict[tuple[str, str], Lookup] = {}
        names: dict[str, str] = {}
        for row in aliases.itertuples(index=False):
            kind, alias = str(row.kind), str(row.alias)
            iso3 = str(row.iso3).strip() or None
            note = "" if iso3 else (str(row.name).strip() or str(row.note))
            lookup = Lookup(iso3, OK if iso3 else AGGREGATE, note)
            self._alias[(kind, _alias_key(kind, alias))] = lookup
            if iso3 and str(row.name).strip():
                names[iso3] = str(row.name).strip()
        self._code: dict[int, str] = {}
        self._iso2: dict[str, str] = {}
        self._name: dict[str, str] = {}
        self._known: set[str] = set()
        current_names: dict[str, str] = {}
        # Current entities first, so that DEU is named "Germany", not "Fed. Rep. of Germany
        # (...1990)": BACI marks predecessors with "(...year)".
        rows = sorted(dictionary.itertuples(index=False), key=lambda r: "(..." in str(r.name))
        for row in rows:
            iso3 = str(row.iso3).strip().upper()
            if not iso3:
                continue
            self._code[int(row.code)] = iso3
            if str(row.iso2).strip():
                self._iso2.setdefault(str(row.iso2).strip().upper(), iso3)
            self._name.setdefault(name_key(str(row.name)), iso3)
            self._known.add(iso3)
            current_names.setdefault(iso3, _repair_mojibake(str(row.name)))
        self._names = {**current_names, **names}

    # -- construction -------------------------------------------------------------------
    @classmethod
    def bundled(cls) -> CountryCodes:
        """The tables shipped with critmin (cached)."""
        return _bundled_codes()

    def with_dictionary(self, source: Source) -> CountryCodes:
        """These codes overlaid with another BACI country dictionary (e.g. from a BACI zip).

        Rows of ``source`` replace bundled rows with the same numeric code; the aliases (and
        the bundled display names) still apply.
        """
        extra = read_dictionary(source)
        merged = pd.concat([self._dictionary, extra], ignore_index=True)
        merged = merged.drop_duplicates("code", keep="last")
        codes = CountryCodes(merged, self._aliases)
        codes._names = {**codes._names, **self._names}
        return codes

    # -- lookups ------------------------------------------------------------------------
    def lookup(self, value: object, kind: CodeKind) -> Lookup:
        """Resolve one value of the given kind."""
        text = str(value).strip()
        if not text:
            return Lookup(None, UNKNOWN)
        alias = self._alias.get((kind, _alias_key(kind, text)))
        if alias is not None:
            return alias
        if kind == "numeric":
            code = _as_int(text)
            iso3 = self._code.get(code) if code is not None else None
        elif kind == "iso2":
            iso3 = self._iso2.get(text.upper())
        elif kind == "iso3":
            iso3 = text.upper() if text.upper() in self._known else None
        else:
            return self._lookup_name(text)
        return self._resolve(iso3)

    def _lookup_name(self, text: str) -> Lookup:
        # USGS glues footnote marks to names ("New Caledonia11", "Japane" with e = estimated):
        # try the name as written first, then without trailing digits, then without one
        # trailing lowercase letter, so real names ending in "e" are never cut.
        candidates = [text, re.sub(r"\d+$", "", text)]
        candidates.append(re.sub(r"(?<=[a-z])[a-z]$", "", candidates[1]))
        for candidate in dict.fromkeys(candidates):
            found = self._name_once(candidate)
            if found.status != UNKNOWN:
                return found
        return Lookup(None, UNKNOWN)

    def _name_once(self, text: str) -> Lookup:
        k = name_key(text)
        alias = self._alias.get(("name", k))
        if alias is not None:
            return alias
        if k in self._name:
            return self._resolve(self._name[k])
        if _AGGREGATE_NAME.match(k):
            return Lookup(None, AGGREGATE, text.strip())
        return Lookup(None, UNKNOWN)

    def _resolve(self, iso3: str | None) -> Lookup:
        if iso3 is None:
            return Lookup(None, UNKNOWN)
        return self._alias.get(("iso3", iso3), Lookup(iso3, OK))

    def map(self, values: pd.Series, kind: CodeKind) -> pd.DataFrame:
        """Resolve a column at once (each distinct value is looked up once).

        Returns
        -------
        DataFrame
            Same index as ``values``; columns ``iso3`` (None where not a country),
            ``status`` and ``note`` as in :class:`Lookup`.
        """
        found = {v: self.lookup(v, kind) for v in pd.unique(values)}
        return pd.DataFrame(
            {
                "iso3": values.map(lambda v: found[v].iso3).astype(object),
                "status": values.map(lambda v: found[v].status),
                "note": values.map(lambda v: found[v].note),
            },
            index=values.index,
        )

    def name(self, iso3: str) -> str:
        """Display name of an ISO3 code (the code itself when unknown)."""
        return self._names.get(iso3, iso3)

    def frame(self, iso3_codes: pd.Series | list[str]) -> pd.DataFrame:
        """``iso3, name`` of the given codes, sorted by code, each once."""
        codes = sorted(set(iso3_codes))
        return pd.DataFrame(
            {"iso3": pd.Series(codes, dtype="str"), "name": [self.name(c) for c in codes]}
        ).astype({"name": "str"})


def _alias_key(kind: str, alias: str) -> str:
    if kind == "name":
        return name_key(alias)
    if kind == "numeric":
        code = _as_int(alias)
        return str(code) if code is not None else alias.strip()
    return alias.strip().upper()


def _as_int(text: str) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def read_dictionary(source: Source) -> pd.DataFrame:
    """Read a BACI country dictionary (current or pre-2024 column names).

    Namibia's ISO2 ``NA`` is kept as text: every cell is read as a string.

    Raises
    ------
    InputError
        If a required column is missing or a code is not a whole number.
    """
    header = read_header(source)
    table = read_whole(source, header, ("utf-8-sig", "cp1252"))
    lookup = column_lookup(table.columns)
    picked: dict[str, str] = {}
    for field, options in _DICTIONARY_COLUMNS.items():
        match = next((lookup[o] for o in options if o in lookup), None)
        if match is None:
            raise InputError.single(
                source.label,
                1,
                None,
                None,
                f"is not a BACI country dictionary: no column {' or '.join(options)} "
                f"(columns are {', '.join(header.columns)})",
            )
        picked[field] = match
    out = pd.DataFrame({field: table[col].str.strip() for field, col in picked.items()})
    codes = pd.to_numeric(out["code"], errors="coerce")
    bad = codes.isna() | (codes % 1 != 0)
    if bad.any():
        first = bad.idxmax()
        raise InputError.single(
            source.label,
            int(table.loc[first, LINE]),
            picked["code"],
            out.loc[first, "code"],
            "is not a whole-number country code",
        )
    out["code"] = codes.astype("int64")
    out["name"] = out["name"].map(_repair_mojibake)
    return out


@cache
def _bundled_codes() -> CountryCodes:
    aliases = read_whole(bundled("country_aliases.csv"))
    return CountryCodes(read_dictionary(bundled("countries.csv")), aliases)


def to_iso3(value: object, kind: CodeKind, codes: CountryCodes | None = None) -> str | None:
    """ISO3 code of one value; None for aggregates ("World", "Areas, nes").

    Raises
    ------
    KeyError
        If the value is not known at all.
    """
    found = (codes or CountryCodes.bundled()).lookup(value, kind)
    if found.status == UNKNOWN:
        raise KeyError(f"unknown country {kind} {value!r}")
    return found.iso3


def country_name(iso3: str) -> str:
    """Display name of an ISO3 code from the bundled tables (the code itself when unknown).

    >>> country_name("COD"), country_name("NAM")
    ('Dem. Rep. of the Congo', 'Namibia')
    """
    return CountryCodes.bundled().name(iso3)
