"""The collective part's pure rules: school years in Paris time, UAI codes, prices, dates, and its emails."""

from datetime import UTC, datetime, timedelta

import pytest

from pass_culture.collective import rules
from pass_culture.collective.rules import CollectiveBookingStatus
from pass_culture.collective.service import parse_institutions
from pass_culture.errors import BadRequest
from pass_culture.notifications.collective import collective_booking_emails, collective_request_emails
from pass_culture.notifications.render import render


@pytest.mark.parametrize(
    ("instant", "year"),
    [
        (datetime(2026, 8, 31, 21, 59, 59, tzinfo=UTC), "2025-2026"),  # 23:59:59 on 31 August in Paris (UTC+2)
        (datetime(2026, 8, 31, 22, 0, tzinfo=UTC), "2026-2027"),  # 00:00 on 1 September in Paris: already the next
        (datetime(2026, 9, 1, 12, 0, tzinfo=UTC), "2026-2027"),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "2026-2027"),
        (datetime(2027, 8, 31, 21, 0, tzinfo=UTC), "2026-2027"),
        (datetime(2027, 8, 31, 22, 0, tzinfo=UTC), "2027-2028"),
    ],
)
def test_the_school_year_turns_at_midnight_on_the_first_of_september_paris_time(instant: datetime, year: str) -> None:
    assert rules.school_year_of(instant) == year


def test_a_naive_instant_has_no_school_year() -> None:
    with pytest.raises(ValueError, match="naive"):
        rules.school_year_of(datetime(2026, 9, 1))  # naive: the point


@pytest.mark.parametrize(("text", "valid"), [("2026-2027", True), ("2026-2028", False), ("2026/2027", False),
                                            ("26-27", False), ("2026-2027 ", False), ("1999-2000", False)])  # fmt: skip
def test_a_school_year_is_two_consecutive_years(text: str, valid: bool) -> None:
    assert rules.is_school_year(text) is valid


def test_a_school_years_bounds() -> None:
    first, last = rules.school_year_bounds("2026-2027")
    assert (first.isoformat(), last.isoformat()) == ("2026-09-01", "2027-08-31")


@pytest.mark.parametrize(
    ("uai", "valid"),
    [("0750001A", True), ("9710923Z", True), ("0750001a", False), ("075001A", False), ("07500011A", False),
     ("07500A1A", False), ("0750001", False), ("", False), ("0750001A\n", False)],
)  # fmt: skip
def test_a_uai_is_seven_digits_and_a_capital_letter(uai: str, valid: bool) -> None:
    assert rules.is_uai(uai) is valid


@pytest.mark.parametrize(("code", "valid"), [("75", True), ("2A", True), ("974", True), ("00", False), ("96", False),
                                            ("20", False), ("7", False), ("975 ", False)])  # fmt: skip
def test_departement_codes(code: str, valid: bool) -> None:
    assert rules.is_departement(code) is valid


@pytest.mark.parametrize(("cents", "refused"), [(0, False), (6_000_000, False), (6_000_001, True), (-1, True)])
def test_the_total_price_is_free_to_sixty_thousand_euros(cents: int, refused: bool) -> None:
    assert (rules.price_problem(cents) is not None) is refused


def test_the_booking_limit_is_at_most_the_start_and_the_start_in_the_future() -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    start = now + timedelta(days=30)
    assert rules.stock_dates_problem(start, start, now) is None
    assert rules.stock_dates_problem(start, start + timedelta(seconds=1), now) is not None
    assert rules.stock_dates_problem(now, now - timedelta(days=1), now) is not None


def test_bookable_and_cancellable() -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    start, limit = now + timedelta(days=10), now + timedelta(days=5)
    assert rules.bookable(start=start, booking_limit=limit, booked=False, active=True, now=now)
    assert not rules.bookable(start=start, booking_limit=limit, booked=True, active=True, now=now)
    assert not rules.bookable(start=start, booking_limit=limit, booked=False, active=False, now=now)
    assert not rules.bookable(start=start, booking_limit=limit, booked=False, active=True, now=limit + timedelta(1))
    assert rules.cancellable(CollectiveBookingStatus.CONFIRMED, start, now)
    assert rules.cancellable(CollectiveBookingStatus.PENDING, start, now)
    assert not rules.cancellable(CollectiveBookingStatus.CONFIRMED, start, start)
    assert not rules.cancellable(CollectiveBookingStatus.USED, start, now)


