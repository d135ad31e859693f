"""The inbox in memory (bzapper.ports.inbox): messages join their conversation's thread, conversations keep
the list row, and the LID <-> phone identities learned.

Messages live in the message table (`MemoryMessageStore.rows`), as in DynamoDB, where the inbox's thread
is an index over it: a received message is one more item there, a sent one gains its thread keys.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from bzapper.adapters.memory.billing import MemoryUsageStore
from bzapper.adapters.memory.faults import Faults
from bzapper.adapters.memory.messages import MemoryMessageStore, StoredMessage
from bzapper.domain.clock import now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.inbox import (
    ConversationRow,
    HistoryTally,
    ReceivedMessage,
    ThreadEntry,
    ThreadMessage,
    chat_key,
    sort_time,
)


def _thread_message(row: StoredMessage) -> ThreadMessage:
    return ThreadMessage(
        message_id=row.message_id,
        wa_message_id=row.wa_message_id,
        direction=row.direction,
        from_me=row.from_me,
        sender=dict(row.sender),
        chat_jid=row.chat_jid or row.to_jid,
        conversation_jid=(row.chat_key or "").partition("#")[2],
        type=row.type,
        content=copy.deepcopy(row.content),
        status=row.status,
        history=tuple(row.history),
        error_code=row.error_code,
        client_reference=row.client_reference,
        sort=row.chat_sort or "",
        imported=row.imported,
    )


def _activity_order(row: ConversationRow) -> tuple[int, str]:
    """Newest activity first; a tie ordered by key (DynamoDB leaves it unspecified, a test needs it fixed)."""
    return (row.last_activity, row.contact_jid)


class MemoryInboxStore(Faults):
    def __init__(
        self,
        messages: MemoryMessageStore,
        usage: MemoryUsageStore,
        clock: Callable[[], int] = now_ms,
        lock: threading.RLock | None = None,
    ) -> None:
        super().__init__()
        self._messages = messages
        self._usage = usage
        self._clock = clock
        self._lock = lock or threading.RLock()
        self.rows: dict[tuple[str, str], ConversationRow] = {}
        """(instance id, contact JID) → its conversation's row."""
        self.imported_syncs: dict[tuple[str, str], str] = {}
        """(instance id, contact JID) → the last sync that imported messages into that conversation."""
        self.tallies: dict[tuple[str, str], dict[str, Any]] = {}
        """(instance id, sync id) → {"parts", "conversations", "messages", "synced_at"}."""

    def add_received(self, message: ReceivedMessage, entry: ThreadEntry, *, count_usage: bool) -> bool:
        self._enter("add_received", message, entry, count_usage=count_usage)
        with self._lock:
            if not self._messages._put_locked(self._stored(message)):
                return False  # a redelivery
            self._join_locked(entry)
            if count_usage:
                self._usage._add_locked(entry.account_id, entry.livemode, entry.instance_id, entry.at, ("inbound",))
            return True

    def imported_before(
        self, instance_id: str, message_ids: list[str], conversation_jids: list[str], sync_id: str
    ) -> tuple[set[str], set[str]]:
        self._enter("imported_before", instance_id, message_ids, conversation_jids, sync_id)
        with self._lock:
            stored = {message_id for message_id in message_ids if message_id in self._messages.rows}
            marked = {jid for jid in conversation_jids if self.imported_syncs.get((instance_id, jid)) == sync_id}
            return stored, marked

    def add_imported(self, messages: list[ReceivedMessage], entries: list[ThreadEntry], sync_id: str) -> None:
        self._enter("add_imported", messages, entries, sync_id)
        with self._lock:
            for entry in entries:
                self._join_locked(entry)
                self.imported_syncs[(entry.instance_id, entry.contact.jid)] = sync_id
            for message in messages:
                self._messages.rows[message.message_id] = self._stored(message)  # a put, as BatchWriteItem's

    def count_history(self, instance_id: str, sync_id: str, part_id: str, *, conversations: int, messages: int) -> bool:
        self._enter("count_history", instance_id, sync_id, part_id, conversations=conversations, messages=messages)
        with self._lock:
            tally = self.tallies.setdefault((instance_id, sync_id), {"parts": set(), "conversations": 0, "messages": 0})
            if part_id in tally["parts"]:
                return False
            tally["parts"].add(part_id)
            tally["conversations"] += conversations
            tally["messages"] += messages
            return True

    def finish_history(self, instance_id: str, sync_id: str, at: int) -> HistoryTally:
        self._enter("finish_history", instance_id, sync_id, at)
        with self._lock:
            tally = self.tallies.setdefault((instance_id, sync_id), {"parts": set(), "conversations": 0, "messages": 0})
            tally.setdefault("synced_at", at)
            return HistoryTally(tally["conversations"], tally["messages"], tally["synced_at"])

    def _stored(self, message: ReceivedMessage) -> StoredMessage:
        return StoredMessage(
            message_id=message.message_id,
            account_id=message.account_id,
            instance_id=message.instance_id,
            livemode=message.livemode,
            shard=message.shard,
            type=message.type,
            content=copy.deepcopy(message.content),
            to_jid=message.chat_jid,
            to_phone=message.to_phone,
            wa_message_id=message.wa_message_id,
            status=message.status,
            status_rank=message.status_rank,
            history=[(message.status, message.at)],
            created_at=message.at,
            updated_at=self._clock(),
            direction=message.direction,
            chat_key=chat_key(message.instance_id, message.conversation_jid),
            chat_sort=message.sort,
            chat_jid=message.chat_jid,
            from_me=message.from_me,
            sender=dict(message.sender),
            imported=message.imported,
        )

    def add_sent(self, entry: ThreadEntry, chat_jid: str) -> bool:
        self._enter("add_sent", entry, chat_jid)
        with self._lock:
            row = self._messages.rows.get(entry.message_id)
            if row is None or row.chat_key is not None:
                return False  # unknown, or already in its thread
            row.chat_key = chat_key(entry.instance_id, entry.contact.jid)
            row.chat_sort, row.chat_jid = entry.sort, chat_jid
            self._join_locked(entry)
            return True

    def received(self, message_id: str) -> ReceivedMessage | None:
        self._enter("received", message_id)
        with self._lock:
            row = self._messages.rows.get(message_id)
            if row is None:
                return None
            return ReceivedMessage(
                message_id=row.message_id,
                account_id=row.account_id,
                instance_id=row.instance_id,
                livemode=row.livemode,
                shard=row.shard,
                wa_message_id=row.wa_message_id,
                chat_jid=row.chat_jid or row.to_jid,
                conversation_jid=(row.chat_key or "").partition("#")[2],
                type=row.type,
                content=copy.deepcopy(row.content),
                from_me=row.from_me,
                sender=dict(row.sender),
                to_phone=row.to_phone,
                at=sort_time(row.chat_sort) if row.chat_sort else row.created_at,
                sort=row.chat_sort or "",
                imported=row.imported,
            )

    def conversations(self, instance_id: str, jids: tuple[str, ...]) -> list[ConversationRow]:
        self._enter("conversations", instance_id, jids)
        with self._lock:
            keys = list(dict.fromkeys(jids))
            return [self.rows[(instance_id, jid)] for jid in keys if (instance_id, jid) in self.rows]

    def activity_page(self, instance_id: str, count: int, cursor: str | None) -> tuple[list[ConversationRow], bool]:
        self._enter("activity_page", instance_id, count, cursor)
        with self._lock:
            ordered = sorted(
                (row for (instance, _), row in self.rows.items() if instance == instance_id),
                key=_activity_order,
                reverse=True,
            )
        if cursor:
            position = decode_cursor(cursor, instance_id, {"j": str, "t": int})
            after = (position["t"], position["j"])
            ordered = [row for row in ordered if _activity_order(row) < after]
        return ordered[:count], len(ordered) > count

    def activity_cursor(self, row: ConversationRow) -> str:
        self._enter("activity_cursor", row)
        return encode_cursor(row.instance_id, {"j": row.contact_jid, "t": row.last_activity})

    def page_thread(
        self, instance_id: str, jids: tuple[str, ...], limit: int, before: str | None
    ) -> tuple[list[ThreadMessage], str | None]:
        self._enter("page_thread", instance_id, jids, limit, before)
        keys = {chat_key(instance_id, jid) for jid in jids}
        with self._lock:
            merged = sorted(
                (
                    row
                    for row in self._messages.rows.values()
                    if row.chat_key in keys and row.chat_sort and (before is None or row.chat_sort < before)
                ),
                key=lambda row: row.chat_sort or "",
                reverse=True,
            )
            page = [_thread_message(row) for row in merged[:limit]]
        if len(merged) <= limit:
            return page, None
        return page, page[-1].sort

    def mark_read(self, conversation: ConversationRow) -> bool:
        self._enter("mark_read", conversation)
        key = (conversation.instance_id, conversation.contact_jid)
        with self._lock:
            current = self.rows.get(key)
            if current is None or current.last_sort != conversation.last_sort:
                return False  # a message arrived since it was read: read it again
            self.rows[key] = replace(current, unread_count=0, read_through=conversation.last_sort or "")
            return True

    def unread_received(
        self, instance_id: str, jid: str, after: str | None, through: str, limit: int
    ) -> list[ThreadMessage]:
        self._enter("unread_received", instance_id, jid, after, through, limit)
        key = chat_key(instance_id, jid)
        with self._lock:
            found = sorted(
                (
                    row
                    for row in self._messages.rows.values()
                    if row.chat_key == key
                    and row.direction == "inbound"
                    and row.chat_sort is not None
                    and (after is None or row.chat_sort > after)
                    and row.chat_sort <= through
                ),
                key=lambda row: row.chat_sort or "",
                reverse=True,
            )
            return [_thread_message(row) for row in found[:limit]]

    def _join_locked(self, entry: ThreadEntry) -> None:
        """The conversation's update: the newest message moves its preview and activity; an older one still
        counts as unread unless it is older than what was read."""
        key = (entry.instance_id, entry.contact.jid)
        contact = entry.contact
        row = self.rows.get(key) or ConversationRow(
            instance_id=entry.instance_id, contact_jid=contact.jid, livemode=entry.livemode, last_activity=0
        )
        row = replace(
            row,
            livemode=entry.livemode,
            created_at=row.created_at or entry.at,
            phone=contact.phone or row.phone,
            lid=contact.lid or row.lid,
            name=contact.name or row.name,
        )
        unread = 1 if entry.unread else 0
        if row.last_sort is None or row.last_sort < entry.sort:
            row = replace(
                row,
                last_activity=entry.at,
                last_sort=entry.sort,
                last_message=dict(entry.preview),
                unread_count=row.unread_count + unread,
                last_inbound_at=entry.at if entry.inbound else row.last_inbound_at,
            )
        else:
            if entry.inbound and row.last_inbound_at is None:  # as DynamoDB's if_not_exists: no max() there
                row = replace(row, last_inbound_at=entry.at)
            if entry.unread and (row.read_through is None or row.read_through < entry.sort):
                row = replace(row, unread_count=row.unread_count + 1)
        self.rows[key] = row


