"""The daily jobs in the table (docs/data-model.md). The only code of the jobs that knows keys:
- candidates: GSI3 `DUE#<job>#<day>` (`bookings.repository.due_index_keys`), one Query page after another;
- transitions: one conditional write per booking (USED, CANCELLED with stock and credit back, reminder sent),
  conditioned on the booking still being CONFIRMED under the index entry it was read from;
- the job's memory `JOB#<job>` / `CURSOR` (the last day read whole) and its runs' reports `JOBRUN#<job>` /
  `<startedAt>#<runId>`, to which the worker adds its chunks' figures."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pass_culture.bookings.repository import (
    REMINDED,
    booking_key,
    cancel_operations,
    due_index_keys,
    due_partition,
    payable_point,
    used_update,
)
from pass_culture.bookings.rules import CancellationReason, DueJob, event_due
from pass_culture.clock import isoformat, parse_instant
from pass_culture.daily_jobs.models import Candidate, Figures
from pass_culture.daily_jobs.rules import AUTO, Action, Job
from pass_culture.dynamo import (
    GSI3,
    ConditionFailed,
    Expression,
    Item,
    Page,
    Table,
    TransactionCancelled,
    key,
)
from pass_culture.offers.repository import stock_key

PAGE = 1000  # items a Query page asks for (DynamoDB also stops a page at 1 MB)
CONFLICT_RETRIES = 5  # another transaction on the same stock or credit: DynamoDB cancels ours, we try again
T = TypeVar("T")


def cursor_key(job: Job) -> Item:
    return key(f"JOB#{job.value}", "CURSOR")


def runs_partition(job: Job) -> str:
    return f"JOBRUN#{job.value}"


def run_key(job: Job, run_sort: str) -> Item:
    return key(runs_partition(job), run_sort)


class DailyJobsRepository:
    def __init__(self, table: Table, sleep: Callable[[float], None] = time.sleep) -> None:
        self._table = table
        self._sleep = sleep

    # -- candidates ----------------------------------------------------------------------------------------------
    def _pages(self, partition: str, between: tuple[str, str] | None) -> Iterator[list[Candidate]]:
        cursor: str | None = None
        while True:
            page: Page = self._table.query(partition, index=GSI3, sort_between=between, limit=PAGE, cursor=cursor)
            if page.items:
                yield [Candidate.from_item(item) for item in page.items]
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def due_for_validation(self, day: date, by: datetime) -> Iterator[list[Candidate]]:
        """The day's bookings whose auto-validation rule is met by `by` (the index sorts them by that instant)."""
        return self._pages(due_partition(DueJob.AUTO_VALIDATE, day), ("0", f"{isoformat(by)}#~"))

    def due_for_expiry(self, day: date) -> Iterator[list[Candidate]]:
        return self._pages(due_partition(DueJob.EXPIRE, day), None)

    def due_for_reminder(self, expiry_day: date, by: date) -> Iterator[list[Candidate]]:
        """Bookings expiring on `expiry_day` whose reminder is due by `by` and not sent (sent ones sort apart)."""
        return self._pages(due_partition(DueJob.EXPIRE, expiry_day), ("REMIND#", f"REMIND#{by.isoformat()}#~"))

    # -- transitions: each answers (done, the booking as it is now when not done: the caller says why) ---------
    def validate(self, candidate: Candidate, now: datetime) -> tuple[bool, Item | None]:
        """CONFIRMED -> USED by AUTO. The pricing points are marked payable beforehand (`mark_payable`)."""
        update = used_update(candidate, AUTO, now, due_partition=candidate.due_partition)
        try:
            self._table.update(
                update.key, update.update, condition=update.condition, return_old_on_failure=True, return_new=False
            )
        except ConditionFailed as failed:
            return False, failed.old
        return True, None

    def event_starts(self, candidates: list[Candidate]) -> dict[str, datetime | None]:
        """The current start of the events of a chunk's event bookings: one read per stock, not per booking."""
        stock_ids = sorted({c.stock_id for c in candidates if c.event_date is not None})
        if not stock_ids:
            return {}
        by_key = {(k["PK"], k["SK"]): stock_id for stock_id in stock_ids for k in [stock_key(stock_id)]}
        found = self._table.batch_get([stock_key(stock_id) for stock_id in stock_ids])
        starts = {by_key[(item["PK"], item["SK"])]: item.get("beginningDatetime") for item in found}
        return {stock_id: parse_instant(str(s)) if s else None for stock_id, s in starts.items()}

    def reschedule(self, candidate: Candidate, start: datetime) -> tuple[bool, Item | None]:
        """The event moved: the booking takes its new start, and its due entry the new day (same conditions)."""
        keys = due_index_keys(event_due(start), candidate.id)
        try:
            self._table.update(
                booking_key(candidate.id),
                Expression(
                    "SET eventDate = :start, GSI3PK = :pk, GSI3SK = :sk",
                    values={":start": isoformat(start), ":pk": keys["GSI3PK"], ":sk": keys["GSI3SK"]},
                ),
                condition=Expression(
                    "#status = :confirmed AND GSI3PK = :due", {"#status": "status"},
                    {":confirmed": "CONFIRMED", ":due": candidate.due_partition},
                ),
                return_old_on_failure=True,
                return_new=False,
            )  # fmt: skip
        except ConditionFailed as failed:
            return False, failed.old
        return True, None

    def mark_payable(self, candidates: list[Candidate], now: datetime) -> None:
        """One write per pricing point of a chunk, not per booking (the payouts job lists the points to pay)."""
        for point in sorted({c.pricing_point_venue_id for c in candidates if c.pricing_point_venue_id}):
            put = payable_point(point, now)
            self._table.put(put.item)

    def expire(self, candidate: Candidate, now: datetime) -> tuple[bool, Item | None]:
        """CONFIRMED -> CANCELLED (EXPIRED), the places and the credit given back: one transaction."""
        operations = cancel_operations(
            candidate, CancellationReason.EXPIRED.value, now, due_partition=candidate.due_partition
        )
        try:
            self._retrying_conflicts(lambda: self._table.transact(operations))
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_positions():
                return False, cancelled.old_item(0)
            raise
        return True, None

    def remind(self, candidate: Candidate, now: datetime) -> tuple[bool, Item | None]:
        """Marks the reminder sent (the outbox, i.e. the table's stream, sends it) and moves the entry out of the
        reminders' range, so no later run reads it for that again."""
        sort_after = f"{REMINDED}{candidate.id}"
        try:
            self._table.update(
                booking_key(candidate.id),
                Expression(
                    "SET expiryReminderSentAt = :at, GSI3SK = :reminded",
                    values={
                        ":at": isoformat(now),
                        ":reminded": sort_after,
                    },
                ),
                condition=Expression(
                    "#status = :confirmed AND GSI3PK = :due AND GSI3SK = :sort AND "
                    "(attribute_not_exists(expiryReminderSentAt) OR attribute_type(expiryReminderSentAt, :null))",
                    {"#status": "status"},
                    {
                        ":confirmed": "CONFIRMED",
                        ":due": candidate.due_partition,
                        ":sort": candidate.due_sort,
                        ":null": "NULL",
                    },
                ),
                return_old_on_failure=True,
                return_new=False,
            )
        except ConditionFailed as failed:
            return False, failed.old
        return True, None

    def act(self, action: Action, candidate: Candidate, now: datetime) -> tuple[bool, Item | None]:
        transition = {Action.VALIDATE: self.validate, Action.EXPIRE: self.expire, Action.REMIND: self.remind}
        return transition[action](candidate, now)

    def _retrying_conflicts(self, write: Callable[[], T]) -> T:
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                return write()
            except TransactionCancelled as cancelled:
                if not cancelled.conflicted() or cancelled.failed_positions() or attempt == CONFLICT_RETRIES:
                    raise
                self._sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    # -- the job's memory ----------------------------------------------------------------------------------------
    def done_through(self, job: Job) -> date | None:
        item = self._table.get(cursor_key(job), consistent=True)
        return date.fromisoformat(str(item["doneThrough"])) if item else None

    def advance(self, job: Job, day: date) -> None:
        """Never backwards: a replay of an older day leaves the memory where it is."""
        with contextlib.suppress(ConditionFailed):
            self._table.update(
                cursor_key(job),
                Expression("SET doneThrough = :day", values={":day": day.isoformat()}),
                condition=Expression(
                    "attribute_not_exists(doneThrough) OR doneThrough < :day", values={":day": day.isoformat()}
                ),
                return_new=False,
            )

    # -- runs' reports -------------------------------------------------------------------------------------------
    def start_run(self, job: Job, run_sort: str, report: dict[str, Any]) -> None:
        self._table.put({**run_key(job, run_sort), "entity": "JOB_RUN", **report, "skipped": {}})

    def add_figures(
        self, job: Job, run_sort: str, figures: Figures, *, chunk_id: str | None = None, extra: dict[str, Any]
    ) -> Item | None:
        """Adds a part's figures to the run (the job's own part, or a worker's chunk). A chunk counts once: a
        redelivered chunk that was already counted changes nothing (None)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if figures.skipped:
            names["#skipped"], values[":zero"] = "skipped", 0
        sets, adds = [], []
        for n, (figure, count) in enumerate(sorted(figures.done.items())):
            names[f"#d{n}"], values[f":d{n}"] = figure, count
            adds.append(f"#d{n} :d{n}")
        for n, (reason, count) in enumerate(sorted(figures.skipped.items())):
            names[f"#r{n}"], values[f":r{n}"] = reason, count
            sets.append(f"#skipped.#r{n} = if_not_exists(#skipped.#r{n}, :zero) + :r{n}")
        for n, (name, value) in enumerate(extra.items()):
            names[f"#e{n}"], values[f":e{n}"] = name, value
            sets.append(f"#e{n} = :e{n}")
        condition = None
        if chunk_id is not None:
            names["#chunks"] = "chunksCounted"
            values[":chunk"], values[":chunk_set"], values[":one"] = chunk_id, {chunk_id}, 1
            adds += ["#chunks :chunk_set", "chunksDone :one"]
            condition = Expression("NOT contains(#chunks, :chunk)")
        text = " ".join(part for part in (
            ("SET " + ", ".join(sets)) if sets else "", ("ADD " + ", ".join(adds)) if adds else "",
        ) if part)  # fmt: skip
        if not text:
            return None  # nothing to add
        try:
            return self._table.update(
                run_key(job, run_sort),
                Expression(text, names, values),
                condition=Expression(condition.text, names, values) if condition else None,
            )
        except ConditionFailed:
            return None

    def close_run(self, job: Job, run_sort: str, status: str, at: datetime) -> None:
        """DONE once every chunk is counted; whoever (the job or the last chunk) sees it first says so."""
        with contextlib.suppress(ConditionFailed):
            self._table.update(
                run_key(job, run_sort),
                Expression(
                    "SET #status = :status, finishedAt = :at", {"#status": "status"},
                    {":status": status, ":at": isoformat(at)},
                ),
                condition=Expression("#status = :running", {"#status": "status"}, {":running": "RUNNING"}),
            )  # fmt: skip

    def runs(self, job: StrEnum, limit: int, cursor: str | None) -> tuple[list[Item], str | None]:
        """A job's kept runs, newest first (the payouts' batches too: they live in `JOBRUN#payouts`)."""
        page = self._table.query(f"JOBRUN#{job.value}", limit=limit, cursor=cursor, newest_first=True)
        return page.items, page.next_cursor
