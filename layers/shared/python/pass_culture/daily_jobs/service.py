"""The daily jobs' use cases. A run takes "now" from its schedule's event, reads its candidates day by day from the
due index (`rules` says which days), acts on each with a conditional write, and reports. It handles the first
`IN_PROCESS_LIMIT` candidates itself and sends the rest, in chunks, to the worker through SQS (`queue`), which
adds its figures to the same report: one run handles a day of 100 000 candidates within Lambda's 15 minutes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pass_culture.clock import Clock, SystemClock, isoformat, paris_date
from pass_culture.daily_jobs.models import Candidate, Chunk, Figures
from pass_culture.daily_jobs.repository import DailyJobsRepository
from pass_culture.daily_jobs.rules import (
    CHUNK_SIZE,
    IN_PROCESS_LIMIT,
    Action,
    Job,
    auto_validation_reading,
    event_moved,
    expiry_reading,
    reminder_expiry_days,
    skip_reason,
)
from pass_culture.ids import new_id
from pass_culture.jobs import ReportedJob

if TYPE_CHECKING:
    from pass_culture.collective.repository import CollectiveRepository


class ChunkQueue(Protocol):
    def send(self, chunk: Chunk) -> None: ...


class DailyJobs:
    def __init__(
        self,
        repository: DailyJobsRepository,
        queue: ChunkQueue,
        *,
        wall_clock: Clock | None = None,
        in_process_limit: int = IN_PROCESS_LIMIT,
        chunk_size: int = CHUNK_SIZE,
        monotonic: Callable[[], float] = time.monotonic,
        collective: CollectiveRepository | None = None,
    ) -> None:
        self._repository = repository
        self._collective = collective
        self._queue = queue
        self._wall = wall_clock or SystemClock()  # when a run really started (its reports sort by it)
        self._in_process_limit = in_process_limit
        self._chunk_size = chunk_size
        self._monotonic = monotonic

    # -- the two jobs --------------------------------------------------------------------------------------------
    def auto_validate(self, now: datetime) -> dict[str, Any]:
        """Free subscription cards 30 days after booking, events 48 h after they start: USED, by AUTO."""
        reading = auto_validation_reading(self._repository.done_through(Job.AUTO_VALIDATE), now)
        sources = [(Action.VALIDATE, self._repository.due_for_validation(day, now)) for day in reading.days]
        collective = self._collective_used(reading.days, now)
        return self._run(Job.AUTO_VALIDATE, now, reading.days, sources, reading.done_through, collective)

    def _collective_used(self, days: tuple[date, ...], now: datetime) -> dict[str, int]:
        """Confirmed collective bookings 48 h after their event: USED (AUTO), one conditional write each, the same
        days read as the individual ones (a school's few bookings a day: handled here, never chunked). Reported as
        `collectiveValidated` when there were any."""
        if self._collective is None:
            return {}
        done = sum(
            self._collective.mark_used(item, now) for day in days for page in self._collective.due_used(day, now)
            for item in page
        )  # fmt: skip
        return {"collectiveValidated": done} if done else {}

    def expire(self, now: datetime) -> dict[str, Any]:
        """Uncollected things cancelled (EXPIRED) on their expiry day; reminders to those expiring in the coming
        days whose reminder is due."""
        reading = expiry_reading(self._repository.done_through(Job.EXPIRE), now)
        today = paris_date(now)
        sources = [(Action.REMIND, self._repository.due_for_reminder(day, today)) for day in reminder_expiry_days(now)]
        sources += [(Action.EXPIRE, self._repository.due_for_expiry(day)) for day in reading.days]
        collective = self._collective_expired(reading.days, now)
        return self._run(Job.EXPIRE, now, reading.days, sources, reading.done_through, collective)

    def _collective_expired(self, days: tuple[date, ...], now: datetime) -> dict[str, int]:
        """PENDING collective bookings their head did not confirm by the booking limit: CANCELLED (EXPIRED), the
        stock bookable again. Reported as `collectiveExpired` when there were any."""
        if self._collective is None:
            return {}
        done = sum(
            self._collective.expire(item, now) for day in days for page in self._collective.due_expired(day)
            for item in page
        )  # fmt: skip
        return {"collectiveExpired": done} if done else {}

    # -- the worker ----------------------------------------------------------------------------------------------
    def handle_chunk(self, chunk: Chunk) -> None:
        """Acts on a chunk and adds its figures to its run, once (SQS may deliver a chunk twice: what this run had
        already done is recognised and counted as done, and the chunk's figures are added only the first time)."""
        figures = self._act(chunk.action, chunk.candidates, chunk.time)
        after = self._repository.add_figures(chunk.job, chunk.run_key, figures, chunk_id=chunk.chunk_id, extra={})
        queued = None if after is None else after.get("chunksQueued")
        if after is not None and queued is not None and int(after.get("chunksDone", 0)) >= int(queued):
            self._repository.close_run(chunk.job, chunk.run_key, "DONE", self._wall.now())

    # -- a run ---------------------------------------------------------------------------------------------------
    def _run(
        self,
        job: Job,
        now: datetime,
        days: tuple[date, ...],
        sources: list[tuple[Action, Iterator[list[Candidate]]]],
        done_through: date,
        reported: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        started, clock_start = self._wall.now(), self._monotonic()
        run_id = new_id()
        run_sort = f"{isoformat(started)}#{run_id}"
        report: dict[str, Any] = {
            "job": job.value, "runId": run_id, "time": isoformat(now), "startedAt": isoformat(started),
            "status": "RUNNING",
            "daysRead": {"from": days[0].isoformat(), "to": days[-1].isoformat()} if days else None,
        }  # fmt: skip
        self._repository.start_run(job, run_sort, report)
        figures, candidates, chunks_queued, in_process = Figures(), 0, 0, 0
        pending: dict[Action, list[Candidate]] = {}

        def dispatch(action: Action, batch: list[Candidate]) -> None:
            """A full chunk (or the last one): handled here while under the limit, else queued for the worker."""
            nonlocal chunks_queued, in_process
            if in_process + len(batch) <= self._in_process_limit:
                figures.add(self._act(action, batch, now))
                in_process += len(batch)
            else:
                chunks_queued = self._send(job, run_sort, action, now, batch, chunks_queued)

        try:
            for action, pages in sources:
                for page in pages:
                    for candidate in page:
                        candidates += 1
                        waiting = pending.setdefault(action, [])
                        waiting.append(candidate)
                        if len(waiting) == self._chunk_size:
                            dispatch(action, waiting)
                            pending[action] = []
            for action, waiting in pending.items():
                if waiting:
                    dispatch(action, waiting)
        except Exception as error:
            self._repository.add_figures(job, run_sort, figures, extra={
                "status": "FAILED", "failure": f"{type(error).__name__}: {error}"[:500], "candidates": candidates,
            })  # fmt: skip
            raise
        self._repository.advance(job, done_through)
        duration_ms = round((self._monotonic() - clock_start) * 1000)
        extra = {"candidates": candidates, "chunksQueued": chunks_queued, "durationMs": duration_ms, **(reported or {})}
        after = self._repository.add_figures(job, run_sort, figures, extra=extra) or {}
        if int(after.get("chunksDone", 0)) >= chunks_queued:
            self._repository.close_run(job, run_sort, "DONE", self._wall.now())
        return {
            **report, **extra, **dict(figures.done), "skipped": dict(figures.skipped),
            "handledInProcess": in_process,
            "status": "DONE" if chunks_queued == 0 else "QUEUED",
        }  # fmt: skip

    def _act(self, action: Action, candidates: list[Candidate], now: datetime) -> Figures:
        figures = Figures()
        starts: dict[str, datetime | None] = {}
        if action is Action.VALIDATE:
            self._repository.mark_payable(candidates, now)
            starts = self._repository.event_starts(candidates)
        for candidate in candidates:
            moved_to = event_moved(candidate.event_date, starts.get(candidate.stock_id), now)
            if moved_to is not None:  # the venue moved the event later: due again 48 h after its new start
                done, current = self._repository.reschedule(candidate, moved_to)
                figures.skipped["EVENT_MOVED" if done else (skip_reason(action, current, now) or "EVENT_MOVED")] += 1
                continue
            done, current = self._repository.act(action, candidate, now)
            figures.count(action, None if done else skip_reason(action, current, now))
        return figures

    def _send(self, job: Job, run_sort: str, action: Action, now: datetime, batch: list[Candidate], sent: int) -> int:
        """Queues one chunk; answers how many are queued now."""
        chunk_id = f"{sent:06d}"
        self._queue.send(Chunk(job=job, run_key=run_sort, chunk_id=chunk_id, action=action, time=now, candidates=batch))
        return sent + 1


RUN_FIELDS_HIDDEN = ("PK", "SK", "entity", "chunksCounted")


def job_runs(repository: DailyJobsRepository, job: ReportedJob, limit: int, cursor: str | None) -> dict[str, Any]:
    """`GET /admin/job-runs?job=`: a job's runs' reports, newest first (the worker's chunks included as counted)."""
    items, next_cursor = repository.runs(job, limit, cursor)
    return {
        "items": [{name: value for name, value in item.items() if name not in RUN_FIELDS_HIDDEN} for item in items],
        "nextCursor": next_cursor,
    }


def build_daily_jobs_repository() -> DailyJobsRepository:
    from pass_culture import aws
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    return DailyJobsRepository(Table(aws.dynamodb(), get_settings().table_name))


def build_daily_jobs() -> DailyJobs:
    from pass_culture import aws
    from pass_culture.daily_jobs.queue import SqsChunkQueue
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    settings = get_settings()
    table = Table(aws.dynamodb(), settings.table_name)
    from pass_culture.collective.repository import CollectiveRepository

    queue = SqsChunkQueue(aws.client("sqs"), settings.daily_jobs_queue_url)
    return DailyJobs(DailyJobsRepository(table), queue, collective=CollectiveRepository(table))
