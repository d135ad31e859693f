"""The webhook dispatcher: signs and POSTs one delivery per record; retries live in SQS visibility."""

import logging
import threading
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.bootstrap import services
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.services.webhooks import DeliveryTally, dispatch

logger = logging.getLogger(__name__)

# The invocation's successful deliveries (per thread: the local runtime may invoke on several): their usage
# counter is added once per invocation, not once per record.
_invocation = threading.local()


class RetryLater(Exception):
    """Reported as a batch item failure: SQS brings the record back when its visibility ends."""


def record_handler(record: SQSRecord) -> None:
    tally = getattr(_invocation, "tally", None)
    if not dispatch(services(), record.json_body, record.event_source_arn, record.receipt_handle, tally):
        raise RetryLater(record.message_id)


_batch = sqs_batch_handler(record_handler, fifo=False)


def handler(event: dict[str, Any], context: Any) -> Any:
    _invocation.tally = tally = DeliveryTally()
    try:
        return _batch(event, context)
    finally:
        _invocation.tally = None
        try:
            tally.flush(services())
        except Exception:  # the deliveries are done and recorded: a lost count is all a failure here costs
            logger.warning("webhook usage: could not add the invocation's deliveries", exc_info=True)
