"""Fault injection: AWS throttling and timeouts in front of the (moto) DynamoDB, at botocore's HTTP layer, so that
botocore's own retries run as they do in AWS. Once they are spent the API answers 503 with Retry-After, and nothing is
half-written (a write is one request or one transaction)."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.retries.standard import ExponentialBackoff
from moto.core.models import botocore_stubber

from infra.local.fake_provider import FakeProvider
from pass_culture.offers.repository import offer_id_of_stock
from pass_culture.settings import get_settings
from tests.events import api_event, claims_of
from tests.integration import collective_world as cw
from tests.integration.booking_world import ADMIN as WORLD_ADMIN
from tests.integration.booking_world import BIC, IBAN, World, luhn_complete
from tests.integration.booking_world import PRO as WORLD_PRO
from tests.integration.conftest import FUNCTIONS, Answer
from tests.integration.conftest import send as send_event

DYNAMODB = "DynamoDB_20120810."  # the X-Amz-Target of every DynamoDB operation: `DynamoDB_20120810.<Operation>`
EVERY = "*"  # every DynamoDB operation
LOST_ANSWER = "LostAnswer"  # the table took the request, its answer timed out on the way back
SERVER_ERRORS = frozenset({"InternalServerError"})  # answered with HTTP 500 by DynamoDB, the others with 400


class Faults:
    """Answers `operation` (EVERY: any DynamoDB operation) with an AWS error (or a timeout) `times` times (None:
    every time), in moto's place: the in-process moto is botocore's transport (its stubber answers every request at
    `before-send`), so the fault is put in front of it, and a faulted request never reaches the table. `operations`
    lists the faulted requests in order (a botocore retry is a request again)."""

    def __init__(
        self,
        operation: str,
        *,
        code: str = "ThrottlingException",
        times: int | None = 100,
        after: int = 0,
        **extra: Any,
    ) -> None:
        self.operation, self.code, self.left, self.extra = operation, code, times, extra
        self.passed = after  # the first `after` matching requests go through
        self.status = 500 if code in SERVER_ERRORS else 400
        self.operations: list[str] = []
        self._moto = botocore_stubber.process_request
        botocore_stubber.process_request = self._process  # type: ignore[method-assign]

    @property
    def seen(self) -> int:
        return len(self.operations)

    def _faulted(self, target: str) -> bool:
        if self.operation == EVERY:
            return target.startswith(DYNAMODB)
        return target.endswith(f".{self.operation}")

    def _process(self, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        if self.left == 0 or not self._faulted(target):
            return self._moto(request)
        if self.passed > 0:
            self.passed -= 1
            return self._moto(request)
        if self.left is not None:
            self.left -= 1
        self.operations.append(target.rpartition(".")[2])
        if self.code == "ReadTimeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        if self.code == LOST_ANSWER:  # the request is done, its answer never arrives: botocore sends it again
            self._moto(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        if self.code.isdigit():  # a bare HTTP error: no error code in the body (a front end's 5xx)
            return int(self.code), {"x-amzn-RequestId": "fault"}, b""
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "Rate exceeded", **self.extra}
        headers = {"x-amzn-RequestId": "fault", "Content-Type": "application/x-amz-json-1.0"}
        return self.status, headers, json.dumps(body).encode()  # what moto answers: status, headers, body

    def stop(self) -> None:
        botocore_stubber.process_request = self._moto  # type: ignore[method-assign]

    def __enter__(self) -> Faults:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def nothing_written(world: World, young: dict[str, str], stock: str) -> bool:
    return bool(world.stock(stock).get("bookedQuantity", 0) == 0 and world.credit(young).get("spentCents", 0) == 0)


def test_a_throttled_booking_is_retried_then_answered_503_and_writes_nothing(world: World) -> None:
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    faults = Faults("TransactWriteItems")
    answer = world.book(young, stock)
    faults.stop()
    assert (answer.status, answer.body["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert answer.headers["Retry-After"] == "1"
    assert faults.seen == 2  # botocore's standard mode tried twice (pass_culture/aws.py)
    assert nothing_written(world, young, stock)
    assert world.book(young, stock).status == 201  # the client's retry, once AWS takes it


def test_a_passing_throttle_is_absorbed_by_botocores_retry(world: World) -> None:
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    faults = Faults("TransactWriteItems", times=1)
    answer = world.book(young, stock)
    faults.stop()
    assert answer.status == 201 and faults.seen == 1
    assert world.stock(stock)["bookedQuantity"] == 1 and world.credit(young)["spentCents"] == 1200


def test_reads_throttled_or_timing_out_are_503_too(world: World) -> None:
    young = world.young()
    for code in ("ProvisionedThroughputExceededException", "ReadTimeout"):
        faults = Faults("Query", code=code)
        answer = world.call("GET", "/me/bookings", claims=young)
        faults.stop()
        assert (answer.status, answer.body["code"], faults.seen) == (503, "SERVICE_UNAVAILABLE", 2), code
    assert world.call("GET", "/me/bookings", claims=young).status == 200


@pytest.mark.parametrize(
    ("reason", "status", "code", "retry_after"),
    [
        # DynamoDB cancels a transaction whose item is throttled: no condition failed, AWS could not take it now
        ({"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}, 503,
         "SERVICE_UNAVAILABLE", "1"),
        # another transaction held one of the items: no rule refused it, "please retry", as the contract says
        ({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}, 409,
         "BOOKING_CONFLICT", None),
    ],
)  # fmt: skip
def test_a_transaction_cancelled_by_aws_not_by_a_rule_writes_nothing_and_can_be_retried(
    world: World, reason: dict[str, str], status: int, code: str, retry_after: str | None
) -> None:
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    reasons = [{"Code": "None"}, reason]
    with Faults("TransactWriteItems", code="TransactionCanceledException", CancellationReasons=reasons):
        answer = world.book(young, stock)
    assert (answer.status, answer.body["code"], answer.headers.get("Retry-After")) == (status, code, retry_after)
    assert nothing_written(world, young, stock)
    assert world.book(young, stock).status == 201


def test_what_aws_could_not_take_now_is_told_apart_from_a_bug_or_a_rule() -> None:
    from botocore.exceptions import ClientError

    from pass_culture.dynamo import Throttled, TransactionCancelled
    from pass_culture.http import aws_unavailable

    def client_error(code: str, status: int = 400) -> ClientError:
        response: Any = {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(response, "PutItem")

    assert aws_unavailable(client_error("ProvisionedThroughputExceededException"))
    assert aws_unavailable(Throttled("capacity"))
    assert aws_unavailable(TransactionCancelled([{"Code": "None"}, {"Code": "TransactionConflict"}]))
    assert not aws_unavailable(
        TransactionCancelled([{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}])
    )
    assert not aws_unavailable(client_error("ValidationException"))
    assert aws_unavailable(client_error("InternalServerError", 500))
    assert aws_unavailable(client_error("502", 502))  # AWS's failure, whatever its body names: botocore retried it
    assert not aws_unavailable(client_error("400"))
    assert not aws_unavailable(KeyError("a bug"))
    wrapped = RuntimeError("Failed to save in progress record to idempotency store")  # Powertools' idempotency
    wrapped.__cause__ = client_error("ThrottlingException")  # wraps the botocore error in its own (`make load`)
    assert aws_unavailable(wrapped)


# -- every operation of the contract, with every DynamoDB operation faulted ------------------------------------------
# DynamoDB's throttles, its 500 (InternalServerError), a bare 500 whose body names no error, and no answer in time
FAULT_KINDS = (
    "ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError", "500", "ReadTimeout",
)  # fmt: skip
READ_NOTHING = frozenset({"GET /health", "GET /subcategories"})  # static answers: no DynamoDB behind them
ROUTES = {f"{route.method} {route.path}": f.logical_id for f in FUNCTIONS.values() for route in f.routes}
ANONYMOUS, BENEFICIARY, PRO, ADMIN, API_KEY = "anonymous", "beneficiary", "pro", "admin", "API key"
TEACHER, HEAD = "teacher", "institution_head"  # the collective part's (tests/integration/collective_world.py)
CLAIMS = {
    PRO: claims_of("pro", "pro"), ADMIN: claims_of("admin", "admin"),  # the World's PRO (its offerer's member)
    TEACHER: claims_of("teacher", cw.TEACHER_ID), HEAD: claims_of("institution_head", cw.HEAD_ID),
}  # fmt: skip
EAN = "9782070360024"
CATALOGUE = f"ean,title,author,publisher,clil\n{EAN},L'Étranger,Albert Camus,Gallimard,3435\n"


class Scene:
    """The things one request names, made on demand before it is sent. A new scene for each fault kind: the request
    that succeeds once the faults stop changes them (a booking cancelled, a key revoked, a SIREN taken)."""

    def __init__(self, world: World, provider: FakeProvider) -> None:
        self.world, self.provider = world, provider

    @cached_property
    def young(self) -> dict[str, str]:
        return self.world.young()

    @cached_property
    def stock_id(self) -> str:
        return self.world.offer("LIVRE_PAPIER", 1200, quantity=5)

    @property
    def offer_id(self) -> str:
        return offer_id_of_stock(self.stock_id)

    @cached_property
    def booking(self) -> dict[str, Any]:
        return self.world.booking(self.young)

    @cached_property
    def used_booking(self) -> dict[str, Any]:
        booking = self.world.booking(self.young)
        self.world.use(booking["id"])
        return booking

    @cached_property
    def api_key(self) -> dict[str, str]:
        return self.world.api_key()

    @cached_property
    def book_ean(self) -> str:
        """A book of the catalogue (a pushed line of it creates an offer)."""
        self.world.offers.load_catalogue(WORLD_ADMIN, CATALOGUE)
        return EAN

    @cached_property
    def provider_url(self) -> str:
        """The stock provider's base URL: it knows the venue's SIRET."""
        self.provider.add_venue(self.world.venue_siret(), [])
        return self.provider.base_url

    def caller(self, who: str) -> dict[str, Any]:
        """The request's identity as API Gateway hands it over: Cognito claims, or the API-key authorizer's context."""
        if who == ANONYMOUS:
            return {}
        if who == API_KEY:
            return {"authorizer": self.api_key}
        return {"claims": self.young if who == BENEFICIARY else CLAIMS[who]}


def offerer(scene: Scene) -> dict[str, str]:
    return {"offererId": scene.world.offerer_id}


def venue(scene: Scene) -> dict[str, str]:
    return {"venueId": scene.world.venue_id}


def offer(scene: Scene) -> dict[str, str]:
    return {"offerId": scene.offer_id}


def countermark(scene: Scene) -> dict[str, str]:
    return {"token": scene.booking["token"]}


def nothing(_: Scene) -> dict[str, str]:
    return {}


def no_body(_: Scene) -> Any:
    return None


def new_siren() -> str:
    return luhn_complete(str(random.randrange(10**7, 10**8)))


def new_venue(scene: Scene) -> dict[str, Any]:
    siret = luhn_complete(scene.world.venue_siret()[:9] + str(random.randrange(1000, 10_000)))
    return {
        "name": "Annexe", "siret": siret, "address": "2 rue du Livre", "postalCode": "75003", "city": "Paris",
        "latitude": 48.86, "longitude": 2.35, "bookingEmail": "annexe@librairie.example",
    }  # fmt: skip


def new_beneficiary(_: Scene) -> dict[str, Any]:
    return {
        "email": f"jeune-{uuid.uuid4().hex[:8]}@example.org", "firstName": "Léa", "lastName": "Martin",
        "birthDate": date(date.today().year - 18, 1, 1).isoformat(), "phone": "0600000000", "postalCode": "75011",
    }  # fmt: skip


def around_an_offer(scene: Scene) -> dict[str, str]:
    scene.offer_id  # noqa: B018 - an offer of the venue's to find
    return {"lat": "48.86", "lon": "2.35", "radiusKm": "2"}


def collaborators(scene: Scene) -> Any:
    from pass_culture.accounts.collaborators import CollaboratorsService
    from pass_culture.accounts.repository import AccountsRepository
    from pass_culture.accounts.team import TeamRepository
    from pass_culture.clock import SystemClock

    table = scene.world.table
    return CollaboratorsService(scene.world.accounts, AccountsRepository(table), TeamRepository(table), SystemClock())


def an_invitation(scene: Scene) -> dict[str, str]:
    """Another pro's offerer inviting PRO (its token's email: pro@example.org)."""
    from pass_culture.access import Caller
    from pass_culture.accounts.models import CreateOffererInput

    host = Caller(user_id=f"host-{uuid.uuid4().hex[:8]}", email="host@example.org", groups=frozenset({"pro"}))
    offerer = scene.world.accounts.create_offerer(host, CreateOffererInput(siren=new_siren(), name="Mairie"))
    return {"invitationId": collaborators(scene).invite(host, offerer.id, "pro@example.org").id}


def a_taken_siren(scene: Scene) -> str:
    """The SIREN of another pro's offerer."""
    from pass_culture.access import Caller
    from pass_culture.accounts.models import CreateOffererInput

    host = Caller(user_id=f"host-{uuid.uuid4().hex[:8]}", email="host@example.org", groups=frozenset({"pro"}))
    return scene.world.accounts.create_offerer(host, CreateOffererInput(siren=new_siren(), name="Mairie")).siren


