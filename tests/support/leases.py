"""An in-memory lease table with the DynamoDB store's conditions, a hand-moved clock, and callback recorders.

tests/integration/test_lease_store.py runs the same store scenarios against this fake and against moto, so
the unit tests of the keeper stand on the real store's behaviour.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from bzapper.domain.leases import Lease, LeaseSnapshot, available_to


class FakeClock:
    def __init__(self, start: int = 1_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class MemoryLeaseStore:
    def __init__(self) -> None:
        self.leases: dict[int, Lease] = {}
        self.durations: dict[int, int] = {}
        self.workers: dict[str, int] = {}
        self.after_snapshot: Callable[[], None] | None = None
        """Fault injection: runs right after a scan, to stage a takeover between a read and a write."""
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def acquire(self, shard: int, owner: str, now: int, duration_ms: int) -> Lease | None:
        with self._lock:
            self.calls.append("acquire")
            current = self.leases.get(shard)
            if not available_to(current, owner, now):
                return None
            lease = Lease(shard, owner, (current.token if current else 0) + 1, now, now + duration_ms)
            self.leases[shard], self.durations[shard] = lease, duration_ms
            return lease

    def renew(self, lease: Lease, now: int) -> Lease | None:
        with self._lock:
            self.calls.append("renew")
            current = self.leases.get(lease.shard)
            if current is None:
                return None
            if current.token != lease.token or current.owner != lease.owner or current.expires_at <= now:
                return None
            renewed = replace(current, expires_at=now + self.durations[lease.shard])
            self.leases[lease.shard] = renewed
            return renewed

    def release(self, lease: Lease) -> bool:
        with self._lock:
            self.calls.append("release")
            current = self.leases.get(lease.shard)
            if current is None or current.token != lease.token or current.owner != lease.owner:
                return False
            self.leases[lease.shard] = replace(current, expires_at=0)
            return True

    def register(self, owner: str, now: int, duration_ms: int) -> dict[str, int]:
        with self._lock:
            self.calls.append("register")
            self.workers[owner] = now + duration_ms
            return dict(self.workers)

    def unregister(self, owner: str) -> None:
        with self._lock:
            self.calls.append("unregister")
            self.workers.pop(owner, None)

    def snapshot(self) -> LeaseSnapshot:
        with self._lock:
            self.calls.append("snapshot")
            snapshot = LeaseSnapshot(leases=dict(self.leases), workers=dict(self.workers))
        if self.after_snapshot:
            self.after_snapshot()
        return snapshot

    def list_all(self) -> list[Lease]:
        return sorted(self.snapshot().leases.values(), key=lambda lease: lease.shard)


class Recorder:
    """The worker's side of the callbacks: what it was told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.acquired_event = threading.Event()
        self.on_lost_hook: Callable[[int], None] | None = None

    def acquired(self, lease: Lease) -> None:
        self.events.append(("acquired", lease.shard))
        self.acquired_event.set()

    def lost(self, shard: int) -> None:
        self.events.append(("lost", shard))
        if self.on_lost_hook:
            self.on_lost_hook(shard)

    def of(self, kind: str) -> list[int]:
        return [shard for event, shard in self.events if event == kind]
