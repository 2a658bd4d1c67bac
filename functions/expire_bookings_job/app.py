"""Scheduled job 'expire-bookings' (daily, 00:30 Europe/Paris): uncollected bookings of things that can expire are
cancelled (EXPIRED, places and credit given back) 30 days after booking (books: 10), and the young person is
reminded 7 days before (books: 5). Use case: pass_culture/daily_jobs/service.py."""

from functools import cache
from typing import Any

from pass_culture.daily_jobs.service import DailyJobs, build_daily_jobs
from pass_culture.jobs import JobEvent, scheduled_job
from pass_culture.settings import require_at_init

require_at_init("daily_jobs_queue_url")  # else the init fails (the table too)


@cache
def daily_jobs() -> DailyJobs:
    return build_daily_jobs()


def expire_bookings(job: JobEvent) -> dict[str, Any]:
    return daily_jobs().expire(job.time)


lambda_handler = scheduled_job("expire-bookings", expire_bookings)