def a_request(scene: Scene) -> dict[str, str]:
    """Someone asking to join the World's offerer (declaring its SIREN)."""
    from pass_culture.accounts.models import CreateOffererInput, Person

    user = f"asker-{uuid.uuid4().hex[:8]}"
    siren = scene.world.venue_siret()[:9]
    collaborators(scene).request_attachment(
        Person(user_id=user, email=f"{user}@example.org"), CreateOffererInput(siren=siren, name="Médiathèque")
    )
    return {**offerer(scene), "userId": user}


def a_second_member(scene: Scene) -> dict[str, str]:
    from pass_culture.access import Caller
    from pass_culture.accounts.models import Person

    user = f"mate-{uuid.uuid4().hex[:8]}"
    service = collaborators(scene)
    invitation = service.invite(WORLD_PRO, scene.world.offerer_id, f"{user}@example.org")
    mate = Caller(user_id=user, email=f"{user}@example.org", groups=frozenset({"pro"}))
    service.accept_invitation(mate, Person(user_id=user, email=mate.email), invitation.id)
    return {**offerer(scene), "userId": user}


def pending_bank_details(scene: Scene) -> dict[str, str]:
    scene.world.bank_details()
    return offerer(scene)


def a_dvd(scene: Scene) -> dict[str, str]:
    return {"venueId": scene.world.venue_id, "subcategoryId": "SUPPORT_PHYSIQUE_FILM", "name": "DVD"}


