"""The counter (guichet) and the bookings follow-up (suivi des réservations) in the browser, as a pro uses them: a
young person books an offer of the pro's venue through the API; at the counter the pro types the countermark (in
lower case), validates it, undoes, validates again, and meets the refusals in French; the bookings list shows it,
filters narrow it, and the CSV export downloads a file with its row.

Every test makes its own pro, offerer and venue (the stack is shared by the whole browser session): the failed
look-ups a test makes count against its own offerer only."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Page, expect

from pass_culture.clock import paris_date
from tests.browser.conftest import check_page, console_errors, portal, sign_in_with_token, wait_for_heading
from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import luhn_complete, new_user
from tests.e2e.test_bookings_flow import auth, bookshop_offer
from tests.e2e.test_daily_jobs_flow import young_person

ADMIN = "admin@passculture.local"


@dataclass(frozen=True)
class Pro:
    email: str
    headers: dict[str, str]
    offerer_id: str
    offerer_name: str
    venue_id: str


def new_pro(stack: RunningStack) -> Pro:
    """A pro of a fresh offerer (validated by the admin: its offers are bookable) with one venue that has a SIRET."""
    email, token = new_user(stack, "pro")
    pro = auth(token)
    siren = luhn_complete(str(uuid.uuid4().int)[:8])
    name = f"Librairie {uuid.uuid4().hex[:6]}"
    offerer = requests.post(f"{stack.url}/offerers", json={"siren": siren, "name": name}, headers=pro, timeout=10)
    assert offerer.status_code == 201, offerer.text
    offerer_id = offerer.json()["id"]
    validated = requests.post(
        f"{stack.url}/admin/offerers/{offerer_id}/validate", headers=auth(stack.login(ADMIN)), timeout=10
    )
    assert validated.status_code == 200, validated.text
    venue = {
        "name": name, "siret": luhn_complete(siren + "0001"), "address": "3 rue des Rosiers", "postalCode": "75004",
        "city": "Paris", "latitude": 48.857, "longitude": 2.358, "bookingEmail": f"resa-{siren}@librairie.example",
    }  # fmt: skip
    created = requests.post(f"{stack.url}/offerers/{offerer_id}/venues", json=venue, headers=pro, timeout=10)
    assert created.status_code == 201, created.text
    return Pro(email, pro, offerer_id, name, created.json()["id"])


def new_offer(
    stack: RunningStack,
    pro: Pro,
    name: str,
    price_cents: int,
    subcategory: str = "SUPPORT_PHYSIQUE_FILM",
    beginning: datetime | None = None,
) -> str:
    """An offer of the pro's venue with one stock of 10 places: the stock's id."""
    offer = requests.post(
        f"{stack.url}/offers", json={"venueId": pro.venue_id, "subcategoryId": subcategory, "name": name},
        headers=pro.headers, timeout=10,
    )  # fmt: skip
    assert offer.status_code == 201, offer.text
    stock_body: dict[str, Any] = {"priceCents": price_cents, "quantity": 10}
    if beginning is not None:
        stock_body["beginningDatetime"] = beginning.isoformat()
    stock = requests.post(
        f"{stack.url}/offers/{offer.json()['id']}/stocks", json=stock_body, headers=pro.headers, timeout=10
    )
    assert stock.status_code == 201, stock.text
    return str(stock.json()["id"])


def book(stack: RunningStack, young: str, stock_id: str) -> dict[str, Any]:
    booked = requests.post(
        f"{stack.url}/bookings", json={"stockId": stock_id, "quantity": 1}, headers=auth(young), timeout=10
    )
    assert booked.status_code == 201, booked.text
    return dict(booked.json())


def recorded_status(stack: RunningStack, pro: Pro, token: str) -> str:
    """The booking's status as the API records it (the pro's bookings list)."""
    items = requests.get(
        f"{stack.url}/pro/bookings", params={"offererId": pro.offerer_id, "limit": "100"}, headers=pro.headers,
        timeout=10,
    ).json()["items"]  # fmt: skip
    return str(next(item["status"] for item in items if item["token"] == token))


def validate(stack: RunningStack, pro: Pro, token: str) -> None:
    used = requests.patch(f"{stack.url}/v2/bookings/use/token/{token}", headers=pro.headers, timeout=10)
    assert used.status_code == 204, used.text


def paris_text(page: Page, instant: str) -> str:
    """An instant as the portal writes it (ui.js formatDateTime: Intl fr-FR, Europe/Paris)."""
    return str(
        page.evaluate(
            """(iso) => new Intl.DateTimeFormat("fr-FR", {dateStyle: "medium", timeStyle: "short",
                timeZone: "Europe/Paris"}).format(new Date(iso))""",
            instant,
        )
    )


def signed_in(page: Page, stack: RunningStack, email: str, path: str) -> None:
    """The pro signed in, on `path`. The sign-in page is let finish loading first: its late rendering would otherwise
    replace the page asked for (app.js renders each navigation as its module arrives)."""
    sign_in_with_token(page, stack, email)
    page.wait_for_load_state("networkidle")
    page.goto(portal(stack, path))


def open_counter(page: Page, stack: RunningStack, pro: Pro) -> None:
    signed_in(page, stack, pro.email, "/guichet")
    wait_for_heading(page, "Guichet")


def look_up(page: Page, typed: str) -> None:
    page.get_by_label("Contremarque").fill(typed)
    page.get_by_role("button", name="Rechercher la contremarque").click()


def new_countermark(page: Page) -> None:
    page.get_by_role("button", name="Nouvelle contremarque").click()


def too_many_attempts(page: Page, stack: RunningStack, pro: Pro, unknown: str) -> None:
    """Guessing: the offerer's failed look-ups reach their limit (10 a minute), the page says how long to wait. Last
    in a test: the pro's offerer stays blocked for a minute."""
    for _ in range(10):
        requests.get(f"{stack.url}/v2/bookings/token/{unknown}", headers=pro.headers, timeout=10)
    look_up(page, unknown)
    expect(page.get_by_role("alert")).to_contain_text("Trop de contremarques inconnues en peu de temps : patientez")
    check_page(page, "guichet-trop-de-tentatives")


