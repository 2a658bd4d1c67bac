"""Collaborators in the browser: on "Vos structures", each structure's "Membres" section (its members, a library's
request to join accepted, a colleague invited by e-mail, a member removed, never the last one), and the page an
invitation's e-mail links to, reached by a person who has no account yet (sign-up, the emailed code, sign-in, then
back to the invitation: `suite=`) or who is signed in with another address. Desktop and phone, axe-checked and
photographed at every state. Every test makes its own pros and offerer (the stack is shared)."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, console_errors, portal, sign_in_with_token, wait_for_heading
from tests.browser.test_account import PASSWORD, emailed_code
from tests.browser.test_structures_offers import Pro, api, pro_with_venue, size_of, status_message
from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import new_user, outbox_email
from tests.e2e.test_bookings_flow import auth


@pytest.fixture(params=["desktop", "phone"])
def screen(request: pytest.FixtureRequest) -> Page:
    page: Page = request.getfixturevalue(request.param)
    return page


def siren_of(stack: RunningStack, pro: Pro) -> str:
    (offerer,) = api(stack, pro, "GET", "/offerers")["items"]
    return str(offerer["siren"])


def test_members_accept_a_library_invite_a_colleague_and_remove_one(stack: RunningStack, screen: Page) -> None:
    page, size = screen, size_of(screen)
    errors = console_errors(page)
    authority = pro_with_venue(stack)
    library_email, library_token = new_user(stack, "pro")
    asked = requests.post(f"{stack.url}/offerers", json={"siren": siren_of(stack, authority), "name": "Médiathèque"},
                          headers=auth(library_token), timeout=10)  # fmt: skip
    assert asked.status_code == 202, asked.text

    sign_in_with_token(page, stack, authority.email)
    page.goto(portal(stack, "/structures"))
    wait_for_heading(page, "Vos structures")
    members = page.get_by_role("region", name=f"Membres de Librairie {siren_of(stack, authority)}")
    expect(members).to_contain_text(authority.email)
    expect(page.get_by_role("heading", level=4, name="Demandes de rattachement")).to_be_visible()
    expect(page.get_by_text(library_email, exact=True)).to_be_visible()
    expect(page.get_by_text("Dernier membre")).to_be_visible()  # no "Retirer" for the only member
    check_page(page, "membres-demande")

    page.get_by_role("button", name=re.compile(f"^Accepter la demande de .*{re.escape(library_email)}")).click()
    status_message(page, "est maintenant membre de la structure")
    expect(members).to_contain_text(library_email)
    expect(page.get_by_role("heading", level=4, name="Demandes de rattachement")).to_have_count(0)
    check_page(page, "membres-demande-acceptee")
    library_offerers = requests.get(f"{stack.url}/offerers", headers=auth(library_token), timeout=10).json()["items"]
    assert [o["id"] for o in library_offerers] == [authority.offerer_id]

    # an invitation: a bad address is told at its field, a good one is listed as pending
    invite_field = page.get_by_label("Adresse e-mail de la personne à inviter")
    invite_field.fill("pas-une-adresse")
    page.get_by_role("button", name=re.compile("^Inviter")).click()
    expect(invite_field).to_have_attribute("aria-invalid", "true")
    colleague = f"collegue-{size}-{siren_of(stack, authority)}@mairie.example"
    invite_field.fill(colleague)
    page.get_by_role("button", name=re.compile("^Inviter")).click()
    status_message(page, f"Invitation envoyée à {colleague}")
    expect(page.get_by_role("heading", level=4, name="Invitations envoyées")).to_be_visible()
    expect(page.get_by_text(colleague, exact=True)).to_be_visible()
    check_page(page, "membres-invitation-envoyee")
    assert "/pro/#/invitation?id=" in outbox_email(stack, colleague, "Invitation à rejoindre")["text"]

    # the library's pro removed: two members left one, then the last one cannot be removed
    page.get_by_role("button", name=re.compile(f"^Retirer .*{re.escape(library_email)}")).click()
    status_message(page, "n'est plus membre de la structure")
    expect(page.get_by_text("Dernier membre")).to_be_visible()
    check_page(page, "membres-retire")
    assert requests.get(f"{stack.url}/offerers", headers=auth(library_token), timeout=10).json()["items"] == []
    assert errors == []


def test_an_invited_person_signs_up_and_comes_back_to_accept(stack: RunningStack, screen: Page) -> None:
    page, size = screen, size_of(screen)
    errors = console_errors(page)
    authority = pro_with_venue(stack)
    invited_email = f"invitee-{size}-{siren_of(stack, authority)}@mairie.example"
    invited = api(stack, authority, "POST", f"/offerers/{authority.offerer_id}/invitations",
                  json={"email": invited_email})  # fmt: skip
    mail = outbox_email(stack, invited_email, "Invitation à rejoindre")
    link = re.search(r"(http\S+/pro/#(/invitation\?id=\w+))", mail["text"])
    assert link is not None and invited["id"] in link.group(1)

    # not signed in: the sign-in page, which says to use the invited address; no account yet: sign up
    page.goto(link.group(1))
    wait_for_heading(page, "Connexion à l'espace pro")
    status_message(page, "qui a reçu l'invitation")
    check_page(page, "invitation-connexion")
    page.get_by_role("link", name="créez votre compte pro").click()
    wait_for_heading(page, "Créer votre compte pro")
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom (obligatoire)", exact=True).fill("Durand")
    page.get_by_label("Adresse e-mail").fill(invited_email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    wait_for_heading(page, "Confirmer votre adresse e-mail")
    page.get_by_label("Code de confirmation").fill(emailed_code(stack, invited_email, "code de confirmation"))
    page.get_by_role("button", name="Confirmer mon compte").click()
    wait_for_heading(page, "Connexion à l'espace pro")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    # back on the invitation
    wait_for_heading(page, "Rejoindre une structure")
    assert page.url.endswith(link.group(2))
    check_page(page, "invitation")
    page.get_by_role("button", name="Accepter l'invitation").click()
    status_message(page, "vous êtes maintenant membre")
    check_page(page, "invitation-acceptee")
    page.get_by_role("link", name="Voir mes structures").click()
    wait_for_heading(page, "Vos structures")
    expect(page.get_by_role("heading", level=2, name=f"Librairie {siren_of(stack, authority)}")).to_be_visible()
    assert errors == []


def test_an_invitation_opened_with_another_account_is_refused_in_french(stack: RunningStack, screen: Page) -> None:
    page = screen
    authority = pro_with_venue(stack)
    invited = api(stack, authority, "POST", f"/offerers/{authority.offerer_id}/invitations",
                  json={"email": f"someone-{authority.offerer_id}@mairie.example"})  # fmt: skip
    other_email, _ = new_user(stack, "pro")
    sign_in_with_token(page, stack, other_email)
    page.goto(portal(stack, f"/invitation?id={invited['id']}"))
    wait_for_heading(page, "Rejoindre une structure")
    page.get_by_role("button", name="Accepter l'invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("envoyée à une autre adresse e-mail")
    expect(page.get_by_role("button", name="Me connecter avec une autre adresse")).to_be_visible()
    check_page(page, "invitation-autre-adresse")
    page.get_by_role("button", name="Me connecter avec une autre adresse").click()
    wait_for_heading(page, "Connexion à l'espace pro")
    assert "suite=" in page.url
