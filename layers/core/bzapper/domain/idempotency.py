"""Idempotency-Key rules (Stripe semantics): the first response is replayed for 24 hours."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

TTL_SECONDS = 24 * 3600
LOCK_SECONDS = 60
"""A request that dies mid-flight frees its key after this long."""
MAX_KEY_LENGTH = 255


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()


def fingerprint(method: str, path: str, body: Any) -> str:
    """Same key with a different request is a conflict; formatting and key order do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IdempotencyLock:
    """Held by the first request with a key, until its work commits (or it releases the key)."""

    idempotency_id: str
    token: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What an earlier request with the same key left: still in flight (`done` False), or its result."""

    fingerprint: str
    done: bool
    body: Any


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    """A client's Idempotency-Key and the fingerprint of the request it came with."""

    key: str
    fingerprint: str