def idempotency_key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


@dataclass(frozen=True)
class Operation:
    """A route of the contract, called by a caller allowed to call it, with a valid request."""

    route: str  # "METHOD /path/{parameter}", as template.yaml declares it
    caller: str
    path: Callable[[Scene], dict[str, str]] = nothing  # the path's parameters
    body: Callable[[Scene], Any] = no_body
    query: Callable[[Scene], dict[str, str]] = nothing
    succeeds: int = 200  # its status once AWS takes it
    content_type: str = "application/json"
    headers: Callable[[], dict[str, str]] = dict
    variant: str = ""

    @property
    def name(self) -> str:
        return f"{self.route} {self.variant}".strip()

    def event(self, scene: Scene) -> dict[str, Any]:
        method, resource = self.route.split(" ")
        params = self.path(scene)
        path = resource.format(**params)
        return api_event(
            method, path, resource=resource, path_parameters=params or None, body=self.body(scene),
            query=self.query(scene) or None, content_type=self.content_type, headers=self.headers(),
            **scene.caller(self.caller),
        )  # fmt: skip


OPERATIONS = (
    # accounts: offerers, venues, bank details, API keys, beneficiaries
    Operation("GET /offerers", PRO),
    Operation("POST /offerers", PRO, body=lambda _: {"siren": new_siren(), "name": "Librairie ter"}, succeeds=201),
    Operation("POST /admin/offerers/{offererId}/validate", ADMIN,
              path=lambda s: {"offererId": s.world.pending_offerer()}),
    Operation("POST /offerers/{offererId}/venues", PRO, path=offerer, body=new_venue, succeeds=201),
    Operation("PUT /offerers/{offererId}/bank-account", PRO, path=offerer,
              body=lambda _: {"iban": IBAN, "bic": BIC, "label": "Compte courant"}),
    Operation("POST /admin/offerers/{offererId}/bank-account/accept", ADMIN, path=pending_bank_details),
    Operation("POST /offerers/{offererId}/api-keys", PRO, path=offerer, succeeds=201),
    Operation("GET /offerers/{offererId}/api-keys", PRO, path=offerer),
    Operation("DELETE /offerers/{offererId}/api-keys/{apiKeyId}", PRO,
              path=lambda s: {**offerer(s), "apiKeyId": s.api_key["apiKeyId"]}, succeeds=204),
    Operation("POST /offerers", PRO, body=lambda s: {"siren": a_taken_siren(s), "name": "Médiathèque"},
              succeeds=202, variant="of a SIREN registered: a request to join"),
    Operation("POST /offerers/{offererId}/invitations", PRO, path=offerer, succeeds=201,
              body=lambda _: {"email": f"invite-{uuid.uuid4().hex[:8]}@example.org"}),
    Operation("POST /invitations/{invitationId}/accept", PRO, path=an_invitation),
    Operation("POST /offerers/{offererId}/attachments/{userId}/accept", PRO, path=a_request),
    Operation("POST /offerers/{offererId}/attachments/{userId}/refuse", ADMIN, path=a_request),
    Operation("GET /offerers/{offererId}/members", PRO, path=offerer),
    Operation("DELETE /offerers/{offererId}/members/{userId}", PRO, path=a_second_member, succeeds=204),
    Operation("POST /beneficiaries", ADMIN, body=new_beneficiary, succeeds=201),
    Operation("GET /me", BENEFICIARY),
    # offers, stocks, search, the book catalogue
    Operation("GET /offers", ANONYMOUS, query=around_an_offer),
    Operation("GET /offers/{offerId}", ANONYMOUS, path=offer),
    Operation("GET /pro/offers/{offerId}", PRO, path=offer),
    Operation("POST /offers", PRO, body=a_dvd, succeeds=201),
    Operation("POST /offers", PRO, body=a_dvd, succeeds=201, headers=idempotency_key,
              variant="with an Idempotency-Key"),
    Operation("PATCH /offers/{offerId}", PRO, path=offer, body=lambda _: {"description": "Coup de cœur"}),
    Operation("DELETE /offers/{offerId}", PRO, path=offer, succeeds=204),
    Operation("POST /offers/{offerId}/image", PRO, path=offer, body=lambda _: {"contentType": "image/png"},
              succeeds=201),
    Operation("POST /offers/{offerId}/stocks", PRO, path=offer, body=lambda _: {"priceCents": 500, "quantity": 3},
              succeeds=201),
    Operation("PATCH /stocks/{stockId}", PRO, path=lambda s: {"stockId": s.stock_id}, body=lambda _: {"quantity": 40}),
    Operation("GET /venues/{venueId}/offers", PRO, path=venue),
    Operation("POST /admin/catalogue", ADMIN, body=lambda _: CATALOGUE, content_type="text/csv"),
    # stock import
    Operation("PUT /venues/{venueId}/stock-provider", PRO, path=venue,
              body=lambda s: {"provider": "titelive", "baseUrl": s.provider_url}),
    Operation("DELETE /venues/{venueId}/stock-provider", PRO, path=venue, succeeds=204),
    Operation("POST /venues/{venueId}/stocks/import", API_KEY, path=venue, succeeds=202,
              body=lambda s: {"stocks": [{"ref": s.book_ean, "available": 2, "price": 8.9}]}),
    Operation("GET /venues/{venueId}/stock-imports", PRO, path=venue),
    Operation("GET /admin/job-runs", ADMIN, query=lambda _: {"job": "auto-validate-bookings"}),
    # bookings
    Operation("POST /bookings", BENEFICIARY, body=lambda s: {"stockId": s.stock_id, "quantity": 1}, succeeds=201),
    Operation("POST /bookings", BENEFICIARY, succeeds=201, headers=idempotency_key, variant="with an Idempotency-Key",
              body=lambda s: {"stockId": s.stock_id, "quantity": 1}),
    Operation("GET /me/bookings", BENEFICIARY),
    Operation("POST /bookings/{bookingId}/cancel", BENEFICIARY, path=lambda s: {"bookingId": s.booking["id"]}),
    # the counter (venue software: the offerer's API key), the pros' tracking and reimbursements
    Operation("GET /v2/bookings/token/{token}", API_KEY, path=countermark),
    Operation("PATCH /v2/bookings/use/token/{token}", API_KEY, path=countermark, succeeds=204),
    Operation("PATCH /v2/bookings/keep/token/{token}", API_KEY, path=lambda s: {"token": s.used_booking["token"]},
              succeeds=204),
    Operation("PATCH /v2/bookings/cancel/token/{token}", API_KEY, path=countermark, succeeds=204),
    Operation("GET /pro/bookings", PRO, query=offerer),
    Operation("GET /pro/bookings/export", PRO, query=lambda s: {**offerer(s), "format": "csv"}),
    Operation("GET /pro/reimbursements", PRO, query=offerer),
    Operation("GET /pro/reimbursements/{payoutId}/bookings", PRO, path=lambda s: {"payoutId": s.world.payout()}),
    # collective offers (issue 17)
    Operation("POST /admin/institutions", ADMIN, body=cw.scene_institutions_csv, content_type="text/csv"),
    Operation("PUT /admin/institutions/{uai}/budgets/{schoolYear}", ADMIN, path=cw.scene_budget_path,
              body=lambda _: {"amountCents": 50_000}),
    Operation("POST /admin/institutions/{uai}/members", ADMIN, path=cw.scene_uai, body=cw.scene_new_member,
              succeeds=201),
    Operation("POST /collective-offers", PRO, body=cw.scene_offer_body, succeeds=201),
    Operation("PATCH /collective-offers/{collectiveOfferId}", PRO, path=cw.scene_showcase,
              body=lambda _: {"name": "Atelier manga", "interventionArea": ["94"]}),
    Operation("PUT /collective-offers/{collectiveOfferId}/stock", PRO, path=cw.scene_showcase,
              body=lambda _: cw.stock_body()),
    Operation("GET /collective-offers", TEACHER, query=cw.scene_teacher_ready),
    Operation("POST /collective-offers/{collectiveOfferId}/requests", TEACHER,
              path=lambda s: cw.scene_teacher_ready(s) or cw.scene_showcase(s),
              body=lambda _: {"comment": "Pour deux classes"}, succeeds=201),
    Operation("POST /collective-bookings", TEACHER, body=cw.scene_stock, succeeds=201),
    Operation("POST /collective-bookings/{collectiveBookingId}/confirm", HEAD, path=cw.scene_pending_booking),
    Operation("POST /collective-bookings/{collectiveBookingId}/cancel", HEAD, path=cw.scene_pending_booking),
    Operation("GET /institution/bookings", TEACHER, query=cw.scene_teacher_ready),
)  # fmt: skip


