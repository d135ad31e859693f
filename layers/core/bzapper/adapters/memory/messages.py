"""Messages in memory (bzapper.ports.messages): the send transaction, forward-only statuses, the outbox, the
idempotency keys, the send limits and the shard queues.

`MemoryMessageStore.commit_send` is all or nothing across the wallets, usage counters, instances and
idempotency records it was built with (one lock for them all): the same conditions, checked in the order the
DynamoDB transaction reports them, and nothing written when one fails.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bzapper.adapters.memory.billing import MemoryUsageStore, MemoryWalletStore
from bzapper.adapters.memory.faults import Faults
from bzapper.adapters.memory.instances import MemoryInstanceStore
from bzapper.domain.clock import now_ms
from bzapper.domain.idempotency import LOCK_SECONDS, TTL_SECONDS, IdempotencyLock, StoredResponse
from bzapper.domain.model import MessageView, OutboundMessage, wallet_id
from bzapper.domain.pricing import PRICED_AT, pricing_metrics
from bzapper.domain.ratelimit import Bucket, BucketTake, Decision
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

# The statuses that count in GET /usage, and under which counter.
_COUNTED = {
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.READ: "read",
    **dict.fromkeys(TERMINAL_FAILURES, "failed"),
}


@dataclass
class StoredMessage:
    """One item of the messages table: a message we send, or (written by the inbox) one that arrived."""

    message_id: str
    account_id: str
    instance_id: str
    livemode: bool
    shard: int
    type: str
    content: dict[str, Any]
    to_jid: str
    to_phone: str | None
    wa_message_id: str
    status: str
    status_rank: int
    history: list[tuple[str, int]]
    created_at: int
    updated_at: int
    client_reference: str | None = None
    price: int = 0
    direction: str = "outbound"
    error_code: str | None = None
    error_details: dict[str, Any] | None = None
    edited_at: int | None = None
    deleted_at: int | None = None
    outbox_due: int | None = None
    outbox_attempts: int = 0
    # Its place in a conversation's thread (the inbox's index).
    chat_key: str | None = None
    chat_sort: str | None = None
    chat_jid: str | None = None
    from_me: bool = False
    sender: dict[str, Any] = field(default_factory=dict)
    pricing: dict[str, Any] | None = None
    participants: dict[str, dict[str, Any]] | None = None
    imported: bool = False
    """Inbound only: came with a pairing's history (docs/history.md)."""

    def view(self) -> MessageView:
        return MessageView(
            message_id=self.message_id,
            account_id=self.account_id,
            instance_id=self.instance_id,
            livemode=self.livemode,
            type=self.type,
            content=copy.deepcopy(self.content),
            to_jid=self.to_jid,
            to_phone=self.to_phone,
            client_reference=self.client_reference,
            status=self.status,
            history=list(self.history),
            error_code=self.error_code,
            created_at=self.created_at,
            updated_at=self.updated_at,
            wa_message_id=self.wa_message_id,
            direction=self.direction,
            edited_at=self.edited_at,
            deleted_at=self.deleted_at,
            pricing=dict(self.pricing) if self.pricing else None,
            error_details=copy.deepcopy(self.error_details),
            participants=participant_rows(self.participants),
        )

    def outbound(self) -> OutboundMessage:
        return OutboundMessage(
            message_id=self.message_id,
            account_id=self.account_id,
            instance_id=self.instance_id,
            livemode=self.livemode,
            type=self.type,
            content=copy.deepcopy(self.content),
            to_jid=self.to_jid,
            to_phone=self.to_phone,
            client_reference=self.client_reference,
            wa_message_id=self.wa_message_id,
            created_at=self.created_at,
            shard=self.shard,
        )


# Idempotency -------------------------------------------------------------------------------------------


@dataclass
class _IdempotencyRecord:
    fingerprint: str
    state: str
    token: str
    locked_until: int
    expires_at: int
    body: Any = None


