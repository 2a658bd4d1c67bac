"""Importation d'offres in the browser: the bookshop connects its venue to the seeded fake stock software (a wrong
address is refused with the reason), the nightly job runs and its report shows; a new pro pushes a small CSV by hand
and sees its report with the rejected lines and their reasons in French; a malformed file is refused in the page,
naming its line. At desktop and phone size, axe-checked and photographed at every state."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, console_errors, portal, sign_in_with_token, wait_for_heading
from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import luhn_complete, new_user
from tests.e2e.test_bookings_flow import BOOKSELLER, auth

LIBRARIAN = "mediatheque@saint-ouen-sur-loire.example"


@pytest.fixture(params=["desktop", "phone"])
def screen(request: pytest.FixtureRequest) -> Page:
    page: Page = request.getfixturevalue(request.param)
    return page


def fake_stock_software(stack: RunningStack) -> str:
    """The seeded fake provider's base URL, as `make run` prints it."""
    found = re.search(r'"baseUrl": "(http://[^"]+)"', "".join(stack.output))
    assert found, "".join(stack.output)
    return found.group(1)


def reports(stack: RunningStack, headers: dict[str, str], venue_id: str) -> dict[str, Any]:
    answer = requests.get(f"{stack.url}/venues/{venue_id}/stock-imports", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def status_message(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def test_the_bookshop_connects_its_stock_software_and_reads_the_nightly_report(
    stack: RunningStack, screen: Page
) -> None:
    page = screen
    errors = console_errors(page)
    headers = auth(stack.login(BOOKSELLER))
    venue = requests.get(f"{stack.url}/offerers", headers=headers, timeout=10).json()["items"][0]["venues"][0]
    base_url = fake_stock_software(stack)
    runs_before = len(reports(stack, headers, venue["id"])["items"])
    sign_in_with_token(page, stack, BOOKSELLER)
    page.goto(portal(stack, f"/importation?lieu={venue['id']}"))
    wait_for_heading(page, "Importation d'offres")
    expect(page.get_by_label("Lieu")).to_have_value(venue["id"])
    check_page(page, "importation")

    # an address where the software does not know the venue: refused, saying why
    page.get_by_role("combobox", name=re.compile("^Logiciel")).select_option("titelive")
    page.get_by_label("Adresse de l'API de stock").fill(base_url.replace("/stocks", "/autre"))
    page.get_by_role("button", name="Connecter le lieu").click()
    expect(page.get_by_role("alert")).to_contain_text("Le logiciel de stock n'a pas accepté la connexion")
    expect(page.get_by_label("Adresse de l'API de stock")).to_have_attribute("aria-invalid", "true")
    check_page(page, "importation-connexion-refusee")

    page.get_by_label("Adresse de l'API de stock").fill(base_url)
    page.get_by_role("button", name="Connecter le lieu").click()
    status_message(page, "Le lieu est connecté à Tite Live / Medialog")
    expect(page.get_by_text("Ce lieu est connecté à Tite Live / Medialog depuis le")).to_be_visible()
    connection = reports(stack, headers, venue["id"])["connection"]
    assert (connection["provider"], connection["baseUrl"], connection["hasToken"]) == ("titelive", base_url, False)
    check_page(page, "importation-connectee")

    # the nightly job runs (here, now): its report shows once the worker is done
    fired = requests.post(f"{stack.url}/_local/jobs/stock-import", json={}, timeout=120)
    assert fired.status_code == 200, fired.text
    deadline = time.monotonic() + 120
    while True:
        found = reports(stack, headers, venue["id"])["items"]
        if len(found) > runs_before and found[0]["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline, found[:1]
        time.sleep(1)
    report = found[0]
    page.get_by_role("button", name="Actualiser").click()
    card = page.locator("article.report").first
    expect(card.get_by_role("heading", level=3)).to_contain_text("Import de Tite Live / Medialog — ")
    for label, value in (("Lignes lues", report["read"]), ("Offres créées", report["created"])):
        expect(card.locator("dt", has_text=label).locator("xpath=following-sibling::dd[1]")).to_have_text(str(value))
    if report["rejected"]:  # the first run of the fake feed mixes in bad lines (infra/local/fake_provider.py)
        card.get_by_text("Voir les lignes rejetées").click()
        expect(card.get_by_role("cell").filter(has_text="Livre scolaire ou parascolaire").first).to_be_visible()
    check_page(page, "importation-rapport")

    # disconnected: the nightly import stops
    page.get_by_role("button", name="Déconnecter le lieu").click()
    status_message(page, "Le lieu est déconnecté")
    assert reports(stack, headers, venue["id"])["connection"] is None
    assert not errors, errors


def test_a_file_sent_by_hand_and_its_report_and_a_malformed_file_refused(stack: RunningStack, screen: Page) -> None:
    page = screen
    errors = console_errors(page)
    email, token = new_user(stack, "pro")
    headers = auth(token)
    siren = luhn_complete(str(uuid.uuid4().int)[:8])
    offerer = requests.post(
        f"{stack.url}/offerers", json={"siren": siren, "name": f"Librairie {siren}"}, headers=headers, timeout=10
    ).json()
    body = {
        "name": "Librairie des Canaux", "siret": luhn_complete(siren + "0001"), "address": "4 quai de Jemmapes",
        "postalCode": "75010", "city": "Paris", "latitude": 48.871, "longitude": 2.365,
        "bookingEmail": f"resa-{siren}@librairie.example",
    }  # fmt: skip
    venue = requests.post(f"{stack.url}/offerers/{offerer['id']}/venues", json=body, headers=headers, timeout=10).json()
    sign_in_with_token(page, stack, email)
    page.goto(portal(stack, "/importation"))
    wait_for_heading(page, "Importation d'offres")
    expect(page.get_by_text("Aucun import pour ce lieu pour l'instant.")).to_be_visible()

    # a malformed file: refused in the page, naming its line; nothing is sent
    malformed = "ref;available;price\n9782070360024;2;8,90\n9782253096344;deux;12,90\n"
    page.get_by_label(re.compile("^Fichier de stock")).set_input_files(
        {"name": "stock.csv", "mimeType": "text/csv", "buffer": malformed.encode()}
    )
    page.get_by_role("button", name="Envoyer le fichier").click()
    message = "Ligne 3 : la quantité disponible « deux » n'est pas un nombre entier."
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.get_by_label(re.compile("^Fichier de stock"))).to_have_attribute("aria-invalid", "true")
    check_page(page, "importation-fichier-invalide")
    assert reports(stack, headers, venue["id"])["items"] == []

    # a good file (Excel's BOM and line ends): a catalogue book, a bad EAN, a school book
    csv = "\ufeffref;available;price\r\n9782070360024;2;8,90\r\n9782070360025;1;5\r\n9782091890302;3;4,50\r\n"
    page.get_by_label(re.compile("^Fichier de stock")).set_input_files(
        {"name": "stock.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.get_by_role("button", name="Envoyer le fichier").click()
    status_message(page, "Fichier importé : 3 lignes lues, 1 offre créée")
    status_message(page, "2 lignes rejetées : leurs motifs sont dans le rapport ci-dessous.")
    rejected = page.get_by_role("region", name=re.compile("^Lignes rejetées"))
    expect(rejected).to_be_visible()  # the report just sent has its lines open
    expect(rejected.get_by_role("row", name=re.compile("9782070360025"))).to_contain_text("EAN invalide")
    expect(rejected.get_by_role("row", name=re.compile("9782091890302"))).to_contain_text(
        "Livre scolaire ou parascolaire (CLIL 3000 ou 3013) : non éligible au pass Culture"
    )
    check_page(page, "importation-fichier")
    (report,) = reports(stack, headers, venue["id"])["items"]
    assert (report["provider"], report["read"], report["created"]) == ("push", 3, 1)
    assert report["rejected"] == {"BAD_EAN": 1, "INELIGIBLE_BOOK": 1}
    offers = requests.get(f"{stack.url}/venues/{venue['id']}/offers", headers=headers, timeout=10).json()["items"]
    assert [(o["ean"], o["stocks"][0]["priceCents"], o["stocks"][0]["quantity"]) for o in offers] == [
        ("9782070360024", 890, 2)
    ]
    assert not errors, errors


def test_a_library_without_siret_is_told_it_cannot_be_synchronised(stack: RunningStack, desktop: Page) -> None:
    page = desktop
    headers = auth(stack.login(LIBRARIAN))
    venues = requests.get(f"{stack.url}/offerers", headers=headers, timeout=10).json()["items"][0]["venues"]
    library = next(venue for venue in venues if not venue["siret"])
    sign_in_with_token(page, stack, LIBRARIAN)
    page.goto(portal(stack, f"/importation?lieu={library['id']}"))
    wait_for_heading(page, "Importation d'offres")
    expect(page.get_by_text("Ce lieu n'a pas de SIRET : les logiciels de stock")).to_be_visible()
    expect(page.get_by_role("button", name="Connecter le lieu")).to_have_count(0)
    expect(page.get_by_role("button", name="Envoyer le fichier")).to_be_visible()
    check_page(page, "importation-sans-siret")
