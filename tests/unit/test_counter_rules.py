"""The counter's answers, byte for byte as the public pass Culture API's (pcapi v2 booking_token routes and their
tests; docs/countermark-compatibility.md): per route and state, the status, the error key and the French message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pass_culture.bookings.models import BeneficiaryCopy, Booking
from pass_culture.bookings.rules import BookingStatus
from pass_culture.counter.rules import CounterAction, counter_refusal, not_yours, unknown_token
from pass_culture.departments import department_code, department_timezone

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
A, U, K, C = CounterAction.LOOK_UP, CounterAction.USE, CounterAction.KEEP, CounterAction.CANCEL


def booking(status: str = "CONFIRMED", **fields: Any) -> Booking:
    fields = {"venue_postal_code": "75003", **fields}
    return Booking(
        id="b1", token="ABC234", status=BookingStatus(status), quantity=1, unit_price_cents=1010, amount_cents=1010,
        stock_id="o1.1", offer_id="o1", offer_name="Concert", subcategory_id="CONCERT", venue_id="v1",
        venue_name="Salle", venue_address="1 rue, 75003 Paris", offerer_id="of1",
        booking_email="salle@example.org", booked_at=NOW - timedelta(days=3),
        beneficiary=BeneficiaryCopy(id="u1", first_name="Jeanne", last_name="Doux", email="j@example.org",
                                    phone="0612345678", postal_code="75011"),
        **fields,
    )  # fmt: skip


CASES = [
    # state, action, status, key, message
    ("REIMBURSED", A, 403, "payment", "Cette réservation a été remboursée"),
    ("REIMBURSED", U, 403, "payment", "Cette réservation a été remboursée"),
    ("USED", A, 410, "booking", "Cette réservation a déjà été validée"),
    ("USED", U, 410, "booking", "Cette réservation a déjà été validée"),
    ("CANCELLED", A, 410, "booking_cancelled", "Cette réservation a été annulée"),
    ("CANCELLED", U, 410, "booking_cancelled", "Cette réservation a été annulée"),
    ("CANCELLED", K, 410, "booking", "Cette réservation a été annulée"),
    ("REIMBURSED", K, 410, "payment", "Le remboursement est en cours de traitement"),
    ("CONFIRMED", K, 410, "booking", "Cette réservation n'a pas encore été validée"),
    ("CANCELLED", C, 410, "global", "Cette contremarque a déjà été annulée"),
    ("USED", C, 403, "global", "Impossible d'annuler une réservation consommée"),
    ("REIMBURSED", C, 403, "global", "Impossible d'annuler une réservation consommée"),
]


@pytest.mark.parametrize(("state", "action", "status", "key", "message"), CASES)
def test_each_refusal_is_the_real_apis(state: str, action: CounterAction, status: int, key: str, message: str) -> None:
    refusal = counter_refusal(booking(state), action, NOW)
    assert refusal is not None
    body = refusal.to_body()
    assert (refusal.status, body[key]) == (status, [message])
    assert body["code"] and body["message"] == message  # our own keys stay beside them


@pytest.mark.parametrize(("state", "action"), [("CONFIRMED", A), ("CONFIRMED", U), ("USED", K), ("CONFIRMED", C)])
def test_what_may_proceed(state: str, action: CounterAction) -> None:
    assert counter_refusal(booking(state), action, NOW) is None


def test_a_priced_booking_cannot_be_undone_as_the_real_api_says_of_a_processed_pricing() -> None:
    refusal = counter_refusal(booking("USED", pricing={"rate": 10_000}), K, NOW)
    assert refusal is not None and refusal.to_body()["payment"] == ["Le remboursement est en cours de traitement"]


@pytest.mark.parametrize(
    ("postal_code", "shown"),
    [("75003", "25/11/2026 à 19:30"), ("97400", "25/11/2026 à 22:30"), ("97200", "25/11/2026 à 14:30"),
     ("98800", "26/11/2026 à 05:30"), (None, "25/11/2026 à 19:30")],
)  # fmt: skip
def test_too_early_says_from_when_in_the_venues_time_zone(postal_code: str | None, shown: str) -> None:
    limit = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
    refusal = counter_refusal(
        booking(event_date=limit + timedelta(days=2), cancellation_limit_date=limit, venue_postal_code=postal_code),
        U, NOW,
    )  # fmt: skip
    assert refusal is not None and refusal.status == 403
    assert refusal.to_body()["booking"] == [
        f"Vous pourrez valider cette contremarque à partir du {shown}, une fois le délai d’annulation passé."
    ]


def test_unknown_and_another_offerers_tokens() -> None:
    assert unknown_token().to_body()["global"] == ["Cette contremarque n'a pas été trouvée"]
    validate = not_yours(U).to_body()["user"][0]
    assert validate.startswith("Vous n’avez pas les droits suffisants pour valider cette contremarque car cette ")
    assert validate.endswith("rattachement à la structure est encore en cours de validation")
    assert not_yours(C, api_key=True).to_body()["user"] == [
        "Vous n'avez pas les droits suffisants pour annuler cette réservation."
    ]
    assert not_yours(C).to_body()["global"] == [
        "Vous n'avez pas les droits d'accès suffisants pour accéder à cette information."
    ]


def test_departments_and_their_time_zones() -> None:
    assert [department_code(c) for c in ("75003", "97411", "20000", "20200", "01000", "1234", None)] == [
        "75", "974", "2A", "2B", "01", None, None,
    ]  # fmt: skip
    assert str(department_timezone("973")) == "America/Cayenne"
    assert str(department_timezone("984")) == "Europe/Paris"  # as the real API: not in its table
