"""Notifications: the table's stream is the outbox. Each record's old and new images say what happened; the
emails it calls for are sent with SES, once each (every sent email is recorded before the record is done).

A record that fails (after botocore's retries) is parked whole in the DLQ and the batch goes on: the stream keeps
records 24 h and Lambda's on-failure destination gets only their position (notifications/dead_letters.py). Parked
records come back through NotificationsRedriveQueue (docs/operations.md), read here too."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.clock import SystemClock
from pass_culture.notifications.dead_letters import DeadLetters, error_kind, parked_record
from pass_culture.notifications.service import NotificationService, build_dead_letters, build_notification_service
from pass_culture.observability import correlate, count, entry, logger
from pass_culture.settings import require_at_init

require_at_init("sender_email", "notifications_dlq_url")  # else the init fails (the table too)

stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
redrive_processor = BatchProcessor(event_type=EventType.SQS)


@cache
def service() -> NotificationService:
    return build_notification_service()


@cache
def dead_letters() -> DeadLetters:
    return build_dead_letters()


def notify(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    old = (change.old_image if change else None) or {}
    new = (change.new_image if change else None) or {}
    correlate(
        str(record.event_id), entity=new.get("entity") or old.get("entity"), item_id=new.get("id") or old.get("id")
    )
    sent = service().handle_change(str(record.event_id), old, new)
    count("EmailsSent", sent)
    if sent:
        logger.info("emails sent", extra={"count": sent})


def handle_change(record: DynamoDBRecord) -> None:
    try:
        notify(record)
    except Exception as error:  # parked whole; if parking fails too, this raises and Lambda retries the record
        dead_letters().park(record.raw_event, error, SystemClock().now())
        count("EmailsFailed")
        logger.warning("record parked in the DLQ", extra={"event_id": record.event_id, "reason": error_kind(error)})


def handle_parked(record: SQSRecord) -> None:
    """A redriven record: a failure leaves it in the queue, and SQS moves it back to the DLQ after 3 receives."""
    notify(DynamoDBRecord(parked_record(record.body)))


@entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records") or [{}]
    if records[0].get("eventSource") == "aws:sqs":
        return process_partial_response(
            event=event, record_handler=handle_parked, processor=redrive_processor, context=context
        )
    return process_partial_response(
        event=event, record_handler=handle_change, processor=stream_processor, context=context
    )
