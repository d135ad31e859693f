"""neonize's events -> engine events (bzapper.domain.engine). Pure: the caller brings the clock and lookups.

WhatsApp names a person by a phone JID or a LID JID. Every inbound message and receipt here carries the
chat as the phone JID whenever the event itself (SenderAlt/RecipientAlt) or the caller's lookup knows it;
`sender` carries both, and each pair seen is also reported as an identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bzapper.domain.status_posts import STATUS_JID
from bzapper.engines.whatsmeow import jids, vcards
from bzapper.engines.whatsmeow.lib import e2e, neonize_pb2

LidLookup = Callable[[str], str | None]
"""A LID JID -> the phone JID WhatsApp told us for it (the session store), or None."""

PREVIEW_CHARS = 300
RECEIPT_STATUS = {
    neonize_pb2.Receipt.DELIVERED: "delivered",
    neonize_pb2.Receipt.READ: "read",
    neonize_pb2.Receipt.PLAYED: "played",
}
# Wrappers whose `message` holds the real content (whatsmeow unwraps most; older paths may not).
_WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
    "editedMessage",
    "deviceSentMessage",
)
# Fields that ride along with content and are never content themselves.
_NOT_CONTENT = frozenset(
    {"messageContextInfo", "senderKeyDistributionMessage", "fastRatchetKeySenderKeyDistributionMessage"}
)
_MEDIA_FIELDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "ptvMessage": "video",
    "documentMessage": "document",
    "audioMessage": "audio",
    "stickerMessage": "sticker",
}


def to_ms(timestamp: int, now_ms: int) -> int:
    """neonize sends seconds for some times and milliseconds for others: tell them apart by size."""
    if timestamp <= 0:
        return now_ms
    return timestamp if timestamp >= 10**11 else timestamp * 1000


def state(instance_id: str, name: str, at: int, **fields: Any) -> dict[str, Any]:
    event = {"kind": "state", "instance_id": instance_id, "state": name, "at": at}
    event.update({key: value for key, value in fields.items() if value not in (None, "")})
    return event


def identity(instance_id: str, phone: str, lid: str, at: int) -> dict[str, Any]:
    return {"kind": "identity", "instance_id": instance_id, "phone": phone, "lid": lid, "at": at}


def source_pairs(source: neonize_pb2.MessageSource) -> list[tuple[str, str]]:
    """(phone E.164, lid JID) pairs a message source reveals (sender and recipient alternates)."""
    found = []
    for main, alt in ((source.Sender, source.SenderAlt), (source.Chat, source.RecipientAlt)):
        pair = jids.pair(jids.to_str(main), jids.to_str(alt))
        if pair and pair not in found:
            found.append(pair)
    return found


def chat_of(source: neonize_pb2.MessageSource, lookup: LidLookup | None = None) -> str:
    """The chat JID, as the phone JID when a one-to-one chat is addressed by LID and the phone is known."""
    chat = jids.to_str(source.Chat)
    if not jids.is_lid(chat):
        return chat
    alt = jids.to_str(source.RecipientAlt if source.IsFromMe else source.SenderAlt)
    if jids.is_phone(alt):
        return alt
    return (lookup(chat) if lookup else None) or chat


def receipts(instance_id: str, event: neonize_pb2.Receipt, now_ms: int, lookup: LidLookup | None = None) -> list[dict]:
    """One receipt event per message id, for the statuses we track of messages this instance sent."""
    status = RECEIPT_STATUS.get(event.Type)
    if status is None or event.MessageSource.IsFromMe:
        return []  # our own other devices reading, retries, server errors...
    chat = chat_of(event.MessageSource, lookup)
    at = to_ms(event.Timestamp, now_ms)
    common = {"kind": "receipt", "instance_id": instance_id, "chat_jid": chat, "status": status, "at": at}
    if event.MessageSource.IsGroup or chat == STATUS_JID:
        # In a group each participant's phone reports on its own: the receipt's sender is that participant.
        # So does each viewer of a status post (whatsmeow names status@broadcast as the chat).
        participant = _participant(event.MessageSource)
        if participant:
            common["participant"] = participant
    return [{**common, "wa_message_id": message_id} for message_id in event.MessageIDs]


def _participant(source: neonize_pb2.MessageSource) -> dict[str, str]:
    """{jid, phone?, lid?} of a group receipt's sender (its LID and phone when the event names both)."""
    sender, alt = jids.to_str(source.Sender), jids.to_str(source.SenderAlt)
    if not sender:
        return {}
    found = {"jid": sender}
    for value in (sender, alt):
        if jids.is_lid(value):
            found["lid"] = value
        elif phone := jids.phone_of(value):
            found["phone"] = phone
    return found


