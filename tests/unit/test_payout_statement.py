"""The payout's PDF statement (pass_culture/payouts/statement.py), read back with pypdf: what it shows, what it hides
(the IBAN), its totals worked out here from the lines, the same bytes for the same statement, and pages."""

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime

from pypdf import PdfReader

from pass_culture.accounts.rules import mask_iban
from pass_culture.clock import PARIS
from pass_culture.money import euros
from pass_culture.payouts.rules import Period
from pass_culture.payouts.statement import Statement, StatementLine, statement_pdf

IBAN_FR = "FR7630006000011234567890189"
LINES = [
    StatementLine("Librairie Générale – Œuvres", "L'Étranger", "ABC234", datetime(2026, 11, 3, 23, 30, tzinfo=UTC),
                  20_00, "BOOK", 10_000, 20_00),
    StatementLine("Cinéma Le Français", "Séance « Amélie »", "XYZ789", datetime(2026, 11, 5, 10, 0, tzinfo=UTC),
                  1_234_50, "STANDARD", 9_500, 1_172_78),
    StatementLine("Librairie Générale – Œuvres", "Bande dessinée", "DEF567", datetime(2026, 11, 14, 9, 0, tzinfo=UTC),
                  12_90, "BOOK", 10_000, 12_90),
    StatementLine("Cinéma Le Français", "Ciné-concert", "GHJ345", datetime(2026, 11, 15, 20, 0, tzinfo=UTC),
                  8_00, "NOT_REIMBURSED", 0, 0),
]  # fmt: skip
STATEMENT = Statement(
    offerer_name="Société des Éditions Réunies", siren="123456789", payout_id="payout-2026-11-1-42",
    period=Period(date(2026, 11, 1), date(2026, 11, 16)), iban=IBAN_FR, bank_label="Compte principal",
    paid_on=date(2026, 11, 17), created_at=datetime(2026, 11, 16, 2, 0, tzinfo=PARIS), lines=LINES,
)  # fmt: skip


def read(document: bytes) -> tuple[PdfReader, str]:
    """The PDF and its text, every kind of space read as one."""
    reader = PdfReader(io.BytesIO(document))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"[ \u00a0\u202f]+", " ", text)


def money(cents: int) -> str:
    return euros(cents).replace("\u202f", " ").replace("\u00a0", " ")


def test_the_statement_shows_the_offerer_the_period_the_masked_account_and_the_bookings_by_venue() -> None:
    _, text = read(statement_pdf(STATEMENT))
    assert "Relevé de remboursement pass Culture" in text
    assert "Société des Éditions Réunies" in text
    assert "SIREN : 123456789" in text
    assert "1ère quinzaine 11-2026" in text
    assert "du 01/11/2026 au 15/11/2026" in text  # the period's end is exclusive
    assert "payout-2026-11-1-42" in text
    assert "payé le 17/11/2026" in text
    assert "Compte principal" in text
    assert mask_iban(IBAN_FR) in text
    assert "Librairie Générale – Œuvres" in text
    assert "Séance « Amélie »" in text
    assert "04/11/2026" in text  # validated at 23:30 UTC: the 4th in Paris
    assert "95 %" in text
    assert "92,5 %" not in text


def test_the_statement_never_shows_the_full_iban() -> None:
    _, text = read(statement_pdf(STATEMENT))
    compact = text.replace(" ", "")
    assert IBAN_FR not in compact
    assert IBAN_FR[4:-3] not in compact


def test_each_venue_and_the_statement_add_up_to_their_lines() -> None:
    _, text = read(statement_pdf(STATEMENT))
    for venue in {line.venue_name for line in LINES}:
        lines = [line for line in LINES if line.venue_name == venue]
        price = money(sum(line.amount_cents for line in lines))
        reimbursed = money(sum(line.reimbursed_cents for line in lines))
        assert f"Total {venue} : {len(lines)} réservations {price} {reimbursed}" in text
    price = money(sum(line.amount_cents for line in LINES))
    reimbursed = money(sum(line.reimbursed_cents for line in LINES))
    assert f"Total du relevé : {len(LINES)} réservations {price} {reimbursed}" in text
    assert f"payé le 17/11/2026 : {reimbursed}" in text
    assert "€" in reimbursed


def test_the_same_statement_gives_the_same_bytes_and_the_batch_time_as_creation_date() -> None:
    document = statement_pdf(STATEMENT)
    assert document == statement_pdf(STATEMENT)
    assert b"/CreationDate (D:20261116020000+01'00')" in document
    later = statement_pdf(replace(STATEMENT, created_at=datetime(2026, 11, 16, 3, 0, tzinfo=PARIS)))
    assert later != document


def test_thousands_of_bookings_run_over_numbered_pages() -> None:
    lines = [
        replace(LINES[n % 4], countermark=f"CM{n:05d}", offer_name=f"Offre {n}") for n in range(3_000)
    ]  # fmt: skip
    reader, text = read(statement_pdf(replace(STATEMENT, lines=lines)))
    pages = len(reader.pages)
    assert pages > 10
    assert "Page 1/" in reader.pages[0].extract_text()
    assert f"Page {pages}/{pages}" in reader.pages[-1].extract_text()
    assert all(f"CM{n:05d}" in text for n in range(3_000))
    assert f"Total du relevé : 3000 réservations {money(sum(line.amount_cents for line in lines))}" in text


def test_long_names_and_characters_the_fonts_lack_are_drawn_not_a_crash() -> None:
    lines = [
        replace(LINES[0], offer_name="Une très longue offre " * 25),  # 550 characters with spaces
        replace(LINES[1], offer_name="x" * 500, countermark="C" * 200),  # no space to wrap at
        replace(LINES[2], venue_name="Lieu " + "é" * 500, offer_name="Tab\tnew\nline 🎉 Łódź Ő\u200b"),
    ]
    reader, text = read(statement_pdf(replace(STATEMENT, offerer_name="Ærø ☃ " * 100, lines=lines)))
    assert len(reader.pages) == 1
    assert "Une très longue offre" in text
    assert "Ærø" in text
    assert "Tab new line ? ?ódz O" in text  # not in windows-1252: without its marks (ź), else "?" (🎉, Ł)
