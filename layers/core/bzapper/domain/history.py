"""History on pairing (settings.history_sync, docs/history.md): how a history an engine hands over is cut into
reports, and what one report may carry. Pure.

An engine reports what WhatsApp hands a newly paired device as `history` engine events (bzapper.domain.engine):
one per chunk WhatsApp sent, each with its conversations and their messages in the shape of an inbound event,
under the pairing's `sync_id` and the chunk's own `chunk_id`. The worker cuts each chunk into reports small
enough for the status-updates queue (`split`); the statuses consumer imports each part once (by its `part_id`)
and, after the part marked `final`, publishes ONE `instance.history_synced` per `sync_id`.
"""

from __future__ import annotations

import json
from typing import Any

PART_MESSAGES_MAX = 100
"""Messages in one report at most."""
PART_BYTES_MAX = 24_000
"""One report's messages at most this many bytes of JSON: ten reports ride in one SendMessageBatch (256 KiB)."""
ID_CHARS_MAX = 96
"""A sync id or a chunk id is cut here (they name items and SQS deduplication ids)."""

MESSAGE_KEYS = ("wa_message_id", "chat_jid", "from_me", "sender", "type", "content", "at")
"""What a history message carries: an inbound engine event's fields (no media file: history media is not
downloaded)."""


def clean_id(value: Any) -> str:
    """A sync or chunk id as reported, bounded; "" when it is not a string."""
    return value[:ID_CHARS_MAX] if isinstance(value, str) else ""


def _size(message: dict[str, Any]) -> int:
    return len(json.dumps(message, separators=(",", ":"), default=str))


def split(event: dict[str, Any]) -> list[dict[str, Any]]:
    """A `history` engine event cut into report bodies: each with at most PART_MESSAGES_MAX messages and about
    PART_BYTES_MAX bytes of them (a single bigger message travels alone), its conversations cut where the
    bound falls. Each part keeps the event's sync id and names itself `<chunk_id>#<n>`; only the last part of
    a final chunk is `final`. A chunk with no message still makes one (empty) part: it may be the final one."""
    chunk_id = clean_id(event.get("chunk_id"))
    base = {"instance_id": event["instance_id"], "sync_id": clean_id(event.get("sync_id")), "at": int(event["at"])}
    parts: list[list[dict[str, Any]]] = [[]]
    count = size = 0
    for conversation in event.get("conversations") or []:
        if not isinstance(conversation, dict) or not isinstance(conversation.get("chat_jid"), str):
            continue
        head = {k: conversation[k] for k in ("chat_jid", "chat_name") if conversation.get(k) is not None}
        current: dict[str, Any] | None = None
        for message in conversation.get("messages") or []:
            if not isinstance(message, dict) or not isinstance(message.get("wa_message_id"), str):
                continue
            message = {k: message[k] for k in MESSAGE_KEYS if k in message}
            weight = _size(message)
            if count and (count >= PART_MESSAGES_MAX or size + weight > PART_BYTES_MAX):
                parts.append([])
                count = size = 0
                current = None
            if current is None:
                current = {**head, "messages": []}
                parts[-1].append(current)
            current["messages"].append(message)
            count, size = count + 1, size + weight
    final = bool(event.get("final"))
    return [
        {**base, "part_id": f"{chunk_id}#{index}", "final": final and index == len(parts) - 1, "conversations": part}
        for index, part in enumerate(parts)
    ]


def message_count(conversations: list[dict[str, Any]]) -> int:
    return sum(len(c.get("messages") or []) for c in conversations)
