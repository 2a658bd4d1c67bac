"""Stock import worker: one SQS message = one venue to import from its provider, page by page, checkpointed.
A provider failure fails the message (retried, then dead-lettered) and the other venues go on; a run that nears
the function's deadline re-queues its venue and the next invocation resumes from the checkpoint."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.observability import correlate, count, entry, logger
from pass_culture.settings import get_settings, require_at_init
from pass_culture.stock_import.queue import MAX_RECEIVES, ImportQueue, build_import_queue, parse_request
from pass_culture.stock_import.service import StockImporter, build_stock_importer
from pass_culture.stock_import.worker import import_venue

require_at_init("stock_import_queue_url")  # else the init fails (the table too)

processor = BatchProcessor(event_type=EventType.SQS)
SAFETY_MARGIN_MS = 300_000  # a page may take 4 × 60 s with its retries: stop starting pages 5 minutes before the end


@cache
def importer() -> StockImporter:
    return build_stock_importer()


@cache
def queue() -> ImportQueue:
    return build_import_queue()


def handle(record: SQSRecord, context: LambdaContext) -> None:
    request = parse_request(record.body)
    correlate(record.message_id, venue_id=request.venue_id)
    report = import_venue(
        importer(),
        queue(),
        request,
        deadline_reached=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS,
        last_attempt=int(record.attributes.approximate_receive_count) >= MAX_RECEIVES,
        allow_loopback=get_settings().allow_loopback_providers,
    )
    logger.info("stock import", extra={"status": report.get("status")})
    count("StockImports")


@entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=lambda record: handle(record, context), processor=processor, context=context
    )
