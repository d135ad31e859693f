"""Hosts are real child processes: a crash (a real abort) is survived, its sessions reopen on a new host."""

from __future__ import annotations

import queue
import time

import pytest
from support.engines import ABORT_BODY, FAIL_BODY, HOLD_BODY

from bzapper.domain.engine import NotConnected, PermanentFailure, SessionSpec
from bzapper.worker.hosts import HostCrashed, HostPool

ENGINE = "support.engines:EchoEngine"


def _job(body: str, wa_id: str = "3EB0AA") -> dict:
    return {"message_id": "msg_1", "type": "text", "content": {"body": body}, "to_jid": "x", "wa_message_id": wa_id}


def _next(events: queue.Queue, kind: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = events.get(timeout=max(deadline - time.monotonic(), 0.01))
        if event["kind"] == kind:
            return event
    raise AssertionError(f"no {kind} event")


@pytest.fixture
def pool():
    events: queue.Queue = queue.Queue()
    hosts = HostPool(ENGINE, {}, events.put, per_host=2)
    hosts.events = events
    yield hosts
    hosts.shutdown()


def test_sessions_are_spread_over_bounded_hosts(pool):
    for n in range(3):
        pool.open(SessionSpec(f"inst_{n}", "acct", False))
    pids = {_next(pool.events, "state")["pid"] for _ in range(3)}
    assert len(pids) == 2  # two per host: the third session needed a second host
    assert [h["sessions"] for h in pool.stats()["hosts"]] == [2, 1]


def test_engine_failures_cross_the_process_boundary_as_the_same_kinds(pool):
    pool.open(SessionSpec("inst_1", "acct", False))
    assert pool.call("inst_1", "send", job=_job("hi"))["wa_message_id"] == "3EB0AA"
    with pytest.raises(PermanentFailure) as failure:
        pool.call("inst_1", "send", job=_job(FAIL_BODY))
    assert failure.value.code == "not_on_whatsapp"
    with pytest.raises(NotConnected) as held:
        pool.call("inst_1", "send", job=_job(HOLD_BODY))
    assert held.value.state == "restricted"
    with pytest.raises(NotConnected):
        pool.call("inst_unknown", "send", job=_job("hi"))


def test_a_host_that_aborts_is_replaced_and_its_sessions_reopen(pool):
    pool.open(SessionSpec("inst_1", "acct", False))
    pool.open(SessionSpec("inst_2", "acct", False))
    first_pid = _next(pool.events, "state")["pid"]
    _next(pool.events, "state")

    with pytest.raises(HostCrashed):
        pool.call("inst_1", "send", job=_job(ABORT_BODY))  # os.abort() in the child: SIGABRT

    reopened = {_next(pool.events, "state")["instance_id"] for _ in range(2)}
    assert reopened == {"inst_1", "inst_2"}
    assert pool.restarts == 1
    # The new host serves both sessions; the supervisor (this process) never noticed more than an exception.
    deadline = time.monotonic() + 30  # a condition: the new host may take a while to start on a loaded machine
    while not (pool.holds("inst_1") and pool.holds("inst_2")) and time.monotonic() < deadline:
        time.sleep(0.05)
    ack = pool.call("inst_2", "send", job=_job("after the crash", "3EB0BB"))
    echo = _next(pool.events, "sent-echo")
    assert ack["wa_message_id"] == "3EB0BB" and echo["pid"] != first_pid
