"""The collaborators' emails decided from the table's changes (notifications/decide.py) and rendered in French."""

from __future__ import annotations

from typing import Any

from pass_culture.notifications.decide import emails_for_change
from pass_culture.notifications.render import render

INVITATION = {
    "PK": "INVITATION#i1", "SK": "INVITATION", "entity": "INVITATION", "id": "i1", "offererId": "o1",
    "offererName": "Ville de Saint-Ouen", "email": "ines@mairie.example", "invitedByEmail": "maire@mairie.example",
    "invitedAt": "2026-11-23T12:00:00.000Z", "expiresAt": "2026-11-30T12:00:00.000Z", "status": "PENDING",
}  # fmt: skip
REQUEST = {
    "PK": "OFFERER#o1", "SK": "TEAM#REQUEST#u2", "entity": "ATTACHMENT_REQUEST", "userId": "u2",
    "email": "biblio@mairie.example", "firstName": "Léa", "lastName": "Martin", "offererId": "o1",
    "offererName": "Ville de Saint-Ouen", "siren": "412345670", "status": "PENDING",
    "requestedAt": "2026-11-23T12:00:00.000Z", "notifyEmails": ["a@mairie.example", "b@mairie.example"],
}  # fmt: skip


def rendered(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    email = render(kind, {**context, "portal_origin": "https://pro.passculture.app"})
    return email.subject, email.text, email.html


def test_an_invitation_is_emailed_once_to_the_invited_address_with_its_link() -> None:
    (email,) = emails_for_change({}, INVITATION)
    assert (email.kind, email.to) == ("invitation", "ines@mairie.example")
    subject, text, html = rendered(email.kind, email.context)
    assert subject == "Invitation à rejoindre Ville de Saint-Ouen sur le pass Culture Pro"
    assert "https://pro.passculture.app/pro/#/invitation?id=i1" in text
    assert 'href="https://pro.passculture.app/pro/#/invitation?id=i1"' in html
    assert "maire@mairie.example vous invite" in text and "30/11/2026 à 13h00" in text
    accepted = {**INVITATION, "status": "ACCEPTED", "acceptedBy": "u3"}
    assert emails_for_change(INVITATION, accepted) == []  # accepting sends nothing


def test_a_request_is_emailed_to_the_members_and_its_outcome_to_the_requester() -> None:
    asked = emails_for_change({}, REQUEST)
    assert [(e.kind, e.to) for e in asked] == [
        ("attachment_requested", "a@mairie.example"), ("attachment_requested", "b@mairie.example")
    ]  # fmt: skip
    subject, text, _ = rendered(asked[0].kind, asked[0].context)
    assert subject == "Demande de rattachement à Ville de Saint-Ouen"
    assert "Léa Martin (biblio@mairie.example) demande à rejoindre" in text
    assert "https://pro.passculture.app/pro/#/structures" in text
    for status, subject_text in (
        ("ACCEPTED", "Votre rattachement à Ville de Saint-Ouen est accepté"),
        ("REFUSED", "Votre demande de rattachement à Ville de Saint-Ouen a été refusée"),
    ):
        (outcome,) = emails_for_change(REQUEST, {**REQUEST, "status": status, "decidedBy": "PRO:u1"})
        assert outcome.to == "biblio@mairie.example"
        assert rendered(outcome.kind, outcome.context)[0] == subject_text
    assert emails_for_change(REQUEST, {**REQUEST, "notifyEmails": ["c@mairie.example"]}) == []  # not a new request
    refused = {**REQUEST, "status": "REFUSED"}
    assert len(emails_for_change(refused, REQUEST)) == 2  # asked again after a refusal: the members again
