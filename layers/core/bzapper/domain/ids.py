"""Identifiers: prefixed ULIDs (sortable by creation) and the WhatsApp id derived from ours."""

from __future__ import annotations

import hashlib

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


def whatsapp_message_id(message_id: str) -> str:
    """The WhatsApp message id for one of our messages, derived, never random.

    A worker that crashes between WhatsApp's server ack and recording it re-sends the message with the
    same id, and the recipient's device collapses it, so the recipient sees it once. The shape follows
    the ids WhatsApp Web clients generate: "3EB0" and uppercase hex.
    """
    digest = hashlib.sha256(message_id.encode()).hexdigest().upper()
    return "3EB0" + digest[:16]


_ULID_CHARS = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def is_id(value: str, prefix: str) -> bool:
    """Whether `value` has the shape of one of our ids: a cheap 404 before any lookup (and no oversized key)."""
    head, _, tail = value.partition("_")
    return head == prefix and len(tail) == 26 and set(tail) <= _ULID_CHARS


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def derived_id(prefix: str, *parts: str) -> str:
    """An id of our shape derived from `parts`, the same every time: what makes a retried creation (an account
    opened for a user after a crash) find its own first attempt instead of making a second one."""
    number = int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest()[:17], "big")
    chars = []
    for _ in range(26):
        number, digit = divmod(number, 32)
        chars.append(_CROCKFORD[digit])
    return f"{prefix}_{''.join(reversed(chars))}"
