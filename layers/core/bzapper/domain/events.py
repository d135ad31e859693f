"""Domain events: the envelope every consumer (event log, stream, webhooks) sees."""

from __future__ import annotations

import hashlib
from typing import Any

from ulid import ULID

from bzapper.domain.clock import iso


def derived_id(prefix: str, at_ms: int, *identity: str) -> str:
    """A ULID-shaped id, sortable by time and derived from what it names: recomputing it gives the same id."""
    randomness = hashlib.sha256("\x1f".join(identity).encode()).digest()[:10]
    return f"{prefix}_" + str(ULID.from_bytes(at_ms.to_bytes(6, "big") + randomness))


def event_id(at_ms: int, *identity: str) -> str:
    """Derived from what happened, so a re-published event keeps its id."""
    return derived_id("evt", at_ms, *identity)


def envelope(
    event_type: str,
    *,
    at_ms: int,
    account_id: str,
    instance_id: str | None,
    livemode: bool,
    data: dict[str, Any],
    identity: tuple[str, ...],
) -> dict[str, Any]:
    return {
        "id": event_id(at_ms, event_type, *identity),
        "type": event_type,
        "created": iso(at_ms),
        "livemode": livemode,
        "account_id": account_id,
        "instance_id": instance_id,
        "data": data,
    }
