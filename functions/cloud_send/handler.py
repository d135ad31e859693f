"""Consumer of the cloud-sends FIFO queue: the sends of Cloud API numbers, through the Graph API.

A job Meta refused for its rate limits (or that failed unexpectedly) is hidden for its backoff with
ChangeMessageVisibility and reported as a batch item failure: SQS keeps it, and the rest of its conversation
waits behind it (FIFO group). Nothing is dropped: a job fails only by a decision (services/cloud.py), or after
every receive at the dead-job consumer.
"""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.bootstrap import services
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.cloud import send_job, transient_backoff


class RetryLater(Exception):
    """Reported as a batch item failure: SQS brings the job back when its visibility ends."""


def _hide(record: SQSRecord, seconds: int) -> None:
    services().delivery_jobs.postpone(record.event_source_arn, record.receipt_handle, seconds)


def record_handler(record: SQSRecord) -> None:
    receives = int(record.attributes.approximate_receive_count or 1)
    try:
        outcome = send_job(services(), record.json_body, receives)
    except Exception:
        _hide(record, transient_backoff(receives))
        raise
    if outcome.hide_seconds is not None:
        _hide(record, outcome.hide_seconds)
        raise RetryLater(record.message_id)


handler = sqs_batch_handler(record_handler, fifo=True)
