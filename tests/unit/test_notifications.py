import pytest

from pass_culture.notifications.decide import emails_for_change
from pass_culture.notifications.render import render

BENEFICIARY = {
    "entity": "BENEFICIARY",
    "email": "jeanne@example.org",
    "firstName": "Jeanne",
    "creditInitialCents": 30000,
    "creditExpiresAt": "2028-11-23T12:00:00.000Z",
}
ACCOUNT = {
    "entity": "BANK_ACCOUNT",
    "iban": "FR7630006000011234567890189",
    "label": "Compte",
    "notifyEmail": "pro@x.fr",
}


def test_a_new_beneficiary_gets_a_welcome_email() -> None:
    (email,) = emails_for_change({}, BENEFICIARY)
    assert (email.kind, email.to) == ("welcome", "jeanne@example.org")
    assert email.context == {"first_name": "Jeanne", "credit": "300,00\u00a0€", "expires_on": "23/11/2028"}
    assert emails_for_change(BENEFICIARY, {**BENEFICIARY, "phone": "x"}) == []  # an update is not a welcome


def test_the_offerer_is_told_once_its_bank_account_is_accepted() -> None:
    pending, accepted = {**ACCOUNT, "status": "PENDING"}, {**ACCOUNT, "status": "ACCEPTED"}
    (email,) = emails_for_change(pending, accepted)
    assert (email.kind, email.to) == ("bank_account_accepted", "pro@x.fr")
    assert "3000" not in email.context["iban"]
    assert emails_for_change(accepted, accepted) == []
    assert emails_for_change({}, pending) == []


def test_other_changes_send_nothing() -> None:
    assert emails_for_change({}, {"entity": "OFFERER"}) == []
    assert emails_for_change({"entity": "BENEFICIARY"}, {}) == []


def test_templates_render_french_text_and_escaped_html() -> None:
    rendered = render("welcome", {"first_name": "<Jeanne>", "credit": "300,00 €", "expires_on": "23/11/2028"})
    assert rendered.subject == "Bienvenue sur le pass Culture, <Jeanne> !"
    assert "300,00 €" in rendered.text
    assert "&lt;Jeanne&gt;" in rendered.html
    assert "<Jeanne>" not in rendered.html


BOOKING = {
    "entity": "BOOKING", "status": "CONFIRMED", "token": "ABC234", "offerName": "L'Étranger", "ean": "9782070360024",
    "quantity": 1, "unitPriceCents": 890, "amountCents": 890, "bookedAt": "2026-11-23T10:00:00.000Z", "eventDate": None,
    "venueName": "Librairie du Marais", "venueAddress": "12 rue des Archives, 75003 Paris", "bookingEmail": "resa@librairie.example",
    "withdrawalDetails": "Au comptoir", "expiresAt": "2026-12-03T10:00:00.000Z", "cancellationLimitDate": None,
    "beneficiary": {"firstName": "Jeanne", "lastName": "Jeune", "email": "jeanne@example.org", "phone": "0612345678"},
}  # fmt: skip


def test_a_new_booking_tells_the_venue_and_confirms_to_the_young_person() -> None:
    to_venue, confirmation = emails_for_change({}, BOOKING)
    assert (to_venue.kind, to_venue.to, to_venue.reply_to) == (
        "booking_to_venue",
        "resa@librairie.example",
        "jeanne@example.org",
    )
    assert (confirmation.kind, confirmation.to) == ("booking_confirmed", "jeanne@example.org")
    venue_mail = render(to_venue.kind, to_venue.context)
    for shown in (
        "ABC234",
        "L'Étranger",
        "9782070360024",
        "23/11/2026 à 11h00",
        "8,90",
        "Jeanne Jeune",
        "jeanne@example.org",
        "0612345678",
    ):
        assert shown in venue_mail.text, shown
    young_mail = render(confirmation.kind, confirmation.context)
    for shown in ("ABC234", "12 rue des Archives", "Au comptoir", "03/12/2026 à 11h00"):
        assert shown in young_mail.text, shown


def test_free_bookings_say_gratuit() -> None:
    to_venue, _ = emails_for_change({}, {**BOOKING, "unitPriceCents": 0, "amountCents": 0, "ean": None})
    assert "Prix : Gratuit" in render(to_venue.kind, to_venue.context).text


@pytest.mark.parametrize(
    ("reason", "kinds"),
    [
        ("BENEFICIARY", ["booking_cancelled_to_venue"]),
        ("OFFERER", ["booking_cancelled_to_beneficiary"]),
        ("EXPIRED", ["booking_expired_to_venue", "booking_expired"]),
    ],
)
def test_cancellations_tell_the_other_side(reason: str, kinds: list[str]) -> None:
    emails = emails_for_change(BOOKING, {**BOOKING, "status": "CANCELLED", "cancellationReason": reason})
    assert [e.kind for e in emails] == kinds
    for email in emails:
        assert "ABC234" in render(email.kind, email.context).text


