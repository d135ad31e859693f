"""Messages in DynamoDB: the send transaction, forward-only statuses, and the outbox index."""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.accounts import BALANCE_ENTRY, ledger_entry_key
from bzapper.adapters.aws.idempotency import IdempotencyLock
from bzapper.adapters.aws.models import (
    IdempotencyModel,
    InstanceModel,
    MessageModel,
    StatusChange,
    WalletModel,
)
from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.idempotency import TTL_SECONDS
from bzapper.domain.ids import new_id
from bzapper.domain.model import MessageView, OutboundMessage
from bzapper.domain.statuses import RANK, MessageStatus, rank, ranks_below

OUTBOX_BUCKETS = 8
"""The sweeper's index is spread over a few partitions so a burst of sends never makes one hot."""


def outbox_bucket(message_id: str) -> str:
    return f"outbox#{int(hashlib.sha256(message_id.encode()).hexdigest(), 16) % OUTBOX_BUCKETS}"


class CommitRejected(Exception):
    """The send transaction was cancelled; `reason` says which condition failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# PynamoDB sends a transaction's items grouped by kind (condition checks, deletes, puts, updates),
# whatever the order of the calls; cancellation reasons come back in that order.
_TX_REASONS = (
    "instance_not_connected",  # condition check: the instance
    "duplicate_message",  # put: the message
    "ledger_collision",  # put: the ledger entry
    "insufficient_balance",  # update: the balance
    "idempotency_lock_lost",  # update: the idempotency record (when a key was sent)
)


class MessageStore:
    def commit_send(
        self,
        message: OutboundMessage,
        *,
        price: int,
        wallet_id: str,
        grace_ms: int,
        idempotency: tuple[IdempotencyLock, int, dict[str, Any]] | None = None,
    ) -> None:
        """One transaction: the message, the debit with its ledger entry, the instance check, the key.

        Nothing is half done: without credit, without a connected instance, or with a stolen
        idempotency lock, no message exists and no credit moved.
        """
        item = MessageModel(
            message.message_id,
            account_id=message.account_id,
            instance_id=message.instance_id,
            livemode=message.livemode,
            shard=message.shard,
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
        )
        try:
            with TransactWrite(connection=Connection(region=settings().region)) as tx:
                tx.save(item, condition=MessageModel.message_id.does_not_exist())
                tx.update(
                    WalletModel(wallet_id, BALANCE_ENTRY),
                    actions=[WalletModel.balance.add(-price)],
                    condition=WalletModel.balance >= price,
                )
                tx.save(
                    WalletModel(
                        wallet_id,
                        ledger_entry_key(new_id("le")),
                        amount=-price,
                        reason="message",
                        reference=message.message_id,
                        created_at=message.created_at,
                    ),
                    condition=WalletModel.entry.does_not_exist(),
                )
                tx.condition_check(
                    InstanceModel,
                    message.instance_id,
                    condition=(InstanceModel.account_id == message.account_id) & (InstanceModel.status == "connected"),
                )
                if idempotency:
                    lock, status, body = idempotency
                    tx.update(
                        IdempotencyModel(lock.idempotency_id),
                        actions=[
                            IdempotencyModel.state.set("done"),
                            IdempotencyModel.response_status.set(status),
                            IdempotencyModel.response_body.set(body),
                            IdempotencyModel.expires_at.set(message.created_at // 1000 + TTL_SECONDS),
                        ],
                        condition=IdempotencyModel.lock_token == lock.token,
                    )
        except TransactWriteError as error:
            raise CommitRejected(_cancellation_reason(error)) from error

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

    def apply_status(self, message_id: str, status: str, at: int, error_code: str | None = None) -> MessageView | None:
        """Forward-only: the updated message when applied, None when it is already at or past `status`."""
        new = MessageStatus(status)
        actions = [
            MessageModel.status.set(new.value),
            MessageModel.status_rank.set(rank(new)),
            MessageModel.history.set(MessageModel.history.append([StatusChange(status=new.value, at=at)])),
            MessageModel.updated_at.set(now_ms()),
        ]
        if rank(new) >= RANK[MessageStatus.SENDING]:
            # A worker has it: the sweeper must stop looking at it.
            actions += [MessageModel.outbox_bucket.remove(), MessageModel.outbox_due.remove()]
        if error_code:
            actions.append(MessageModel.error.set({"code": error_code}))
        item = MessageModel(message_id)
        try:
            item.update(actions=actions, condition=MessageModel.status_rank.is_in(*ranks_below(new)))
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return _view(item)

    def due_outbox(self, now: int, limit: int = 100) -> list[tuple[OutboundMessage, int]]:
        """Messages committed but still not picked up by a worker, with their re-send count so far."""
        due: list[tuple[OutboundMessage, int]] = []
        for bucket in range(OUTBOX_BUCKETS):
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
        try:
            MessageModel(message_id).update(
                actions=[MessageModel.outbox_due.set(next_due), MessageModel.outbox_attempts.add(1)],
                condition=MessageModel.outbox_due.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise


def _cancellation_reason(error: TransactWriteError) -> str:
    reasons = error.cancellation_reasons or []
    for index, reason in enumerate(reasons):
        if reason is not None and reason.code == "ConditionalCheckFailed":
            return _TX_REASONS[index]
    if any(reason is not None and reason.code == "TransactionConflict" for reason in reasons):
        return "conflict"
    return "unknown"


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
    )
