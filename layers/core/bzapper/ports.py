"""The ports: what the services need from the outside world, as small Protocols.

AWS adapters live in `bzapper.adapters.aws`; fakes for tests in `bzapper.adapters.memory`.
"""

from __future__ import annotations

from typing import Any, Protocol

from bzapper.domain.model import OutboundMessage


class JobQueue(Protocol):
    """The FIFO shard queues between the API and the session workers."""

    def enqueue(self, message: OutboundMessage) -> None: ...


class ReportSink(Protocol):
    """Where workers send their fenced reports (the status-updates queue)."""

    def send(self, reports: list[dict[str, Any]]) -> list[int]: ...


class EventPublisher(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None: ...
