"""The collective part's rules. Pure: no I/O, "now" is a parameter (domain.md, "Collective offers")."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum

from pass_culture.clock import PARIS, require_aware

MAX_TOTAL_PRICE_CENTS = 6_000_000  # 60 000 € for the whole group
MAX_STUDENTS = 3_000
MAX_INTERVENTION_DEPARTEMENTS = 48  # the offer's index entries and the old ones fit in one transaction (100 items)
UAI = re.compile(r"\d{7}[A-Z]")
SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")
DEPARTEMENT = re.compile(r"(0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2A|2B|97[1-8]|98[4-9])")  # no 20: Corsica is 2A, 2B
SCHOOL_YEAR_START_MONTH = 9  # 1 September – 31 August, Europe/Paris
USED_AFTER_EVENT = timedelta(hours=48)  # a confirmed collective booking becomes USED (AUTO) 48 h after the event

# The subcategories the libraries' guide lists for collective offers.
COLLECTIVE_SUBCATEGORIES = frozenset(
    {"CONFERENCE", "RENCONTRE", "ATELIER_PRATIQUE_ART", "VISITE", "SEANCE_CINE", "ESCAPE_GAME", "ABO_BIBLIOTHEQUE"}
)


class StudentLevel(StrEnum):
    COLLEGE_6E = "COLLEGE_6E"
    COLLEGE_5E = "COLLEGE_5E"
    COLLEGE_4E = "COLLEGE_4E"
    COLLEGE_3E = "COLLEGE_3E"
    CAP_1 = "CAP_1"
    CAP_2 = "CAP_2"
    LYCEE_SECONDE = "LYCEE_SECONDE"
    LYCEE_PREMIERE = "LYCEE_PREMIERE"
    LYCEE_TERMINALE = "LYCEE_TERMINALE"


class EducationalDomain(StrEnum):
    ARCHITECTURE = "ARCHITECTURE"
    ARTS_NUMERIQUES = "ARTS_NUMERIQUES"
    ARTS_VISUELS = "ARTS_VISUELS"
    BANDE_DESSINEE = "BANDE_DESSINEE"
    CINEMA_AUDIOVISUEL = "CINEMA_AUDIOVISUEL"
    CULTURE_SCIENTIFIQUE = "CULTURE_SCIENTIFIQUE"
    DANSE = "DANSE"
    EDUCATION_AUX_MEDIAS = "EDUCATION_AUX_MEDIAS"
    MUSIQUE = "MUSIQUE"
    PATRIMOINE = "PATRIMOINE"
    THEATRE = "THEATRE"
    UNIVERS_DU_LIVRE = "UNIVERS_DU_LIVRE"


class InstitutionRole(StrEnum):
    TEACHER = "teacher"
    INSTITUTION_HEAD = "institution_head"


class CollectiveBookingStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    USED = "USED"
    REIMBURSED = "REIMBURSED"
    CANCELLED = "CANCELLED"


class CancellationReason(StrEnum):
    OFFERER = "OFFERER"
    INSTITUTION = "INSTITUTION"


def is_uai(text: str) -> bool:
    """A UAI (the national register's code of a school): 7 digits and a capital letter, e.g. 0750001A."""
    return UAI.fullmatch(text) is not None


def is_departement(text: str) -> bool:
    return DEPARTEMENT.fullmatch(text) is not None


def school_year_of(instant: datetime) -> str:
    """The school year an instant falls in, as `2026-2027`: from 1 September 00:00 to 31 August 24:00, Paris time."""
    day = require_aware(instant).astimezone(PARIS).date()
    first = day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1
    return f"{first}-{first + 1}"


def is_school_year(text: str) -> bool:
    """`2026-2027`: two consecutive years."""
    match = SCHOOL_YEAR.fullmatch(text)
    return match is not None and int(match[2]) == int(match[1]) + 1 and 2000 <= int(match[1]) <= 2199


def school_year_bounds(school_year: str) -> tuple[date, date]:
    """The first and the last day of a school year."""
    first = int(school_year[:4])
    return date(first, SCHOOL_YEAR_START_MONTH, 1), date(first + 1, SCHOOL_YEAR_START_MONTH - 1, 31)


def price_problem(total_price_cents: int) -> str | None:
    if total_price_cents < 0:
        return "the total price cannot be negative"
    if total_price_cents > MAX_TOTAL_PRICE_CENTS:
        return "the total price of a collective offer is at most 60 000 €"
    return None


def stock_dates_problem(start: datetime, booking_limit: datetime, now: datetime) -> str | None:
    if booking_limit > start:
        return "the booking limit must be before the start"
    if start <= now:
        return "the start must be in the future"
    return None


def bookable(*, start: datetime, booking_limit: datetime, booked: bool, active: bool, now: datetime) -> bool:
    """A collective stock a teacher may pre-book: active, not booked, its booking limit not passed."""
    return active and not booked and now <= booking_limit and now < start


def cancellable(status: CollectiveBookingStatus, start: datetime, now: datetime) -> bool:
    """The venue or the head cancels a pending or confirmed booking, before the event."""
    return status in (CollectiveBookingStatus.PENDING, CollectiveBookingStatus.CONFIRMED) and now < start


def used_due(start: datetime) -> datetime:
    """When the daily job marks a confirmed collective booking USED: 48 h after the event's start."""
    return require_aware(start) + USED_AFTER_EVENT


def budget_left(amount_cents: int, spent_cents: int) -> int:
    return amount_cents - spent_cents
