"""History on pairing, imported (docs/history.md): a worker's `history` report (one part of a chunk WhatsApp
handed a newly paired device) lands in the inbox as imported messages, without message.* events and without
usage; after the final part, ONE `instance.history_synced` per pairing (its `sync_id`).

Idempotent: a message's id is derived from (instance, WhatsApp id) exactly as a live one's
(`inbound_message_id`), so a part delivered again, or a live message that is also in the history, never makes a
second row; a part's counts are added to the sync's tally once (by its `part_id`); the event's id is derived
from the instance and the sync, and its time is the one stored with the tally at the first final part.
"""

from __future__ import annotations

import logging
from typing import Any

from bzapper import telemetry
from bzapper.domain.clock import iso
from bzapper.domain.events import envelope
from bzapper.domain.history import clean_id
from bzapper.domain.inbox import (
    GROUP,
    Contact,
    ReceivedMessage,
    ThreadEntry,
    chat_type,
    inbound_message_id,
)
from bzapper.domain.phones import parse_chat, parse_group
from bzapper.services.container import Services
from bzapper.services.inbox import chat_name_of, participant_of, received_row, resolve_contact, sender_of

logger = logging.getLogger(__name__)

EVENT_TYPE = "instance.history_synced"


def apply_history(services: Services, body: dict[str, Any]) -> None:
    """Imports one part of a history (a worker report). Raises on a storage or bus failure (retried whole:
    every step is idempotent)."""
    instance_id = str(body["instance_id"])
    sync_id, part_id = clean_id(body.get("sync_id")), clean_id(body.get("part_id"))
    instance = services.instances.get(instance_id)
    if instance is None or not sync_id or not part_id:
        logger.warning("history part of an unknown instance or without ids dropped", extra={"instance_id": instance_id})
        return
    since = _instance_created(services, instance_id)
    messages: list[ReceivedMessage] = []
    entries: dict[str, ThreadEntry] = {}
    for conversation in body.get("conversations") or []:
        for message, entry in _conversation(services, body, instance.shard, conversation, since):
            messages.append(message)
            newest = entries.get(entry.contact.jid)
            if newest is None or newest.sort < entry.sort:
                entries[entry.contact.jid] = entry  # the conversation's row learns its newest imported message
    unique = {m.message_id: m for m in messages}
    stored, marked = services.inbox.imported_before(instance_id, sorted(unique), sorted(entries), sync_id)
    new = [m for m in unique.values() if m.message_id not in stored]
    touched = {m.conversation_jid for m in new}
    counted = touched - marked
    # The tally first: a part whose writes stopped half-way counts, on its next delivery, nothing twice.
    services.inbox.count_history(instance_id, sync_id, part_id, conversations=len(counted), messages=len(new))
    if new:
        services.inbox.add_imported(new, [entries[jid] for jid in sorted(touched)], sync_id)
        telemetry.count("MessagesImported", len(new))
    if body.get("final"):
        _synced(services, body, instance_id, sync_id)


def _synced(services: Services, body: dict[str, Any], instance_id: str, sync_id: str) -> None:
    tally = services.inbox.finish_history(instance_id, sync_id, int(body["at"]))
    event = envelope(
        EVENT_TYPE,
        at_ms=tally.synced_at,
        account_id=str(body["account_id"]),
        instance_id=instance_id,
        livemode=bool(body["livemode"]),
        data={
            "instance_id": instance_id,
            "conversations": tally.conversations,
            "messages": tally.messages,
            "at": iso(tally.synced_at),
        },
        identity=(instance_id, sync_id),
    )
    services.events.publish([event])  # the same id however often the final part comes: delivered once


def _instance_created(services: Services, instance_id: str) -> int:
    view = services.instances.view(instance_id)
    return view.created_at if view is not None else 0


def _conversation(
    services: Services, body: dict[str, Any], shard: int, conversation: Any, since: int
) -> list[tuple[ReceivedMessage, ThreadEntry]]:
    """A history conversation's messages as inbox rows (marked imported), each with what its row learns; a chat
    the inbox never records (status, broadcast, channel, unreadable) gives none."""
    if not isinstance(conversation, dict):
        return []
    chat_jid = conversation.get("chat_jid")
    if not isinstance(chat_jid, str):
        return []
    kind = chat_type(chat_jid)
    if kind is None:
        return []
    instance_id, account_id, livemode = str(body["instance_id"]), str(body["account_id"]), bool(body["livemode"])
    found: list[tuple[ReceivedMessage, ThreadEntry]] = []
    contact: Contact | None = None
    for raw in conversation.get("messages") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("wa_message_id"), str) or not raw["wa_message_id"]:
            continue
        wa_message_id, from_me = raw["wa_message_id"], bool(raw.get("from_me"))
        at = int(raw["at"]) if isinstance(raw.get("at"), int) else int(body["at"])
        message_id = inbound_message_id(instance_id, wa_message_id)
        if from_me and at >= since:
            # A message this API sent after the instance was made: it is in its thread already, as ours.
            ours = services.messages.find_by_wa_id(wa_message_id, instance_id)
            if ours is not None and ours != message_id:
                continue
        sender = sender_of(raw.get("sender"))
        if kind == GROUP:
            contact = contact or Contact.group(parse_group(chat_jid), chat_name_of(conversation.get("chat_name")))
            if not from_me:
                sender = participant_of(services, account_id, sender)
        elif contact is None or (contact.phone is None and contact.lid is None):
            contact = resolve_contact(services, account_id, parse_chat(chat_jid), None if from_me else sender)
        found.append(
            received_row(
                account_id=account_id,
                instance_id=instance_id,
                livemode=livemode,
                shard=shard,
                wa_message_id=wa_message_id,
                chat_jid=chat_jid,
                contact=contact,
                kind=kind,
                raw_type=raw.get("type"),
                raw_content=raw.get("content"),
                from_me=from_me,
                sender=sender,
                at=at,
                imported=True,
            )
        )
    return found
