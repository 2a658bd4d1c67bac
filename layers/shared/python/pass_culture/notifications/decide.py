"""Which emails a committed change of the table calls for, from the item's old and new images. Pure.

| change                                   | email                  | to                          |
| a beneficiary is registered (INSERT)     | welcome                | the beneficiary             |
| a bank account becomes ACCEPTED          | bank_account_accepted  | who submitted the account   |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pass_culture.clock import PARIS, parse_instant
from pass_culture.money import euros


@dataclass(frozen=True)
class EmailToSend:
    kind: str  # names the templates: templates/<kind>.txt and .html
    to: str
    context: dict[str, Any] = field(default_factory=dict)
    reply_to: str | None = None


def emails_for_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[EmailToSend]:
    entity = new.get("entity") or old.get("entity")
    if entity == "BENEFICIARY" and new and not old:
        return [_welcome(new)]
    if entity == "BANK_ACCOUNT" and new.get("status") == "ACCEPTED" and old.get("status") != "ACCEPTED":
        return [_bank_account_accepted(new)] if new.get("notifyEmail") else []
    return []


def _welcome(beneficiary: Mapping[str, Any]) -> EmailToSend:
    expires = parse_instant(str(beneficiary["creditExpiresAt"])).astimezone(PARIS)
    return EmailToSend(
        kind="welcome",
        to=str(beneficiary["email"]),
        context={
            "first_name": beneficiary["firstName"],
            "credit": euros(int(beneficiary["creditInitialCents"])),
            "expires_on": expires.strftime("%d/%m/%Y"),
        },
    )


def _bank_account_accepted(account: Mapping[str, Any]) -> EmailToSend:
    from pass_culture.accounts.rules import mask_iban

    return EmailToSend(
        kind="bank_account_accepted",
        to=str(account["notifyEmail"]),
        context={"label": account["label"], "iban": mask_iban(str(account["iban"]))},
    )
