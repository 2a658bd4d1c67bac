"""Accounts use cases. Each takes the caller and checks what it may do: a pro acts only on offerers they are a
member of (403 otherwise, whether the id exists or not), an admin on admin routes, a beneficiary on their own data."""

from __future__ import annotations

from typing import Any

from pass_culture.access import Caller
from pass_culture.accounts.api_keys import ApiKeyRepository, TooManyApiKeys
from pass_culture.accounts.identity import IdentityProvider
from pass_culture.accounts.models import (
    ApiKeyCreated,
    BankAccount,
    BankAccountInput,
    BankAccountStatus,
    Beneficiary,
    CreateBeneficiaryInput,
    CreateOffererInput,
    CreateVenueInput,
    Credit,
    Offerer,
    Person,
    TeamMember,
    ValidationStatus,
    Venue,
)
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.accounts.rules import new_api_key, valid_bank_details, valid_siren, valid_siret
from pass_culture.clock import Clock
from pass_culture.credit import balance, grant_for
from pass_culture.errors import Conflict, Forbidden, NotFound, RuleRefused
from pass_culture.ids import new_id
from pass_culture.money import euros
from pass_culture.settings import MAX_ACTIVE_API_KEYS_PER_OFFERER


class AccountsService:
    def __init__(
        self, repository: AccountsRepository, api_keys: ApiKeyRepository, identity: IdentityProvider, clock: Clock
    ) -> None:
        self._repository = repository
        self._api_keys = api_keys
        self._identity = identity
        self._clock = clock

    def _require_member(self, caller: Caller, offerer_id: str) -> str:
        caller.require("pro")
        assert caller.user_id is not None
        if not self._repository.is_member(caller.user_id, offerer_id):
            raise Forbidden("You are not a member of this offerer.", code="NOT_OFFERER_MEMBER")
        return caller.user_id

    # -- offerers ------------------------------------------------------------------------------------------------
    def create_offerer(self, caller: Caller, data: CreateOffererInput, person: Person | None = None) -> Offerer:
        """The offerer, its creator its first member. A SIREN already registered is a 409 SIREN_ALREADY_REGISTERED
        here; the route turns it into a request to join (accounts/collaborators.py)."""
        caller.require("pro")
        assert caller.user_id is not None
        person = person or Person(user_id=caller.user_id, email=caller.email)
        offerer = Offerer(
            id=new_id(),
            siren=valid_siren(data.siren),
            name=data.name,
            validation_status=ValidationStatus.NEW,
            created_at=self._clock.now(),
        )
        owner = TeamMember(**person.model_dump(), since=offerer.created_at)
        self._repository.create_offerer(offerer, owner_user_id=caller.user_id, owner=owner)
        return offerer

    def my_offerers(self, caller: Caller) -> list[dict[str, Any]]:
        """`GET /offerers`: the pro's offerers with their venues, so they know their ids, and each one's bank account
        (masked, with its status; null before one is entered) for the portal's reimbursements page."""
        caller.require("pro")
        assert caller.user_id is not None
        return [
            {
                **offerer.to_api(),
                "venues": [venue.to_api() for venue in venues],
                "bankAccount": account.to_api() if account else None,
            }
            for offerer, venues, account in self._repository.offerers_with_venues(caller.user_id)
        ]

    def validate_offerer(self, caller: Caller, offerer_id: str) -> Offerer:
        caller.require("admin")
        offerer = self._repository.validate_offerer(offerer_id)
        if offerer is None:
            raise NotFound("No such offerer.", code="OFFERER_NOT_FOUND")
        return offerer

    # -- venues --------------------------------------------------------------------------------------------------
    def create_venue(self, caller: Caller, offerer_id: str, data: CreateVenueInput) -> Venue:
        caller.require("pro")
        assert caller.user_id is not None
        is_member, offerer, pricing_point = self._repository.venue_context(
            caller.user_id, offerer_id, data.pricing_point_venue_id
        )
        if not is_member or offerer is None:
            raise Forbidden("You are not a member of this offerer.", code="NOT_OFFERER_MEMBER")
        siret = valid_siret(data.siret, offerer_siren=offerer.siren) if data.siret else None
        if data.pricing_point_venue_id and (
            pricing_point is None or pricing_point.offerer_id != offerer_id or not pricing_point.siret
        ):
            raise RuleRefused(
                "The pricing point must be a venue of the same offerer that has a SIRET.",
                code="INVALID_PRICING_POINT",
                details=[{"field": "pricingPointVenueId"}],
            )
        venue_id = new_id()
        venue = Venue(
            id=venue_id,
            offerer_id=offerer_id,
            name=data.name,
            siret=siret,
            comment=data.comment,
            # A venue with a SIRET is its own pricing point; one without is reimbursed through another.
            pricing_point_venue_id=venue_id if siret else data.pricing_point_venue_id,
            address=data.address,
            postal_code=data.postal_code,
            city=data.city,
            latitude=data.latitude,
            longitude=data.longitude,
            booking_email=data.booking_email,
            created_at=self._clock.now(),
        )
        self._repository.create_venue(venue)
        return venue

    # -- bank accounts -------------------------------------------------------------------------------------------
    def put_bank_account(self, caller: Caller, offerer_id: str, data: BankAccountInput) -> BankAccount:
        self._require_member(caller, offerer_id)
        iban, bic = valid_bank_details(data.iban, data.bic)
        account = BankAccount(
            offerer_id=offerer_id,
            iban=iban,
            bic=bic,
            label=data.label,
            status=BankAccountStatus.PENDING,
            updated_at=self._clock.now(),
            notify_email=caller.email,
        )
        self._repository.put_bank_account(account)
        return account

    def accept_bank_account(self, caller: Caller, offerer_id: str) -> BankAccount:
        caller.require("admin")
        account = self._repository.accept_bank_account(offerer_id, self._clock.now())
        if account is None:
            raise NotFound("This offerer has no bank account.", code="BANK_ACCOUNT_NOT_FOUND")
        return account

    # -- API keys ------------------------------------------------------------------------------------------------
    def create_api_key(self, caller: Caller, offerer_id: str) -> ApiKeyCreated:
        """At most MAX_ACTIVE_API_KEYS_PER_OFFERER active keys (409 TOO_MANY_API_KEYS past it): the count is held
        by a condition inside the key's own write, so parallel creations cannot pass it."""
        self._require_member(caller, offerer_id)
        secret, api_key_id, now = new_api_key(), new_id(), self._clock.now()
        prefix = secret[:8]
        try:
            self._api_keys.add(secret, api_key_id=api_key_id, offerer_id=offerer_id, prefix=prefix, created_at=now)
        except TooManyApiKeys:
            raise Conflict(
                f"This offerer already has {MAX_ACTIVE_API_KEYS_PER_OFFERER} active API keys, the most it may hold: "
                "revoke one it no longer uses (DELETE /offerers/{offererId}/api-keys/{apiKeyId}) to create another.",
                code="TOO_MANY_API_KEYS",
                details=[{"activeApiKeysLimit": MAX_ACTIVE_API_KEYS_PER_OFFERER}],
            ) from None
        return ApiKeyCreated(id=api_key_id, api_key=secret, prefix=prefix, created_at=now)

    def list_api_keys(self, caller: Caller, offerer_id: str) -> list[dict[str, Any]]:
        self._require_member(caller, offerer_id)
        return list(self._api_keys.list_for_offerer(offerer_id))

    def revoke_api_key(self, caller: Caller, offerer_id: str, api_key_id: str) -> None:
        """Revoked at once (the authorizer refuses it from now on), and its place among the offerer's active keys
        is freed in the same transaction. Revoking twice is harmless."""
        self._require_member(caller, offerer_id)
        if not self._api_keys.revoke(offerer_id, api_key_id, self._clock.now()):
            raise NotFound("This offerer has no such API key.", code="API_KEY_NOT_FOUND")

    # -- beneficiaries -------------------------------------------------------------------------------------------
    def register_beneficiary(self, caller: Caller, data: CreateBeneficiaryInput) -> dict[str, Any]:
        """After the identity check: the young person gets the credit for their age today."""
        caller.require("admin")
        now = self._clock.now()
        grant = grant_for(data.birth_date, now)
        user_id = self._identity.ensure_user(data.email, data.first_name, data.last_name, data.phone, "beneficiary")
        beneficiary = Beneficiary(
            id=user_id,
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
            birth_date=data.birth_date,
            phone=data.phone,
            postal_code=data.postal_code,
            created_at=now,
            credit_initial_cents=grant.initial_cents,
            credit_expires_at=grant.expires_at,
        )
        credit = Credit(
            initial_cents=grant.initial_cents,
            digital_cap_cents=grant.digital_cap_cents,
            granted_at=now,
            expires_at=grant.expires_at,
        )
        self._repository.create_beneficiary(beneficiary, credit)
        return self._profile(beneficiary, credit)

    def me(self, caller: Caller) -> dict[str, Any]:
        caller.require("beneficiary")
        assert caller.user_id is not None
        found = self._repository.beneficiary_with_credit(caller.user_id)
        if found is None:
            raise NotFound("You are not registered as a beneficiary yet.", code="BENEFICIARY_NOT_FOUND")
        return self._profile(*found)

    def _profile(self, beneficiary: Beneficiary, credit: Credit) -> dict[str, Any]:
        left = balance(
            credit.initial_cents,
            credit.spent_cents,
            credit.digital_cap_cents,
            credit.digital_spent_cents,
            credit.expires_at,
            self._clock.now(),
        )
        profile = beneficiary.to_api()
        for copied in ("creditInitialCents", "creditExpiresAt"):
            profile.pop(copied)
        profile["credit"] = {
            "initialCents": credit.initial_cents,
            "remainingCents": left.remaining_cents,
            "remaining": euros(left.remaining_cents),
            "digitalRemainingCents": left.digital_remaining_cents,
            "expiresAt": credit.to_api()["expiresAt"],
            "expired": left.expired,
        }
        return profile


def build_accounts_service() -> AccountsService:
    """The service as a Lambda instance uses it: the table, Cognito and the system clock."""
    from pass_culture import aws
    from pass_culture.accounts.identity import CognitoIdentityProvider
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    settings = get_settings()
    table = Table(aws.dynamodb(), settings.table_name)
    identity = CognitoIdentityProvider(aws.client("cognito-idp"), settings.user_pool_id)
    return AccountsService(AccountsRepository(table), ApiKeyRepository(table), identity, SystemClock())