def test_the_counter_validates_undoes_and_refuses_in_french(stack: RunningStack, desktop: Page) -> None:
    page = desktop
    errors = console_errors(page)
    pro = new_pro(stack)
    _, young = young_person(stack)
    name = f"Coffret {uuid.uuid4().hex[:6]}"
    token = book(stack, young, new_offer(stack, pro, name, 12_50))["token"]
    event_start = datetime.now(UTC) + timedelta(days=10)
    early = book(stack, young, new_offer(stack, pro, f"Rencontre {uuid.uuid4().hex[:6]}", 0, "RENCONTRE", event_start))

    _, bookshop_stock = bookshop_offer(stack, f"Poster {uuid.uuid4().hex[:6]}", 5_00, 3)
    others = book(stack, young, bookshop_stock)["token"]

    open_counter(page, stack, pro)
    field = page.get_by_label("Contremarque")
    expect(field).to_have_attribute("autocomplete", "off")
    check_page(page, "guichet")

    look_up(page, token.lower())  # countermarks are looked up whatever the case
    card = page.locator(".counter-booking")
    expect(card.get_by_role("heading", level=2)).to_have_text(f"Contremarque {token}")
    for shown in (name, "Inès Lecture", "1 place", "12,50 €", "Réservée — à valider"):
        expect(card).to_contain_text(shown)
    check_page(page, "guichet-reservation")

    card.get_by_role("button", name="Valider la contremarque").click()
    expect(page.get_by_role("status").filter(has_text="Contremarque validée")).to_be_visible()
    expect(card).to_contain_text("Validée")
    assert recorded_status(stack, pro, token) == "USED"
    check_page(page, "guichet-validee")

    card.get_by_role("button", name="Annuler la validation").click()
    expect(page.get_by_role("status").filter(has_text="Validation annulée")).to_be_visible()
    expect(card).to_contain_text("Réservée — à valider")
    assert recorded_status(stack, pro, token) == "CONFIRMED"

    card.get_by_role("button", name="Valider la contremarque").click()
    expect(page.get_by_role("status").filter(has_text="Contremarque validée")).to_be_visible()
    assert recorded_status(stack, pro, token) == "USED"

    new_countermark(page)
    expect(field).to_be_focused()
    look_up(page, token)  # already validated: 410, said in French, and the validation can be undone from there
    expect(page.get_by_role("alert")).to_have_text("Cette contremarque a déjà été validée.")
    expect(page.get_by_role("button", name="Annuler la validation")).to_be_visible()
    check_page(page, "guichet-deja-validee")
    page.get_by_role("button", name="Annuler la validation").click()
    expect(page.get_by_role("status").filter(has_text="Validation annulée")).to_be_visible()
    expect(card).to_contain_text(name)
    assert recorded_status(stack, pro, token) == "CONFIRMED"

    new_countermark(page)
    look_up(page, others)  # a booking of another offerer (the seeded bookshop's)
    expect(page.get_by_role("alert")).to_have_text(
        "Cette contremarque concerne une offre d'une autre structure : vous ne pouvez pas la valider."
    )

    unknown = "ZZZZZ2" if token != "ZZZZZ2" else "ZZZZZ3"
    new_countermark(page)
    look_up(page, unknown)
    expect(page.get_by_role("alert")).to_have_text("Contremarque inconnue : vérifiez les 6 caractères saisis.")
    check_page(page, "guichet-inconnue")

    new_countermark(page)
    look_up(page, early["token"])  # an event inside its cancellation window: validable later, from when it says
    when = paris_text(page, early["cancellationLimitDate"])
    expect(page.get_by_role("alert")).to_have_text(
        f"Cette contremarque pourra être validée à partir du {when}, une fois le délai d'annulation passé."
    )
    check_page(page, "guichet-trop-tot")

    new_countermark(page)
    look_up(page, "ab1")  # not a countermark: said beside the field, no look-up spent
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_text(
        "Une contremarque compte 6 caractères : des lettres (sans I ni O) et des chiffres de 2 à 7."
    )
    assert recorded_status(stack, pro, early["token"]) == "CONFIRMED"
    too_many_attempts(page, stack, pro, unknown)
    assert not errors, errors


