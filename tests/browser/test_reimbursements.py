"""The reimbursements page in the browser: the pro enters bank details (a bad IBAN is refused beside its field, a good
one is PENDING), the admin accepts them, the payout job runs after the period (time travel, as tests/e2e does), and
the page lists the payout with its amount, its statement (PDF) and CSV links that answer, and the bookings it paid.

The payout job pays every accepted account's validated bookings of the period, once: this is the browser session's
only payout run, and it works on an offerer of its own."""

from __future__ import annotations

import uuid
from datetime import timedelta

import requests
from playwright.sync_api import Page, expect

from pass_culture.clock import SystemClock, paris_date, paris_midnight
from tests.browser.conftest import check_page, console_errors, wait_for_heading
from tests.browser.test_counter_bookings import ADMIN, book, new_offer, new_pro, signed_in, validate
from tests.e2e.conftest import RunningStack
from tests.e2e.test_bookings_flow import auth
from tests.e2e.test_daily_jobs_flow import run_job, young_person
from tests.e2e.test_payouts_flow import next_payout_day, wait_for_payout

GOOD_IBAN = "FR76 3000 6000 0112 3456 7890 189"
BAD_IBAN = "FR76 3000 6000 0112 3456 7890 180"  # one digit off: the checksum fails


def open_reimbursements(page: Page, stack: RunningStack, email: str) -> None:
    signed_in(page, stack, email, "/remboursements")
    wait_for_heading(page, "Remboursements")
    page.wait_for_load_state("networkidle")


def fill_bank_details(page: Page, iban: str, bic: str, label: str) -> None:
    page.get_by_label("IBAN").fill(iban)
    page.get_by_label("BIC").fill(bic)
    page.get_by_label("Libellé du compte").fill(label)
    page.get_by_role("button", name="Enregistrer les coordonnées bancaires").click()


def enter_bank_details(page: Page) -> None:
    """A bad IBAN, then a bad BIC, each refused beside its field; then good details, PENDING (every state reviewed)."""
    fill_bank_details(page, BAD_IBAN, "AGRIFRPPXXX", "Compte librairie")
    iban = page.get_by_label("IBAN")
    expect(iban).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error").filter(has_text="IBAN")).to_have_text(
        "Cet IBAN n'est pas valide : vérifiez-le (en France, 27 caractères commençant par FR76)."
    )
    expect(iban).to_be_focused()
    check_page(page, "remboursements-iban-invalide")

    fill_bank_details(page, GOOD_IBAN, "AGRIFRPPXX", "Compte librairie")  # a BIC of 10 characters: refused
    expect(page.get_by_label("BIC")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("IBAN")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error").filter(has_text="BIC")).to_have_text(
        "Ce BIC n'est pas valide : il compte 8 ou 11 caractères, par exemple AGRIFRPPXXX."
    )
    check_page(page, "remboursements-bic-invalide")

    fill_bank_details(page, GOOD_IBAN, "AGRIFRPP", "Compte librairie")  # a BIC of 8 characters is valid
    expect(page.get_by_role("status").filter(has_text="Coordonnées bancaires enregistrées")).to_be_visible()
    details = page.locator("section", has=page.get_by_role("heading", name="Coordonnées bancaires"))
    expect(details).to_contain_text("En attente de validation")
    expect(details).to_contain_text("FR76" + "•" * 19 + "0189")  # masked as the API answers it
    expect(details).to_contain_text("Compte librairie")
    assert "1234567890189" not in page.content()
    expect(page.get_by_label("IBAN")).to_have_value("")  # the form is emptied: the account is never shown in full
    check_page(page, "remboursements-en-attente")


def test_bank_details_then_a_payout_with_its_documents_and_bookings(
    stack: RunningStack, desktop: Page, phone: Page
) -> None:
    pro = new_pro(stack)
    _, young = young_person(stack)
    name = f"Coffret {uuid.uuid4().hex[:6]}"
    booking = book(stack, young, new_offer(stack, pro, name, 8_00))
    validate(stack, pro, booking["token"])

    page = desktop
    errors = console_errors(page)
    for size in (desktop, phone):
        open_reimbursements(size, stack, pro.email)
        expect(size.get_by_text("Aucun remboursement pour le moment")).to_be_visible()
        check_page(size, "remboursements")
        enter_bank_details(size)

    admin = auth(stack.login(ADMIN))
    accepted = requests.post(f"{stack.url}/admin/offerers/{pro.offerer_id}/bank-account/accept", headers=admin,
                             timeout=10)  # fmt: skip
    assert accepted.json()["status"] == "ACCEPTED"
    run_day = next_payout_day(paris_date(SystemClock().now()))
    report = run_job(stack, "payouts", paris_midnight(run_day) + timedelta(hours=2))
    payout = wait_for_payout(stack, pro.headers, pro.offerer_id, report["periodStart"])

    page.reload()
    wait_for_heading(page, "Remboursements")
    table = page.get_by_role("table", name=f"Remboursements de {pro.offerer_name}")
    row = table.locator("tbody tr", has_text=payout["period"]["label"])
    expect(row).to_contain_text("8,00 €")
    expect(row).to_contain_text("Virement envoyé")
    expect(row).to_contain_text("Compte librairie")
    check_page(page, "remboursements-virements")

    statement = row.get_by_role("link", name="Relevé (PDF)")
    csv_link = row.get_by_role("link", name="Détail (CSV)")
    pdf = page.request.get(str(statement.get_attribute("href")))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    lines = page.request.get(str(csv_link.get_attribute("href")))
    assert lines.status == 200 and booking["token"] in lines.body().decode("utf-8-sig")
    with page.expect_download() as download_info:
        csv_link.click()
    assert download_info.value.suggested_filename == f"detail-remboursement-{payout['period']['start']}.csv"

    row.get_by_role("button", name="Voir les réservations").click()
    detail = page.get_by_role("table", name=f"Réservations du remboursement {payout['period']['label']}")
    line = detail.locator("tbody tr", has_text=booking["token"])
    for shown in (name, "Standard", "100 %", "8,00 €"):
        expect(line).to_contain_text(shown)
    expect(page.get_by_role("heading", level=3, name=f"Réservations remboursées — {payout['period']['label']}")) \
        .to_be_focused()  # fmt: skip
    check_page(page, "remboursements-detail")
    assert not errors, errors

    open_reimbursements(phone, stack, pro.email)
    expect(phone.get_by_role("table", name=f"Remboursements de {pro.offerer_name}")).to_contain_text("8,00 €")
    check_page(phone, "remboursements-virements")
    phone.get_by_role("button", name=f"Voir les réservations — {payout['period']['label']}").click()
    expect(phone.get_by_role("table", name=f"Réservations du remboursement {payout['period']['label']}")) \
        .to_contain_text(booking["token"])  # fmt: skip
    check_page(phone, "remboursements-detail")
