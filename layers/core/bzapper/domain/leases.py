"""Shard leases: the pure rules by which session workers share the shards, one holder per shard at a time.

Every time here is epoch milliseconds. A lease is granted for `duration_ms`, renewed every third of
it, and its holder stops writing `safety_margin_ms` before it expires by its own clock, so another
worker, which takes the shard only once it has expired by *its* clock, never overlaps with it while
the clocks of the two differ by less than the margin. Fencing covers what the margin cannot (a
process paused past it): each acquisition carries a higher token, and a write stamped with an old
token is refused unless it was made before the takeover (`Fence`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bzapper.topology import shard_queue_name

WORKER_PREFIX = "worker#"
"""Key prefix of a worker's heartbeat item, beside the shard items in the same table."""

MIN_WAIT_MS = 50
"""Shortest pause between two heartbeats, so an overdue renewal never spins."""


def default_safety_margin_ms(duration_ms: int) -> int:
    """A fifth of the lease: 3 s of 15 s covers clock skew between tasks plus one write's latency."""
    return duration_ms // 5


def renew_interval_ms(duration_ms: int) -> int:
    """Renew every third of the lease: two renewals can fail before the holder has to stop."""
    return max(1, duration_ms // 3)


def shard_key(shard: int) -> str:
    """The lease item's key: the shard queue's logical name ("shard-3")."""
    return shard_queue_name(shard)


def shard_of(key: str) -> int | None:
    """The shard of a lease item key, None for any other item (a worker's heartbeat)."""
    prefix = shard_queue_name(0)[:-1]
    tail = key.removeprefix(prefix)
    return int(tail) if tail != key and tail.isdigit() else None


def worker_key(owner: str) -> str:
    return f"{WORKER_PREFIX}{owner}"


class LeaseLost(Exception):
    """The shard is not (or no longer safely) held by this worker: do not write on its behalf."""

    def __init__(self, shard: int) -> None:
        super().__init__(f"lease on shard {shard} is not held")
        self.shard = shard


@dataclass(frozen=True, slots=True)
class Lease:
    shard: int
    owner: str
    token: int
    """Fencing token: higher on every acquisition of the shard, unchanged by renewals."""
    acquired_at: int
    expires_at: int
    """0 once released: free at once."""

    def expired(self, now: int) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True, slots=True)
class Fence:
    """Stamped on a worker's write: valid when the lease still has `token`, or was taken after `at`.

    Take it right before the write and after the side effect it reports: a report of something that
    happened while the lease was held stays valid however late it lands; one made after a takeover is not.
    """

    shard: int
    token: int
    at: int

    def to_json(self) -> dict[str, int]:
        return {"shard": self.shard, "token": self.token, "at": self.at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fence:
        return cls(shard=int(data["shard"]), token=int(data["token"]), at=int(data["at"]))


@dataclass(frozen=True, slots=True)
class LeaseSnapshot:
    """The whole lease table as one scan sees it: shard leases and worker heartbeats."""

    leases: Mapping[int, Lease] = field(default_factory=dict)
    workers: Mapping[str, int] = field(default_factory=dict)
    """Owner → when its heartbeat expires."""


def live_workers(workers: Mapping[str, int], owner: str, now: int) -> int:
    """Workers whose heartbeat has not expired, counting `owner` even before its own heartbeat shows."""
    return len({name for name, expires_at in workers.items() if expires_at > now} | {owner})


def fair_share(shard_count: int, workers: int) -> int:
    """Shards one worker should hold: rounded up, so the shares always cover every shard."""
    return math.ceil(shard_count / max(1, workers))


def renewal_due(lease: Lease, now: int, duration_ms: int) -> bool:
    """A third of the lease has passed since it was granted or last renewed."""
    return now >= renew_at(lease, duration_ms)


def renew_at(lease: Lease, duration_ms: int) -> int:
    return lease.expires_at - duration_ms + renew_interval_ms(duration_ms)


def safe_to_write(lease: Lease, now: int, safety_margin_ms: int) -> bool:
    """Whether the holder may still write: it must stop `safety_margin_ms` before expiry by its own clock."""
    return now < lease.expires_at - safety_margin_ms


def available_to(lease: Lease | None, owner: str, now: int) -> bool:
    """What the store's conditional acquisition accepts: never leased, expired or released, or already ours."""
    return lease is None or lease.expired(now) or lease.owner == owner


def choose_acquisitions(
    leases: Mapping[int, Lease], owner: str, held: Collection[int], now: int, want: int, shard_count: int
) -> list[int]:
    """Up to `want` shards to take, never one another worker validly holds.

    Each worker starts looking at its own offset (a stable hash of its id), so workers starting together
    mostly try different shards instead of all racing for shard 0.
    """
    if want <= 0:
        return []
    start = zlib.crc32(owner.encode()) % shard_count if shard_count else 0
    order = [(start + step) % shard_count for step in range(shard_count)]
    free = [shard for shard in order if shard not in held and available_to(leases.get(shard), owner, now)]
    return free[:want]


def choose_releases(held: Mapping[int, Lease], target: int) -> list[int]:
    """Shards to give up when holding more than the fair share: the most recently acquired go first,
    so sessions that have been up longest stay where they are."""
    excess = len(held) - target
    if excess <= 0:
        return []
    newest_first = sorted(held.values(), key=lambda lease: (lease.acquired_at, lease.shard), reverse=True)
    return sorted(lease.shard for lease in newest_first[:excess])


def next_heartbeat_in(
    held: Iterable[Lease], others: Iterable[Lease], now: int, duration_ms: int, wants_more: bool
) -> int:
    """Milliseconds until the next heartbeat: the next renewal due, and, while under its share, the
    moment another worker's lease expires (so a dead worker's shard is taken at once, not a beat later)."""
    moments = [now + renew_interval_ms(duration_ms)]
    moments += [renew_at(lease, duration_ms) for lease in held]
    if wants_more:
        moments += [lease.expires_at for lease in others if not lease.expired(now)]
    return max(MIN_WAIT_MS, min(moments) - now)
