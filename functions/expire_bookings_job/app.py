"""Scheduled job 'expire-bookings': Cancels uncollected bookings past their expiry and sends reminders.

Its use case arrives with a later issue: until then the job checks its event, then refuses to run (501)."""

from typing import Any

from aws_lambda_powertools import Logger

from pass_culture.errors import NotImplementedYet
from pass_culture.jobs import JobEvent, scheduled_job

logger = Logger()


def expire_bookings(job: JobEvent) -> dict[str, Any]:
    raise NotImplementedYet("The 'expire-bookings' job is not built yet.")


lambda_handler = scheduled_job("expire-bookings", expire_bookings, logger)
