"""The lease keeper a session worker runs: holds its fair share of the shards, renews, hands over.

One heartbeat (every third of the lease, sooner when a shard it wants is about to expire): record that
this worker is alive (which answers every worker's heartbeat), drop leases it can no longer trust by its
own clock, renew the rest (all together), give up shards beyond its fair share, and, only while under it,
read the shard leases and take free or expired ones up to it. The worker learns of
changes through two callbacks, run on the keeper's thread:

- `on_acquired(lease)`: the shard is now this worker's; start its work (consume its queue, connect its
  instances).
- `on_lost(shard)`: the shard is no longer this worker's (a refused renewal, an expiry by the local
  clock, a hand-over to a new worker, or `stop()`); stop its work. For a hand-over and on `stop()` it runs
  before the release, so when it returns the next holder can start without overlapping.

Writes made for a shard carry `fence(shard)`, which raises `LeaseLost` once the lease is not safely held.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.leases import (
    Fence,
    Lease,
    LeaseLost,
    LeaseSnapshot,
    choose_acquisitions,
    choose_releases,
    default_safety_margin_ms,
    fair_share,
    live_workers,
    next_heartbeat_in,
    renewal_due,
    safe_to_write,
)
from bzapper.ports.workers import LeaseStore
from bzapper.topology import SHARD_COUNT

logger = logging.getLogger("bzapper.leases")

RETRY_MS = 1000
"""Pause after a heartbeat failed (DynamoDB unreachable): leases stay trusted only until their margin."""


def lease_duration_ms() -> int:
    """BZ_LEASE_SECONDS (default 15): how long a dead worker's shards wait before another takes them."""
    return int(settings().worker.lease_seconds * 1000)


def _ignore(_: object) -> None:
    return None