def send(module: Any, event: dict[str, Any]) -> Answer:
    return send_event(module, copy.deepcopy(event))  # the event is sent again after the faults


def every_item() -> list[dict[str, Any]]:
    """The whole table, read past the product's code and the faults (a test-only Scan, straight to moto)."""
    client = boto3.client("dynamodb", region_name="eu-west-3")
    pages = client.get_paginator("scan").paginate(TableName=get_settings().table_name, ConsistentRead=True)
    return sorted((item for page in pages for item in page["Items"]), key=lambda item: json.dumps(item, sort_keys=True))


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore retries at once: its attempts are what is counted here, not its waits (up to 1 s after a throttle)."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def apis(world: World, deployed: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Every API function's module, by the template's logical id."""
    monkeypatch.setenv("ALLOW_LOOPBACK_PROVIDERS", "true")  # the fake stock provider is served on loopback
    return {logical_id: deployed(logical_id) for logical_id in sorted(set(ROUTES.values()))}


def test_the_table_calls_every_route_that_reads_or_writes_dynamodb() -> None:
    assert {operation.route for operation in OPERATIONS} == set(ROUTES) - READ_NOTHING


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.name)
def test_every_operation_is_retried_then_answered_503_with_nothing_written_and_passes_once_aws_takes_it(
    operation: Operation, world: World, apis: dict[str, Any], provider: FakeProvider, no_backoff: None
) -> None:
    module = apis[ROUTES[operation.route]]
    wrong: list[str] = []
    for kind in FAULT_KINDS:
        event = operation.event(Scene(world, provider))  # what it names, made before the snapshot
        before = every_item()
        with Faults(EVERY, code=kind, times=None) as faults:
            answer = send(module, event)
        after = every_item()
        again = send(module, event)  # the client's retry, once AWS takes it
        body = answer.body if isinstance(answer.body, dict) else {}
        if (answer.status, body.get("code"), answer.headers.get("Retry-After")) != (503, "SERVICE_UNAVAILABLE", "1"):
            wrong.append(f"{kind}: answered {answer.status} {answer.headers} {str(answer.body)[:300]}")
        if "Traceback" in str(answer.body):
            wrong.append(f"{kind}: a traceback in the answer")
        if len(faults.operations) < 2 or faults.operations[0] != faults.operations[1]:
            wrong.append(f"{kind}: the first call was not retried by botocore: {faults.operations}")
        if before != after:
            changed = [item for item in after if item not in before] + [item for item in before if item not in after]
            wrong.append(f"{kind}: half-written: {str(changed)[:500]}")
        if again.status != operation.succeeds:
            wrong.append(f"{kind}: once the faults stopped, {again.status} {str(again.body)[:300]}")
    assert not wrong, f"{operation.name}:\n" + "\n".join(wrong)


