"""Geography for the search around a point: distances and the geohash cells that cover a circle. Pure.

Offers are indexed by geohash (docs/data-model.md, GSI2): the partition is the precision-4 cell (~39 × 20 km at the
equator), the sort key the precision-9 geohash, so a search reads any cell of precision 4 or finer with one Query
(`begins_with`), and nothing coarser: every precision-4 cell the circle meets costs at least one Query.

The rule that bounds a search (issue #9):
- The covering is the set of cells whose box meets the circle, computed on the sphere: the circle's bounding box
  uses the exact longitude half-width `asin(sin δ / cos φ)` (δ the angular radius), wraps across the antimeridian
  (a circle around lon 179.9 also reads the cells at -179.x), and spans every longitude when it holds a pole; a cell
  is kept when its box's nearest point to the centre is within the radius (exact spherical point-to-box distance).
- Precision: the finest of 4 to 6 whose covering has at most `PREFERRED_CELLS` cells, else 4. It follows the radius
  *and* the latitude, since cells narrow (in km) towards the poles.
- Hard cap: a search makes at most `MAX_CELLS` Queries, whatever the point and radius. When even the precision-4
  covering exceeds it — a large radius far north or south, where precision-4 cells are a few km or metres wide — the
  circle cannot be served within that budget (the index has no coarser partition) and `covering_cells` raises
  `AreaTooLarge` with the largest radius that can be served around that point (`max_servable_radius_km`); the
  search answers 400. `MAX_CELLS` covers what metropolitan France needs at the maximum radius of 100 km (83 cells
  in Paris, 88 at worst), so a search anywhere is served within the budget of a search in Paris. What that serves:
  every radius up to 100 km up to about 57° of latitude (north or south), then at most ~82 km at 70°, ~57 km at
  80°, ~14 km at 89°, ~3 km at 89.9°, and nothing on a pole itself (every longitude meets there).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
PARTITION_PRECISION = 4
STORED_PRECISION = 9
FINEST_QUERY_PRECISION = 6
PREFERRED_CELLS = 24  # go finer than the partition only while the covering stays this small
MAX_CELLS = 100  # the hard cap on the cells (one Query each) a search reads
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_DECODE = {character: value for value, character in enumerate(_BASE32)}
_TOLERANCE_KM = 1e-6  # a millimetre: rounding never drops a cell that touches the circle


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def destination(lat: float, lon: float, distance_km: float, bearing: float) -> tuple[float, float]:
    """The point `distance_km` away from (lat, lon) along the great circle leaving at `bearing` (degrees from north),
    its longitude in [-180, 180). From a pole every way leads south (north): the bearing names the meridian."""
    d = distance_km / EARTH_RADIUS_KM
    if abs(lat) >= 90.0:
        return math.copysign(90.0 - math.degrees(d), lat), (bearing + 180.0) % 360.0 - 180.0
    phi1, lambda1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    sin_phi2 = math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lambda2) + 180.0) % 360.0 - 180.0


def encode(latitude: float, longitude: float) -> str:
    """The stored (precision-9) geohash of a point."""
    import pygeohash

    return str(pygeohash.encode(latitude, longitude, precision=STORED_PRECISION))


@dataclass(frozen=True)
class Box:
    """A cell's box: latitudes and longitudes in degrees, min_lon <= max_lon (a cell never crosses ±180)."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def distance_km(self, lat: float, lon: float) -> float:
        """Great-circle distance from the point to the nearest point of the box (0 inside).

        For any latitude, the nearest longitude of the box is the one closest to `lon` around the circle (distance
        grows with the longitude gap up to 180°): that meridian holds the nearest point. Along it, the distance is
        unimodal in latitude with its minimum at `atan2(sin φ, cos φ cos Δλ)`: the nearest point is there if it
        falls in the box's latitudes, else at one of its ends."""
        nearest_lon = _nearest_longitude(lon, self.min_lon, self.max_lon)
        gap = math.radians(nearest_lon - lon)
        phi = math.radians(lat)
        foot = math.degrees(math.atan2(math.sin(phi), math.cos(phi) * math.cos(gap)))
        latitudes = [self.min_lat, self.max_lat] + ([foot] if self.min_lat <= foot <= self.max_lat else [])
        return min(haversine_km(lat, lon, candidate, nearest_lon) for candidate in latitudes)


