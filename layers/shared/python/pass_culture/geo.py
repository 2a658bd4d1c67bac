"""Geography for the search around a point: distances and the geohash cells that cover a circle. Pure.

Offers are indexed by geohash (docs/data-model.md, GSI2): the partition is the precision-4 cell (~39 × 20 km), the
sort key the precision-9 geohash, so a query can read any finer cell with `begins_with`. A search reads only the
cells whose box meets the circle, at the finest precision that keeps their number small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
PARTITION_PRECISION = 4
STORED_PRECISION = 9
FINEST_QUERY_PRECISION = 6
MAX_CELLS = 24


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def encode(latitude: float, longitude: float) -> str:
    import pygeohash

    return str(pygeohash.encode(latitude, longitude, precision=STORED_PRECISION))


@dataclass(frozen=True)
class Box:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def nearest_point(self, lat: float, lon: float) -> tuple[float, float]:
        return min(max(lat, self.min_lat), self.max_lat), min(max(lon, self.min_lon), self.max_lon)


def circle_box(lat: float, lon: float, radius_km: float) -> Box:
    d_lat = math.degrees(radius_km / EARTH_RADIUS_KM)
    d_lon = math.degrees(radius_km / (EARTH_RADIUS_KM * max(math.cos(math.radians(lat)), 1e-6)))
    return Box(max(-90.0, lat - d_lat), max(-180.0, lon - d_lon), min(90.0, lat + d_lat), min(180.0, lon + d_lon))


def _cells(box: Box, precision: int) -> list[str]:
    from pygeohash.bounding_box import BoundingBox, geohashes_in_box

    return sorted(
        geohashes_in_box(BoundingBox(box.min_lat, box.min_lon, box.max_lat, box.max_lon), precision=precision)
    )


def _cell_box(cell: str) -> Box:
    from pygeohash.bounding_box import get_bounding_box

    b = get_bounding_box(cell)
    return Box(b.min_lat, b.min_lon, b.max_lat, b.max_lon)


def covering_cells(lat: float, lon: float, radius_km: float) -> list[str]:
    """The geohash cells (precision 4 to 6) whose box meets the circle: a search reads these and nothing else."""
    box = circle_box(lat, lon, radius_km)
    precision = PARTITION_PRECISION
    while precision < FINEST_QUERY_PRECISION and len(_cells(box, precision + 1)) <= MAX_CELLS:
        precision += 1
    cells = []
    for cell in _cells(box, precision):
        near_lat, near_lon = _cell_box(cell).nearest_point(lat, lon)
        if haversine_km(lat, lon, near_lat, near_lon) <= radius_km:
            cells.append(cell)
    return cells
