"""Which emails a committed change of the table calls for, from the item's old and new images. Pure.

| change                                   | email                      | to                                |
| a beneficiary is registered (INSERT)     | welcome                    | the beneficiary                   |
| a bank account becomes ACCEPTED          | bank_account_accepted      | who submitted the account         |
| a booking is made (INSERT)               | booking_to_venue           | the offer's (else venue's) email  |
|                                          | booking_confirmed          | the beneficiary                   |
| CONFIRMED -> CANCELLED by the beneficiary | booking_cancelled_to_venue | the venue                        |
| CONFIRMED -> CANCELLED by the venue      | booking_cancelled_to_beneficiary | the beneficiary             |
| CONFIRMED -> CANCELLED, expired          | booking_expired_to_venue, booking_expired | both sides            |
| expiry reminder marked sent (daily job)  | booking_expiry_reminder    | the beneficiary                   |
| USED -> CONFIRMED (validation undone)    | booking_validation_undone  | the beneficiary                   |
| a stock import ends FAILED, or > 5 %     | stock_import_problem       | the venue's booking email         |
|   of its lines rejected                  |                            |                                   |
| a payout with money is written (INSERT)  | payout_available           | the booking email of each of its  |
|   (once: the batch writes it once)       |                            |   pricing points                  |
| an invitation to an offerer (INSERT)     | invitation                 | the invited email (a link to the  |
|                                          |                            |   portal's #/invitation?id=)      |
| a request to join an offerer (→ PENDING) | attachment_requested       | the offerer's members             |
| PENDING -> ACCEPTED / REFUSED            | attachment_accepted / _refused | the requester                 |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pass_culture.clock import PARIS, parse_instant
from pass_culture.money import euros, price_label


@dataclass(frozen=True)
class EmailToSend:
    kind: str  # names the templates: templates/<kind>.txt and .html
    to: str
    context: dict[str, Any] = field(default_factory=dict)
    reply_to: str | None = None


# The entities whose changes can call for an email: the stream's filter in template.yaml lets only these through.
EMAILING_ENTITIES = (
    "BENEFICIARY", "BANK_ACCOUNT", "BOOKING", "STOCK_IMPORT", "PAYOUT", "INVITATION", "ATTACHMENT_REQUEST",
    "COLLECTIVE_BOOKING", "COLLECTIVE_REQUEST",
)  # fmt: skip


def emails_for_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[EmailToSend]:
    entity = new.get("entity") or old.get("entity")
    if entity == "BENEFICIARY" and new and not old:
        return [_welcome(new)]
    if entity == "BANK_ACCOUNT" and new.get("status") == "ACCEPTED" and old.get("status") != "ACCEPTED":
        return [_bank_account_accepted(new)] if new.get("notifyEmail") else []
    if entity == "BOOKING" and new:
        return _booking_emails(old, new)
    if entity == "STOCK_IMPORT" and new.get("status") != old.get("status"):
        return _stock_import_emails(new)
    if entity == "PAYOUT" and new and not old and int(new.get("reimbursedCents") or 0) > 0:
        return _payout_emails(new)
    if entity == "INVITATION" and new and not old:
        return [_invitation(new)]
    if entity == "ATTACHMENT_REQUEST" and new and new.get("status") != old.get("status"):
        return _attachment_emails(new)
    if entity in ("COLLECTIVE_BOOKING", "COLLECTIVE_REQUEST"):
        from pass_culture.notifications import collective  # the collective part's emails (issue 17)

        if entity == "COLLECTIVE_BOOKING":
            return collective.collective_booking_emails(old, new)
        return collective.collective_request_emails(old, new)
    return []


def _invitation(invitation: Mapping[str, Any]) -> EmailToSend:
    """The link is completed with the portal's origin when the email is rendered (NotificationService)."""
    return EmailToSend(
        "invitation",
        str(invitation["email"]),
        {
            "offerer": invitation["offererName"], "invited_by": invitation.get("invitedByEmail"),
            "path": f"/pro/#/invitation?id={invitation['id']}", "expires_at": paris_time(invitation["expiresAt"]),
        },
    )  # fmt: skip


def _attachment_emails(request: Mapping[str, Any]) -> list[EmailToSend]:
    name = " ".join(str(part) for part in (request.get("firstName"), request.get("lastName")) if part)
    context = {
        "offerer": request["offererName"], "siren": request["siren"], "requester": request.get("email") or "",
        "requester_name": name, "path": "/pro/#/structures",
    }  # fmt: skip
    status = request.get("status")
    if status == "PENDING":
        return [EmailToSend("attachment_requested", str(to), context) for to in request.get("notifyEmails") or []]
    if status in ("ACCEPTED", "REFUSED") and request.get("email"):
        return [EmailToSend(f"attachment_{str(status).lower()}", str(request["email"]), context)]
    return []


