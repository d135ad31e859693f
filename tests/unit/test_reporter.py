"""The reporter never loses a report it took: fenced when submitted, sent again when SQS refuses, drained at stop."""

from __future__ import annotations

import time

from bzapper.domain.leases import Fence, LeaseLost
from bzapper.worker.reports import Reporter


class FlakySqs:
    def __init__(self, fail_calls: int = 0, refuse_first_entry: bool = False) -> None:
        self.fail_calls = fail_calls
        self.refuse_first_entry = refuse_first_entry
        self.sent: list[dict] = []

    def __call__(self, reports):
        if self.fail_calls:
            self.fail_calls -= 1
            raise ConnectionError("throttled")
        if self.refuse_first_entry:
            self.refuse_first_entry = False
            self.sent += reports[1:]
            return [0]
        self.sent += reports
        return []


def _wait(check, timeout=30.0):  # a condition, not a timing: the retries alone sleep 1.7 s
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def _report(n: int) -> dict:
    return {"kind": "status", "instance_id": "inst_1", "wa_message_id": f"W{n}", "status": "delivered", "at": n}


def test_a_failed_send_is_retried_and_acks_follow_only_what_was_sent():
    sqs, acked = FlakySqs(fail_calls=2, refuse_first_entry=True), []
    reporter = Reporter(lambda shard: Fence(shard, 7, 100), lambda instance, acks: acked.extend(acks), send=sqs)
    reporter.start()
    for n in range(3):
        reporter.submit(0, _report(n), ack=n)
    _wait(lambda: len(sqs.sent) == 3)
    reporter.stop()
    assert sorted(r["wa_message_id"] for r in sqs.sent) == ["W0", "W1", "W2"]
    assert all(r["fence"] == {"shard": 0, "token": 7, "at": 100} for r in sqs.sent)
    assert sorted(acked) == [0, 1, 2]


def test_the_fence_is_taken_when_submitted_so_a_later_hand_over_loses_nothing():
    holding = {"held": True}

    def fence(shard):
        if not holding["held"]:
            raise LeaseLost(shard)
        return Fence(shard, 3, 50)

    sqs = FlakySqs(fail_calls=1)
    reporter = Reporter(fence, lambda *_: None, send=sqs)
    reporter.submit(0, _report(1))  # made while held
    holding["held"] = False
    reporter.submit(0, _report(2))  # made after the lease was gone: never sent
    reporter.start()
    reporter.stop()  # drains what was queued
    assert [r["wa_message_id"] for r in sqs.sent] == ["W1"]
