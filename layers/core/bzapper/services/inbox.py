"""The inbox: messages that arrive and messages we sent, in conversations per (instance, contact).

Writes come from the statuses consumer (at least once): `record_inbound` for every message WhatsApp
delivers (with the fromMe echoes of what the phone itself sent), `record_outbound` when one of ours is
sent. Reads and the read marker are the `inbox` API group. docs/inbox.md explains the storage.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from bzapper import telemetry
from bzapper.domain.clock import iso, now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.events import envelope
from bzapper.domain.inbox import (
    CONTACT,
    GROUP,
    NOT_CONVERSATIONS,
    Contact,
    ConversationRow,
    ReceivedMessage,
    ThreadEntry,
    ThreadMessage,
    chat_sort,
    chat_type,
    clean_lid,
    clean_phone,
    conversation_type,
    counts_as_unread,
    inbound_message_id,
    is_lid_jid,
    lists_here,
    merge_rows,
    other_key,
    preview_text,
    public_content,
    stored_content,
)
from bzapper.domain.model import MessageView, Principal
from bzapper.domain.otp import guard_content
from bzapper.domain.phones import (
    InvalidRecipient,
    Recipient,
    is_bsuid_jid,
    is_group_jid,
    parse_chat,
    parse_group,
    parse_recipient,
)
from bzapper.domain.statuses import MessageStatus
from bzapper.services.container import Services
from bzapper.services.control import command
from bzapper.services.instances import owned_ref

logger = logging.getLogger(__name__)

PAGE_SIZE_MAX = 100
ACTIVITY_QUERY_MAX = 100
"""GET /conversations reads the activity order at most this many rows a Query (one BatchGetItem's worth)."""
LIST_ROWS_READ_MAX = 1000
"""A GET /conversations page stops reading after this many stored rows: a page of contacts' other rows,
all passed over, ends short (even empty) with `has_more` and a cursor after them."""
READ_RECEIPTS_MAX = 500
"""POST /conversations/{jid}/read sends receipts for at most this many of the newest unread messages."""
RECEIPTS_PER_COMMAND = 100
MARK_READ_ATTEMPTS = 3

# --- writes (the statuses consumer) ---------------------------------------------------------------


def record_inbound(services: Services, event: dict[str, Any]) -> None:
    """Stores a message WhatsApp delivered and publishes message.received; a redelivery stores nothing
    new and publishes the same event again (same id). Raises on a storage or bus failure (retried)."""
    instance_id, wa_message_id = event["instance_id"], event["wa_message_id"]
    kind = chat_type(event["chat_jid"])
    if kind is None:
        server = str(event["chat_jid"]).rpartition("@")[2]
        if server in NOT_CONVERSATIONS:  # status updates, broadcast lists, channels (docs/inbox.md)
            logger.info(
                "inbound message of a status, broadcast list or channel not recorded",
                extra={"instance_id": instance_id, "chat_server": server},
            )
        else:  # an engine reported a chat no rule here reads: worth a look, never silent
            logger.warning(
                "inbound message of an unreadable chat JID not recorded",
                extra={"instance_id": instance_id, "chat_server": server},
            )
        return
    from_me = bool(event.get("from_me"))
    message_id = inbound_message_id(instance_id, wa_message_id)
    if from_me:
        ours = services.messages.find_by_wa_id(wa_message_id, instance_id)
        if ours is not None and ours != message_id:
            return  # the echo of a message we sent: it joins its thread when it is sent
    account_id, livemode = event["account_id"], bool(event["livemode"])
    sender = sender_of(event.get("sender"))
    if kind == GROUP:
        contact = Contact.group(parse_group(event["chat_jid"]), chat_name_of(event.get("chat_name")))
        if not from_me:  # the participant who wrote, with both keys when known
            sender = participant_of(services, account_id, sender)
    else:
        contact = resolve_contact(services, account_id, parse_chat(event["chat_jid"]), None if from_me else sender)
    instance = services.instances.get(instance_id)
    if instance is None:
        logger.warning("inbound message of an unknown instance dropped", extra={"instance_id": instance_id})
        return
    at = int(event["at"])
    message, entry = received_row(
        account_id=account_id,
        instance_id=instance_id,
        livemode=livemode,
        shard=instance.shard,
        wa_message_id=wa_message_id,
        chat_jid=event["chat_jid"],
        contact=contact,
        kind=kind,
        raw_type=event.get("type"),
        raw_content=event.get("content"),
        from_me=from_me,
        sender=sender,
        at=at,
    )
    if services.inbox.add_received(message, entry, count_usage=not from_me):
        telemetry.count("MessagesReceived")
    else:
        stored = services.inbox.received(message_id)
        if stored is None:  # pragma: no cover - a stored message is never deleted
            raise RuntimeError("a message reported stored is missing")
        if stored.imported:
            return  # also in a pairing's history, imported first: one row, and no event for an old message
        message = stored  # the first delivery's facts (its time), so the event keeps its id
    services.events.publish([received_event(message, contact)])


def record_outbound(services: Services, view: MessageView, at: int) -> None:
    """Puts a message we sent (now accepted by WhatsApp, at `at`) in its conversation. Idempotent."""
    if is_group_jid(view.to_jid):
        _record_group_outbound(services, view, at)
        return
    try:
        to = parse_recipient(view.to_jid)
    except InvalidRecipient:
        return  # nothing else is sent, but an unknown destination never blocks a status
    phone = view.to_phone or to.phone
    if phone is None:  # sent to a LID: its phone, when known, names the conversation
        contact = resolve_contact(services, view.account_id, to, None)
    else:  # no read on the status path: the row keeps the LID an inbound message brought
        contact = Contact(phone=phone, lid=to.lid)
    entry = ThreadEntry(
        instance_id=view.instance_id,
        account_id=view.account_id,
        livemode=view.livemode,
        contact=contact,
        message_id=view.message_id,
        sort=chat_sort(at, view.message_id),
        at=at,
        preview=_preview(view.message_id, "outbound", view.type, view.content, at),
        unread=False,
    )
    services.inbox.add_sent(entry, chat_jid=to.jid)


def _record_group_outbound(services: Services, view: MessageView, at: int) -> None:
    """A message we sent to a group joins the group's conversation (its name stays what inbound set)."""
    try:
        group = parse_group(view.to_jid)
    except InvalidRecipient:
        return
    entry = ThreadEntry(
        instance_id=view.instance_id,
        account_id=view.account_id,
        livemode=view.livemode,
        contact=Contact.group(group),
        message_id=view.message_id,
        sort=chat_sort(at, view.message_id),
        at=at,
        preview=_preview(view.message_id, "outbound", view.type, view.content, at),
        unread=False,
    )
    services.inbox.add_sent(entry, chat_jid=group)


def on_status(services: Services, view: MessageView, status: str) -> None:
    """Called for every applied (or re-applied) status of a message we sent: it joins its conversation
    when WhatsApp accepted it, also when a receipt overtook the `sent` report."""
    reached = dict(view.history)
    if status == MessageStatus.SENT or (
        status in (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.PLAYED) and "sent" not in reached
    ):
        record_outbound(services, view, reached.get("sent", reached.get(status, now_ms())))


def resolve_contact(services: Services, account_id: str, chat: Recipient, sender: dict[str, Any] | None) -> Contact:
    """The contact's phone and LID, from the chat, the sender, then the learned mappings (one read per
    missing side)."""
    phone = chat.phone or (sender or {}).get("phone")
    lid = chat.lid or (sender or {}).get("lid")
    if phone is None and lid is not None:
        phone = services.identities.phone_of(account_id, lid)
    if lid is None and phone is not None:
        lid = services.identities.lid_of(account_id, phone)
    bsuid = chat.jid if is_bsuid_jid(chat.jid) else None
    return Contact(phone=phone, lid=lid, name=(sender or {}).get("name"), bsuid_jid=bsuid)


def received_row(
    *,
    account_id: str,
    instance_id: str,
    livemode: bool,
    shard: int,
    wa_message_id: str,
    chat_jid: str,
    contact: Contact,
    kind: str,
    raw_type: Any,
    raw_content: Any,
    from_me: bool,
    sender: dict[str, Any],
    at: int,
    imported: bool = False,
) -> tuple[ReceivedMessage, ThreadEntry]:
    """A WhatsApp message as its inbox row and the conversation entry it updates: a live one, or one of a
    pairing's history (`imported`: never unread, an old message is not news)."""
    message_id = inbound_message_id(instance_id, wa_message_id)
    message_type = str(raw_type or "unknown")
    content = guard_content(  # echoguard: what the row keeps of a code it carries
        message_type, stored_content(raw_content if isinstance(raw_content, dict) else {}), from_me
    )
    sort = chat_sort(at, message_id)
    message = ReceivedMessage(
        message_id=message_id,
        account_id=account_id,
        instance_id=instance_id,
        livemode=livemode,
        shard=shard,
        wa_message_id=wa_message_id,
        chat_jid=chat_jid,
        conversation_jid=contact.jid,
        type=message_type,
        content=content,
        from_me=from_me,
        sender=sender,
        to_phone=contact.phone if from_me else None,
        at=at,
        sort=sort,
        imported=imported,
    )
    entry = ThreadEntry(
        instance_id=instance_id,
        account_id=account_id,
        livemode=livemode,
        contact=contact,
        message_id=message_id,
        sort=sort,
        at=at,
        preview=_preview(message_id, "outbound" if from_me else "inbound", message_type, content, at),
        unread=False if imported else counts_as_unread(message_type, from_me),
        inbound=not from_me and kind != GROUP,
    )
    return message, entry


def participant_of(services: Services, account_id: str, sender: dict[str, Any]) -> dict[str, Any]:
    """A group message's sender completed like a 1:1 contact: the missing phone or LID from the learned
    mappings (one read per missing side)."""
    if not sender["phone"] and not sender["lid"]:
        return sender
    known = Recipient(jid=sender["jid"] or "", phone=sender["phone"], lid=sender["lid"])
    resolved = resolve_contact(services, account_id, known, None)
    return {**sender, "phone": resolved.phone, "lid": resolved.lid}


def chat_name_of(raw: Any) -> str | None:
    """A group's subject as an engine reported it (optional: whatsmeow does not)."""
    return (raw.strip()[:256] or None) if isinstance(raw, str) else None


def received_event(item: ReceivedMessage, contact: Contact) -> dict[str, Any]:
    """message.received, built from the stored message: every delivery publishes the same event id."""
    sender = item.sender
    return envelope(
        "message.received",
        at_ms=item.at,
        account_id=item.account_id,
        instance_id=item.instance_id,
        livemode=item.livemode,
        data={
            "message_id": item.message_id,
            "wa_message_id": item.wa_message_id,
            "from": {
                "jid": sender.get("jid"),
                "phone": sender.get("phone"),
                "lid": sender.get("lid"),
                "name": sender.get("name"),
            },
            "contact": {"jid": contact.jid, "phone": contact.phone, "lid": contact.lid, "name": contact.name},
            "chat_jid": item.chat_jid,
            "chat_type": contact.type,
            "type": item.type,
            "content": public_content(item.type, item.content),
            "from_me": item.from_me,
            "at": iso(item.at),
        },
        identity=(item.message_id,),
    )


def sender_of(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    phone = clean_phone(raw.get("phone"))
    lid = clean_lid(raw.get("lid"))
    jid = raw.get("jid") if isinstance(raw.get("jid"), str) else None
    if jid and phone is None and jid.endswith("@s.whatsapp.net"):
        phone = clean_phone(jid)
    if jid and lid is None and jid.endswith("@lid"):
        lid = clean_lid(jid)
    name = raw.get("push_name") if isinstance(raw.get("push_name"), str) else None
    return {"jid": jid, "phone": phone, "lid": lid, "name": (name or "").strip()[:256] or None}


def _preview(message_id: str, direction: str, message_type: str, content: dict[str, Any], at: int) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "direction": direction,
        "type": message_type,
        "text": preview_text(message_type, content),
        "at": at,
    }


# --- reads and the read marker (the inbox API) ----------------------------------------------------


def contact_of(services: Services, principal: Principal, jid: str) -> Contact:
    """The `{jid}` of a path (phone JID, `@lid` JID, E.164 or a group's `@g.us` JID) as a conversation's
    other side with every key it may have. Groups are read here only: no send accepts them."""
    try:
        if is_group_jid(jid):
            return Contact.group(parse_group(jid))
        recipient = parse_chat(jid)
    except InvalidRecipient as error:
        raise validation_failed("jid", _JID_ERRORS.get(error.reason, "error.invalid_recipient"), value=jid) from error
    return resolve_contact(services, principal.account_id, recipient, None)


_JID_ERRORS = {"unsupported_jid": "error.unsupported_chat_jid", "invalid_group": "error.invalid_group_jid"}


@dataclass(frozen=True, slots=True)
class ConversationPage:
    rows: list[ConversationRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ThreadPage:
    """A page of one conversation's thread: the conversation as shown (a contact's two rows merged), its
    messages newest first, how far each of its rows was read, and the contact as known now."""

    conversation: ConversationRow
    messages: list[ThreadMessage]
    read_through: dict[str, str]
    contact: Contact
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ConversationRead:
    conversation: ConversationRow
    receipts_sent: int


def list_conversations(
    services: Services, principal: Principal, instance_id: str, limit: int, cursor: str | None
) -> ConversationPage:
    """The number's conversations, newest activity first, ONE row per contact: a contact's `@lid` row and
    its phone's row are shown as one at the newer of the two (docs/inbox.md, "One row per contact").

    The cursor follows the stored activity order: a page ends after the last row it shows, and the other
    row of a contact shown is passed over wherever it comes, so no contact is listed twice. Rows are read
    until the page is full and one more row to show is found (`has_more`), or the order ends."""
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise validation_failed("limit")
    instance = owned_ref(services, principal, instance_id)
    pairing = _Pairing(services, principal.account_id, instance.instance_id)
    shown: list[ConversationRow] = []
    shown_at: ConversationRow | None = None  # the stored row where the last one shown sits in the order
    after, size, read = cursor, limit + 1, 0
    while True:
        rows, more = services.inbox.activity_page(instance.instance_id, size, after)
        read += len(rows)
        for row in pairing.learn(rows):
            partner = pairing.partner(row)
            if not lists_here(row, partner):
                continue  # its contact is listed at its other row
            if len(shown) == limit and shown_at is not None:  # one more to show: the page ends after the last one
                return ConversationPage(shown, services.inbox.activity_cursor(shown_at))
            shown.append(pairing.merged(row, partner))
            shown_at = row
        if not more:
            return ConversationPage(shown, None)
        after = services.inbox.activity_cursor(rows[-1])
        if read >= LIST_ROWS_READ_MAX:
            return ConversationPage(shown, after)  # a long run of rows passed over: the next page goes on from here
        size = min(size * 2, ACTIVITY_QUERY_MAX)


class _Pairing:
    """A page's knowledge of which rows are one contact's two halves: the learned LID <-> phone mappings of
    the rows read (one BatchGetItem of the identities per read), and the other rows (those not read in the
    listing yet: one BatchGetItem of the conversations per read)."""

    def __init__(self, services: Services, account_id: str, instance_id: str) -> None:
        self._services, self._account_id, self._instance_id = services, account_id, instance_id
        self._rows: dict[str, ConversationRow | None] = {}  # by key; None: no such row
        self._learned: dict[str, str] = {}  # by a row's key: the other side's E.164 or `@lid` JID

    def learn(self, rows: list[ConversationRow]) -> list[ConversationRow]:
        """Takes in rows read in the order; returns them as this page knows them: a row read earlier as
        another's partner keeps that copy, so every decision of the page compares the same facts."""
        rows = [self._rows.get(row.contact_jid) or row for row in rows]
        for row in rows:
            self._rows[row.contact_jid] = row
        people = [r for r in rows if conversation_type(r.contact_jid) == CONTACT and r.contact_jid not in self._learned]
        lids = [r.contact_jid for r in people if is_lid_jid(r.contact_jid)]
        phones = {r.contact_jid: r.phone or clean_phone(r.contact_jid) for r in people if not is_lid_jid(r.contact_jid)}
        if lids or phones:
            phone_by_lid, lid_by_phone = self._services.identities.learned(
                self._account_id, lids=lids, phones=[p for p in phones.values() if p]
            )
            for lid in lids:
                self._learned[lid] = phone_by_lid.get(lid, "")
            for jid, phone in phones.items():
                self._learned[jid] = lid_by_phone.get(phone or "", "")
        wanted = {
            key for r in rows if (key := other_key(r, self._learned.get(r.contact_jid))) and key not in self._rows
        }
        found = {c.contact_jid: c for c in self._services.inbox.conversations(self._instance_id, tuple(sorted(wanted)))}
        for key in wanted:
            self._rows[key] = found.get(key)
        return rows

    def partner(self, row: ConversationRow) -> ConversationRow | None:
        key = other_key(row, self._learned.get(row.contact_jid))
        return self._rows.get(key) if key else None

    def merged(self, row: ConversationRow, partner: ConversationRow | None) -> ConversationRow:
        learned = self._learned.get(row.contact_jid) or None
        rows = [row, partner] if partner else [row]
        if is_lid_jid(row.contact_jid):
            return merge_rows(rows, phone=learned)
        return merge_rows(rows, lid=learned)


def conversation_messages(
    services: Services, principal: Principal, instance_id: str, jid: str, limit: int, cursor: str | None
) -> ThreadPage:
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise validation_failed("limit")
    instance = owned_ref(services, principal, instance_id)
    contact = contact_of(services, principal, jid)
    conversations = services.inbox.conversations(instance.instance_id, contact.jids)
    if not conversations:
        raise BzError("not_found")
    before = None
    if cursor:
        before = decode_cursor(cursor, _thread_owner(instance.instance_id, jid), {"s": str})["s"]
    jids = tuple(c.contact_jid for c in conversations)
    read_through = {c.contact_jid: c.read_through or "" for c in conversations}
    items, next_sort = services.inbox.page_thread(instance.instance_id, jids, limit, before)
    next_cursor = encode_cursor(_thread_owner(instance.instance_id, jid), {"s": next_sort}) if next_sort else None
    conversation = merge_rows(conversations, phone=contact.phone, lid=contact.lid)
    return ThreadPage(conversation, items, read_through, contact, next_cursor)


def _thread_owner(instance_id: str, jid: str) -> str:
    """What a thread cursor is bound to: the instance and the conversation the path names, as parsed (so
    "+55…" and "55…@s.whatsapp.net" share cursors, and a mapping learned mid-way does not void them)."""
    chat = parse_group(jid) if is_group_jid(jid) else parse_chat(jid).jid
    return f"{instance_id}#{chat}"


def mark_conversation_read(services: Services, principal: Principal, instance_id: str, jid: str) -> ConversationRead:
    """Unread back to zero, and read receipts on WhatsApp for the messages that were unread."""
    instance = owned_ref(services, principal, instance_id)
    contact = contact_of(services, principal, jid)
    conversations = services.inbox.conversations(instance.instance_id, contact.jids)
    if not conversations:
        raise BzError("not_found")
    receipts: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    read: list[ConversationRow] = []
    for conversation in conversations:
        conversation, unread = _read_through_newest(services, instance.instance_id, conversation)
        read.append(conversation)
        for message in unread:
            chat_jid, sender_jid = _receipt_address(message)
            if sender_jid is None and is_group_jid(chat_jid):
                # WhatsApp names a group message by its sender too: a receipt without one would name the group.
                logger.warning("group message with no sender: no read receipt", extra={"instance_id": instance_id})
                continue
            receipts[(chat_jid, sender_jid)].append(message.wa_message_id)
    if instance.engine == "cloud":
        # No shard holder: the Graph API is called from here, once per conversation (services/cloud.py).
        from bzapper.services import cloud

        for wa_ids in receipts.values():
            cloud.mark_read(services, instance.instance_id, wa_ids)
        receipts_by_holder: dict[tuple[str, str | None], list[str]] = {}
    else:
        receipts_by_holder = receipts
    # Fire and forget: the shard's holder sends them in order with the instance's other operations.
    for (chat_jid, sender_jid), wa_ids in receipts_by_holder.items():
        participant = {"sender_jid": sender_jid} if sender_jid else {}
        for start in range(0, len(wa_ids), RECEIPTS_PER_COMMAND):
            batch = wa_ids[start : start + RECEIPTS_PER_COMMAND]
            command(services, instance, "mark_read", chat_jid=chat_jid, wa_message_ids=batch, **participant)
    merged = merge_rows(read, phone=contact.phone, lid=contact.lid)
    return ConversationRead(merged, sum(len(ids) for ids in receipts.values()))


def _receipt_address(message: ThreadMessage) -> tuple[str, str | None]:
    """Where a read receipt goes: the chat, and in a group also who wrote the message (WhatsApp names a
    group message by its chat, its sender and its id)."""
    sender_jid = message.sender.get("jid") if is_group_jid(message.chat_jid) else None
    return message.chat_jid, sender_jid or None


def _read_through_newest(
    services: Services, instance_id: str, conversation: ConversationRow
) -> tuple[ConversationRow, list[ThreadMessage]]:
    """Marks one conversation row read through its newest message: the row as it is now, and the
    messages that were unread."""
    for _ in range(MARK_READ_ATTEMPTS):
        before = conversation.read_through
        if not conversation.unread_count and before == conversation.last_sort:
            return conversation, []
        if services.inbox.mark_read(conversation):
            unread = conversation.unread_count
            conversation = replace(conversation, unread_count=0, read_through=conversation.last_sort)
            if not unread:
                return conversation, []
            messages = services.inbox.unread_received(
                instance_id, conversation.contact_jid, before, conversation.last_sort or "", READ_RECEIPTS_MAX
            )
            return conversation, messages
        # A message arrived meanwhile: read the row again, so that message is counted and receipted too.
        conversation = services.inbox.conversations(instance_id, (conversation.contact_jid,))[0]
    return conversation, []  # messages keep arriving: what was read so far stays read