def test_the_counter_on_a_phone_reads_the_qr_code_with_the_camera(stack: RunningStack, phone: Page) -> None:
    """Chromium on Linux has no BarcodeDetector: the test gives the page one that reads the young person's QR payload
    (domain.md `PASSCULTURE:v3;TOKEN:<token>`) from a camera stream drawn on a canvas."""
    page = phone
    errors = console_errors(page)
    pro = new_pro(stack)
    _, young = young_person(stack)
    name = f"Affiche {uuid.uuid4().hex[:6]}"
    booking = book(stack, young, new_offer(stack, pro, name, 7_00))
    assert booking["qrCode"] == f"PASSCULTURE:v3;TOKEN:{booking['token']}"
    page.add_init_script(
        """((payload) => {
          window.BarcodeDetector = class {
            static async getSupportedFormats() { return ["qr_code"]; }
            async detect() { return [{ format: "qr_code", rawValue: payload }]; }
          };
          navigator.mediaDevices.getUserMedia = async () => {
            const canvas = Object.assign(document.createElement("canvas"), { width: 320, height: 240 });
            const context = canvas.getContext("2d");
            setInterval(() => { context.fillStyle = "#" + Math.floor(Math.random() * 4095).toString(16);
              context.fillRect(0, 0, 320, 240); }, 50);
            return canvas.captureStream(10);
          };
        })(PAYLOAD);""".replace("PAYLOAD", json.dumps(booking["qrCode"]))
    )
    open_counter(page, stack, pro)
    check_page(page, "guichet")
    page.get_by_role("button", name="Scanner le QR code").click()
    card = page.locator(".counter-booking")
    expect(card.get_by_role("heading", level=2)).to_have_text(f"Contremarque {booking['token']}")
    expect(card).to_contain_text(name)
    expect(page.locator("video")).to_have_count(0)  # the camera is stopped once the countermark is read
    check_page(page, "guichet-reservation")
    card.get_by_role("button", name="Valider la contremarque").click()
    expect(page.get_by_role("status").filter(has_text="Contremarque validée")).to_be_visible()
    check_page(page, "guichet-validee")
    assert recorded_status(stack, pro, booking["token"]) == "USED"

    new_countermark(page)
    look_up(page, booking["qrCode"].lower())  # what a hand-held QR scanner types into the field
    expect(page.get_by_role("alert")).to_have_text("Cette contremarque a déjà été validée.")
    check_page(page, "guichet-deja-validee")
    new_countermark(page)
    unknown = "ZZZZZ2" if booking["token"] != "ZZZZZ2" else "ZZZZZ3"
    look_up(page, unknown)
    expect(page.get_by_role("alert")).to_contain_text("Contremarque inconnue")
    check_page(page, "guichet-inconnue")

    new_countermark(page)
    event_start = datetime.now(UTC) + timedelta(days=5)
    early = book(
        stack, young, new_offer(stack, pro, f"Atelier {uuid.uuid4().hex[:6]}", 3_00, "CONFERENCE", event_start)
    )
    look_up(page, early["token"])
    expect(page.get_by_role("alert")).to_contain_text("Cette contremarque pourra être validée à partir du")
    check_page(page, "guichet-trop-tot")
    new_countermark(page)
    too_many_attempts(page, stack, pro, unknown)
    assert not errors, errors


