"""The collective part in the table (docs/data-model.md, "Collective"). The only code that knows its keys.

Every invariant is a condition inside one transaction: one non-cancelled booking a collective stock (the stock's
`bookingId`, set only where it is absent), a confirmation debits the institution's budget of the event's school year
only while `spent + price ≤ amount` and only a PENDING booking, a cancellation gives the budget back with the status
change. A lost race fails a condition, whose position says which."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from pass_culture.access import MAX_ID_LENGTH, ResourceKind
from pass_culture.accounts.repository import membership_key, offerer_key, venue_key
from pass_culture.bookings.repository import payable_point
from pass_culture.clock import isoformat, paris_date
from pass_culture.collective.models import (
    Budget,
    CollectiveBooking,
    CollectiveOffer,
    CollectiveStock,
    Institution,
    InstitutionMember,
)
from pass_culture.collective.rules import CollectiveBookingStatus, used_due
from pass_culture.dynamo import (
    GSI1,
    GSI2,
    GSI3,
    GSI4,
    ITEM_EXISTS,
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
from pass_culture.errors import Forbidden

NOT_AN_OFFERER_MEMBER = Forbidden("You are not a member of this offerer.", code="NOT_OFFERER_MEMBER")
STOCK_SUFFIX = "-stock"


def institution_key(uai: str) -> Item:
    return key(f"INSTITUTION#{uai}", "INSTITUTION")


def budget_key(uai: str, school_year: str) -> Item:
    return key(f"INSTITUTION#{uai}", f"BUDGET#{school_year}")


def edu_member_key(user_id: str) -> Item:
    return key(f"EDU_MEMBER#{user_id}", "EDU_MEMBER")


def collective_offer_key(offer_id: str) -> Item:
    return key(f"COFFER#{offer_id}", "COFFER")


def collective_stock_key(offer_id: str) -> Item:
    return key(f"COFFER#{offer_id}", "CSTOCK")


def area_key(offer_id: str, departement: str) -> Item:
    return key(f"COFFER#{offer_id}", f"AREA#{departement}")


def collective_booking_key(booking_id: str) -> Item:
    return key(f"CBOOKING#{booking_id}", "CBOOKING")


def collective_request_key(request_id: str) -> Item:
    return key(f"CREQUEST#{request_id}", "CREQUEST")


def stock_id_of(offer_id: str) -> str:
    return offer_id + STOCK_SUFFIX


def offer_id_of_collective_stock(stock_id: str) -> str:
    return stock_id.removesuffix(STOCK_SUFFIX)


def search_partition(departement: str) -> str:
    return f"CSEARCH#{departement}"


def institution_bookings_partition(uai: str) -> str:
    return f"INSTITUTION#{uai}#CBOOKINGS"


def offerer_bookings_partition(offerer_id: str) -> str:
    return f"OFFERER#{offerer_id}#CBOOKINGS"


def used_due_partition(day: date) -> str:
    return f"DUE#COLLECTIVE_USED#{day.isoformat()}"


def used_due_keys(booking: CollectiveBooking) -> dict[str, str]:
    """GSI3, the daily jobs' index, while CONFIRMED: the Paris day the booking falls due, sorted by when."""
    due = used_due(booking.start_datetime)
    return {"GSI3PK": used_due_partition(paris_date(due)), "GSI3SK": f"{isoformat(due)}#{booking.id}"}


def expiry_due_partition(day: date) -> str:
    return f"DUE#COLLECTIVE_EXPIRE#{day.isoformat()}"


def expiry_due_keys(booking: CollectiveBooking) -> dict[str, str]:
    """GSI3 while PENDING: the day after its booking limit's Paris day (the expiry job reads a day whole, at 00:30:
    every limit of that day's entries has passed)."""
    day = paris_date(booking.booking_limit_datetime) + timedelta(days=1)
    return {"GSI3PK": expiry_due_partition(day), "GSI3SK": f"{isoformat(booking.booking_limit_datetime)}#{booking.id}"}


