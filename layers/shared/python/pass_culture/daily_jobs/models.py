"""What the daily jobs carry: a candidate (what a booking's transition needs, read from the due index's projection,
never from the booking again), the worker's message, and a run's figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import AwareDatetime, BaseModel

from pass_culture.bookings.repository import BookingRef
from pass_culture.clock import parse_instant
from pass_culture.daily_jobs.rules import DONE_FIGURE, Action, Job


class Candidate(BookingRef):
    """A booking as the due index projects it, with the entry it was read from: the write is conditioned on it."""

    due_partition: str
    due_sort: str
    event_date: AwareDatetime | None = None  # the event's start as copied at booking (the stock may have moved since)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Candidate:
        return cls(
            id=item["id"], offerer_id=item["offererId"], offer_id=item["offerId"], stock_id=item["stockId"],
            beneficiary_id=item["beneficiary"]["id"], quantity=int(item["quantity"]),
            amount_cents=int(item["amountCents"]), is_digital_capped=bool(item.get("isDigitalCapped")),
            pricing_point_venue_id=item.get("pricingPointVenueId"), due_partition=item["GSI3PK"],
            due_sort=item["GSI3SK"], event_date=parse_instant(item["eventDate"]) if item.get("eventDate") else None,
        )  # fmt: skip


class Chunk(BaseModel):
    """One SQS message to the worker: candidates of one run for one action, acted on as of the run's time."""

    job: Job
    run_key: str
    chunk_id: str
    action: Action
    time: AwareDatetime
    candidates: list[Candidate]


@dataclass
class Figures:
    """What a run (or a chunk of it) did: done per action, skipped per reason."""

    done: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def count(self, action: Action, reason: str | None) -> None:
        if reason is None:
            self.done[DONE_FIGURE[action]] += 1
        else:
            self.skipped[reason] += 1

    def add(self, other: Figures) -> None:
        self.done.update(other.done)
        self.skipped.update(other.skipped)
