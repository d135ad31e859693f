"""Shard leases on DynamoDB (moto): the store's conditions, keepers competing, takeover, fencing, races."""

from __future__ import annotations

import threading

import pytest
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite
from support.leases import FakeClock, MemoryLeaseStore, Recorder

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.leases import LeaseStore, fence_check
from bzapper.adapters.aws.models import LeaseModel, RateLimitModel
from bzapper.domain.leases import Fence, LeaseLost
from bzapper.services.leases import LeaseKeeper
from bzapper.topology import SHARD_COUNT

DURATION = 15_000
MARGIN = 3_000
THIRD = DURATION // 3
T0 = 1_700_000_000_000


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    """The same scenarios against the unit tests' fake and the real store, so the fake stays honest."""
    if request.param == "memory":
        return MemoryLeaseStore()
    request.getfixturevalue("aws")
    return LeaseStore()


def keeper(store, clock, owner, recorder=None) -> LeaseKeeper:
    recorder = recorder or Recorder()
    return LeaseKeeper(
        store,
        owner=owner,
        duration_ms=DURATION,
        safety_margin_ms=MARGIN,
        on_acquired=recorder.acquired,
        on_lost=recorder.lost,
        clock=clock,
    )


# The store ------------------------------------------------------------------------------------


def test_acquisition_is_exclusive_until_expiry_and_every_acquisition_raises_the_token(store):
    first = store.acquire(0, "a", T0, DURATION)
    assert (first.owner, first.token, first.acquired_at, first.expires_at) == ("a", 1, T0, T0 + DURATION)
    assert store.acquire(0, "b", T0 + DURATION - 1, DURATION) is None

    again = store.acquire(0, "a", T0 + 1, DURATION)  # already a's: a new acquisition all the same
    assert again.token == 2

    taken = store.acquire(0, "b", again.expires_at, DURATION)  # expired at this very moment
    assert (taken.owner, taken.token, taken.acquired_at) == ("b", 3, again.expires_at)
    assert store.acquire(1, "b", T0, DURATION).token == 1  # shards are independent


def test_renewal_extends_the_lease_and_keeps_its_token(store):
    lease = store.acquire(0, "a", T0, DURATION)
    renewed = store.renew(lease, T0 + THIRD)
    assert renewed.token == lease.token and renewed.acquired_at == lease.acquired_at
    assert renewed.expires_at == T0 + THIRD + DURATION
    assert store.renew(renewed, T0 + THIRD + 1).token == lease.token  # the old object renews as well


def test_a_paused_holders_renewal_is_refused_after_a_takeover(store):
    lease = store.acquire(0, "a", T0, DURATION)
    taken = store.acquire(0, "b", T0 + DURATION, DURATION)  # a was paused past its expiry
    assert store.renew(lease, T0 + DURATION + 1) is None
    assert store.release(lease) is False
    assert store.list_all() == [taken]


def test_an_expired_or_released_lease_is_not_renewed(store):
    lease = store.acquire(0, "a", T0, DURATION)
    assert store.renew(lease, T0 + DURATION) is None
    fresh = store.acquire(0, "a", T0 + DURATION, DURATION)
    assert store.release(fresh) is True
    assert store.renew(fresh, T0 + DURATION + 1) is None


def test_a_released_shard_is_free_at_once_and_the_next_token_is_higher(store):
    lease = store.acquire(2, "a", T0, DURATION)
    assert store.release(lease) is True
    assert store.list_all()[0].expires_at == 0
    taken = store.acquire(2, "b", T0 + 1, DURATION)
    assert taken.token == lease.token + 1


def test_the_worker_registry(store):
    store.register("a", T0, DURATION)
    store.register("b", T0, DURATION)
    store.acquire(0, "a", T0, DURATION)
    store.unregister("b")
    snapshot = store.snapshot()
    assert snapshot.workers == {"a": T0 + DURATION}
    assert list(snapshot.leases) == [0]


# Keepers on DynamoDB ----------------------------------------------------------------------------


def _owners_in_table(store: LeaseStore, now: int) -> dict[int, str]:
    return {lease.shard: lease.owner for lease in store.list_all() if not lease.expired(now)}


