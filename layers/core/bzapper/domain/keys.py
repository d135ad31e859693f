"""API keys: `bz_live_…` / `bz_test_…`, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

Mode = Literal["live", "test"]
_PREFIXES: dict[str, Mode] = {"bz_live_": "live", "bz_test_": "test"}


def generate_key(mode: Mode) -> str:
    return f"bz_{mode}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_mode(key: str) -> Mode | None:
    """The mode a key claims by its prefix, or None for something that is not one of our keys."""
    for prefix, mode in _PREFIXES.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            return mode
    return None


def key_hint(key: str) -> str:
    """What may be shown again later: the prefix and the last four characters."""
    return f"{key[:8]}…{key[-4:]}"
