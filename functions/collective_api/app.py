"""Collective API (issue 17): educational institutions and budgets, collective offers and their stock, the
teachers' search and requests, collective bookings (pre-booked by a teacher, confirmed by the head, cancelled)."""

from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import (
    ADMIN,
    INSTITUTION_HEAD,
    PRO,
    TEACHER,
    allow,
    collective_booking_in_path,
    collective_offer_in_path,
)
from pass_culture.collective.models import (
    BudgetInput,
    CollectiveRequestInput,
    CollectiveStockInput,
    CreateCollectiveOfferInput,
    InstitutionMemberInput,
    PreBookInput,
    UpdateCollectiveOfferInput,
)
from pass_culture.collective.repository import build_collective_directory
from pass_culture.collective.rules import EducationalDomain, StudentLevel
from pass_culture.collective.service import CollectiveService, SearchQuery, build_collective_service
from pass_culture.http import build_resolver, caller_of
from pass_culture.observability import API, entry
from pass_culture.settings import require_at_init

require_at_init("user_pool_id")  # else the init fails (the table too)

app = build_resolver(cache(build_collective_directory))
Limit = Annotated[int, Query(ge=1, le=100)]
OFFER, BOOKING = collective_offer_in_path(), collective_booking_in_path()


@cache
def service() -> CollectiveService:
    return build_collective_service()


@app.post("/admin/institutions")
@allow(ADMIN, raw_body="text/csv")
def load_institutions() -> dict[str, Any]:
    return service().load_institutions(caller_of(app), app.current_event.decoded_body or "")


@app.put("/admin/institutions/<uai>/budgets/<schoolYear>")
@allow(ADMIN, errors=(404, 409))
def set_budget(uai: str, schoolYear: str, body: BudgetInput) -> dict[str, Any]:  # noqa: N803 - the contract's name
    return service().set_budget(caller_of(app), uai, schoolYear, body)


@app.post("/admin/institutions/<uai>/members", status_code=201)
@allow(ADMIN, errors=(404,))
def add_member(uai: str, body: InstitutionMemberInput) -> dict[str, Any]:
    return service().add_member(caller_of(app), uai, body)


@app.post("/collective-offers", status_code=201)
@allow(PRO, errors=(404, 422))
def create_offer(body: CreateCollectiveOfferInput) -> dict[str, Any]:
    return service().create_offer(caller_of(app), body)


@app.patch("/collective-offers/<collectiveOfferId>")
@allow(PRO, member_of=OFFER, errors=(409,))
def update_offer(collectiveOfferId: str, body: UpdateCollectiveOfferInput) -> dict[str, Any]:  # noqa: N803
    return service().update_offer(caller_of(app), collectiveOfferId, body)


@app.put("/collective-offers/<collectiveOfferId>/stock")
@allow(PRO, member_of=OFFER, errors=(409, 422))
def put_stock(collectiveOfferId: str, body: CollectiveStockInput) -> dict[str, Any]:  # noqa: N803
    return service().put_stock(caller_of(app), collectiveOfferId, body)


@app.get("/collective-offers")
@allow(TEACHER, INSTITUTION_HEAD)
def search(
    departement: Annotated[str | None, Query(pattern=r"^(\d{2,3}|2A|2B)$")] = None,
    domain: EducationalDomain | None = None,
    level: StudentLevel | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    sort: Literal["nearest", "newest"] = "nearest",
    limit: Limit = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    query = SearchQuery(departement, domain, level, q, sort, limit, cursor)
    return service().search(caller_of(app), query)


@app.post("/collective-offers/<collectiveOfferId>/requests", status_code=201)
@allow(TEACHER, errors=(404, 422))
def request_offer(collectiveOfferId: str, body: CollectiveRequestInput) -> dict[str, Any]:  # noqa: N803
    return service().request(caller_of(app), collectiveOfferId, body)


@app.post("/collective-bookings", status_code=201)
@allow(TEACHER, errors=(404, 409, 422))
def pre_book(body: PreBookInput) -> dict[str, Any]:
    return service().pre_book(caller_of(app), body)


@app.post("/collective-bookings/<collectiveBookingId>/confirm")
@allow(INSTITUTION_HEAD, errors=(409, 410, 422))
def confirm(collectiveBookingId: str) -> dict[str, Any]:  # noqa: N803
    return service().confirm(caller_of(app), collectiveBookingId)


@app.post("/collective-bookings/<collectiveBookingId>/cancel")
@allow(PRO, INSTITUTION_HEAD, member_of=BOOKING, errors=(409, 410))
def cancel(collectiveBookingId: str) -> dict[str, Any]:  # noqa: N803
    return service().cancel(caller_of(app), collectiveBookingId)


@app.get("/institution/bookings")
@allow(TEACHER, INSTITUTION_HEAD)
def institution_bookings(limit: Limit = 20, cursor: str | None = None) -> dict[str, Any]:
    return service().institution_bookings(caller_of(app), limit, cursor)


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
