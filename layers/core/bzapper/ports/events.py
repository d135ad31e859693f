"""Events: the bus they are published on, the event log the stream reads, the workers' report queue and the
fence check that refuses a report made after its shard was taken over."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from bzapper.domain.eventlog import GapWatch, LoggedEvent
from bzapper.domain.leases import Fence


class EventPublisher(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None:
        """Publishes every envelope or raises (a retry publishes the same ids again)."""
        ...


class EventBatch(Protocol):
    """Events appended together: their numbers are claimed at once, then each is written."""

    def append(self, event: dict[str, Any]) -> bool: ...

    def close(self) -> None: ...


class EventLog(Protocol):
    def batch(self, events: Iterable[dict[str, Any]]) -> EventBatch: ...

    def append(self, event: dict[str, Any]) -> bool:
        """Writes the event once, at the next number of its stream; False when it was written before."""
        ...

    def head(self, stream: str) -> int: ...

    def position_of(self, stream: str, event_id: str) -> int | None: ...

    def gap_watch(self) -> GapWatch: ...

    def read_after(
        self, stream: str, position: int, gaps: GapWatch, limit: int = 100
    ) -> tuple[list[LoggedEvent], int]: ...


class ReportSink(Protocol):
    """Where workers send their fenced reports (the status-updates queue)."""

    def send(self, reports: list[dict[str, Any]]) -> list[int]:
        """Sends them in order; returns the indexes of those that failed."""
        ...


class FenceChecker(Protocol):
    def holds(self, fence: Fence) -> bool: ...
