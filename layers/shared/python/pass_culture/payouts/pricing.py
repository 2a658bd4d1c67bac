"""Pricing a pricing point for a period (the first step of a payout batch): its USED bookings validated before the
period's end — an event booking once its event has taken place, a free one at 0 — priced in order against the
point's yearly revenue, stored once. Collective bookings (USED 48 h after their event) are in the same payable list,
priced by the COLLECTIVE rule. A booking priced by an earlier run keeps its pricing; a rerun or a resumed run
prices only what is left, so nothing is counted twice in the revenue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pass_culture.clock import parse_instant
from pass_culture.payouts.repository import PayoutsRepository, stored_pricing
from pass_culture.payouts.rules import Period, Pricing, PricingRule, ToPrice, price
from pass_culture.subcategories import BY_ID

COLLECTIVE_ENTITY = "COLLECTIVE_BOOKING"  # the payable list holds individual and collective bookings


@dataclass
class PricedPoint:
    pricing_point_id: str
    new: list[Pricing] = field(default_factory=list)
    new_items: dict[str, dict[str, Any]] = field(default_factory=dict)  # the bookings priced now, by id
    earlier: list[dict[str, Any]] = field(default_factory=list)  # bookings priced by an earlier run, with pricing
    waiting_for_event: list[str] = field(default_factory=list)  # booking ids: their event has not taken place


def to_price(item: dict[str, Any]) -> ToPrice:
    if item.get("entity") == COLLECTIVE_ENTITY:  # a collective booking: the group's total price, its event's start
        return ToPrice(
            booking_id=str(item["id"]), rule=PricingRule.COLLECTIVE, amount_cents=int(item["totalPriceCents"]),
            used_at=parse_instant(str(item["usedAt"])), event_date=parse_instant(str(item["startDatetime"])),
        )  # fmt: skip
    subcategory = BY_ID[str(item["subcategoryId"])]
    return ToPrice(
        booking_id=str(item["id"]), rule=subcategory.reimbursement_rule, amount_cents=int(item["amountCents"]),
        used_at=parse_instant(str(item["usedAt"])),
        event_date=parse_instant(str(item["eventDate"])) if item.get("eventDate") else None,
    )  # fmt: skip


class Pricer:
    def __init__(self, repository: PayoutsRepository) -> None:
        self._repository = repository

    def price_point(
        self, pricing_point_id: str, period: Period, at: datetime, payout: str | None = None
    ) -> PricedPoint:
        """With `payout`, the bookings priced now are taken by it in the same writes."""
        result = PricedPoint(pricing_point_id)
        fresh: list[ToPrice] = []
        for item in self._repository.payable(pricing_point_id, period.ends_at):
            if stored_pricing(item) is not None:
                result.earlier.append(item)
                continue
            booking = to_price(item)
            if booking.event_date is not None and booking.event_date >= period.ends_at:
                result.waiting_for_event.append(booking.booking_id)
                continue
            fresh.append(booking)
            result.new_items[booking.booking_id] = item
        if not fresh:
            return result
        years = sorted(
            {booking.value_date.year for booking in fresh} | {booking.value_date.year + 1 for booking in fresh}
        )
        revenue = self._repository.revenues(pricing_point_id, years)
        result.new, _ = price(fresh, revenue)
        self._repository.store(pricing_point_id, result.new, revenue, period.start.isoformat(), at, payout)
        return result
