"""Messages: the send transaction, forward-only statuses, the outbox; the idempotency keys and send limits
that guard the send; the shard queues toward the session workers."""

from __future__ import annotations

from typing import Protocol

from bzapper.domain.idempotency import IdempotencyLock, StoredResponse
from bzapper.domain.model import MessageView, OutboundMessage
from bzapper.domain.ratelimit import Bucket, BucketTake, Decision
from bzapper.domain.sending import Accepted


class MessageStore(Protocol):
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
        """All or nothing: the message (queued, due in the outbox after `grace_ms`), the debit of `price` with
        its ledger entry, the check that the instance is connected, the usage counters (`metrics`, default:
        sends, and otps for an OTP), the idempotency record completed with the answer, and one token of the
        `rate` bucket (its state afterwards is returned). Raises CommitRejected with the reason of a failed
        condition; over the bucket's limit, "rate_limited" (before any other but an earlier commit of the
        same message) with the bucket's state."""
        ...

    def get(self, message_id: str) -> MessageView | None: ...

    def status_of(self, message_id: str) -> str | None: ...

    def find_by_wa_id(self, wa_message_id: str, instance_id: str) -> str | None: ...

    def apply_status(self, message_id: str, status: str, at: int, error_code: str | None = None) -> MessageView | None:
        """Moves the status forward only (None when it would not move: a late or repeated report); a failure
        refunds the price once."""
        ...

    def record_edit(self, message_id: str, field: str, body: str, at: int) -> None: ...

    def record_deletion(self, message_id: str, at: int) -> None: ...

    def due_outbox(self, now: int, limit: int = 100) -> list[tuple[OutboundMessage, int]]:
        """Committed messages still not taken by a worker after their grace, with their re-send count."""
        ...

    def postpone_outbox(self, message_id: str, next_due: int) -> None: ...


class IdempotencyStore(Protocol):
    def acquire(self, idempotency_id: str, fingerprint: str, now_s: int) -> IdempotencyLock | StoredResponse:
        """Either the lock for a first request, or what an earlier request with this key left."""
        ...

    def release(self, lock: IdempotencyLock) -> None:
        """A request that failed before committing frees its key so the client can retry it."""
        ...


class RateLimitStore(Protocol):
    def take(self, bucket_id: str, bucket: Bucket, now_ms: float | None = None) -> Decision: ...

    def peek(self, bucket_id: str, bucket: Bucket) -> Decision:
        """Whether a request would be admitted now, without taking it."""
        ...

    def used(self, bucket_id: str, limit: int) -> int:
        """Requests counted against a per-minute bucket of `limit` right now, without taking one."""
        ...


class JobQueue(Protocol):
    """The FIFO shard queues between the API and the session workers."""

    def enqueue(self, message: OutboundMessage) -> None: ...
