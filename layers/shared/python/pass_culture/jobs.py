"""Scheduled jobs' input. EventBridge Scheduler hands the target the schedule's `Input` as written, with
`<aws.scheduler.scheduled-time>` replaced by the schedule's time: a job takes "now" from there, so it can be
replayed for a past day (locally: `POST /_local/jobs/{job}` with `{"time": ...}`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ValidationError

from pass_culture.clock import FixedClock
from pass_culture.errors import BadRequest
from pass_culture.observability import entry, logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class ReportedJob(StrEnum):
    """The scheduled jobs whose runs are kept in `JOBRUN#<job>` (`GET /admin/job-runs?job=`): the daily jobs' runs, the
    payouts' batches (one per period)."""

    AUTO_VALIDATE = "auto-validate-bookings"
    EXPIRE = "expire-bookings"
    PAYOUTS = "payouts"


class JobEvent(BaseModel):
    job: str
    time: AwareDatetime

    def clock(self) -> FixedClock:
        return FixedClock(self.time)


def parse_job_event(event: dict[str, Any], *, expected_job: str) -> JobEvent:
    try:
        parsed = JobEvent.model_validate(event)
    except ValidationError as error:
        raise BadRequest(f"Invalid job event: {error.errors()[0]['msg']}", code="INVALID_JOB_EVENT") from error
    if parsed.job != expected_job:
        raise BadRequest(f"This function runs '{expected_job}', not '{parsed.job}'.", code="INVALID_JOB_EVENT")
    return parsed


def report(event: JobEvent, **figures: Any) -> dict[str, Any]:
    started: datetime = event.time
    return {"job": event.job, "time": started.isoformat(), **figures}


JobHandler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]


def scheduled_job(job: str, run: Callable[[JobEvent], dict[str, Any]]) -> JobHandler:
    """The Lambda handler of a scheduled job: checks the event is this job's, runs it as of the event's time, returns
    its report (what `POST /_local/jobs/{job}` answers). Scheduler invokes it asynchronously: when it raises (a bad
    event too), Lambda retries it (the function's EventInvokeConfig), then sends the event to its on-failure queue
    (JobsFailureQueue, alarmed). Scheduler's own retry policy and dead-letter queue only cover a failed hand-over."""

    @entry(log_event=True)  # a job's event is its name and its time: nothing personal
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        parsed = parse_job_event(event, expected_job=job)
        logger.info("job started", extra={"job": job, "time": parsed.time.isoformat()})
        figures = run(parsed)
        logger.info("job done", extra={"job": job, **figures})
        return report(parsed, **figures)

    return lambda_handler
