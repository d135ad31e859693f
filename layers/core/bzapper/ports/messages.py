"""Messages: the send transaction, forward-only statuses, the outbox; the idempotency keys and send limits
that guard the send; the shard queues toward the session workers."""

from __future__ import annotations

from typing import Any, Protocol

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
        """Moves the status forward only (None when it would not move: a late or repeated report); a failure
        refunds the price once. `pricing` is stored unless the message has one already (Meta prices a message
        once), in the same write; the first delivered (or read) status counts it in usage under its category.
        `wa_message_id` (with `sent`): the id WhatsApp acked the message with, recorded in the same write, so
        its receipts find it when the engine could not send it under the id derived from ours (whatsmeow)."""
        ...

    def apply_participant_status(
        self, message_id: str, participant: dict[str, Any], status: str, at: int
    ) -> int | None:
        """A group message's receipt from one participant (`{phone?, lid?}`), forward-only per participant, in
        one conditional write. Returns the message's own status rank after it (so the caller moves the message's
        status only when it is behind), or None when nothing moved (a late or repeated receipt, no message)."""
        ...

    def record_edit(self, message_id: str, field: str, body: str, at: int) -> None: ...

    def record_wa_id(self, message_id: str, wa_message_id: str) -> None:
        """The id the network gave the message when it took it (Meta's wamid): receipts and statuses name it."""
        ...

    def record_error_details(self, message_id: str, details: dict[str, Any]) -> None:
        """What the network said of a failure we have no stable code for (Meta's code and title)."""
        ...

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

    def complete(self, lock: IdempotencyLock, body: dict[str, Any]) -> None:
        """Stores the first request's result for its replays (a send completes inside its own transaction
        instead). A lock lost meanwhile (it outlived LOCK_SECONDS and was taken again) stores nothing."""
        ...


class RateLimitStore(Protocol):
    """No peek: a check before the take lets every concurrent request pass it. To count only some outcomes,
    take first (a reservation) and give the token back when the outcome does not count."""

    def take(self, bucket_id: str, bucket: Bucket, now_ms: float | None = None) -> Decision: ...

    def give_back(self, bucket_id: str, bucket: Bucket) -> None:
        """Returns one token taken earlier: the bucket's TAT moves back by one interval (never fuller than
        full: nothing when the bucket is idle)."""
        ...

    def used(self, bucket_id: str, limit: int) -> int:
        """Requests counted against a per-minute bucket of `limit` right now, without taking one."""
        ...


class JobQueue(Protocol):
    """The FIFO shard queues between the API and the session workers."""

    def enqueue(self, message: OutboundMessage) -> None: ...
