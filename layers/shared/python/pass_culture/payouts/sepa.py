"""The batch's SEPA credit transfer file, pain.001.001.03, built with sepaxml: one transaction per bank account.

Byte for byte the same file for the same batch: sepaxml draws its message and payment-information ids at random and
stamps the creation time with the machine's clock, so those three are set from the batch (its id and its event
time) — a batch resumed after a crash writes the file a clean run writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pass_culture.clock import PARIS
from pass_culture.payouts.rules import Period

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
LABEL = "pass Culture Pro - remboursement {period}"


@dataclass(frozen=True)
class Debtor:
    """Who pays (configuration): the pass Culture's account."""

    name: str
    iban: str
    bic: str


@dataclass(frozen=True)
class Transfer:
    end_to_end_id: str  # the payment's id: what the bank statement shows back
    creditor_name: str
    iban: str
    bic: str
    amount_cents: int


def transfer_label(period: Period) -> str:
    return LABEL.format(period=period.label)


def transfer_file(
    batch_id: str, period: Period, debtor: Debtor, transfers: Sequence[Transfer], created_at: datetime, pay_on: date
) -> bytes:
    """The pain.001.001.03 document of a batch; transfers in the order given (the caller sorts them)."""
    from sepaxml import SepaTransfer

    sepa = SepaTransfer(
        {"name": debtor.name, "IBAN": debtor.iban, "BIC": debtor.bic, "batch": True, "currency": "EUR"},
        schema="pain.001.001.03",
        clean=False,  # the label keeps its "1ère" as the issue and the real platform write it; lengths cut below
    )
    for transfer in transfers:
        sepa.add_payment({
            "name": transfer.creditor_name[:70], "IBAN": transfer.iban, "BIC": transfer.bic,
            "amount": transfer.amount_cents, "execution_date": pay_on, "description": transfer_label(period),
            "endtoend_id": transfer.end_to_end_id,
        })  # fmt: skip
    document = ET.fromstring(sepa.export(validate=False))  # noqa: S314 - our own document, not input
    names = {"p": NAMESPACE}
    fixed = {
        "p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId": batch_id[:35],
        "p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm": created_at.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    for path, text in fixed.items():
        node = document.find(path, names)
        assert node is not None, path
        node.text = text
    for n, node in enumerate(document.iterfind("p:CstmrCdtTrfInitn/p:PmtInf/p:PmtInfId", names), start=1):
        node.text = f"{batch_id[:30]}-{n}"
    ET.register_namespace("", NAMESPACE)
    body: bytes = ET.tostring(document, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body
