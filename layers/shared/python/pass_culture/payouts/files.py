"""The batch's payment details CSV: one line a priced booking (`csv_files` writes it: `;`, UTF-8 with a BOM, no cell
a pro typed can become a formula). Its reimbursed total per bank account is what the SEPA file pays. A collective
booking (rule COLLECTIVE, after an offerer's individual ones) has no countermark: its institution's name and UAI."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pass_culture.clock import PARIS
from pass_culture.csv_files import Cell, euro_cell, spreadsheet_csv

DETAILS_COLUMNS = [
    "Structure", "Lieu", "SIRET du lieu", "Offre", "Contremarque ou établissement (UAI)", "Date de validation",
    "Prix de la réservation", "Barème", "Taux de remboursement", "Montant remboursé",
]  # fmt: skip


@dataclass(frozen=True)
class DetailLine:
    offerer_name: str
    venue_name: str
    siret: str  # the venue's, else its pricing point's
    offer_name: str
    countermark: str  # a collective booking's: its institution, `Name (UAI)`
    used_at: datetime
    amount_cents: int
    rule: str
    rate: int  # basis points
    reimbursed_cents: int


def rate_label(basis_points: int) -> str:
    """9500 → `95 %`, 9250 → `92,5 %`."""
    whole, part = divmod(basis_points, 100)
    return f"{whole} %" if part == 0 else f"{whole},{part:02d}".rstrip("0") + " %"


def payment_details_csv(lines: Iterable[DetailLine]) -> str:
    return spreadsheet_csv(DETAILS_COLUMNS, (_row(line) for line in lines))


def _row(line: DetailLine) -> list[Cell]:
    return [
        line.offerer_name, line.venue_name, line.siret, line.offer_name, line.countermark,
        line.used_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"), euro_cell(line.amount_cents), line.rule,
        rate_label(line.rate), euro_cell(line.reimbursed_cents),
    ]  # fmt: skip
