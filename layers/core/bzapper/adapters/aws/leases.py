"""Shard leases in DynamoDB: conditional writes decide who holds a shard, and a fence check guards writes.

One small table: an item per shard and an item per live worker, so one consistent scan tells a worker
both who holds what and how many workers share the shards. A heartbeat costs a put (its own
liveness), that scan, and one update per lease due for renewal.
"""

from __future__ import annotations

from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import LeaseModel
from bzapper.domain.leases import Fence, Lease, LeaseSnapshot, shard_key, shard_of, worker_key

WORKER_ITEM_KEEP_SECONDS = 24 * 3600
"""A dead worker's heartbeat item lingers this long past its expiry before DynamoDB's TTL deletes it."""


def _lease(shard: int, item: LeaseModel) -> Lease:
    return Lease(
        shard=shard,
        owner=item.owner,
        token=int(item.token or 0),
        acquired_at=int(item.acquired_at or 0),
        expires_at=int(item.expires_at),
    )


class LeaseStore:
    def acquire(self, shard: int, owner: str, now: int, duration_ms: int) -> Lease | None:
        """Takes the shard when it is free, expired (by `now`) or already `owner`'s; None when another
        worker holds it. Every acquisition raises the token, even of a lease `owner` already had."""
        item = LeaseModel(shard_key(shard))
        available = LeaseModel.shard_id.does_not_exist() | (LeaseModel.expires_at <= now) | (LeaseModel.owner == owner)
        actions = [
            LeaseModel.token.add(1),
            LeaseModel.owner.set(owner),
            LeaseModel.acquired_at.set(now),
            LeaseModel.expires_at.set(now + duration_ms),
            LeaseModel.duration_ms.set(duration_ms),
        ]
        if not applied(lambda: item.update(actions=actions, condition=available)):
            return None
        return _lease(shard, item)

    def renew(self, lease: Lease, now: int) -> Lease | None:
        """Extends a live lease by the duration it was acquired with; None when it is no longer this one
        (taken over, so its token changed), already expired, or released. The token stays."""
        item = LeaseModel(shard_key(lease.shard))
        still_mine = (
            (LeaseModel.token == lease.token) & (LeaseModel.owner == lease.owner) & (LeaseModel.expires_at > now)
        )
        actions = [LeaseModel.expires_at.set(LeaseModel.duration_ms + now)]
        if not applied(lambda: item.update(actions=actions, condition=still_mine)):
            return None
        return _lease(lease.shard, item)

    def release(self, lease: Lease) -> bool:
        """Frees the shard at once (expiry 0) if it still is this lease; the token stays, so the next holder's
        is higher. False when it had already been taken over."""
        item = LeaseModel(shard_key(lease.shard))
        still_mine = (LeaseModel.token == lease.token) & (LeaseModel.owner == lease.owner)
        return applied(lambda: item.update(actions=[LeaseModel.expires_at.set(0)], condition=still_mine))

    def register(self, owner: str, now: int, duration_ms: int) -> None:
        """The worker's heartbeat: it counts as alive until `now + duration_ms`."""
        expires_at = now + duration_ms
        LeaseModel(
            worker_key(owner),
            owner=owner,
            expires_at=expires_at,
            purge_at=expires_at // 1000 + WORKER_ITEM_KEEP_SECONDS,
        ).save()

    def unregister(self, owner: str) -> None:
        LeaseModel(worker_key(owner)).delete()

    def snapshot(self) -> LeaseSnapshot:
        """Every lease and every worker heartbeat, in one consistent scan (the table is a few items)."""
        leases: dict[int, Lease] = {}
        workers: dict[str, int] = {}
        for item in LeaseModel.scan(consistent_read=True):
            shard = shard_of(item.shard_id)
            if shard is not None:
                leases[shard] = _lease(shard, item)
            else:
                workers[item.owner] = int(item.expires_at)
        return LeaseSnapshot(leases=leases, workers=workers)

    def list_all(self) -> list[Lease]:
        return sorted(self.snapshot().leases.values(), key=lambda lease: lease.shard)

    def live_workers(self, now: int) -> list[str]:
        return sorted(owner for owner, expires_at in self.snapshot().workers.items() if expires_at > now)


def fence_check(tx: TransactWrite, fence: Fence) -> None:
    """Adds the fence to a transaction: it commits only if the shard's lease still carries `fence.token`,
    or was acquired after `fence.at` (the write reports something from before the takeover).

    A refusal cancels the transaction with `ConditionalCheckFailed` on this item; PynamoDB sends condition
    checks before every other kind of item, so its reason comes first among them.
    """
    tx.condition_check(
        LeaseModel,
        shard_key(fence.shard),
        condition=(LeaseModel.token == fence.token) | (LeaseModel.acquired_at > fence.at),
    )
