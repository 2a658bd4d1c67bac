"""Structures and offers in the browser, as a new pro uses them: the offerer from its SIREN (a bad one is told at its
field), a venue with its SIRET and a library without one (a comment and a pricing point); a book from its EAN (the
catalogue gives its title and author; a school book is refused with its reason), its image uploaded straight to the
storage, its accroche, its stocks (never below what is booked), its deactivation; an event with dated stocks and a
free subscription card. Each flow runs at desktop and phone size, axe-checked and photographed at every state.

Every test makes its own pro and offerer (the stack is shared by the whole browser session)."""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, console_errors, portal, sign_in_with_token, wait_for_heading
from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import luhn_complete, new_user
from tests.e2e.test_bookings_flow import auth
from tests.e2e.test_daily_jobs_flow import young_person

ADMIN = "admin@passculture.local"
BOOK_1984 = "9782070368228"  # infra/local/catalogue-sample.csv: 1984, George Orwell (CLIL 3435)
SCHOOL_BOOK = "9782091890302"  # Mathématiques 3e, CLIL 3000
PARIS = ZoneInfo("Europe/Paris")  # the browser contexts' time zone


@pytest.fixture(params=["desktop", "phone"])
def screen(request: pytest.FixtureRequest) -> Page:
    """The flow at both sizes: a pro's desk and the phone at the counter."""
    page: Page = request.getfixturevalue(request.param)
    return page


def size_of(page: Page) -> str:
    return "phone" if (page.viewport_size or {"width": 1280})["width"] < 600 else "desktop"


def new_siren() -> str:
    return luhn_complete(str(uuid.uuid4().int)[:8])


@dataclass(frozen=True)
class Pro:
    email: str
    headers: dict[str, str]
    offerer_id: str = ""
    venue_id: str = ""
    venue_name: str = ""


