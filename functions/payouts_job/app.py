"""Scheduled job 'payouts': Prices the period's used bookings per pricing point and writes the payment files.

Its use case arrives with a later issue: until then the job checks its event, then refuses to run (501)."""

from typing import Any

from aws_lambda_powertools import Logger

from pass_culture.errors import NotImplementedYet
from pass_culture.jobs import JobEvent, scheduled_job

logger = Logger()


def pay_period(job: JobEvent) -> dict[str, Any]:
    raise NotImplementedYet("The 'payouts' job is not built yet.")


lambda_handler = scheduled_job("payouts", pay_period, logger)
