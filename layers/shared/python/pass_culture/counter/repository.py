"""The counter's reads and writes (docs/data-model.md): countermark look-ups, the failed-look-up windows (one item
per offerer, or per pro who belongs to none, with a TTL, shared by every Lambda instance), and the conditional
transitions of a booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pass_culture.accounts.repository import AccountsRepository, membership_key
from pass_culture.bookings.models import Booking
from pass_culture.bookings.repository import BookingRef, BookingsRepository, booking_key, due_index_keys, token_key
from pass_culture.bookings.rules import Due
from pass_culture.clock import isoformat
from pass_culture.counter.window import FailureWindow
from pass_culture.dynamo import (
    ConditionFailed,
    Expression,
    Item,
    Table,
    TransactionCancelled,
    Update,
    key,
)

# A window item outlives the last failure it counts by this much (TTL deletion is lazy anyway; an item gone early
# would forget failures, one kept late costs nothing).
WINDOW_TTL_MARGIN_SECONDS = 120
SLOT_PREFIX = "f"  # one attribute per slot: f<slot number> = failures counted in that slot


def offerer_bucket(offerer_id: str) -> str:
    return f"OFFERER#{offerer_id}"


def user_bucket(user_id: str) -> str:
    return f"USER#{user_id}"


def failed_lookups_key(bucket: str) -> Item:
    return key(f"RATE#{bucket}", "FAILED_LOOKUPS")


@dataclass(frozen=True)
class FailureLog:
    """A bucket's failed look-ups as read: slot number -> failures."""

    bucket: str
    counts: dict[int, int]


@dataclass(frozen=True)
class CountermarkEntry:
    booking_id: str
    offerer_id: str


def _log(bucket: str, item: Item | None) -> FailureLog:
    counts = {
        int(name[len(SLOT_PREFIX) :]): int(value)
        for name, value in (item or {}).items()
        if name.startswith(SLOT_PREFIX) and name[len(SLOT_PREFIX) :].isdigit()
    }
    return FailureLog(bucket, counts)


class ValidationRace(Exception):
    """The booking left the status the transition required (another counter acted first)."""


class FailureRefused(Exception):
    """DynamoDB refused to count a failed look-up: a bucket is at its limit (or changed since it was read)."""

    def __init__(self, buckets: list[str]) -> None:
        super().__init__(f"failed look-up refused for {buckets}")
        self.buckets = buckets