def unwrap(message: e2e.Message) -> e2e.Message:
    for _ in range(4):  # wrappers nest at most a few levels
        for field in _WRAPPERS:
            if message.HasField(field) and getattr(message, field).HasField("message"):
                message = getattr(message, field).message
                break
        else:
            return message
    return message


def text_of(message: e2e.Message) -> str:
    """The text a message shows: its body or its caption."""
    message = unwrap(message)
    if message.conversation:
        return message.conversation
    if message.HasField("extendedTextMessage"):
        return message.extendedTextMessage.text
    for field in ("imageMessage", "videoMessage", "documentMessage"):
        if message.HasField(field):
            return getattr(message, field).caption
    return ""


def _context(message: e2e.Message) -> e2e.ContextInfo | None:
    for descriptor, value in message.ListFields():
        fields = descriptor.message_type.fields_by_name if descriptor.message_type is not None else {}
        if "contextInfo" in fields and value.HasField("contextInfo"):
            return value.contextInfo
    return None


def _extras(message: e2e.Message, chat: str, own: frozenset[str]) -> dict[str, Any]:
    """reply_to and mentions, from whichever part of the message carries a ContextInfo."""
    info = _context(message)
    if info is None:
        return {}
    extras: dict[str, Any] = {}
    if info.stanzaID:
        reply: dict[str, Any] = {"wa_message_id": info.stanzaID, "chat_jid": chat, "from_me": info.participant in own}
        if info.participant:
            reply["sender_jid"] = info.participant
        preview = text_of(info.quotedMessage)[:PREVIEW_CHARS]
        if preview:
            reply["preview"] = preview
        extras["reply_to"] = reply
    if info.mentionedJID:
        extras["mentions"] = list(info.mentionedJID)
    return extras


def _target(key: Any, chat: str, event_from_me: bool, own: frozenset[str]) -> dict[str, Any]:
    """The message a reaction or revoke points at. The key is written from its sender's side, so a peer's
    "fromMe" means the peer's own message, which is not ours."""
    if key.participant:
        from_me = key.participant in own
    elif event_from_me:
        from_me = key.fromMe
    else:
        from_me = not key.fromMe
    target: dict[str, Any] = {"wa_message_id": key.ID, "chat_jid": chat, "from_me": from_me}
    if key.participant:
        target["sender_jid"] = key.participant
    return target


def _media(kind: str, part: Any) -> dict[str, Any]:
    media: dict[str, Any] = {"mime_type": part.mimetype, "size": int(part.fileLength), "sha256": part.fileSHA256.hex()}
    if kind == "document" and part.fileName:
        media["filename"] = part.fileName
    content: dict[str, Any] = {"media": media}
    if kind in ("image", "video", "document") and part.caption:
        content["caption"] = part.caption
    if kind == "document":
        content["filename"] = part.fileName or "file"
    if kind == "audio":
        content["voice"] = bool(part.PTT)
    return content


def content_of(
    message: e2e.Message, chat: str, from_me: bool, own: frozenset[str]
) -> tuple[str, dict[str, Any], e2e.Message | None] | None:
    """(type, content, the part to download or None) of a received message; None when it is not a user's message."""
    message = unwrap(message)
    extras = _extras(message, chat, own)
    if message.conversation or message.HasField("extendedTextMessage"):
        return "text", {"body": text_of(message), **extras}, None
    for field, kind in _MEDIA_FIELDS.items():
        if message.HasField(field):
            part = getattr(message, field)
            download = e2e.Message()
            getattr(download, field).CopyFrom(part)
            return kind, {**_media(kind, part), **extras}, download
    if message.HasField("locationMessage") or message.HasField("liveLocationMessage"):
        place = message.locationMessage if message.HasField("locationMessage") else message.liveLocationMessage
        content: dict[str, Any] = {"latitude": place.degreesLatitude, "longitude": place.degreesLongitude}
        if message.HasField("locationMessage"):
            content.update({k: v for k, v in (("name", place.name), ("address", place.address)) if v})
        return "location", {**content, **extras}, None
    if message.HasField("contactMessage") or message.HasField("contactsArrayMessage"):
        cards = (
            [message.contactMessage]
            if message.HasField("contactMessage")
            else list(message.contactsArrayMessage.contacts)
        )
        contacts = []
        for card in cards:
            parsed = vcards.parse(card.vcard)
            parsed["name"] = parsed["name"] or card.displayName
            contacts.append(parsed)
        return "contact", {"contacts": contacts, "vcards": [card.vcard for card in cards], **extras}, None
    for field in ("pollCreationMessage", "pollCreationMessageV2", "pollCreationMessageV3"):
        if message.HasField(field):
            poll = getattr(message, field)
            options = [option.optionName for option in poll.options]
            content = {"name": poll.name, "options": options, "selectable_count": int(poll.selectableOptionsCount)}
            return "poll", {**content, **extras}, None
    if message.HasField("reactionMessage"):
        reaction = message.reactionMessage
        return "reaction", {"target": _target(reaction.key, chat, from_me, own), "emoji": reaction.text}, None
    if message.HasField("protocolMessage"):
        protocol = message.protocolMessage
        if protocol.type == e2e.ProtocolMessage.REVOKE:
            return "revoke", {"target": _target(protocol.key, chat, from_me, own)}, None
        if protocol.type == e2e.ProtocolMessage.MESSAGE_EDIT:
            target = {"wa_message_id": protocol.key.ID, "chat_jid": chat, "from_me": from_me}
            return "edit", {"target": target, "body": text_of(protocol.editedMessage)}, None
        return None  # key shares, history sync notices, ephemeral settings: the protocol's own traffic
    # Answers to buttons and lists arrive as the text the person tapped.
    answer = ""
    if message.HasField("buttonsResponseMessage"):
        answer = message.buttonsResponseMessage.selectedDisplayText
    elif message.HasField("listResponseMessage"):
        answer = message.listResponseMessage.title
    elif message.HasField("templateButtonReplyMessage"):
        answer = message.templateButtonReplyMessage.selectedDisplayText
    if answer:
        return "text", {"body": answer, **extras}, None
    fields = [descriptor.name for descriptor, _ in message.ListFields() if descriptor.name not in _NOT_CONTENT]
    if not fields:
        return None
    return "unknown", {"raw_type": fields[0]}, None


