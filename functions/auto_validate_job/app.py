"""Scheduled job 'auto-validate-bookings': Validates free subscription cards 30 days after booking and events 48 h
after they start.

Its use case arrives with a later issue: until then the job checks its event, then refuses to run (501)."""

from typing import Any

from aws_lambda_powertools import Logger

from pass_culture.errors import NotImplementedYet
from pass_culture.jobs import JobEvent, scheduled_job

logger = Logger()


def auto_validate_bookings(job: JobEvent) -> dict[str, Any]:
    raise NotImplementedYet("The 'auto-validate-bookings' job is not built yet.")


lambda_handler = scheduled_job("auto-validate-bookings", auto_validate_bookings, logger)
