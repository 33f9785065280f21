"""The documented plain CSV format for flows from any other source.

One row per flow, comma-separated, UTF-8, header required (extra columns are ignored)::

    year,exporter,importer,hs,tonnes,value_usd
    2023,COD,CHN,260500,41230.5,512000000
    2023,ZAF,CHN,260500,,1250000

``exporter`` and ``importer`` are ISO 3166 alpha-3 codes; ``hs`` is the HS code as digits (any
length from 2 to 10, kept as written); ``tonnes`` is metric tonnes and ``value_usd`` US dollars,
both >= 0, empty or ``NA`` when missing. A flow may appear once per file and a country may not
trade with itself. The flows' ``source`` is ``csv:<file name>``.
"""

from __future__ import annotations

from critmin.loader.files import Source
from critmin.loader.flow_pipeline import FlowLayout


def _source(source: Source) -> str:
    return f"csv:{source.name}"


LAYOUT = FlowLayout(
    format="csv",
    columns={
        "year": ("year",),
        "exporter": ("exporter",),
        "importer": ("importer",),
        "hs": ("hs",),
        "value": ("value_usd",),
        "tonnes": ("tonnes",),
    },
    code_kind="iso3",
    source=_source,
)
