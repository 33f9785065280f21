"""The two BACI extracts of the critical-materials-atlas repository, bundled as sample data.

``baci-subset`` (``baci_hs17_v202601_2024_battery_subset.csv``)
    ``year, exporter, exporter_name, importer, importer_name, hs6, material, value_kusd, qty_t``:
    ISO3 codes (Taiwan written ``S19``), value in thousand USD, tonnes sometimes empty.
``atlas`` (``atlas_topflows_2002_2024_cobalt_282200.csv``)
    ``year, hs_vintage, hs6, material, exporter_iso2, importer_iso2, value_usd, qty_t``:
    ISO2 codes (Namibia is ``NA``: every cell is read as text), value in USD, tonnes rounded and
    only for 2024; each country's top partners only, hence the source "top flows".

Names, material and HS vintage columns are not needed: names come from the country tables.
"""

from __future__ import annotations

from critmin.loader.baci import release
from critmin.loader.files import Source
from critmin.loader.flow_pipeline import FlowLayout

#: What a flow's ``source`` carries when the file held each country's largest partners only:
#: small links are missing (the report's coverage note says so).
PARTIAL_SOURCE_MARK = "top flows"


def _atlas_source(source: Source) -> str:
    return release(source) + f" (atlas {PARTIAL_SOURCE_MARK})"


SUBSET = FlowLayout(
    format="baci-subset",
    columns={
        "year": ("year",),
        "exporter": ("exporter",),
        "importer": ("importer",),
        "hs": ("hs6",),
        "value": ("value_kusd",),
        "tonnes": ("qty_t",),
    },
    code_kind="iso3",
    source=release,
    value_scale=1000.0,
    hs_digits=6,
)

ATLAS = FlowLayout(
    format="atlas",
    columns={
        "year": ("year",),
        "exporter": ("exporter_iso2",),
        "importer": ("importer_iso2",),
        "hs": ("hs6",),
        "value": ("value_usd",),
        "tonnes": ("qty_t",),
    },
    code_kind="iso2",
    source=_atlas_source,
    hs_digits=6,
)
