"""Consumer of the bus's webhook rule: one delivery job per subscribed endpoint."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.bootstrap import services
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.webhooks import fan_out


def record_handler(record: SQSRecord) -> None:
    fan_out(services(), record.json_body["detail"])


handler = sqs_batch_handler(record_handler, fifo=False)
