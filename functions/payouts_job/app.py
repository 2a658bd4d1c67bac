"""Scheduled job 'payouts' (1st and 16th, 02:00 Europe/Paris, and a check at 08:00): opens or resumes the batch of
the period that just ended and sends its pricing points to the payouts worker. One batch a period, whatever the
retries: a rerun resumes it and pays nothing twice. Use case: pass_culture/payouts/batch.py.

A batch still unfinished 6 hours after it started is reported by the metric `UnfinishedPayoutBatch` (alarmed)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from pass_culture.jobs import JobEvent, scheduled_job
from pass_culture.observability import metrics
from pass_culture.payouts.batch import PayoutBatches, build_payout_batches
from pass_culture.settings import require_at_init

require_at_init("payouts_queue_url")  # else the init fails (the table too)


@cache
def payout_batches() -> PayoutBatches:
    return build_payout_batches()


def pay_period(job: JobEvent) -> dict[str, Any]:
    report = payout_batches().run(job.time)
    # 0 as well as 1: the alarm sees every check run (flushed with the invocation's metrics)
    metrics.add_metric(name="UnfinishedPayoutBatch", unit=MetricUnit.Count, value=1 if report["unfinished"] else 0)
    return report


lambda_handler = scheduled_job("payouts", pay_period)
