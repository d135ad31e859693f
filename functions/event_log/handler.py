"""Consumer of the bus's event-log rule: every domain event written once to the log GET /stream reads."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.container import services


def record_handler(record: SQSRecord) -> None:
    services().event_log.append(record.json_body["detail"])  # the EventBridge envelope's detail


handler = sqs_batch_handler(record_handler, fifo=False)
