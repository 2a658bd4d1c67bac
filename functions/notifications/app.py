"""Notifications: the table's stream is the outbox. Each record's old and new images say what happened; the
emails it calls for are sent with SES. Partial batch failures are reported, so a failed send is retried alone and
ends in the DLQ, never lost. The email rules arrive with the accounts and bookings issues."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.notifications import emails_for_change

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def handle_change(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    emails = emails_for_change(
        old=change.old_image if change else {},
        new=change.new_image if change else {},
    )
    logger.debug("stream record", extra={"event_name": str(record.event_name), "emails": len(emails)})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_change, processor=processor, context=context)
