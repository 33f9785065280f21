"""Regenerate ``world.geojson`` from Natural Earth 1:110m admin-0 countries (stdlib only).

Run once by hand when the geometry needs refreshing, not at report time::

    pip download --no-deps geopandas==0.14.4      # ships datasets/naturalearth_lowres
    unzip geopandas-0.14.4-py3-none-any.whl 'geopandas/datasets/naturalearth_lowres/*'
    python build_world.py geopandas/datasets/naturalearth_lowres/naturalearth_lowres world.geojson

The shapefile is parsed directly (polygons and the attribute table) so that no GIS package
becomes a dependency; rings are simplified (Douglas-Peucker) and rounded to keep the file small.
"""

from __future__ import annotations

import json
import struct
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

Ring = list[tuple[float, float]]

TOLERANCE_DEG = 0.08
DECIMALS = 2
# Natural Earth leaves these without an ISO code; their ISO 3166 codes (or none) by name.
CODE_FIXES = {"Kosovo": "XKX", "N. Cyprus": "", "Somaliland": ""}


def read_dbf(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields: list[tuple[str, int]] = []
    for start in range(32, header_len - 1, 32):
        name = data[start : start + 11].split(b"\0")[0].decode()
        fields.append((name, data[start + 16]))
    rows = []
    for k in range(n_records):
        offset = header_len + k * record_len + 1  # skip the deletion flag
        row = {}
        for name, width in fields:
            row[name] = data[offset : offset + width].decode("latin-1").strip()
            offset += width
        rows.append(row)
    return rows


def read_polygons(path: Path) -> list[list[Ring]]:
    data = path.read_bytes()
    shapes, offset = [], 100
    while offset < len(data):
        length = struct.unpack(">i", data[offset + 4 : offset + 8])[0] * 2
        body = data[offset + 8 : offset + 8 + length]
        n_parts, n_points = struct.unpack("<ii", body[36:44])
        parts = [*struct.unpack(f"<{n_parts}i", body[44 : 44 + 4 * n_parts]), n_points]
        xy = struct.unpack(
            f"<{2 * n_points}d", body[44 + 4 * n_parts : 44 + 4 * n_parts + 16 * n_points]
        )
        points = list(zip(xy[0::2], xy[1::2], strict=True))
        shapes.append([points[a:b] for a, b in pairwise(parts)])
        offset += 8 + length
    return shapes


def signed_area(ring: Ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring)) / 2


def simplify(ring: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker on an open polyline (rings are split at their far point first)."""
    if len(ring) < 3:
        return ring
    (x0, y0), (x1, y1) = ring[0], ring[-1]
    dx, dy = x1 - x0, y1 - y0
    norm = (dx * dx + dy * dy) ** 0.5 or 1e-12
    distances = [abs(dy * (x - x0) - dx * (y - y0)) / norm for x, y in ring[1:-1]]
    far = max(range(len(distances)), key=distances.__getitem__) + 1
    if distances[far - 1] <= tolerance:
        return [ring[0], ring[-1]]
    return simplify(ring[: far + 1], tolerance)[:-1] + simplify(ring[far:], tolerance)


def compact(ring: Ring) -> Ring | None:
    """The ring simplified and rounded, or None when it shrinks below a triangle."""
    half = len(ring) // 2
    points = simplify(ring[: half + 1], TOLERANCE_DEG)[:-1] + simplify(ring[half:], TOLERANCE_DEG)
    rounded = [(round(x, DECIMALS), round(y, DECIMALS)) for x, y in points]
    unique = [p for k, p in enumerate(rounded) if k == 0 or p != rounded[k - 1]]
    return unique if len(unique) >= 4 and signed_area(unique) != 0 else None


def inside(point: tuple[float, float], ring: Ring) -> bool:
    x, y = point
    hit = False
    for (x0, y0), (x1, y1) in pairwise(ring):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def multipolygon(rings: list[Ring]) -> list[list[Ring]]:
    """Group rings into polygons: shapefile outer rings run clockwise, holes anticlockwise."""
    kept = [r for r in (compact(ring) for ring in rings) if r is not None]
    if not kept:  # a tiny island country: keep its largest ring unsimplified
        kept = [max(rings, key=lambda r: abs(signed_area(r)))]
    polygons = [[r] for r in kept if signed_area(r) < 0]
    for hole in (r for r in kept if signed_area(r) > 0):
        owner = next((p for p in polygons if inside(hole[0], p[0])), None)
        if owner is not None:
            owner.append(hole)
    return polygons


def build(stem: Path) -> dict[str, object]:
    features: list[dict[str, Any]] = []
    for row, rings in zip(
        read_dbf(stem.with_suffix(".dbf")), read_polygons(stem.with_suffix(".shp")), strict=True
    ):
        code = CODE_FIXES.get(row["name"], row["iso_a3"])
        # Antarctica has no trade and would take a fifth of the map's height.
        if not code or code in ("-99", "ATA"):
            continue
        geometry = {"type": "MultiPolygon", "coordinates": multipolygon(rings)}
        features.append(
            {
                "type": "Feature",
                "properties": {"iso3": code, "name": row["name"]},
                "geometry": geometry,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": sorted(features, key=lambda f: f["properties"]["iso3"]),
    }


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    Path(target).write_text(json.dumps(build(source), separators=(",", ":")) + "\n")
