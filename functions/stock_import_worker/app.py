"""Stock import worker: one SQS message = one venue to import. Partial batch failures are reported so only the
failed venues are retried (then dead-lettered). The import itself arrives with the stock import issue."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.errors import NotImplementedYet

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


def import_venue(record: SQSRecord) -> None:
    raise NotImplementedYet("The stock import is not built yet.")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=import_venue, processor=processor, context=context)
