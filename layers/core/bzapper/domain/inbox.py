"""The inbox's pure rules: which conversation a message belongs to, how a thread sorts, what a preview
and a public content look like, and how its pages merge. No I/O (docs/inbox.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from ulid import ULID

from bzapper.domain.content import MEDIA_TYPES
from bzapper.domain.phones import (
    InvalidRecipient,
    chat_phone,
    is_group_jid,
    parse_chat,
    parse_group,
)
from bzapper.domain.statuses import RANK, TERMINAL_RANK, MessageStatus

PREVIEW_CHARS = 120
"""A conversation's last-message preview is cut here (a list row, never the whole message)."""

OTP_MASK = "••••••"
"""What the inbox shows instead of a verification code: the code itself is never stored."""

NOT_UNREAD = frozenset({"reaction", "edit", "revoke"})
"""Inbound types that change an earlier message instead of adding one: WhatsApp counts none as unread."""


ChatType = Literal["contact", "group"]
CONTACT: Final[ChatType] = "contact"
GROUP: Final[ChatType] = "group"


@dataclass(frozen=True, slots=True)
class Contact:
    """The other side of a conversation: a person (its E.164 phone and its `@lid` JID, each when known),
    or a group (its `@g.us` JID, and its subject as `name` when an engine reported it)."""

    phone: str | None
    lid: str | None
    name: str | None = None
    group_jid: str | None = None
    bsuid_jid: str | None = None
    """A Cloud API contact Meta names by its business-scoped user id only (`<bsuid>@bsuid`): its key while
    neither its phone nor its LID is known."""

    @classmethod
    def group(cls, group_jid: str, name: str | None = None) -> Contact:
        return cls(phone=None, lid=None, name=name, group_jid=group_jid)

    @property
    def type(self) -> ChatType:
        return GROUP if self.group_jid else CONTACT

    @property
    def jid(self) -> str:
        """The conversation's key: a group's JID; for a person, the phone JID when the phone is known, else
        the `@lid` JID."""
        if self.group_jid:
            return self.group_jid
        if self.phone:
            return phone_jid(self.phone)
        if self.lid:
            return self.lid
        if self.bsuid_jid:
            return self.bsuid_jid
        raise ValueError("a contact needs a phone, a lid or a bsuid")

    @property
    def jids(self) -> tuple[str, ...]:
        """Every key its messages may be under: a thread begun before the LID<->phone mapping was learned
        stays under the `@lid` key, later messages go under the phone's. A group has one key."""
        if self.group_jid:
            return (self.group_jid,)
        keys = [phone_jid(self.phone)] if self.phone else []
        if self.lid:
            keys.append(self.lid)
        if self.bsuid_jid:
            keys.append(self.bsuid_jid)
        return tuple(keys)


NOT_CONVERSATIONS = frozenset({"broadcast", "newsletter"})
"""Chat servers of what is never a conversation: status updates and broadcast lists, channels."""


def chat_type(chat_jid: str) -> ChatType | None:
    """What kind of conversation a chat JID makes: "contact" (a phone or `@lid` JID), "group" (`@g.us`),
    or None for what the inbox never records: status updates (`status@broadcast`), broadcast lists
    (`…@broadcast`), newsletters (channels) and any JID it cannot read."""
    try:
        parse_group(chat_jid)
        return GROUP
    except InvalidRecipient:
        pass
    try:
        parse_chat(chat_jid)
        return CONTACT
    except InvalidRecipient:
        return None


def conversation_type(contact_jid: str) -> ChatType:
    """The type of a stored conversation, from its key."""
    return GROUP if is_group_jid(contact_jid) else CONTACT


def phone_jid(e164: str) -> str:
    return f"{e164.lstrip('+')}@s.whatsapp.net"


def clean_phone(value: Any) -> str | None:
    """An engine-reported phone ("+55…", "55…" or a phone JID) as E.164, or None when it is not one."""
    return chat_phone(value)


def clean_lid(value: Any) -> str | None:
    """An engine-reported LID ("123…" or "123…@lid", maybe with a device suffix) as its `@lid` JID."""
    if not isinstance(value, str) or not value:
        return None
    user = value.split("@", 1)[0].split(":", 1)[0].split(".", 1)[0]
    return f"{user}@lid" if user.isdigit() and len(user) <= 20 else None


