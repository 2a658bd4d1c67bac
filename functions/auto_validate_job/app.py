"""Scheduled job 'auto-validate-bookings'. Validates free subscription cards 30 days after booking and events
48 h after they start.

Its use case arrives with a later issue: until then it checks its event and refuses to run (501)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.errors import NotImplementedYet
from pass_culture.jobs import parse_job_event

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = parse_job_event(event, expected_job="auto-validate-bookings")
    logger.info("job started", extra={"job": job.job, "time": job.time.isoformat()})
    raise NotImplementedYet("The 'auto-validate-bookings' job is not built yet.")
