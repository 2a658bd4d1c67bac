"""Educational institutions, their budgets, a teacher and a head, and collective offers of the booking World's venue,
made through the collective function's real handler (moto in-process behind), for the collective tests and the fault
table (tests/integration/test_faults.py)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.events import claims_of
from tests.integration.booking_world import World
from tests.integration.conftest import Answer, call_api

ADMIN_CLAIMS = claims_of("admin", "admin")
PRO_CLAIMS = claims_of("pro", "pro")  # the World's pro, a member of its offerer
HEADER = "uai,name,type,city,postalCode,departement\n"


def new_uai() -> str:
    return f"{random.randrange(10**7):07d}{random.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"


def later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def offer_body(venue_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "venueId": venue_id, "subcategoryId": "ATELIER_PRATIQUE_ART", "name": "Atelier bande dessinée",
        "description": "Créer une planche avec un auteur", "students": ["COLLEGE_5E", "COLLEGE_4E"],
        "domains": ["BANDE_DESSINEE", "UNIVERS_DU_LIVRE"], "interventionArea": ["93"],
        "contactEmail": "education@mediatheque.example", "contactPhone": "01 23 45 67 89", "durationMinutes": 90,
        "accessibility": ["motor"], **fields,
    }  # fmt: skip


def stock_body(price: int = 30_000, days: float = 30, limit_days: float = 20, **fields: Any) -> dict[str, Any]:
    return {"startDatetime": later(days), "bookingLimitDatetime": later(limit_days), "numberOfStudents": 25,
            "totalPriceCents": price, "priceDetails": "Intervenant et matériel", **fields}  # fmt: skip


@dataclass
class Collective:
    world: World
    call: Callable[..., Answer]
    members: dict[str, dict[str, str]] = field(default_factory=dict)

    def load(self, *lines: str) -> Answer:
        return self.call("POST", "/admin/institutions", body=HEADER + "".join(lines), claims=ADMIN_CLAIMS,
                         content_type="text/csv")  # fmt: skip

    def institution(self, amount: int | None = 100_000, departement: str = "75", postal: str = "75011") -> str:
        uai = new_uai()
        assert self.load(f"{uai},Collège Voltaire,COLLEGE,Paris,{postal},{departement}\n").body["loaded"] == 1
        if amount is not None:
            assert self.budget(uai, amount).status == 200
        return uai

    def budget(self, uai: str, amount: int, year: str | None = None) -> Answer:
        from pass_culture.collective.rules import school_year_of

        year = year or school_year_of(datetime.now(UTC) + timedelta(days=30))
        return self.call("PUT", f"/admin/institutions/{uai}/budgets/{year}",
                         resource="/admin/institutions/{uai}/budgets/{schoolYear}",
                         params={"uai": uai, "schoolYear": year}, body={"amountCents": amount}, claims=ADMIN_CLAIMS)  # fmt: skip

    def add_member(self, uai: str, role: str, email: str | None = None) -> Answer:
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@ac-paris.fr"
        return self.call("POST", f"/admin/institutions/{uai}/members", resource="/admin/institutions/{uai}/members",
                         params={"uai": uai}, body={"email": email, "role": role}, claims=ADMIN_CLAIMS)  # fmt: skip

    def member(self, uai: str, role: str = "teacher") -> dict[str, str]:
        answer = self.add_member(uai, role)
        assert answer.status == 201, answer.body
        return claims_of(role, answer.body["userId"])

    def create_offer(self, claims: dict[str, str] = PRO_CLAIMS, **fields: Any) -> Answer:
        return self.call("POST", "/collective-offers", body=offer_body(self.world.venue_id, **fields), claims=claims)

    def patch(self, offer_id: str, body: Any, claims: dict[str, str] = PRO_CLAIMS) -> Answer:
        return self.call("PATCH", f"/collective-offers/{offer_id}", resource="/collective-offers/{collectiveOfferId}",
                         params={"collectiveOfferId": offer_id}, body=body, claims=claims)  # fmt: skip

    def put_stock(self, offer_id: str, body: Any, claims: dict[str, str] = PRO_CLAIMS) -> Answer:
        return self.call("PUT", f"/collective-offers/{offer_id}/stock",
                         resource="/collective-offers/{collectiveOfferId}/stock",
                         params={"collectiveOfferId": offer_id}, body=body, claims=claims)  # fmt: skip

    def offer(self, price: int = 30_000, **fields: Any) -> tuple[str, str]:
        """A bookable collective offer: its id and its stock's."""
        created = self.create_offer(**fields)
        assert created.status == 201, created.body
        stock = self.put_stock(created.body["id"], stock_body(price))
        assert stock.status == 200, stock.body
        return created.body["id"], stock.body["id"]

    def search(self, claims: dict[str, str], **query: str) -> Answer:
        return self.call("GET", "/collective-offers", query=query or None, claims=claims)

    def request(self, claims: dict[str, str], offer_id: str, body: Any) -> Answer:
        return self.call("POST", f"/collective-offers/{offer_id}/requests",
                         resource="/collective-offers/{collectiveOfferId}/requests",
                         params={"collectiveOfferId": offer_id}, body=body, claims=claims)  # fmt: skip

    def pre_book(self, claims: dict[str, str], stock_id: str) -> Answer:
        return self.call("POST", "/collective-bookings", body={"collectiveStockId": stock_id}, claims=claims)

    def act(self, claims: dict[str, str], booking_id: str, action: str) -> Answer:
        return self.call("POST", f"/collective-bookings/{booking_id}/{action}",
                         resource=f"/collective-bookings/{{collectiveBookingId}}/{action}",
                         params={"collectiveBookingId": booking_id}, claims=claims)  # fmt: skip

    def bookings(self, claims: dict[str, str]) -> Answer:
        return self.call("GET", "/institution/bookings", claims=claims)

    # -- what the fault table names (a new one each time) ------------------------------------------------------
    def pending_booking(self) -> tuple[str, dict[str, str]]:
        """A PENDING booking of a new offer by a teacher of a new institution, and that institution's head."""
        uai = self.institution()
        teacher, head = self.member(uai), self.member(uai, "institution_head")
        _, stock_id = self.offer()
        booked = self.pre_book(teacher, stock_id)
        assert booked.status == 201, booked.body
        return booked.body["id"], head


