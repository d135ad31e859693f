"""The ports: what the services need from the outside world, as small Protocols.

AWS adapters live in `bzapper.adapters.aws`; fakes for tests in `bzapper.adapters.memory`.
"""

from __future__ import annotations

from typing import Any, Protocol

from bzapper.domain.model import InstanceRef, OutboundMessage, StatusReport


class JobQueue(Protocol):
    """The FIFO shard queues between the API and the session workers."""

    def enqueue(self, message: OutboundMessage) -> None: ...


class StatusSink(Protocol):
    """Where workers report statuses (the status-updates queue)."""

    def report(self, report: StatusReport) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None: ...


class InstanceDirectory(Protocol):
    def get(self, instance_id: str) -> InstanceRef | None: ...
