"""The offline queue of events for our instances: at least once, with a visibility timeout, like SQS.

Not thread-safe on its own: the network holds its lock around every call. Times are the network's
model clock (seconds, injected), so tests move a fake clock instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class QueuedEvent:
    event_id: int
    account_id: str
    instance_id: str
    due: float  # when the event exists for the instance
    invisible_until: float  # in flight with a poller until then
    payload: dict[str, Any]
    media_id: str | None = None  # bytes the network keeps until this event is acked

    def available_at(self) -> float:
        return max(self.due, self.invisible_until)


Deliverable = Callable[[QueuedEvent], bool]


class EventQueue:
    def __init__(self, event_ids: Iterator[int]) -> None:
        # Shared with the network and never restarted: an ack of an id from before a reset must not
        # remove a newer event that reused it.
        self._event_ids = event_ids
        self.clear()

    def clear(self) -> None:
        self._events: dict[int, QueuedEvent] = {}
        self._by_instance: dict[str, set[int]] = {}

    def put(
        self, account_id: str, instance_id: str, due: float, payload: dict[str, Any], media_id: str | None = None
    ) -> int:
        event_id = next(self._event_ids)
        self._events[event_id] = QueuedEvent(event_id, account_id, instance_id, due, float("-inf"), payload, media_id)
        self._by_instance.setdefault(instance_id, set()).add(event_id)
        return event_id

    def _candidates(self, instance_ids: list[str], deliverable: Deliverable) -> list[QueuedEvent]:
        return [
            event
            for instance_id in set(instance_ids)
            for event_id in self._by_instance.get(instance_id, ())
            if deliverable(event := self._events[event_id])
        ]

    def take(
        self,
        instance_ids: list[str],
        max_events: int,
        visibility_timeout: float,
        now: float,
        deliverable: Deliverable,
    ) -> list[dict[str, Any]]:
        """Due, deliverable events not in flight, oldest first; they go in flight until now + visibility_timeout."""
        if max_events <= 0:
            return []
        ready = sorted(
            (e for e in self._candidates(instance_ids, deliverable) if e.available_at() <= now),
            key=lambda e: (e.due, e.event_id),
        )[:max_events]
        taken = []
        for event in ready:
            event.invisible_until = now + visibility_timeout
            taken.append(
                {"event_id": event.event_id, "account_id": event.account_id, "instance_id": event.instance_id}
                | event.payload
            )
        return taken

    def next_available_at(self, instance_ids: list[str], deliverable: Deliverable) -> float | None:
        return min((e.available_at() for e in self._candidates(instance_ids, deliverable)), default=None)

    def remove(self, event_ids: list[int]) -> list[QueuedEvent]:
        """Remove these events for good; unknown (or already removed) ids are ignored."""
        removed = []
        for event_id in set(event_ids):
            event = self._events.pop(event_id, None)
            if event is None:
                continue
            owned = self._by_instance[event.instance_id]
            owned.discard(event_id)
            if not owned:
                del self._by_instance[event.instance_id]
            removed.append(event)
        return removed
