"""What the session worker needs besides the engine: the lease table, and the receiving side of its queues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bzapper.domain.leases import Lease, LeaseSnapshot


class LeaseStore(Protocol):
    """The shard leases (with fencing tokens) and the workers' heartbeats."""

    def acquire(self, shard: int, owner: str, now: int, duration_ms: int) -> Lease | None: ...

    def renew(self, lease: Lease, now: int) -> Lease | None: ...

    def release(self, lease: Lease) -> bool: ...

    def register(self, owner: str, now: int, duration_ms: int) -> Mapping[str, int]:
        """The worker's heartbeat; answers every worker's (owner → when it expires), its own included."""
        ...

    def unregister(self, owner: str) -> None: ...

    def snapshot(self) -> LeaseSnapshot: ...


class QueueReader(Protocol):
    """The receiving side of one queue: long-polled, messages hidden for a while or deleted once done."""

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[dict[str, Any]]: ...

    def hide(self, receipt_handles: list[str], seconds: int) -> None: ...

    def delete(self, receipt_handles: list[str]) -> None: ...
