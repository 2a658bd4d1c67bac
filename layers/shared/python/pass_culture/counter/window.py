"""The sliding window of failed countermark look-ups. Pure.

A bucket (an offerer, or a pro who belongs to none) counts its failures in slots of `slot_seconds` (6 s). A new
failure at instant t, in slot s, is allowed when the bucket holds fewer than `limit` failures in the slots s-k … s,
where k = seconds / slot_seconds (10). Those slots cover every instant of (t - 60 s, t], so no 60-second interval
ever holds more than `limit` failures — whatever the arrival times (tests/unit/test_counter_window.py checks it on
random sequences) — and there is no burst when a minute turns: failures leave the count one slot at a time,
60 to 66 s after they happened.

Only the current slot ever grows, so the repository stores one item per bucket with one attribute per slot and
counts a failure with `ADD` on the current slot, conditioned on that slot being below `budget` (the limit minus
the past slots, as read) and on the past slots being unchanged: DynamoDB refuses the write past the limit, and a
refused write is a 429.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pass_culture.settings import FAILED_LOOKUPS_SLOT_SECONDS, FAILED_LOOKUPS_WINDOW_SECONDS, MAX_FAILED_LOOKUPS

Counts = Mapping[int, int]  # slot number -> failures counted in it


@dataclass(frozen=True)
class FailureWindow:
    limit: int = MAX_FAILED_LOOKUPS
    seconds: int = FAILED_LOOKUPS_WINDOW_SECONDS
    slot_seconds: int = FAILED_LOOKUPS_SLOT_SECONDS

    def __post_init__(self) -> None:
        if self.limit < 1 or self.slot_seconds < 1 or self.seconds % self.slot_seconds:
            raise ValueError("the window needs a limit ≥ 1 and a length that is a whole number of slots")

    @property
    def past_slot_count(self) -> int:
        """k: how many slots before the current one still count."""
        return self.seconds // self.slot_seconds

    def slot(self, at: float) -> int:
        """The slot of an instant (seconds since the epoch)."""
        return math.floor(at / self.slot_seconds)

    def past_slots(self, at: float) -> range:
        current = self.slot(at)
        return range(current - self.past_slot_count, current)

    def counted(self, counts: Counts, at: float) -> int:
        """Failures that count against a new one at `at`."""
        current = self.slot(at)
        return sum(counts.get(slot, 0) for slot in range(current - self.past_slot_count, current + 1))

    def budget(self, counts: Counts, at: float) -> int:
        """How many failures the current slot may hold in all: the limit minus the past slots that still count."""
        return self.limit - sum(counts.get(slot, 0) for slot in self.past_slots(at))

    def allows(self, counts: Counts, at: float) -> bool:
        return self.counted(counts, at) < self.limit

    def when_allowed(self, counts: Counts, at: float) -> float:
        """The first instant ≥ `at` at which a failure would be allowed, if no other failure happens meanwhile."""
        if self.allows(counts, at):
            return at
        current = self.slot(at)
        last = max([current, *counts])
        for slot in range(current + 1, last + self.past_slot_count + 2):
            start = slot * self.slot_seconds
            if self.allows(counts, start):
                return float(start)
        raise AssertionError("unreachable: every failure leaves the window")  # pragma: no cover

    def retry_after(self, counts: Counts, at: float) -> int:
        """Whole seconds to wait before the next failure can be counted (0: now). Waiting exactly this long is
        enough: `allows(counts, at + retry_after)` holds, and one second less does not."""
        return math.ceil(self.when_allowed(counts, at) - at)

    def filled(self, counts: Counts, at: float) -> dict[int, int]:
        """The counts a refused write implies: the current slot filled up to its budget."""
        current = self.slot(at)
        return {**counts, current: max(counts.get(current, 0), self.budget(counts, at))}

    def stale(self, counts: Counts, at: float) -> list[int]:
        """Slots that no longer count (and will never count again): the repository removes them."""
        oldest = self.slot(at) - self.past_slot_count
        return sorted(slot for slot in counts if slot < oldest)

    def expiry(self, at: float) -> int:
        """When a failure counted at `at` stops counting (seconds since the epoch): the item's TTL goes past it."""
        return (self.slot(at) + self.past_slot_count + 1) * self.slot_seconds