def test_the_institutions_csv_reports_each_rejected_line_with_its_reason() -> None:
    text = (
        "uai,name,type,city,postalCode,departement\n"
        "0750001A,Collège Victor Hugo,COLLEGE,Paris,75003,75\n"
        "075001A,Collège court,COLLEGE,Paris,75003,75\n"
        "0750002B,,LYCEE,Paris,75011,75\n"
        "0750003C,Lycée Voltaire,LYCEE,Paris,7501,75\n"
        "0750004D,Lycée Sans Département,LYCEE,Paris,75011,99\n"
        "0750001A,Collège Victor Hugo bis,COLLEGE,Paris,75003,75\n"
        "0750005E,Trop,de,colonnes\n"
        "\n"
        "2A00001F,Collège de Corse,COLLEGE,Ajaccio,20000,2A\n"
    )
    institutions, rejected = parse_institutions(text)
    assert [i.uai for i in institutions] == ["0750001A"]  # "2A00001F" is not a UAI (7 digits first)
    assert [r["line"] for r in rejected] == [3, 4, 5, 6, 7, 8, 10]
    assert "UAI" in rejected[0]["reason"] and "appears twice" in rejected[4]["reason"]


def test_an_institutions_csv_with_another_header_is_a_400() -> None:
    with pytest.raises(BadRequest):
        parse_institutions("ean,title\n1,2\n")


BOOKING = {
    "entity": "COLLECTIVE_BOOKING", "offerName": "Atelier BD", "venueName": "Médiathèque", "institutionName": "Collège",
    "uai": "0750001A", "teacherEmail": "prof@ac-paris.fr", "bookingEmail": "mediatheque@ville.fr",
    "numberOfStudents": 25, "totalPriceCents": 30000, "startDatetime": "2027-01-15T09:00:00.000Z",
    "bookingLimitDatetime": "2027-01-10T09:00:00.000Z", "status": "PENDING",
}  # fmt: skip


def test_the_venue_is_emailed_at_pre_booking_both_at_confirmation_and_cancellation() -> None:
    made = collective_booking_emails({}, BOOKING)
    assert [(e.kind, e.to, e.reply_to) for e in made] == [
        ("collective_booking_to_venue", "mediatheque@ville.fr", "prof@ac-paris.fr")
    ]
    confirmed = collective_booking_emails(BOOKING, {**BOOKING, "status": "CONFIRMED"})
    assert [(e.kind, e.to) for e in confirmed] == [
        ("collective_booking_confirmed_to_venue", "mediatheque@ville.fr"),
        ("collective_booking_confirmed", "prof@ac-paris.fr"),
    ]
    cancelled = {**BOOKING, "status": "CANCELLED", "cancellationReason": "INSTITUTION"}
    assert [e.to for e in collective_booking_emails({**BOOKING, "status": "CONFIRMED"}, cancelled)] == [
        "mediatheque@ville.fr", "prof@ac-paris.fr",
    ]  # fmt: skip
    assert collective_booking_emails(cancelled, cancelled) == []  # nothing changed: no second email
    for email in made + confirmed:
        rendered = render(email.kind, email.context)
        assert "Atelier BD" in rendered.subject and "300,00" in rendered.text and "15/01/2027 à 10h00" in rendered.html


def test_a_request_on_a_showcase_is_emailed_to_the_venue_once() -> None:
    request = {"offerName": "Rencontre d'auteur", "venueName": "Médiathèque", "institutionName": "Collège",
               "uai": "0750001A", "teacherEmail": "prof@ac-paris.fr", "bookingEmail": "mediatheque@ville.fr",
               "comment": "Pour deux classes de 5e <b>", "totalStudents": 50}  # fmt: skip
    (email,) = collective_request_emails({}, request)
    assert (email.kind, email.to, email.reply_to) == ("collective_request_to_venue", "mediatheque@ville.fr",
                                                       "prof@ac-paris.fr")  # fmt: skip
    rendered = render(email.kind, email.context)
    assert "&lt;b&gt;" in rendered.html and "Élèves : 50" in rendered.text
    assert collective_request_emails(request, request) == []


def test_an_expired_pre_booking_tells_both_sides_why() -> None:
    expired = {**BOOKING, "status": "CANCELLED", "cancellationReason": "EXPIRED"}
    to_venue, to_teacher = collective_booking_emails(BOOKING, expired)
    assert "pas confirmée avant la date limite" in render(to_venue.kind, to_venue.context).text
    assert "pas été confirmée avant la date limite" in render(to_teacher.kind, to_teacher.context).html


def test_a_confirmed_booking_is_used_48_hours_after_its_event() -> None:
    start = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    assert rules.used_due(start) == datetime(2027, 1, 17, 9, 0, tzinfo=UTC)