def paris_time(instant: Any) -> str:
    return parse_instant(str(instant)).astimezone(PARIS).strftime("%d/%m/%Y à %Hh%M")


def _booking_context(booking: Mapping[str, Any]) -> dict[str, Any]:
    beneficiary = booking["beneficiary"]
    return {
        "offer": booking["offerName"],
        "countermark": booking["token"],
        "ean": booking.get("ean"),
        "quantity": int(booking["quantity"]),
        "duo": int(booking["quantity"]) == 2,
        "price": price_label(int(booking["unitPriceCents"])),
        "total": price_label(int(booking["amountCents"])),
        "event_date": paris_time(booking["eventDate"]) if booking.get("eventDate") else None,
        "booked_at": paris_time(booking["bookedAt"]),
        "venue": booking["venueName"],
        "venue_address": booking["venueAddress"],
        "withdrawal_details": booking.get("withdrawalDetails"),
        "expires_at": paris_time(booking["expiresAt"]) if booking.get("expiresAt") else None,
        "cancellation_limit": (
            paris_time(booking["cancellationLimitDate"]) if booking.get("cancellationLimitDate") else None
        ),
        "first_name": beneficiary["firstName"],
        "last_name": beneficiary["lastName"],
        "email": beneficiary["email"],
        "phone": beneficiary["phone"],
    }


def _booking_emails(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[EmailToSend]:
    context = _booking_context(new)
    venue, young = str(new["bookingEmail"]), str(new["beneficiary"]["email"])
    before, after = old.get("status"), new.get("status")
    if not old:
        return [
            EmailToSend("booking_to_venue", venue, context, reply_to=young),
            EmailToSend("booking_confirmed", young, context),
        ]
    if before == "CONFIRMED" and after == "CANCELLED":
        reason = new.get("cancellationReason")
        if reason == "BENEFICIARY":
            return [EmailToSend("booking_cancelled_to_venue", venue, context, reply_to=young)]
        if reason == "OFFERER":
            return [EmailToSend("booking_cancelled_to_beneficiary", young, context)]
        if reason == "EXPIRED":
            return [
                EmailToSend("booking_expired_to_venue", venue, context),
                EmailToSend("booking_expired", young, context),
            ]
    if before == "USED" and after == "CONFIRMED":
        return [EmailToSend("booking_validation_undone", young, context)]
    if after == "CONFIRMED" and new.get("expiryReminderSentAt") and not old.get("expiryReminderSentAt"):
        return [EmailToSend("booking_expiry_reminder", young, context)]
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


def _stock_import_emails(report: Mapping[str, Any]) -> list[EmailToSend]:
    from pass_culture.stock_import.rules import run_needs_the_venue

    rejected = {str(reason): int(count) for reason, count in (report.get("rejected") or {}).items()}
    read = int(report.get("read") or 0)
    status = str(report.get("status"))
    needed = run_needs_the_venue(status=status, read=read, rejected=sum(rejected.values()))
    if not needed or not report.get("notifyEmail"):
        return []
    context = {
        "venue": report.get("venueName") or "",
        "provider": report["provider"],
        "failed": status == "FAILED",
        "failure": report.get("failure"),
        "failure_detail": report.get("failureDetail"),
        "started_at": paris_time(report["startedAt"]),
        "read": read,
        "rejected_count": sum(rejected.values()),
        "rejected_percent": f"{100 * sum(rejected.values()) / read:.1f}".replace(".", ",") if read else "0",
        "rejected_by_reason": sorted(rejected.items(), key=lambda pair: (-pair[1], pair[0])),
        "rejected_lines": list(report.get("rejectedLines") or [])[:20],
        "created": int(report.get("created") or 0),
        "updated": int(report.get("updated") or 0),
    }
    return [EmailToSend("stock_import_problem", str(report["notifyEmail"]), context)]


def _payout_emails(payout: Mapping[str, Any]) -> list[EmailToSend]:
    context = {
        "offerer": payout["offererName"], "amount": euros(int(payout["reimbursedCents"])),
        "period": payout["periodLabel"], "bookings": int(payout["bookingsCount"]), "iban": payout["iban"],
        "start": _day(str(payout["periodStart"])), "end": _day(str(payout["periodEnd"])),
    }  # fmt: skip
    return [EmailToSend("payout_available", str(to), context) for to in payout.get("emails") or []]


def _day(iso_date: str) -> str:
    year, month, day = iso_date.split("-")
    return f"{day}/{month}/{year}"