class LeaseKeeper:
    def __init__(
        self,
        store: LeaseStore,
        *,
        owner: str | None = None,
        shard_count: int = SHARD_COUNT,
        duration_ms: int | None = None,
        safety_margin_ms: int | None = None,
        on_acquired: Callable[[Lease], None] = _ignore,
        on_lost: Callable[[int], None] = _ignore,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.owner = owner or new_id("wk")
        self.shard_count = shard_count
        self.duration_ms = duration_ms if duration_ms is not None else lease_duration_ms()
        self.safety_margin_ms = (
            safety_margin_ms if safety_margin_ms is not None else default_safety_margin_ms(self.duration_ms)
        )
        if not 0 <= self.safety_margin_ms < self.duration_ms:
            raise ValueError("the safety margin must be shorter than the lease")
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.clock = clock
        self._held: dict[int, Lease] = {}
        self._held_lock = threading.Lock()  # the worker's threads read leases while the heartbeat changes them
        # One heartbeat or stop() at a time; re-entrant, so a callback may call stop() on the keeper's thread.
        self._round_lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # What the worker asks ---------------------------------------------------------------------

    def current(self, shard: int) -> Lease | None:
        """The lease while it is safe to write under it by the local clock, else None."""
        return self._safe(shard, self.clock())

    def fence(self, shard: int) -> Fence:
        """The fence to stamp on a write for `shard`, taken now; raises LeaseLost when not safely held."""
        now = self.clock()
        lease = self._safe(shard, now)
        if lease is None:
            raise LeaseLost(shard)
        return Fence(shard=shard, token=lease.token, at=now)

    def held(self) -> list[int]:
        """Shards safely held right now."""
        now = self.clock()
        with self._held_lock:
            leases = list(self._held.values())
        return sorted(lease.shard for lease in leases if safe_to_write(lease, now, self.safety_margin_ms))

    def _safe(self, shard: int, now: int) -> Lease | None:
        with self._held_lock:
            lease = self._held.get(shard)
        return lease if lease is not None and safe_to_write(lease, now, self.safety_margin_ms) else None

    # Running ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Runs heartbeats on a daemon thread until `stop()`."""
        if self._thread is not None:
            raise RuntimeError("the lease keeper is already running")
        self._thread = threading.Thread(target=self._run, name=f"leases-{self.owner}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        wait_ms = 0
        while not self._stopping.wait(wait_ms / 1000):
            try:
                wait_ms = self.heartbeat()
            except Exception:
                logger.exception("lease heartbeat of %s failed", self.owner)
                wait_ms = RETRY_MS

    def stop(self, release: bool = True) -> None:
        """Stops heartbeating; with `release`, gives every shard up at once (after its `on_lost`) and
        leaves the worker registry. Without it the leases simply expire, as a crashed worker's would."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._round_lock:
            if not release:
                return
            with self._held_lock:
                leases = sorted(self._held.values(), key=lambda lease: lease.shard)
            for lease in leases:
                self._give_up(lease)
            try:
                self.store.unregister(self.owner)
            except Exception:
                logger.exception("%s could not leave the worker registry; its heartbeat will expire", self.owner)

    # One heartbeat ----------------------------------------------------------------------------

    def heartbeat(self) -> int:
        """One round; returns milliseconds until the next one is due."""
        with self._round_lock:
            if self._stopping.is_set():
                return RETRY_MS
            workers = self.store.register(self.owner, self.clock(), self.duration_ms)
            now = self.clock()
            self._drop_expired(now)
            target = fair_share(self.shard_count, live_workers(workers, self.owner, now))
            self._renew_due()
            with self._held_lock:
                held = dict(self._held)
            for shard in choose_releases(held, target):
                self._give_up(held[shard])
            with self._held_lock:
                under_share = len(self._held) < target
            # Only a keeper under its share reads the shard leases (to find one to take): one at its share
            # learns of a takeover behind its back from its next renewal, which the new token refuses.
            others: list[Lease] = []
            if under_share:
                snapshot = self.store.snapshot()
                self._drop_taken_over(snapshot)
                self._acquire_up_to(target, snapshot)
                others = [lease for lease in snapshot.leases.values() if lease.owner != self.owner]
            with self._held_lock:
                held_now = list(self._held.values())
            return next_heartbeat_in(held_now, others, self.clock(), self.duration_ms, len(held_now) < target)

    def _drop_expired(self, now: int) -> None:
        """A lease past its safety margin by the local clock (this process stalled) is lost."""
        with self._held_lock:
            held = list(self._held.values())
        for lease in held:
            if not safe_to_write(lease, now, self.safety_margin_ms):
                self._lose(lease, "it expired by the local clock")

    def _drop_taken_over(self, snapshot: LeaseSnapshot) -> None:
        """A lease no longer the table's (another worker holds the shard) is lost."""
        with self._held_lock:
            held = list(self._held.values())
        for lease in held:
            in_table = snapshot.leases.get(lease.shard)
            if in_table is None or in_table.token != lease.token:
                self._lose(lease, "another worker took it over")

    def _renew_due(self) -> None:
        """Once one lease is due, every held lease is renewed with it, at the same `now`: renewing early is
        safe (it only extends), and leases that expire together are renewed by one heartbeat, not one each."""
        with self._held_lock:
            held = list(self._held.values())
        now = self.clock()
        if not any(renewal_due(lease, now, self.duration_ms) for lease in held):
            return
        for lease in held:
            renewed = self.store.renew(lease, now)
            if renewed is None:
                self._lose(lease, "its renewal was refused")
                continue
            with self._held_lock:
                self._held[lease.shard] = renewed

    def _acquire_up_to(self, target: int, snapshot: LeaseSnapshot) -> None:
        with self._held_lock:
            held = set(self._held)
        wanted = choose_acquisitions(
            snapshot.leases, self.owner, held, self.clock(), target - len(held), self.shard_count
        )
        now = self.clock()  # one `now` for the round: leases taken together expire (and are renewed) together
        for shard in wanted:
            if self._stopping.is_set():
                return
            lease = self.store.acquire(shard, self.owner, now, self.duration_ms)
            if lease is None:
                continue  # another worker got there first
            with self._held_lock:
                self._held[shard] = lease
            logger.info("%s acquired shard %s (token %s)", self.owner, shard, lease.token)
            try:
                self.on_acquired(lease)
            except Exception:
                # A shard whose work could not start must not stay blocked behind this worker.
                logger.exception("%s could not start shard %s; releasing it", self.owner, shard)
                self._give_up(lease)

    def _lose(self, lease: Lease, why: str) -> None:
        with self._held_lock:
            if self._held.get(lease.shard) != lease:
                return
            del self._held[lease.shard]
        logger.warning("%s lost shard %s (token %s): %s", self.owner, lease.shard, lease.token, why)
        self._notify_lost(lease.shard)

    def _give_up(self, lease: Lease) -> None:
        """Stop using the shard first, then free it, so the next holder never overlaps with this one.

        The lease stays held (and its fence valid, within its safety margin) while `on_lost` winds the
        shard's work down: a send finishing meanwhile still reports `sent` instead of being sent again.
        """
        self._notify_lost(lease.shard)
        with self._held_lock:
            self._held.pop(lease.shard, None)
        try:
            released = self.store.release(lease)
        except Exception:
            logger.exception("%s could not release shard %s; it will expire", self.owner, lease.shard)
            return
        logger.info("%s released shard %s%s", self.owner, lease.shard, "" if released else " (already taken)")

    def _notify_lost(self, shard: int) -> None:
        try:
            self.on_lost(shard)
        except Exception:
            logger.exception("on_lost(%s) of %s failed", shard, self.owner)