def test_an_undone_validation_is_told_and_a_validation_is_not() -> None:
    used = {**BOOKING, "status": "USED"}
    assert [e.kind for e in emails_for_change(used, BOOKING)] == ["booking_validation_undone"]
    assert emails_for_change(BOOKING, used) == []


def test_an_expiry_reminder_goes_once_to_the_young_person_with_the_address_and_the_countermark() -> None:
    waiting = {**BOOKING, "expiresAt": "2026-12-03T12:00:00.000Z", "expiryReminderSentAt": None}
    reminded = {**waiting, "expiryReminderSentAt": "2026-11-28T23:30:00.000Z"}
    (email,) = emails_for_change(waiting, reminded)
    assert (email.kind, email.to) == ("booking_expiry_reminder", "jeanne@example.org")
    rendered = render(email.kind, email.context)
    for shown in ("ABC234", "12 rue des Archives, 75003 Paris", "03/12/2026 à 13h00"):
        assert shown in rendered.text and shown in rendered.html, shown
    assert emails_for_change(reminded, {**reminded, "status": "USED"}) == []  # not again on a later change
    assert emails_for_change(reminded, reminded) == []


IMPORT_RUNNING = {
    "entity": "STOCK_IMPORT", "runId": "r1", "venueId": "v1", "provider": "titelive", "status": "RUNNING",
    "venueName": "Librairie du Marais", "notifyEmail": "resa@librairie.example", "startedAt": "2026-11-23T00:00:00.000Z",
    "read": 1000, "created": 400, "updated": 0, "rejected": {}, "rejectedLines": [],
}  # fmt: skip


def test_a_stock_import_that_rejects_more_than_5_percent_tells_the_venue_once() -> None:
    partial = {
        **IMPORT_RUNNING, "status": "PARTIAL", "rejected": {"BAD_EAN": 40, "UNKNOWN_BOOK": 20},
        "rejectedLines": [{"ref": "9782070360025", "reason": "BAD_EAN"}, {"ref": None, "reason": "MISSING_REF"}],
    }  # fmt: skip
    (email,) = emails_for_change(IMPORT_RUNNING, partial)
    assert (email.kind, email.to) == ("stock_import_problem", "resa@librairie.example")
    rendered = render(email.kind, email.context)
    assert rendered.subject == "Import de stock : 60 lignes refusées pour Librairie du Marais"
    assert "60 lignes sur 1000 (6,0 %)" in rendered.text
    assert "- BAD_EAN : 40\n- UNKNOWN_BOOK : 20" in rendered.text
    assert "- (sans référence) : MISSING_REF" in rendered.text
    assert "23/11/2026 à 01h00" in rendered.html
    assert emails_for_change(partial, partial) == []  # the same status again: already told
    assert emails_for_change(IMPORT_RUNNING, {**partial, "rejected": {"BAD_EAN": 50}}) == []  # 5 %: not more
    assert emails_for_change(IMPORT_RUNNING, {**IMPORT_RUNNING, "read": 2000}) == []  # a checkpoint


def test_a_failed_stock_import_tells_the_venue_why() -> None:
    failed = {**IMPORT_RUNNING, "status": "FAILED", "failure": "HTTP_5XX", "failureDetail": "503 from the provider"}
    (email,) = emails_for_change(IMPORT_RUNNING, failed)
    rendered = render(email.kind, email.context)
    assert rendered.subject == "Import de stock en échec : Librairie du Marais"
    assert "a échoué : HTTP_5XX (503 from the provider)" in rendered.text
    assert "à l'exception des 400 lignes déjà importées" in rendered.text
    assert emails_for_change({}, {**failed, "notifyEmail": None}) == []  # no address: nobody to tell


PAYOUT = {
    "entity": "PAYOUT", "offererName": "Librairie du Marais", "reimbursedCents": 57_50, "bookingsCount": 5,
    "periodLabel": "1ère quinzaine 11-2026", "periodStart": "2026-11-01", "periodEnd": "2026-11-15",
    "iban": "FR76•••••••••••••••••••0189", "emails": ["annexe@librairie.example", "resa@librairie.example"],
}  # fmt: skip


def test_a_payout_tells_each_of_its_venues_booking_emails_once_that_the_money_is_available() -> None:
    emails = emails_for_change({}, PAYOUT)
    assert [(email.kind, email.to) for email in emails] == [
        ("payout_available", "annexe@librairie.example"), ("payout_available", "resa@librairie.example"),
    ]  # fmt: skip
    rendered = render("payout_available", emails[0].context)
    assert rendered.subject == "Votre remboursement est disponible : 57,50\u00a0€ (1ère quinzaine 11-2026)"
    assert "5 réservations validées du 01/11/2026 au 15/11/2026" in rendered.text
    assert "57,50" in rendered.html and "Librairie du Marais" in rendered.html
    assert emails_for_change(PAYOUT, {**PAYOUT, "x": 1}) == []  # only when written, and it is written once
    assert emails_for_change({}, {**PAYOUT, "reimbursedCents": 0}) == []  # free bookings only: nothing paid
