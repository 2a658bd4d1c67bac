"""Daily jobs' worker: one SQS message = a chunk of a large day's candidates (validate, expire or remind), acted on
as of its run's time, its figures added to the run's report. A failed chunk is retried by SQS, then dead-lettered
(DailyJobsDLQ: redrive it once the cause is fixed; what was done is recognised, nothing is done twice)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.daily_jobs.queue import parse_chunk
from pass_culture.daily_jobs.service import DailyJobs, build_daily_jobs
from pass_culture.observability import correlate, entry, logger
from pass_culture.settings import require_at_init

require_at_init()  # else the init fails (the table too)

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def daily_jobs() -> DailyJobs:
    return build_daily_jobs()


def handle(record: SQSRecord) -> None:
    correlate(record.message_id)
    chunk = parse_chunk(record.body)
    daily_jobs().handle_chunk(chunk)
    logger.info("chunk done", extra={"job": chunk.job.value, "chunk": chunk.chunk_id, "size": len(chunk.candidates)})


@entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
