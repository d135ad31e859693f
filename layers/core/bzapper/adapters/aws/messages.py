"""Messages in DynamoDB: the send transaction, forward-only statuses, and the outbox index."""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import IdempotencyModel, InstanceModel, MessageModel, StatusChange
from bzapper.adapters.aws.usage import usage_add
from bzapper.adapters.aws.wallets import balance_add, ledger_put
from bzapper.domain.clock import now_ms
from bzapper.domain.idempotency import TTL_SECONDS, IdempotencyLock
from bzapper.domain.ids import new_id
from bzapper.domain.model import MessageView, OutboundMessage, wallet_id
from bzapper.domain.phones import is_group_jid
from bzapper.domain.pricing import PRICED_AT, pricing_metrics
from bzapper.domain.sending import Accepted, CommitRejected
from bzapper.domain.statuses import (
    RANK,
    TERMINAL_FAILURES,
    MessageStatus,
    participant_key,
    participant_rows,
    rank,
    ranks_below,
)

_COMMIT_ATTEMPTS = 3

OUTBOX_BUCKETS = 8
"""The sweeper's index is spread over a few partitions so a burst of sends never makes one hot."""


def outbox_bucket(message_id: str) -> str:
    return f"outbox#{int(hashlib.sha256(message_id.encode()).hexdigest(), 16) % OUTBOX_BUCKETS}"


# The statuses that count in GET /usage, and under which counter.
_COUNTED = {
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.READ: "read",
    **dict.fromkeys(TERMINAL_FAILURES, "failed"),
}


# PynamoDB sends a transaction's items grouped by kind (condition checks, deletes, puts, updates),
# whatever the order of the calls; cancellation reasons come back in that order.
_TX_REASONS = (
    "instance_not_connected",  # condition check: the instance
    "duplicate_message",  # put: the message
    "ledger_collision",  # put: the ledger entry (charged sends only)
    "insufficient_balance",  # update: the balance (charged sends only)
    "usage",  # update: the usage counter (never conditional; counted sends only)
    "idempotency_lock_lost",  # update: the idempotency record (when a key was sent)
)


def _tx_reasons(*, charged: bool, counted: bool, keyed: bool) -> tuple[str, ...]:
    """The reasons of the items a commit actually carries, in the order of its cancellation reasons."""
    left_out = {
        *(() if charged else ("ledger_collision", "insufficient_balance")),
        *(() if counted else ("usage",)),
        *(() if keyed else ("idempotency_lock_lost",)),
    }
    return tuple(reason for reason in _TX_REASONS if reason not in left_out)


