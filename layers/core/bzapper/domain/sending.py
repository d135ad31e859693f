"""The records of a send: what a client asks for (the draft), what it gets back, and why a commit can fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.media import MediaSource
from bzapper.domain.ratelimit import Decision


@dataclass(frozen=True, slots=True)
class SealedCode:
    """An OTP's code, sealed into the job (never into the record) after the idempotency lock is held."""

    code: str
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class SendDraft:
    """Everything one send needs, as the client gave it; the send use case resolves the rest.

    `content` is the type's own fields. The parts that need the account or I/O are resolved after the
    idempotency lock, so a replay never fetches or resolves anything again: `media` (media types), `target`
    (the message a reaction is about), `reply_to`, `mentions`, and `changes` (an edit or a deletion for
    everyone: the id of the message it changes, with `body` the new text of an edit). `sealed` is an OTP's
    code: the job carries it sealed while the record keeps only the mask, so such a message can never be
    rebuilt from its record (the outbox never re-sends it).
    """

    type: str
    to: str
    instance_id: str | None = None
    content: dict[str, Any] | None = None
    client_reference: str | None = None
    idempotency: IdempotencyRequest | None = None
    media: MediaSource | None = None
    target: str | None = None
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    changes: str | None = None
    body: str | None = None
    sealed: SealedCode | None = None

    @property
    def straight_to_commit(self) -> bool:
        """Nothing to lock or resolve before the commit: no key, no media, no message referred to, no code to
        seal. Such a send takes its rate-limit token inside the commit itself (one round trip fewer)."""
        return (
            self.idempotency is None
            and self.media is None
            and self.target is None
            and self.reply_to is None
            and self.changes is None
            and self.sealed is None
        )


@dataclass(frozen=True, slots=True)
class Accepted:
    """A send taken: the answer, stored with the Idempotency-Key so a retry gets the very same one."""

    message_id: str
    status: str
    client_reference: str | None

    def to_json(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "status": self.status, "client_reference": self.client_reference}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Accepted:
        return cls(body["message_id"], body["status"], body.get("client_reference"))


class CommitRejected(Exception):
    """The send transaction was cancelled; `reason` says which condition failed (insufficient_balance,
    instance_not_connected, idempotency_lock_lost, rate_limited, conflict, busy, ...). `rate` is the send
    bucket's state when the refusal is the rate limit's."""

    def __init__(self, reason: str, rate: Decision | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rate = rate
