"""The biweekly payout batch (domain.md "Reimbursement"), exactly once per period.

The job (1st and 16th, Europe/Paris) opens the period's batch — one item per period, created with a condition, so a
retried, replayed or doubled job finds it and resumes it instead of starting another — lists the pricing points and
sends one PRICE task per point to the worker (SQS). Each step moves its own state once, with a condition, and
checks it first, so a task delivered twice or a step killed halfway is simply run again:

1. PRICE a point (worker): its payable bookings priced (`pricing.py`), those of an ACCEPTED account taken by the
   offerer's payout and frozen as lines; the point QUEUED -> PRICED and counted in the batch in one transaction.
   The last point priced sends PAY.
2. PAY (worker): from the frozen lines only, the SEPA file (one transfer per bank account), the CSVs and one PDF
   statement per offerer, each written once to S3 (byte-identical when rebuilt: no clock, no random), then one payout
   per offerer written once (its "remboursement disponible" email leaves through the table's stream). Sends MARK.
   Collective bookings (USED by the daily job 48 h after their event) are in their point's payable list beside the
   individual ones: priced by the COLLECTIVE rule, paid in the same transfer, on their own lines of the files.
3. MARK a point (worker): its paid bookings USED -> REIMBURSED; the last point marked closes the batch (DONE).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pass_culture.accounts.rules import mask_iban
from pass_culture.clock import isoformat, paris_date, parse_instant
from pass_culture.payouts.files import DetailLine, payment_details_csv
from pass_culture.payouts.models import (
    BankSnapshot,
    BatchStatus,
    Line,
    PayoutTask,
    PointContext,
    PointResult,
    PointStatus,
    Step,
    end_to_end_id,
    payout_id,
)
from pass_culture.payouts.outputs import FileStore, TaskQueue
from pass_culture.payouts.pricing import COLLECTIVE_ENTITY, Pricer
from pass_culture.payouts.repository import PayoutsRepository, stored_pricing
from pass_culture.payouts.rules import Period, Pricing, period_ending_before
from pass_culture.payouts.sepa import Debtor, Transfer, transfer_file
from pass_culture.payouts.statement import Statement, StatementLine, statement_pdf

ACCEPTED = "ACCEPTED"
UNFINISHED_AFTER = timedelta(hours=6)  # a batch still open this long after its start is alarmed (the job's metric)


def files_prefix(period: Period) -> str:
    return f"payouts/{period.start.isoformat()}"


class PayoutBatches:
    def __init__(self, repository: PayoutsRepository, queue: TaskQueue, files: FileStore, debtor: Debtor) -> None:
        self._repository = repository
        self._pricer = Pricer(repository)
        self._queue = queue
        self._files = files
        self._debtor = debtor

    # -- the job -----------------------------------------------------------------------------------------------------
    def run(self, time: datetime) -> dict[str, Any]:
        """Opens (or resumes) the batch of the period that ended before `time`; answers its state for the report,
        with `unfinished` when an earlier run's batch is still open long after it started."""
        period = period_ending_before(time)
        batch, created = self._repository.open_batch(period.start, period.end, time)
        status = BatchStatus(batch["status"])
        listed: list[dict[str, Any]] | None = None
        if status is BatchStatus.LISTING:
            listed = self._repository.add_points(period.start, self._repository.payable_points())
            if not self._repository.move_batch(
                period.start, BatchStatus.LISTING, BatchStatus.PRICING, pointsTotal=len(listed)
            ):
                listed = None  # another run listed them first: read them as they are now
        self.resume(period.start, listed)
        batch = self._repository.batch(period.start) or batch
        started = parse_instant(str(batch["time"]))
        return {
            "periodStart": period.start.isoformat(), "batchStatus": batch["status"], "resumed": not created,
            "pointsTotal": int(batch["pointsTotal"]), "pointsPriced": int(batch["pointsPriced"]),
            "unfinished": batch["status"] != BatchStatus.DONE.value and time - started >= UNFINISHED_AFTER,
        }  # fmt: skip

    def resume(self, period_start: date, points: list[dict[str, Any]] | None = None) -> None:
        """Sends what the batch's state still needs (a lost or dead-lettered task is sent again). `points`: the
        points as just listed, not read again."""
        batch = self._repository.batch(period_start)
        if batch is None:
            return
        status = BatchStatus(batch["status"])
        if status is BatchStatus.DONE:
            return
        points = points if points is not None else self._repository.points(period_start)
        if status is BatchStatus.PRICING:
            queued = [self._task(period_start, Step.PRICE, item) for item in points
                      if item["status"] == PointStatus.QUEUED.value]  # fmt: skip
            self._queue.send(queued or [PayoutTask(period_start=period_start, step=Step.PAY)])
        elif status is BatchStatus.PAYING:
            self._queue.send([PayoutTask(period_start=period_start, step=Step.PAY)])
        elif status is BatchStatus.MARKING:
            at = parse_instant(str(batch["time"]))
            priced = [point_result(item) for item in points if item["status"] == PointStatus.PRICED.value]
            self._queue.send([mark_task(period_start, result, at) for result in priced if result.lines_count])

    @staticmethod
    def _task(period_start: date, step: Step, point_item: dict[str, Any]) -> PayoutTask:
        return PayoutTask(period_start=period_start, step=step, point=str(point_item["SK"]).removeprefix("POINT#"))

    # -- the worker ----------------------------------------------------------------------------------------------
    def handle(self, task: PayoutTask) -> None:
        if task.step is Step.PRICE and task.point:
            self.price_point(task.period_start, task.point)
        elif task.step is Step.PAY:
            self.pay(task.period_start)
        elif task.step is Step.MARK and task.point:
            self.mark_point(task.period_start, task)
        else:
            raise ValueError(f"a {task.step} task names a pricing point")

    def price_point(self, period_start: date, point_id: str) -> None:
        # The point itself is not read: pricing it again is harmless (earlier pricings are kept, the claims and lines
        # are the same), and only its first PRICED transition counts. A point priced after the batch moved on (listed
        # too late) is left alone: its bookings wait for the next batch.
        batch = self._repository.batch(period_start)
        if batch is None or batch["status"] != BatchStatus.PRICING.value:
            return
        period, at = batch_period(batch), parse_instant(str(batch["time"]))
        context = self._repository.point_context(point_id)
        if context is None:  # a pricing point that no longer exists has nothing to pay
            context = PointContext(point_id, "", "", "", "", "", None)
        accepted = context.bank is not None and context.bank.status == ACCEPTED
        payout = payout_id(context.offerer_id, period_start) if accepted and context.offerer_id else None
        priced = self._pricer.price_point(point_id, period, at, payout)
        # priced by an earlier batch and not paid then (no accepted account): free, or already taken by this payout
        earlier = [item for item in priced.earlier if item.get("payoutId") in (None, payout)]
        lines: list[Line] = []
        waiting_count = waiting_cents = 0
        if payout is not None:
            lines = [line_of(priced.new_items[p.booking_id], pricing_fields(p)) for p in priced.new]
            taken = set(self._repository.claim(
                [(str(item["id"]), str((stored_pricing(item) or {})["rule"])) for item in earlier], payout
            ))  # fmt: skip
            lines += [line_of(item, dict(stored_pricing(item) or {})) for item in earlier if item["id"] in taken]
            lines.sort(key=lambda line: (line.used_at, line.booking_id))
        else:
            waiting_count = len(priced.new) + len(earlier)
            waiting_cents = sum(p.reimbursed_cents for p in priced.new) + sum(
                int((stored_pricing(item) or {})["reimbursedCents"]) for item in earlier
            )
        if lines:
            self._repository.write_lines(period_start, context.offerer_id, point_id, lines)
        after = self._repository.point_priced(period_start, PointResult(
            **vars(context), lines_count=len(lines), amount_cents=sum(line.amount_cents for line in lines),
            reimbursed_cents=sum(line.reimbursed_cents for line in lines), waiting_for_account=waiting_count,
            waiting_for_account_cents=waiting_cents, waiting_for_event=len(priced.waiting_for_event),
        ))  # fmt: skip
        if after is not None and int(after["pointsPriced"]) >= int(after["pointsTotal"]):
            self._queue.send([PayoutTask(period_start=period_start, step=Step.PAY)])

    def pay(self, period_start: date) -> None:
        batch = self._repository.batch(period_start)
        if batch is None:
            return
        if batch["status"] not in (BatchStatus.PRICING.value, BatchStatus.PAYING.value):
            return
        points = self._repository.points(period_start)
        if batch["status"] == BatchStatus.PRICING.value:
            # Every point priced, read from the points themselves: the counter only says when to look.
            if any(item["status"] == PointStatus.QUEUED.value for item in points):
                return  # the last of them, once priced, sends PAY again
            self._repository.move_batch(period_start, BatchStatus.PRICING, BatchStatus.PAYING)
        period, at = batch_period(batch), parse_instant(str(batch["time"]))
        results = [point_result(item) for item in points if item.get("result")]
        lines_by_point = self._repository.lines_by_point(period_start)
        paid = sorted((r for r in results if r.paid_now), key=lambda r: (r.offerer_id, r.point_id))
        by_offerer: dict[str, list[PointResult]] = defaultdict(list)
        for result in paid:
            by_offerer[result.offerer_id].append(result)
        report = self._write_files(period, at, by_offerer, lines_by_point)
        for offerer_id, offerer_points in by_offerer.items():
            payout = payout_item(period, at, offerer_points, report["files"])
            self._repository.put_payout(offerer_id, period_start, payout)
        to_mark = [r.point_id for r in paid]  # each MARK task carries its offerer and the batch's time
        waiting = [
            {"offererId": r.offerer_id, "offererName": r.offerer_name, "pointId": r.point_id,
             "bookings": r.waiting_for_account, "reimbursedCents": r.waiting_for_account_cents,
             "reason": "BANK_ACCOUNT_NOT_ACCEPTED" if r.bank else "NO_BANK_ACCOUNT"}
            for r in results if r.waiting_for_account
        ]  # fmt: skip
        self._repository.move_batch(
            period_start, BatchStatus.PAYING, BatchStatus.MARKING if to_mark else BatchStatus.DONE,
            pointsToMark=len(to_mark), waitingForAccount=waiting,
            waitingForEvent=sum(r.waiting_for_event for r in results), **report["figures"],
            files=report["files"]["batch"],
        )  # fmt: skip
        self._queue.send([mark_task(period_start, r, at) for r in paid])

    def _write_files(
        self,
        period: Period,
        at: datetime,
        by_offerer: dict[str, list[PointResult]],
        lines_by_point: dict[str, list[Line]],
    ) -> dict[str, Any]:
        prefix, batch_id = files_prefix(period), f"pass-culture-payouts-{period.start.isoformat()}"
        details: list[DetailLine] = []
        transfers: list[Transfer] = []
        offerer_files: dict[str, dict[str, str]] = {}
        for offerer_id, points in by_offerer.items():
            own = [detail_line(point, line) for point, line in offerer_lines(points, lines_by_point)]
            details += own
            bank = points[0].bank
            assert bank is not None
            total = sum(line.reimbursed_cents for line in own)
            if total > 0:
                transfers.append(Transfer(end_to_end_id(offerer_id, period.start), points[0].offerer_name, bank.iban,
                                          bank.bic, total))  # fmt: skip
            files = {"csv": f"{prefix}/{offerer_id}/details.csv", "statement": f"{prefix}/{offerer_id}/releve.pdf"}
            self._files.put_once(files["csv"], payment_details_csv(own).encode(), "text/csv; charset=utf-8")
            self._files.put_once(files["statement"], statement_pdf(statement_of(period, at, points, lines_by_point)),
                                 "application/pdf")  # fmt: skip
            offerer_files[offerer_id] = files
        batch_files = {"csv": f"{prefix}/details.csv"}
        self._files.put_once(batch_files["csv"], payment_details_csv(details).encode(), "text/csv; charset=utf-8")
        if transfers:
            batch_files["sepa"] = f"{prefix}/virements-sepa.xml"
            document = transfer_file(batch_id, period, self._debtor, transfers, at, paris_date(at))
            self._files.put_once(batch_files["sepa"], document, "application/xml")
        figures = {
            "transfers": len(transfers), "transferredCents": sum(t.amount_cents for t in transfers),
            "bookingsPaid": len(details), "payouts": len(by_offerer),
        }  # fmt: skip
        return {"files": {"batch": batch_files, **offerer_files}, "figures": figures}

    def mark_point(self, period_start: date, task: PayoutTask) -> None:
        """The point's paid bookings REIMBURSED: reads only its lines (the task carries its offerer and the batch's
        time); every write is conditioned on the booking still USED and taken by this payout, so a task delivered
        twice marks nothing twice. Only PAY (and a resumed MARKING batch) sends these tasks."""
        assert task.point is not None
        offerer, at = task.offerer, task.time
        if offerer is None or at is None:  # a task without them (sent before they were carried): read them
            batch, point = self._repository.batch(period_start), self._repository.point(period_start, task.point)
            if batch is None or point is None or batch["status"] != BatchStatus.MARKING.value:
                return
            offerer, at = point_result(point).offerer_id, parse_instant(str(batch["time"]))
        lines = self._repository.lines(period_start, offerer, task.point)
        payout = payout_id(offerer, period_start)
        self._repository.mark_reimbursed(offerer, payout, lines, at)
        after = self._repository.point_marked(period_start, task.point)
        if after is not None and int(after["pointsMarked"]) >= int(after["pointsToMark"]):
            self._repository.move_batch(period_start, BatchStatus.MARKING, BatchStatus.DONE)


