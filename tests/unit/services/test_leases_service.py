"""The lease keeper (bzapper.services.leases) when the lease table misbehaves: what tests/unit/test_leases.py does
not cover. Faults come from the memory lease store's injection: a release or an unregister that fails, a shard
another worker wins between the keeper's read and its write, a callback that raises."""

from __future__ import annotations

import pytest

from bzapper.adapters.memory import ManualClock
from bzapper.adapters.memory.workers import MemoryLeaseStore
from bzapper.domain.leases import Lease
from bzapper.services.leases import RETRY_MS, LeaseKeeper

DURATION = 15_000
MARGIN = 3_000
SHARDS = 4


class Seen:
    def __init__(self) -> None:
        self.acquired: list[int] = []
        self.lost: list[int] = []


def keeper(store: MemoryLeaseStore, clock: ManualClock, owner: str, seen: Seen | None = None, **kwargs) -> LeaseKeeper:
    seen = seen or Seen()
    return LeaseKeeper(
        store,
        owner=owner,
        shard_count=SHARDS,
        duration_ms=DURATION,
        safety_margin_ms=MARGIN,
        on_acquired=lambda lease: seen.acquired.append(lease.shard),
        on_lost=seen.lost.append,
        clock=clock,
        **kwargs,
    )


@pytest.fixture
def store() -> MemoryLeaseStore:
    return MemoryLeaseStore()


def test_a_shard_won_by_another_worker_between_read_and_write_is_not_taken(store, clock):
    seen = Seen()
    a = keeper(store, clock, "a", seen)

    def another_worker_wins() -> None:  # its conditional write lands first, on the shard a tries next
        shard = min(set(range(SHARDS)) - set(store.leases))
        store.leases[shard] = Lease(shard, "b", 1, clock.now, clock.now + DURATION)

    store.before_next("acquire", another_worker_wins)
    a.heartbeat()

    assert store.call_count("acquire") == SHARDS
    assert len(a.held()) == SHARDS - 1 and set(seen.acquired) == set(a.held())


def test_a_failed_release_at_stop_still_stops_the_shards_work_and_releases_the_others(store, clock):
    seen = Seen()
    a = keeper(store, clock, "a", seen)
    a.heartbeat()
    store.fail_next("release", ConnectionError("DynamoDB unreachable"))

    a.stop()

    assert sorted(seen.lost) == [0, 1, 2, 3] and a.held() == []
    assert sorted(lease.expires_at == 0 for lease in store.leases.values()) == [False, True, True, True]
    assert "a" not in store.workers


def test_a_failed_unregister_does_not_fail_the_stop(store, clock):
    a = keeper(store, clock, "a")
    a.heartbeat()
    store.fail_next("unregister", ConnectionError("DynamoDB unreachable"))
    a.stop()
    assert all(lease.expires_at == 0 for lease in store.leases.values())
    assert "a" in store.workers  # its heartbeat expires instead


def test_an_on_lost_that_raises_still_loses_the_shard(store, clock):
    a = keeper(store, clock, "a")
    a.heartbeat()

    def failing_on_lost(shard: int) -> None:
        raise RuntimeError("the worker's own failure")

    a.on_lost = failing_on_lost
    store.leases[1] = Lease(1, "x", 9, clock.now, clock.now + DURATION)
    clock.advance(DURATION // 3)

    a.heartbeat()  # the renewal of shard 1 is refused

    assert a.held() == [0, 2, 3]


def test_a_failed_snapshot_fails_the_heartbeat_and_changes_nothing(store, clock):
    # Only a keeper under its share reads the shard leases: x, alive, holds three of the four.
    store.workers["x"] = clock.now + 10 * DURATION
    for shard in (0, 1, 2):
        store.leases[shard] = Lease(shard, "x", 1, clock.now, clock.now + 10 * DURATION)
    a = keeper(store, clock, "a")
    a.heartbeat()
    assert a.held() == [3]
    store.fail_next("snapshot", ConnectionError("throttled"))
    with pytest.raises(ConnectionError):
        a.heartbeat()
    assert a.held() == [3]


def test_a_keeper_at_its_share_does_not_read_the_shard_leases(store, clock):
    a = keeper(store, clock, "a")
    a.heartbeat()
    assert store.call_count("snapshot") == 1  # under its share at first: it looks for shards to take
    for _ in range(3):
        clock.advance(DURATION // 3)
        a.heartbeat()
    assert store.call_count("snapshot") == 1
    assert store.call_count("register") == 4
    assert store.call_count("renew") == 3 * SHARDS  # all four renewed together, once per third of the lease


def test_a_stopped_keeper_touches_the_table_no_more(store, clock):
    a = keeper(store, clock, "a")
    a.stop()
    calls = len(store.calls)
    assert a.heartbeat() == RETRY_MS
    assert len(store.calls) == calls


def test_a_keeper_starts_once(store, clock):
    a = keeper(store, clock, "a")
    a.start()
    try:
        with pytest.raises(RuntimeError):
            a.start()
    finally:
        a.stop()
