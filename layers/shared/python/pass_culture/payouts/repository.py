"""The payouts in the table (docs/data-model.md). The only code of the payouts that knows keys:
- payable bookings: GSI2 `PAYABLE#<pricing point>` / `<usedAt>#<id>` (written by a validation, removed by an undo);
- a pricing point's revenue of a year: `PRICING_POINT#<id>` / `REVENUE#<year>`, moved in the same transaction as
  the pricings it counts, so a crash between two transactions leaves both consistent;
- a booking's pricing: its `pricing` attribute, written once (`attribute_not_exists`), never recomputed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pass_culture.bookings.repository import booking_key
from pass_culture.clock import isoformat
from pass_culture.dynamo import GSI2, Expression, Item, Operation, Table, TransactionCancelled, Update, key
from pass_culture.payouts.rules import Pricing

TRANSACTION_BOOKINGS = 90  # bookings a transaction prices (DynamoDB: 100 operations, the years' revenues included)


def revenue_key(pricing_point_id: str, year: int) -> Item:
    return key(f"PRICING_POINT#{pricing_point_id}", f"REVENUE#{year}")


def pricing_item(pricing: Pricing, period_start: str, at: datetime) -> Item:
    return {
        "rule": pricing.rule.value, "year": pricing.year, "revenueCents": pricing.revenue_cents,
        "rate": pricing.rate, "amountCents": pricing.amount_cents, "reimbursedCents": pricing.reimbursed_cents,
        "period": period_start, "pricedAt": isoformat(at),
    }  # fmt: skip


class PricingRace(Exception):
    """Another run priced this pricing point meanwhile: the whole point is done again (its message is retried)."""


class PayoutsRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def payable(self, pricing_point_id: str, used_before: datetime) -> Iterator[Item]:
        """The pricing point's USED bookings validated before the period's end, in pages."""
        cursor: str | None = None
        while True:
            page = self._table.query(
                f"PAYABLE#{pricing_point_id}", index=GSI2, sort_between=("0", isoformat(used_before)), limit=1000,
                cursor=cursor,
            )  # fmt: skip
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def revenues(self, pricing_point_id: str, years: Sequence[int]) -> dict[int, int]:
        found = self._table.batch_get([revenue_key(pricing_point_id, year) for year in sorted(set(years))])
        return {int(str(item["SK"]).removeprefix("REVENUE#")): int(item["revenueCents"]) for item in found}

    def store(
        self,
        pricing_point_id: str,
        pricings: Sequence[Pricing],
        revenue_before: Mapping[int, int],
        period_start: str,
        at: datetime,
    ) -> None:
        """Writes the pricings, a transaction at a time, each with the years' revenues it reaches — conditioned on
        the revenues being as read and the bookings unpriced and still USED: all of a transaction or none."""
        revenue = dict(revenue_before)
        for start in range(0, len(pricings), TRANSACTION_BOOKINGS):
            chunk = pricings[start : start + TRANSACTION_BOOKINGS]
            operations: list[Operation] = [
                Update(
                    booking_key(pricing.booking_id),
                    Expression("SET pricing = :pricing", values={":pricing": pricing_item(pricing, period_start, at)}),
                    Expression(
                        "attribute_not_exists(pricing) AND #status = :used", {"#status": "status"}, {":used": "USED"}
                    ),
                )
                for pricing in chunk
            ]
            after = dict(revenue)
            for pricing in chunk:
                after[pricing.year] = max(after.get(pricing.year, 0), pricing.revenue_cents)
            operations += [self._revenue_update(pricing_point_id, year, revenue.get(year), after[year]) for year in
                           sorted({p.year for p in chunk})]  # fmt: skip
            self._transact(operations)
            revenue = after

    @staticmethod
    def _revenue_update(pricing_point_id: str, year: int, before: int | None, after: int) -> Update:
        condition = (
            Expression("attribute_not_exists(revenueCents)")
            if before is None
            else Expression("revenueCents = :before", values={":before": before})
        )
        return Update(
            revenue_key(pricing_point_id, year),
            Expression("SET revenueCents = :after, entity = :entity", values={":after": after, ":entity": "REVENUE"}),
            condition,
        )

    def _transact(self, operations: list[Operation]) -> None:
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            raise PricingRace(f"pricing refused at positions {cancelled.failed_positions()}") from None


def stored_pricing(item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = item.get("pricing")
    return found if isinstance(found, Mapping) else None