def mark_task(period_start: date, point: PointResult, at: datetime) -> PayoutTask:
    return PayoutTask(
        period_start=period_start, step=Step.MARK, point=point.point_id, offerer=point.offerer_id, time=at
    )


# -- from stored items to the batch's values ---------------------------------------------------------------------
def batch_period(batch: dict[str, Any]) -> Period:
    return Period(date.fromisoformat(str(batch["periodStart"])), date.fromisoformat(str(batch["periodEnd"])))


def pricing_fields(pricing: Pricing) -> dict[str, Any]:
    return {"rule": pricing.rule.value, "rate": pricing.rate, "reimbursedCents": pricing.reimbursed_cents}


def line_of(booking: dict[str, Any], pricing: dict[str, Any]) -> Line:
    if booking.get("entity") == COLLECTIVE_ENTITY:
        return Line(
            str(booking["id"]), str(booking["venueId"]), str(booking["venueName"]), str(booking["offerName"]), "",
            str(booking["usedAt"]), int(booking["totalPriceCents"]), str(pricing["rule"]), int(pricing["rate"]),
            int(pricing["reimbursedCents"]), str(booking["institutionName"]), str(booking["uai"]),
        )  # fmt: skip
    return Line(
        str(booking["id"]), str(booking["venueId"]), str(booking["venueName"]), str(booking["offerName"]),
        str(booking["token"]), str(booking["usedAt"]), int(booking["amountCents"]), str(pricing["rule"]),
        int(pricing["rate"]), int(pricing["reimbursedCents"]),
    )  # fmt: skip


