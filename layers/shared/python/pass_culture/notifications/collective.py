"""The collective part's emails, from the table's stream (pass_culture.notifications.decide calls these). Pure.

| change                                         | email                              | to                         |
| a collective booking is made (INSERT, PENDING) | collective_booking_to_venue        | the venue                  |
| PENDING -> CONFIRMED (the head)                | collective_booking_confirmed_to_venue | the venue             |
|                                                | collective_booking_confirmed       | the teacher                |
| -> CANCELLED (the venue or the head)           | collective_booking_cancelled_to_venue | the venue             |
|                                                | collective_booking_cancelled       | the teacher                |
| a teacher's request on a showcase (INSERT)     | collective_request_to_venue        | the venue (Reply-To: teacher) |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pass_culture.clock import PARIS, parse_instant
from pass_culture.money import price_label
from pass_culture.notifications.decide import EmailToSend


def _paris(instant: Any) -> str:
    return parse_instant(str(instant)).astimezone(PARIS).strftime("%d/%m/%Y à %Hh%M")


def _context(booking: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "offer": booking["offerName"],
        "venue": booking["venueName"],
        "institution": booking["institutionName"],
        "uai": booking["uai"],
        "teacher_email": booking["teacherEmail"],
        "students": int(booking["numberOfStudents"]),
        "price": price_label(int(booking["totalPriceCents"])),
        "event_date": _paris(booking["startDatetime"]),
        "booking_limit": _paris(booking["bookingLimitDatetime"]),
        "by_venue": booking.get("cancellationReason") == "OFFERER",
        "expired": booking.get("cancellationReason") == "EXPIRED",
    }


def collective_booking_emails(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[EmailToSend]:
    if not new:
        return []
    context = _context(new)
    venue, teacher = str(new["bookingEmail"]), str(new["teacherEmail"])
    before, after = old.get("status"), new.get("status")
    if not old and after == "PENDING":
        return [EmailToSend("collective_booking_to_venue", venue, context, reply_to=teacher)]
    if before == "PENDING" and after == "CONFIRMED":
        return [
            EmailToSend("collective_booking_confirmed_to_venue", venue, context, reply_to=teacher),
            EmailToSend("collective_booking_confirmed", teacher, context),
        ]
    if before in ("PENDING", "CONFIRMED") and after == "CANCELLED":
        return [
            EmailToSend("collective_booking_cancelled_to_venue", venue, context),
            EmailToSend("collective_booking_cancelled", teacher, context),
        ]
    return []


def collective_request_emails(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[EmailToSend]:
    if old or not new:
        return []
    context = {
        "offer": new["offerName"],
        "venue": new["venueName"],
        "institution": new["institutionName"],
        "uai": new["uai"],
        "teacher_email": new["teacherEmail"],
        "comment": new["comment"],
        "phone": new.get("phone"),
        "students": new.get("totalStudents"),
        "teachers": new.get("totalTeachers"),
    }
    return [
        EmailToSend("collective_request_to_venue", str(new["bookingEmail"]), context, reply_to=context["teacher_email"])
    ]
