"""Notifications: the table's stream is the outbox. Each record's old and new images say what happened; the
emails it calls for are sent with SES, once each. Partial batch failures are reported, so a failed send is retried
alone and ends in the DLQ, never lost."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.notifications.service import NotificationService, build_notification_service

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def service() -> NotificationService:
    return build_notification_service()


def handle_change(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    old = (change.old_image if change else None) or {}
    new = (change.new_image if change else None) or {}
    sent = service().handle_change(str(record.event_id), old, new)
    if sent:
        logger.info("emails sent", extra={"event_id": record.event_id, "count": sent})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_change, processor=processor, context=context)
