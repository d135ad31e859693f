"""Consumer of the bus's event-log rule: every domain event written once to the log GET /stream reads.

A batch claims each stream's log numbers in one counter update (`EventLog.batch`), then writes its records
one by one; numbers its failed records did not use become holes at the end, so no reader waits on them.
"""

import json
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bzapper.bootstrap import services
from bzapper.lambda_entry import sqs_batch_handler
from bzapper.ports.events import EventBatch

_batch: ContextVar[EventBatch] = ContextVar("event_log_batch")


def _events(sqs_event: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's events (the EventBridge envelope's detail); a record that does not parse fails on its own."""
    found = []
    for record in sqs_event.get("Records", []):
        try:
            found.append(json.loads(record["body"])["detail"])
        except (KeyError, TypeError, ValueError):
            continue
    return found


def record_handler(record: SQSRecord) -> None:
    _batch.get().append(record.json_body["detail"])


_process = sqs_batch_handler(record_handler, fifo=False)


def handler(event: dict[str, Any], context: Any) -> Any:
    batch = services().event_log.batch(_events(event))
    token = _batch.set(batch)
    try:
        return _process(event, context)
    finally:
        _batch.reset(token)
        batch.close()
