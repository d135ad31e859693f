"""GET /stream: each Server-Sent Event it sends, described item by item (OpenAPI 3.2's `itemSchema`).

What services/stream.py writes: one `retry:` block first, then a block per event (`id:`, `event:`, one `data:`
line of JSON), and a `: heartbeat` comment after HEARTBEAT_SECONDS without an event. A comment is not an item:
SSE parsers drop it, so it is said in the description, not in the schema.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from bzapper.api.schemas.common import EVENT_SUBSCRIPTIONS
from bzapper.api.schemas.events import EventBase
from bzapper.domain.webhooks import EVENT_TYPES
from bzapper.services.stream import HEARTBEAT_SECONDS, RETRY_MS

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]

EVENT_ID_PATTERN = r"^evt_[0-9A-HJKMNP-TV-Z]{26}$"
"""Our ids: a prefix and a ULID (Crockford base 32), as bzapper.domain.events.event_id makes them."""
RESUME_PATTERN = r"^(?:evt_[0-9A-HJKMNP-TV-Z]{26})?$"
"""Where to resume: an event id, or empty (the same as none)."""

_SUBSCRIPTION = "(?:" + "|".join(re.escape(pattern) for pattern in EVENT_SUBSCRIPTIONS) + ")"
TYPES_PATTERN = rf"^ *$|^[ ,]*{_SUBSCRIPTION}(?: *,[ ,]*{_SUBSCRIPTION})*[ ,]*$"
"""`types`: event types or families separated by commas (blank: every event), as services/stream.py reads it."""


class StreamEvent(EventBase):
    """An event's `data:` line: the envelope webhooks receive, whatever its type."""

    type: EventType = Field(description="The event's type, also in the block's `event:` field.")  # type: ignore[valid-type]
    data: dict[str, Any] = Field(description="The type's payload, as the `webhooks` section documents each type.")


def stream_item_schema() -> dict[str, Any]:
    """The two kinds of block the stream sends: an event, and the reconnection delay it starts with."""
    envelope = StreamEvent.model_json_schema()
    return {
        "oneOf": [
            {
                "title": "Event",
                "type": "object",
                "required": ["id", "event", "data"],
                "properties": {
                    "id": {
                        "type": "string",
                        "pattern": EVENT_ID_PATTERN,
                        "description": "The event's id: send the last one you saw as `Last-Event-ID` to resume.",
                    },
                    "event": {"type": "string", "enum": list(EVENT_TYPES), "description": "The event's type."},
                    "data": {
                        "type": "string",
                        "description": "One line of JSON: the event envelope.",
                        "contentMediaType": "application/json",
                        "contentSchema": envelope,
                    },
                },
            },
            {
                "title": "Reconnection delay",
                "type": "object",
                "required": ["retry"],
                "properties": {
                    "retry": {
                        "type": "integer",
                        "const": RETRY_MS,
                        "description": "Milliseconds to wait before reconnecting: the stream's first block, alone.",
                    }
                },
            },
        ],
        "description": f"Every block is one of these; a `: heartbeat` comment follows {HEARTBEAT_SECONDS:g} s "
        "without an event, and a `: closed <code>` comment ends a stream whose credential stopped working (comments, "
        "so not items: SSE parsers drop them).",
    }
