"""Bookings in the table (docs/data-model.md). The only code that knows their keys.

Booking is one transaction: the booking, the stock's booked count (conditioned on what is left), the credit
(conditioned on what is left), the countermark's and the one-per-offer uniqueness items, and checks that the offer is
active and its offerer validated. A lost race fails a condition: the position says which, never a half-write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from pass_culture.accounts.models import Beneficiary, Credit
from pass_culture.accounts.repository import beneficiary_key, credit_key, offerer_key
from pass_culture.bookings.models import Booking
from pass_culture.bookings.rules import BookingStatus, Due, DueJob
from pass_culture.clock import isoformat
from pass_culture.dynamo import (
    GSI1,
    ITEM_IS_NEW,
    ConditionCheck,
    Delete,
    Expression,
    Item,
    Operation,
    Page,
    Put,
    Table,
    TransactionCancelled,
    Update,
    key,
)
from pass_culture.offers.models import Offer, Stock
from pass_culture.offers.repository import offer_id_of_stock, offer_key, stock_key


def booking_key(booking_id: str) -> Item:
    return key(f"BOOKING#{booking_id}", "BOOKING")


def token_key(token: str) -> Item:
    return key(f"TOKEN#{token}", "TOKEN")


def active_booking_key(user_id: str, offer_id: str) -> Item:
    return key(f"USER#{user_id}", f"ACTIVE_BOOKING#{offer_id}")


class BookingRace(Enum):
    """What a failed booking transaction lost to."""

    STOCK = "stock"
    TOKEN = "token"
    ALREADY_BOOKED = "already booked"
    NOT_BOOKABLE = "not bookable"
    CREDIT = "credit"


class BookingLost(Exception):
    def __init__(self, races: set[BookingRace]) -> None:
        super().__init__(", ".join(sorted(r.value for r in races)))
        self.races = races


REMINDED = "REMINDED#"  # GSI3SK prefix of an expiry entry whose reminder went: out of the reminders' range


def due_partition(job: DueJob, day: date) -> str:
    return f"DUE#{job.value}#{day.isoformat()}"


def due_index_keys(due: Due, booking_id: str, *, reminded: bool = False) -> Item:
    """GSI3, the daily jobs' index (docs/data-model.md): partition `DUE#<job>#<day>`, present only while CONFIRMED.
    Auto-validation sorts by when the rule is met (a run reads its own day only up to its time); expiry sorts by
    reminder day (`REMIND#<day>#<id>`, a run reads the reminders due by its day), then `REMINDED#<id>` once sent."""
    if due.job is DueJob.AUTO_VALIDATE:
        sort = f"{isoformat(due.at)}#{booking_id}"
    elif reminded or due.reminder_day is None:
        sort = f"{REMINDED}{booking_id}"
    else:
        sort = f"REMIND#{due.reminder_day.isoformat()}#{booking_id}"
    return {"GSI3PK": due_partition(due.job, due.day), "GSI3SK": sort}


def booking_item(booking: Booking, due: Due | None) -> Item:
    item: Item = {
        **booking_key(booking.id),
        "entity": "BOOKING",
        **booking.to_api(),
        "GSI1PK": f"USER#{booking.beneficiary.id}",
        "GSI1SK": f"BOOKING#{isoformat(booking.booked_at)}#{booking.id}",
        "GSI4PK": f"OFFERER#{booking.offerer_id}#BOOKINGS",
        "GSI4SK": f"{isoformat(booking.booked_at)}#{booking.id}",
        "GSI5PK": f"OFFERER#{booking.offerer_id}#{booking.status.value}",
        "GSI5SK": f"{isoformat(booking.booked_at)}#{booking.id}",
    }
    if due is not None:
        item.update(due_index_keys(due, booking.id))
    return item


class BookingRef(BaseModel):
    """What a transition of a booking writes with: enough to build it without reading the booking (the daily jobs
    act on what their index projects)."""

    model_config = ConfigDict(frozen=True)

    id: str
    offerer_id: str
    offer_id: str
    stock_id: str
    beneficiary_id: str
    quantity: int
    amount_cents: int
    is_digital_capped: bool = False
    pricing_point_venue_id: str | None = None

    @classmethod
    def of(cls, booking: Booking) -> BookingRef:
        return cls(
            id=booking.id, offerer_id=booking.offerer_id, offer_id=booking.offer_id, stock_id=booking.stock_id,
            beneficiary_id=booking.beneficiary.id, quantity=booking.quantity, amount_cents=booking.amount_cents,
            is_digital_capped=booking.is_digital_capped, pricing_point_venue_id=booking.pricing_point_venue_id,
        )  # fmt: skip


@dataclass(frozen=True)
class BookingContext:
    offer: Offer | None
    stock: Stock | None
    beneficiary: Beneficiary | None
    credit: Credit | None


class BookingsRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def context(self, stock_id: str, user_id: str) -> BookingContext:
        """Everything a booking is decided on, in one round trip."""
        offer_id = offer_id_of_stock(stock_id)
        found = {
            (i["PK"], i["SK"]): i
            for i in self._table.batch_get(
                [offer_key(offer_id), stock_key(stock_id), beneficiary_key(user_id), credit_key(user_id)]
            )
        }

        def get(item_key: Item) -> Item | None:
            return found.get((item_key["PK"], item_key["SK"]))

        offer, stock = get(offer_key(offer_id)), get(stock_key(stock_id))
        beneficiary, credit = get(beneficiary_key(user_id)), get(credit_key(user_id))
        return BookingContext(
            Offer.model_validate(offer) if offer else None,
            Stock.model_validate(stock) if stock else None,
            Beneficiary.model_validate(beneficiary) if beneficiary else None,
            Credit.model_validate(credit) if credit else None,
        )

    def book(self, booking: Booking, stock: Stock, credit: Credit, due: Due | None, now: datetime) -> None:
        asked = booking.quantity
        # The stock carries its offer's isActive (offers.repository.stock_item): no check of the offer's item, which
        # shares the stock's partition (docs/scale.md §8).
        stock_condition = (
            "attribute_exists(PK) AND offerActive = :true"
            " AND (attribute_type(bookingLimitDatetime, :null) OR bookingLimitDatetime >= :now)"
        )
        values: dict[str, Any] = {":asked": asked, ":null": "NULL", ":now": isoformat(now), ":true": True}
        if stock.quantity is None:
            stock_condition += " AND attribute_type(quantity, :null)"
        else:
            # DynamoDB conditions do no arithmetic: "booked + asked ≤ quantity" is "booked ≤ quantity − asked", with
            # the quantity we read (a concurrent change of it fails the booking, which the client may retry).
            stock_condition += " AND quantity = :quantity AND bookedQuantity <= :max_booked"
            values.update({":quantity": stock.quantity, ":max_booked": stock.quantity - asked})
        user_id = booking.beneficiary.id
        operations: list[Operation] = [
            Put(booking_item(booking, due), ITEM_IS_NEW),
            Update(
                stock_key(stock.id),
                Expression("SET bookedQuantity = bookedQuantity + :asked", values=values),
                Expression(stock_condition),
                return_old_on_failure=True,  # sold out, or its offer deactivated meanwhile: the old item tells
            ),
            Put({**token_key(booking.token), "bookingId": booking.id, "offererId": booking.offerer_id}, ITEM_IS_NEW),
            Put({**active_booking_key(user_id, booking.offer_id), "bookingId": booking.id}, ITEM_IS_NEW),
            ConditionCheck(
                offerer_key(booking.offerer_id),
                Expression("validationStatus = :validated", values={":validated": "VALIDATED"}),
            ),
        ]
        if booking.amount_cents > 0:
            operations.append(Update(credit_key(user_id), *self._spend(credit, booking, now)))
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            by_position = {
                1: BookingRace.STOCK,
                2: BookingRace.TOKEN,
                3: BookingRace.ALREADY_BOOKED,
                4: BookingRace.NOT_BOOKABLE,
                5: BookingRace.CREDIT,
            }
            races = {by_position[p] for p in cancelled.failed_positions() if p in by_position}
            old_stock = cancelled.old_item(1) if BookingRace.STOCK in races else None
            if old_stock is not None and old_stock.get("offerActive") is not True:
                races = (races - {BookingRace.STOCK}) | {BookingRace.NOT_BOOKABLE}
            raise BookingLost(races) from None

    @staticmethod
    def _spend(credit: Credit, booking: Booking, now: datetime) -> tuple[Expression, Expression]:
        amount = booking.amount_cents
        values: dict[str, Any] = {
            ":amount": amount,
            ":max_spent": credit.initial_cents - amount,
            ":now": isoformat(now),
        }
        text, condition = "SET spentCents = spentCents + :amount", "spentCents <= :max_spent AND expiresAt > :now"
        if booking.is_digital_capped and credit.digital_cap_cents is not None:
            text += ", digitalSpentCents = digitalSpentCents + :amount"
            condition += " AND digitalSpentCents <= :max_digital"
            values[":max_digital"] = credit.digital_cap_cents - amount
        return Expression(text, values=values), Expression(condition)

    def get(self, booking_id: str) -> Booking | None:
        item = self._table.get(booking_key(booking_id))
        return Booking.model_validate(item) if item else None

    def cancel(
        self, booking: Booking, reason: str, now: datetime, *, from_status: BookingStatus = BookingStatus.CONFIRMED
    ) -> None:
        """Cancels and gives back the places and the credit, at once; conditioned on the status read."""
        try:
            self._table.transact(cancel_operations(BookingRef.of(booking), reason, now, from_status=from_status))
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_positions():
                raise BookingLost({BookingRace.STOCK}) from None
            raise

    def mark_used(self, booking: BookingRef, author: str, now: datetime) -> None:
        """CONFIRMED -> USED, only if still CONFIRMED: two counters validating at once, one wins. The booking and its
        pricing point join the payouts' lists. Raises TransactionCancelled (position 0: the booking moved)."""
        update = used_update(booking, author, now, due_partition=None)
        point = [payable_point(booking.pricing_point_venue_id, now)] if booking.pricing_point_venue_id else []
        self._table.transact([update, *point])

    def for_offerer(
        self,
        offerer_id: str,
        *,
        status: BookingStatus | None,
        period: tuple[str, str] | None,
        filter_: Expression | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Booking], str | None]:
        """An offerer's bookings, newest first: all by booking date (GSI4), or one status by that status's date
        (GSI5). Venue, offer and event-date filters apply inside that offerer's partition only."""
        index, partition = (
            ("GSI5", f"OFFERER#{offerer_id}#{status.value}") if status else ("GSI4", f"OFFERER#{offerer_id}#BOOKINGS")
        )
        found: list[Booking] = []
        for _page in range(50):  # bounded work per request; the cursor carries on
            page = self._table.query(
                partition, index=index, sort_between=period, limit=limit - len(found), cursor=cursor,
                newest_first=True, filter_=filter_,
            )  # fmt: skip
            found += [Booking.model_validate(item) for item in page.items]
            cursor = page.next_cursor
            if cursor is None or len(found) >= limit:
                break
        return found, cursor

    def of_beneficiary(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[Booking], str | None]:
        page: Page = self._table.query(
            f"USER#{user_id}", index=GSI1, sort_prefix="BOOKING#", limit=limit, cursor=cursor, newest_first=True
        )
        return [Booking.model_validate(item) for item in page.items], page.next_cursor


