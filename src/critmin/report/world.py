"""Country outlines for the choropleth: Natural Earth 1:110m, keyed by ISO3 (see data/README.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["CountryShape", "World", "load_world"]

Ring = list[tuple[float, float]]


@dataclass(frozen=True)
class CountryShape:
    """One country's outline: polygons, each an outer ring followed by its holes (lon, lat)."""

    iso3: str
    name: str
    polygons: tuple[tuple[Ring, ...], ...]


@dataclass(frozen=True)
class World:
    """Outlines by ISO3 code.

    Examples
    --------
    >>> world = load_world()
    >>> world.shapes["COD"].name
    'Dem. Rep. Congo'
    >>> world.missing(["COD", "SGP", "HKG"])
    ['HKG', 'SGP']
    """

    shapes: Mapping[str, CountryShape]

    def missing(self, codes: Iterable[str]) -> list[str]:
        """The codes with no outline (small states and territories at this scale), sorted."""
        return sorted({code for code in codes if code not in self.shapes})


@cache
def load_world() -> World:
    """The bundled outlines (read once per process)."""
    text = resources.files("critmin.report").joinpath("data/world.geojson").read_text()
    shapes = {}
    for feature in json.loads(text)["features"]:
        props = feature["properties"]
        polygons = tuple(
            tuple([(float(x), float(y)) for x, y in ring] for ring in polygon)
            for polygon in feature["geometry"]["coordinates"]
        )
        shapes[props["iso3"]] = CountryShape(props["iso3"], props["name"], polygons)
    return World(shapes)
