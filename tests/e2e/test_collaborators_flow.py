"""A library joins its local authority's pro account, over HTTP through the local stack, emails included: the
library's pro declares the authority's SIREN (202, a pending request the members are emailed about), sees nothing
until a member accepts, then adds its venue without SIRET on the authority's pricing point; an invitation is sent,
read from the outbox and accepted; a member leaves, never the last one."""

from __future__ import annotations

import re
import uuid

import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import auth, luhn_complete, new_user, outbox_email


def venue(name: str, **identity: str) -> dict[str, object]:
    return {
        "name": name, "address": "1 place de la Mairie", "postalCode": "93400", "city": "Saint-Ouen-sur-Loire",
        "latitude": 48.91, "longitude": 2.33, "bookingEmail": "culture@mairie.example", **identity,
    }  # fmt: skip


def test_a_library_joins_the_authority_and_a_colleague_is_invited(stack: RunningStack) -> None:
    url = stack.url
    authority_email, authority = new_user(stack, "pro")
    library_email, library = new_user(stack, "pro")
    siren = luhn_complete(f"{uuid.uuid4().int % 10**8:08d}")
    created = requests.post(f"{url}/offerers", json={"siren": siren, "name": "Ville de Saint-Ouen-sur-Loire"},
                            headers=auth(authority), timeout=10)  # fmt: skip
    assert created.status_code == 201, created.text
    offerer_id = created.json()["id"]
    hall = requests.post(f"{url}/offerers/{offerer_id}/venues", json=venue("Mairie", siret=luhn_complete(siren + "0001")),
                         headers=auth(authority), timeout=10)  # fmt: skip
    assert hall.status_code == 201, hall.text

    # the library's pro declares the same SIREN: a pending request, the members are emailed
    asked = requests.post(f"{url}/offerers", json={"siren": siren, "name": "Médiathèque"}, headers=auth(library),
                          timeout=10)  # fmt: skip
    assert (asked.status_code, asked.json()["status"]) == (202, "PENDING"), asked.text
    told = outbox_email(stack, authority_email, "Demande de rattachement")
    assert library_email in told["text"] and f"{url}/pro/#/structures" in told["text"]

    # nothing of the offerer until accepted
    assert requests.get(f"{url}/offerers", headers=auth(library), timeout=10).json()["items"] == []
    members_url = f"{url}/offerers/{offerer_id}/members"
    assert requests.get(members_url, headers=auth(library), timeout=10).status_code == 403
    library_venue = venue("Médiathèque", comment="Médiathèque municipale, sans SIRET",
                          pricingPointVenueId=hall.json()["id"])  # fmt: skip
    refused = requests.post(
        f"{url}/offerers/{offerer_id}/venues", json=library_venue, headers=auth(library), timeout=10
    )
    assert refused.status_code == 403

    team = requests.get(members_url, headers=auth(authority), timeout=10).json()
    (request,) = team["attachmentRequests"]
    assert request["email"] == library_email
    accepted = requests.post(f"{url}/offerers/{offerer_id}/attachments/{request['userId']}/accept",
                             headers=auth(authority), timeout=10)  # fmt: skip
    assert (accepted.status_code, accepted.json()["status"]) == (200, "ACCEPTED"), accepted.text
    outbox_email(stack, library_email, "est accepté")

    # the library's own venue, reimbursed through the authority's pricing point
    (mine,) = requests.get(f"{url}/offerers", headers=auth(library), timeout=10).json()["items"]
    assert mine["id"] == offerer_id
    added = requests.post(f"{url}/offerers/{offerer_id}/venues", json=library_venue, headers=auth(library), timeout=10)
    assert added.status_code == 201, added.text
    assert added.json()["pricingPointVenueId"] == hall.json()["id"] and added.json()["siret"] is None

    # a colleague is invited: the email's link, opened after signing in, makes them a member
    colleague_email, colleague = new_user(stack, "pro")
    invited = requests.post(f"{url}/offerers/{offerer_id}/invitations", json={"email": colleague_email},
                            headers=auth(library), timeout=10)  # fmt: skip
    assert invited.status_code == 201, invited.text
    again = requests.post(f"{url}/offerers/{offerer_id}/invitations", json={"email": colleague_email},
                          headers=auth(authority), timeout=10)  # fmt: skip
    assert again.json()["id"] == invited.json()["id"]  # the same invitation, emailed once
    message = outbox_email(stack, colleague_email, "Invitation à rejoindre Ville de Saint-Ouen-sur-Loire")
    link = re.search(r"(\S+/pro/#/invitation\?id=(\w+))", message["text"])
    assert link is not None and link.group(1).startswith(f"{url}/pro/")
    assert (
        requests.post(f"{url}/invitations/{link.group(2)}/accept", headers=auth(authority), timeout=10).status_code
        == 403
    )
    joined = requests.post(f"{url}/invitations/{link.group(2)}/accept", headers=auth(colleague), timeout=10)
    assert (joined.status_code, joined.json()["status"]) == (200, "ACCEPTED"), joined.text
    members = requests.get(members_url, headers=auth(colleague), timeout=10).json()["members"]
    assert {m["email"] for m in members} == {authority_email, library_email, colleague_email}

    # members leave, never the last one
    for leaving in (m for m in members if m["email"] != library_email):
        removed = requests.delete(f"{members_url}/{leaving['userId']}", headers=auth(library), timeout=10)
        assert removed.status_code == 204, removed.text
    (me,) = requests.get(members_url, headers=auth(library), timeout=10).json()["members"]
    last = requests.delete(f"{members_url}/{me['userId']}", headers=auth(library), timeout=10)
    assert (last.status_code, last.json()["code"]) == (409, "LAST_MEMBER")
    assert requests.get(f"{url}/offerers", headers=auth(authority), timeout=10).json()["items"] == []