def test_what_reads_nothing_answers_under_the_same_faults(world: World, apis: dict[str, Any]) -> None:
    with Faults(EVERY, times=None) as faults:
        answers = {route: send(apis[ROUTES[route]], api_event(*route.split(" "))) for route in sorted(READ_NOTHING)}
    assert {route: answer.status for route, answer in answers.items()} == dict.fromkeys(READ_NOTHING, 200)
    assert faults.seen == 0


def test_a_put_whose_answer_was_lost_is_not_refused_by_its_own_first_attempt(world: World) -> None:
    """`make load` found it: botocore sent the idempotency record's conditional PutItem again after a read timeout
    that had written it, and the request was answered 409 REQUEST_IN_PROGRESS — by its own record."""
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    event = api_event("POST", "/bookings", body={"stockId": stock, "quantity": 1}, claims=young,
                      headers={"Idempotency-Key": "lost-answer-1"})  # fmt: skip
    with Faults("PutItem", code=LOST_ANSWER, times=1) as faults:
        first = send(world.module, event)
    assert faults.operations == ["PutItem"]
    assert first.status == 201, first.body
    again = send(world.module, event)  # the client's retry with the key: the first answer, nothing booked twice
    assert (again.status, again.body) == (201, first.body)
    assert world.stock(stock)["bookedQuantity"] == 1 and world.credit(young)["spentCents"] == 1200


