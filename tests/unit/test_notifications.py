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