def api(stack: RunningStack, pro: Pro, method: str, path: str, **kwargs: Any) -> Any:
    answer = requests.request(method, f"{stack.url}{path}", headers=pro.headers, timeout=30, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None


def pro_with_venue(stack: RunningStack, *, validated: bool = False) -> Pro:
    """A new pro with an offerer (NEW, or validated by the admin) and one venue with a SIRET, made through the API
    (the structures' pages have their own test)."""
    email, token = new_user(stack, "pro")
    pro = Pro(email, auth(token))
    siren = new_siren()
    offerer = api(stack, pro, "POST", "/offerers", json={"siren": siren, "name": f"Librairie {siren}"})
    if validated:
        admin = auth(stack.login(ADMIN))
        assert requests.post(f"{stack.url}/admin/offerers/{offerer['id']}/validate", headers=admin, timeout=10).ok
    name = f"Librairie des Lilas {siren[:4]}"
    venue = {
        "name": name, "siret": luhn_complete(siren + "0001"), "address": "8 rue des Lilas", "postalCode": "75019",
        "city": "Paris", "latitude": 48.877, "longitude": 2.392, "bookingEmail": f"resa-{siren}@librairie.example",
    }  # fmt: skip
    created = api(stack, pro, "POST", f"/offerers/{offerer['id']}/venues", json=venue)
    return Pro(email, pro.headers, offerer["id"], created["id"], name)


def png(width: int = 120, height: int = 160) -> bytes:
    """A small valid PNG (a purple rectangle)."""
    rows = b"".join(b"\x00" + bytes([107, 31, 181]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def local_input(moment: datetime) -> str:
    """A `datetime-local` value (the browser's time zone is Europe/Paris, as the contexts set it)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def status_message(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


# -- structures ---------------------------------------------------------------------------------------------------
def test_a_new_pro_creates_its_structure_a_venue_with_a_siret_and_a_library_without(
    stack: RunningStack, screen: Page
) -> None:
    page, size = screen, size_of(screen)
    errors = console_errors(page)
    email, token = new_user(stack, "pro")
    pro = Pro(email, auth(token))
    sign_in_with_token(page, stack, email)
    page.goto(portal(stack, "/structures"))
    wait_for_heading(page, "Vos structures")
    expect(page.get_by_role("heading", level=2, name="Créer votre structure")).to_be_visible()
    check_page(page, "structures-vide")

    # a SIREN whose check digit is wrong: told at its field, by the API's rule
    siren = new_siren()
    wrong = siren[:8] + str((int(siren[8]) + 1) % 10)
    page.get_by_label("Numéro SIREN").fill(wrong)
    page.get_by_label("Nom de la structure").fill(f"Médiathèques de Lilas {size}")
    page.get_by_role("button", name="Créer la structure").click()
    siren_input = page.get_by_label("Numéro SIREN")
    expect(siren_input).to_have_attribute("aria-invalid", "true")
    field_error = page.locator(f"#{siren_input.get_attribute('id')}-erreur")
    expect(field_error).to_have_text(
        "Ce numéro SIREN n'est pas valide : vérifiez ses 9 chiffres sur l'avis de situation INSEE ou l'extrait Kbis."
    )
    expect(page.get_by_role("alert")).to_contain_text("SIREN n'est pas valide")
    check_page(page, "structures-siren-invalide")

    siren_input.fill(f"{siren[:3]} {siren[3:6]} {siren[6:]}")  # spaces as on a Kbis
    page.get_by_role("button", name="Créer la structure").click()
    status_message(page, "est créée")
    expect(page.get_by_text("En attente de validation", exact=True)).to_be_visible()
    check_page(page, "structures-creee")
    (offerer,) = api(stack, pro, "GET", "/offerers")["items"]
    assert (offerer["siren"], offerer["validationStatus"], offerer["venues"]) == (siren, "NEW", [])

    # the venue that has the SIRET (the authority's culture department)
    page.get_by_role("link", name="Ajouter un lieu").click()
    wait_for_heading(page, "Ajouter un lieu")
    expect(page.get_by_role("radio", name="Ce lieu n'a pas de SIRET")).to_be_disabled()  # no pricing point yet
    check_page(page, "lieu-nouveau")
    siret = luhn_complete(siren + "0001")
    page.get_by_role("textbox", name="Numéro SIRET").fill(siret)
    page.get_by_label("Nom du lieu").fill("Direction de la culture")
    page.get_by_label("Adresse", exact=False).first.fill("1 place de la Mairie")
    page.get_by_label("Code postal").fill("93260")
    page.get_by_label("Ville").fill("Les Lilas")
    page.get_by_label("Latitude").fill("48,8799")
    page.get_by_label("Longitude").fill("2,4190")
    page.get_by_label("E-mail de réservation").fill("culture@leslilas.example")
    page.get_by_role("button", name="Créer le lieu").click()
    status_message(page, "« Direction de la culture » est ajouté")
    expect(page.get_by_text(f"SIRET {siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}", exact=True)).to_be_visible()

    # the library: no SIRET of its own, a comment and its pricing point
    page.get_by_role("link", name="Ajouter un lieu").click()
    wait_for_heading(page, "Ajouter un lieu")
    page.get_by_role("radio", name="Ce lieu n'a pas de SIRET").check()
    expect(page.get_by_role("textbox", name="Numéro SIRET")).to_be_hidden()
    page.get_by_label("Pourquoi ce lieu n'a pas de SIRET").fill("Médiathèque municipale rattachée à la commune.")
    expect(page.get_by_label("Point de remboursement")).to_have_value(offerer_venue_id(stack, pro, siret))
    page.get_by_label("Nom du lieu").fill("Médiathèque Boris-Vian")
    page.get_by_label("Adresse", exact=False).first.fill("2 rue du Garde-Chasse")
    page.get_by_label("Code postal").fill("93260")
    page.get_by_label("Ville").fill("Les Lilas")
    page.get_by_label("Latitude").fill("48.8806")
    page.get_by_label("Longitude").fill("2.4172")
    page.get_by_label("E-mail de réservation").fill("mediatheque@leslilas.example")
    check_page(page, "lieu-sans-siret")
    page.get_by_role("button", name="Créer le lieu").click()
    status_message(page, "« Médiathèque Boris-Vian » est ajouté")
    expect(page.get_by_text("Par Direction de la culture, son point de remboursement")).to_be_visible()
    check_page(page, "structures-lieux")

    venues = {venue["name"]: venue for venue in api(stack, pro, "GET", "/offerers")["items"][0]["venues"]}
    library, department = venues["Médiathèque Boris-Vian"], venues["Direction de la culture"]
    assert (department["siret"], department["latitude"], department["longitude"]) == (siret, 48.8799, 2.419)
    assert (library["siret"], library["comment"], library["pricingPointVenueId"]) == (
        None, "Médiathèque municipale rattachée à la commune.", department["id"],
    )  # fmt: skip
    assert not errors, errors


def offerer_venue_id(stack: RunningStack, pro: Pro, siret: str) -> str:
    venues = api(stack, pro, "GET", "/offerers")["items"][0]["venues"]
    return str(next(venue["id"] for venue in venues if venue["siret"] == siret))


def test_a_siren_already_registered_becomes_a_request_to_join(stack: RunningStack, desktop: Page) -> None:
    """The structure is not created: its members are asked (tests/browser/test_members.py accepts one)."""
    page = desktop
    email, _ = new_user(stack, "pro")
    sign_in_with_token(page, stack, email)
    page.goto(portal(stack, "/structures?nouvelle-structure=1"))
    wait_for_heading(page, "Ajouter une structure")
    page.get_by_label("Numéro SIREN").fill("412345670")  # the seeded bookshop's
    page.get_by_label("Nom de la structure").fill("Librairie du Marais")
    page.get_by_role("button", name="Créer la structure").click()
    status_message(page, "Ce SIREN est déjà inscrit sur le pass Culture : votre demande de rattachement")
    expect(page.get_by_role("heading", level=2, name="Créer votre structure")).to_be_visible()  # nothing of it seen
    check_page(page, "structure-siren-existant")


# -- a book --------------------------------------------------------------------------------------------------------
def test_a_book_from_its_ean_its_image_accroche_stocks_and_deactivation(stack: RunningStack, screen: Page) -> None:
    page, size = screen, size_of(screen)
    errors = console_errors(page)
    pro = pro_with_venue(stack, validated=True)
    sign_in_with_token(page, stack, pro.email)
    page.goto(portal(stack, "/offres/nouvelle"))
    wait_for_heading(page, "Créer une offre")
    expect(page.get_by_label("Lieu")).to_have_value(pro.venue_id)
    check_page(page, "offre-nouvelle")

    # a school book: refused, with the reason
    stock_fields = page.get_by_role("group", name="Stock")
    page.get_by_label("EAN (ISBN) du livre").fill(SCHOOL_BOOK)
    stock_fields.get_by_label("Prix (€)").fill("12,50")
    page.get_by_role("button", name="Créer l'offre").click()
    reason = "Les livres scolaires (CLIL 3000) ne sont pas éligibles au pass Culture."
    expect(page.get_by_role("alert")).to_have_text(reason)
    expect(page.get_by_label("EAN (ISBN) du livre")).to_have_attribute("aria-invalid", "true")
    check_page(page, "offre-livre-scolaire")

    # a book of the catalogue: its title and author come from it
    page.get_by_label("EAN (ISBN) du livre").fill(BOOK_1984)
    stock_fields.get_by_label("Prix (€)").fill("9,50")
    stock_fields.get_by_label("Quantité").fill("4")
    page.get_by_role("textbox", name="Accroche").fill("Un classique à relire.")
    page.get_by_role("button", name="Créer l'offre").click()
    wait_for_heading(page, "1984")
    status_message(page, "L'offre « 1984 » est créée.")
    expect(page.locator("dl.facts")).to_contain_text("George Orwell")
    check_page(page, "offre-livre")
    offer_id = page.evaluate("() => new URLSearchParams(location.hash.split('?')[1]).get('id')")
    offer = api(stack, pro, "GET", f"/pro/offers/{offer_id}")
    assert (offer["name"], offer["ean"], offer["description"], offer["isActive"]) == (
        "1984", BOOK_1984, "Un classique à relire.", True,
    )  # fmt: skip
    assert [(s["priceCents"], s["quantity"]) for s in offer["stocks"]] == [(950, 4)]

    # the image, straight to the storage with the presigned POST, then shown
    page.get_by_label("Fichier de l'image").set_input_files(
        {"name": "couverture.png", "mimeType": "image/png", "buffer": png()}
    )
    page.get_by_role("button", name="Envoyer l'image").click()
    status_message(page, "L'image est enregistrée.")
    image = page.get_by_role("img", name="Image de l'offre « 1984 »")
    expect(image).to_be_visible()
    loaded = image.element_handle()  # visible before its bytes arrive: wait for them, then read its real width
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=loaded)
    assert page.evaluate("(img) => img.naturalWidth", loaded) == 120
    offer = api(stack, pro, "GET", f"/pro/offers/{offer_id}")
    assert offer["imageUrl"] and requests.get(offer["imageUrl"], timeout=10).content == png()
    check_page(page, "offre-image")

    # the accroche
    page.get_by_role("textbox", name="Accroche").fill(f"Le coup de cœur de la librairie ({size}).")
    page.get_by_role("button", name="Enregistrer l'accroche").click()
    status_message(page, "L'accroche est enregistrée.")
    accroche = api(stack, pro, "GET", f"/pro/offers/{offer_id}")["description"]
    assert accroche == f"Le coup de cœur de la librairie ({size})."

    # a young person books one: the quantity cannot go below it
    _, young = young_person(stack)
    stock_id = offer["stocks"][0]["id"]
    booked = requests.post(f"{stack.url}/bookings", json={"stockId": stock_id}, headers=auth(young), timeout=10)
    assert booked.status_code == 201, booked.text
    page.reload()
    wait_for_heading(page, "1984")
    page.get_by_role("button", name="Modifier le stock").click()
    quantity = page.locator("#modifier-quantite")
    expect(quantity).to_have_value("4")
    quantity.fill("0")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator("#modifier-quantite-erreur")).to_have_text(
        "Au moins 1 : une place est déjà réservée (les réservations faites restent dues)."
    )
    check_page(page, "offre-stock-sous-reserve")
    quantity.fill("2")
    page.locator("#modifier-prix").fill("10")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    status_message(page, "Le stock est modifié.")
    stock = api(stack, pro, "GET", f"/pro/offers/{offer_id}")["stocks"][0]
    assert (stock["quantity"], stock["bookedQuantity"], stock["remainingQuantity"]) == (2, 1, 1)
    assert stock["priceCents"] == 1000

    # another stock
    page.locator("#ajout-prix").fill("7")
    page.locator("#ajout-quantite").fill("3")
    page.get_by_role("button", name="Ajouter le stock").click()
    status_message(page, "Le stock est ajouté.")
    expect(page.get_by_role("region", name="Stock de l'offre").locator("tbody tr")).to_have_count(2)
    check_page(page, "offre-stocks")

    # deactivation, after a confirmation; then reactivation
    page.get_by_role("button", name="Désactiver l'offre").click()
    expect(page.get_by_role("group", name="Désactiver « 1984 » ?")).to_be_visible()
    check_page(page, "offre-desactivation")
    page.get_by_role("button", name="Oui, désactiver l'offre").click()
    status_message(page, "L'offre est désactivée.")
    expect(page.locator("dl.facts")).to_contain_text("Désactivée")
    assert api(stack, pro, "GET", f"/pro/offers/{offer_id}")["isActive"] is False
    check_page(page, "offre-desactivee")

    page.goto(portal(stack, f"/offres?lieu={pro.venue_id}"))
    wait_for_heading(page, "Offres")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="1984"))
    expect(row).to_contain_text("Désactivée")
    expect(row).to_contain_text("George Orwell")
    check_page(page, "offres-liste")
    row.get_by_role("link", name="1984").click()
    wait_for_heading(page, "1984")
    page.get_by_role("button", name="Réactiver l'offre").click()
    status_message(page, "L'offre est réactivée")
    assert api(stack, pro, "GET", f"/pro/offers/{offer_id}")["isActive"] is True
    assert not errors, errors


# -- an event and a subscription card ----------------------------------------------------------------------------
def test_an_event_with_dated_stocks_and_a_free_subscription_card(stack: RunningStack, screen: Page) -> None:
    page = screen
    errors = console_errors(page)
    pro = pro_with_venue(stack)  # not validated yet: the pro prepares its offers meanwhile
    sign_in_with_token(page, stack, pro.email)
    page.goto(portal(stack, f"/offres/nouvelle?lieu={pro.venue_id}"))
    wait_for_heading(page, "Créer une offre")

    page.get_by_label("Un événement daté").check()
    page.get_by_label("Catégorie").select_option(label="Rencontre")
    name = f"Club de lecture {uuid.uuid4().hex[:6]}"
    page.get_by_label("Titre de l'offre").fill(name)
    page.get_by_role("textbox", name="Accroche").fill("On parle des classiques, autour d'un thé.")
    page.get_by_label("Réservation « duo »").check()
    today = datetime.now(PARIS).replace(hour=18, minute=30, second=0, microsecond=0)
    first, second = today + timedelta(days=12), today + timedelta(days=26)
    date_1 = page.get_by_role("group", name="Date 1")
    date_1.get_by_label("Début").fill(local_input(first))
    date_1.get_by_label("Places").fill("20")
    page.get_by_role("button", name="Ajouter une date").click()
    date_2 = page.get_by_role("group", name="Date 2")
    expect(date_2.get_by_label("Début")).to_be_focused()
    date_2.get_by_label("Début").fill(local_input(second))
    date_2.get_by_label("Fin des réservations").fill(local_input(second - timedelta(days=1)))
    date_2.get_by_label("Prix (€)").fill("5")
    check_page(page, "offre-evenement-nouvelle")
    page.get_by_role("button", name="Créer l'offre").click()
    wait_for_heading(page, name)
    status_message(page, "est créée")
    expect(page.get_by_text("Votre structure est en attente de validation")).to_be_visible()
    dates = page.get_by_role("region", name="Dates de l'événement").locator("tbody tr")
    expect(dates).to_have_count(2)
    check_page(page, "offre-evenement")
    offer_id = page.evaluate("() => new URLSearchParams(location.hash.split('?')[1]).get('id')")
    offer = api(stack, pro, "GET", f"/pro/offers/{offer_id}")
    assert (offer["subcategoryId"], offer["isDuo"], offer["status"]) == ("RENCONTRE", True, "ACTIVE")
    stocks = sorted(offer["stocks"], key=lambda stock: stock["beginningDatetime"])
    assert [(s["priceCents"], s["quantity"]) for s in stocks] == [(0, 20), (500, None)]
    assert datetime.fromisoformat(stocks[0]["beginningDatetime"]) == first
    assert stocks[1]["bookingLimitDatetime"] is not None

    # one date gets more places
    dates.first.get_by_role("button", name="Modifier").click()
    page.locator("#modifier-quantite").fill("25")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    status_message(page, "La date est modifiée.")
    assert sorted(s["quantity"] or 0 for s in api(stack, pro, "GET", f"/pro/offers/{offer_id}")["stocks"]) == [0, 25]

    # a free subscription card: a double click creates one offer only
    page.goto(portal(stack, f"/offres/nouvelle?lieu={pro.venue_id}"))
    wait_for_heading(page, "Créer une offre")
    page.get_by_label("Une carte d'abonnement gratuite").check()
    expect(page.get_by_label("Catégorie")).to_have_value("ABO_BIBLIOTHEQUE")
    card = f"Carte de la médiathèque {uuid.uuid4().hex[:6]}"
    page.get_by_label("Titre de l'offre").fill(card)
    expect(page.get_by_role("group", name="Stock").get_by_label("Prix (€)")).to_be_hidden()
    check_page(page, "offre-carte-nouvelle")
    page.get_by_role("button", name="Créer l'offre").dblclick()
    wait_for_heading(page, card)
    expect(page.get_by_role("region", name="Stock de l'offre")).to_contain_text("Gratuit")
    check_page(page, "offre-carte")
    listed = api(stack, pro, "GET", f"/venues/{pro.venue_id}/offers", params={"limit": 100})["items"]
    cards = [offer for offer in listed if offer["name"] == card]
    assert len(cards) == 1, [offer["name"] for offer in listed]
    assert (cards[0]["subcategoryId"], [(s["priceCents"], s["quantity"]) for s in cards[0]["stocks"]]) == (
        "ABO_BIBLIOTHEQUE", [(0, None)],
    )  # fmt: skip

    # a book the catalogue does not know: its title is asked
    page.goto(portal(stack, f"/offres/nouvelle?lieu={pro.venue_id}"))
    wait_for_heading(page, "Créer une offre")
    expect(page.get_by_role("textbox", name="Titre du livre")).to_be_hidden()
    page.get_by_label("EAN (ISBN) du livre").fill("978-0-306-40615-7")
    page.get_by_role("group", name="Stock").get_by_label("Prix (€)").fill("15")
    page.get_by_role("button", name="Créer l'offre").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Ce livre n'est pas dans le catalogue du pass Culture : indiquez son titre."
    )
    title = page.get_by_role("textbox", name="Titre du livre")
    expect(title).to_be_focused()
    check_page(page, "offre-livre-inconnu")
    title.fill("Un livre d'éditeur indépendant")
    page.get_by_role("button", name="Créer l'offre").click()
    wait_for_heading(page, "Un livre d'éditeur indépendant")
    assert not errors, errors
