"""The webhook dispatcher: signs and POSTs one delivery per record; retries live in SQS visibility."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.bootstrap import services
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.webhooks import dispatch


class RetryLater(Exception):
    """Reported as a batch item failure: SQS brings the record back when its visibility ends."""


def record_handler(record: SQSRecord) -> None:
    if not dispatch(services(), record.json_body, record.event_source_arn, record.receipt_handle):
        raise RetryLater(record.message_id)


handler = sqs_batch_handler(record_handler, fifo=False)
