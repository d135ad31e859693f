"""API keys as their owner sees them: the secret only in the answer that made it."""

from __future__ import annotations

from typing import Any

from bzapper.domain.clock import iso
from bzapper.domain.keys import ApiKey


def key_out(key: ApiKey, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": key.key_id,
        "object": "api_key",
        "name": key.name,
        "mode": key.mode,
        "key": secret,
        "last4": key.last4,
        "scopes": sorted(key.scopes) if key.scopes is not None else None,
        "instance_ids": sorted(key.instance_ids) if key.instance_ids is not None else None,
        "created": iso(key.created_at),
        "last_used": iso(key.last_used) if key.last_used else None,
        "expires": None,
        "previous_expires": iso(key.previous_expires) if key.previous_expires else None,
        "revoked": iso(key.revoked_at) if key.revoked_at else None,
    }
