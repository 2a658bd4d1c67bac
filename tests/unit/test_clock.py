from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pass_culture.clock import (
    FixedClock,
    SystemClock,
    isoformat,
    paris_date,
    paris_midnight,
    parse_instant,
    require_aware,
)


def test_a_late_evening_in_utc_is_already_the_next_day_in_paris() -> None:
    assert paris_date(datetime(2026, 1, 15, 23, 30, tzinfo=UTC)) == date(2026, 1, 16)  # winter: UTC+1
    assert paris_date(datetime(2026, 7, 15, 22, 30, tzinfo=UTC)) == date(2026, 7, 16)  # summer: UTC+2
    assert paris_date(datetime(2026, 7, 15, 21, 59, tzinfo=UTC)) == date(2026, 7, 15)


def test_periods_are_cut_at_midnight_paris_time() -> None:
    assert paris_midnight(date(2026, 11, 16)).astimezone(UTC) == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    assert paris_midnight(date(2026, 7, 1)).astimezone(UTC) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        require_aware(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        parse_instant("2026-01-01T10:00:00")


def test_instants_are_stored_in_utc_with_a_z() -> None:
    paris_time = datetime(2026, 11, 16, 2, 0, tzinfo=timezone(timedelta(hours=1)))
    assert isoformat(paris_time) == "2026-11-16T01:00:00.000Z"
    assert parse_instant("2026-11-16T01:00:00Z") == datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def test_clocks() -> None:
    fixed = FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    fixed.advance(timedelta(days=30))
    assert fixed.now() == datetime(2026, 12, 23, 12, 0, tzinfo=UTC)
    assert SystemClock().now().tzinfo is not None
