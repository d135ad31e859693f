"""Consumer of the shard queues' dead-letter queues: a job no worker could send ends `failed`."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.bootstrap import services
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.statuses import fail_dead_job


def record_handler(record: SQSRecord) -> None:
    fail_dead_job(services(), record.json_body)


handler = sqs_batch_handler(record_handler, fifo=True)
