"""Edits and deletions for everyone: when their own message (type "edit" or "revoke") reaches `sent`, the
original message changes, and one event says so (message.edited / message.deleted)."""

from __future__ import annotations

from typing import Any

from bzapper.domain.composing import EDITABLE_FIELD
from bzapper.domain.events import envelope
from bzapper.domain.model import MessageView
from bzapper.domain.statuses import MessageStatus
from bzapper.services.container import Services

CHANGE_EVENTS = {"edit": "message.edited", "revoke": "message.deleted"}


def change_events(services: Services, change: MessageView, status: str) -> list[dict[str, Any]]:
    """The event about the original when `change` (an edit or a deletion) was just sent, else nothing.

    Safe to repeat: the original records the change once (a later edit wins), and the event's id is
    derived from both messages and the change's sent time, so a retried report re-publishes the same event.
    """
    if change.type not in CHANGE_EVENTS or status != MessageStatus.SENT:
        return []
    at = next((at for name, at in change.history if name == MessageStatus.SENT), None)
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
