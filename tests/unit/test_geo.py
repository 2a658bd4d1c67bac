"""The covering of a circle by geohash cells (issue #9): never more than MAX_CELLS cells (one Query each) for any
point and radius, at the poles and across the antimeridian too, and never a point of the circle outside them."""

from __future__ import annotations

import random

import pygeohash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygeohash.bounding_box import get_bounding_box

from pass_culture.geo import (
    MAX_CELLS,
    PARTITION_PRECISION,
    AreaTooLarge,
    Box,
    cell_box,
    circle_extent,
    covering_cells,
    destination,
    encode,
    haversine_km,
    max_servable_radius_km,
)

MAX_RADIUS_KM = 100.0  # the contract's (offers.service.MAX_RADIUS_KM)
LATITUDES = (-90.0, -89.99, -89.9, -70.0, -45.0, 0.0, 45.0, 48.8566, 70.0, 89.9, 89.99, 90.0)
LONGITUDES = (-180.0, -179.99, -179.95, 0.0, 2.3522, 179.9, 179.99, 180.0)
RADII = (1e-6, 1.0, 10.0, 50.0, MAX_RADIUS_KM)


def circle_sample(
    lat: float, lon: float, radius_km: float, bearings: int = 72, rings: int = 2
) -> list[tuple[float, float]]:
    """The centre, points on the boundary (a hair inside: the boundary itself is float noise) and on `rings` - 1
    circles inside it."""
    points = [(lat, lon)]
    for step in range(bearings):
        for ring in range(1, rings + 1):
            fraction = min(ring / rings, 1 - 1e-9)
            points.append(destination(lat, lon, radius_km * fraction, 360.0 * step / bearings))
    return points


def covering_or_refusal(lat: float, lon: float, radius_km: float) -> list[str] | AreaTooLarge:
    try:
        return covering_cells(lat, lon, radius_km)
    except AreaTooLarge as refused:
        return refused


def assert_covers(cells: list[str], lat: float, lon: float, radius_km: float) -> None:
    precisions = {len(cell) for cell in cells}
    assert len(precisions) == 1 and PARTITION_PRECISION <= precisions.pop() <= 6
    wanted = set(cells)
    for point_lat, point_lon in circle_sample(lat, lon, radius_km):
        stored = encode(point_lat, point_lon)  # where the index files an offer at that point
        assert stored[: len(cells[0])] in wanted, (lat, lon, radius_km, point_lat, point_lon)