def point_result(item: dict[str, Any]) -> PointResult:
    stored = dict(item["result"])
    bank = stored.pop("bank")
    return PointResult(**stored, bank=BankSnapshot(**bank) if bank else None)


def offerer_lines(
    points: Sequence[PointResult], lines_by_point: dict[str, list[Line]]
) -> list[tuple[PointResult, Line]]:
    """An offerer's lines, point by point, its collective bookings on their own lines after the individual ones."""
    found = [(point, line) for point in points for line in lines_by_point[point.point_id]]
    return sorted(found, key=lambda pair: pair[1].collective)  # stable: each kind keeps its order


def institution_label(line: Line) -> str:
    return f"{line.institution_name} ({line.uai})"


def detail_line(point: PointResult, line: Line) -> DetailLine:
    return DetailLine(
        point.offerer_name, line.venue_name, point.siret, line.offer_name,
        institution_label(line) if line.collective else line.countermark,
        parse_instant(line.used_at), line.amount_cents, line.rule, line.rate, line.reimbursed_cents,
    )  # fmt: skip


def statement_of(
    period: Period, at: datetime, points: Sequence[PointResult], lines_by_point: dict[str, list[Line]]
) -> Statement:
    first = points[0]
    assert first.bank is not None
    return Statement(
        offerer_name=first.offerer_name, siren=first.siren, payout_id=payout_id(first.offerer_id, period.start),
        period=period, iban=first.bank.iban, bank_label=first.bank.label, paid_on=paris_date(at), created_at=at,
        lines=[
            StatementLine(line.venue_name, line.offer_name,
                          institution_label(line) if line.collective else line.countermark,
                          parse_instant(line.used_at), line.amount_cents, line.rule, line.rate, line.reimbursed_cents,
                          line.collective)
            for _, line in offerer_lines(points, lines_by_point)
        ],
    )  # fmt: skip


