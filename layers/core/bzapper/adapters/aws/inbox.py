"""The inbox in DynamoDB: messages join a conversation's thread, conversations keep the list row.

A received message is ONE transaction: the message's put together with its conversation's update and
its usage counter; the message's condition makes a redelivery a no-op. A sent message joining its thread
is two single updates, both idempotent (`add_sent`). The conversation's condition keeps the preview on
the newest message when messages arrive out of order, and then a second (rarely third) write applies the
rest. docs/inbox.md counts the calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import ConversationModel, MessageModel, StatusChange
from bzapper.adapters.aws.usage import usage_add
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

_CONFLICT_ATTEMPTS = 3
# Both kinds of write put the message first and the conversation second in the transaction's reasons:
# PynamoDB sends condition checks, deletes, puts, then updates, in call order within each kind.
_MESSAGE, _CONVERSATION = 0, 1


class InboxStore:
    def add_received(self, message: ReceivedMessage, entry: ThreadEntry, *, count_usage: bool) -> bool:
        """Stores a message that arrived; False when it was already stored (a redelivery)."""
        item = _received_item(message)

        def write(tx: TransactWrite, actions: list[Action], condition: Condition | None) -> None:
            tx.save(item, condition=MessageModel.message_id.does_not_exist())
            tx.update(_conversation(entry), actions=actions, condition=condition)
            if count_usage:
                usage_add(tx, entry.account_id, entry.livemode, entry.instance_id, entry.at, ["inbound"])

        return _commit(entry, write)

    def add_sent(self, entry: ThreadEntry, chat_jid: str) -> bool:
        """Puts a message we sent in its thread; False when it is in a thread at another place (or does not exist).

        Two single updates, not a transaction (which bills each item twice): the message's thread keys, then the
        conversation's row. Both are idempotent for a sent message (it is never unread, and the row's tiers only
        ever set the same values again), so a report retried after a stop between the two writes does both again
        and completes the row; its condition lets through only the same place in the same thread."""
        key = chat_key(entry.instance_id, entry.contact.jid)
        thread = [
            MessageModel.chat_key.set(key),
            MessageModel.chat_sort.set(entry.sort),
            MessageModel.chat_jid.set(chat_jid),
        ]
        here = (MessageModel.chat_key == key) & (MessageModel.chat_sort == entry.sort)
        condition = MessageModel.message_id.exists() & (MessageModel.chat_key.does_not_exist() | here)
        if not applied(lambda: MessageModel(entry.message_id).update(actions=thread, condition=condition)):
            return False
        conversation = _conversation(entry)
        for actions, tier in _tiers(entry):
            if applied(lambda: conversation.update(actions=actions, condition=tier)):  # noqa: B023 (called at once)
                break
        return True

    # -- history on pairing (docs/history.md) ---------------------------------------------------------

    def imported_before(
        self, instance_id: str, message_ids: list[str], conversation_jids: list[str], sync_id: str
    ) -> tuple[set[str], set[str]]:
        """One BatchGetItem per 100 messages (keys only) and per 100 conversations (the sync marker only)."""
        stored = {
            item.message_id
            for item in MessageModel.batch_get(list(dict.fromkeys(message_ids)), attributes_to_get=["message_id"])
        }
        keys = [(instance_id, jid) for jid in dict.fromkeys(conversation_jids)]
        marked = {
            item.contact_jid
            for item in ConversationModel.batch_get(keys, attributes_to_get=["contact_jid", "imported_sync"])
            if item.imported_sync == sync_id
        }
        return stored, marked

    def add_imported(self, messages: list[ReceivedMessage], entries: list[ThreadEntry], sync_id: str) -> None:
        """One conversation update per conversation (its newest imported message, as `add_sent` moves a row),
        then the messages in BatchWriteItem calls of 25 puts: no transaction (which bills each item twice) and
        no usage counter. A put is unconditional: the caller left out the messages stored before (a live one
        arriving between that read and this put is written again with the same facts, marked imported)."""
        marker = ConversationModel.imported_sync.set(sync_id)
        for entry in entries:
            conversation = _conversation(entry)
            for actions, tier in _tiers(entry):
                if applied(lambda: conversation.update(actions=[*actions, marker], condition=tier)):  # noqa: B023
                    break
        with MessageModel.batch_write() as batch:
            for message in messages:
                batch.save(_received_item(message))

    def count_history(self, instance_id: str, sync_id: str, part_id: str, *, conversations: int, messages: int) -> bool:
        """One conditional update of the sync's tally item: a part already counted changes nothing."""
        counted = (ConversationModel.history_parts.does_not_exist()) | ~ConversationModel.history_parts.contains(
            part_id
        )
        actions = [
            ConversationModel.history_parts.add({part_id}),
            ConversationModel.history_conversations.add(conversations),
            ConversationModel.history_messages.add(messages),
        ]
        tally = ConversationModel(instance_id, _tally_key(sync_id))
        return applied(lambda: tally.update(actions=actions, condition=counted))

    def finish_history(self, instance_id: str, sync_id: str, at: int) -> HistoryTally:
        """One update returning the tally (its end time set once, then kept)."""
        tally = ConversationModel(instance_id, _tally_key(sync_id))
        tally.update(actions=[ConversationModel.history_synced_at.set(ConversationModel.history_synced_at | at)])
        return HistoryTally(
            conversations=int(tally.history_conversations or 0),
            messages=int(tally.history_messages or 0),
            synced_at=int(tally.history_synced_at or at),
        )

    def received(self, message_id: str) -> ReceivedMessage | None:
        """A received message (or an echo) as first stored (one consistent GetItem)."""
        try:
            item = MessageModel.get(message_id, consistent_read=True)
        except DoesNotExist:
            return None
        return ReceivedMessage(
            message_id=item.message_id,
            account_id=item.account_id,
            instance_id=item.instance_id,
            livemode=item.livemode,
            shard=int(item.shard),
            wa_message_id=item.wa_message_id,
            chat_jid=item.chat_jid or item.to_jid,
            conversation_jid=_conversation_jid(item),
            type=item.type,
            content=item.content or {},
            from_me=bool(item.from_me),
            sender=item.sender or {},
            to_phone=item.to_phone,
            at=sort_time(item.chat_sort) if item.chat_sort else int(item.created_at),
            sort=item.chat_sort or "",
            imported=bool(item.imported),
        )

    def conversations(self, instance_id: str, jids: tuple[str, ...]) -> list[ConversationRow]:
        """The conversations under these keys that exist, in the order of `jids` (one BatchGetItem, none
        for no key)."""
        keys = list(dict.fromkeys(jids))  # BatchGetItem refuses a key asked twice
        if not keys:
            return []
        found = {
            item.contact_jid: _row(item)
            for item in ConversationModel.batch_get([(instance_id, jid) for jid in keys], consistent_read=True)
        }
        return [found[jid] for jid in keys if jid in found]

    def activity_page(self, instance_id: str, count: int, cursor: str | None) -> tuple[list[ConversationRow], bool]:
        """Up to `count` rows, newest activity first, after the row `cursor` names; and whether more follow
        (one Query of `count` + 1, so the end of the order is known without another)."""
        start = None
        if cursor:
            value = decode_cursor(cursor, instance_id, {"j": str, "t": int})
            jid, at = value["j"], value["t"]
            start = {
                "instance_id": {"S": instance_id},
                "contact_jid": {"S": jid},
                "last_activity": {"N": str(at)},
            }
        items = list(
            ConversationModel.by_activity.query(
                instance_id, scan_index_forward=False, limit=count + 1, last_evaluated_key=start
            )
        )
        return [_row(item) for item in items[:count]], len(items) > count

    def activity_cursor(self, row: ConversationRow) -> str:
        """The cursor that continues the activity order after this row."""
        return encode_cursor(row.instance_id, {"j": row.contact_jid, "t": row.last_activity})

    def page_thread(
        self, instance_id: str, jids: tuple[str, ...], limit: int, before: str | None
    ) -> tuple[list[ThreadMessage], str | None]:
        """A conversation's messages under all its keys, newest first: one Query per key, merged.

        Returns the page and the `chat_sort` to continue before, when more messages follow.
        """
        merged: list[MessageModel] = []
        for jid in jids:
            condition = MessageModel.chat_sort < before if before else None
            merged += MessageModel.by_chat.query(
                chat_key(instance_id, jid), condition, scan_index_forward=False, limit=limit + 1
            )
        merged.sort(key=lambda item: item.chat_sort, reverse=True)
        if len(merged) <= limit:
            return [_thread_message(item) for item in merged], None
        return [_thread_message(item) for item in merged[:limit]], merged[limit - 1].chat_sort

    def mark_read(self, conversation: ConversationRow) -> bool:
        """Reads the conversation through its newest message, unless a message arrived since it was read
        (then False: read it again and retry)."""
        seen = conversation.last_sort
        condition = ConversationModel.last_sort == seen if seen else ConversationModel.last_sort.does_not_exist()
        return applied(
            lambda: ConversationModel(conversation.instance_id, conversation.contact_jid).update(
                actions=[ConversationModel.unread_count.set(0), ConversationModel.read_through.set(seen or "")],
                condition=condition & ConversationModel.contact_jid.exists(),
            )
        )

    def unread_received(
        self, instance_id: str, jid: str, after: str | None, through: str, limit: int
    ) -> list[ThreadMessage]:
        """The messages a contact sent in (after, through], newest first, at most `limit`."""
        condition = (
            MessageModel.chat_sort.between(after + "\x00", through) if after else MessageModel.chat_sort <= through
        )
        items = MessageModel.by_chat.query(
            chat_key(instance_id, jid),
            condition,
            filter_condition=(MessageModel.direction == "inbound"),
            scan_index_forward=False,
            limit=limit,
        )
        return [_thread_message(item) for item in items]


