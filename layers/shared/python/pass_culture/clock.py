"""Time: always timezone-aware. Storage is UTC; business dates (periods, "days" of the rules) are Europe/Paris.

"Now" is injected: use cases take a `Clock`, jobs build a `FixedClock` from their event time so they can be replayed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told (tests, and jobs replayed for a given event time)."""

    def __init__(self, at: datetime) -> None:
        self._at = require_aware(at)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {value.isoformat()}")
    return value


def to_utc(value: datetime) -> datetime:
    return require_aware(value).astimezone(UTC)


def paris_date(value: datetime) -> date:
    """The calendar day in Paris of an instant (what the rules mean by 'a day')."""
    return require_aware(value).astimezone(PARIS).date()


def paris_midnight(day: date) -> datetime:
    """00:00 Europe/Paris of a day, as an aware datetime (periods are cut there)."""
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset ('Z' accepted). Refuses naive values."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return to_utc(value)


def isoformat(value: datetime) -> str:
    """The storage and API form of an instant: UTC, ISO 8601, 'Z' suffix, millisecond precision."""
    return to_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
