"""The local event sources poll as Lambda's event source mappings do: a long poll (an idle stack makes no empty
receive a second per queue), nothing delivered once the stack stops, and a stopping stack does not wait for a
poller parked in its long poll."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from bzapper.config import settings
from bzapper.topology import TOPOLOGY
from bzapper_dev.local.dev import DevStack
from bzapper_dev.local.pollers import POLL_WAIT_SECONDS, SqsPoller, deliver_batch

STATUSES = next(consumer for consumer in TOPOLOGY.consumers if consumer.group == "statuses")


def _poller(handler, stop: threading.Event) -> SqsPoller:
    return SqsPoller(STATUSES, handler, settings(), TOPOLOGY, stop)


def test_a_poller_long_polls_like_an_event_source_mapping(aws):
    stop = threading.Event()
    poller = _poller(lambda event, context: None, stop)
    waits = []

    def receive(max_messages: int, wait_seconds: int) -> list[dict]:
        waits.append((max_messages, wait_seconds))
        stop.set()
        return []

    poller.reader.receive = receive  # type: ignore[method-assign]
    poller.run()
    assert waits == [(STATUSES.batch_size, POLL_WAIT_SECONDS)]
    assert POLL_WAIT_SECONDS == 20  # SQS's longest wait, what the event source mapping uses


def test_a_batch_received_after_the_stop_is_not_delivered_and_comes_back_later(aws):
    stop = threading.Event()
    invoked = []
    poller = _poller(lambda event, context: invoked.append(event), stop)
    poller.reader.receive = lambda max_messages, wait_seconds: (stop.set(), _one_message(poller))[1]  # type: ignore[method-assign]
    deleted = []
    poller.reader.delete = deleted.extend  # type: ignore[method-assign]
    poller.run()
    assert invoked == [] and deleted == []


def _one_message(poller: SqsPoller) -> list[dict]:
    from bzapper.adapters.aws.clients import client

    sqs = client("sqs")
    sqs.send_message(
        QueueUrl=poller.reader.url,
        MessageBody=json.dumps({"kind": "noop"}),
        MessageGroupId="g",
        MessageDeduplicationId="d",
    )
    return sqs.receive_message(QueueUrl=poller.reader.url, MaxNumberOfMessages=1)["Messages"]


def test_deliver_batch_still_delivers_and_deletes_what_succeeded(aws):
    stop = threading.Event()
    poller = _poller(lambda event, context: None, stop)
    seen = []

    def handler(event, context):
        seen.extend(record["body"] for record in event["Records"])
        return {"batchItemFailures": []}

    _one_message_sent(poller)
    assert deliver_batch(poller.reader, handler, "probe", "us-east-1") == 1
    assert seen == [json.dumps({"kind": "noop"})]
    assert deliver_batch(poller.reader, handler, "probe", "us-east-1") == 0  # deleted: not received again


def _one_message_sent(poller: SqsPoller) -> None:
    from bzapper.adapters.aws.clients import client

    client("sqs").send_message(
        QueueUrl=poller.reader.url,
        MessageBody=json.dumps({"kind": "noop"}),
        MessageGroupId="g",
        MessageDeduplicationId="d2",
    )


class _ParkedPoller(threading.Thread):
    """Alive, parked in its long poll: it holds nothing, so nothing waits for it."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.joined = 0

    def is_alive(self) -> bool:
        return True

    def settled(self) -> bool:
        return True

    def join(self, timeout: float | None = None) -> None:
        self.joined += 1


class _Busy(threading.Thread):
    """A thread still at work (a timer's handler): waited for until it ends."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.alive = True
        self.joined = 0

    def is_alive(self) -> bool:
        return self.alive

    def join(self, timeout: float | None = None) -> None:
        self.joined += 1
        self.alive = False


def test_a_stopping_stack_does_not_wait_for_pollers_parked_in_their_long_poll(tmp_path: Path):
    stack = DevStack("127.0.0.1", 0, tmp_path)
    parked, busy = _ParkedPoller(), _Busy()
    stack.threads = [parked, busy]
    stack.shutdown()
    assert parked.joined == 0
    assert busy.joined == 1