def _received_item(message: ReceivedMessage) -> MessageModel:
    return MessageModel(
        message.message_id,
        account_id=message.account_id,
        instance_id=message.instance_id,
        livemode=message.livemode,
        shard=message.shard,
        direction=message.direction,
        type=message.type,
        content=message.content,
        to_jid=message.chat_jid,
        to_phone=message.to_phone,
        wa_message_id=message.wa_message_id,
        status=message.status,
        status_rank=message.status_rank,
        history=[StatusChange(status=message.status, at=message.at)],
        created_at=message.at,
        updated_at=now_ms(),
        chat_key=chat_key(message.instance_id, message.conversation_jid),
        chat_sort=message.sort,
        chat_jid=message.chat_jid,
        from_me=message.from_me,
        sender=message.sender,
        imported=True if message.imported else None,
    )


def _conversation_jid(item: MessageModel) -> str:
    return (item.chat_key or "").partition("#")[2]


def _thread_message(item: MessageModel) -> ThreadMessage:
    return ThreadMessage(
        message_id=item.message_id,
        wa_message_id=item.wa_message_id,
        direction=item.direction,
        from_me=bool(item.from_me),
        sender=item.sender or {},
        chat_jid=item.chat_jid or item.to_jid,
        conversation_jid=_conversation_jid(item),
        type=item.type,
        content=item.content or {},
        status=item.status,
        history=tuple((change.status, int(change.at)) for change in item.history or []),
        error_code=item.error.code if item.error else None,
        client_reference=item.client_reference,
        sort=item.chat_sort or "",
        imported=bool(item.imported),
    )


