"""The bookshops' guide, whole, in one browser: a bookseller signs up on the portal and confirms the emailed code,
creates the structure from its SIREN and a venue with its SIRET, publishes a book from its EAN with a cover image; a
young person books it through the API; the bookseller validates the countermark at the guichet, sees it validated in
"suivi des réservations", exports the CSV, enters bank details and, after the payout job, sees the payout with its
statement. Only the admin's two acts (validating the structure and the bank details) go through the API.

It runs on a local stack of its own: the payout job pays a period once, and other browser tests run theirs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from pass_culture.clock import SystemClock, paris_date, paris_midnight
from tests.browser.conftest import check_page, console_errors, portal, wait_for_heading
from tests.browser.test_account import PASSWORD, emailed_code, sign_up
from tests.browser.test_reimbursements import GOOD_IBAN, fill_bank_details
from tests.browser.test_structures_offers import BOOK_1984, png
from tests.e2e.conftest import RunningStack, local_stack
from tests.e2e.test_accounts_flow import luhn_complete
from tests.e2e.test_bookings_flow import auth
from tests.e2e.test_daily_jobs_flow import run_job, young_person
from tests.e2e.test_payouts_flow import next_payout_day, wait_for_payout

ADMIN = "admin@passculture.local"
FIRST_PAGE_JS_BUDGET = 100 * 1024  # the issue's: the first page loads at most 100 KB of JavaScript


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with local_stack(tmp_path_factory.mktemp("journey-logs")) as running:
        yield running


def javascript_bytes(page: Page) -> int:
    """What the page loaded of JavaScript so far, as the browser measured it (bodies, before any compression)."""
    return int(
        page.evaluate(
            """() => performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation"))
                .filter((entry) => entry.name.endsWith(".js"))
                .reduce((total, entry) => total + entry.decodedBodySize, 0)"""
        )
    )


def admin_post(stack: RunningStack, path: str) -> None:
    answer = requests.post(f"{stack.url}{path}", headers=auth(stack.login(ADMIN)), timeout=10)
    assert answer.status_code == 200, answer.text


def test_a_bookseller_from_sign_up_to_reimbursement(own_stack: RunningStack, desktop: Page) -> None:
    stack, page = own_stack, desktop
    errors = console_errors(page)
    email = f"librairie-{uuid.uuid4().hex[:8]}@example.org"

    # -- the account: sign up, the emailed code, sign in (SRP) ------------------------------------------------------
    sign_up(page, stack, email)
    assert 0 < javascript_bytes(page) <= FIRST_PAGE_JS_BUDGET, javascript_bytes(page)
    page.get_by_label("Code de confirmation").fill(emailed_code(stack, email, "code de confirmation"))
    page.get_by_role("button", name="Confirmer mon compte").click()
    wait_for_heading(page, "Connexion à l'espace pro")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    wait_for_heading(page, "Vos structures")

    # -- the structure from its SIREN, a venue with its SIRET --------------------------------------------------------
    siren = luhn_complete(str(uuid.uuid4().int)[:8])
    page.get_by_label("Numéro SIREN").fill(siren)
    page.get_by_label("Nom de la structure").fill("Librairie des Canaux")
    page.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_role("status").filter(has_text="est créée")).to_be_visible()
    offerer_id = requests.get(f"{stack.url}/offerers", headers=auth(pro_token(page)), timeout=10).json()["items"][0][
        "id"
    ]
    admin_post(stack, f"/admin/offerers/{offerer_id}/validate")  # pass Culture's staff checks the structure
    page.get_by_role("link", name="Ajouter un lieu").click()
    wait_for_heading(page, "Ajouter un lieu")
    page.get_by_role("textbox", name="Numéro SIRET").fill(luhn_complete(siren + "0001"))
    page.get_by_label("Nom du lieu").fill("Librairie des Canaux")
    page.get_by_label("Adresse", exact=False).first.fill("12 quai de Jemmapes")
    page.get_by_label("Code postal").fill("75010")
    page.get_by_label("Ville").fill("Paris")
    page.get_by_label("Latitude").fill("48.8712")
    page.get_by_label("Longitude").fill("2.3655")
    page.get_by_label("E-mail de réservation").fill(f"resa-{siren}@librairie.example")
    page.get_by_role("button", name="Créer le lieu").click()
    expect(page.get_by_role("status").filter(has_text="« Librairie des Canaux » est ajouté")).to_be_visible()

    # -- a book from its EAN, its price and stock, its cover ---------------------------------------------------------
    page.get_by_role("link", name="Offres", exact=True).click()
    wait_for_heading(page, "Offres")
    page.goto(portal(stack, "/offres/nouvelle"))
    wait_for_heading(page, "Créer une offre")
    page.get_by_label("EAN (ISBN) du livre").fill(BOOK_1984)
    stock_fields = page.get_by_role("group", name="Stock")
    stock_fields.get_by_label("Prix (€)").fill("8,50")
    stock_fields.get_by_label("Quantité").fill("3")
    page.get_by_role("button", name="Créer l'offre").click()
    wait_for_heading(page, "1984")
    page.get_by_label("Fichier de l'image").set_input_files(
        {"name": "couverture.png", "mimeType": "image/png", "buffer": png()}
    )
    page.get_by_role("button", name="Envoyer l'image").click()
    expect(page.get_by_role("img", name="Image de l'offre « 1984 »")).to_be_visible()
    offer_id = page.evaluate("() => new URLSearchParams(location.hash.split('?')[1]).get('id')")

    # -- a young person books it through the API ---------------------------------------------------------------------
    public = requests.get(f"{stack.url}/offers/{offer_id}", timeout=10).json()
    assert public["imageUrl"] and requests.get(public["imageUrl"], timeout=10).content == png()
    _, young = young_person(stack)
    booked = requests.post(f"{stack.url}/bookings", json={"stockId": public["stocks"][0]["id"], "quantity": 1},
                           headers=auth(young), timeout=10)  # fmt: skip
    assert booked.status_code == 201, booked.text
    token = booked.json()["token"]

    # -- the guichet -------------------------------------------------------------------------------------------------
    page.get_by_role("link", name="Guichet").click()
    wait_for_heading(page, "Guichet")
    page.get_by_label("Contremarque").fill(token)
    page.get_by_role("button", name="Rechercher la contremarque").click()
    card = page.locator(".counter-booking")
    expect(card).to_contain_text("1984")
    expect(card).to_contain_text("8,50 €")
    card.get_by_role("button", name="Valider la contremarque").click()
    expect(page.get_by_role("status").filter(has_text="Contremarque validée")).to_be_visible()

    # -- suivi des réservations and its CSV --------------------------------------------------------------------------
    page.get_by_role("link", name="Suivi des réservations").click()
    wait_for_heading(page, "Suivi des réservations")
    row = page.locator("table tbody tr", has_text=token)
    expect(row).to_contain_text("Validée")
    expect(row).to_contain_text("1984")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger le fichier CSV").click()
    exported = download_info.value
    assert exported.suggested_filename == "reservations.csv"
    lines = open(exported.path(), encoding="utf-8-sig").read().splitlines()  # noqa: SIM115 - read once, closed by GC
    assert any(token in line and "1984" in line for line in lines[1:]), lines

    # -- remboursements: bank details, the admin accepts, the payout job, the payout ---------------------------------
    page.get_by_role("link", name="Remboursements").click()
    wait_for_heading(page, "Remboursements")
    fill_bank_details(page, GOOD_IBAN, "AGRIFRPPXXX", "Compte de la librairie")
    expect(page.get_by_text("En attente de validation", exact=True)).to_be_visible()
    admin_post(stack, f"/admin/offerers/{offerer_id}/bank-account/accept")
    run_day = next_payout_day(paris_date(SystemClock().now()))
    report = run_job(stack, "payouts", paris_midnight(run_day) + timedelta(hours=2))
    payout = wait_for_payout(stack, auth(pro_token(page)), offerer_id, report["periodStart"])
    page.reload()
    wait_for_heading(page, "Remboursements")
    payout_row = page.locator("table tbody tr", has_text=payout["period"]["label"])
    expect(payout_row).to_contain_text("8,50 €")
    statement = payout_row.get_by_role("link", name="Relevé (PDF)")
    assert page.request.get(str(statement.get_attribute("href"))).body().startswith(b"%PDF")
    check_page(page, "parcours-remboursement")
    assert not errors, errors


def pro_token(page: Page) -> str:
    """The ID token the portal holds for the signed-in pro (what its own API calls carry)."""
    return str(page.evaluate("() => JSON.parse(sessionStorage.getItem('passculture-pro-session')).idToken"))