class MessageStore:
    def commit_send(
        self,
        message: OutboundMessage,
        *,
        price: int,
        grace_ms: int,
        idempotency: tuple[IdempotencyLock, Accepted] | None = None,
        metrics: tuple[str, ...] | None = None,
    ) -> None:
        """One transaction: the message, the debit with its ledger entry, the instance check, the usage
        counter, and the idempotency record.

        Nothing is half done: without credit, without a connected instance, or with a stolen
        idempotency lock, no message exists and no credit moved. A free message (price 0: an edit, a
        deletion) writes no ledger entry; `metrics` are the usage counters it adds to (default: sends,
        and otps for an OTP).
        """
        if metrics is None:
            metrics = ("sends", "otps") if message.type == "otp" else ("sends",)
        reasons = _tx_reasons(charged=price > 0, counted=bool(metrics), keyed=idempotency is not None)
        item = MessageModel(
            message.message_id,
            account_id=message.account_id,
            instance_id=message.instance_id,
            livemode=message.livemode,
            shard=message.shard,
            price=price,
            type=message.type,
            content=message.content,
            to_jid=message.to_jid,
            to_phone=message.to_phone,
            client_reference=message.client_reference,
            wa_message_id=message.wa_message_id,
            status=MessageStatus.QUEUED.value,
            status_rank=RANK[MessageStatus.QUEUED],
            history=[StatusChange(status=MessageStatus.QUEUED.value, at=message.created_at)],
            created_at=message.created_at,
            updated_at=message.created_at,
            outbox_bucket=outbox_bucket(message.message_id),
            outbox_due=message.created_at + grace_ms,
            # A group message's receipts come per participant into this map (it must exist to set its keys).
            participants={} if is_group_jid(message.to_jid) else None,
        )
        ledger_id = new_id("le")
        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                # The token makes a commit botocore retried after a lost response a no-op, not a 500.
                with TransactWrite(connection=dynamodb_connection(), client_request_token=message.message_id) as tx:
                    tx.save(item, condition=MessageModel.message_id.does_not_exist())
                    if price:
                        wallet = wallet_id(message.account_id, "live" if message.livemode else "test")
                        ledger_put(
                            tx, wallet, -price, "message", message.message_id, message.created_at, entry_id=ledger_id
                        )
                        balance_add(tx, wallet, -price, require_funds=True)
                    if metrics:
                        usage_add(
                            tx, message.account_id, message.livemode, message.instance_id, message.created_at, metrics
                        )
                    tx.condition_check(
                        InstanceModel,
                        message.instance_id,
                        condition=(InstanceModel.account_id == message.account_id)
                        & (InstanceModel.status == "connected"),
                    )
                    if idempotency:
                        lock, accepted = idempotency
                        tx.update(
                            IdempotencyModel(lock.idempotency_id),
                            actions=[
                                IdempotencyModel.state.set("done"),
                                IdempotencyModel.response_body.set(accepted.to_json()),
                                IdempotencyModel.expires_at.set(message.created_at // 1000 + TTL_SECONDS),
                            ],
                            condition=IdempotencyModel.lock_token == lock.token,
                        )
                return
            except TransactWriteError as error:
                reason = _cancellation_reason(error, reasons)
                if reason == "duplicate_message":
                    return  # our own earlier attempt committed it
                if reason != "conflict" or attempt == _COMMIT_ATTEMPTS - 1:
                    raise CommitRejected(reason) from error
                # Another transaction held one of the items (two sends on one wallet): try again shortly.
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))

    def get(self, message_id: str) -> MessageView | None:
        try:
            return _view(MessageModel.get(message_id, consistent_read=True))
        except DoesNotExist:
            return None

    def status_of(self, message_id: str) -> str | None:
        """Consistent read for a worker deciding whether a redelivered job was already sent."""
        try:
            return MessageModel.get(message_id, consistent_read=True, attributes_to_get=["status"]).status
        except DoesNotExist:
            return None

    def find_by_wa_id(self, wa_message_id: str, instance_id: str) -> str | None:
        for item in MessageModel.by_wa_id.query(wa_message_id, MessageModel.instance_id == instance_id, limit=1):
            return item.message_id
        return None

    def apply_participant_status(
        self, message_id: str, participant: dict[str, Any], status: str, at: int
    ) -> int | None:
        key = participant_key(participant)
        if key is None:
            return None
        new = MessageStatus(status)
        entry: dict[str, Any] = {"s": new.value, "r": rank(new), "at": at}
        entry |= {name: participant[name] for name in ("phone", "lid") if participant.get(name)}
        path = MessageModel.participants[key]
        # One write, no read: forward-only per participant; the new image tells the message's own rank.
        condition = MessageModel.participants.exists() & (path.does_not_exist() | (path["r"] < rank(new)))
        item = MessageModel(message_id)
        if not applied(lambda: item.update(actions=[path.set(entry)], condition=condition)):
            return None
        return int(item.status_rank)

    def apply_status(
        self,
        message_id: str,
        status: str,
        at: int,
        error_code: str | None = None,
        *,
        pricing: dict[str, Any] | None = None,
    ) -> MessageView | None:
        """Forward-only: the updated message when applied, None when it is already at or past `status`.

        Counted statuses update their usage counter in the same transaction, and a final failure refunds
        the send's price there too: whatever the redeliveries, each happens exactly once. `pricing` is set
        in the same update unless one is stored (if_not_exists: no read, no extra write); the first
        delivered (or read) status adds the message to its pricing category's counters in the usage update
        it already makes, under a condition that no earlier transition reached delivered.
        """
        new = MessageStatus(status)
        actions = [
            MessageModel.status.set(new.value),
            MessageModel.status_rank.set(rank(new)),
            MessageModel.history.set(MessageModel.history.append([StatusChange(status=new.value, at=at)])),
            MessageModel.updated_at.set(now_ms()),
        ]
        if rank(new) >= RANK[MessageStatus.SENDING]:
            # A worker has it (or it is over): the sweeper must stop looking at it.
            actions += [MessageModel.outbox_bucket.remove(), MessageModel.outbox_due.remove()]
        if error_code:
            actions.append(MessageModel.error.set({"code": error_code}))
        if pricing:
            actions.append(MessageModel.pricing.set(MessageModel.pricing | pricing))
        condition = MessageModel.status_rank.is_in(*ranks_below(new))
        counted = _COUNTED.get(new)
        if counted is None:
            item = MessageModel(message_id)
            return _view(item) if applied(lambda: item.update(actions=actions, condition=condition)) else None

        try:
            current = MessageModel.get(message_id, consistent_read=True)
        except DoesNotExist:
            return None
        priced: tuple[str, ...] = ()
        if new in PRICED_AT and int(current.status_rank) < RANK[MessageStatus.DELIVERED]:
            priced = pricing_metrics(current.pricing or pricing)
        while True:
            # Counting the category is once per message: its condition says no transition reached delivered
            # (a `read` alone would also pass after a concurrent `delivered`); failing that, the status
            # still applies, uncounted.
            guard = MessageModel.status_rank.is_in(*ranks_below(MessageStatus.DELIVERED)) if priced else condition
            try:
                with TransactWrite(connection=dynamodb_connection()) as tx:
                    tx.update(MessageModel(message_id), actions=actions, condition=guard)
                    usage_add(tx, current.account_id, current.livemode, current.instance_id, at, [counted, *priced])
                    if new in TERMINAL_FAILURES and current.price:
                        wallet = wallet_id(current.account_id, "live" if current.livemode else "test")
                        ledger_put(
                            tx, wallet, int(current.price), "refund", message_id, at, once=f"refund_{message_id}"
                        )
                        balance_add(tx, wallet, int(current.price))
            except TransactWriteError as error:
                if any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                    if priced:
                        priced = ()
                        continue
                    return None
                raise
            return self.get(message_id)

    def record_edit(self, message_id: str, field: str, body: str, at: int) -> None:
        """An edit of this message reached WhatsApp at `at`: its content shows the new text. A redelivered
        report changes nothing, and an older edit arriving late never overwrites a newer one."""
        try:
            item = MessageModel.get(message_id, consistent_read=True)
        except DoesNotExist:
            return
        actions = [
            MessageModel.content.set({**item.content, field: body}),
            MessageModel.edited_at.set(at),
            MessageModel.updated_at.set(now_ms()),
        ]
        condition = MessageModel.edited_at.does_not_exist() | (MessageModel.edited_at < at)
        applied(lambda: item.update(actions=actions, condition=condition))

    def record_deletion(self, message_id: str, at: int) -> None:
        """Its deletion for everyone reached WhatsApp at `at` (the first one counts)."""
        actions = [MessageModel.deleted_at.set(at), MessageModel.updated_at.set(now_ms())]
        condition = MessageModel.message_id.exists() & MessageModel.deleted_at.does_not_exist()
        applied(lambda: MessageModel(message_id).update(actions=actions, condition=condition))

    def due_outbox(self, now: int, limit: int = 100) -> list[tuple[OutboundMessage, int]]:
        """Messages committed but still not picked up by a worker, with their re-send count so far."""
        due: list[tuple[OutboundMessage, int]] = []
        first = random.randrange(OUTBOX_BUCKETS)  # no bucket starves the others when there is a backlog
        for bucket in (*range(first, OUTBOX_BUCKETS), *range(first)):
            for item in MessageModel.outbox.query(
                f"outbox#{bucket}", MessageModel.outbox_due <= now, limit=limit - len(due)
            ):
                due.append(
                    (
                        OutboundMessage(
                            message_id=item.message_id,
                            account_id=item.account_id,
                            instance_id=item.instance_id,
                            livemode=item.livemode,
                            type=item.type,
                            content=item.content,
                            to_jid=item.to_jid,
                            to_phone=item.to_phone,
                            client_reference=item.client_reference,
                            wa_message_id=item.wa_message_id,
                            created_at=int(item.created_at),
                            shard=int(item.shard),
                        ),
                        int(item.outbox_attempts or 0),
                    )
                )
            if len(due) >= limit:
                break
        return due

    def postpone_outbox(self, message_id: str, next_due: int) -> None:
        """After a re-send, look again later (backing off) unless a worker picked it up meanwhile."""
        applied(
            lambda: MessageModel(message_id).update(
                actions=[MessageModel.outbox_due.set(next_due), MessageModel.outbox_attempts.add(1)],
                condition=MessageModel.outbox_due.exists(),
            )
        )