class MemoryIdempotencyStore(Faults):
    def __init__(self, lock: threading.RLock | None = None) -> None:
        super().__init__()
        self._lock = lock or threading.RLock()
        self.records: dict[str, _IdempotencyRecord] = {}

    def acquire(self, idempotency_id: str, fingerprint: str, now_s: int) -> IdempotencyLock | StoredResponse:
        self._enter("acquire", idempotency_id, fingerprint, now_s)
        with self._lock:
            stored = self.records.get(idempotency_id)
            free = (
                stored is None
                or stored.expires_at < now_s
                # A lock whose holder died is free again; a finished record never is (until it expires).
                or (stored.state == "in_progress" and stored.locked_until < now_s)
            )
            if free:
                token = secrets.token_hex(16)
                self.records[idempotency_id] = _IdempotencyRecord(
                    fingerprint, "in_progress", token, now_s + LOCK_SECONDS, now_s + TTL_SECONDS
                )
                return IdempotencyLock(idempotency_id, token)
            assert stored is not None
            return StoredResponse(
                fingerprint=stored.fingerprint,
                done=stored.state == "done" and stored.body is not None,
                body=copy.deepcopy(stored.body),
            )

    def release(self, lock: IdempotencyLock) -> None:
        self._enter("release", lock)
        with self._lock:
            stored = self.records.get(lock.idempotency_id)
            if stored is not None and stored.token == lock.token and stored.state == "in_progress":
                del self.records[lock.idempotency_id]

    def complete(self, lock: IdempotencyLock, body: dict[str, Any]) -> None:
        self._enter("complete", lock, body)
        with self._lock:
            stored = self.records.get(lock.idempotency_id)
            if stored is not None and stored.token == lock.token and stored.state == "in_progress":
                stored.state, stored.body = "done", copy.deepcopy(body)

    def _holds_locked(self, lock: IdempotencyLock) -> bool:
        stored = self.records.get(lock.idempotency_id)
        return stored is not None and stored.token == lock.token

    def _complete_locked(self, lock: IdempotencyLock, body: dict[str, Any], expires_at: int) -> None:
        stored = self.records[lock.idempotency_id]
        stored.state, stored.body, stored.expires_at = "done", body, expires_at


# The message table ---------------------------------------------------------------------------------------


