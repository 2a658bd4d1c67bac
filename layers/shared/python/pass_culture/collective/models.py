"""The collective part's models: request bodies (strict, camelCase) and what the table holds (docs/data-model.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, Strict, StringConstraints

from pass_culture.accounts.models import Email
from pass_culture.collective.rules import (
    MAX_INTERVENTION_DEPARTEMENTS,
    MAX_STUDENTS,
    MAX_TOTAL_PRICE_CENTS,
    CollectiveBookingStatus,
    EducationalDomain,
    InstitutionRole,
    StudentLevel,
    is_departement,
)
from pass_culture.models import CamelInput, CamelModel, Instant, InstantInput, Omittable

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=140)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 .-]{6,20}$")]
Accessibility = Literal["audio", "mental", "motor", "visual"]


def _departements(codes: list[str]) -> list[str]:
    wrong = [code for code in codes if not is_departement(code)]
    if wrong:
        raise ValueError(f"not a département code: {', '.join(wrong[:5])}")
    return sorted(set(codes))


Departements = Annotated[list[str], Field(max_length=MAX_INTERVENTION_DEPARTEMENTS), AfterValidator(_departements)]
# request bodies are strict: an enum is read from its JSON string
Level = Annotated[StudentLevel, Strict(False)]
Domain = Annotated[EducationalDomain, Strict(False)]
Role = Annotated[InstitutionRole, Strict(False)]
Levels = Annotated[list[Level], Field(min_length=1, max_length=len(StudentLevel))]
Domains = Annotated[list[Domain], Field(min_length=1, max_length=len(EducationalDomain))]


class InstitutionMemberInput(CamelInput):
    email: Email
    role: Role
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)


class BudgetInput(CamelInput):
    amount_cents: int = Field(ge=0, le=10_000_000_000)


class CreateCollectiveOfferInput(CamelInput):
    venue_id: str = Field(min_length=1, max_length=64)
    subcategory_id: str = Field(min_length=1, max_length=64)
    name: Name
    description: str = Field(default="", max_length=1500)
    students: Levels
    domains: Domains
    intervention_area: Departements = Field(default_factory=list)  # where the venue goes; none: at the venue only
    contact_email: Email
    contact_phone: Phone | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=10_000)
    accessibility: list[Accessibility] = Field(default_factory=list, max_length=4)


class UpdateCollectiveOfferInput(CamelInput):
    name: Omittable[Name] = None
    description: Omittable[str] = Field(default=None, max_length=1500)
    students: Omittable[Levels] = None
    domains: Omittable[Domains] = None
    intervention_area: Omittable[Departements] = None
    contact_email: Omittable[Email] = None
    contact_phone: Omittable[Phone] = None
    duration_minutes: Omittable[int] = Field(default=None, ge=1, le=10_000)
    accessibility: Omittable[list[Accessibility]] = Field(default=None, max_length=4)
    is_active: Omittable[bool] = None


class CollectiveStockInput(CamelInput):
    start_datetime: InstantInput
    booking_limit_datetime: InstantInput
    number_of_students: int = Field(ge=1, le=MAX_STUDENTS)
    total_price_cents: int = Field(ge=0, le=MAX_TOTAL_PRICE_CENTS)
    price_details: str = Field(default="", max_length=1000)


class CollectiveRequestInput(CamelInput):
    comment: str = Field(min_length=1, max_length=1000)
    phone: Phone | None = None
    total_students: int | None = Field(default=None, ge=1, le=MAX_STUDENTS)
    total_teachers: int | None = Field(default=None, ge=1, le=100)


class PreBookInput(CamelInput):
    collective_stock_id: str = Field(min_length=1, max_length=128)


class Institution(CamelModel):
    uai: str
    name: str
    type: str
    city: str
    postal_code: str
    departement: str


class InstitutionMember(CamelModel):
    user_id: str
    email: str
    uai: str
    role: InstitutionRole


class Budget(CamelModel):
    uai: str
    school_year: str
    amount_cents: int
    spent_cents: int = 0


class CollectiveStock(CamelModel):
    id: str
    offer_id: str
    start_datetime: Instant
    booking_limit_datetime: Instant
    number_of_students: int
    total_price_cents: int
    price_details: str = ""
    booking_id: str | None = None  # the one non-cancelled booking


class CollectiveOffer(CamelModel):
    id: str
    offerer_id: str
    venue_id: str
    venue_name: str
    venue_postal_code: str
    venue_departement: str
    booking_email: str
    pricing_point_venue_id: str | None = None  # the venue's pricing point, copied: its bookings are paid to it
    subcategory_id: str
    name: str
    description: str = ""
    students: list[StudentLevel]
    domains: list[EducationalDomain]
    intervention_area: list[str] = Field(default_factory=list)
    contact_email: str
    contact_phone: str | None = None
    duration_minutes: int | None = None
    accessibility: list[str] = Field(default_factory=list)
    is_active: bool = True
    created_at: Instant
    stock: CollectiveStock | None = None  # a copy of the stock, for answers and the search (the stock item decides)

    @property
    def is_showcase(self) -> bool:
        return self.stock is None

    @property
    def areas(self) -> list[str]:
        """The départements the offer is found in: its venue's and those it goes to."""
        return sorted({self.venue_departement, *self.intervention_area})

    def to_api(self) -> dict[str, Any]:
        return {**super().to_api(), "isShowcase": self.is_showcase}


class CollectiveBooking(CamelModel):
    id: str
    status: CollectiveBookingStatus
    offer_id: str
    offer_name: str
    stock_id: str
    offerer_id: str
    venue_id: str
    venue_name: str
    booking_email: str
    pricing_point_venue_id: str | None = None  # the offer's, copied: once USED the booking is payable to it
    uai: str
    institution_name: str
    teacher_id: str
    teacher_email: str
    total_price_cents: int
    number_of_students: int
    start_datetime: Instant
    booking_limit_datetime: Instant
    school_year: str
    booked_at: Instant
    confirmed_at: Instant | None = None
    cancelled_at: Instant | None = None
    cancellation_reason: str | None = None
    used_at: Instant | None = None
    validation_author: str | None = None
    reimbursed_at: Instant | None = None  # paid by the biweekly payout
