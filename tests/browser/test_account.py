"""A bookseller creates their pro account in the portal: sign up, the code from the email, sign in (SRP, through the
local Cognito front), sign out, and the forgotten password — in French, accessible, at desktop and phone size."""

from __future__ import annotations

import re
import uuid

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, console_errors, portal, wait_for_heading
from tests.e2e.conftest import RunningStack

PASSWORD = "Librairie-Portail-2026"


def emailed_code(stack: RunningStack, email: str, subject_part: str) -> str:
    """The 6 digits of the newest email to `email` whose subject contains `subject_part` (the local SES outbox)."""
    items = requests.get(f"{stack.url}/_local/outbox", params={"to": email}, timeout=10).json()["items"]
    found = [item for item in items if subject_part in item["subject"]]
    assert found, f"no email '{subject_part}' to {email}: {[i['subject'] for i in items]}"
    match = re.search(r"\b(\d{6})\b", found[-1]["text"])
    assert match, found[-1]["text"]
    return match.group(1)


def sign_up(page: Page, stack: RunningStack, email: str) -> None:
    page.goto(portal(stack, "/inscription"))
    wait_for_heading(page, "Créer votre compte pro")
    check_page(page, "inscription")
    page.get_by_label("Prénom").fill("Louise")
    page.get_by_label("Nom (obligatoire)", exact=True).fill("Martin")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("court")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("alert")).to_contain_text("Mot de passe trop faible")
    check_page(page, "inscription-erreur")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    wait_for_heading(page, "Confirmer votre adresse e-mail")
    expect(page.get_by_role("status").filter(has_text="Un code vous a été envoyé")).to_be_visible()


def test_a_bookseller_signs_up_confirms_signs_in_and_out(stack: RunningStack, desktop: Page) -> None:
    errors = console_errors(desktop)
    email = f"libraire-{uuid.uuid4().hex[:8]}@example.org"
    sign_up(desktop, stack, email)
    check_page(desktop, "confirmation")
    desktop.get_by_label("Code de confirmation").fill("000000")
    desktop.get_by_role("button", name="Confirmer mon compte").click()
    expect(desktop.get_by_role("alert")).to_contain_text("Ce code n'est pas le bon")
    expect(desktop.get_by_label("Code de confirmation")).to_have_attribute("aria-invalid", "true")
    desktop.get_by_label("Code de confirmation").fill(emailed_code(stack, email, "code de confirmation"))
    desktop.get_by_role("button", name="Confirmer mon compte").click()

    wait_for_heading(desktop, "Connexion à l'espace pro")
    expect(desktop.get_by_text("Votre compte est confirmé")).to_be_visible()
    expect(desktop.get_by_label("Adresse e-mail")).to_have_value(email)
    check_page(desktop, "connexion")
    desktop.get_by_label("Mot de passe").fill("Pas-Le-Bon-2026")
    desktop.get_by_role("button", name="Se connecter").click()
    expect(desktop.get_by_role("alert")).to_contain_text("Adresse e-mail ou mot de passe incorrect")
    desktop.get_by_label("Mot de passe").fill(PASSWORD)
    desktop.get_by_role("button", name="Se connecter").click()
    # a new pro lands on their structures: the post-confirmation trigger made them a pro (else GET /offerers is 403)
    wait_for_heading(desktop, "Vos structures")
    expect(desktop.get_by_role("navigation", name="Menu principal")).to_be_visible()

    desktop.get_by_role("button", name="Se déconnecter").click()
    wait_for_heading(desktop, "Connexion à l'espace pro")
    desktop.goto(portal(stack, "/offres"))  # a page for pros only: back to the sign-in, which says where it goes next
    wait_for_heading(desktop, "Connexion à l'espace pro")
    assert "suite=%2Foffres" in desktop.url
    assert errors == []


def test_a_forgotten_password_is_replaced_with_the_emailed_code(stack: RunningStack, phone: Page) -> None:
    email = f"oubli-{uuid.uuid4().hex[:8]}@example.org"
    sign_up(phone, stack, email)
    phone.get_by_label("Code de confirmation").fill(emailed_code(stack, email, "code de confirmation"))
    phone.get_by_role("button", name="Confirmer mon compte").click()
    wait_for_heading(phone, "Connexion à l'espace pro")

    phone.get_by_role("link", name="Mot de passe oublié ?").click()
    wait_for_heading(phone, "Mot de passe oublié")
    check_page(phone, "mot-de-passe-oublie")
    phone.get_by_label("Adresse e-mail").fill(email)
    phone.get_by_role("button", name="Recevoir un code").click()
    expect(phone.get_by_text("un code vient de lui être envoyé")).to_be_visible()
    phone.get_by_label("Code reçu par e-mail").fill(emailed_code(stack, email, "réinitialiser"))
    phone.get_by_label("Nouveau mot de passe").fill("Nouveau-Portail-2026")
    phone.get_by_role("button", name="Changer mon mot de passe").click()
    wait_for_heading(phone, "Connexion à l'espace pro")
    expect(phone.get_by_text("Votre mot de passe est changé")).to_be_visible()
    phone.get_by_label("Mot de passe").fill("Nouveau-Portail-2026")
    phone.get_by_role("button", name="Se connecter").click()
    wait_for_heading(phone, "Vos structures")
    check_page(phone, "structures-nouveau-pro")