@pytest.mark.parametrize("radius", RADII)
@pytest.mark.parametrize("lon", LONGITUDES)
@pytest.mark.parametrize("lat", LATITUDES)
def test_every_search_reads_at_most_max_cells_and_misses_no_point_of_its_circle(
    lat: float, lon: float, radius: float
) -> None:
    cells = covering_or_refusal(lat, lon, radius)
    if isinstance(cells, AreaTooLarge):
        refused = cells
        assert refused.max_radius_km < radius
        # The refusal is honest: points of the circle alone fall in more than MAX_CELLS partitions.
        sample = circle_sample(lat, lon, radius, bearings=360, rings=12)
        assert len({encode(a, b)[:PARTITION_PRECISION] for a, b in sample}) > MAX_CELLS
        if refused.max_radius_km > 0:  # and what it offers instead is served
            assert_covers(covering_cells(lat, lon, refused.max_radius_km), lat, lon, refused.max_radius_km)
        return
    assert len(cells) <= MAX_CELLS
    assert_covers(cells, lat, lon, radius)


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    radius=st.floats(1e-6, MAX_RADIUS_KM),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
def test_anywhere_on_earth_a_covering_fits_the_cap_and_holds_every_point_of_the_circle(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    cells = covering_or_refusal(lat, lon, radius)
    if isinstance(cells, AreaTooLarge):
        assert 0 <= cells.max_radius_km < radius
        return
    assert len(cells) <= MAX_CELLS
    point = encode(*destination(lat, lon, radius * fraction * (1 - 1e-9), bearing))
    assert any(point.startswith(cell) for cell in cells)


def test_paris_and_all_of_metropolitan_france_are_served_at_the_maximum_radius() -> None:
    rng = random.Random(9)
    for _ in range(200):
        lat, lon = rng.uniform(41.3, 51.1), rng.uniform(-5.2, 9.6)
        assert len(covering_cells(lat, lon, MAX_RADIUS_KM)) <= MAX_CELLS
    assert 60 <= len(covering_cells(48.8566, 2.3522, MAX_RADIUS_KM)) <= MAX_CELLS


def test_near_a_pole_the_largest_served_radius_shrinks_and_is_exact() -> None:
    served = [max_servable_radius_km(lat, 0.0, MAX_RADIUS_KM) for lat in (45.0, 70.0, 80.0, 89.0, 89.9, 89.99, 90.0)]
    assert served[0] == MAX_RADIUS_KM
    assert served == sorted(served, reverse=True)
    assert served[-1] == 0.0  # on the pole every longitude meets: nothing is served
    assert 3 < max_servable_radius_km(89.9, 0.0, MAX_RADIUS_KM) < 4
    limit = max_servable_radius_km(-89.9, 123.4, MAX_RADIUS_KM)
    assert len(covering_cells(-89.9, 123.4, limit)) <= MAX_CELLS
    with pytest.raises(AreaTooLarge):
        covering_cells(-89.9, 123.4, limit + 0.05)


def test_the_original_polar_search_is_refused_with_the_radius_it_could_have() -> None:
    with pytest.raises(AreaTooLarge) as refused:
        covering_cells(89.9, 0.0, 100.0)  # 6 144 Queries before issue #9
    assert 3 < refused.value.max_radius_km < 4


def test_a_circle_across_the_antimeridian_reads_cells_on_both_sides() -> None:
    for lat, lon in ((0.0, 179.9), (0.0, -179.95), (-17.5, 180.0), (65.0, -180.0)):
        cells = covering_cells(lat, lon, 50.0)
        assert any(cell_box(c).min_lon < -179.0 for c in cells), (lat, lon)  # west of the antimeridian
        assert any(cell_box(c).max_lon > 179.0 for c in cells), (lat, lon)  # and east of it
        assert_covers(cells, lat, lon, 50.0)


def test_a_circle_holding_a_pole_spans_every_longitude() -> None:
    extent = circle_extent(89.99, 10.0, 5.0)
    assert extent.longitudes == ((-180.0, 180.0),) and extent.max_lat == 90.0
    across = circle_extent(10.0, 179.9, 50.0)
    assert len(across.longitudes) == 2


def test_small_circles_read_few_fine_cells_and_a_tiny_one_reads_one() -> None:
    cells = covering_cells(48.8566, 2.3522, 1.0)
    assert len(cells) <= 24 and all(len(cell) == 6 for cell in cells)
    assert covering_cells(48.8566, 2.3522, 1e-6) == [encode(48.8566, 2.3522)[:6]]


def test_radius_zero_or_negative_is_not_a_circle() -> None:
    for radius in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="> 0"):
            covering_cells(48.8566, 2.3522, radius)


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180), precision=st.integers(1, 9))
def test_cell_boxes_are_pygeohash_boxes(lat: float, lon: float, precision: int) -> None:
    cell = str(pygeohash.encode(lat, lon, precision=precision))
    box = cell_box(cell)
    assert box.min_lat <= lat <= box.max_lat and box.min_lon <= lon <= box.max_lon
    theirs = get_bounding_box(cell)
    assert (box.min_lat, box.min_lon, box.max_lat, box.max_lon) == pytest.approx(
        (theirs.min_lat, theirs.min_lon, theirs.max_lat, theirs.max_lon)
    )


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    box_lat=st.floats(-90, 89),
    box_lon=st.floats(-180, 179),
    height=st.floats(0.001, 1),
    width=st.floats(0.001, 1),
)
def test_the_distance_to_a_box_is_the_distance_to_its_nearest_point(
    lat: float, lon: float, box_lat: float, box_lon: float, height: float, width: float
) -> None:
    box = Box(box_lat, box_lon, box_lat + height, box_lon + width)
    sampled = min(
        haversine_km(lat, lon, box.min_lat + height * i / 64, box.min_lon + width * j / 64)
        for i in range(65)
        for j in range(65)
    )
    exact = box.distance_km(lat, lon)
    assert exact <= sampled + 1e-6
    step_km = haversine_km(box.min_lat, box.min_lon, box.min_lat + height / 64, box.min_lon + width / 64)
    assert sampled - exact <= step_km + 1e-6


@given(
    lat=st.floats(-89.99, 89.99),
    lon=st.floats(-180, 180),
    radius_km=st.floats(0.05, 120),
    precision=st.integers(4, 6),
)
@settings(max_examples=300, deadline=None)
def test_the_area_bound_never_exceeds_the_cells_the_circle_meets(
    lat: float, lon: float, radius_km: float, precision: int
) -> None:
    """`_covering` gives up without looking when the circle's area needs more cells than allowed: that bound must
    be a true lower bound of the covering, or a search would read a coarser covering than it could."""
    from pass_culture.geo import _covering, _fewest_cells, circle_extent

    bound = _fewest_cells(circle_extent(lat, lon, radius_km), radius_km, precision)
    whole = _covering(lat, lon, radius_km, precision, at_most=bound + 400)  # past the bound: computed in full
    if whole is not None:
        assert bound <= len(whole)