@pytest.fixture
def collective(world: World, deployed: Any) -> Collective:
    module = deployed("CollectiveApiFunction")
    return Collective(world, call_api(module))


# -- the fault table's requests (tests/integration/test_faults.py): what they name, made through the use cases ------
TEACHER_ID, HEAD_ID = "teacher", "head"  # the fault table's teacher and head (claims_of("teacher", "teacher"), ...)
_INSTITUTIONS: dict[int, str] = {}


def _service(world: World) -> Any:
    from pass_culture.clock import SystemClock
    from pass_culture.collective.repository import CollectiveRepository
    from pass_culture.collective.service import CollectiveService

    return CollectiveService(CollectiveRepository(world.table), None, SystemClock())  # type: ignore[arg-type]


def scene_institution(scene: Any) -> str:
    """The World's institution, with a budget for the next events and the fault table's teacher and head."""
    from pass_culture.collective.models import Institution, InstitutionMember
    from pass_culture.collective.rules import InstitutionRole, school_year_of

    world: World = scene.world
    if id(world.table) in _INSTITUTIONS and _service(world)._repository.institution(_INSTITUTIONS[id(world.table)]):
        return _INSTITUTIONS[id(world.table)]
    repository = _service(world)._repository
    uai = new_uai()
    repository.put_institutions([Institution(uai=uai, name="Collège", type="COLLEGE", city="Paris",
                                             postal_code="75011", departement="75")])  # fmt: skip
    now = datetime.now(UTC)
    repository.set_budget(uai, school_year_of(now + timedelta(days=30)), 10_000_000, now)
    for user_id, role in ((TEACHER_ID, InstitutionRole.TEACHER), (HEAD_ID, InstitutionRole.INSTITUTION_HEAD)):
        repository.put_member(InstitutionMember(user_id=user_id, email=f"{user_id}@ac.fr", uai=uai, role=role), now)
    _INSTITUTIONS[id(world.table)] = uai
    return uai


def _scene_offer(scene: Any, *, with_stock: bool) -> str:
    from pass_culture.collective.models import CollectiveStockInput, CreateCollectiveOfferInput
    from tests.integration.booking_world import PRO

    service = _service(scene.world)
    body = offer_body(scene.world.venue_id)
    offer = service.create_offer(PRO, CreateCollectiveOfferInput.model_validate(body, strict=False))
    if with_stock:
        stock = CollectiveStockInput.model_validate(stock_body(price=10_000), strict=False)
        return str(service.put_stock(PRO, offer["id"], stock)["id"])
    return str(offer["id"])


def scene_showcase(scene: Any) -> dict[str, str]:
    return {"collectiveOfferId": _scene_offer(scene, with_stock=False)}


def scene_stock(scene: Any) -> dict[str, str]:
    scene_institution(scene)
    return {"collectiveStockId": _scene_offer(scene, with_stock=True)}


def scene_pending_booking(scene: Any) -> dict[str, str]:
    from pass_culture.access import Caller
    from pass_culture.collective.models import PreBookInput

    stock_id = scene_stock(scene)["collectiveStockId"]
    teacher = Caller(user_id=TEACHER_ID, email=None, groups=frozenset({"teacher"}))
    booking = _service(scene.world).pre_book(teacher, PreBookInput(collective_stock_id=stock_id))
    return {"collectiveBookingId": str(booking["id"])}


def scene_budget_path(scene: Any) -> dict[str, str]:
    return {"uai": scene_institution(scene), "schoolYear": "2031-2032"}


def scene_uai(scene: Any) -> dict[str, str]:
    return {"uai": scene_institution(scene)}


def scene_teacher_ready(scene: Any) -> dict[str, str]:
    scene_institution(scene)
    return {}


def scene_new_member(_: Any) -> dict[str, str]:
    return {"email": f"prof-{uuid.uuid4().hex[:8]}@ac-paris.fr", "role": "teacher"}


def scene_institutions_csv(_: Any) -> str:
    return HEADER + f"{new_uai()},Lycée Hugo,LYCEE,Lyon,69003,69\n"


def scene_offer_body(scene: Any) -> dict[str, Any]:
    return offer_body(scene.world.venue_id)