def _row(item: ConversationModel) -> ConversationRow:
    return ConversationRow(
        instance_id=item.instance_id,
        contact_jid=item.contact_jid,
        livemode=bool(item.livemode),
        last_activity=int(item.last_activity or 0),
        phone=item.phone,
        lid=item.lid,
        name=item.name,
        last_sort=item.last_sort,
        last_message=item.last_message,
        unread_count=int(item.unread_count or 0),
        read_through=item.read_through,
        created_at=int(item.created_at or 0),
        last_inbound_at=int(item.last_inbound_at) if item.last_inbound_at is not None else None,
    )


def _tally_key(sync_id: str) -> str:
    """The sort key of a history import's tally in the instance's conversations partition (no JID starts so)."""
    return f"#history#{sync_id}"


def _conversation(entry: ThreadEntry) -> ConversationModel:
    return ConversationModel(entry.instance_id, entry.contact.jid)


def _tiers(entry: ThreadEntry) -> list[tuple[list[Action], Condition | None]]:
    """The conversation's update, newest case first; each next one is tried when the previous one's
    condition failed (the message is older than what the row already shows)."""
    contact = entry.contact
    common: list[Action] = [
        ConversationModel.account_id.set(entry.account_id),
        ConversationModel.livemode.set(entry.livemode),
        ConversationModel.created_at.set(ConversationModel.created_at | entry.at),
    ]
    common += [ConversationModel.phone.set(contact.phone)] if contact.phone else []
    common += [ConversationModel.lid.set(contact.lid)] if contact.lid else []
    common += [ConversationModel.name.set(contact.name)] if contact.name else []
    unread = [ConversationModel.unread_count.add(1)] if entry.unread else []
    newest = [
        ConversationModel.last_activity.set(entry.at),
        ConversationModel.last_sort.set(entry.sort),
        ConversationModel.last_message.set(entry.preview),
    ]
    late: list[Action] = []
    if entry.inbound:
        # The window opens at the contact's newest message: set outright when this one is the newest of the row;
        # one older than the row's newest only fills a row that has none (an update expression has no max()).
        newest.append(ConversationModel.last_inbound_at.set(entry.at))
        late.append(ConversationModel.last_inbound_at.set(ConversationModel.last_inbound_at | entry.at))
    tiers: list[tuple[list[Action], Condition | None]] = [
        (
            common + newest + unread,
            ConversationModel.last_sort.does_not_exist() | (ConversationModel.last_sort < entry.sort),
        )
    ]
    if entry.unread:
        # Older than the preview but not yet read: still one more unread message.
        tiers.append(
            (
                common + late + unread,
                ConversationModel.read_through.does_not_exist() | (ConversationModel.read_through < entry.sort),
            )
        )
    tiers.append((common + late, None))  # older than what was already read: nothing more to count
    return tiers


def _commit(entry: ThreadEntry, write: Callable[[TransactWrite, list[Action], Condition | None], None]) -> bool:
    for actions, condition in _tiers(entry):
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                with TransactWrite(connection=dynamodb_connection()) as tx:
                    write(tx, actions, condition)
                return True
            except TransactWriteError as error:
                reasons = error.cancellation_reasons or []
                failed = [i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"]
                if _MESSAGE in failed:
                    return False  # already stored / already in its thread
                if _CONVERSATION in failed:
                    break  # older than the row's preview (or than what was read): the next tier
                if attempt == _CONFLICT_ATTEMPTS - 1 or not any(r and r.code == "TransactionConflict" for r in reasons):
                    raise
                # Two messages of one conversation at once: one of them tries again shortly.
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("the last tier has no condition")  # pragma: no cover