def _cancellation_reason(error: TransactWriteError, items: tuple[str, ...] = _TX_REASONS) -> str:
    reasons = error.cancellation_reasons or []
    failed = [
        items[index] for index, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"
    ]
    if "duplicate_message" in failed:
        return "duplicate_message"  # our own earlier attempt committed it: nothing else matters
    if "insufficient_balance" in failed:
        return "insufficient_balance"  # no credit is the first thing to fix, whatever else failed with it
    if failed:
        return failed[0]
    conflicts = [index for index, reason in enumerate(reasons) if reason and reason.code == "TransactionConflict"]
    if "idempotency_lock_lost" in items and conflicts == [items.index("idempotency_lock_lost")]:
        return "idempotency_conflict"  # another request with the same key is writing it right now
    if conflicts:
        return "conflict"
    return "busy"  # throttled, or the service is unavailable: retryable by the client


def _view(item: MessageModel) -> MessageView:
    return MessageView(
        message_id=item.message_id,
        account_id=item.account_id,
        instance_id=item.instance_id,
        livemode=item.livemode,
        type=item.type,
        content=item.content,
        to_jid=item.to_jid,
        to_phone=item.to_phone,
        client_reference=item.client_reference,
        status=item.status,
        history=[(change.status, int(change.at)) for change in item.history or []],
        error_code=item.error.code if item.error else None,
        created_at=int(item.created_at),
        updated_at=int(item.updated_at),
        wa_message_id=item.wa_message_id,
        direction=item.direction or "outbound",
        edited_at=int(item.edited_at) if item.edited_at is not None else None,
        deleted_at=int(item.deleted_at) if item.deleted_at is not None else None,
        pricing=item.pricing or None,
        participants=participant_rows(item.participants.as_dict() if item.participants is not None else None),
    )