def test_two_keepers_competing_hold_every_shard_exactly_once(aws):
    store, clock = LeaseStore(), FakeClock(T0)
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(k: LeaseKeeper) -> None:
        start.wait()
        try:
            for _ in range(3):
                k.heartbeat()
        except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
            failures.append(error)

    threads = [threading.Thread(target=run, args=(k,)) for k in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert not set(a.held()) & set(b.held())

    for k in (a, b, a, b):  # the hand-over settles
        k.heartbeat()
    assert not set(a.held()) & set(b.held())
    assert sorted(a.held() + b.held()) == list(range(SHARD_COUNT))
    assert len(a.held()) == len(b.held()) == SHARD_COUNT // 2
    table = _owners_in_table(store, clock.now)
    assert table == {**dict.fromkeys(a.held(), "a"), **dict.fromkeys(b.held(), "b")}


def test_a_dead_keepers_shards_are_taken_after_expiry_with_higher_tokens(aws):
    store, clock = LeaseStore(), FakeClock(T0)
    seen_b = Recorder()
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b", seen_b)
    a.heartbeat()
    b.heartbeat()
    a.heartbeat()
    b.heartbeat()
    tokens_of_a = {shard: a.current(shard).token for shard in a.held()}
    assert tokens_of_a

    # a is killed: it never heartbeats nor releases again.
    clock.advance(DURATION - 1)
    b.heartbeat()
    assert set(b.held()).isdisjoint(tokens_of_a)
    clock.advance(1)
    b.heartbeat()

    assert b.held() == list(range(SHARD_COUNT))
    assert all(b.current(shard).token > token for shard, token in tokens_of_a.items())
    assert _owners_in_table(store, clock.now) == dict.fromkeys(range(SHARD_COUNT), "b")
    assert a.held() == []


def test_a_paused_keeper_loses_its_shards_when_it_resumes(aws):
    store, clock = LeaseStore(), FakeClock(T0)
    seen_a = Recorder()
    a, b = keeper(store, clock, "a", seen_a), keeper(store, clock, "b")
    a.heartbeat()
    paused = a.current(0)

    clock.advance(DURATION)  # a is paused (a long GC, a frozen task) past its leases' expiry
    b.heartbeat()
    assert b.held() == list(range(SHARD_COUNT))
    assert store.renew(paused, clock.now) is None
    with pytest.raises(LeaseLost):
        a.fence(0)

    a.heartbeat()  # resumes
    assert sorted(seen_a.of("lost")) == list(range(SHARD_COUNT))
    assert a.held() == []


# Fencing ----------------------------------------------------------------------------------------


def _fenced_write(fence: Fence, key: str) -> bool:
    """A consumer's write guarded by the fence: True when it committed."""
    try:
        with TransactWrite(connection=dynamodb_connection()) as tx:
            fence_check(tx, fence)
            tx.save(RateLimitModel(key, tat=fence.at, expires_at=0))
    except TransactWriteError as error:
        # The fence's check is what cancelled it (PynamoDB sends condition checks first).
        assert [reason.code if reason else None for reason in error.cancellation_reasons] == [
            "ConditionalCheckFailed",
            None,
        ]
        return False
    return True


def _written(key: str) -> bool:
    try:
        RateLimitModel.get(key, consistent_read=True)
    except DoesNotExist:
        return False
    return True


def test_the_fence_refuses_the_old_holders_late_writes_but_not_its_earlier_reports(aws):
    store, clock = LeaseStore(), FakeClock(T0)
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    a.heartbeat()
    clock.advance(1_000)
    before = a.fence(0)  # a reports something while it holds the shard...
    assert _fenced_write(before, "a-while-holding")

    clock.advance(DURATION)  # ...a is paused past expiry, b takes over
    b.heartbeat()
    after = Fence(shard=0, token=before.token, at=clock.now + 1)  # what a would stamp on resuming, unaware

    assert not _fenced_write(after, "a-after-takeover")
    assert not _written("a-after-takeover")
    assert _fenced_write(before, "a-report-delivered-late")  # made before the takeover: still valid
    assert _fenced_write(b.fence(0), "b-holding")


def test_the_fence_refuses_a_write_for_a_shard_never_leased(aws):
    assert not _fenced_write(Fence(shard=3, token=1, at=T0), "nobody")


# Races ------------------------------------------------------------------------------------------


def test_eight_workers_racing_for_one_shard_one_wins(aws):
    store = LeaseStore()
    start = threading.Barrier(8)
    results: dict[str, object] = {}

    def race(owner: str) -> None:
        start.wait()
        try:
            results[owner] = store.acquire(1, owner, T0, DURATION)
        except BaseException as error:
            results[owner] = error

    threads = [threading.Thread(target=race, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    winners = [lease for lease in results.values() if lease is not None]
    assert len(winners) == 1, results
    (winner,) = winners
    assert winner.token == 1
    assert store.list_all() == [winner]


def test_a_heartbeat_answers_every_workers_and_drops_those_dead_for_a_day(aws):
    store = LeaseStore()
    store.register("old", T0, DURATION)
    assert store.register("a", T0, DURATION) == {"old": T0 + DURATION, "a": T0 + DURATION}
    a_day_later = T0 + DURATION + 24 * 3_600_000 + 1_000
    assert "old" in store.register("a", a_day_later, DURATION)  # seen dead for over a day...
    assert store.register("a", a_day_later + THIRD, DURATION) == {"a": a_day_later + THIRD + DURATION}  # ...gone
    assert store.snapshot().workers == {"a": a_day_later + THIRD + DURATION}


def test_the_registry_reads_as_a_dead_worker_to_a_worker_of_the_previous_version(aws):
    """During a rolling deploy, a worker of the previous version still scans the table with the model and
    counts every item that is not a shard as a worker: the registry must parse, and count for nothing."""
    LeaseStore().register("a", T0, DURATION)
    [registry] = [item for item in LeaseModel.scan(consistent_read=True) if item.shard_id == "workers"]
    assert registry.owner == "workers" and int(registry.expires_at) == 0