class MemoryMessageStore(Faults):
    def __init__(
        self,
        *,
        wallets: MemoryWalletStore,
        usage: MemoryUsageStore,
        instances: MemoryInstanceStore,
        idempotency: MemoryIdempotencyStore,
        rate_limits: MemoryRateLimitStore | None = None,
        clock: Callable[[], int] = now_ms,
        lock: threading.RLock | None = None,
    ) -> None:
        super().__init__()
        self._wallets = wallets
        self._usage = usage
        self._instances = instances
        self._idempotency = idempotency
        self._rate_limits = rate_limits or MemoryRateLimitStore(clock)
        self._clock = clock
        self._lock = lock or threading.RLock()
        self.rows: dict[str, StoredMessage] = {}

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
        self._enter(
            "commit_send", message, price=price, grace_ms=grace_ms, idempotency=idempotency, metrics=metrics, rate=rate
        )
        if metrics is None:
            metrics = ("sends", "otps") if message.type == "otp" else ("sends",)
        wallet = wallet_id(message.account_id, "live" if message.livemode else "test")
        with self._lock, self._rate_limits._lock:
            # As the DynamoDB store reads the cancellation reasons: the rate limit first, then no credit, then
            # the instance.
            if message.message_id in self.rows:
                return None  # our own earlier attempt committed it
            now = float(self._clock())
            tat = self._rate_limits.tats.get(rate.bucket_id, now) if rate else now
            if rate and not rate.bucket.allows(tat, now):
                raise CommitRejected("rate_limited", Decision.of(False, rate.bucket, tat, now))
            if price and not self._wallets._can_pay_locked(wallet, price):
                raise CommitRejected("insufficient_balance")
            if not self._instances.connected_for(message.instance_id, message.account_id):
                raise CommitRejected("instance_not_connected")
            if idempotency and not self._idempotency._holds_locked(idempotency[0]):
                raise CommitRejected("idempotency_lock_lost")
            # Every condition holds: the writes, together.
            self.rows[message.message_id] = StoredMessage(
                message_id=message.message_id,
                account_id=message.account_id,
                instance_id=message.instance_id,
                livemode=message.livemode,
                shard=message.shard,
                type=message.type,
                content=copy.deepcopy(message.content),
                to_jid=message.to_jid,
                to_phone=message.to_phone,
                client_reference=message.client_reference,
                wa_message_id=message.wa_message_id,
                status=MessageStatus.QUEUED.value,
                status_rank=RANK[MessageStatus.QUEUED],
                history=[(MessageStatus.QUEUED.value, message.created_at)],
                created_at=message.created_at,
                updated_at=message.created_at,
                price=price,
                outbox_due=message.created_at + grace_ms,
                participants={} if per_recipient(message.to_jid) else None,
            )
            if price:
                self._wallets._post_locked(wallet, -price, "message", message.message_id, message.created_at)
            if metrics:
                self._usage._add_locked(
                    message.account_id, message.livemode, message.instance_id, message.created_at, metrics
                )
            if idempotency:
                lock, accepted = idempotency
                self._idempotency._complete_locked(lock, accepted.to_json(), message.created_at // 1000 + TTL_SECONDS)
            if rate is None:
                return None
            tat = rate.bucket.next_tat(tat, now)
            self._rate_limits.tats[rate.bucket_id] = tat
            return Decision.of(True, rate.bucket, tat, now)

    def get(self, message_id: str) -> MessageView | None:
        self._enter("get", message_id)
        with self._lock:
            row = self.rows.get(message_id)
            return row.view() if row else None

    def status_of(self, message_id: str) -> str | None:
        self._enter("status_of", message_id)
        with self._lock:
            row = self.rows.get(message_id)
            return row.status if row else None

    def find_by_wa_id(self, wa_message_id: str, instance_id: str) -> str | None:
        self._enter("find_by_wa_id", wa_message_id, instance_id)
        with self._lock:
            for row in self.rows.values():
                if row.wa_message_id == wa_message_id and row.instance_id == instance_id:
                    return row.message_id
        return None

    def apply_participant_status(
        self, message_id: str, participant: dict[str, Any], status: str, at: int
    ) -> int | None:
        self._enter("apply_participant_status", message_id, participant, status, at)
        key = participant_key(participant)
        new = MessageStatus(status)
        with self._lock:
            row = self.rows.get(message_id)
            if row is None or row.participants is None or key is None:
                return None
            current = row.participants.get(key)
            if current is not None and current["r"] >= rank(new):
                return None
            entry: dict[str, Any] = {"s": new.value, "r": rank(new), "at": at}
            row.participants[key] = entry | {
                name: participant[name] for name in ("phone", "lid") if participant.get(name)
            }
            return row.status_rank

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
        self._enter("apply_status", message_id, status, at, error_code, pricing=pricing)
        new = MessageStatus(status)
        with self._lock:
            row = self.rows.get(message_id)
            if row is None or row.status_rank not in ranks_below(new):
                return None  # a late or repeated report
            wallet = wallet_id(row.account_id, "live" if row.livemode else "test")
            refund = new in TERMINAL_FAILURES and row.price > 0
            if refund and self._wallets._used_locked(wallet, f"refund_{message_id}"):
                return None  # the refund's guard cancels the whole transaction, as in DynamoDB
            first_delivery = new in PRICED_AT and row.status_rank < RANK[MessageStatus.DELIVERED]
            row.status, row.status_rank = new.value, rank(new)
            row.history.append((new.value, at))
            row.updated_at = self._clock()
            if rank(new) >= RANK[MessageStatus.SENDING]:
                row.outbox_due = None  # a worker has it (or it is over): the sweeper stops looking
            if error_code:
                row.error_code = error_code
            if wa_message_id:
                row.wa_message_id = wa_message_id
            if pricing and row.pricing is None:
                row.pricing = dict(pricing)  # the first report that carries it: Meta prices a message once
            counted = _COUNTED.get(new)
            if counted:
                priced = pricing_metrics(row.pricing) if first_delivery else ()
                self._usage._add_locked(row.account_id, row.livemode, row.instance_id, at, (counted, *priced))
            if refund:
                self._wallets._post_locked(wallet, row.price, "refund", message_id, at, once=f"refund_{message_id}")
            return row.view()

    def record_wa_id(self, message_id: str, wa_message_id: str) -> None:
        self._enter("record_wa_id", message_id, wa_message_id)
        with self._lock:
            row = self.rows.get(message_id)
            if row is not None:
                row.wa_message_id = wa_message_id

    def record_error_details(self, message_id: str, details: dict[str, Any]) -> None:
        self._enter("record_error_details", message_id, details)
        with self._lock:
            row = self.rows.get(message_id)
            if row is not None:
                row.error_details = copy.deepcopy(details)

    def record_edit(self, message_id: str, field: str, body: str, at: int) -> None:
        self._enter("record_edit", message_id, field, body, at)
        with self._lock:
            row = self.rows.get(message_id)
            if row is None or (row.edited_at is not None and row.edited_at >= at):
                return  # a redelivered report, or an older edit arriving late
            row.content = {**row.content, field: body}
            row.edited_at, row.updated_at = at, self._clock()

    def record_deletion(self, message_id: str, at: int) -> None:
        self._enter("record_deletion", message_id, at)
        with self._lock:
            row = self.rows.get(message_id)
            if row is not None and row.deleted_at is None:
                row.deleted_at, row.updated_at = at, self._clock()

    def due_outbox(self, now: int, limit: int = 100) -> list[tuple[OutboundMessage, int]]:
        self._enter("due_outbox", now, limit)
        with self._lock:
            due = sorted(
                (row for row in self.rows.values() if row.outbox_due is not None and row.outbox_due <= now),
                key=lambda row: (row.outbox_due or 0, row.message_id),
            )
            return [(row.outbound(), row.outbox_attempts) for row in due[:limit]]

    def postpone_outbox(self, message_id: str, next_due: int) -> None:
        self._enter("postpone_outbox", message_id, next_due)
        with self._lock:
            row = self.rows.get(message_id)
            if row is not None and row.outbox_due is not None:  # unless a worker picked it up meanwhile
                row.outbox_due, row.outbox_attempts = next_due, row.outbox_attempts + 1

    def _put_locked(self, row: StoredMessage) -> bool:
        """The inbox's put of a message that arrived: False when it is stored already."""
        if row.message_id in self.rows:
            return False
        self.rows[row.message_id] = row
        return True


# Send limits -----------------------------------------------------------------------------------------------


class MemoryRateLimitStore(Faults):
    """GCRA buckets: one theoretical arrival time per bucket, as the DynamoDB store keeps it."""

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self.tats: dict[str, float] = {}

    def take(self, bucket_id: str, bucket: Bucket, now_ms: float | None = None) -> Decision:
        self._enter("take", bucket_id, bucket, now_ms)
        now = now_ms if now_ms is not None else float(self._clock())
        with self._lock:
            tat = self.tats.get(bucket_id, now)
            if not bucket.allows(tat, now):
                return Decision.of(False, bucket, tat, now)
            tat = bucket.next_tat(tat, now)
            self.tats[bucket_id] = tat
            return Decision.of(True, bucket, tat, now)

    def give_back(self, bucket_id: str, bucket: Bucket) -> None:
        self._enter("give_back", bucket_id, bucket)
        now = float(self._clock())
        with self._lock:
            tat = self.tats.get(bucket_id)
            if tat is not None and tat > now:
                self.tats[bucket_id] = max(now, tat - bucket.interval_ms)

    def used(self, bucket_id: str, limit: int) -> int:
        self._enter("used", bucket_id, limit)
        bucket = Bucket(limit)
        with self._lock:
            tat = self.tats.get(bucket_id)
        return 0 if tat is None else bucket.limit - bucket.remaining(tat, float(self._clock()))


# The shard queues -------------------------------------------------------------------------------------------

DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000
"""SQS FIFO drops a message whose deduplication id it saw in the last 5 minutes (the message id here)."""


class MemoryJobQueue(Faults):
    """The FIFO shard queues: `sent` is every accepted enqueue, `jobs` what a worker would receive."""

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self.sent: list[OutboundMessage] = []
        self.jobs: list[dict[str, Any]] = []
        self._seen: dict[str, int] = {}

    def enqueue(self, message: OutboundMessage) -> None:
        self._enter("enqueue", message)
        now = self._clock()
        with self._lock:
            self.sent.append(replace(message, content=copy.deepcopy(message.content)))
            first = self._seen.get(message.message_id)
            if first is not None and now - first < DEDUPLICATION_WINDOW_MS:
                return  # a re-send within the window: SQS accepts it and drops it
            self._seen[message.message_id] = now
            self.jobs.append(copy.deepcopy(message.job()))

    def jobs_for(self, message_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [job for job in self.jobs if job["message_id"] == message_id]
