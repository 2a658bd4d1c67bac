"""The payment details CSV (pass_culture/payouts/files.py)."""

import csv
import io
from datetime import UTC, datetime

from pass_culture.payouts.files import DetailLine, payment_details_csv, rate_label

LINE = DetailLine(
    offerer_name="=HYPERLINK(\"x\")", venue_name="Librairie du Marais", siret="12345678200010", offer_name="1984",
    countermark="ABC234", used_at=datetime(2026, 11, 10, 14, 5, tzinfo=UTC), amount_cents=20_00, rule="BOOK",
    rate=9_500, reimbursed_cents=19_00,
)  # fmt: skip


def test_one_line_a_booking_with_its_rule_rate_and_reimbursed_amount_in_french_format() -> None:
    text = payment_details_csv([LINE, LINE])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][-3:] == ["Barème", "Taux de remboursement", "Montant remboursé"]
    assert rows[1][1:] == [
        "Librairie du Marais", "12345678200010", "1984", "ABC234", "10/11/2026 15:05", "20,00", "BOOK", "95 %", "19,00",
    ]  # fmt: skip
    assert rows[1][0].startswith("'=")  # a name a pro typed never becomes a formula
    assert len(rows) == 3


def test_rates_read_as_percentages() -> None:
    assert [rate_label(r) for r in (10_000, 9_500, 9_200, 9_250, 0)] == ["100 %", "95 %", "92 %", "92,5 %", "0 %"]
