"""What a session worker needs besides its engine, in memory (bzapper.ports.workers): the lease table with the
DynamoDB store's conditions, and the receiving side of a queue with SQS's visibility rules."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bzapper.adapters.memory.faults import Faults
from bzapper.domain.clock import now_ms
from bzapper.domain.leases import Lease, LeaseSnapshot, available_to


class MemoryLeaseStore(Faults):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.leases: dict[int, Lease] = {}
        self.workers: dict[str, int] = {}
        self._durations: dict[int, int] = {}

    def acquire(self, shard: int, owner: str, now: int, duration_ms: int) -> Lease | None:
        """Free, expired or already `owner`'s: taken, with a higher token every time."""
        self._enter("acquire", shard, owner, now, duration_ms)
        with self._lock:
            current = self.leases.get(shard)
            if not available_to(current, owner, now):
                return None
            lease = Lease(shard, owner, (current.token if current else 0) + 1, now, now + duration_ms)
            self.leases[shard], self._durations[shard] = lease, duration_ms
            return lease

    def renew(self, lease: Lease, now: int) -> Lease | None:
        self._enter("renew", lease, now)
        with self._lock:
            current = self.leases.get(lease.shard)
            if current is None or (current.token, current.owner) != (lease.token, lease.owner):
                return None
            if current.expires_at <= now:
                return None
            renewed = replace(current, expires_at=now + self._durations[lease.shard])
            self.leases[lease.shard] = renewed
            return renewed

    def release(self, lease: Lease) -> bool:
        self._enter("release", lease)
        with self._lock:
            current = self.leases.get(lease.shard)
            if current is None or (current.token, current.owner) != (lease.token, lease.owner):
                return False
            self.leases[lease.shard] = replace(current, expires_at=0)  # the token stays: the next one is higher
            return True

    def register(self, owner: str, now: int, duration_ms: int) -> dict[str, int]:
        self._enter("register", owner, now, duration_ms)
        with self._lock:
            self.workers[owner] = now + duration_ms
            return dict(self.workers)

    def unregister(self, owner: str) -> None:
        self._enter("unregister", owner)
        with self._lock:
            self.workers.pop(owner, None)

    def snapshot(self) -> LeaseSnapshot:
        self._enter("snapshot")
        with self._lock:
            return LeaseSnapshot(leases=dict(self.leases), workers=dict(self.workers))

    def lease_of(self, shard: int) -> Lease | None:
        """The shard's lease as stored (the fence check's consistent read; not a recorded call)."""
        with self._lock:
            return self.leases.get(shard)


@dataclass
class _Message:
    message_id: str
    body: str
    group: str
    visible_at: int
    receipt_handle: str = ""
    receives: int = 0


class MemoryQueueReader(Faults):
    """One queue: messages put in it are received (hidden for `visibility_ms`), hidden longer or for less
    (ChangeMessageVisibility: a held job, a heartbeat), or deleted.

    `fifo`: a FIFO queue's group rule as SQS applies it: while a message of a group is in flight (received,
    still invisible, not deleted), no message of that group is received, so one job in hand holds back every
    later job of its number; once it is visible again the group comes back in order.
    """

    def __init__(self, clock: Callable[[], int] = now_ms, visibility_ms: int = 30_000, *, fifo: bool = False) -> None:
        super().__init__()
        self._clock = clock
        self.visibility_ms = visibility_ms
        self.fifo = fifo
        self._lock = threading.Lock()
        self._messages: list[_Message] = []
        self._ids = itertools.count(1)

    def put(self, body: dict[str, Any] | str, group: str = "") -> str:
        """What a sender puts in the queue; returns its message id."""
        text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        with self._lock:
            message_id = f"m-{next(self._ids)}"
            self._messages.append(_Message(message_id, text, group, visible_at=self._clock()))
            return message_id

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[dict[str, Any]]:
        self._enter("receive", max_messages, wait_seconds)
        now = self._clock()
        taken: list[_Message] = []
        with self._lock:
            # Groups in flight before this receive; within one receive SQS hands out several of a group, in order.
            blocked = {m.group for m in self._messages if m.receives and m.visible_at > now} if self.fifo else set()
            for message in self._messages:
                if len(taken) == max_messages:
                    break
                if self.fifo and message.group in blocked:
                    continue
                if message.visible_at <= now:
                    message.receives += 1
                    message.receipt_handle = f"{message.message_id}#{message.receives}"
                    message.visible_at = now + self.visibility_ms
                    taken.append(message)
                elif self.fifo:
                    blocked.add(message.group)  # a later message never overtakes an invisible one of its group
            return [
                {
                    "MessageId": m.message_id,
                    "ReceiptHandle": m.receipt_handle,
                    "Body": m.body,
                    "Attributes": {"MessageGroupId": m.group, "ApproximateReceiveCount": str(m.receives)},
                }
                for m in taken
            ]

    def hide(self, receipt_handles: list[str], seconds: int) -> None:
        self._enter("hide", receipt_handles, seconds)
        with self._lock:
            for message in self._current(receipt_handles):
                message.visible_at = self._clock() + max(0, min(seconds, 43_200)) * 1000

    def delete(self, receipt_handles: list[str]) -> None:
        self._enter("delete", receipt_handles)
        with self._lock:
            gone = {id(message) for message in self._current(receipt_handles)}
            self._messages = [message for message in self._messages if id(message) not in gone]

    def pending(self) -> list[str]:
        """The bodies still in the queue (visible or not)."""
        with self._lock:
            return [message.body for message in self._messages]

    def _current(self, receipt_handles: list[str]) -> list[_Message]:
        """Only a message's latest receipt handle acts on it, as in SQS."""
        handles = set(receipt_handles)
        return [message for message in self._messages if message.receipt_handle in handles]
