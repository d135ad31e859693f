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
