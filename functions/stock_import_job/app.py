"""Scheduled job 'stock-import': Lists the venues connected to a stock provider and queues one import per venue.

Its use case arrives with a later issue: until then the job checks its event, then refuses to run (501)."""

from typing import Any

from aws_lambda_powertools import Logger

from pass_culture.errors import NotImplementedYet
from pass_culture.jobs import JobEvent, scheduled_job

logger = Logger()


def import_stocks(job: JobEvent) -> dict[str, Any]:
    raise NotImplementedYet("The 'stock-import' job is not built yet.")


lambda_handler = scheduled_job("stock-import", import_stocks, logger)
