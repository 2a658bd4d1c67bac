"""Collective bookings in the payouts (issue 17), pure parts: the COLLECTIVE rule from a stored collective booking, the
frozen lines (their institution, old rows still read), and their own lines of the statement."""

import io
import re
from datetime import UTC, date, datetime

from pypdf import PdfReader

from pass_culture.payouts.models import Line
from pass_culture.payouts.pricing import to_price
from pass_culture.payouts.rules import Period, PricingRule, price
from pass_culture.payouts.statement import Statement, StatementLine, statement_pdf

USED = "2026-11-05T10:00:00+00:00"
COLLECTIVE_ITEM = {
    "entity": "COLLECTIVE_BOOKING", "id": "c1", "totalPriceCents": 450_00, "usedAt": USED,
    "startDatetime": "2026-11-03T09:00:00+00:00", "subcategoryId": None,
}  # fmt: skip


def test_a_collective_booking_is_priced_whole_at_100_percent_and_counts_for_no_revenue() -> None:
    booking = to_price(COLLECTIVE_ITEM)
    assert (booking.rule, booking.amount_cents) == (PricingRule.COLLECTIVE, 450_00)
    assert booking.event_date == datetime(2026, 11, 3, 9, tzinfo=UTC)
    # far above every tier of the individual rules: still 100 %, and the year's revenue does not move
    (pricing,), revenue = price([booking], {2026: 500_000_00})
    assert (pricing.rate, pricing.reimbursed_cents, revenue) == (10_000, 450_00, {2026: 500_000_00})


def test_an_individual_booking_keeps_its_subcategorys_rule() -> None:
    item = {"id": "b1", "subcategoryId": "LIVRE_PAPIER", "amountCents": 12_50, "usedAt": USED}
    assert to_price(item).rule is PricingRule.BOOK


def test_a_collective_line_keeps_its_institution_and_old_rows_still_read() -> None:
    line = Line("c1", "v1", "Médiathèque", "Visite", "", USED, 450_00, "COLLECTIVE", 10_000, 450_00,
                "Collège Voltaire", "0751234A")  # fmt: skip
    assert Line.from_row(line.to_row()) == line
    assert line.to_api()["kind"] == "collective" and line.to_api()["token"] is None
    assert (line.to_api()["institutionName"], line.to_api()["uai"]) == ("Collège Voltaire", "0751234A")
    old = ["b1", "v1", "Librairie", "1984", "ABC234", USED, 12_50, "BOOK", 10_000, 12_50]  # written before issue 17
    read = Line.from_row(old)
    assert read.to_row() == old and read.to_api()["kind"] == "individual" and "uai" not in read.to_api()


def test_the_statement_shows_collective_bookings_in_their_own_section_after_the_individual_ones() -> None:
    at = datetime(2026, 11, 5, 10, tzinfo=UTC)
    statement = Statement(
        offerer_name="Ville de Montreuil", siren="217700486", payout_id="o-20261101",
        period=Period(date(2026, 11, 1), date(2026, 11, 16)), iban="FR7630006000011234567890189",
        bank_label="Trésor public", paid_on=date(2026, 11, 16), created_at=at,
        lines=[
            StatementLine("Médiathèque", "1984", "ABC234", at, 12_50, "BOOK", 10_000, 12_50),
            StatementLine("Médiathèque", "Visite des réserves", "Collège Voltaire (0751234A)", at, 450_00,
                          "COLLECTIVE", 10_000, 450_00, collective=True),
        ],
    )  # fmt: skip
    document = statement_pdf(statement)
    text = re.sub(r"[ \u00a0\u202f]+", " ", PdfReader(io.BytesIO(document)).pages[0].extract_text())
    individual, _, collective = text.partition("Offres collectives")
    assert "1984" in individual and "ABC234" in individual and "Visite" not in individual
    assert "Visite des réserves" in collective and "0751234A" in collective and "Établissement" in collective
    assert "Total offres collectives : 1 réservation" in collective
    assert "Total du relevé : 2 réservations" in collective
    assert statement_pdf(statement) == document  # the same bytes for the same statement