def _member_check(user_id: str, offerer_id: str) -> ConditionCheck:
    return ConditionCheck(membership_key(user_id, offerer_id), ITEM_EXISTS)


def offer_item(offer: CollectiveOffer, version: int) -> Item:
    return {**collective_offer_key(offer.id), "entity": "COLLECTIVE_OFFER", **offer.to_api(), "version": version}


def area_item(offer: CollectiveOffer, departement: str) -> Item:
    """The offer as the search finds it in one département: nearest (GSI1: the venue's own département first) or
    newest (GSI2), each sorted by creation, read newest first."""
    created = isoformat(offer.created_at)
    local = "1" if offer.venue_departement == departement else "0"
    from pass_culture.offers.rules import folded

    stock = offer.stock
    return {
        **area_key(offer.id, departement),
        "entity": "COLLECTIVE_AREA",
        "offerId": offer.id,
        "isActive": offer.is_active,
        "isShowcase": offer.is_showcase,
        "domains": [domain.value for domain in offer.domains],
        "students": [level.value for level in offer.students],
        "searchText": folded(f"{offer.name} {offer.description} {offer.venue_name}"),
        "bookingLimitDatetime": isoformat(stock.booking_limit_datetime) if stock else None,
        "GSI1PK": search_partition(departement),
        "GSI1SK": f"{local}#{created}#{offer.id}",
        "GSI2PK": search_partition(departement),
        "GSI2SK": f"{created}#{offer.id}",
    }


def stock_item(stock: CollectiveStock, offer: CollectiveOffer) -> Item:
    return {
        **collective_stock_key(stock.offer_id),
        "entity": "COLLECTIVE_STOCK",
        **stock.model_dump(by_alias=True, mode="json", exclude={"booking_id"}),
        "offererId": offer.offerer_id,
        "offerActive": offer.is_active,
    }


def booking_item(booking: CollectiveBooking) -> Item:
    return {
        **collective_booking_key(booking.id),
        "entity": "COLLECTIVE_BOOKING",
        **booking.to_api(),
        "GSI1PK": institution_bookings_partition(booking.uai),
        "GSI1SK": f"{isoformat(booking.booked_at)}#{booking.id}",
        "GSI4PK": offerer_bookings_partition(booking.offerer_id),  # the pros' tracking (`kind=collective`)
        "GSI4SK": f"{isoformat(booking.booked_at)}#{booking.id}",
        **(expiry_due_keys(booking) if booking.status is CollectiveBookingStatus.PENDING else {}),
    }


class CollectiveLost(Exception):
    """A collective write lost a race or a condition: `position` is the operation whose condition failed, `old` the
    item it found when asked for."""

    def __init__(self, positions: list[int], old: Item | None = None) -> None:
        super().__init__(f"conditions failed at {positions}")
        self.positions = positions
        self.old = old


class CollectiveRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _transact(self, operations: list[Operation], *, pro_member: tuple[str, str] | None = None) -> None:
        """With `pro_member` (user, offerer) a membership ConditionCheck goes last: its failure is a 403."""
        if pro_member is not None:
            operations = [*operations, _member_check(*pro_member)]
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed_positions()
            if pro_member is not None and len(operations) - 1 in failed:
                raise NOT_AN_OFFERER_MEMBER from None
            old = next((cancelled.old_item(p) for p in failed if cancelled.old_item(p) is not None), None)
            if failed:
                raise CollectiveLost(failed, old) from None
            raise

    # -- institutions, budgets, members ------------------------------------------------------------------------------
    def put_institutions(self, institutions: list[Institution]) -> None:
        self._table.put_many([{**institution_key(i.uai), "entity": "INSTITUTION", **i.to_api()} for i in institutions])

    def institution(self, uai: str) -> Institution | None:
        item = self._table.get(institution_key(uai))
        return Institution.model_validate(item) if item else None

    def set_budget(self, uai: str, school_year: str, amount_cents: int, now: datetime) -> Budget:
        """The budget's amount, never below what is already spent; the institution must exist."""
        update = Update(
            budget_key(uai, school_year),
            Expression(
                "SET amountCents = :amount, spentCents = if_not_exists(spentCents, :zero), uai = :uai,"
                " schoolYear = :year, updatedAt = :now, entity = :entity",
                values={
                    ":amount": amount_cents,
                    ":zero": 0,
                    ":uai": uai,
                    ":year": school_year,
                    ":now": isoformat(now),
                    ":entity": "BUDGET",
                },
            ),
            Expression("attribute_not_exists(spentCents) OR spentCents <= :amount"),
            return_old_on_failure=True,
        )
        self._transact([update, ConditionCheck(institution_key(uai), ITEM_EXISTS)])
        found = self.budget(uai, school_year)
        assert found is not None
        return found

    def budget(self, uai: str, school_year: str) -> Budget | None:
        item = self._table.get(budget_key(uai, school_year), consistent=True)
        return Budget.model_validate(item) if item else None

    def budgets(self, uai: str) -> list[Budget]:
        items = self._table.query_all(f"INSTITUTION#{uai}", sort_prefix="BUDGET#")
        return [Budget.model_validate(item) for item in items]

    def put_member(self, member: InstitutionMember, now: datetime) -> None:
        item = {**edu_member_key(member.user_id), "entity": "EDU_MEMBER", **member.to_api()}
        item["updatedAt"] = isoformat(now)
        self._transact([Put(item), ConditionCheck(institution_key(member.uai), ITEM_EXISTS)])

    def member(self, user_id: str) -> InstitutionMember | None:
        item = self._table.get(edu_member_key(user_id))
        return InstitutionMember.model_validate(item) if item else None

    # -- offers and stocks ---------------------------------------------------------------------------------------
    def venue(self, venue_id: str) -> Item | None:
        if not 0 < len(venue_id) <= MAX_ID_LENGTH:
            return None
        return self._table.get(venue_key(venue_id))

    def offer(self, offer_id: str) -> tuple[CollectiveOffer, int] | None:
        if not 0 < len(offer_id) <= MAX_ID_LENGTH:
            return None
        item = self._table.get(collective_offer_key(offer_id), consistent=True)
        return (CollectiveOffer.model_validate(item), int(item["version"])) if item else None

    def stock(self, offer_id: str) -> CollectiveStock | None:
        item = self._table.get(collective_stock_key(offer_id), consistent=True)
        return CollectiveStock.model_validate(item) if item else None

    def save_offer(
        self,
        offer: CollectiveOffer,
        user_id: str,
        *,
        version: int | None,
        old_areas: list[str] = (),  # type: ignore[assignment]
        stock_write: Operation | None = None,
    ) -> None:
        """The offer (a new one when `version` is None, else only over that version), its stock write if any, its
        search entries (the départements it left are deleted), the pro's membership: one transaction."""
        condition = ITEM_IS_NEW if version is None else Expression("version = :v", values={":v": version})
        operations: list[Operation] = [Put(offer_item(offer, (version or 0) + 1), condition)]
        if stock_write is not None:
            operations.append(stock_write)
        operations += [Delete(area_key(offer.id, dep)) for dep in old_areas if dep not in offer.areas]
        operations += [Put(area_item(offer, dep)) for dep in offer.areas]
        self._transact(operations, pro_member=(user_id, offer.offerer_id))

    @staticmethod
    def new_stock_write(stock: CollectiveStock, offer: CollectiveOffer) -> Operation:
        """A stock written whole, only while no booking holds it."""
        return Put(stock_item(stock, offer), Expression("attribute_not_exists(bookingId)"))

    @staticmethod
    def booked_stock_write(stock: CollectiveStock) -> Operation:
        """A booked stock: only its price details change, and only while the same booking holds it."""
        return Update(
            collective_stock_key(stock.offer_id),
            Expression("SET priceDetails = :details", values={":details": stock.price_details, ":b": stock.booking_id}),
            Expression("bookingId = :b"),
        )

    @staticmethod
    def activity_write(offer: CollectiveOffer) -> Operation:
        return Update(
            collective_stock_key(offer.id),
            Expression("SET offerActive = :active", values={":active": offer.is_active}),
            ITEM_EXISTS,
        )

    def search(self, departement: str, *, nearest: bool, limit: int, cursor: str | None, filter_: Expression) -> Page:
        index = GSI1 if nearest else GSI2
        return self._table.query(
            search_partition(departement), index=index, limit=limit, cursor=cursor, newest_first=True, filter_=filter_
        )

    def offers_and_stocks(self, offer_ids: list[str]) -> tuple[dict[str, CollectiveOffer], dict[str, Item]]:
        keys = [collective_offer_key(i) for i in offer_ids] + [collective_stock_key(i) for i in offer_ids]
        offers: dict[str, CollectiveOffer] = {}
        stocks: dict[str, Item] = {}
        for item in self._table.batch_get(keys):
            if item["SK"] == "COFFER":
                offers[str(item["id"])] = CollectiveOffer.model_validate(item)
            else:
                stocks[str(item["offerId"])] = item
        return offers, stocks

    def put_request(self, item: Item) -> None:
        stored = {**collective_request_key(str(item["id"])), "entity": "COLLECTIVE_REQUEST", **item}
        self._table.put(stored, condition=ITEM_IS_NEW)

    # -- bookings ------------------------------------------------------------------------------------------------
    def booking(self, booking_id: str) -> CollectiveBooking | None:
        if not 0 < len(booking_id) <= MAX_ID_LENGTH:
            return None
        item = self._table.get(collective_booking_key(booking_id), consistent=True)
        return CollectiveBooking.model_validate(item) if item else None

    def pre_book(self, booking: CollectiveBooking, now: datetime) -> None:
        """The booking and its hold on the stock (only where no booking holds it, before its limit, at the price and
        date the booking was made on), the offerer still validated. Positions: 1 the stock, 2 the offerer."""
        stock = Update(
            collective_stock_key(booking.offer_id),
            Expression(
                "SET bookingId = :id",
                values={
                    ":id": booking.id,
                    ":now": isoformat(now),
                    ":true": True,
                    ":price": booking.total_price_cents,
                    ":start": isoformat(booking.start_datetime),
                },
            ),
            Expression(
                "attribute_exists(PK) AND attribute_not_exists(bookingId) AND offerActive = :true"
                " AND bookingLimitDatetime >= :now AND totalPriceCents = :price AND startDatetime = :start"
            ),
            return_old_on_failure=True,
        )
        validated = ConditionCheck(
            offerer_key(booking.offerer_id), Expression("validationStatus = :v", values={":v": "VALIDATED"})
        )
        self._transact([Put(booking_item(booking), ITEM_IS_NEW), stock, validated])

    def confirm(self, booking: CollectiveBooking, budget: Budget | None, now: datetime) -> None:
        """PENDING -> CONFIRMED and the budget debited, at once: position 0 the booking moved, 1 the budget. The
        booking enters the daily jobs' index (USED 48 h after the event)."""
        due = used_due_keys(booking)
        operations: list[Operation] = [
            Update(
                collective_booking_key(booking.id),
                Expression(
                    "SET #status = :confirmed, confirmedAt = :now, GSI3PK = :due_pk, GSI3SK = :due_sk",
                    {"#status": "status"},
                    {
                        ":confirmed": "CONFIRMED",
                        ":now": isoformat(now),
                        ":pending": "PENDING",
                        ":due_pk": due["GSI3PK"],
                        ":due_sk": due["GSI3SK"],
                    },
                ),
                Expression("#status = :pending", {"#status": "status"}),
            )
        ]
        if booking.total_price_cents > 0:
            assert budget is not None
            operations.append(
                Update(
                    budget_key(booking.uai, booking.school_year),
                    Expression(
                        "SET spentCents = spentCents + :price",
                        values={
                            ":price": booking.total_price_cents,
                            ":amount": budget.amount_cents,
                            ":max_spent": budget.amount_cents - booking.total_price_cents,
                        },
                    ),
                    # no arithmetic in conditions: "spent + price ≤ amount" is "spent ≤ amount − price", with the
                    # amount read (an amount changed meanwhile fails the confirmation, which may be sent again)
                    Expression("amountCents = :amount AND spentCents <= :max_spent"),
                )
            )
        self._transact(operations)

    def cancel(
        self, booking: CollectiveBooking, reason: str, now: datetime, *, pro_member: tuple[str, str] | None
    ) -> None:
        """PENDING or CONFIRMED (as read) -> CANCELLED, the stock freed, a confirmed booking's budget given back."""
        values: dict[str, Any] = {":cancelled": "CANCELLED", ":now": isoformat(now), ":reason": reason,
                                  ":read": booking.status.value}  # fmt: skip
        operations: list[Operation] = [
            Update(
                collective_booking_key(booking.id),
                Expression(
                    "SET #status = :cancelled, cancelledAt = :now, cancellationReason = :reason REMOVE GSI3PK, GSI3SK",
                    {"#status": "status"},
                    values,
                ),
                Expression("#status = :read", {"#status": "status"}),
            ),
            Update(
                collective_stock_key(booking.offer_id),
                Expression("REMOVE bookingId", values={":id": booking.id}),
                Expression("bookingId = :id"),
            ),
        ]
        if booking.status is CollectiveBookingStatus.CONFIRMED and booking.total_price_cents > 0:
            operations.append(
                Update(
                    budget_key(booking.uai, booking.school_year),
                    Expression("SET spentCents = spentCents - :price", values={":price": booking.total_price_cents}),
                    Expression("spentCents >= :price"),
                )
            )
        self._transact(operations, pro_member=pro_member)

    def institution_bookings(
        self, uai: str, limit: int, cursor: str | None
    ) -> tuple[list[CollectiveBooking], str | None]:
        page = self._table.query(
            institution_bookings_partition(uai), index=GSI1, limit=limit, cursor=cursor, newest_first=True
        )
        return [CollectiveBooking.model_validate(item) for item in page.items], page.next_cursor

    def for_offerer(
        self,
        offerer_id: str,
        *,
        period: tuple[str, str] | None,
        filter_: Expression | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[CollectiveBooking], str | None]:
        """An offerer's collective bookings by booking date, newest first (GSI4), filtered inside its partition."""
        found: list[CollectiveBooking] = []
        for _page in range(50):  # bounded work per request; the cursor carries on
            page = self._table.query(
                offerer_bookings_partition(offerer_id),
                index=GSI4,
                sort_between=period,
                limit=limit - len(found),
                cursor=cursor,
                newest_first=True,
                filter_=filter_,
            )
            found += [CollectiveBooking.model_validate(item) for item in page.items]
            cursor = page.next_cursor
            if cursor is None or len(found) >= limit:
                break
        return found, cursor

    # -- the daily job: USED 48 h after the event --------------------------------------------------------------
    def due_used(self, day: date, by: datetime) -> Iterator[list[Item]]:
        """The confirmed bookings of a day (GSI3) whose event started 48 h or more before `by`, page by page."""
        cursor: str | None = None
        while True:
            page = self._table.query(
                used_due_partition(day), index=GSI3, sort_between=("0", f"{isoformat(by)}#~"), limit=1000,
                cursor=cursor,
            )  # fmt: skip
            if page.items:
                yield page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def due_expired(self, day: date) -> Iterator[list[Item]]:
        """The PENDING bookings whose booking limit passed, due on that day (read whole)."""
        cursor: str | None = None
        while True:
            page = self._table.query(expiry_due_partition(day), index=GSI3, limit=1000, cursor=cursor)
            if page.items:
                yield page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def expire(self, item: Item, now: datetime) -> bool:
        """PENDING -> CANCELLED (EXPIRED) and the stock freed, in one transaction, only while still PENDING under the
        entry read (confirmed or cancelled meanwhile: False)."""
        values = {":cancelled": "CANCELLED", ":now": isoformat(now), ":expired": "EXPIRED", ":pending": "PENDING",
                  ":due": item["GSI3PK"]}  # fmt: skip
        try:
            self._table.transact([
                Update(
                    collective_booking_key(str(item["id"])),
                    Expression("SET #status = :cancelled, cancelledAt = :now, cancellationReason = :expired"
                               " REMOVE GSI3PK, GSI3SK", {"#status": "status"}, values),
                    Expression("#status = :pending AND GSI3PK = :due", {"#status": "status"}),
                ),
                Update(
                    collective_stock_key(str(item["offerId"])),
                    Expression("REMOVE bookingId", values={":id": item["id"]}),
                    Expression("bookingId = :id"),
                ),
            ])  # fmt: skip
        except TransactionCancelled as cancelled:
            if cancelled.failed_positions():
                return False
            raise
        return True

    def mark_used(self, item: Item, now: datetime) -> bool:
        """CONFIRMED -> USED by AUTO, only while still CONFIRMED under the index entry it was read from (cancelled
        meanwhile, or already done by a replay: False). Out of the daily jobs' index and, in the same transaction,
        into its pricing point's payable list (GSI2 `PAYABLE#<point>`, as an individual booking's validation) and
        the payouts' list of points (`PAYABLE_POINTS`): the next biweekly payout prices and pays it."""
        at = isoformat(now)
        values = {":used": "USED", ":now": at, ":auto": "AUTO", ":confirmed": "CONFIRMED", ":due": item["GSI3PK"]}
        text = "SET #status = :used, usedAt = :now, validationAuthor = :auto"
        point = item.get("pricingPointVenueId")
        operations: list[Operation] = []
        if point:
            text += ", GSI2PK = :payable, GSI2SK = :sort"
            values |= {":payable": f"PAYABLE#{point}", ":sort": f"{at}#{item['id']}"}
            operations.append(payable_point(str(point), now))
        operations.insert(0, Update(
            collective_booking_key(str(item["id"])),
            Expression(text + " REMOVE GSI3PK, GSI3SK", {"#status": "status"}, values),
            Expression("#status = :confirmed AND GSI3PK = :due", {"#status": "status"}),
        ))  # fmt: skip
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_positions():
                return False
            raise
        return True


class CollectiveDirectory:
    """The route gate's directory for the collective function: a collective offer's or booking's offerer (one GetItem
    of its owner's id), membership as the accounts' directory says."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def offerer_of(self, kind: ResourceKind, resource_id: str) -> str | None:
        if not 0 < len(resource_id) <= MAX_ID_LENGTH:
            return None
        if kind == "collective_offer":
            item_key = collective_offer_key(resource_id)
        elif kind == "collective_booking":
            item_key = collective_booking_key(resource_id)
        else:
            from pass_culture.accounts.ownership import OwnershipRepository

            return OwnershipRepository(self._table).offerer_of(kind, resource_id)
        found = self._table.get(item_key, attributes=("offererId",))
        return str(found["offererId"]) if found and found.get("offererId") else None

    def is_member(self, user_id: str, offerer_id: str) -> bool:
        from pass_culture.accounts.ownership import OwnershipRepository

        return OwnershipRepository(self._table).is_member(user_id, offerer_id)


def build_collective_directory() -> CollectiveDirectory:
    from pass_culture import aws
    from pass_culture.settings import get_settings

    return CollectiveDirectory(Table(aws.dynamodb(), get_settings().table_name))