def _nearest_longitude(lon: float, low: float, high: float) -> float:
    """The longitude of [low, high] nearest to `lon` going either way round the Earth."""
    for turn in (0.0, 360.0, -360.0):
        if low <= lon + turn <= high:
            return lon
    return min((low, high), key=lambda edge: abs((edge - lon + 180.0) % 360.0 - 180.0))


# -- the geohash grid ----------------------------------------------------------------------------------------------
def _grid(precision: int) -> tuple[int, int]:
    """Columns (longitude) and rows (latitude) of the grid at a precision: 5 bits a character, longitude first."""
    bits = 5 * precision
    return 1 << ((bits + 1) // 2), 1 << (bits // 2)


def _name(column: int, row: int, precision: int) -> str:
    bits = 5 * precision
    lon_bits, lat_bits = (bits + 1) // 2, bits // 2
    value = 0
    for position in range(bits):
        if position % 2 == 0:
            bit = (column >> (lon_bits - 1 - position // 2)) & 1
        else:
            bit = (row >> (lat_bits - 1 - position // 2)) & 1
        value = (value << 1) | bit
    return "".join(_BASE32[(value >> (5 * (precision - 1 - i))) & 31] for i in range(precision))


def cell_box(cell: str) -> Box:
    """The box of a geohash cell (the same grid as pygeohash: a point on a boundary belongs to the upper cell)."""
    value = 0
    for character in cell:
        value = (value << 5) | _DECODE[character]
    bits = 5 * len(cell)
    column = row = 0
    for position in range(bits):
        bit = (value >> (bits - 1 - position)) & 1
        if position % 2 == 0:
            column = (column << 1) | bit
        else:
            row = (row << 1) | bit
    return _box(column, row, len(cell))


def _box(column: int, row: int, precision: int) -> Box:
    columns, rows = _grid(precision)
    width, height = 360.0 / columns, 180.0 / rows
    return Box(-90.0 + row * height, -180.0 + column * width, -90.0 + (row + 1) * height, -180.0 + (column + 1) * width)


# -- the circle ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Extent:
    """A circle's bounding box: a latitude band and one or two longitude intervals (two across ±180)."""

    min_lat: float
    max_lat: float
    longitudes: tuple[tuple[float, float], ...]


def circle_extent(lat: float, lon: float, radius_km: float) -> Extent:
    delta = radius_km / EARTH_RADIUS_KM
    d_lat = math.degrees(delta)
    min_lat, max_lat = lat - d_lat, lat + d_lat
    if min_lat <= -90.0 or max_lat >= 90.0 or delta >= math.pi / 2:
        return Extent(max(min_lat, -90.0), min(max_lat, 90.0), ((-180.0, 180.0),))  # a pole is inside
    ratio = math.sin(delta) / math.cos(math.radians(lat))
    d_lon = 180.0 if ratio >= 1.0 else math.degrees(math.asin(ratio))
    low, high = lon - d_lon, lon + d_lon
    if high - low >= 360.0:
        return Extent(min_lat, max_lat, ((-180.0, 180.0),))
    if low < -180.0:
        return Extent(min_lat, max_lat, ((low + 360.0, 180.0), (-180.0, high)))
    if high > 180.0:
        return Extent(min_lat, max_lat, ((low, 180.0), (-180.0, high - 360.0)))
    return Extent(min_lat, max_lat, ((low, high),))


def _candidates(extent: Extent, lat: float, lon: float, precision: int) -> Iterator[tuple[int, int]]:
    """Grid cells of the extent (one cell of margin against rounding), those nearest the centre first."""
    columns, rows = _grid(precision)
    width, height = 360.0 / columns, 180.0 / rows
    first_row = max(0, math.floor((extent.min_lat + 90.0) / height) - 1)
    last_row = min(rows - 1, math.floor((extent.max_lat + 90.0) / height) + 1)
    wanted: set[int] = set()
    for low, high in extent.longitudes:
        first, last = math.floor((low + 180.0) / width) - 1, math.floor((high + 180.0) / width) + 1
        if last - first + 1 >= columns:
            wanted = set(range(columns))
            break
        wanted.update(column % columns for column in range(first, last + 1))
    center_column, center_row = (lon + 180.0) / width - 0.5, (lat + 90.0) / height - 0.5
    by_row = sorted(range(first_row, last_row + 1), key=lambda row: abs(row - center_row))
    by_column = sorted(wanted, key=lambda c: min(abs(c - center_column), columns - abs(c - center_column)))
    for row in by_row:
        for column in by_column:
            yield column, row


def _covering(lat: float, lon: float, radius_km: float, precision: int, at_most: int) -> list[str] | None:
    """The cells of a precision whose box meets the circle, or None as soon as there are more than `at_most`."""
    extent = circle_extent(lat, lon, radius_km)
    if _fewest_cells(extent, radius_km, precision) > at_most:
        return None  # the cells meeting the circle cover it: no need to find them to know they are too many
    found: list[tuple[int, int]] = []
    for column, row in _candidates(extent, lat, lon, precision):
        if _box(column, row, precision).distance_km(lat, lon) <= radius_km + _TOLERANCE_KM:
            found.append((column, row))
            if len(found) > at_most:
                return None
    return sorted(_name(column, row, precision) for column, row in found)


def _fewest_cells(extent: Extent, radius_km: float, precision: int) -> int:
    """A lower bound of the cells meeting the circle: they cover its area (a spherical cap), and none is larger than
    the largest cell of the extent's latitudes (the one nearest the equator), so they are at least cap / that cell."""
    columns, rows = _grid(precision)
    width, height = math.radians(360.0 / columns), 180.0 / rows
    nearest_equator = 0.0 if extent.min_lat <= 0.0 <= extent.max_lat else min(abs(extent.min_lat), abs(extent.max_lat))
    low = math.floor(nearest_equator / height) * height  # the row holding it, on its equator side
    largest_cell = width * (math.sin(math.radians(min(90.0, low + height))) - math.sin(math.radians(low)))
    cap = 2 * math.pi * (1 - math.cos(radius_km / EARTH_RADIUS_KM))  # both in steradians
    return math.floor(cap / largest_cell * (1 - 1e-9))


class AreaTooLarge(ValueError):
    """The circle meets more precision-4 cells than a search may read (MAX_CELLS)."""

    def __init__(self, max_radius_km: float) -> None:
        super().__init__(f"at most {max_radius_km} km can be searched around this point")
        self.max_radius_km = max_radius_km


def covering_cells(lat: float, lon: float, radius_km: float) -> list[str]:
    """The geohash cells (precision 4 to 6) whose box meets the circle: a search reads these and nothing else.

    Never more than MAX_CELLS, for any point and radius: raises AreaTooLarge (with the largest radius that fits)
    when the precision-4 cells the circle meets are more than that (module docstring)."""
    if not radius_km > 0:
        raise ValueError("the radius must be > 0")
    cells = _covering(lat, lon, radius_km, PARTITION_PRECISION, MAX_CELLS)
    if cells is None:
        raise AreaTooLarge(max_servable_radius_km(lat, lon, radius_km))
    for precision in range(PARTITION_PRECISION + 1, FINEST_QUERY_PRECISION + 1):
        finer = _covering(lat, lon, radius_km, precision, PREFERRED_CELLS)
        if finer is None:
            break
        cells = finer
    return cells


def max_servable_radius_km(lat: float, lon: float, upper_km: float) -> float:
    """The largest radius (in 10 m steps, below `upper_km`) whose covering fits MAX_CELLS: 0 on a pole.

    The covering only grows with the radius (a cell meeting a circle meets every larger one), so a bisection finds
    the threshold."""
    if _covering(lat, lon, upper_km, PARTITION_PRECISION, MAX_CELLS) is not None:
        return upper_km
    low, high = 0.0, upper_km
    while high - low > 0.001:
        middle = (low + high) / 2
        if _covering(lat, lon, middle, PARTITION_PRECISION, MAX_CELLS) is None:
            high = middle
        else:
            low = middle
    return math.floor(low * 100) / 100