def test_only_the_records_own_writer_passes_its_condition_again(world: World) -> None:
    """The token lets a retry of the same put through, and nobody else: another request with the key (another
    environment, while the first runs) is still refused by Powertools' condition, hence 409 REQUEST_IN_PROGRESS."""
    from botocore.exceptions import ClientError

    from pass_culture import aws
    from pass_culture.idempotency import OwnPutRetries

    table = get_settings().table_name
    record = {"PK": {"S": "IDEMPOTENCY#a-key"}, "SK": {"S": "IDEMPOTENCY"}, "status": {"S": "INPROGRESS"}}
    condition = {"ConditionExpression": "attribute_not_exists(#id)", "ExpressionAttributeNames": {"#id": "PK"}}
    first, other = OwnPutRetries(aws.dynamodb(), "first"), OwnPutRetries(aws.dynamodb(), "other")
    first.put_item(TableName=table, Item=record, **condition)
    first.put_item(TableName=table, Item=record, **condition)  # botocore's retry of a put that had landed
    with pytest.raises(ClientError) as refused:
        other.put_item(TableName=table, Item=record, **condition)
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    stored = aws.dynamodb().get_item(TableName=table, Key={"PK": record["PK"], "SK": record["SK"]})["Item"]
    assert stored["putToken"] == {"S": "first"}


