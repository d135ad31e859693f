"""Consumer of the status-updates FIFO queue: the workers' fenced reports become statuses, states and events."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.bootstrap import services
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.reports import apply_worker_report


def record_handler(record: SQSRecord) -> None:
    apply_worker_report(services(), record.json_body)


handler = sqs_batch_handler(record_handler, fifo=True)