def chat_key(instance_id: str, contact_jid: str) -> str:
    """The thread index's partition: one per (instance, conversation)."""
    return f"{instance_id}#{contact_jid}"


def chat_sort(at_ms: int, message_id: str) -> str:
    """The thread's order: WhatsApp's time of the message, ties broken by id (a total order, as a string,
    so one cursor works across the several keys of a conversation)."""
    return f"{max(at_ms, 0):013d}#{message_id}"


def sort_time(sort: str) -> int:
    return int(sort.split("#", 1)[0])


def inbound_message_id(instance_id: str, wa_message_id: str) -> str:
    """Our id for a message WhatsApp delivered: derived from (instance, WhatsApp id) only, so every
    delivery of it, whatever time an engine reports, names the same message. Unlike the ids of the
    messages we send, it does not sort by time (threads sort by `chat_sort`)."""
    digest = hashlib.sha256(f"inbound\x1f{instance_id}\x1f{wa_message_id}".encode()).digest()
    return "msg_" + str(ULID.from_bytes(digest[:16]))


def counts_as_unread(message_type: str, from_me: bool) -> bool:
    return not from_me and message_type not in NOT_UNREAD


def stored_content(content: dict[str, Any]) -> dict[str, Any]:
    """What is kept of an inbound content: a quoted message of ours loses its preview, since it may be
    the code bubble of a verification message (whose code is never persisted)."""
    reply = content.get("reply_to")
    if isinstance(reply, dict) and reply.get("from_me") and "preview" in reply:
        content = {**content, "reply_to": {k: v for k, v in reply.items() if k != "preview"}}
    return content


def media_reference(media: dict[str, Any]) -> dict[str, Any]:
    """A stored media dict as clients see it: a stable `/media/{id}` reference, never the bucket key."""
    out = {
        "media_id": media.get("media_id"),
        "url": f"/media/{media.get('media_id')}",
        "mime_type": media.get("mime_type"),
        "size": media.get("size"),
    }
    if media.get("filename"):
        out["filename"] = media["filename"]
    return out