def test_a_keyed_offer_whose_answer_could_not_be_recorded_is_not_created_twice(
    world: World, apis: dict[str, Any], provider: FakeProvider, no_backoff: None
) -> None:
    """The offer is written, then Powertools cannot record the answer (its UpdateItem fails): 503, the record stays
    in progress. Once that time is over, the client's retry runs the creation again: it meets its own offer (the id
    comes from the key) and answers it, where it used to create a second one."""
    module = apis[ROUTES["POST /offers"]]
    event = Operation("POST /offers", PRO, body=a_dvd, succeeds=201, headers=idempotency_key).event(
        Scene(world, provider)
    )
    venue_id = json.loads(event["body"])["venueId"]
    offers_before = {item["PK"]["S"] for item in every_item() if item.get("entity", {}).get("S") == "OFFER"}
    # the offer's public number (an UpdateItem) and its transaction pass; Powertools' result (an UpdateItem) fails
    with Faults("UpdateItem", after=1, times=None) as faults:
        first = send(module, event)
    assert faults.operations == ["UpdateItem", "UpdateItem"]  # botocore's two attempts at the result
    assert (first.status, first.body["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert send(module, event).status == 409  # REQUEST_IN_PROGRESS while the first may still be running

    client = boto3.client("dynamodb", region_name="eu-west-3")
    (record,) = [item for item in every_item() if item["PK"]["S"].startswith("IDEMPOTENCY#")
                 and item.get("status", {}).get("S") == "INPROGRESS"]  # fmt: skip
    client.update_item(TableName=get_settings().table_name, Key={"PK": record["PK"], "SK": record["SK"]},
                       UpdateExpression="SET in_progress_expiration = :past",
                       ExpressionAttributeValues={":past": {"N": "0"}})  # fmt: skip  # that invocation is long over
    retried = send(module, event)
    assert retried.status == 201, retried.body
    created = {item["PK"]["S"] for item in every_item() if item.get("entity", {}).get("S") == "OFFER"} - offers_before
    assert created == {f"OFFER#{retried.body['id']}"}  # one offer, the one the first run wrote
    assert retried.body["venueId"] == venue_id
    assert send(module, event).body == retried.body  # and from now on, that answer
