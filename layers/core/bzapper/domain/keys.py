"""API keys: `bz_live_…` / `bz_test_…`, shown once, stored only as a SHA-256 hash; their scopes and numbers."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

Mode = Literal["live", "test"]

SCOPES: dict[str, str] = {
    "messages:write": "send messages of every type (and OTPs), edit and delete them",
    "messages:read": "read a message and its status history",
    "templates:read": "list a Cloud API number's message templates (GET /templates)",
    "media:write": "upload files",
    "media:read": "download files (GET /media/{id})",
    "instances:read": "list numbers, read their status and QR code",
    "instances:write": "create, pair, restart, log out and delete numbers; check numbers on WhatsApp",
    "groups:read": "list a number's groups, read one and its invite link",
    "groups:write": "create groups, change them and their participants, revoke invite links, join and leave",
    "contacts:read": "read a contact's profile (name, about, picture) and the number's blocklist",
    "contacts:write": "block and unblock contacts",
    "inbox:read": "read conversations and their messages",
    "inbox:write": "mark conversations read",
    "webhooks:read": "list webhook endpoints and their deliveries",
    "webhooks:write": "create, change, rotate, test, replay and delete webhook endpoints",
    "events:read": "follow the event stream (GET /stream)",
    "billing:read": "read the wallet, usage and entitlements",
    "billing:write": "top up the wallet (checkouts)",
    "account:read": "read the account (GET /me)",
    "account:write": "change the account's settings",
    "sandbox": "test mode only: the sandbox network's windows (scan, inject inbound, read what contacts got)",
}
"""Every scope a restricted key may hold, and what it allows (docs/accounts.md has the table)."""

KEY_NAME_MAX = 100
ROLL_HOURS_MAX = 168
"""A rolled key's previous secret works at most this long (7 days) after the roll."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as its owner manages it: never its secret (only the last 4 characters, to recognise it)."""

    key_id: str
    account_id: str
    name: str
    mode: Mode
    last4: str
    created_at: int
    scopes: frozenset[str] | None = None
    """None: every scope (an unrestricted key)."""
    instance_ids: frozenset[str] | None = None
    """None: every number of the account."""
    last_used: int | None = None
    revoked_at: int | None = None
    previous_expires: int | None = None
    """Until when the secret before the last roll still works (None: no roll pending)."""


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made (or rolled), with its secret: the only time the secret exists outside its owner."""

    key: ApiKey
    secret: str


def last4(key: str) -> str:
    return key[-4:]


_PREFIXES: dict[str, Mode] = {"bz_live_": "live", "bz_test_": "test"}


def generate_key(mode: Mode) -> str:
    return f"bz_{mode}_{secrets.token_urlsafe(32)}"


_WELL_FORMED = re.compile(r"bz_(?:live|test)_[A-Za-z0-9_-]{43}")


def well_formed(key: str) -> bool:
    """Whether `key` has the shape every key is made with (a prefix and 32 random bytes, base64url): anything
    else is refused without reading a table."""
    return _WELL_FORMED.fullmatch(key) is not None


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


def unknown_scopes(scopes: list[str]) -> list[int]:
    """The positions of the scopes that do not exist (a restricted key may hold only documented ones)."""
    return [index for index, scope in enumerate(scopes) if scope not in SCOPES]


def allows(scopes: frozenset[str] | None, needed: str | None) -> bool:
    """Whether a key with `scopes` may call an operation needing `needed` (None: any authenticated caller)."""
    return needed is None or scopes is None or needed in scopes
