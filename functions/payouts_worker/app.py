"""Payouts worker: one SQS message = one step of a payout batch (price a pricing point, pay the batch, mark a point's
bookings REIMBURSED; pass_culture/payouts/batch.py). Every step checks its state first, so a redelivered or
redriven message does nothing twice. A failed step is retried by SQS, then dead-lettered (PayoutsDLQ, alarmed)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.observability import correlate, count, entry, logger
from pass_culture.payouts.batch import PayoutBatches, build_payout_batches
from pass_culture.payouts.models import PayoutTask
from pass_culture.settings import require_at_init

require_at_init(
    "payouts_queue_url", "files_bucket", "payouts_debtor_iban", "payouts_debtor_bic"
)  # else the init fails (the table too)

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def payout_batches() -> PayoutBatches:
    return build_payout_batches()


def handle(record: SQSRecord) -> None:
    task = PayoutTask.model_validate_json(record.body)
    correlate(
        record.message_id, period=task.period_start.isoformat(), pricing_point=task.point, offerer_id=task.offerer
    )
    payout_batches().handle(task)
    count(f"Payout{task.step.value.title()}Steps")  # PRICE, PAY (once a batch: the payouts), MARK
    logger.info("payout step done", extra={"step": task.step.value, "period": task.period_start.isoformat(),
                                           "point": task.point})  # fmt: skip


@entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
