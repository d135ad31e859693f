"""Pagination cursors: opaque, url-safe, bound to the listing's owner. Pure, no I/O.

A cursor is base64url(tag + JSON position). The tag is a BLAKE2b digest over the owner (a wallet, a
webhook, an instance) and the position, so a cursor issued for one owner is refused for another, and a
garbled or edited one is refused too. The tag is a check, not a secret: a client that forges a valid one
only chooses a start position inside its own listing, whose owner the caller authorized; the position's
shape is still validated here, so no forged value reaches DynamoDB as something it rejects (a 500).
Every refusal is the 422 `validation_failed` with param "cursor".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from bzapper.domain.errors import validation_failed

Position = Mapping[str, str | int]
Shape = Mapping[str, type]
"""A position's fields and their types: `str` (non-empty, valid UTF-8) or `int` (0 <= n < 2**53)."""

_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_TAG_BYTES = 12
_PERSON = b"bzapper.cursor"
MAX_CURSOR_CHARS = 1024
"""Longer is not a cursor this API issued (a sort key is at most 1 KB, and ours are far shorter)."""
MAX_TEXT_CHARS = 256
MAX_INT = 2**53
"""Integers stay exact in every JSON client (a millisecond time is below 10**13)."""


def _tag(owner: str, payload: bytes) -> bytes:
    owner_bytes = owner.encode()
    framed = len(owner_bytes).to_bytes(4, "big") + owner_bytes + payload
    return hashlib.blake2b(framed, digest_size=_TAG_BYTES, person=_PERSON).digest()


def encode_cursor(owner: str, position: Position) -> str:
    """The cursor for continuing `owner`'s listing after `position`."""
    payload = json.dumps(dict(position), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(_tag(owner, payload) + payload).decode().rstrip("=")


def decode_cursor(cursor: str, owner: str, shape: Shape) -> dict[str, Any]:
    """The position of a cursor this API issued for `owner`, with exactly the fields of `shape`, else a 422."""
    position = _decoded(cursor, owner)
    if position is None or set(position) != set(shape):
        raise validation_failed("cursor")
    for name, kind in shape.items():
        if not _fits(position[name], kind):
            raise validation_failed("cursor")
    return position


def _decoded(cursor: Any, owner: str) -> dict[str, Any] | None:
    # Strict: a character outside the url-safe alphabet is an edit, not something to skip.
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS or not _URL_SAFE.fullmatch(cursor):
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:  # binascii.Error included: a length no encoder gives
        return None
    tag, payload = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    if not payload or not hmac.compare_digest(tag, _tag(owner, payload)):
        return None
    try:
        position = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return position if isinstance(position, dict) else None


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return type(value) is int and 0 <= value < MAX_INT
    if kind is str:
        if type(value) is not str or not value or len(value) > MAX_TEXT_CHARS:
            return False
        try:
            value.encode()  # a lone surrogate would fail later, inside the DynamoDB client
        except UnicodeEncodeError:
            return False
        return True
    raise TypeError(f"a cursor field is str or int, not {kind!r}")
