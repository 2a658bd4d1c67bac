"""The payouts in the table (docs/data-model.md). The only code of the payouts that knows keys:
- payable bookings: GSI2 `PAYABLE#<pricing point>` / `<usedAt>#<id>` (written by a validation, removed by an undo;
  collective bookings too, written when the daily job makes them USED: `payable_key` finds either's item);
- a pricing point's revenue of a year: `PRICING_POINT#<id>` / `REVENUE#<year>`, moved in the same transaction as
  the pricings it counts, so a crash between two transactions leaves both consistent;
- a booking's pricing: its `pricing` attribute, written once (`attribute_not_exists`), never recomputed; `payoutId`
  once a batch takes it to pay (set with the pricing when the account is accepted, else by a later batch);
- a batch: `JOBRUN#payouts` / `BATCH#<period start>` (its report, beside the other jobs' runs); its pricing points
  `PAYOUT_BATCH#<period start>` / `POINT#<point>` and their frozen lines `LINES#<offerer>#<point>#<n>`;
- a payout: `OFFERER#<offerer>` / `PAYOUT#<period start>`, written once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from pass_culture.accounts.repository import bank_account_key, offerer_key, venue_key
from pass_culture.bookings.repository import booking_key
from pass_culture.clock import isoformat
from pass_culture.collective.repository import collective_booking_key
from pass_culture.dynamo import (
    GSI2,
    ITEM_IS_NEW,
    ConditionFailed,
    Expression,
    Item,
    Operation,
    Put,
    Table,
    TransactionCancelled,
    Update,
    key,
)
from pass_culture.payouts.models import (
    COLLECTIVE_RULE,
    BankSnapshot,
    BatchStatus,
    Line,
    PointContext,
    PointResult,
    PointStatus,
)
from pass_culture.payouts.rules import Pricing

LINES_PER_ITEM = 1_000  # a line is ~200 bytes: an item of lines stays far below DynamoDB's 400 KB
MARKS_PER_TRANSACTION = 100
TRANSACTION_BOOKINGS = 90  # bookings a transaction prices (DynamoDB: 100 operations, the years' revenues included)


def payable_key(booking_id: str, rule: str) -> Item:
    """A payable booking's item: a collective booking's (rule COLLECTIVE) or an individual one's."""
    return collective_booking_key(booking_id) if rule == COLLECTIVE_RULE else booking_key(booking_id)


def revenue_key(pricing_point_id: str, year: int) -> Item:
    return key(f"PRICING_POINT#{pricing_point_id}", f"REVENUE#{year}")


def pricing_item(pricing: Pricing, period_start: str, at: datetime) -> Item:
    return {
        "rule": pricing.rule.value, "year": pricing.year, "revenueCents": pricing.revenue_cents,
        "rate": pricing.rate, "amountCents": pricing.amount_cents, "reimbursedCents": pricing.reimbursed_cents,
        "period": period_start, "pricedAt": isoformat(at),
    }  # fmt: skip


def batch_key(period_start: date) -> Item:
    return key("JOBRUN#payouts", f"BATCH#{period_start.isoformat()}")


def batch_partition(period_start: date) -> str:
    return f"PAYOUT_BATCH#{period_start.isoformat()}"


def point_key(period_start: date, point_id: str) -> Item:
    return key(batch_partition(period_start), f"POINT#{point_id}")


def lines_prefix(offerer_id: str, point_id: str | None = None) -> str:
    return f"LINES#{offerer_id}#" + (f"{point_id}#" if point_id else "")


