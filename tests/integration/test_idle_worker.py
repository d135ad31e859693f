"""What an idle session worker asks AWS for (issue #20): long polls, one lease heartbeat, no scans.

The real `SessionWorker.run` with the real lease (15 s) on moto, every botocore call counted by a
`before-parameter-build` hook (one per call, with its parameters) on the clients the process builds.
Counts only, no timing: `python -m bench.idle` measures the hourly figures (docs/sessions.md, "What an
idle worker costs").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from pynamodb.models import Model

from bzapper.config import settings
from bzapper.topology import SHARD_COUNT
from bzapper.worker.hosts import POLL_WAIT_SECONDS
from bzapper.worker.runner import SessionWorker

IDLE_SECONDS = 7.0
"""Past the first lease renewal (a third of 15 s), short of a second one and of any queue's second long poll."""


class Calls:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def on_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self.lock:
            self.seen.append((model.name, params))

    def count(self) -> Counter[str]:
        with self.lock:
            return Counter(name for name, _ in self.seen)

    def params(self, operation: str) -> list[dict[str, Any]]:
        with self.lock:
            return [params for name, params in self.seen if name == operation]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Counts the calls of every botocore client built from now on (boto3's and PynamoDB's)."""
    recorded = Calls()
    original = botocore.session.Session.create_client

    def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(session, *args, **kwargs)
        client.meta.events.register("before-parameter-build", recorded.on_call)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    # A PynamoDB model keeps the connection (and its botocore client) it first built, in an earlier test of this
    # process perhaps, before the hook: each builds a new one here, so its calls are counted too.
    for model in _models(Model):
        monkeypatch.setattr(model, "_connection", None)
    yield recorded


def _models(base: type) -> Iterator[type]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def test_an_idle_worker_long_polls_and_heartbeats_its_leases_without_scanning(calls, aws, svc):
    worker = SessionWorker(svc, {}, owner="wk_idle")  # the real lease: BZ_LEASE_SECONDS' default, 15 s
    assert worker.keeper.duration_ms == 15_000
    started = time.monotonic()
    idle: list[Counter[str]] = []

    def still_idle() -> bool:
        if time.monotonic() - started < IDLE_SECONDS:
            return True
        idle.append(calls.count())  # what it asked while idle, before its shutdown releases the leases
        return False

    thread = threading.Thread(target=worker.run, args=(still_idle,), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    [count] = idle

    # Every queue of every shard is long-polled with SQS's maximum wait: one receive each so far.
    receives = calls.params("ReceiveMessage")
    assert {params["WaitTimeSeconds"] for params in receives} == {POLL_WAIT_SECONDS} == {20}
    polled = Counter(params["QueueUrl"] for params in receives)
    assert len(polled) == 3 * SHARD_COUNT
    assert set(polled.values()) == {1}
    # A queue's URL is asked for once per process at most (and not at all where the environment gives it).
    names = Counter(params["QueueName"] for params in calls.params("GetQueueUrl"))
    assert all(times == 1 for times in names.values())
    # The lease table is never scanned; its shard leases are renewed together, in one heartbeat round.
    assert count["Scan"] == 0
    # The acquisitions, one renewal round (all four at once) and two heartbeats of the registry, no more.
    assert count["UpdateItem"] <= 2 * SHARD_COUNT + 2
    # One sweep per shard for instances to open, when it is acquired.
    assert count["Query"] == SHARD_COUNT
    assert settings().worker.open_sweep_seconds > IDLE_SECONDS
