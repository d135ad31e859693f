"""Shard leases: the pure rules, and the keeper driven heartbeat by heartbeat on a fake store and clock."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable

import pytest
from support.leases import FakeClock, MemoryLeaseStore, Recorder

from bzapper.domain import leases as rules
from bzapper.domain.leases import Fence, Lease, LeaseLost
from bzapper.services.leases import LeaseKeeper, lease_duration_ms

DURATION = 15_000
MARGIN = 3_000
THIRD = DURATION // 3
SHARDS = 4


def keeper(store, clock, owner, recorder=None, **kwargs) -> LeaseKeeper:
    recorder = recorder or Recorder()
    return LeaseKeeper(
        store,
        owner=owner,
        shard_count=SHARDS,
        duration_ms=DURATION,
        safety_margin_ms=MARGIN,
        on_acquired=recorder.acquired,
        on_lost=recorder.lost,
        clock=clock,
        **kwargs,
    )


# Pure rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shards", "workers", "share"), [(4, 1, 4), (4, 2, 2), (4, 3, 2), (4, 4, 1), (4, 9, 1), (4, 0, 4), (5, 2, 3)]
)
def test_fair_share_rounds_up_so_the_shares_cover_every_shard(shards, workers, share):
    assert rules.fair_share(shards, workers) == share
    assert rules.fair_share(shards, workers) * max(1, workers) >= shards


def test_live_workers_count_unexpired_heartbeats_and_always_oneself():
    workers = {"a": 2_000, "b": 1_000, "c": 999}
    assert rules.live_workers(workers, "a", 1_000) == 1
    assert rules.live_workers(workers, "z", 1_000) == 2
    assert rules.live_workers({}, "z", 1_000) == 1


def test_renewal_is_due_every_third_of_the_lease():
    lease = Lease(0, "a", 1, acquired_at=0, expires_at=DURATION)
    assert not rules.renewal_due(lease, THIRD - 1, DURATION)
    assert rules.renewal_due(lease, THIRD, DURATION)
    assert rules.renew_interval_ms(DURATION) == THIRD


def test_a_holder_stops_writing_a_margin_before_expiry():
    lease = Lease(0, "a", 1, acquired_at=0, expires_at=DURATION)
    assert rules.safe_to_write(lease, DURATION - MARGIN - 1, MARGIN)
    assert not rules.safe_to_write(lease, DURATION - MARGIN, MARGIN)
    assert rules.default_safety_margin_ms(DURATION) == MARGIN


def test_only_free_expired_released_or_own_shards_are_taken():
    now = 10_000
    leases = {
        0: Lease(0, "b", 3, 0, now + 1),  # b holds it
        1: Lease(1, "b", 2, 0, now),  # expired at this very moment
        2: Lease(2, "b", 5, 0, 0),  # released
        3: Lease(3, "a", 1, 0, now + 5_000),  # already a's
        # 4: never leased
    }
    chosen = rules.choose_acquisitions(leases, "a", held=set(), now=now, want=10, shard_count=5)
    assert sorted(chosen) == [1, 2, 3, 4]
    assert rules.choose_acquisitions(leases, "a", held={3}, now=now, want=10, shard_count=5) == [
        shard for shard in chosen if shard != 3
    ]
    assert len(rules.choose_acquisitions(leases, "a", held=set(), now=now, want=2, shard_count=5)) == 2
    assert rules.choose_acquisitions(leases, "a", held=set(), now=now, want=0, shard_count=5) == []


def test_workers_start_looking_at_different_shards():
    firsts = {rules.choose_acquisitions({}, f"wk_{n}", set(), 0, 1, 16)[0] for n in range(20)}
    assert len(firsts) > 1
    assert rules.choose_acquisitions({}, "wk_1", set(), 0, 1, 16) == rules.choose_acquisitions(
        {}, "wk_1", set(), 0, 1, 16
    )


def test_over_the_share_the_newest_leases_are_given_up():
    held = {
        0: Lease(0, "a", 1, acquired_at=100, expires_at=9_000),
        1: Lease(1, "a", 1, acquired_at=300, expires_at=9_000),
        2: Lease(2, "a", 1, acquired_at=200, expires_at=9_000),
    }
    assert rules.choose_releases(held, 1) == [1, 2]
    assert rules.choose_releases(held, 3) == []
    assert rules.choose_releases(held, 5) == []


def test_under_its_share_a_worker_wakes_when_another_lease_expires():
    mine = [Lease(0, "a", 1, acquired_at=0, expires_at=DURATION)]
    others = [Lease(1, "b", 1, acquired_at=0, expires_at=2_000), Lease(2, "b", 1, 0, 0)]
    assert rules.next_heartbeat_in(mine, others, 1_000, DURATION, wants_more=True) == 1_000
    assert rules.next_heartbeat_in(mine, others, 1_000, DURATION, wants_more=False) == THIRD - 1_000
    # An overdue renewal never makes the loop spin.
    assert rules.next_heartbeat_in(mine, [], DURATION, DURATION, wants_more=False) == rules.MIN_WAIT_MS


def test_a_fence_travels_as_json():
    fence = Fence(shard=3, token=7, at=1_700_000_000_123)
    assert Fence.from_json(json.loads(json.dumps(fence.to_json()))) == fence


def test_lease_keys():
    assert rules.shard_key(3) == "shard-3"
    assert rules.shard_of("shard-3") == 3
    assert rules.shard_of(rules.worker_key("shard-3")) is None
    assert rules.shard_of("shard-x") is None


def test_the_lease_duration_comes_from_the_environment(environment):
    environment.unset("BZ_LEASE_SECONDS")
    assert lease_duration_ms() == 15_000
    environment.set("BZ_LEASE_SECONDS", "2.5")
    assert lease_duration_ms() == 2_500


# The keeper -----------------------------------------------------------------------------------


def test_a_lone_keeper_takes_every_shard_and_fences_its_writes():
    store, clock, seen = MemoryLeaseStore(), FakeClock(), Recorder()
    a = keeper(store, clock, "a", seen)

    a.heartbeat()

    assert sorted(seen.of("acquired")) == [0, 1, 2, 3]
    assert a.held() == [0, 1, 2, 3]
    lease = a.current(2)
    assert lease and lease.token == 1 and lease.owner == "a" and lease.expires_at == clock.now + DURATION
    clock.advance(10)
    assert a.fence(2) == Fence(shard=2, token=1, at=clock.now)


def test_leases_are_renewed_every_third_with_the_same_token():
    store, clock = MemoryLeaseStore(), FakeClock()
    a = keeper(store, clock, "a")
    a.heartbeat()
    first = a.current(0)

    clock.advance(THIRD - 1)
    store.calls.clear()
    a.heartbeat()
    assert "renew" not in store.calls

    clock.advance(1)
    wait = a.heartbeat()
    assert store.calls.count("renew") == SHARDS
    renewed = a.current(0)
    assert renewed.token == first.token and renewed.acquired_at == first.acquired_at
    assert renewed.expires_at == clock.now + DURATION
    assert wait == THIRD


def test_a_stalled_keeper_stops_trusting_its_leases_by_its_own_clock():
    store, clock, seen = MemoryLeaseStore(), FakeClock(), Recorder()
    a = keeper(store, clock, "a", seen)
    a.heartbeat()

    clock.advance(DURATION - MARGIN - 1)  # no heartbeat ran meanwhile: the process was stalled
    assert a.current(0) is not None
    clock.advance(1)
    assert a.current(0) is None and a.held() == []
    with pytest.raises(LeaseLost):
        a.fence(0)

    a.heartbeat()  # resumed: the old leases are lost; still free in the table, so taken again, fenced anew
    assert sorted(seen.of("lost")) == [0, 1, 2, 3]
    assert a.current(0).token == 2


def test_a_second_keeper_takes_over_once_the_first_stops_heartbeating():
    store, clock = MemoryLeaseStore(), FakeClock()
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    a.heartbeat()
    b.heartbeat()  # every shard is a's and still valid
    assert b.held() == []

    # a dies: no more heartbeats, no release. b, under its share, wakes exactly when a's leases expire.
    clock.advance(DURATION - 4_000)
    wait = b.heartbeat()
    assert b.held() == [] and wait == 4_000
    clock.advance(wait)
    b.heartbeat()

    assert b.held() == [0, 1, 2, 3]
    assert all(lease.owner == "b" and lease.token == 2 for lease in store.list_all())
    assert a.held() == []


def test_a_new_keeper_gets_its_share_by_handover():
    store, clock = MemoryLeaseStore(), FakeClock()
    seen_a = Recorder()
    a, b = keeper(store, clock, "a", seen_a), keeper(store, clock, "b")
    a.heartbeat()

    # a must have stopped a shard's work before the table frees it.
    seen_a.on_lost_hook = lambda shard: observed.append(store.leases[shard].expires_at > clock.now)
    observed: list[bool] = []
    b.heartbeat()  # b registers; a still holds all four
    a.heartbeat()  # a sees two workers: keeps two, hands two over
    b.heartbeat()

    assert len(a.held()) == len(b.held()) == 2
    assert set(a.held()) | set(b.held()) == {0, 1, 2, 3}
    assert observed == [True, True]
    for lease in store.list_all():
        holder = a if lease.shard in a.held() else b
        assert lease.owner == holder.owner and holder.current(lease.shard) == lease
    assert sorted(seen_a.of("lost")) == sorted(b.held())
    assert all(b.current(shard).token == 2 for shard in b.held())


def test_stop_gives_every_shard_up_at_once():
    store, clock, seen = MemoryLeaseStore(), FakeClock(), Recorder()
    a, b = keeper(store, clock, "a", seen), keeper(store, clock, "b")
    a.heartbeat()

    a.stop()

    assert sorted(seen.of("lost")) == [0, 1, 2, 3]
    assert all(lease.expires_at == 0 for lease in store.list_all())
    assert "a" not in store.workers
    b.heartbeat()  # no wait for an expiry
    assert b.held() == [0, 1, 2, 3]
    assert a.heartbeat() and a.held() == []  # a stopped keeper takes nothing


def test_stop_without_release_leaves_the_leases_to_expire():
    store, clock = MemoryLeaseStore(), FakeClock()
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    a.heartbeat()
    a.stop(release=False)
    b.heartbeat()
    assert b.held() == []
    clock.advance(DURATION)
    b.heartbeat()
    assert b.held() == [0, 1, 2, 3]


def test_a_refused_renewal_loses_the_shard():
    store, clock, seen = MemoryLeaseStore(), FakeClock(), Recorder()
    a = keeper(store, clock, "a", seen)
    a.heartbeat()
    clock.advance(THIRD)

    # Just before a's renewal. A keeper at its share reads no shard lease: its renewal's condition finds it.
    old = store.leases[0]
    store.leases[0] = Lease(0, "x", old.token + 1, clock.now, clock.now + DURATION)
    a.heartbeat()

    assert seen.of("lost") == [0]
    assert a.current(0) is None and a.held() == [1, 2, 3]
    with pytest.raises(LeaseLost):
        a.fence(0)


def test_a_shard_taken_over_behind_a_keepers_back_is_lost_at_its_next_renewal():
    store, clock, seen = MemoryLeaseStore(), FakeClock(), Recorder()
    a = keeper(store, clock, "a", seen)
    a.heartbeat()
    store.leases[1] = Lease(1, "x", 9, clock.now, clock.now + DURATION)
    clock.advance(THIRD)
    a.heartbeat()
    assert seen.of("lost") == [1]
    assert a.held() == [0, 2, 3]


def test_a_shard_whose_work_cannot_start_is_released():
    store, clock = MemoryLeaseStore(), FakeClock()
    seen = Recorder()

    def refuse_shard_2(lease: Lease) -> None:
        if lease.shard == 2:
            raise RuntimeError("cannot connect")
        seen.acquired(lease)

    a = LeaseKeeper(
        store,
        owner="a",
        shard_count=SHARDS,
        duration_ms=DURATION,
        safety_margin_ms=MARGIN,
        on_acquired=refuse_shard_2,
        on_lost=seen.lost,
        clock=clock,
    )
    a.heartbeat()
    assert a.held() == [0, 1, 3]
    assert seen.of("lost") == [2]
    assert store.leases[2].expires_at == 0


class FailingStore(MemoryLeaseStore):
    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def register(self, owner: str, now: int, duration_ms: int) -> dict[str, int]:
        if self.down:
            raise ConnectionError("DynamoDB unreachable")
        return super().register(owner, now, duration_ms)


def test_while_the_table_is_unreachable_leases_are_trusted_only_to_their_margin():
    store, clock = FailingStore(), FakeClock()
    a = keeper(store, clock, "a")
    a.heartbeat()
    store.down = True
    clock.advance(THIRD)
    with pytest.raises(ConnectionError):
        a.heartbeat()
    assert a.held() == [0, 1, 2, 3]
    clock.advance(DURATION - MARGIN - THIRD)
    assert a.held() == []


def test_the_keeper_thread_heartbeats_until_stopped_then_releases():
    store, clock, seen = MemoryLeaseStore(), FakeClock(), Recorder()
    a = keeper(store, clock, "a", seen)
    a.start()
    assert seen.acquired_event.wait(10)
    a.stop()
    assert sorted(seen.of("lost")) == sorted(seen.of("acquired"))
    assert all(lease.expires_at == 0 for lease in store.list_all())
    assert store.workers == {}


def test_a_callback_may_stop_the_keeper_from_the_heartbeat_thread():
    store, clock = MemoryLeaseStore(), FakeClock()
    a = keeper(store, clock, "a")
    a.on_acquired = lambda lease: a.stop()  # e.g. the worker shutting down on a fatal error
    thread = threading.Thread(target=a.heartbeat, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "stop() from a callback deadlocked"
    assert a.held() == [] and all(lease.expires_at == 0 for lease in store.list_all())


def test_the_margin_must_fit_inside_the_lease():
    with pytest.raises(ValueError):
        LeaseKeeper(MemoryLeaseStore(), duration_ms=1_000, safety_margin_ms=1_000)


@pytest.mark.parametrize("seed", range(6))
def test_no_two_keepers_ever_trust_the_same_shard(seed):
    """Random heartbeats, stalls, crashes, clean stops and joins, each keeper on its own clock (skewed by
    less than the margin); at every step each shard is trusted by at most one keeper, and once the
    survivors have run a few rounds every shard is held."""
    rng = random.Random(seed)
    store, clock = MemoryLeaseStore(), FakeClock()

    def skewed() -> Callable[[], int]:
        offset = rng.randint(-MARGIN // 2 + 1, MARGIN // 2 - 1)  # two clocks differ by less than the margin
        return lambda: clock.now + offset

    keepers = [keeper(store, skewed(), f"k{n}") for n in range(3)]
    alive = list(keepers)
    for step in range(300):
        action = rng.random()
        if action < 0.6 and alive:
            rng.choice(alive).heartbeat()
        elif action < 0.9:
            clock.advance(rng.randint(1, DURATION // 2))
        elif action < 0.95 and len(alive) > 1:
            victim = rng.choice(alive)
            alive.remove(victim)
            victim.stop(release=rng.random() < 0.5)  # a crash or a clean exit
        else:
            newcomer = keeper(store, skewed(), f"k{len(keepers)}")
            keepers.append(newcomer)
            alive.append(newcomer)
        trusted = [shard for k in keepers for shard in k.held()]
        assert len(trusted) == len(set(trusted)), f"step {step}: a shard trusted twice"

    for _ in range(5):
        clock.advance(THIRD)
        for k in alive:
            k.heartbeat()
    held = sorted(shard for k in alive for shard in k.held())
    assert held == [0, 1, 2, 3]
    share = rules.fair_share(SHARDS, len(alive))
    assert all(len(k.held()) <= share for k in alive)
