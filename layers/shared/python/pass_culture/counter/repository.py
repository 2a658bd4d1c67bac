"""The counter's reads and writes (docs/data-model.md): countermark look-ups, failed-look-up counters with a TTL
(shared by every Lambda instance), and the conditional transitions of a booking."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pass_culture.accounts.repository import membership_key
from pass_culture.bookings.models import Booking
from pass_culture.bookings.repository import booking_key, token_key
from pass_culture.bookings.rules import DueJob
from pass_culture.clock import isoformat
from pass_culture.dynamo import (
    ConditionFailed,
    Expression,
    Item,
    Put,
    Table,
    TransactionCancelled,
    Update,
    key,
)
from pass_culture.http import Caller

COUNTER_RETENTION_SECONDS = 180


def failed_lookups_key(principal: str, minute: int) -> Item:
    return key(f"RATE#{principal}#{minute}", "RATE")


class ValidationRace(Exception):
    """The booking left the status the transition required (another counter acted first)."""


class CounterRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def token_and_failures(self, token: str | None, principal: str, minute: int) -> tuple[Item | None, int]:
        """The countermark's item and the caller's failed look-ups this minute, in one round trip."""
        keys = [failed_lookups_key(principal, minute)] + ([token_key(token)] if token else [])
        found = {item["PK"]: item for item in self._table.batch_get(keys)}
        counter = found.get(f"RATE#{principal}#{minute}")
        return (found.get(f"TOKEN#{token}") if token else None), int(counter["failures"]) if counter else 0

    def booking_for(self, booking_id: str, offerer_id: str, caller: Caller) -> tuple[Booking | None, bool]:
        """The booking, and whether the caller acts for its offerer (API key's offerer, or pro's membership)."""
        keys = [booking_key(booking_id)]
        if caller.api_key_offerer_id is None and caller.user_id:
            keys.append(membership_key(caller.user_id, offerer_id))
        found = {item["PK"]: item for item in self._table.batch_get(keys)}
        item = found.get(f"BOOKING#{booking_id}")
        booking = Booking.model_validate(item) if item else None
        if caller.api_key_offerer_id is not None:
            return booking, caller.api_key_offerer_id == offerer_id
        return booking, f"USER#{caller.user_id}" in found

    def record_failed_lookup(self, principal: str, minute: int, now: datetime) -> int:
        item = self._table.update(
            failed_lookups_key(principal, minute),
            Expression(
                "ADD failures :one SET #ttl = :ttl",
                {"#ttl": "ttl"},
                {":one": 1, ":ttl": int(now.timestamp()) + COUNTER_RETENTION_SECONDS},
            ),
        )
        return int(item["failures"])

    def use(self, booking: Booking, author: str, now: datetime) -> None:
        """CONFIRMED -> USED, only if still CONFIRMED: two counters validating at once, one wins. The booking joins its
        pricing point's payable list (GSI2) for the payouts."""
        at = isoformat(now)
        values: dict[str, Any] = {
            ":used": "USED", ":confirmed": "CONFIRMED", ":at": at, ":author": author,
            ":list": f"OFFERER#{booking.offerer_id}#USED", ":sort": f"{at}#{booking.id}",
        }  # fmt: skip
        text = "SET #status = :used, usedAt = :at, validationAuthor = :author, GSI5PK = :list, GSI5SK = :sort"
        operations: list[Any] = []
        if booking.pricing_point_venue_id:
            text += ", GSI2PK = :payable, GSI2SK = :sort"
            values[":payable"] = f"PAYABLE#{booking.pricing_point_venue_id}"
            operations.append(
                Put({**key("PAYABLE_POINTS", f"PRICING_POINT#{booking.pricing_point_venue_id}"), "since": at})
            )
        update = Update(
            booking_key(booking.id),
            Expression(text + " REMOVE GSI3PK, GSI3SK", {"#status": "status"}, values),
            Expression("#status = :confirmed", {"#status": "status"}),
        )
        try:
            self._table.transact([update, *operations])
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_positions():
                raise ValidationRace from None
            raise

    def keep(self, booking: Booking, due: tuple[DueJob, date] | None) -> None:
        """USED -> CONFIRMED (the pro undoes a validation): out of the payable list, back to its due job."""
        values: dict[str, Any] = {
            ":used": "USED", ":confirmed": "CONFIRMED", ":list": f"OFFERER#{booking.offerer_id}#CONFIRMED",
            ":sort": f"{isoformat(booking.booked_at)}#{booking.id}",
        }  # fmt: skip
        text = "SET #status = :confirmed, GSI5PK = :list, GSI5SK = :sort"
        if due is not None:
            text += ", GSI3PK = :due, GSI3SK = :id"
            values.update({":due": f"DUE#{due[0].value}#{due[1].isoformat()}", ":id": booking.id})
        try:
            self._table.update(
                booking_key(booking.id),
                Expression(text + " REMOVE usedAt, validationAuthor, GSI2PK, GSI2SK", {"#status": "status"}, values),
                condition=Expression("#status = :used", {"#status": "status"}),
            )
        except ConditionFailed:
            raise ValidationRace from None
