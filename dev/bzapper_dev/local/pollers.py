"""Local event sources: SQS pollers and timers that invoke the same handlers Lambda would."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from bzapper.adapters.aws.clients import client
from bzapper.adapters.aws.queues import SqsReader
from bzapper.config import Settings
from bzapper.topology import Consumer, Schedule, Topology
from bzapper_dev.local.lambda_context import LocalLambdaContext
from bzapper_dev.local.lambda_events import scheduled_event, sqs_event

logger = logging.getLogger("bzapper_dev.local")

Handler = Callable[[dict[str, Any], Any], Any]

POLL_WAIT_SECONDS = 20
"""The pollers' long poll, as Lambda's event source mapping polls: moto answers as soon as a message arrives, so
the wait never delays one; it only spares the empty receives (at 1 s, the stack's 12 queues cost 12 requests a
second of moto's and this process's CPU while nothing happened)."""

_ARNS: dict[str, str] = {}


def _queue_arn(reader: SqsReader) -> str:
    """A queue's ARN never changes: asked once per queue, not once per batch."""
    url = reader.url
    if url not in _ARNS:
        attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        _ARNS[url] = attributes["QueueArn"]
    return _ARNS[url]


def deliver_batch(reader: SqsReader, handler: Handler, function_name: str, region: str, batch_size: int = 10) -> int:
    """One short poll (1 s) and its delivery: for tests that drive a consumer step by step."""
    messages = reader.receive(max_messages=batch_size, wait_seconds=1)
    return deliver_received(messages, reader, handler, function_name, region) if messages else 0


def deliver_received(messages: list[dict], reader: SqsReader, handler: Handler, function_name: str, region: str) -> int:
    """A received batch, as Lambda's event source mapping with ReportBatchItemFailures delivers it.

    Successful records are deleted; failed ones stay and come back after the visibility timeout
    (and reach the DLQ after maxReceiveCount). A handler that raises fails the whole batch.
    """
    try:
        result = handler(sqs_event(messages, _queue_arn(reader), region), LocalLambdaContext(function_name)) or {}
    except Exception:
        logger.exception("%s failed on a batch of %d", function_name, len(messages))
        return 0
    failed = {failure["itemIdentifier"] for failure in result.get("batchItemFailures", [])}
    done = [message["ReceiptHandle"] for message in messages if message["MessageId"] not in failed]
    if done:
        reader.delete(done)
    return len(done)


class SqsPoller(threading.Thread):
    def __init__(
        self,
        consumer: Consumer,
        handler: Handler,
        settings: Settings,
        topology: Topology,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"poller-{consumer.group}", daemon=True)
        queue = topology.queue(consumer.queue)
        self.reader = SqsReader(settings.queue(queue.dlq_name if consumer.dead_letter else queue.name, queue.fifo))
        self.handler = handler
        self.function_name = f"bzapper-{settings.stage}-{consumer.group}"
        self.region = settings.region
        self.stop = stop
        self.batch_size = consumer.batch_size  # as the event source mapping would (2 for the dispatcher)
        self.receiving = False
        """Parked in its long poll: holding nothing, so a stopping stack need not wait for it."""

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.receiving = True
                messages = self.reader.receive(max_messages=self.batch_size, wait_seconds=POLL_WAIT_SECONDS)
                self.receiving = False
                # What a receive brings after the stop is left alone: it comes back after the visibility timeout.
                if messages and not self.stop.is_set():
                    deliver_received(messages, self.reader, self.handler, self.function_name, self.region)
            except Exception:
                self.receiving = False
                if self.stop.is_set():
                    return  # the stack is stopping: moto may already be gone
                logger.exception("poller %s", self.name)
                self.stop.wait(1.0)

    def settled(self) -> bool:
        """Done, or parked in a receive."""
        return not self.is_alive() or self.receiving


class ScheduleLoop(threading.Thread):
    """moto never fires schedules, so the local runtime keeps the time itself."""

    def __init__(self, schedule: Schedule, handler: Handler, settings: Settings, stop: threading.Event) -> None:
        super().__init__(name=f"schedule-{schedule.group}", daemon=True)
        override = settings.local.schedule_seconds  # BZ_LOCAL_SCHEDULE_SECONDS
        self.every = override if override else float(schedule.every_seconds)
        self.handler = handler
        self.function_name = f"bzapper-{settings.stage}-{schedule.group}"
        self.region = settings.region
        self.stop = stop

    def run(self) -> None:
        arn = f"arn:aws:scheduler:{self.region}:123456789012:schedule/default/{self.function_name}"
        while not self.stop.wait(self.every):
            try:
                self.handler(scheduled_event(arn, self.region), LocalLambdaContext(self.function_name))
            except Exception:
                logger.exception("scheduled %s failed", self.function_name)