class MemoryIdentityStore(Faults):
    """Each mapping kept from both sides, kept in agreement: a changed mapping clears the stale side."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._phone_by_lid: dict[tuple[str, str], str] = {}
        self._lid_by_phone: dict[tuple[str, str], str] = {}

    def record(self, account_id: str, phone: str, lid: str) -> bool:
        self._enter("record", account_id, phone, lid)
        with self._lock:
            old_phone = self._phone_by_lid.get((account_id, lid))
            old_lid = self._lid_by_phone.get((account_id, phone))
            if old_phone == phone and old_lid == lid:
                return False
            if old_phone and old_phone != phone and self._lid_by_phone.get((account_id, old_phone)) == lid:
                del self._lid_by_phone[(account_id, old_phone)]
            if old_lid and old_lid != lid and self._phone_by_lid.get((account_id, old_lid)) == phone:
                del self._phone_by_lid[(account_id, old_lid)]
            self._phone_by_lid[(account_id, lid)] = phone
            self._lid_by_phone[(account_id, phone)] = lid
            return True

    def phone_of(self, account_id: str, lid: str) -> str | None:
        self._enter("phone_of", account_id, lid)
        with self._lock:
            return self._phone_by_lid.get((account_id, lid))

    def lid_of(self, account_id: str, phone: str) -> str | None:
        self._enter("lid_of", account_id, phone)
        with self._lock:
            return self._lid_by_phone.get((account_id, phone))

    def learned(
        self, account_id: str, lids: Iterable[str] = (), phones: Iterable[str] = (), *, consistent: bool = False
    ) -> tuple[dict[str, str], dict[str, str]]:
        lids, phones = list(lids), list(phones)
        self._enter("learned", account_id, lids, phones, consistent=consistent)
        with self._lock:
            phone_by_lid = {lid: p for lid in lids if (p := self._phone_by_lid.get((account_id, lid)))}
            lid_by_phone = {phone: lid for phone in phones if (lid := self._lid_by_phone.get((account_id, phone)))}
        return phone_by_lid, lid_by_phone
