"""Session workers end to end on moto: leases, host processes, fenced reports, takeover."""

from __future__ import annotations

import threading
import time

import pytest
from support.apigw import call

from bzapper.adapters.aws.leases import LeaseStore
from bzapper.adapters.aws.queues import SqsReader
from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.leases import Fence, LeaseLost
from bzapper.topology import SHARD_COUNT
from bzapper.worker.reports import Reporter
from bzapper.worker.runner import EngineSetup, SessionWorker
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.pollers import deliver_batch

ENGINES = {"sandbox": EngineSetup("support.engines:EchoEngine")}
LEASE_MS = 4000


def _start(svc, owner: str) -> tuple[SessionWorker, threading.Thread]:
    worker = SessionWorker(svc, ENGINES, owner=owner, lease_duration_ms=LEASE_MS)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def _eventually(check, timeout: float = 30.0, drain: bool = True):
    """Runs the statuses consumer (as the local pollers do) until `check()` is truthy."""
    statuses = load_function("statuses").handler
    reader = SqsReader(settings().queue("status-updates", fifo=True))
    deadline = time.monotonic() + timeout
    while True:
        if drain:
            deliver_batch(reader, statuses, "statuses", settings().region)
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _send(messages_handler, account, body="Hi") -> str:
    _, _, accepted = call(
        messages_handler,
        "POST",
        "/messages/text",
        body={"instance_id": account.instance_id, "to": "+5511988888888", "body": body},
        headers=account.auth,
    )
    return accepted["message_id"]


def _identity(account, phone: str, lid: str, at: int) -> dict:
    return {
        "kind": "identity",
        "instance_id": account.instance_id,
        "account_id": account.account_id,
        "livemode": False,
        "phone": phone,
        "lid": lid,
        "at": at,
    }


def _status(svc, message_id):
    return svc.messages.get(message_id).status


def test_a_worker_takes_every_shard_opens_its_instances_and_sends(messages_handler, svc, account):
    worker, thread = _start(svc, "wk_one")
    try:
        _eventually(lambda: worker.keeper.held() == list(range(SHARD_COUNT)), drain=False)
        ids = [_send(messages_handler, account, f"m{n}") for n in range(3)]
        _eventually(lambda: all(_status(svc, i) == "sent" for i in ids))
    finally:
        worker.stop.set()
        thread.join(30)
    # A clean stop releases every shard at once.
    assert all(lease.expires_at == 0 for lease in LeaseStore().list_all())


def test_a_dead_workers_shards_are_taken_over_and_its_late_reports_refused(messages_handler, svc, account):
    first, first_thread = _start(svc, "wk_first")
    _eventually(lambda: first.keeper.held() == list(range(SHARD_COUNT)), drain=False)
    shard = svc.instances.get(account.instance_id).shard
    old_token = first.keeper.current(shard).token
    before_takeover = now_ms()
    # The first worker stops heartbeating without letting go, as a paused or partitioned process does.
    first.keeper.stop(release=False)

    second, second_thread = _start(svc, "wk_second")
    try:
        started = time.monotonic()
        _eventually(lambda: second.keeper.held() == list(range(SHARD_COUNT)), drain=False)
        takeover = time.monotonic() - started
        assert takeover < 10 * LEASE_MS / 1000  # within seconds of the lease's expiry
        assert second.keeper.current(shard).token > old_token

        # The first worker's own clock tells it the lease is gone: it stops writing by itself.
        with pytest.raises(LeaseLost):
            first.keeper.fence(shard)

        message_id = _send(messages_handler, account, "after the takeover")
        _eventually(lambda: _status(svc, message_id) == "sent")

        # A write the old holder makes now, with its old token (its check missed the expiry), is refused;
        # one it made before the takeover still counts.
        late = Reporter(lambda s: Fence(s, old_token, now_ms()), lambda *_: None, send=svc.reports.send)
        late.report_now(shard, _identity(account, "+5511977775555", "55443322@lid", now_ms()))
        early = Reporter(lambda s: Fence(s, old_token, before_takeover), lambda *_: None, send=svc.reports.send)
        early.report_now(shard, _identity(account, "+5511977776666", "99887766@lid", before_takeover))
        # Both in the instance's FIFO group, the late one first: once the early one is applied, the late one
        # was seen and refused by the fence alone (a new mapping would otherwise be stored).
        _eventually(lambda: svc.identities.lid_of(account.account_id, "+5511977776666") == "99887766@lid")
        assert svc.identities.lid_of(account.account_id, "+5511977775555") is None
        assert _status(svc, message_id) in ("sent", "delivered", "read")
    finally:
        second.stop.set()
        first.stop.set()
        second_thread.join(30)
        first_thread.join(30)


def test_a_second_worker_gets_a_fair_share(messages_handler, svc, account):
    first, first_thread = _start(svc, "wk_a")
    _eventually(lambda: len(first.keeper.held()) == SHARD_COUNT, drain=False)
    second, second_thread = _start(svc, "wk_b")
    try:
        _eventually(
            lambda: len(first.keeper.held()) == SHARD_COUNT // 2 and len(second.keeper.held()) == SHARD_COUNT // 2,
            drain=False,
        )
        assert set(first.keeper.held()).isdisjoint(second.keeper.held())
        # Sends keep flowing whichever worker holds the number's shard now.
        ids = [_send(messages_handler, account, f"m{n}") for n in range(3)]
        _eventually(lambda: all(_status(svc, i) == "sent" for i in ids))
    finally:
        first.stop.set()
        second.stop.set()
        first_thread.join(30)
        second_thread.join(30)
