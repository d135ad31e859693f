"""A worker long-polls its shards' queues for 20 s (issue #20): a stopping shard does not wait for a consumer
parked in its receive, and whatever that receive brings after the stop goes back to the queue untouched."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from bzapper.adapters.memory import MemoryLeaseStore, memory_fakes
from bzapper.domain.leases import Lease
from bzapper.worker import runner as runner_module
from bzapper.worker.control import CommandHandler
from bzapper.worker.hosts import POLL_WAIT_SECONDS
from bzapper.worker.runner import ParkedReader, SessionWorker, ShardWork


class BlockingReader:
    """A queue whose receive blocks (a long poll) until the test lets it answer."""

    def __init__(self, answer: list[dict[str, Any]] | None = None) -> None:
        self.answer = answer or []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.hidden: list[tuple[list[str], int]] = []
        self.deleted: list[str] = []

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[dict[str, Any]]:
        self.entered.set()
        self.release.wait(30)
        answer, self.answer = self.answer, []
        return answer

    def hide(self, receipt_handles: list[str], seconds: int) -> None:
        self.hidden.append((list(receipt_handles), seconds))

    def delete(self, receipt_handles: list[str]) -> None:
        self.deleted += receipt_handles


def test_a_worker_with_the_real_lease_polls_for_sqs_maximum():
    worker = SessionWorker(memory_fakes().services, {}, lease_store=MemoryLeaseStore(), lease_duration_ms=15_000)
    assert worker.poll_wait == POLL_WAIT_SECONDS == 20


def test_a_stopping_shard_does_not_wait_for_a_consumer_parked_in_a_long_poll(monkeypatch: pytest.MonkeyPatch):
    # A teardown that waited for the parked consumer would wait this long (its receive never returns by itself).
    monkeypatch.setattr(runner_module, "TEARDOWN_SECONDS", 3600.0)
    worker = SessionWorker(memory_fakes().services, {}, lease_store=MemoryLeaseStore())
    reader = BlockingReader()
    parked = ParkedReader(reader)
    work = ShardWork(0, Lease(0, "w", 1, 0, 1))
    consumer = threading.Thread(target=lambda: parked.receive(wait_seconds=20), name="shard-0-jobs", daemon=True)
    work.threads.append(consumer)
    work.readers[consumer.name] = parked
    worker._shards[0] = work
    consumer.start()
    assert reader.entered.wait(10)

    teardown = threading.Thread(target=worker._lost, args=(0, work), daemon=True)
    teardown.start()
    teardown.join(30)

    assert not teardown.is_alive()  # returned while the consumer is still in its receive
    assert consumer.is_alive() and work.stop.is_set() and 0 not in worker._shards
    reader.release.set()
    consumer.join(10)


def test_what_a_control_receive_brings_after_the_stop_is_given_back_untouched():
    handled: list[dict[str, Any]] = []
    handler = CommandHandler(
        memory_fakes().services,
        open_instance=lambda *args, **kwargs: handled.append(args[0]) or True,
        close_instance=lambda *args: None,
        call=lambda *args, **kwargs: None,
    )
    command = {"op": "open", "instance_id": "ins_1"}
    reader = BlockingReader([{"Body": json.dumps(command), "ReceiptHandle": "r1"}])
    stop = threading.Event()
    consumer = threading.Thread(target=handler.consume, args=(reader, stop, 20), daemon=True)
    consumer.start()
    assert reader.entered.wait(10)
    stop.set()  # the shard stops while its control consumer is parked in a receive
    reader.release.set()
    consumer.join(10)

    assert not consumer.is_alive()
    assert handled == [] and reader.deleted == []
    assert reader.hidden == [(["r1"], 0)]  # visible at once to the shard's next holder
