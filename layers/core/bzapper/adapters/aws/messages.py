"""Messages in DynamoDB: the send transaction, forward-only statuses, and the outbox index."""

from __future__ import annotations

import hashlib
import json
import random
import time
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import IdempotencyModel, InstanceModel, MessageModel, StatusChange
from bzapper.adapters.aws.ratelimits import RateLimitStore
from bzapper.adapters.aws.usage import usage_add
from bzapper.adapters.aws.wallets import balance_add, ledger_put
from bzapper.domain.clock import now_ms
from bzapper.domain.idempotency import TTL_SECONDS, IdempotencyLock
from bzapper.domain.ids import new_id
from bzapper.domain.model import MessageView, OutboundMessage, wallet_id
from bzapper.domain.pricing import PRICED_AT, pricing_metrics
from bzapper.domain.ratelimit import BucketTake, Decision
from bzapper.domain.sending import Accepted, CommitRejected
from bzapper.domain.status_posts import per_recipient
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
    "rate_limited",  # update: the send bucket (when the commit takes its token)
)


def _tx_reasons(*, charged: bool, counted: bool, keyed: bool, rated: bool) -> tuple[str, ...]:
    """The reasons of the items a commit actually carries, in the order of its cancellation reasons."""
    left_out = {
        *(() if charged else ("ledger_collision", "insufficient_balance")),
        *(() if counted else ("usage",)),
        *(() if keyed else ("idempotency_lock_lost",)),
        *(() if rated else ("rate_limited",)),
    }
    return tuple(reason for reason in _TX_REASONS if reason not in left_out)


