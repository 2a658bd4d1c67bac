"""Accounts models: what DynamoDB stores (with the repository's keys added) and what the API answers."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from pass_culture.models import CamelInput, CamelModel, DateInput, Instant

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=EMAIL_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ValidationStatus(StrEnum):
    NEW = "NEW"
    VALIDATED = "VALIDATED"


class BankAccountStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"


# -- stored and answered ----------------------------------------------------------------------------------------
class Offerer(CamelModel):
    id: str
    siren: str
    name: str
    validation_status: ValidationStatus
    created_at: Instant


class Venue(CamelModel):
    id: str
    offerer_id: str
    name: str
    siret: str | None = None
    comment: str | None = None
    pricing_point_venue_id: str | None = None
    address: str
    postal_code: str
    city: str
    latitude: float
    longitude: float
    booking_email: str
    created_at: Instant


class BankAccount(CamelModel):
    offerer_id: str
    iban: str
    bic: str
    label: str
    status: BankAccountStatus
    updated_at: Instant
    notify_email: str | None = None

    def to_api(self) -> dict[str, Any]:
        """Never the full IBAN in an answer: it is shown masked."""
        from pass_culture.accounts.rules import mask_iban

        return {"status": self.status.value, "iban": mask_iban(self.iban), "bic": self.bic, "label": self.label}


class ApiKey(CamelModel):
    id: str
    offerer_id: str
    prefix: str
    created_at: Instant
    revoked_at: Instant | None = None


class Beneficiary(CamelModel):
    id: str  # the identity provider's subject (Cognito `sub`)
    email: str
    first_name: str
    last_name: str
    birth_date: date
    phone: str
    postal_code: str
    created_at: Instant
    # A copy of the grant, so the welcome email (sent from this item's stream record) can state it.
    credit_initial_cents: int
    credit_expires_at: Instant


class Credit(CamelModel):
    initial_cents: int
    spent_cents: int = 0
    digital_cap_cents: int | None = None
    digital_spent_cents: int = 0
    granted_at: Instant
    expires_at: Instant


# -- collaborators (domain.md "Collaborators") -------------------------------------------------------------------
class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"


class AttachmentStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"  # the requester is a member (then VALIDATED, as the domain says it, for the link)
    REFUSED = "REFUSED"


class Person(CamelModel):
    """Who joins an offerer, as their token says it (the name when the identity provider gives one)."""

    user_id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class TeamMember(Person):
    since: Instant


class Invitation(CamelModel):
    id: str
    offerer_id: str
    offerer_name: str
    email: str
    invited_by_email: str | None = None
    invited_at: Instant
    expires_at: Instant
    status: InvitationStatus
    accepted_by: str | None = None
    accepted_at: Instant | None = None


class AttachmentRequest(Person):
    offerer_id: str
    offerer_name: str
    siren: str
    status: AttachmentStatus
    requested_at: Instant
    decided_at: Instant | None = None
    decided_by: str | None = None
    # the offerer's members when it was asked: who the request is emailed to (the stream record carries it)
    notify_emails: list[str] = Field(default_factory=list)


# -- request bodies ---------------------------------------------------------------------------------------------
class CreateOffererInput(CamelInput):
    siren: str = Field(min_length=1, max_length=20)
    name: Text


class CreateVenueInput(CamelInput):
    name: Text
    siret: str | None = Field(default=None, max_length=20)
    comment: str | None = Field(default=None, max_length=500)
    pricing_point_venue_id: str | None = Field(default=None, max_length=64)
    address: Text
    postal_code: Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
    city: Text
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    booking_email: Email

    @model_validator(mode="after")
    def one_identity(self) -> CreateVenueInput:
        """domain.md: exactly one of {SIRET, comment}; a venue without SIRET is reimbursed through a pricing point."""
        if bool(self.siret) == bool(self.comment):
            raise ValueError("give either a siret, or a comment saying why the venue has none (not both)")
        if not self.siret and not self.pricing_point_venue_id:
            raise ValueError("a venue without siret needs a pricingPointVenueId (a venue of the offerer with a siret)")
        if self.siret and self.pricing_point_venue_id:
            raise ValueError("a venue with a siret is its own pricing point: no pricingPointVenueId")
        return self


class BankAccountInput(CamelInput):
    iban: str = Field(min_length=1, max_length=50)
    bic: str = Field(min_length=1, max_length=20)
    label: Text


class CreateBeneficiaryInput(CamelInput):
    email: Email
    first_name: Text
    last_name: Text
    birth_date: DateInput
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 .-]{6,20}$")]
    postal_code: Annotated[str, StringConstraints(pattern=r"^\d{5}$")]


class ApiKeyCreated(CamelModel):
    id: str
    api_key: str  # shown once: only its hash is stored
    prefix: str
    created_at: Instant


class InvitationInput(CamelInput):
    email: Email
