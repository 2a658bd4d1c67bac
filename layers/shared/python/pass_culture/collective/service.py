"""The collective part's use cases: institutions and budgets (admin), institution members (admin), collective offers
and their stock (pros), the teachers' search and requests, collective bookings (teacher, head, venue)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from pass_culture.access import ADMIN, INSTITUTION_HEAD, PRO, TEACHER, Caller
from pass_culture.accounts.identity import IdentityProvider
from pass_culture.clock import Clock, isoformat
from pass_culture.collective import rules
from pass_culture.collective.models import (
    BudgetInput,
    CollectiveBooking,
    CollectiveOffer,
    CollectiveRequestInput,
    CollectiveStock,
    CollectiveStockInput,
    CreateCollectiveOfferInput,
    Institution,
    InstitutionMember,
    InstitutionMemberInput,
    PreBookInput,
    UpdateCollectiveOfferInput,
)
from pass_culture.collective.repository import (
    CollectiveLost,
    CollectiveRepository,
    offer_id_of_collective_stock,
    stock_id_of,
)
from pass_culture.collective.rules import CancellationReason, CollectiveBookingStatus, InstitutionRole
from pass_culture.departments import department_code
from pass_culture.dynamo import Expression
from pass_culture.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, RuleRefused
from pass_culture.ids import new_id

INSTITUTIONS_HEADER = ["uai", "name", "type", "city", "postalcode", "departement"]
MAX_REPORTED_REJECTIONS = 100
NOT_INSTITUTION_MEMBER = Forbidden(
    "Your account is not linked to an educational institution.", code="NOT_INSTITUTION_MEMBER"
)
OFFER_NOT_FOUND = NotFound("No such collective offer.", code="COLLECTIVE_OFFER_NOT_FOUND")
BOOKING_NOT_FOUND = NotFound("No such collective booking.", code="COLLECTIVE_BOOKING_NOT_FOUND")


@dataclass(frozen=True)
class SearchQuery:
    departement: str | None
    domain: str | None
    level: str | None
    q: str | None
    sort: str
    limit: int
    cursor: str | None


class CollectiveService:
    def __init__(self, repository: CollectiveRepository, identity: IdentityProvider, clock: Clock) -> None:
        self._repository = repository
        self._identity = identity
        self._clock = clock

    # -- admin ---------------------------------------------------------------------------------------------------
    def load_institutions(self, caller: Caller, csv_text: str) -> dict[str, Any]:
        caller.require(ADMIN)
        institutions, rejected = parse_institutions(csv_text)
        self._repository.put_institutions(institutions)
        rejections = rejected[:MAX_REPORTED_REJECTIONS]
        return {"loaded": len(institutions), "rejected": len(rejected), "rejections": rejections}

    def set_budget(self, caller: Caller, uai: str, school_year: str, body: BudgetInput) -> dict[str, Any]:
        caller.require(ADMIN)
        _valid_uai(uai)
        if not rules.is_school_year(school_year):
            raise BadRequest("The school year is written 2026-2027.", code="BAD_SCHOOL_YEAR")
        try:
            budget = self._repository.set_budget(uai, school_year, body.amount_cents, self._clock.now())
        except CollectiveLost as lost:
            if 1 in lost.positions:
                raise NotFound("No such institution.", code="INSTITUTION_NOT_FOUND") from None
            spent = int((lost.old or {}).get("spentCents") or 0)
            raise Conflict(
                f"The budget cannot be set below what is already spent ({spent} cents).", code="BUDGET_BELOW_SPENT"
            ) from None
        return _budget_api(budget.amount_cents, budget.spent_cents, school_year)

    def add_member(self, caller: Caller, uai: str, body: InstitutionMemberInput) -> dict[str, Any]:
        caller.require(ADMIN)
        _valid_uai(uai)
        if self._repository.institution(uai) is None:
            raise NotFound("No such institution.", code="INSTITUTION_NOT_FOUND")
        user_id = self._identity.ensure_user(body.email, body.first_name, body.last_name, "", body.role.value)
        member = InstitutionMember(user_id=user_id, email=body.email, uai=uai, role=body.role)
        try:
            self._repository.put_member(member, self._clock.now())
        except CollectiveLost:
            raise NotFound("No such institution.", code="INSTITUTION_NOT_FOUND") from None
        return member.to_api()

    # -- pros: collective offers ---------------------------------------------------------------------------------
    def create_offer(self, caller: Caller, body: CreateCollectiveOfferInput) -> dict[str, Any]:
        caller.require(PRO)
        if body.subcategory_id not in rules.COLLECTIVE_SUBCATEGORIES:
            raise RuleRefused(
                f"{body.subcategory_id} is not a subcategory of collective offers.", code="NOT_COLLECTIVE_SUBCATEGORY"
            )
        venue = self._repository.venue(body.venue_id)
        if venue is None:
            raise NotFound("No such venue.", code="VENUE_NOT_FOUND")
        departement = department_code(str(venue["postalCode"])) or ""
        offer = CollectiveOffer(
            id=new_id(), offerer_id=str(venue["offererId"]), venue_id=body.venue_id, venue_name=str(venue["name"]),
            venue_postal_code=str(venue["postalCode"]), venue_departement=departement,
            booking_email=str(venue["bookingEmail"]), created_at=self._clock.now(),
            pricing_point_venue_id=venue.get("pricingPointVenueId") or None,
            **body.model_dump(exclude={"venue_id"}),
        )  # fmt: skip
        assert caller.user_id is not None
        self._repository.save_offer(offer, caller.user_id, version=None)
        return offer.to_api()

    def _pro_offer(self, offer_id: str) -> tuple[CollectiveOffer, int]:
        found = self._repository.offer(offer_id)
        if found is None:
            raise OFFER_NOT_FOUND
        return found

    def update_offer(self, caller: Caller, offer_id: str, body: UpdateCollectiveOfferInput) -> dict[str, Any]:
        assert caller.user_id is not None
        offer, version = self._pro_offer(offer_id)
        changes = body.model_dump(exclude_unset=True)
        updated = offer.model_copy(update=changes)
        updated = CollectiveOffer.model_validate(updated.model_dump())  # the enums and lists as the model keeps them
        activity = (
            self._repository.activity_write(updated)
            if "is_active" in changes and offer.stock is not None and updated.is_active != offer.is_active
            else None
        )
        self._save(updated, caller.user_id, version, offer.areas, activity)
        return updated.to_api()

    def put_stock(self, caller: Caller, offer_id: str, body: CollectiveStockInput) -> dict[str, Any]:
        assert caller.user_id is not None
        offer, version = self._pro_offer(offer_id)
        now = self._clock.now()
        problem = rules.stock_dates_problem(body.start_datetime, body.booking_limit_datetime, now)
        problem = problem or rules.price_problem(body.total_price_cents)
        if problem:
            raise RuleRefused(f"The collective stock is refused: {problem}.", code="COLLECTIVE_STOCK_REFUSED")
        stock = CollectiveStock(id=stock_id_of(offer.id), offer_id=offer.id, **body.model_dump())
        current = self._repository.stock(offer.id)
        if current is not None and current.booking_id is not None:
            essentials = ("start_datetime", "booking_limit_datetime", "number_of_students", "total_price_cents")
            if any(getattr(current, name) != getattr(stock, name) for name in essentials):
                raise Conflict(
                    "The collective stock is booked: only its price details can change (cancel the booking first).",
                    code="COLLECTIVE_STOCK_BOOKED",
                )
            stock = stock.model_copy(update={"booking_id": current.booking_id})
            write = self._repository.booked_stock_write(stock)
        else:
            write = self._repository.new_stock_write(stock, offer)
        updated = offer.model_copy(update={"stock": stock.model_copy(update={"booking_id": None})})
        self._save(updated, caller.user_id, version, offer.areas, write)
        return {**stock.to_api(), "bookingId": stock.booking_id}

    def _save(self, offer: CollectiveOffer, user_id: str, version: int, old_areas: list[str], write: Any) -> None:
        try:
            self._repository.save_offer(offer, user_id, version=version, old_areas=old_areas, stock_write=write)
        except CollectiveLost as lost:
            if 0 in lost.positions:
                raise Conflict("The offer changed meanwhile: read it and try again.", code="OFFER_CHANGED") from None
            raise Conflict(
                "The collective stock was booked meanwhile: only its price details can change.",
                code="COLLECTIVE_STOCK_BOOKED",
            ) from None

    # -- teachers: search and requests ---------------------------------------------------------------------------
    def _member(self, caller: Caller, *roles: InstitutionRole) -> InstitutionMember:
        member = self._repository.member(caller.user_id or "")
        if member is None or (roles and member.role not in roles):
            raise NOT_INSTITUTION_MEMBER
        return member

    def search(self, caller: Caller, query: SearchQuery) -> dict[str, Any]:
        caller.require(TEACHER, INSTITUTION_HEAD)
        member = self._member(caller)
        institution = self._repository.institution(member.uai)
        departement = query.departement or (institution.departement if institution else None)
        if departement is None or not rules.is_departement(departement):
            raise BadRequest("departement: a département code such as 75, 2A or 974.", code="BAD_DEPARTEMENT")
        now = isoformat(self._clock.now())
        text = "isActive = :true AND (isShowcase = :true OR bookingLimitDatetime >= :now)"
        values: dict[str, Any] = {":true": True, ":now": now}
        if query.domain:
            text += " AND contains(domains, :domain)"
            values[":domain"] = query.domain
        if query.level:
            text += " AND contains(students, :level)"
            values[":level"] = query.level
        if query.q:
            from pass_culture.offers.rules import folded

            text += " AND contains(searchText, :q)"
            values[":q"] = folded(query.q)
        page = self._repository.search(
            departement, nearest=query.sort == "nearest", limit=query.limit, cursor=query.cursor,
            filter_=Expression(text, values=values),
        )  # fmt: skip
        ids = [str(item["offerId"]) for item in page.items]
        offers, stocks = self._repository.offers_and_stocks(ids) if ids else ({}, {})
        items = []
        for offer_id in ids:  # the page's order; a stock a booking holds is not bookable any more
            offer = offers.get(offer_id)
            if offer is None or (offer_id in stocks and stocks[offer_id].get("bookingId")):
                continue
            items.append(offer.to_api())
        return {"items": items, "nextCursor": page.next_cursor, "departement": departement}

    def request(self, caller: Caller, offer_id: str, body: CollectiveRequestInput) -> dict[str, Any]:
        caller.require(TEACHER)
        member = self._member(caller)
        found = self._repository.offer(offer_id)
        if found is None or not found[0].is_active:
            raise OFFER_NOT_FOUND
        offer = found[0]
        if not offer.is_showcase:
            raise RuleRefused("This offer has a date and a price: pre-book it.", code="NOT_A_SHOWCASE_OFFER")
        institution = self._repository.institution(member.uai)
        request = {
            "id": new_id(), "offerId": offer.id, "offerName": offer.name, "venueName": offer.venue_name,
            "bookingEmail": offer.booking_email, "uai": member.uai,
            "institutionName": institution.name if institution else member.uai, "teacherEmail": member.email,
            "createdAt": isoformat(self._clock.now()), **body.model_dump(by_alias=True),
        }  # fmt: skip
        self._repository.put_request(request)
        return {key: request[key] for key in ("id", "offerId", "createdAt")}

    # -- bookings ------------------------------------------------------------------------------------------------
    def pre_book(self, caller: Caller, body: PreBookInput) -> dict[str, Any]:
        caller.require(TEACHER)
        member = self._member(caller, InstitutionRole.TEACHER)
        offer_id = offer_id_of_collective_stock(body.collective_stock_id)
        found = self._repository.offer(offer_id)
        stock = self._repository.stock(offer_id) if found else None
        if found is None or stock is None or stock.id != body.collective_stock_id:
            raise NotFound("No such collective stock.", code="COLLECTIVE_STOCK_NOT_FOUND")
        offer, now = found[0], self._clock.now()
        if stock.booking_id is not None:
            raise Conflict("This collective stock is already booked.", code="ALREADY_BOOKED")
        active = offer.is_active
        if not rules.bookable(start=stock.start_datetime, booking_limit=stock.booking_limit_datetime, booked=False,
                              active=active, now=now):  # fmt: skip
            raise RuleRefused("This collective offer cannot be booked any more.", code="NOT_BOOKABLE")
        institution = self._repository.institution(member.uai)
        booking = CollectiveBooking(
            id=new_id(), status=CollectiveBookingStatus.PENDING, offer_id=offer.id, offer_name=offer.name,
            stock_id=stock.id, offerer_id=offer.offerer_id, venue_id=offer.venue_id, venue_name=offer.venue_name,
            booking_email=offer.booking_email, pricing_point_venue_id=self._pricing_point(offer), uai=member.uai,
            institution_name=institution.name if institution else member.uai, teacher_id=member.user_id,
            teacher_email=member.email, total_price_cents=stock.total_price_cents,
            number_of_students=stock.number_of_students, start_datetime=stock.start_datetime,
            booking_limit_datetime=stock.booking_limit_datetime,
            school_year=rules.school_year_of(stock.start_datetime), booked_at=now,
        )  # fmt: skip
        try:
            self._repository.pre_book(booking, now)
        except CollectiveLost as lost:
            if 1 in lost.positions and (lost.old or {}).get("bookingId"):
                raise Conflict("This collective stock is already booked.", code="ALREADY_BOOKED") from None
            if 1 in lost.positions:
                raise Conflict("The collective stock changed meanwhile: read it again.", code="STOCK_CHANGED") from None
            raise RuleRefused("This collective offer cannot be booked.", code="NOT_BOOKABLE") from None
        return booking.to_api()

    def _pricing_point(self, offer: CollectiveOffer) -> str | None:
        """Where the booking is paid once USED: the offer's copy of its venue's pricing point (an offer written before
        the copy existed: the venue's, read)."""
        if offer.pricing_point_venue_id:
            return offer.pricing_point_venue_id
        venue = self._repository.venue(offer.venue_id)
        return str(venue["pricingPointVenueId"]) if venue and venue.get("pricingPointVenueId") else None

    def _booking(self, booking_id: str) -> CollectiveBooking:
        booking = self._repository.booking(booking_id)
        if booking is None:
            raise BOOKING_NOT_FOUND
        return booking

    def confirm(self, caller: Caller, booking_id: str) -> dict[str, Any]:
        caller.require(INSTITUTION_HEAD)
        member = self._member(caller, InstitutionRole.INSTITUTION_HEAD)
        booking = self._booking(booking_id)
        if booking.uai != member.uai:
            raise Forbidden("This booking is another institution's.", code="NOT_INSTITUTION_MEMBER")
        _require_pending(booking)
        now = self._clock.now()
        if now > booking.booking_limit_datetime:
            raise RuleRefused("The booking limit has passed: the booking can no longer be confirmed.",
                              code="BOOKING_LIMIT_PASSED")  # fmt: skip
        budget = self._repository.budget(booking.uai, booking.school_year) if booking.total_price_cents else None
        if booking.total_price_cents and (
            budget is None or rules.budget_left(budget.amount_cents, budget.spent_cents) < booking.total_price_cents
        ):
            raise Conflict(f"The institution's budget for {booking.school_year} is too low.", code="BUDGET_TOO_LOW")
        try:
            self._repository.confirm(booking, budget, now)
        except CollectiveLost as lost:
            if 0 in lost.positions:
                _require_pending(self._booking(booking_id))
            raise Conflict(f"The institution's budget for {booking.school_year} is too low.",
                           code="BUDGET_TOO_LOW") from None  # fmt: skip
        return booking.model_copy(update={"status": CollectiveBookingStatus.CONFIRMED, "confirmed_at": now}).to_api()

    def cancel(self, caller: Caller, booking_id: str) -> dict[str, Any]:
        caller.require(PRO, INSTITUTION_HEAD)
        booking = self._booking(booking_id)
        pro_member: tuple[str, str] | None = None
        if PRO in caller.groups:
            assert caller.user_id is not None
            pro_member, reason = (caller.user_id, booking.offerer_id), CancellationReason.OFFERER
        else:
            member = self._member(caller, InstitutionRole.INSTITUTION_HEAD)
            if booking.uai != member.uai:
                raise Forbidden("This booking is another institution's.", code="NOT_INSTITUTION_MEMBER")
            reason = CancellationReason.INSTITUTION
        now = self._clock.now()
        if booking.status is CollectiveBookingStatus.CANCELLED:
            raise Gone("This collective booking is already cancelled.", code="BOOKING_CANCELLED")
        if not rules.cancellable(booking.status, booking.start_datetime, now):
            raise Conflict("The event has started or the booking is used: it can no longer be cancelled.",
                           code="CANCELLATION_TOO_LATE")  # fmt: skip
        try:
            self._repository.cancel(booking, reason.value, now, pro_member=pro_member)
        except CollectiveLost:
            raise Conflict("The booking changed meanwhile: read it again.", code="BOOKING_CHANGED") from None
        changed = {"status": CollectiveBookingStatus.CANCELLED, "cancelled_at": now,
                   "cancellation_reason": reason.value}  # fmt: skip
        return booking.model_copy(update=changed).to_api()

    def institution_bookings(self, caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
        caller.require(TEACHER, INSTITUTION_HEAD)
        member = self._member(caller)
        items, next_cursor = self._repository.institution_bookings(member.uai, limit, cursor)
        budgets = sorted(self._repository.budgets(member.uai), key=lambda b: b.school_year)
        return {
            "uai": member.uai,
            "items": [booking.to_api() for booking in items],
            "nextCursor": next_cursor,
            "budgets": [_budget_api(b.amount_cents, b.spent_cents, b.school_year) for b in budgets],
        }


def _require_pending(booking: CollectiveBooking) -> None:
    if booking.status is CollectiveBookingStatus.CANCELLED:
        raise Gone("This collective booking is cancelled.", code="BOOKING_CANCELLED")
    if booking.status is not CollectiveBookingStatus.PENDING:
        raise Conflict("This collective booking is already confirmed.", code="ALREADY_CONFIRMED")


def _budget_api(amount: int, spent: int, school_year: str) -> dict[str, Any]:
    return {"schoolYear": school_year, "amountCents": amount, "spentCents": spent,
            "remainingCents": rules.budget_left(amount, spent)}  # fmt: skip


def _valid_uai(uai: str) -> None:
    if not rules.is_uai(uai):
        raise BadRequest("uai: 7 digits and a capital letter, e.g. 0750001A.", code="BAD_UAI")


def parse_institutions(text: str) -> tuple[list[Institution], list[dict[str, Any]]]:
    """`uai,name,type,city,postalCode,departement`; a bad line is rejected with its reason, never fatal."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if header != INSTITUTIONS_HEADER:
            raise BadRequest("The CSV header must be: uai,name,type,city,postalCode,departement.", code="BAD_CSV")
        institutions: dict[str, Institution] = {}
        rejected: list[dict[str, Any]] = []
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(INSTITUTIONS_HEADER):
                rejected.append({"line": line, "reason": f"expected 6 columns, got {len(row)}"})
                continue
            uai, name, kind, city, postal_code, departement = (cell.strip() for cell in row)
            reason = _institution_problem(uai.upper(), name, postal_code, departement, institutions)
            if reason:
                rejected.append({"line": line, "reason": reason})
                continue
            institutions[uai.upper()] = Institution(uai=uai.upper(), name=name, type=kind, city=city,
                                                    postal_code=postal_code, departement=departement)  # fmt: skip
    except csv.Error as error:
        raise BadRequest(f"The CSV cannot be read (line {reader.line_num}): {error}.", code="BAD_CSV") from error
    return list(institutions.values()), rejected


def _institution_problem(
    uai: str, name: str, postal_code: str, departement: str, seen: dict[str, Institution]
) -> str | None:
    if not rules.is_uai(uai):
        return f"'{uai[:20]}' is not a UAI (7 digits and a letter)"
    if not name or len(name) > 200:
        return "the name is empty or too long"
    if department_code(postal_code) is None:
        return f"'{postal_code[:10]}' is not a postal code"
    if not rules.is_departement(departement):
        return f"'{departement[:10]}' is not a département code"
    if uai in seen:
        return f"UAI {uai} appears twice"
    return None


def build_collective_service() -> CollectiveService:
    from pass_culture import aws
    from pass_culture.accounts.identity import CognitoIdentityProvider
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    settings = get_settings()
    table = Table(aws.dynamodb(), settings.table_name)
    identity = CognitoIdentityProvider(aws.client("cognito-idp"), settings.user_pool_id)
    return CollectiveService(CollectiveRepository(table), identity, SystemClock())