class MessageStore:
    def __init__(self, rate_limits: RateLimitStore | None = None) -> None:
        # Shared with the service's rate-limit store: one view per bucket of its last TAT, whichever wrote it.
        self._rate_limits = rate_limits or RateLimitStore()

    def commit_send(
        self,
        message: OutboundMessage,
        *,
        price: int,
        grace_ms: int,
        idempotency: tuple[IdempotencyLock, Accepted] | None = None,
        metrics: tuple[str, ...] | None = None,
        rate: BucketTake | None = None,
    ) -> Decision | None:
        """One transaction: the message, the debit with its ledger entry, the instance check, the usage
        counter, the idempotency record, and the send bucket's token.

        Nothing is half done: over the rate limit, without credit, without a connected instance, or with a
        stolen idempotency lock, no message exists, no credit moved and no token was taken. A free message
        (price 0: an edit, a deletion) writes no ledger entry; `metrics` are the usage counters it adds to
        (default: sends, and otps for an OTP).

        The bucket's update is the one `RateLimitStore.take` makes (busy or idle, guessed from the TAT last
        seen); when its condition fails, the bucket's current TAT comes back with the cancellation and says
        whether the limit refuses the send or the other update applies (then tried once).
        """
        if metrics is None:
            metrics = ("sends", "otps") if message.type == "otp" else ("sends",)
        reasons = _tx_reasons(
            charged=price > 0, counted=bool(metrics), keyed=idempotency is not None, rated=rate is not None
        )
        # One `now` for the whole commit, as for a take: a retried request carries the same parameters.
        now = time.time() * 1000
        busy = False
        if rate is not None:
            refused = self._rate_limits.refused_locally(rate.bucket_id, rate.bucket, now)
            if refused is not None:
                raise CommitRejected("rate_limited", refused)
            busy = self._rate_limits.busy_first(rate.bucket_id, now)
        other_update_tried = False
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
            participants={} if per_recipient(message.to_jid) else None,
        )
        ledger_id = new_id("le")
        attempt = 0
        while attempt < _COMMIT_ATTEMPTS:
            # The token makes a commit botocore retried after a lost response a no-op, not a 500. The two
            # bucket updates are two different requests: each has its own token.
            token = message.message_id if rate is None else f"{message.message_id}.{'b' if busy else 'i'}"
            try:
                with TransactWrite(connection=dynamodb_connection(), client_request_token=token) as tx:
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
                    if rate is not None:
                        bucket_item, actions, condition = RateLimitStore.update_of(
                            rate.bucket_id, rate.bucket, now, busy
                        )
                        # On a failed condition the bucket comes back with the cancellation (no read after).
                        tx.update(bucket_item, actions=actions, condition=condition, return_values=ALL_OLD)
                return self._taken(rate, now, busy)
            except TransactWriteError as error:
                reason = _cancellation_reason(error, reasons)
                if reason == "duplicate_message":
                    return self._taken(rate, now, busy)  # our own earlier attempt committed it
                if rate is not None and reason == "rate_limited":
                    tat = _bucket_tat(error, reasons, now)
                    self._rate_limits.remember(rate.bucket_id, tat)
                    if not rate.bucket.allows(tat, now) or other_update_tried:
                        # Over the limit (or raced twice): refused, as a take would refuse it.
                        raise CommitRejected("rate_limited", Decision.of(False, rate.bucket, tat, now)) from error
                    if set(_failed_conditions(error, reasons)) - {"rate_limited"}:
                        # The limit admits the send: what else failed is the answer, no need to ask again.
                        raise CommitRejected(_cancellation_reason(error, reasons, ignore=("rate_limited",))) from error
                    busy, other_update_tried = not busy, True  # the other update applies: one more try
                    continue
                if reason != "conflict" or attempt == _COMMIT_ATTEMPTS - 1:
                    raise CommitRejected(reason) from error
                # Another transaction held one of the items (two sends on one wallet): try again shortly.
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                attempt += 1
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _taken(self, rate: BucketTake | None, now: float, busy: bool) -> Decision | None:
        """The bucket after a commit took its token. The idle update set the TAT exactly; the busy one moved
        it on by one interval from a value this process may not have seen last (another function instance
        sending for the same account): then the TAT last seen is a lower bound, and the remaining count the
        headers give an upper bound (the limit itself is the table's condition: exact)."""
        if rate is None:
            return None
        seen = self._rate_limits.seen(rate.bucket_id)
        tat = rate.bucket.next_tat(seen if busy and seen is not None else now, now)
        self._rate_limits.remember(rate.bucket_id, tat)
        return Decision.of(True, rate.bucket, tat, now)

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
        wa_message_id: str | None = None,
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
        if wa_message_id:
            # The acked id (an unchanged value does not touch the KEYS_ONLY by_wa_id index).
            actions.append(MessageModel.wa_message_id.set(wa_message_id))
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

    def record_wa_id(self, message_id: str, wa_message_id: str) -> None:
        applied(
            lambda: MessageModel(message_id).update(
                actions=[MessageModel.wa_message_id.set(wa_message_id), MessageModel.updated_at.set(now_ms())],
                condition=MessageModel.message_id.exists(),
            )
        )

    def record_error_details(self, message_id: str, details: dict[str, Any]) -> None:
        applied(
            lambda: MessageModel(message_id).update(
                actions=[MessageModel.error.detail.set(json.dumps(details, separators=(",", ":")))],
                condition=MessageModel.error.exists(),
            )
        )

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


def _cancellation_reason(
    error: TransactWriteError, items: tuple[str, ...] = _TX_REASONS, ignore: tuple[str, ...] = ()
) -> str:
    reasons = error.cancellation_reasons or []
    failed = [item for item in _failed_conditions(error, items) if item not in ignore]
    if "duplicate_message" in failed:
        return "duplicate_message"  # our own earlier attempt committed it: nothing else matters
    if "rate_limited" in failed:
        return "rate_limited"  # the send bucket's condition: the caller reads the bucket from the cancellation
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


def _failed_conditions(error: TransactWriteError, items: tuple[str, ...]) -> list[str]:
    reasons = error.cancellation_reasons or []
    return [items[index] for index, reason in enumerate(reasons) if reason and reason.code == "ConditionalCheckFailed"]


def _bucket_tat(error: TransactWriteError, items: tuple[str, ...], now: float) -> float:
    """The send bucket's TAT as the cancelled transaction found it (no item: a bucket never used, full)."""
    reason = (error.cancellation_reasons or [])[items.index("rate_limited")]
    raw = reason.raw_item if reason else None
    return float(raw["tat"]["N"]) if raw and "tat" in raw else now


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
        error_details=_details(item.error.detail if item.error else None),
        participants=participant_rows(item.participants.as_dict() if item.participants is not None else None),
    )


def _details(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
