"""Consumer of the status-updates FIFO queue: the workers' reports become statuses and events."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.domain.model import StatusReport
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.container import services
from bzapper.services.statuses import apply_report


def record_handler(record: SQSRecord) -> None:
    apply_report(services(), StatusReport(**record.json_body))


handler = sqs_batch_handler(record_handler, fifo=True)
