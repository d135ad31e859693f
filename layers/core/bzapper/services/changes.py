"""Edits and deletions for everyone: when their own message (type "edit" or "revoke") reaches `sent`, the
original message changes, and one event says so (message.edited / message.deleted)."""

from __future__ import annotations

from typing import Any

from bzapper.domain.composing import EDITABLE_FIELD
from bzapper.domain.events import envelope
from bzapper.domain.model import MessageView
from bzapper.domain.statuses import RANK, TERMINAL_RANK, MessageStatus
from bzapper.services.container import Services

CHANGE_EVENTS = {"edit": "message.edited", "revoke": "message.deleted"}
_STATUS_RANK = {str(status.value): rank for status, rank in RANK.items() if rank < TERMINAL_RANK}
_SENT_RANK = RANK[MessageStatus.SENT]


def change_events(services: Services, change: MessageView, status: str) -> list[dict[str, Any]]:
    """The event about the original when `change` (an edit or a deletion) just reached WhatsApp, else nothing.

    It reached WhatsApp with its first status from `sent` on: usually `sent`, but a recipient's receipt can
    overtake the worker's report (then the late `sent` is ignored, forward-only). So every status from `sent` on
    applies it, and each is safe to repeat: the original records the change once (a later edit wins), and the
    event's id is derived from both messages and the time the change first got there, so every report (a retry,
    a later receipt) publishes the very same event, which consumers and webhook deliveries collapse by its id.
    """
    if change.type not in CHANGE_EVENTS or _STATUS_RANK.get(status, -1) < _SENT_RANK:
        return []
    reached = [at for name, at in change.history if _STATUS_RANK.get(name, -1) >= _SENT_RANK]
    at = min(reached) if reached else None
    original_id = services.messages.find_by_wa_id(change.content["target"]["wa_message_id"], change.instance_id)
    original = services.messages.get(original_id) if original_id else None
    if at is None or original is None:
        return []  # a message sent from the phone itself: nothing of ours changes
    data: dict[str, Any] = {
        "message_id": original.message_id,
        "change_id": change.message_id,
        "to": original.to_phone or original.to_jid,
        "client_reference": original.client_reference,
    }
    if change.type == "edit":
        field = EDITABLE_FIELD.get(original.type)
        if field is None:
            return []
        services.messages.record_edit(original.message_id, field, change.content["body"], at)
        data["body"] = change.content["body"]
    else:
        services.messages.record_deletion(original.message_id, at)
    return [
        envelope(
            CHANGE_EVENTS[change.type],
            at_ms=at,
            account_id=original.account_id,
            instance_id=original.instance_id,
            livemode=original.livemode,
            data=data,
            identity=(original.message_id, change.message_id),
        )
    ]
