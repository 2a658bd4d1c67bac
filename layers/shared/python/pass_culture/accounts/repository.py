"""Accounts items in the table (docs/data-model.md, "Items"). The only code that knows their keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pass_culture.accounts.models import (
    BankAccount,
    BankAccountStatus,
    Beneficiary,
    Credit,
    Offerer,
    TeamMember,
    ValidationStatus,
    Venue,
)
from pass_culture.clock import isoformat
from pass_culture.dynamo import (
    GSI1,
    ITEM_EXISTS,
    ITEM_IS_NEW,
    ConditionFailed,
    Expression,
    Item,
    Put,
    Table,
    TransactionCancelled,
    key,
)
from pass_culture.errors import Conflict


def offerer_key(offerer_id: str) -> Item:
    return key(f"OFFERER#{offerer_id}", "PROFILE")


def siren_key(siren: str) -> Item:
    """A SIREN's one offerer (its uniqueness, and where a pro declaring it again is sent to ask to join)."""
    return key(f"SIREN#{siren}", "UNIQUE")


def membership_key(user_id: str, offerer_id: str) -> Item:
    return key(f"USER#{user_id}", f"OFFERER#{offerer_id}")


def venue_key(venue_id: str) -> Item:
    return key(f"VENUE#{venue_id}", "PROFILE")


def bank_account_key(offerer_id: str) -> Item:
    return key(f"OFFERER#{offerer_id}", "BANK_ACCOUNT")


def beneficiary_key(user_id: str) -> Item:
    return key(f"USER#{user_id}", "PROFILE")


def credit_key(user_id: str) -> Item:
    return key(f"USER#{user_id}", "CREDIT")


def _offerer_index(offerer: Offerer) -> Item:
    return {
        "GSI3PK": f"OFFERERS#{offerer.validation_status.value}",
        "GSI3SK": f"{isoformat(offerer.created_at)}#{offerer.id}",
    }


class AccountsRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- offerers ------------------------------------------------------------------------------------------------
    def create_offerer(self, offerer: Offerer, owner_user_id: str, owner: TeamMember | None = None) -> None:
        """The offerer, its SIREN's uniqueness and its creator as its first member (accounts/team.py), at once."""
        from pass_culture.accounts.team import link_operations

        owner = owner or TeamMember(user_id=owner_user_id, since=offerer.created_at)
        try:
            self._table.transact(
                [
                    Put(
                        {**offerer_key(offerer.id), "entity": "OFFERER", **_offerer_index(offerer), **offerer.to_api()},
                        ITEM_IS_NEW,
                    ),
                    Put({**siren_key(offerer.siren), "offererId": offerer.id}, ITEM_IS_NEW),
                    *link_operations(offerer.id, owner),
                ]
            )
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed_positions():
                raise Conflict(
                    f"The SIREN {offerer.siren} is already registered.", code="SIREN_ALREADY_REGISTERED"
                ) from None
            raise

    def get_offerer(self, offerer_id: str) -> Offerer | None:
        item = self._table.get(offerer_key(offerer_id))
        return Offerer.model_validate(item) if item else None

    def validate_offerer(self, offerer_id: str) -> Offerer | None:
        status = ValidationStatus.VALIDATED.value
        try:
            item = self._table.update(
                offerer_key(offerer_id),
                Expression(
                    "SET validationStatus = :s, GSI3PK = :list", values={":s": status, ":list": f"OFFERERS#{status}"}
                ),
                condition=ITEM_EXISTS,
            )
        except ConditionFailed:
            return None
        return Offerer.model_validate(item)

    def offerers_of(self, user_id: str) -> list[str]:
        page = self._table.query(f"USER#{user_id}", sort_prefix="OFFERER#", limit=100)
        return [str(item["offererId"]) for item in page.items]

    def is_member(self, user_id: str, offerer_id: str) -> bool:
        return self._table.get(membership_key(user_id, offerer_id)) is not None

    # -- venues --------------------------------------------------------------------------------------------------
    def venue_context(
        self, user_id: str, offerer_id: str, pricing_point_venue_id: str | None
    ) -> tuple[bool, Offerer | None, Venue | None]:
        """Membership, offerer and pricing point in one round trip (creating a venue costs 2 in all)."""
        keys = [membership_key(user_id, offerer_id), offerer_key(offerer_id)]
        if pricing_point_venue_id:
            keys.append(venue_key(pricing_point_venue_id))
        found = {(item["PK"], item["SK"]): item for item in self._table.batch_get(keys)}
        is_member = (keys[0]["PK"], keys[0]["SK"]) in found
        offerer_item = found.get((keys[1]["PK"], keys[1]["SK"]))
        venue_item = found.get((keys[2]["PK"], keys[2]["SK"])) if pricing_point_venue_id else None
        return (
            is_member,
            Offerer.model_validate(offerer_item) if offerer_item else None,
            Venue.model_validate(venue_item) if venue_item else None,
        )

    def create_venue(self, venue: Venue) -> None:
        operations = [
            Put(
                {
                    **venue_key(venue.id),
                    "entity": "VENUE",
                    "GSI1PK": f"OFFERER#{venue.offerer_id}",
                    "GSI1SK": f"VENUE#{venue.id}",
                    **venue.to_api(),
                },
                ITEM_IS_NEW,
            )
        ]
        if venue.siret:
            operations.append(Put({**key(f"SIRET#{venue.siret}", "UNIQUE"), "venueId": venue.id}, ITEM_IS_NEW))
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed_positions():
                raise Conflict(
                    f"The SIRET {venue.siret} is already registered.", code="SIRET_ALREADY_REGISTERED"
                ) from None
            raise

    def get_venue(self, venue_id: str) -> Venue | None:
        item = self._table.get(venue_key(venue_id))
        return Venue.model_validate(item) if item else None

    def offerers_with_venues(self, user_id: str) -> list[tuple[Offerer, list[Venue], BankAccount | None]]:
        """A pro's offerers, their venues and bank accounts: the memberships (Query), the offerers and their bank
        accounts (one BatchGetItem), then one GSI1 Query an offerer for its venues (access patterns 3, 1 and 7)."""
        offerer_ids = self.offerers_of(user_id)
        keys = [offerer_key(i) for i in offerer_ids] + [bank_account_key(i) for i in offerer_ids]
        items = self._table.batch_get(keys)
        offerers = [Offerer.model_validate(item) for item in items if item["SK"] != "BANK_ACCOUNT"]
        accounts = {
            account.offerer_id: account
            for account in (BankAccount.model_validate(item) for item in items if item["SK"] == "BANK_ACCOUNT")
        }
        found = []
        for offerer in sorted(offerers, key=lambda o: (o.name.casefold(), o.id)):
            venue_items = self._table.query_all(f"OFFERER#{offerer.id}", index=GSI1, sort_prefix="VENUE#")
            venues = [Venue.model_validate(item) for item in venue_items]
            found.append((offerer, sorted(venues, key=lambda v: (v.name.casefold(), v.id)), accounts.get(offerer.id)))
        return found

    # -- bank accounts -------------------------------------------------------------------------------------------
    def put_bank_account(self, account: BankAccount) -> None:
        """A new or changed account is PENDING again, and listed for the admins to accept."""
        self._table.put(
            {
                **bank_account_key(account.offerer_id),
                "entity": "BANK_ACCOUNT",
                "GSI3PK": "BANK_ACCOUNTS#PENDING",
                "GSI3SK": isoformat(account.updated_at),
                **account.model_dump(by_alias=True, mode="json"),
            }
        )

    def accept_bank_account(self, offerer_id: str, at: datetime) -> BankAccount | None:
        try:
            item = self._table.update(
                bank_account_key(offerer_id),
                Expression(
                    "SET #status = :accepted, updatedAt = :at REMOVE GSI3PK, GSI3SK",
                    {"#status": "status"},
                    {":accepted": BankAccountStatus.ACCEPTED.value, ":at": isoformat(at)},
                ),
                condition=ITEM_EXISTS,
            )
        except ConditionFailed:
            return None
        return BankAccount.model_validate(item)

    def get_bank_account(self, offerer_id: str) -> BankAccount | None:
        item = self._table.get(bank_account_key(offerer_id))
        return BankAccount.model_validate(item) if item else None

    # -- beneficiaries -------------------------------------------------------------------------------------------
    def create_beneficiary(self, beneficiary: Beneficiary, credit: Credit) -> None:
        try:
            self._table.transact(
                [
                    Put(
                        {
                            **beneficiary_key(beneficiary.id),
                            "entity": "BENEFICIARY",
                            "GSI1PK": f"EMAIL#{beneficiary.email}",
                            "GSI1SK": "BENEFICIARY",
                            **beneficiary.to_api(),
                        },
                        ITEM_IS_NEW,
                    ),
                    Put({**credit_key(beneficiary.id), "entity": "CREDIT", **credit.to_api()}, ITEM_IS_NEW),
                ]
            )
        except TransactionCancelled:
            raise Conflict(
                f"{beneficiary.email} is already registered.", code="BENEFICIARY_ALREADY_REGISTERED"
            ) from None

    def beneficiary_with_credit(self, user_id: str) -> tuple[Beneficiary, Credit] | None:
        """Profile and credit in one round trip."""
        items: dict[str, Any] = {
            item["SK"]: item for item in self._table.batch_get([beneficiary_key(user_id), credit_key(user_id)])
        }
        if "PROFILE" not in items or "CREDIT" not in items:
            return None
        return Beneficiary.model_validate(items["PROFILE"]), Credit.model_validate(items["CREDIT"])