def payout_key(offerer_id: str, period_start: date) -> Item:
    return key(f"OFFERER#{offerer_id}", f"PAYOUT#{period_start.isoformat()}")


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
        payout: str | None = None,
    ) -> None:
        """Writes the pricings, a transaction at a time, each with the years' revenues it reaches — conditioned on
        the revenues being as read and the bookings unpriced and still USED: all of a transaction or none. With
        `payout`, the bookings are taken by that payout in the same write."""
        revenue = dict(revenue_before)
        for start in range(0, len(pricings), TRANSACTION_BOOKINGS):
            chunk = pricings[start : start + TRANSACTION_BOOKINGS]
            taken = ", payoutId = :payout" if payout is not None else ""
            operations: list[Operation] = [
                Update(
                    payable_key(pricing.booking_id, pricing.rule.value),
                    Expression(
                        "SET pricing = :pricing" + taken,
                        values={":pricing": pricing_item(pricing, period_start, at)}
                        | ({":payout": payout} if payout is not None else {}),
                    ),
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

    # -- the batch ---------------------------------------------------------------------------------------------------
    def open_batch(self, period_start: date, period_end: date, time: datetime) -> tuple[Item, bool]:
        """The period's batch, created LISTING if it does not exist (the one batch a period: a retried or replayed
        job finds it and resumes it). Answers it and whether this call created it."""
        item: Item = {
            **batch_key(period_start), "entity": "PAYOUT_BATCH", "job": "payouts", "status": BatchStatus.LISTING.value,
            "periodStart": period_start.isoformat(), "periodEnd": period_end.isoformat(), "time": isoformat(time),
            "pointsTotal": 0, "pointsPriced": 0, "pointsToMark": 0, "pointsMarked": 0,
        }  # fmt: skip
        try:
            self._table.put(item, condition=ITEM_IS_NEW)
        except ConditionFailed:
            found = self.batch(period_start)
            assert found is not None
            return found, False
        return item, True

    def batch(self, period_start: date) -> Item | None:
        return self._table.get(batch_key(period_start), consistent=True)

    def batches(self, limit: int, cursor: str | None) -> tuple[list[Item], str | None]:
        page = self._table.query("JOBRUN#payouts", sort_prefix="BATCH#", limit=limit, cursor=cursor, newest_first=True)
        return page.items, page.next_cursor

    def move_batch(self, period_start: date, before: BatchStatus, after: BatchStatus, **fields: Any) -> bool:
        """One step of the batch, once: False when it had already moved on (another delivery did it)."""
        names = {"#status": "status"} | {f"#f{i}": name for i, name in enumerate(fields)}
        values = {":before": before.value, ":after": after.value}
        values |= {f":f{i}": value for i, value in enumerate(fields.values())}
        sets = ", ".join(["#status = :after"] + [f"#f{i} = :f{i}" for i in range(len(fields))])
        try:
            self._table.update(
                batch_key(period_start), Expression(f"SET {sets}", names, values),
                condition=Expression("#status = :before", {"#status": "status"}), return_new=False,
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True

    # -- its pricing points ------------------------------------------------------------------------------------------
    def payable_points(self) -> list[str]:
        """Every pricing point that ever had a booking validated (access pattern 26)."""
        items = self._table.query_all("PAYABLE_POINTS", sort_prefix="PRICING_POINT#")
        return sorted(str(item["SK"]).removeprefix("PRICING_POINT#") for item in items)

    def points(self, period_start: date) -> list[Item]:
        return self._table.query_all(batch_partition(period_start), sort_prefix="POINT#")

    def point(self, period_start: date, point_id: str) -> Item | None:
        return self._table.get(point_key(period_start, point_id), consistent=True)

    def add_points(self, period_start: date, point_ids: Sequence[str]) -> list[Item]:
        """QUEUED entries for the points not listed yet, each put only if absent: a listing resumed after a crash,
        or a second job racing the first, adds the rest and never puts back a point already priced. Answers the
        points as listed (those found, and those put)."""
        found = self.points(period_start)
        listed = {str(item["SK"]).removeprefix("POINT#") for item in found}
        puts = [
            Put({**point_key(period_start, point), "entity": "PAYOUT_POINT", "status": PointStatus.QUEUED.value},
                ITEM_IS_NEW)
            for point in point_ids if point not in listed
        ]  # fmt: skip
        for start in range(0, len(puts), 100):
            chunk = puts[start : start + 100]
            try:
                self._table.transact(chunk)
            except TransactionCancelled:
                for put in chunk:  # some were listed meanwhile: the others one by one
                    with suppress(ConditionFailed):
                        self._table.put(put.item, condition=put.condition)
        return found + [put.item for put in puts]

    def point_context(self, point_id: str) -> PointContext | None:
        """The point's venue, then its offerer and bank account: two round trips."""
        venue = self._table.get(venue_key(point_id))
        if venue is None:
            return None
        offerer_id = str(venue["offererId"])
        found = {str(item["SK"]): item for item in self._table.batch_get(
            [offerer_key(offerer_id), bank_account_key(offerer_id)])}  # fmt: skip
        offerer, account = found.get("PROFILE", {}), found.get("BANK_ACCOUNT")
        bank = (
            BankSnapshot(str(account["iban"]), str(account["bic"]), str(account["label"]), str(account["status"]))
            if account else None
        )  # fmt: skip
        return PointContext(
            point_id, offerer_id, str(offerer.get("name", "")), str(offerer.get("siren", "")),
            str(venue.get("siret") or ""), str(venue.get("bookingEmail") or ""), bank,
        )  # fmt: skip

    def claim(self, bookings: Sequence[tuple[str, str]], payout: str) -> list[str]:
        """Takes bookings (id, pricing rule) priced by an earlier batch (their account was not accepted then) for this
        payout; answers those taken now or already by it — a booking another payout holds, or no longer USED, is
        left."""
        taken = []
        for booking_id, rule in bookings:
            try:
                self._table.update(
                    payable_key(booking_id, rule), Expression("SET payoutId = :payout", values={":payout": payout}),
                    condition=Expression(
                        "#status = :used AND attribute_exists(pricing) AND "
                        "(attribute_not_exists(payoutId) OR payoutId = :payout)",
                        {"#status": "status"}, {":used": "USED", ":payout": payout},
                    ), return_new=False,
                )  # fmt: skip
            except ConditionFailed:
                continue
            taken.append(booking_id)
        return taken

    def write_lines(self, period_start: date, offerer_id: str, point_id: str, lines: Sequence[Line]) -> None:
        """The point's frozen lines, in items of LINES_PER_ITEM (rewritten identical by a resumed run)."""
        self._table.put_many([
            {
                **key(batch_partition(period_start), f"{lines_prefix(offerer_id, point_id)}{n:05d}"),
                "entity": "PAYOUT_LINES", "lines": [line.to_row() for line in lines[start : start + LINES_PER_ITEM]],
            }
            for n, start in enumerate(range(0, len(lines), LINES_PER_ITEM))
        ])  # fmt: skip

    def lines(self, period_start: date, offerer_id: str | None = None, point_id: str | None = None) -> list[Line]:
        prefix = lines_prefix(offerer_id, point_id) if offerer_id else "LINES#"
        items = self._table.query_all(batch_partition(period_start), sort_prefix=prefix)
        return [Line.from_row(row) for item in items for row in item["lines"]]

    def lines_by_point(self, period_start: date) -> dict[str, list[Line]]:
        """Every frozen line of the batch, by pricing point: one Query of the batch's partition."""
        found: dict[str, list[Line]] = {}
        for item in self._table.query_all(batch_partition(period_start), sort_prefix="LINES#"):
            point = str(item["SK"]).split("#")[2]
            found.setdefault(point, []).extend(Line.from_row(row) for row in item["lines"])
        return found

    def lines_page(self, period_start: date, offerer_id: str, cursor: str | None) -> tuple[list[Line], str | None]:
        """One item of an offerer's lines (up to LINES_PER_ITEM bookings) a page."""
        page = self._table.query(
            batch_partition(period_start), sort_prefix=lines_prefix(offerer_id), limit=1, cursor=cursor
        )
        return [Line.from_row(row) for item in page.items for row in item["lines"]], page.next_cursor

    def point_priced(self, period_start: date, result: PointResult) -> Item | None:
        """The point QUEUED -> PRICED with its result (once: a redelivered task finds it PRICED), then counted in the
        batch; answers the batch after the count, or None when the point was already priced. Should the function die
        between the two, the count stays short: the job's check run finds no QUEUED point and sends PAY, which reads
        the points themselves."""
        fields = {"result": asdict(result)}
        point = (period_start, result.point_id)
        return self._advance_point(*point, PointStatus.QUEUED, PointStatus.PRICED, "pointsPriced", fields)

    def point_marked(self, period_start: date, point_id: str) -> Item | None:
        """PRICED -> MARKED, then counted; answers the batch after the count (None: already marked)."""
        return self._advance_point(period_start, point_id, PointStatus.PRICED, PointStatus.MARKED, "pointsMarked")

    def _advance_point(
        self, period_start: date, point_id: str, before: PointStatus, after: PointStatus, counter: str,
        fields: Item | None = None,
    ) -> Item | None:  # fmt: skip
        """One point `before` -> `after` (with `fields`), conditioned; then the batch's `counter` one more, the batch
        answered as it is after. None: the point was not `before` (an earlier delivery moved it)."""
        names = {"#status": "status", **{f"#f{i}": name for i, name in enumerate(fields or {})}}
        values = {":after": after.value, **{f":f{i}": value for i, value in enumerate((fields or {}).values())}}
        assignments = ", ".join(["#status = :after", *(f"#f{i} = :f{i}" for i in range(len(fields or {})))])
        try:
            self._table.update(
                point_key(period_start, point_id), Expression(f"SET {assignments}", names, values),
                condition=Expression("#status = :before", {"#status": "status"}, {":before": before.value}),
                return_new=False,
            )  # fmt: skip
        except ConditionFailed:
            return None
        return self._table.update(batch_key(period_start), Expression(f"ADD {counter} :one", values={":one": 1}))

    # -- payouts and the bookings they pay ---------------------------------------------------------------------------
    def put_payout(self, offerer_id: str, period_start: date, payout: Mapping[str, Any]) -> bool:
        """Written once: a resumed batch finds it and writes nothing (so its email goes once)."""
        try:
            self._table.put({**payout_key(offerer_id, period_start), "entity": "PAYOUT", **payout},
                            condition=ITEM_IS_NEW)  # fmt: skip
        except ConditionFailed:
            return False
        return True

    def payouts_of(self, offerer_id: str, limit: int, cursor: str | None) -> tuple[list[Item], str | None]:
        page = self._table.query(f"OFFERER#{offerer_id}", sort_prefix="PAYOUT#", limit=limit, cursor=cursor,
                                 newest_first=True)  # fmt: skip
        return page.items, page.next_cursor

    def payout(self, offerer_id: str, period_start: date) -> Item | None:
        return self._table.get(payout_key(offerer_id, period_start))

    def mark_reimbursed(self, offerer_id: str, payout: str, lines: Sequence[Line], at: datetime) -> int:
        """USED -> REIMBURSED for the payout's bookings: out of the payable list, into the offerer's REIMBURSED list.
        A transaction per MARKS_PER_TRANSACTION; one refused (a resumed run finds some done) is done booking by
        booking. Answers how many moved now."""
        moved = 0
        for start in range(0, len(lines), MARKS_PER_TRANSACTION):
            chunk = lines[start : start + MARKS_PER_TRANSACTION]
            updates = [self._reimbursed(offerer_id, payout, line, at) for line in chunk]
            try:
                self._table.transact(updates)
                moved += len(updates)
                continue
            except TransactionCancelled:
                pass
            for update in updates:
                try:
                    self._table.update(update.key, update.update, condition=update.condition, return_new=False)
                    moved += 1
                except ConditionFailed:
                    continue  # already REIMBURSED by this payout
        return moved

    @staticmethod
    def _reimbursed(offerer_id: str, payout: str, line: Line, at: datetime) -> Update:
        """Out of the payable list; an individual booking into its offerer's REIMBURSED list (GSI5). A collective one
        has no status lists: the pros' tracking (GSI4 `OFFERER#<id>#CBOOKINGS`) reads its status."""
        when = isoformat(at)
        condition = Expression("#status = :used AND payoutId = :payout", {"#status": "status"},
                               {":used": "USED", ":payout": payout})  # fmt: skip
        if line.collective:
            return Update(
                payable_key(line.booking_id, line.rule),
                Expression("SET #status = :reimbursed, reimbursedAt = :at REMOVE GSI2PK, GSI2SK",
                           {"#status": "status"}, {":reimbursed": "REIMBURSED", ":at": when}),
                condition,
            )  # fmt: skip
        return Update(
            booking_key(line.booking_id),
            Expression(
                "SET #status = :reimbursed, reimbursedAt = :at, GSI5PK = :list, GSI5SK = :sort REMOVE GSI2PK, GSI2SK",
                {"#status": "status"},
                {":reimbursed": "REIMBURSED", ":at": when, ":list": f"OFFERER#{offerer_id}#REIMBURSED",
                 ":sort": f"{when}#{line.booking_id}"},
            ),
            condition,
        )  # fmt: skip


def stored_pricing(item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = item.get("pricing")
    return found if isinstance(found, Mapping) else None