def public_content(message_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """A stored content as the inbox, events and webhooks show it."""
    out = dict(content)
    if message_type in MEDIA_TYPES and isinstance(content.get("media"), dict):
        out["media"] = media_reference(content["media"])
    if message_type == "otp":
        out = {"body": content.get("body", ""), "code": OTP_MASK}
    return out


def preview_text(message_type: str, content: dict[str, Any]) -> str | None:
    """The words a conversation list shows for a message, or None (a sticker, a deletion)."""
    if message_type == "otp":
        return f"{content.get('body', '')} {OTP_MASK}".strip()
    if message_type == "contact":
        names = [str(c["name"]) for c in content.get("contacts") or [] if isinstance(c, dict) and c.get("name")]
        text = ", ".join(names)
    elif message_type == "location":
        text = content.get("name") or content.get("address") or ""
    elif message_type == "reaction":
        text = content.get("emoji") or ""
    elif message_type == "poll":
        text = content.get("name") or ""
    else:
        text = content.get("body") or content.get("caption") or ""
        if not text and message_type == "document":
            text = (content.get("media") or {}).get("filename") or content.get("filename") or ""
    text = " ".join(str(text).split())
    return text[:PREVIEW_CHARS] or None


# --- what the inbox stores and reads back (plain data: the DynamoDB adapter maps it to its models) ----------


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """A message joining its conversation: what the conversation's row learns from it."""

    instance_id: str
    account_id: str
    livemode: bool
    contact: Contact
    message_id: str
    sort: str
    at: int
    preview: dict[str, Any]
    unread: bool
    inbound: bool = False
    """The contact wrote it (not an echo, not ours): it opens Meta's customer service window (`at` is kept
    on the row as `last_inbound_at`, in the write the conversation gets anyway)."""


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message WhatsApp delivered, or a fromMe echo of what the number's own phone sent, as stored."""

    message_id: str
    account_id: str
    instance_id: str
    livemode: bool
    shard: int
    wa_message_id: str
    chat_jid: str
    """The chat as WhatsApp named it (where read receipts go)."""
    conversation_jid: str
    """The conversation's key (`Contact.jid`): the thread it joins."""
    type: str
    content: dict[str, Any]
    from_me: bool
    sender: dict[str, Any]
    to_phone: str | None
    at: int
    """WhatsApp's time of the message (the first delivery's, when read back)."""
    sort: str
    imported: bool = False
    """Imported from the history WhatsApp handed a newly paired device (docs/history.md): no event was published."""

    @property
    def direction(self) -> str:
        return "outbound" if self.from_me else "inbound"

    @property
    def status(self) -> str:
        """An echo is a sent message (later receipts move it on); a received one never moves."""
        return MessageStatus.SENT.value if self.from_me else "received"

    @property
    def status_rank(self) -> int:
        return RANK[MessageStatus.SENT] if self.from_me else TERMINAL_RANK


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A message of a thread as read back (either direction)."""

    message_id: str
    wa_message_id: str
    direction: str
    from_me: bool
    sender: dict[str, Any]
    chat_jid: str
    conversation_jid: str
    type: str
    content: dict[str, Any]
    status: str
    history: tuple[tuple[str, int], ...]
    error_code: str | None
    client_reference: str | None
    sort: str
    imported: bool = False
    """Came with the history of a pairing (docs/history.md), not live."""


@dataclass(frozen=True, slots=True)
class HistoryTally:
    """What one pairing's history import added to the inbox (docs/history.md)."""

    conversations: int
    messages: int
    synced_at: int
    """When the import ended (the first final part's time): the time of its instance.history_synced."""


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A conversation's list row as stored (docs/inbox.md)."""

    instance_id: str
    contact_jid: str
    livemode: bool
    last_activity: int
    phone: str | None = None
    lid: str | None = None
    name: str | None = None
    last_sort: str | None = None
    last_message: dict[str, Any] | None = None
    unread_count: int = 0
    read_through: str | None = None
    created_at: int = 0
    last_inbound_at: int | None = None
    """When the contact last wrote (bzapper.domain.service_window)."""


# --- one row per contact in the list (a LID row and its phone's row shown as one) ----------------------------


def is_lid_jid(jid: str) -> bool:
    return jid.endswith("@lid")


def other_key(row: ConversationRow, learned: str | None) -> str | None:
    """The key of the contact's other row, from the learned mapping of this row's side: a LID row's phone
    (`learned` is an E.164) names the phone JID, a phone row's LID (`learned` is an `@lid` JID) names itself.
    None for a group, or when no mapping is known. Only the learned mappings decide, never the LID a row
    happens to store, so both rows of a contact reach the same decision on every page."""
    if not learned or conversation_type(row.contact_jid) == GROUP:
        return None
    return phone_jid(learned) if is_lid_jid(row.contact_jid) else learned


def listing_rank(row: ConversationRow) -> tuple[int, bool, str]:
    """Which of a contact's two rows lists it: the newest activity; on a tie the phone's row (then the key,
    so two rows never tie)."""
    return (row.last_activity, not is_lid_jid(row.contact_jid), row.contact_jid)


def lists_here(row: ConversationRow, partner: ConversationRow | None) -> bool:
    """Whether the contact is listed at this row's place in the activity order (else its other row lists
    it, on this page or another: each of the two rows decides alike wherever the page breaks)."""
    return partner is None or listing_rank(row) > listing_rank(partner)


def merge_rows(rows: Sequence[ConversationRow], phone: str | None = None, lid: str | None = None) -> ConversationRow:
    """One contact's rows (its phone key's and its LID key's, either may be missing) as the one row shown:
    keyed by the phone JID when the phone is known, with both ids (stored, else the learned `phone` and
    `lid`), the unread counts added, and the newest row's preview and activity. A group's row is unchanged."""
    newest = max(rows, key=listing_rank)
    if conversation_type(newest.contact_jid) == GROUP:
        return newest
    phone = next((r.phone for r in rows if r.phone), None) or phone
    lid = next((r.lid for r in rows if r.lid), None) or next(
        (r.contact_jid for r in rows if is_lid_jid(r.contact_jid)), lid
    )
    created = [r.created_at for r in rows if r.created_at]
    return replace(
        newest,
        contact_jid=phone_jid(phone) if phone else newest.contact_jid,
        phone=phone,
        lid=lid,
        name=newest.name or next((r.name for r in rows if r.name), None),
        unread_count=sum(r.unread_count for r in rows),
        created_at=min(created) if created else 0,
    )