def _status_is(status: BookingStatus, due_partition: str | None) -> Expression:
    text, values = "#status = :from", {":from": status.value}
    if due_partition is not None:
        text += " AND GSI3PK = :due"
        values[":due"] = due_partition
    return Expression(text, {"#status": "status"}, values)


def cancel_operations(
    booking: BookingRef,
    reason: str,
    now: datetime,
    *,
    from_status: BookingStatus = BookingStatus.CONFIRMED,
    due_partition: str | None = None,
) -> list[Operation]:
    """The booking cancelled, its places and credit given back: one transaction's operations, the booking first."""
    at = isoformat(now)
    operations: list[Operation] = [
        Update(
            booking_key(booking.id),
            Expression(
                "SET #status = :cancelled, cancelledAt = :at, cancellationReason = :reason, "
                "GSI5PK = :list, GSI5SK = :sort REMOVE GSI3PK, GSI3SK",
                {"#status": "status"},
                {
                    ":cancelled": "CANCELLED",
                    ":at": at,
                    ":reason": reason,
                    ":list": f"OFFERER#{booking.offerer_id}#CANCELLED",
                    ":sort": f"{at}#{booking.id}",
                },
            ),
            _status_is(from_status, due_partition),
            return_old_on_failure=True,
        ),
        Update(
            stock_key(booking.stock_id),
            Expression("SET bookedQuantity = bookedQuantity - :q", values={":q": booking.quantity}),
        ),
        Delete(active_booking_key(booking.beneficiary_id, booking.offer_id)),
    ]
    if booking.amount_cents > 0:
        text = "SET spentCents = spentCents - :amount"
        if booking.is_digital_capped:
            text += ", digitalSpentCents = digitalSpentCents - :amount"
        operations.append(
            Update(credit_key(booking.beneficiary_id), Expression(text, values={":amount": booking.amount_cents}))
        )
    return operations