class CounterRepository:
    def __init__(self, table: Table, window: FailureWindow | None = None) -> None:
        self._table = table
        self._accounts = AccountsRepository(table)
        self._bookings = BookingsRepository(table)
        self.window = window or FailureWindow()

    # -- look-ups ------------------------------------------------------------------------------------------------
    def token_and_logs(self, token: str | None, buckets: list[str]) -> tuple[CountermarkEntry | None, list[FailureLog]]:
        """The countermark and the buckets' failed look-ups, in one round trip."""
        keys = [failed_lookups_key(bucket) for bucket in buckets] + ([token_key(token)] if token else [])
        found = {item["PK"]: item for item in self._table.batch_get(keys)} if keys else {}
        entry = found.get(f"TOKEN#{token}") if token else None
        logs = [_log(bucket, found.get(f"RATE#{bucket}")) for bucket in buckets]
        return (CountermarkEntry(str(entry["bookingId"]), str(entry["offererId"])) if entry else None), logs

    def token(self, token: str | None) -> CountermarkEntry | None:
        if token is None:
            return None
        entry = self._table.get(token_key(token))
        return CountermarkEntry(str(entry["bookingId"]), str(entry["offererId"])) if entry else None

    def booking(self, booking_id: str) -> Booking | None:
        item = self._table.get(booking_key(booking_id))
        return Booking.model_validate(item) if item else None

    def booking_for_member(
        self, booking_id: str, offerer_id: str, user_id: str
    ) -> tuple[Booking | None, bool, FailureLog]:
        """The booking, whether the pro is a member of its offerer, and that offerer's failed look-ups: one round
        trip."""
        bucket = offerer_bucket(offerer_id)
        keys = [booking_key(booking_id), membership_key(user_id, offerer_id), failed_lookups_key(bucket)]
        found = {item["PK"]: item for item in self._table.batch_get(keys)}
        item = found.get(f"BOOKING#{booking_id}")
        booking = Booking.model_validate(item) if item else None
        return booking, f"USER#{user_id}" in found, _log(bucket, found.get(f"RATE#{bucket}"))

    def pro_buckets(self, user_id: str) -> list[str]:
        """Whom a pro's failed look-ups count against: each offerer they belong to (at most 100: one page), or
        themselves when they belong to none."""
        offerers = self._accounts.offerers_of(user_id)
        return [offerer_bucket(offerer_id) for offerer_id in sorted(offerers)[:100]] or [user_bucket(user_id)]

    def logs(self, buckets: list[str]) -> list[FailureLog]:
        found = {item["PK"]: item for item in self._table.batch_get([failed_lookups_key(b) for b in buckets])}
        return [_log(bucket, found.get(f"RATE#{bucket}")) for bucket in buckets]

    # -- counting a failed look-up -------------------------------------------------------------------------------
    def count_failure(self, logs: list[FailureLog], now: datetime) -> None:
        """Counts one failed look-up in every bucket, all or none: one conditional write (UpdateItem, or one
        TransactWriteItems for several buckets). Raises FailureRefused naming the refusing buckets."""
        at = now.timestamp()
        if any(self.window.budget(log.counts, at) < 1 for log in logs):
            raise FailureRefused([log.bucket for log in logs if self.window.budget(log.counts, at) < 1])
        updates = [self._count(log, at) for log in logs]
        if len(updates) == 1:
            try:
                self._table.update(updates[0].key, updates[0].update, condition=updates[0].condition)
            except ConditionFailed:
                raise FailureRefused([logs[0].bucket]) from None
            return
        try:
            self._table.transact(updates)
        except TransactionCancelled as cancelled:
            # A conflicting transaction (no condition failed) refuses all of them: the caller is told to wait.
            failed = cancelled.failed_positions() or range(len(logs))
            raise FailureRefused([logs[i].bucket for i in failed]) from None

    def _count(self, log: FailureLog, at: float) -> Update:
        """ADD 1 to the current slot if it is below its budget and the past slots are as read; the slots that no
        longer count are removed, the TTL pushed past the window."""
        window = self.window
        current = window.slot(at)
        names = {"#cur": f"{SLOT_PREFIX}{current}", "#ttl": "ttl", "#entity": "entity"}
        values: dict[str, Any] = {
            ":one": 1,
            ":budget": window.budget(log.counts, at),
            ":ttl": window.expiry(at) + WINDOW_TTL_MARGIN_SECONDS,
            ":entity": "FAILED_LOOKUPS",
        }
        conditions = ["(attribute_not_exists(#cur) OR #cur < :budget)"]
        for i, slot in enumerate(window.past_slots(at)):
            names[f"#p{i}"] = f"{SLOT_PREFIX}{slot}"
            if log.counts.get(slot):
                values[f":p{i}"] = log.counts[slot]
                conditions.append(f"#p{i} = :p{i}")
            else:
                conditions.append(f"attribute_not_exists(#p{i})")
        text = "ADD #cur :one SET #ttl = :ttl, #entity = :entity"
        stale = window.stale(log.counts, at)
        if stale:
            names.update({f"#s{i}": f"{SLOT_PREFIX}{slot}" for i, slot in enumerate(stale)})
            text += " REMOVE " + ", ".join(f"#s{i}" for i in range(len(stale)))
        return Update(
            failed_lookups_key(log.bucket),
            Expression(text, names, values),
            Expression(" AND ".join(conditions)),
        )

    def use(self, booking: Booking, author: str, now: datetime) -> None:
        """CONFIRMED -> USED, only if still CONFIRMED: two counters validating at once, one wins."""
        try:
            self._bookings.mark_used(BookingRef.of(booking), author, now)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_positions():
                raise ValidationRace from None
            raise

    def keep(self, booking: Booking, due: Due | None) -> None:
        """USED -> CONFIRMED (the pro undoes a validation): out of the payable list, back to its due job."""
        values: dict[str, Any] = {
            ":used": "USED", ":confirmed": "CONFIRMED", ":list": f"OFFERER#{booking.offerer_id}#CONFIRMED",
            ":sort": f"{isoformat(booking.booked_at)}#{booking.id}",
        }  # fmt: skip
        text = "SET #status = :confirmed, GSI5PK = :list, GSI5SK = :sort"
        if due is not None:
            keys = due_index_keys(due, booking.id, reminded=booking.expiry_reminder_sent_at is not None)
            text += ", GSI3PK = :due, GSI3SK = :due_sort"
            values.update({":due": keys["GSI3PK"], ":due_sort": keys["GSI3SK"]})
        try:
            self._table.update(
                booking_key(booking.id),
                Expression(text + " REMOVE usedAt, validationAuthor, GSI2PK, GSI2SK", {"#status": "status"}, values),
                # a booking the payouts priced meanwhile stays USED: its pricing counts in the year's revenue
                condition=Expression("#status = :used AND attribute_not_exists(pricing)", {"#status": "status"}),
            )
        except ConditionFailed:
            raise ValidationRace from None
