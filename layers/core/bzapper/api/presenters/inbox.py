"""The inbox as the API shows it: conversations (a contact's two rows shown as one) and their threads."""

from __future__ import annotations

from typing import Any

from bzapper.domain.clock import iso
from bzapper.domain.inbox import (
    CONTACT,
    Contact,
    ConversationRow,
    ThreadMessage,
    conversation_type,
    public_content,
    sort_time,
)
from bzapper.services.inbox import ConversationPage, ConversationRead, ThreadPage

RECEIVED = "received"
READ = "read"


def conversation_out(row: ConversationRow) -> dict[str, Any]:
    """A conversation as shown (for a contact with two rows, `merge_rows` of them)."""
    last = row.last_message or {}
    return {
        "jid": row.contact_jid,
        "type": conversation_type(row.contact_jid),
        "instance_id": row.instance_id,
        "phone": row.phone,
        "lid": row.lid,
        "name": row.name,
        "unread_count": row.unread_count,
        "last_message": {
            "message_id": last.get("message_id"),
            "direction": last.get("direction"),
            "type": last.get("type"),
            "text": last.get("text"),
            "at": iso(int(last.get("at") or 0)),
        }
        if last
        else None,
        "last_activity": iso(row.last_activity),
        "livemode": row.livemode,
        "created": iso(row.created_at),
    }


def message_out(item: ThreadMessage, read_through: str, contact: Contact | None = None) -> dict[str, Any]:
    """A thread's message; `contact` is the 1:1 conversation's other side as known now, which fills the `from`
    of messages that arrived before its phone or LID was learned (a group's senders are its participants)."""
    inbound = item.direction == "inbound"
    status = item.status
    if inbound:
        status = READ if read_through and item.sort <= read_through else RECEIVED
    sender = item.sender
    if inbound and contact is not None and contact.type == CONTACT:
        sender = {**sender, "phone": sender.get("phone") or contact.phone, "lid": sender.get("lid") or contact.lid}
    return {
        "message_id": item.message_id,
        "wa_message_id": item.wa_message_id,
        "direction": "inbound" if inbound else "outbound",
        "sent_from": None if inbound else ("phone" if item.from_me else "api"),
        "from": {k: sender.get(k) for k in ("jid", "phone", "lid", "name")} if inbound else None,
        "chat_jid": item.chat_jid,
        "type": item.type,
        "content": public_content(item.type, item.content),
        "status": status,
        "history": [] if inbound else [{"status": status_, "at": iso(at)} for status_, at in item.history],
        "error": {"code": item.error_code} if item.error_code and not inbound else None,
        "client_reference": item.client_reference,
        "at": iso(sort_time(item.sort)),
        "imported": item.imported,
    }


def conversation_page(page: ConversationPage) -> dict[str, Any]:
    return {
        "data": [conversation_out(row) for row in page.rows],
        "has_more": page.next_cursor is not None,
        "next_cursor": page.next_cursor,
    }


def thread_page(page: ThreadPage) -> dict[str, Any]:
    return {
        "conversation": conversation_out(page.conversation),
        "data": [
            message_out(item, page.read_through.get(item.conversation_jid, ""), page.contact) for item in page.messages
        ],
        "has_more": page.next_cursor is not None,
        "next_cursor": page.next_cursor,
    }


def conversation_read(read: ConversationRead) -> dict[str, Any]:
    return {**conversation_out(read.conversation), "receipts_sent": read.receipts_sent}