def used_update(booking: BookingRef, author: str, now: datetime, *, due_partition: str | None) -> Update:
    """The booking USED (the counter, or AUTO: then still due in the partition it was read from): its status list,
    its pricing point's payable list (GSI2), out of the daily jobs' index."""
    at = isoformat(now)
    values: dict[str, Any] = {
        ":used": "USED", ":at": at, ":author": author,
        ":list": f"OFFERER#{booking.offerer_id}#USED", ":sort": f"{at}#{booking.id}",
    }  # fmt: skip
    text = "SET #status = :used, usedAt = :at, validationAuthor = :author, GSI5PK = :list, GSI5SK = :sort"
    if booking.pricing_point_venue_id:
        text += ", GSI2PK = :payable, GSI2SK = :sort"
        values[":payable"] = f"PAYABLE#{booking.pricing_point_venue_id}"
    return Update(
        booking_key(booking.id),
        Expression(text + " REMOVE GSI3PK, GSI3SK", values=values),
        _status_is(BookingStatus.CONFIRMED, due_partition),
        return_old_on_failure=True,
    )


def payable_point(pricing_point_venue_id: str, now: datetime) -> Put:
    """The pricing points with something to pay: the payouts job's list (one item per point, rewritten)."""
    return Put({**key("PAYABLE_POINTS", f"PRICING_POINT#{pricing_point_venue_id}"), "since": isoformat(now)})
