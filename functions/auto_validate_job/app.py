"""Scheduled job 'auto-validate-bookings' (daily, 03:00 Europe/Paris): free subscription cards (ABO_BIBLIOTHEQUE,
ABO_MEDIATHEQUE, CARTE_MUSEE at price 0) 30 days after booking, and event bookings 48 h after the event start,
become USED with validation author AUTO. Use case: pass_culture/daily_jobs/service.py."""

from functools import cache
from typing import Any

from pass_culture.daily_jobs.service import DailyJobs, build_daily_jobs
from pass_culture.jobs import JobEvent, scheduled_job
from pass_culture.settings import require_at_init

require_at_init("daily_jobs_queue_url")  # else the init fails (the table too)


@cache
def daily_jobs() -> DailyJobs:
    return build_daily_jobs()


def auto_validate_bookings(job: JobEvent) -> dict[str, Any]:
    return daily_jobs().auto_validate(job.time)


lambda_handler = scheduled_job("auto-validate-bookings", auto_validate_bookings)
