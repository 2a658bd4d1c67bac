"""What a payout batch stores and passes between its steps (`batch.py` runs them):
- the batch (one per period): LISTING -> PRICING -> PAYING -> MARKING -> DONE, with its counters and its report;
- one entry per pricing point: QUEUED -> PRICED (its bookings to pay are frozen as `Line`s) -> MARKED;
- one payout per offerer and period, written once, with its files;
- the tasks the worker receives through SQS: price a point, pay the batch, mark a point's bookings REIMBURSED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict


class BatchStatus(StrEnum):
    LISTING = "LISTING"  # the pricing points are being listed
    PRICING = "PRICING"  # each point is priced by the worker
    PAYING = "PAYING"  # the files and payouts are being written
    MARKING = "MARKING"  # the paid bookings are being marked REIMBURSED
    DONE = "DONE"


class PointStatus(StrEnum):
    QUEUED = "QUEUED"
    PRICED = "PRICED"
    MARKED = "MARKED"


class Step(StrEnum):
    PRICE = "PRICE"
    PAY = "PAY"
    MARK = "MARK"


class PayoutTask(BaseModel):
    """One SQS message to the payouts worker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period_start: date
    step: Step
    point: str | None = None  # the pricing point (PRICE and MARK)
    # MARK: the point's offerer and the batch's time, so that marking reads only the point's lines
    offerer: str | None = None
    time: AwareDatetime | None = None


def payout_id(offerer_id: str, period_start: date) -> str:
    """Deterministic: a rerun of the period finds the same payout. Names its offerer, so the route's gate can check
    membership before anything is read."""
    return f"{offerer_id}-{period_start:%Y%m%d}"


def parse_payout_id(text: str) -> tuple[str, date] | None:
    offerer_id, _, day = text.rpartition("-")
    if not offerer_id or len(day) != 8 or not day.isdigit():
        return None
    try:
        return offerer_id, date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None


def end_to_end_id(offerer_id: str, period_start: date) -> str:
    """The transfer's reference on the bank statements (SEPA: at most 35 characters)."""
    return f"PC-{period_start:%Y%m%d}-{offerer_id[:20]}"


COLLECTIVE_RULE = "COLLECTIVE"  # the rule of every collective booking, and of them only


@dataclass(frozen=True)
class Line:
    """A booking a batch pays (or lists at 0), frozen when its point is priced: the files, the statement, the
    marking and `GET /pro/reimbursements/{id}/bookings` all read these, never the bookings again. A collective
    booking (rule COLLECTIVE) has no countermark: its institution's name and UAI instead."""

    booking_id: str
    venue_id: str
    venue_name: str
    offer_name: str
    countermark: str
    used_at: str  # ISO instant
    amount_cents: int
    rule: str
    rate: int  # basis points
    reimbursed_cents: int
    institution_name: str = ""
    uai: str = ""

    @property
    def collective(self) -> bool:
        return self.rule == COLLECTIVE_RULE

    def to_row(self) -> list[Any]:
        row = [
            self.booking_id, self.venue_id, self.venue_name, self.offer_name, self.countermark, self.used_at,
            self.amount_cents, self.rule, self.rate, self.reimbursed_cents,
        ]  # fmt: skip
        return [*row, self.institution_name, self.uai] if self.collective else row

    @classmethod
    def from_row(cls, row: list[Any]) -> Line:
        booking_id, venue_id, venue_name, offer_name, countermark, used_at, amount, rule, rate, reimbursed = row[:10]
        institution_name, uai = (str(row[10]), str(row[11])) if len(row) >= 12 else ("", "")
        return cls(
            str(booking_id), str(venue_id), str(venue_name), str(offer_name), str(countermark), str(used_at),
            int(amount), str(rule), int(rate), int(reimbursed), institution_name, uai,
        )  # fmt: skip

    def to_api(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "bookingId": self.booking_id, "kind": "collective" if self.collective else "individual",
            "venueId": self.venue_id, "venueName": self.venue_name, "offerName": self.offer_name,
            "token": self.countermark, "usedAt": self.used_at, "amountCents": self.amount_cents, "rule": self.rule,
            "rate": self.rate, "reimbursedCents": self.reimbursed_cents,
        }  # fmt: skip
        if self.collective:
            found |= {"token": None, "institutionName": self.institution_name, "uai": self.uai}
        return found


@dataclass(frozen=True)
class BankSnapshot:
    """The offerer's bank account as the point was priced (a later change is the next batch's)."""

    iban: str
    bic: str
    label: str
    status: str


@dataclass(frozen=True)
class PointContext:
    """What pricing a point needs besides its bookings: its venue, its offerer and the offerer's bank account."""

    point_id: str
    offerer_id: str
    offerer_name: str
    siren: str
    siret: str
    booking_email: str
    bank: BankSnapshot | None


@dataclass(frozen=True)
class PointResult(PointContext):
    """A pricing point once priced: what this batch pays for it, and what waits."""

    lines_count: int  # bookings paid (or listed at 0) by this batch
    amount_cents: int
    reimbursed_cents: int
    waiting_for_account: int  # priced, kept for a batch once the account is ACCEPTED
    waiting_for_account_cents: int
    waiting_for_event: int

    @property
    def paid_now(self) -> bool:
        return self.lines_count > 0
