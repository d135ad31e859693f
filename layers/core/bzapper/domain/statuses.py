"""The message lifecycle: statuses only ever move forward."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"


_PROGRESS = (
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
    MessageStatus.PLAYED,
)
TERMINAL_FAILURES = frozenset({MessageStatus.FAILED, MessageStatus.EXPIRED, MessageStatus.CANCELED})

TERMINAL_RANK = 100
"""Stored for a failed, expired or canceled message: above every rank, so nothing moves it again."""

RANK: dict[MessageStatus, int] = {status: rank for rank, status in enumerate(_PROGRESS)}
RANK.update(dict.fromkeys(TERMINAL_FAILURES, TERMINAL_RANK))


def rank(status: MessageStatus | str) -> int:
    return RANK[MessageStatus(status)]


def can_advance(current: MessageStatus | str, new: MessageStatus | str) -> bool:
    """True when moving from `current` to `new` is progress; late or repeated reports are ignored."""
    current, new = MessageStatus(current), MessageStatus(new)
    if current in TERMINAL_FAILURES:
        return False
    if new in TERMINAL_FAILURES:
        # A message WhatsApp acknowledged cannot later "fail to send".
        return rank(current) <= RANK[MessageStatus.SENDING]
    return rank(new) > rank(current)


def ranks_below(new: MessageStatus | str) -> list[int]:
    """The stored ranks from which `new` is an advance: the condition of the forward-only update."""
    new = MessageStatus(new)
    if new in TERMINAL_FAILURES:
        return [RANK[MessageStatus.QUEUED], RANK[MessageStatus.SENDING]]
    return list(range(rank(new)))


def participant_key(participant: dict[str, Any]) -> str | None:
    """Who a group receipt is from, as a group message's participants are keyed: the phone, else the LID."""
    for name in ("phone", "lid", "jid"):
        value = participant.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def participant_rows(stored: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """A group message's stored participant receipts as the API shows them, in the order they first came."""
    if stored is None:
        return None
    rows = [
        {"phone": entry.get("phone"), "lid": entry.get("lid"), "status": entry["s"], "at": int(entry["at"])}
        for entry in stored.values()
    ]
    return sorted(rows, key=lambda row: (row["at"], row["phone"] or row["lid"] or ""))
