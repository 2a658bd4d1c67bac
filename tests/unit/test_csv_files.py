"""Spreadsheet-safe CSV (pass_culture.csv_files): OWASP's CSV-injection payloads come out as text, the project's own
numbers stay numbers, and the `;` separator and quoting stay correct."""

from __future__ import annotations

import csv
import io

import pytest

from pass_culture.bookings.tracking import BookingFilters
from pass_culture.csv_files import Cell, Number, euro_cell, number_cell, spreadsheet_csv, spreadsheet_safe

OWASP_PAYLOADS = [
    '=HYPERLINK("http://x","clic")',
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "=cmd|' /C notepad'!'A1'",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",  # leading spaces some spreadsheets trim
    "\u00a0@SUM(1)",
    "＝1+1",  # full-width equals sign
    "-12,50",  # a user's text that looks like a number is still text
    "=1+1;=2+2",  # a separator inside the payload
]


@pytest.mark.parametrize("payload", OWASP_PAYLOADS)
def test_formula_starts_are_neutralised_with_a_quote(payload: str) -> None:
    assert spreadsheet_safe(payload) == "'" + payload


@pytest.mark.parametrize("text", ["Jeanne", "", "Librairie du Marais", "1+1", "a=b", "jeanne@example.org", "'=1"])
def test_plain_text_is_left_alone(text: str) -> None:
    assert spreadsheet_safe(text) == text


def test_the_project_numbers_stay_numbers() -> None:
    assert euro_cell(1290) == "12,90"
    assert euro_cell(-1250) == "-12,50"
    assert euro_cell(-5) == "-0,05"
    assert euro_cell(0) == "0,00"
    assert number_cell(-3) == "-3"
    with pytest.raises(ValueError):
        Number("=1+1")
    with pytest.raises(ValueError):
        Number("-1e3")


def test_a_csv_reads_back_cell_for_cell_with_every_formula_quoted() -> None:
    rows: list[list[Cell]] = [[payload, euro_cell(-1250), 2] for payload in OWASP_PAYLOADS]
    text = spreadsheet_csv(["Nom", "Montant", "Quantité"], rows)
    assert text.startswith("\ufeffNom;Montant;Quantité\r\n")
    read = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert read[0] == ["Nom", "Montant", "Quantité"]
    assert read[1:] == [["'" + payload, "-12,50", "2"] for payload in OWASP_PAYLOADS]
    assert '"\'=1+1;=2+2"' in text  # a cell holding the separator is quoted


def test_cells_are_text_or_numbers_only() -> None:
    with pytest.raises(TypeError):
        spreadsheet_csv(["a"], [[1.5]])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        spreadsheet_csv(["a"], [[True]])


@pytest.mark.parametrize(
    ("sent", "status"),
    [("CONFIRMED", "CONFIRMED"), ("used", "USED"), ("Reimbursed", "REIMBURSED"), (" cancelled ", "CANCELLED"),
     ("booked", "CONFIRMED"), ("validated", "USED")],
)  # fmt: skip
def test_the_status_filter_takes_the_statuses_bookings_show(sent: str, status: str) -> None:
    assert BookingFilters.model_validate({"status": sent}).status_value() == status


def test_an_unknown_status_is_refused_with_the_accepted_values() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        BookingFilters.model_validate({"status": "paid"})
    message = refused.value.errors()[0]["msg"]
    for accepted in ("CONFIRMED", "USED", "REIMBURSED", "CANCELLED"):
        assert accepted in message
