"""The event log: every domain event written once, replayable in arrival order for GET /stream."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite
from ulid import ULID

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.models import EventModel

RETENTION_MS = 7 * 24 * 3600 * 1000
SETTLE_MS = 3_000
"""Positions come from the writers' clocks: a reader stays this far behind now, so an event committed a
moment late by another writer is never skipped."""


def stream_id(account_id: str, livemode: bool) -> str:
    return f"{account_id}:{'live' if livemode else 'test'}"


def position_at(ms: int) -> str:
    """The smallest position at a time: events logged from then on sort after it."""
    return str(ULID.from_bytes(ms.to_bytes(6, "big") + bytes(10)))


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    position: str
    event_id: str
    type: str
    instance_id: str | None
    payload: str


class EventLog:
    def append(self, event: dict[str, Any]) -> bool:
        """Writes the event once (False when it was already logged)."""
        stream = stream_id(event["account_id"], bool(event["livemode"]))
        now = int(time.time() * 1000)
        position = str(ULID())
        expires = (now + RETENTION_MS) // 1000
        try:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                tx.save(
                    EventModel(
                        stream,
                        f"id#{event['id']}",
                        event_id=event["id"],
                        payload=position,
                        created_at=now,
                        expires_at=expires,
                    ),
                    condition=EventModel.entry.does_not_exist(),
                )
                tx.save(
                    EventModel(
                        stream,
                        f"log#{position}",
                        event_id=event["id"],
                        type=event["type"],
                        instance_id=event.get("instance_id"),
                        payload=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
                        created_at=now,
                        expires_at=expires,
                    ),
                    condition=EventModel.entry.does_not_exist(),
                )
        except TransactWriteError as error:
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                return False
            raise
        return True

    def position_of(self, stream: str, event_id: str) -> str | None:
        """Where an event sits in the log (its `id#` item keeps the position); None once it expired."""
        try:
            item = EventModel.get(stream, f"id#{event_id}", consistent_read=True)
        except DoesNotExist:
            return None
        return item.payload if int(item.expires_at) * 1000 >= time.time() * 1000 else None

    def read_after(
        self, stream: str, position: str, limit: int = 100, settle_ms: int = SETTLE_MS
    ) -> tuple[list[LoggedEvent], str]:
        """Live events after `position`, and the position to read from next (past expired rows too)."""
        now = int(time.time() * 1000)
        upper = position_at(now - settle_ms)
        if upper <= position:
            return [], position
        rows = EventModel.query(
            stream,
            EventModel.entry.between(f"log#{position}", f"log#{upper}"),
            limit=limit + 1,
            consistent_read=True,
        )
        found = []
        cursor = position
        for row in rows:
            row_position = row.entry[len("log#") :]
            if row_position == position:
                continue  # `between` is inclusive: the cursor itself was already sent
            cursor = row_position
            if int(row.expires_at) * 1000 < now:
                continue  # kept 7 days; local TTL never deletes, so expiry is filtered here
            found.append(LoggedEvent(row_position, row.event_id, row.type or "", row.instance_id, row.payload or ""))
            if len(found) == limit:
                break
        return found, cursor