def payout_item(
    period: Period, at: datetime, points: Sequence[PointResult], files: dict[str, dict[str, str]]
) -> dict[str, Any]:
    first = points[0]
    assert first.bank is not None
    reimbursed = sum(p.reimbursed_cents for p in points)
    return {
        "id": payout_id(first.offerer_id, period.start), "offererId": first.offerer_id,
        "offererName": first.offerer_name, "periodStart": period.start.isoformat(),
        "periodEnd": (period.end - timedelta(days=1)).isoformat(), "periodLabel": period.label,
        "amountCents": sum(p.amount_cents for p in points), "reimbursedCents": reimbursed,
        "bookingsCount": sum(p.lines_count for p in points), "paidAt": isoformat(at),
        "iban": mask_iban(first.bank.iban), "bankLabel": first.bank.label,
        "endToEndId": end_to_end_id(first.offerer_id, period.start) if reimbursed else None,
        "statementKey": files[first.offerer_id]["statement"], "csvKey": files[first.offerer_id]["csv"],
        "emails": sorted({p.booking_email for p in points if p.booking_email}),
        "pointIds": [p.point_id for p in points], "status": "PAID" if reimbursed else "NOTHING_TO_PAY",
    }  # fmt: skip


def build_payout_batches() -> PayoutBatches:
    from pass_culture import aws
    from pass_culture.dynamo import Table
    from pass_culture.payouts.outputs import S3FileStore, SqsTaskQueue
    from pass_culture.settings import get_settings

    settings = get_settings()
    return PayoutBatches(
        PayoutsRepository(Table(aws.dynamodb(), settings.table_name)),
        SqsTaskQueue(aws.client("sqs"), settings.payouts_queue_url),
        S3FileStore(aws.client("s3"), settings.files_bucket),
        Debtor(settings.payouts_debtor_name, settings.payouts_debtor_iban, settings.payouts_debtor_bic),
    )
