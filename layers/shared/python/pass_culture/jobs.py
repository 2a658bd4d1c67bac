"""Scheduled jobs' input. EventBridge Scheduler hands the target the schedule's `Input` as written, with
`<aws.scheduler.scheduled-time>` replaced by the schedule's time: a job takes "now" from there, so it can be
replayed for a past day (locally: `POST /_local/jobs/{job}` with `{"time": ...}`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ValidationError

from pass_culture.clock import FixedClock
from pass_culture.errors import BadRequest

JOBS = ("stock-import", "expire-bookings", "auto-validate-bookings", "payouts")


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