def inbound(
    instance_id: str,
    event: neonize_pb2.Message,
    now_ms: int,
    own: frozenset[str],
    lookup: LidLookup | None = None,
) -> tuple[dict[str, Any], e2e.Message | None] | None:
    """An inbound engine event (without media_path) and the media to download, or None to drop the event."""
    source = event.Info.MessageSource
    chat = chat_of(source, lookup)
    if not chat or jids.server_of(chat) in jids.IGNORED_SERVERS:
        return None
    found = content_of(event.Message, chat, source.IsFromMe, own)
    if found is None:
        return None
    kind, content, download = found
    sender_jid = jids.to_str(source.Sender)
    sender: dict[str, Any] = {"jid": sender_jid}
    for jid in (sender_jid, jids.to_str(source.SenderAlt)):
        if jids.is_phone(jid):
            sender.setdefault("phone", jids.phone_of(jid))
        elif jids.is_lid(jid):
            sender.setdefault("lid", jid)
    if "phone" not in sender and "lid" in sender and lookup:
        phone_jid = lookup(sender["lid"])
        if phone_jid:
            sender["phone"] = jids.phone_of(phone_jid)
    if event.Info.Pushname:
        sender["push_name"] = event.Info.Pushname
    message = {
        "kind": "inbound",
        "instance_id": instance_id,
        "wa_message_id": event.Info.ID,
        "chat_jid": chat,
        "from_me": bool(source.IsFromMe),
        "sender": sender,
        "type": kind,
        "content": content,
        "at": to_ms(event.Info.Timestamp, now_ms),
    }
    return message, download


# -- calls ---------------------------------------------------------------------------------------------

CALL_REASONS = {"": "hangup", "timeout": "missed", "reject": "rejected", "busy": "busy"}
"""whatsmeow's CallTerminate reasons (the node's `reason` attribute) in our words; others pass as they are."""


def caller(meta: neonize_pb2.BasicCallMeta) -> dict[str, Any]:
    """{jid, phone?, lid?} of who calls: the creator as delivered (needed as is to reject), and its other JID."""
    jid = jids.to_str(meta.callCreator) or jids.to_str(getattr(meta, "from"))
    found: dict[str, Any] = {"jid": jid}
    alt = jids.to_str(meta.callCreatorAlt)
    pair = jids.pair(jid, alt) if alt else None
    if pair:
        found.update(phone=pair[0], lid=pair[1])
    elif jids.phone_of(jid):
        found["phone"] = jids.phone_of(jid)
    elif jids.is_lid(jid):
        found["lid"] = jid
    return found


def _has_tag(node: neonize_pb2.Node, tag: str, depth: int = 3) -> bool:
    return node.Tag == tag or (depth > 0 and any(_has_tag(child, tag, depth - 1) for child in node.Nodes))


def call_offer(instance_id: str, event: neonize_pb2.CallOffer, now_ms: int) -> dict[str, Any]:
    """An incoming call. `is_video` is read from the offer's nodes (a `video` child): best effort."""
    meta = event.basicCallMeta
    return {
        "kind": "call",
        "instance_id": instance_id,
        "call_id": meta.callID,
        "phase": "offer",
        "from": caller(meta),
        "is_video": _has_tag(event.data, "video"),
        "at": to_ms(meta.timestamp, now_ms),
    }