def rows(page: Page) -> list[str]:
    return list(page.locator("table tbody tr").all_inner_texts())


def show_bookings(page: Page) -> None:
    page.get_by_role("button", name="Afficher les réservations").click()
    page.wait_for_load_state("networkidle")


def test_the_bookings_list_filters_pages_and_exports_csv(stack: RunningStack, desktop: Page, phone: Page) -> None:
    pro = new_pro(stack)
    _, young = young_person(stack)
    _, other_young = young_person(stack)
    suffix = uuid.uuid4().hex[:6]
    used_name, waiting_name, event_name = f"Roman {suffix}", f"Bande dessinée {suffix}", f"Lecture {suffix}"
    used = book(stack, young, new_offer(stack, pro, used_name, 9_90))
    validate(stack, pro, used["token"])
    waiting = book(stack, young, new_offer(stack, pro, waiting_name, 15_00))
    event_day = (datetime.now(UTC) + timedelta(days=12)).replace(hour=16, minute=0, second=0, microsecond=0)
    event = book(stack, other_young, new_offer(stack, pro, event_name, 0, "RENCONTRE", event_day))
    cancelled = requests.post(f"{stack.url}/bookings/{event['id']}/cancel", headers=auth(other_young), timeout=10)
    assert cancelled.status_code == 200, cancelled.text

    page = desktop
    errors = console_errors(page)
    signed_in(page, stack, pro.email, "/reservations")
    wait_for_heading(page, "Suivi des réservations")
    table = page.get_by_role("table", name=f"Réservations de {pro.offerer_name}, page 1")
    expect(table.locator("tbody tr")).to_have_count(3)
    used_row = table.locator("tbody tr", has_text=used["token"])
    expect(used_row).to_contain_text("Validée")
    expect(used_row).to_contain_text("9,90 €")
    expect(table.locator("tbody tr", has_text=waiting["token"])).to_contain_text("Réservée")
    expect(table.locator("tbody tr", has_text=event["token"])).to_contain_text("Annulée")
    expect(table.locator("tbody tr", has_text=event["token"])).to_contain_text("Gratuit")
    check_page(page, "reservations")

    page.get_by_label("Statut").select_option(label="Validée")
    show_bookings(page)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(used["token"])

    page.get_by_label("Statut").select_option("")
    page.get_by_label("Offre").select_option(label=waiting_name)
    show_bookings(page)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(waiting["token"])

    page.get_by_label("Offre").select_option("")
    page.get_by_label("Jour de l'évènement").fill(paris_date(event_day).isoformat())
    show_bookings(page)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(event["token"])

    page.get_by_label("Jour de l'évènement").fill("")
    page.get_by_label("Du").fill("2020-01-10")
    page.get_by_label("Au").fill("2020-01-01")
    show_bookings(page)  # a period that ends before it starts: said beside the field
    expect(page.get_by_label("Au")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Au").fill("2020-01-31")
    show_bookings(page)
    expect(page.get_by_text("Aucune réservation ne correspond à ces filtres.")).to_be_visible()
    check_page(page, "reservations-aucune")

    page.get_by_role("button", name="Effacer les filtres").click()
    expect(table.locator("tbody tr")).to_have_count(3)
    page.get_by_label("Statut").select_option(label="Validée")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger le fichier CSV").click()
    download = download_info.value
    assert download.suggested_filename == "reservations.csv"
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = content.splitlines()
    assert lines[0].startswith("Lieu;Nom de l'offre;")
    assert [line for line in lines[1:] if used["token"] in line] and used_name in content and "validé" in content
    assert waiting["token"] not in content  # the export takes the page's filters
    expect(page.get_by_role("status").filter(has_text="reservations.csv")).to_be_visible()
    assert not errors, errors

    signed_in(phone, stack, pro.email, "/reservations")
    wait_for_heading(phone, "Suivi des réservations")
    expect(phone.locator("table tbody tr")).to_have_count(3)
    check_page(phone, "reservations")
    phone.get_by_label("Statut").select_option(label="Remboursée")
    show_bookings(phone)
    expect(phone.get_by_text("Aucune réservation ne correspond à ces filtres.")).to_be_visible()
    check_page(phone, "reservations-aucune")


def test_the_bookings_list_shows_collective_bookings_with_the_type_filter(stack: RunningStack, desktop: Page) -> None:
    from tests.e2e.test_collective_flow import institution, later, member

    pro = new_pro(stack)
    admin = stack.login(ADMIN)
    uai = institution(stack, admin, budget_cents=None)
    _, teacher = member(stack, admin, uai, "teacher")
    name = f"Visite des réserves {uuid.uuid4().hex[:6]}"
    offer = requests.post(f"{stack.url}/collective-offers", headers=pro.headers, timeout=10, json={
        "venueId": pro.venue_id, "subcategoryId": "VISITE", "name": name, "students": ["COLLEGE_6E"],
        "domains": ["UNIVERS_DU_LIVRE"], "contactEmail": "mediation@librairie.example",
    })  # fmt: skip
    assert offer.status_code == 201, offer.text
    stock = requests.put(f"{stack.url}/collective-offers/{offer.json()['id']}/stock", headers=pro.headers, timeout=10,
                         json={"startDatetime": later(30), "bookingLimitDatetime": later(20), "numberOfStudents": 24,
                               "totalPriceCents": 120_00})  # fmt: skip
    assert stock.status_code == 200, stock.text
    booked = requests.post(f"{stack.url}/collective-bookings", json={"collectiveStockId": stock.json()["id"]},
                           headers=auth(teacher), timeout=10)  # fmt: skip
    assert booked.status_code == 201, booked.text

    page = desktop
    errors = console_errors(page)
    signed_in(page, stack, pro.email, "/reservations")
    wait_for_heading(page, "Suivi des réservations")
    expect(page.get_by_text("Aucune réservation pour le moment.")).to_be_visible()  # individual ones by default
    page.get_by_label("Type").select_option(label="Collectives")
    expect(page.get_by_label("Offre", exact=True)).to_be_disabled()
    show_bookings(page)
    table = page.get_by_role("table", name=f"Réservations collectives de {pro.offerer_name}, page 1")
    expect(table.locator("tbody tr")).to_have_count(1)
    row = table.locator("tbody tr")
    for text in (name, "Collège Jean-Zay", f"UAI {uai}", "24", "120,00 €", "Préréservée"):
        expect(row).to_contain_text(text)
    expect(table.get_by_role("columnheader", name="Établissement")).to_be_visible()
    check_page(page, "reservations-collectives")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger le fichier CSV").click()
    content = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert "Collège Jean-Zay" in content and uai in content and name in content
    assert not errors, errors


def test_the_bookings_list_goes_page_by_page(stack: RunningStack, desktop: Page, phone: Page) -> None:
    """21 bookings: 20 on the first page, the 21st on the next (the API's cursor), and back."""
    pro = new_pro(stack)
    _, young = young_person(stack)
    suffix = uuid.uuid4().hex[:6]
    tokens = [book(stack, young, new_offer(stack, pro, f"DVD {suffix} {n}", 0))["token"]
              for n in range(21)]  # fmt: skip
    page = desktop
    signed_in(page, stack, pro.email, "/reservations")
    wait_for_heading(page, "Suivi des réservations")
    expect(page.locator("table tbody tr")).to_have_count(20)
    expect(page.get_by_role("button", name="Page précédente")).to_have_count(0)
    page.get_by_role("button", name="Page suivante").click()
    expect(page.get_by_role("table", name=f"Réservations de {pro.offerer_name}, page 2")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table")).to_contain_text(tokens[0])  # newest first: the first booked is last
    expect(page.get_by_role("button", name="Page suivante")).to_have_count(0)
    check_page(page, "reservations-page-2")
    page.get_by_role("button", name="Page précédente").click()
    expect(page.locator("table tbody tr")).to_have_count(20)
    assert set(rows(page)) and all(any(t in row for t in tokens[1:]) for row in rows(page))

    signed_in(phone, stack, pro.email, "/reservations")
    phone.get_by_role("button", name="Page suivante").click()
    expect(phone.get_by_role("table", name=f"Réservations de {pro.offerer_name}, page 2")).to_be_visible()
    check_page(phone, "reservations-page-2")
