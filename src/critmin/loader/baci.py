"""CEPII BACI yearly files: ``t,i,j,k,v,q``, plain or inside the release's zip archive.

``t`` year, ``i`` exporter and ``j`` importer (BACI numeric country codes), ``k`` HS6 product,
``v`` value FOB in thousand USD (multiplied by 1000 here), ``q`` quantity in metric tonnes,
missing as an empty cell or ``NA`` padded with spaces. A BACI zip (``BACI_HS17_V202601.zip``)
holds one CSV per year plus ``country_codes_V202601.csv`` and ``product_codes_HS17_V202601.csv``:
the archive's own country dictionary decodes its yearly files; the product dictionary is not
needed.
"""

from __future__ import annotations

import re
from pathlib import Path

from critmin.loader.countries import CountryCodes
from critmin.loader.files import Source
from critmin.loader.flow_pipeline import FlowLayout

_DICTIONARY = re.compile(r"^country_codes.*\.csv$", re.IGNORECASE)


def release(source: Source, publisher: str = "CEPII BACI") -> str:
    """``"CEPII BACI V202601"`` from the file or archive name (no version if none is found).

    >>> release(Source("x", Path("BACI_HS17_V202601.zip"), member="BACI_HS17_Y2022_V202601.csv"))
    'CEPII BACI V202601'
    """
    for name in (source.name, source.path.name):
        found = re.search(r"v(\d{6})", name, re.IGNORECASE)
        if found:
            return f"{publisher} V{found.group(1)}"
    return publisher


LAYOUT = FlowLayout(
    format="baci",
    columns={
        "year": ("t",),
        "exporter": ("i",),
        "importer": ("j",),
        "hs": ("k",),
        "value": ("v",),
        "tonnes": ("q",),
    },
    code_kind="numeric",
    source=release,
    value_scale=1000.0,
    hs_digits=6,
)


def codes_for(
    source: Source, sources: list[Source], default: CountryCodes, cache: dict[Path, CountryCodes]
) -> CountryCodes:
    """The country codes for one BACI table: its archive's dictionary when it has one."""
    if source.member is None:
        return default
    if source.path not in cache:
        dictionary = next(
            (
                s
                for s in sources
                if s.path == source.path and s.member is not None and _DICTIONARY.match(s.name)
            ),
            None,
        )
        cache[source.path] = default if dictionary is None else default.with_dictionary(dictionary)
    return cache[source.path]
