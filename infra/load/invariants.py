"""What must hold after the load, checked from the table itself (a Scan: a test tool's right, never the product's) and
from the outbox. Pure functions over the items and emails, so a test can hand them a tiny synthetic state:

- no oversell: every stock's bookedQuantity ≤ its quantity, and equals the sum of the quantities of its bookings
  that are not cancelled;
- every credit: spentCents = the sum of the amounts of its beneficiary's bookings that are not cancelled;
- every CONFIRMED or USED booking has exactly its two emails: `booking_to_venue` to its bookingEmail (the subject
  names the countermark) and `booking_confirmed` to the young person (the countermark in its text) — one each;
- no 5xx in what the simulated users got.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ACTIVE = ("CONFIRMED", "USED", "REIMBURSED")
VENUE_SUBJECT = "Nouvelle réservation pass Culture"
YOUNG_SUBJECT = re.compile(r"^Ta réservation de .* est confirmée")


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    checked: int
    problems: list[str]

    def line(self) -> str:
        verdict = "OK" if self.ok else f"FAILED ({len(self.problems)})"
        first = "" if self.ok else ": " + "; ".join(self.problems[:5])
        return f"{self.name}: {verdict}, {self.checked} checked{first}"


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def bookings_of(items: Iterable[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    return [i for i in items if i.get("entity") == "BOOKING"]


def no_oversell(items: Sequence[Mapping[str, Any]]) -> Result:
    booked: dict[str, int] = defaultdict(int)
    for booking in bookings_of(items):
        if booking.get("status") in ACTIVE:
            booked[str(booking["stockId"])] += _int(booking.get("quantity"))
    problems, checked = [], 0
    for stock in (i for i in items if i.get("entity") == "STOCK"):
        checked += 1
        stock_id, counted = str(stock["id"]), _int(stock.get("bookedQuantity"))
        quantity = stock.get("quantity")
        if quantity is not None and counted > int(quantity):
            problems.append(f"stock {stock_id}: {counted} booked of {quantity}")
        expected = booked.pop(stock_id, 0)
        if counted != expected:
            problems.append(f"stock {stock_id}: bookedQuantity {counted}, its bookings {expected}")
    problems += [f"bookings of an unknown stock {stock_id}" for stock_id in booked]
    return Result("no oversell (bookedQuantity ≤ quantity, = its bookings)", not problems, checked, problems)


def credits_match(items: Sequence[Mapping[str, Any]]) -> Result:
    spent: dict[str, int] = defaultdict(int)
    for booking in bookings_of(items):
        if booking.get("status") in ACTIVE:
            spent[str(booking["beneficiary"]["id"])] += _int(booking.get("amountCents"))
    problems, checked = [], 0
    for credit in (i for i in items if i.get("SK") == "CREDIT"):
        checked += 1
        user_id = str(credit["PK"]).removeprefix("USER#")
        expected, recorded = spent.pop(user_id, 0), _int(credit.get("spentCents"))
        if recorded != expected:
            problems.append(f"credit of {user_id}: spentCents {recorded}, its bookings {expected}")
        if recorded > _int(credit.get("initialCents")):
            problems.append(f"credit of {user_id}: spent {recorded} of {credit.get('initialCents')}")
    problems += [f"bookings of {user_id} without a credit" for user_id, cents in spent.items() if cents]
    return Result("every credit = grant − its non-cancelled bookings", not problems, checked, problems)


def two_emails(items: Sequence[Mapping[str, Any]], outbox: Mapping[str, Sequence[Mapping[str, Any]]]) -> Result:
    """`outbox`: recipient (lower case) -> the emails sent to them ({subject, text, ...})."""
    problems, checked = [], 0
    for booking in bookings_of(items):
        if booking.get("status") not in ("CONFIRMED", "USED"):
            continue
        checked += 1
        token = str(booking["token"])
        word = re.compile(rf"\b{re.escape(token)}\b")
        venue = [
            e
            for e in outbox.get(str(booking["bookingEmail"]).lower(), [])
            if str(e.get("subject", "")).startswith(VENUE_SUBJECT) and f"({token})" in str(e.get("subject"))
        ]
        young = [
            e
            for e in outbox.get(str(booking["beneficiary"]["email"]).lower(), [])
            if YOUNG_SUBJECT.match(str(e.get("subject", ""))) and word.search(str(e.get("text", "")))
        ]
        if len(venue) != 1 or len(young) != 1:
            problems.append(f"booking {booking['id']} ({token}): {len(venue)} to the venue, {len(young)} to the young")
    return Result("every CONFIRMED/USED booking has exactly its two emails", not problems, checked, problems)


def no_server_errors(outcomes: Mapping[str, int]) -> Result:
    """`outcomes`: "operation|status|code" -> count, as the locustfile writes them (status 0: no answer)."""
    problems = []
    for key, count in sorted(outcomes.items()):
        operation, status, _ = key.split("|", 2)
        if int(status) >= 500 or int(status) == 0:
            problems.append(f"{operation}: {count} × {'no answer' if int(status) == 0 else status}")
    return Result("no 5xx", not problems, sum(outcomes.values()), problems)


def check(
    items: Sequence[Mapping[str, Any]], outbox: Mapping[str, Sequence[Mapping[str, Any]]], outcomes: Mapping[str, int]
) -> list[Result]:
    return [no_oversell(items), credits_match(items), two_emails(items, outbox), no_server_errors(outcomes)]