def call_ended(instance_id: str, event: neonize_pb2.CallTerminate, now_ms: int) -> dict[str, Any]:
    """A call ended (hung up, missed, rejected). whatsmeow reports no duration: none is given."""
    meta = event.basicCallMeta
    return {
        "kind": "call",
        "instance_id": instance_id,
        "call_id": meta.callID,
        "phase": "ended",
        "from": caller(meta),
        "reason": CALL_REASONS.get(event.reason, event.reason),
        "at": to_ms(meta.timestamp, now_ms),
    }


# -- history on pairing (docs/history.md) ---------------------------------------------------------------

HISTORY_TYPES = {0: "initial_bootstrap", 2: "full", 3: "recent", 6: "on_demand"}
"""The HistorySync types (waHistorySync.HistorySync.HistorySyncType) that carry conversations we import:
INITIAL_BOOTSTRAP (the newest messages of the recent chats), RECENT (older ones, in chunks with a progress),
FULL (everything, only when a full sync was asked for: we do not ask) and ON_DEMAND (we never ask). The others
(INITIAL_STATUS_V3 statuses, PUSH_NAME names, NON_BLOCKING_DATA) carry no conversation."""
HISTORY_ENDS = frozenset({2, 3})
"""The types whose chunk with `progress` 100 is the last of the sync: WhatsApp sends RECENT (or FULL) last."""


def history_chat(conversation: Any, lookup: LidLookup | None = None) -> str:
    """A history conversation's chat JID: its phone JID when it is named by LID and the phone is known."""
    chat = conversation.ID
    if not jids.is_lid(chat):
        return chat
    if jids.is_phone(conversation.pnJID):
        return conversation.pnJID
    return (lookup(chat) if lookup else None) or chat


def history_message(
    item: Any, chat: str, now_ms: int, own_jid: str, own: frozenset[str], lookup: LidLookup | None = None
) -> dict[str, Any] | None:
    """A WebMessageInfo of a history as an inbound message (bzapper.domain.history.MESSAGE_KEYS); None for what
    is not a user's message (system stubs, protocol traffic). Media are described, never downloaded."""
    key = item.key
    if not key.ID or not item.HasField("message"):
        return None
    from_me = bool(key.fromMe)
    found = content_of(item.message, chat, from_me, own)
    if found is None:
        return None
    kind, content, download = found
    if download is not None:
        content = {**content, "media_error": "media_unavailable"}
    if from_me:
        sender_jid = own_jid
    elif chat.endswith("@" + jids.GROUP_SERVER):
        sender_jid = item.participant or key.participant
    else:
        sender_jid = key.remoteJID or chat
    sender: dict[str, Any] = {"jid": sender_jid}
    if jids.is_phone(sender_jid):
        sender["phone"] = jids.phone_of(sender_jid)
    elif jids.is_lid(sender_jid):
        sender["lid"] = sender_jid
        phone_jid = lookup(sender_jid) if lookup else None
        if phone_jid and jids.is_phone(phone_jid):
            sender["phone"] = jids.phone_of(phone_jid)
    if item.pushName and not from_me:
        sender["push_name"] = item.pushName
    return {
        "wa_message_id": key.ID,
        "chat_jid": chat,
        "from_me": from_me,
        "sender": sender,
        "type": kind,
        "content": content,
        "at": to_ms(int(item.messageTimestamp), now_ms),
    }


def history(
    instance_id: str,
    event: Any,
    now_ms: int,
    *,
    sync_id: str,
    own_jid: str,
    own: frozenset[str],
    lookup: LidLookup | None = None,
) -> dict[str, Any] | None:
    """A neonize HistorySync event as a `history` engine event (one per chunk WhatsApp sent), or None for a type
    that carries no conversation. `final` on the RECENT/FULL chunk whose progress reached 100. The chunk id
    (type and chunk order) names it: its parts are counted once however often it comes."""
    data = event.Data
    kind = HISTORY_TYPES.get(int(data.syncType))
    if kind is None:
        return None
    conversations = []
    for conversation in data.conversations:
        chat = history_chat(conversation, lookup)
        if not chat or jids.server_of(chat) in jids.IGNORED_SERVERS:
            continue
        messages = [
            found
            for item in conversation.messages
            if (found := history_message(item.message, chat, now_ms, own_jid, own, lookup)) is not None
        ]
        if not messages:
            continue
        entry: dict[str, Any] = {"chat_jid": chat, "messages": messages}
        name = conversation.name or conversation.displayName
        if name and chat.endswith("@" + jids.GROUP_SERVER):
            entry["chat_name"] = name
        conversations.append(entry)
    return {
        "kind": "history",
        "instance_id": instance_id,
        "sync_id": sync_id,
        "chunk_id": f"{kind}-{int(data.chunkOrder)}",
        "final": int(data.syncType) in HISTORY_ENDS and int(data.progress) >= 100,
        "at": now_ms,
        "conversations": conversations,
    }
