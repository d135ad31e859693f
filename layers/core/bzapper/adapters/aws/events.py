"""EventBridge adapter: domain events onto the custom bus."""

from __future__ import annotations

import json
from typing import Any

from bzapper.adapters.aws.clients import client
from bzapper.config import settings

SOURCE = "bzapper"
_MAX_BATCH = 10


class EventPublishError(RuntimeError):
    pass


class EventBridgePublisher:
    def publish(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), _MAX_BATCH):
            batch = events[start : start + _MAX_BATCH]
            answer = client("events").put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": event["type"],
                        "Detail": json.dumps(event, separators=(",", ":")),
                        "EventBusName": settings().bus,
                    }
                    for event in batch
                ]
            )
            if answer.get("FailedEntryCount"):
                # Raise so the record is retried: event ids are stable, so a re-publish is harmless.
                raise EventPublishError(f"{answer['FailedEntryCount']} events were not accepted")
