"""Shard leases in DynamoDB: conditional writes decide who holds a shard, and a fence check guards writes.

One small table: an item per shard, and one registry item holding every worker's heartbeat (one attribute
per worker). A heartbeat is one UpdateItem of the registry, whose answer (ALL_NEW) lists every worker's
heartbeat, plus one conditional update per held lease when its renewal is due (all at once). The shard
items are read (one consistent BatchGetItem, with the registry) only by a worker under its fair share,
which is looking for shards to take: nothing is ever scanned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import client
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import LeaseModel
from bzapper.domain.leases import Fence, Lease, LeaseSnapshot, shard_key, shard_of
from bzapper.topology import SHARD_COUNT

WORKER_ITEM_KEEP_SECONDS = 24 * 3600
"""A dead worker's heartbeat lingers this long past its expiry in the registry, then the next heartbeat drops it."""
REGISTRY_KEY = "workers"
"""The registry item's key, beside the shard items ("shard-<n>")."""
BEAT_PREFIX = "beat#"
"""A worker's heartbeat in the registry: attribute `beat#<owner>` = when it expires (epoch ms)."""


def _lease(shard: int, item: LeaseModel) -> Lease:
    return Lease(
        shard=shard,
        owner=item.owner,
        token=int(item.token or 0),
        acquired_at=int(item.acquired_at or 0),
        expires_at=int(item.expires_at),
    )


class LeaseStore:
    def __init__(self, shard_count: int = SHARD_COUNT) -> None:
        self.shard_count = shard_count
        self._stale: list[str] = []
        """Workers dead for over a day, seen in the last heartbeat's answer: the next one removes them."""

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

    def register(self, owner: str, now: int, duration_ms: int) -> Mapping[str, int]:
        """The worker's heartbeat: it counts as alive until `now + duration_ms`. Answers every worker's
        heartbeat (the same update's ALL_NEW image), and drops those dead for over a day."""
        # `owner` and `expires_at` make the registry read as a long-dead worker to a worker of the previous
        # version scanning the table during a rolling deploy (it would fail its heartbeat on an item without).
        names = {"#me": BEAT_PREFIX + owner, "#owner": "owner", "#expires": "expires_at"}
        values = {":expires": {"N": str(now + duration_ms)}, ":registry": {"S": REGISTRY_KEY}, ":zero": {"N": "0"}}
        expression = "SET #me = :expires, #owner = :registry, #expires = :zero"
        stale = [name for name in self._stale if name != owner]
        if stale:
            names.update({f"#d{index}": BEAT_PREFIX + name for index, name in enumerate(stale)})
            expression += " REMOVE " + ", ".join(f"#d{index}" for index in range(len(stale)))
        answer = client("dynamodb").update_item(
            TableName=LeaseModel.Meta.table_name,
            Key={"shard_id": {"S": REGISTRY_KEY}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        workers = _beats(answer.get("Attributes", {}))
        keep_until = now - WORKER_ITEM_KEEP_SECONDS * 1000
        self._stale = [name for name, expires_at in workers.items() if expires_at < keep_until]
        return workers

    def unregister(self, owner: str) -> None:
        client("dynamodb").update_item(
            TableName=LeaseModel.Meta.table_name,
            Key={"shard_id": {"S": REGISTRY_KEY}},
            UpdateExpression="REMOVE #me",
            ExpressionAttributeNames={"#me": BEAT_PREFIX + owner},
        )

    def snapshot(self) -> LeaseSnapshot:
        """Every lease and every worker's heartbeat, in one consistent BatchGetItem (the shard keys are known)."""
        table = LeaseModel.Meta.table_name
        keys: list[dict[str, Any]] = [{"shard_id": {"S": shard_key(shard)}} for shard in range(self.shard_count)]
        keys.append({"shard_id": {"S": REGISTRY_KEY}})
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = client("dynamodb").batch_get_item(RequestItems=request)
            items += answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
        leases: dict[int, Lease] = {}
        workers: dict[str, int] = {}
        for item in items:
            key = item["shard_id"]["S"]
            if key == REGISTRY_KEY:
                workers = _beats(item)
                continue
            shard = shard_of(key)
            if shard is None:
                continue
            leases[shard] = Lease(
                shard=shard,
                owner=item["owner"]["S"],
                token=int(item.get("token", {}).get("N", 0)),
                acquired_at=int(item.get("acquired_at", {}).get("N", 0)),
                expires_at=int(item["expires_at"]["N"]),
            )
        return LeaseSnapshot(leases=leases, workers=workers)

    def list_all(self) -> list[Lease]:
        return sorted(self.snapshot().leases.values(), key=lambda lease: lease.shard)

    def live_workers(self, now: int) -> list[str]:
        return sorted(owner for owner, expires_at in self.snapshot().workers.items() if expires_at > now)


def _beats(item: Mapping[str, Any]) -> dict[str, int]:
    return {
        name.removeprefix(BEAT_PREFIX): int(value["N"]) for name, value in item.items() if name.startswith(BEAT_PREFIX)
    }


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
