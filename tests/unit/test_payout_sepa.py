"""The batch's SEPA file (pass_culture/payouts/sepa.py) against the pain.001.001.03 schema (tests/data, as shipped
by sepaxml), its sums, and the same bytes for the same batch."""

import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import xmlschema

from pass_culture.clock import PARIS
from pass_culture.payouts.rules import Period
from pass_culture.payouts.sepa import NAMESPACE, Debtor, Transfer, transfer_file

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent.parent / "data" / "pain.001.001.03.xsd")
DEBTOR = Debtor("pass Culture", "FR7630001007941234567890185", "BDFEFRPPCCT")
PERIOD = Period(date(2026, 11, 1), date(2026, 11, 16))
CREATED = datetime(2026, 11, 16, 2, 0, tzinfo=PARIS)
TRANSFERS = [
    Transfer("payout-1", "Librairie du Marais", "FR7630006000011234567890189", "AGRIFRPP", 1_234_56),
    Transfer("payout-2", "Médiathèque Marguerite Duras", "FR1420041010050500013M02606", "PSSTFRPPPAR", 20_00),
]


def build() -> bytes:
    return transfer_file("batch-2026-11-01", PERIOD, DEBTOR, TRANSFERS, CREATED, date(2026, 11, 17))


def test_the_file_is_a_valid_pain_001_001_03_with_one_transaction_per_account_and_its_sums() -> None:
    document = build()
    SCHEMA.validate(document.decode())
    root = ET.fromstring(document)
    names = {"p": NAMESPACE}
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", names)
    assert header is not None
    assert header.findtext("p:NbOfTxs", namespaces=names) == "2"
    assert header.findtext("p:CtrlSum", namespaces=names) == "1254.56"
    assert header.findtext("p:CreDtTm", namespaces=names) == "2026-11-16T02:00:00"
    labels = [n.text for n in root.iterfind(".//p:CdtTrfTxInf/p:RmtInf/p:Ustrd", names)]
    assert labels == ["pass Culture Pro - remboursement 1ère quinzaine 11-2026"] * 2
    amounts = [n.text for n in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", names)]
    assert amounts == ["1234.56", "20.00"]


def test_the_same_batch_gives_the_same_bytes() -> None:
    assert build() == build()
