"""Commands arrive late, twice, out of order (a standard queue): the worker acts only on those that still stand."""

from __future__ import annotations

import pytest
from support.leases import MemoryLeaseStore

from bzapper.domain.leases import Lease
from bzapper.worker.runner import SessionWorker, ShardWork


@pytest.fixture
def worker(svc, account):
    worker = SessionWorker(svc, {}, lease_store=MemoryLeaseStore())
    shard = svc.instances.get(account.instance_id).shard
    worker._shards[shard] = ShardWork(shard, Lease(shard, "me", 1, 0, 2**62))
    worker.opened = []
    worker._open_view = lambda view: worker.opened.append((view.instance_id, view.active)) or True
    return worker


def _command(svc, account, op):
    ref = svc.instances.get(account.instance_id)
    return {
        "op": op,
        "instance_id": ref.instance_id,
        "account_id": ref.account_id,
        "livemode": False,
        "engine": ref.engine,
        "shard": ref.shard,
    }


def test_an_open_stands_while_the_instance_is_active(worker, svc, account):
    assert worker._open(_command(svc, account, "open"), for_logout=False)
    svc.instances.set_active(account.instance_id, False)
    assert not worker._open(_command(svc, account, "open"), for_logout=False)
    assert worker.opened == [(account.instance_id, True)]


def test_a_logout_stands_only_while_the_instance_is_inactive_or_gone(worker, svc, account):
    command = _command(svc, account, "logout")
    assert not worker._open(command, for_logout=True)  # active again: a logout overtaken by a new pairing
    svc.instances.set_active(account.instance_id, False)
    assert worker._open(command, for_logout=True)
    svc.instances.delete(account.instance_id)
    assert worker._open(command, for_logout=True)  # deleted: still unlinked, from the command's own facts
    assert not worker._open(_command_of_gone(command, "open"), for_logout=False)  # but never reopened
    assert [active for _, active in worker.opened] == [False, False]


def test_nothing_is_opened_for_a_shard_held_elsewhere(worker, svc, account):
    worker._shards.clear()
    assert not worker._open(_command(svc, account, "open"), for_logout=False)


def _command_of_gone(command, op):
    return {**command, "op": op}


def test_a_number_whose_engine_no_worker_runs_says_so_once_and_its_qr_explains(svc, account, monkeypatch):
    """F23: a live number on a stack without whatsmeow had a QR 'not ready' forever and an ERROR log every sweep."""
    from support.apigw import call

    from bzapper_dev.local.functions import load_function

    worker = SessionWorker(svc, {}, lease_store=MemoryLeaseStore())  # no engine at all
    reports: list[dict] = []
    monkeypatch.setattr(worker.reporter, "submit", lambda shard, report, ack=None: reports.append(report))
    svc.instances.set_status(account.instance_id, "disconnected")
    assert worker._open_view(svc.instances.view(account.instance_id)) is False
    [report] = reports
    assert (report["kind"], report["state"], report["error"]) == ("state", "disconnected", "engine_unavailable")

    svc.instances.apply_state(
        account.instance_id, status="disconnected", at=report["at"], qr=None, phone=None, lid=None, push_name=None,
        error="engine_unavailable",
    )  # fmt: skip
    assert worker._open_view(svc.instances.view(account.instance_id)) is False
    assert len(reports) == 1  # the next sweeps say nothing more

    instances = load_function("instances").handler
    status, _, error = call(instances, "GET", f"/instances/{account.instance_id}/qr", headers=account.auth)
    assert (status, error["code"]) == (422, "not_supported")
    assert "sandbox" in error["message"]
